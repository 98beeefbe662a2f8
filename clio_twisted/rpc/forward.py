"""Forwarding to rippled: which requests go (Clio's rules), and the client that takes them there.

Rules, in Clio's order (``should_forward``):

1. ``subscribe``/``unsubscribe`` never go;
2. a non-admin client asking for an admin-only form (``ledger`` with a truthy
   ``full`` or ``accounts``, ``feature`` with ``vetoed``) gets ``noPermission``:
   Clio never forwards admin API calls;
3. Clio-only commands never go;
4. the proxied commands always go (:data:`PROXIED`);
5. so does any request whose ``ledger_index`` is the string ``current`` or ``closed``;
6. an admin's ``force_forward: true``;
7. ``account_info`` and ``ledger`` with ``queue: true``.

Anything else is answered locally, and an unknown command is ``unknownCmd``
(the dispatcher's job).

The client (:class:`Forwarder`) tries the healthy sources once each, from a
random one, with a deadline on every attempt, over WebSocket connections it
keeps open and reuses (one per source and header set, closed after
``idle_timeout``). The handshake carries ``Forwarded: for=<client ip>`` and
``X-User: clio_admin`` or ``clio_user``, as Clio sends them (rippled then
exempts the request from its per-IP limits when this server is its secure
gateway). rippled's reply is relayed as is; when no source answers, the worst
failure is the answer: ``connectionError`` (7000), ``requestError`` (7001),
``timeout`` (7002) or ``invalidResponse`` (7003). With
``forwarding.cache_timeout`` > 0, answers of the cacheable commands are kept
that long, and dropped whenever a new ledger is committed.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.defer import TimeoutError as DeferredTimeoutError
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.interfaces import IDelayedCall
from twisted.logger import Logger
from twisted.python.failure import Failure

from clio_twisted.rpc.context import Context, Handler, JsonDict
from clio_twisted.rpc.errors import RippledError, RPCError

PROXIED = frozenset(
    {
        "server_definitions",
        "server_state",
        "submit",
        "submit_multisigned",
        "fee",
        "ledger_closed",
        "ledger_current",
        "ripple_path_find",
        "manifest",
        "channel_authorize",
        "channel_verify",
        "simulate",
    }
)
CACHEABLE = frozenset({"server_info", "server_state", "server_definitions", "fee", "ledger_closed"})
NEVER_FORWARDED = frozenset({"subscribe", "unsubscribe"})
# Which failure wins when every source failed (Clio keeps the "best" error).
_SEVERITY = {
    RippledError.connectionError: 0,
    RippledError.requestError: 1,
    RippledError.timeout: 2,
    RippledError.invalidResponse: 3,
}


def truthy(value: Any) -> bool:
    """rippled's ``asBool``: non-zero numbers, non-empty strings (even "false"), non-empty containers."""
    if value is None:
        return False
    if isinstance(value, (bool, int, float)):
        return bool(value)
    if isinstance(value, (str, list, dict)):
        return len(value) > 0
    return False


def is_admin_request(method: str, params: JsonDict) -> bool:
    """The admin-only forms of public commands (Clio's ``isAdminCmd``)."""
    if method == "ledger":
        return truthy(params.get("full")) or truthy(params.get("accounts"))
    return method == "feature" and "vetoed" in params


def wants_forwarding(
    method: str, params: JsonDict, handler: Handler[Any] | None, is_admin: bool
) -> bool:
    """Clio's forwarding decision (raises ``noPermission`` for admin forms from non-admins)."""
    if method in NEVER_FORWARDED:
        return False
    if not is_admin and is_admin_request(method, params):
        raise RPCError(RippledError.noPermission)
    if handler is not None and handler.clio_only:
        return False
    if method in PROXIED:
        return True
    ledger_index = params.get("ledger_index")
    if isinstance(ledger_index, str) and ledger_index in ("current", "closed"):
        return True
    if is_admin and params.get("force_forward") is True:
        return True
    return method in ("account_info", "ledger") and params.get("queue") is True


class ForwardError(Exception):
    """One source failed; ``error`` is the Clio 700x code it maps to."""

    def __init__(self, error: RippledError, why: str) -> None:
        super().__init__(why)
        self.error = error


class _ForwardProtocol(WebSocketClientProtocol):
    """One reusable connection to rippled: requests carry our own ids, answers are paired by them."""

    factory: _ForwardFactory

    def __init__(self) -> None:
        super().__init__()
        self._pending: dict[int, Deferred[JsonDict]] = {}
        self._next_id = 0
        self.opened: Deferred[None] = Deferred()

    def onOpen(self) -> None:  # noqa: N802
        self.opened.callback(None)

    def request(self, message: JsonDict) -> Deferred[JsonDict]:
        self._next_id += 1
        request_id = self._next_id

        def cancel(_: Deferred[JsonDict]) -> None:
            self._pending.pop(request_id, None)

        d: Deferred[JsonDict] = Deferred(cancel)
        self._pending[request_id] = d
        try:
            self.sendMessage(orjson.dumps({**message, "id": request_id}))
        except Exception as e:
            self._pending.pop(request_id, None)
            raise ForwardError(RippledError.requestError, f"sending failed: {e}") from e
        return d

    def onMessage(self, payload: bytes, isBinary: bool) -> None:  # noqa: N802, N803
        try:
            message = orjson.loads(payload)
        except orjson.JSONDecodeError:
            message = None
        if not isinstance(message, dict):
            # an answer we cannot pair: fail the oldest request, which it most likely answers
            if self._pending:
                request_id = min(self._pending)
                self._pending.pop(request_id).errback(
                    ForwardError(RippledError.invalidResponse, "not a JSON object")
                )
            return
        d = self._pending.pop(message.get("id"), None)  # type: ignore[arg-type]
        if d is not None:
            d.callback(message)

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:  # noqa: N802, N803
        self.factory.lost(self)
        if not self.opened.called:
            self.opened.errback(ForwardError(RippledError.connectionError, "closed at handshake"))
        pending, self._pending = self._pending, {}
        for d in pending.values():
            d.errback(ForwardError(RippledError.requestError, "connection closed"))


class _ForwardFactory(WebSocketClientFactory):
    protocol = _ForwardProtocol  # type: ignore[assignment]

    def __init__(self, url: str, headers: dict[str, str], lost: Callable[[Any], None]) -> None:
        super().__init__(url, headers=headers)
        self.lost = lost
        # the forwarder's own deadline covers the handshake (no autobahn timer left behind)
        self.setProtocolOptions(
            maxFramePayloadSize=0, maxMessagePayloadSize=0, openHandshakeTimeout=0
        )


class _Connection:
    """A pooled connection and its idle timer."""

    def __init__(self) -> None:
        self.protocol: _ForwardProtocol | None = None
        self.ready: _Shared | None = None
        self.idle: IDelayedCall | None = None
        self.in_use = 0
        self.closed = False  # closed while still connecting: drop it once connected


class Forwarder:
    """The ``forwarder`` provider of :class:`~clio_twisted.rpc.context.Context`.

    Args:
        reactor: TCP and time.
        sources: returns the ETL sources (objects with ``host``, ``ws_port``,
            ``healthy`` and ``name``), read at each request.
        request_timeout: the deadline of one attempt (``forwarding.request_timeout``).
        cache_timeout: seconds a cacheable answer is kept (0: no cache).
        idle_timeout: an unused connection is closed after this long.
        max_connections: pooled connections kept at most (the least used go first).
    """

    log = Logger()

    def __init__(
        self,
        reactor: Any,
        sources: Callable[[], Sequence[Any]],
        request_timeout: float = 10.0,
        cache_timeout: float = 0.0,
        idle_timeout: float = 60.0,
        max_connections: int = 256,
        rng: random.Random | None = None,
    ) -> None:
        self.reactor = reactor
        self.sources = sources
        self.request_timeout = request_timeout
        self.cache_timeout = cache_timeout
        self.idle_timeout = idle_timeout
        self.max_connections = max_connections
        self._rng = rng or random.Random()
        self._pool: dict[tuple[str, int, str, str], _Connection] = {}
        self._cache: dict[bytes, tuple[float, JsonDict]] = {}
        self.connections_opened = 0

    # -- the provider interface ---------------------------------------------------------------

    async def should_forward(
        self, ctx: Context, method: str, params: JsonDict, handler: Handler[Any] | None
    ) -> bool:
        return wants_forwarding(method, params, handler, ctx.is_admin)

    async def forward(self, ctx: Context, method: str, params: JsonDict) -> JsonDict:
        request = {k: v for k, v in params.items() if k not in ("id", "method", "command")}
        request = {"command": method, **request}
        cache_key = self._cache_key(method, request)
        if cache_key is not None:
            hit = self._cache.get(cache_key)
            if hit is not None and hit[0] > self.reactor.seconds():
                return dict(hit[1])
        headers = {
            "Forwarded": f"for={ctx.client_ip}",
            "X-User": "clio_admin" if ctx.is_admin else "clio_user",
        }
        answer = await self.request(request, headers)
        answer.pop("id", None)
        if cache_key is not None and "error" not in answer and answer.get("status") != "error":
            self._cache[cache_key] = (self.reactor.seconds() + self.cache_timeout, dict(answer))
        return answer

    def invalidate(self, sequence: int | None = None) -> None:
        """A new ledger: cached answers are stale."""
        self._cache.clear()

    # -- the client ---------------------------------------------------------------------------

    def _cache_key(self, method: str, request: JsonDict) -> bytes | None:
        if self.cache_timeout <= 0 or method not in CACHEABLE:
            return None
        return orjson.dumps(request, option=orjson.OPT_SORT_KEYS)

    def _candidates(self) -> list[Any]:
        sources = list(self.sources())
        healthy = [s for s in sources if getattr(s, "healthy", True)]
        candidates = healthy or sources
        if not candidates:
            return []
        start = self._rng.randrange(len(candidates))
        return candidates[start:] + candidates[:start]

    async def request(self, request: JsonDict, headers: dict[str, str]) -> JsonDict:
        """Send to each source once until one answers; raise the worst 700x error otherwise."""
        worst: ForwardError | None = None
        for source in self._candidates():
            try:
                return await self._ask(source.host, int(source.ws_port), request, headers)
            except ForwardError as e:
                self.log.debug(
                    "forwarding {command} to {source} failed: {why}",
                    command=request.get("command"),
                    source=getattr(source, "name", source.host),
                    why=str(e),
                )
                if worst is None or _SEVERITY[e.error] >= _SEVERITY[worst.error]:
                    worst = e
        raise RPCError(worst.error if worst is not None else RippledError.connectionError)

    async def _ask(
        self, host: str, port: int, request: JsonDict, headers: dict[str, str]
    ) -> JsonDict:
        key = (host, port, headers["Forwarded"], headers["X-User"])
        conn = self._pool.get(key)
        if conn is None:
            conn = self._open(key, headers)
        conn.in_use += 1
        if conn.idle is not None and conn.idle.active():
            conn.idle.cancel()
        conn.idle = None
        try:
            if conn.ready is None:
                raise ForwardError(RippledError.connectionError, "no connection")
            protocol = await self._with_deadline(conn.ready.get(), "connecting")
            answer = await self._with_deadline(protocol.request(request), "waiting for the answer")
        finally:
            conn.in_use -= 1
            if conn.in_use == 0 and self._pool.get(key) is conn:
                conn.idle = self.reactor.callLater(self.idle_timeout, self._close, key)
        if not isinstance(answer, dict):
            raise ForwardError(RippledError.invalidResponse, "not a JSON object")
        return answer

    async def _with_deadline(self, d: Deferred[Any], what: str) -> Any:
        d.addTimeout(self.request_timeout, self.reactor)
        try:
            return await d
        except (TimeoutError, DeferredTimeoutError, CancelledError) as e:
            raise ForwardError(RippledError.timeout, f"timed out {what}") from e
        except ForwardError:
            raise
        except Exception as e:
            raise ForwardError(RippledError.connectionError, f"{what}: {e}") from e

    def _open(self, key: tuple[str, int, str, str], headers: dict[str, str]) -> _Connection:
        if len(self._pool) >= self.max_connections:
            idle = [k for k, c in self._pool.items() if c.in_use == 0]
            for k in idle[: len(self._pool) - self.max_connections + 1]:
                self._close(k)
        host, port = key[0], key[1]
        conn = _Connection()
        self._pool[key] = conn

        def lost(protocol: Any) -> None:
            if self._pool.get(key) is conn:
                del self._pool[key]
                if conn.idle is not None and conn.idle.active():
                    conn.idle.cancel()

        factory = _ForwardFactory(f"ws://{host}:{port}", headers, lost)
        endpoint = TCP4ClientEndpoint(
            self.reactor, host, port, timeout=max(1, int(self.request_timeout))
        )
        self.connections_opened += 1
        connecting: Deferred[Any] = endpoint.connect(factory)

        def connected(protocol: _ForwardProtocol) -> Deferred[_ForwardProtocol]:
            conn.protocol = protocol
            if conn.closed:
                protocol.dropConnection(abort=False)
            return protocol.opened.addCallback(lambda _: protocol)

        def failed(failure: Any) -> Any:
            lost(None)
            if failure.check(ForwardError):
                return failure
            raise ForwardError(RippledError.connectionError, str(failure.value))

        # every user of this connection waits on its own copy of the result
        conn.ready = _Shared(connecting.addCallback(connected).addErrback(failed))
        return conn

    def _close(self, key: tuple[str, int, str, str]) -> None:
        conn = self._pool.pop(key, None)
        if conn is None:
            return
        conn.closed = True
        if conn.idle is not None and conn.idle.active():
            conn.idle.cancel()
        if conn.protocol is not None:
            conn.protocol.dropConnection(abort=False)

    def close_all(self) -> None:
        """Close every pooled connection (at shutdown; one still connecting is dropped when it connects)."""
        for key in list(self._pool):
            self._close(key)


class _Shared:
    """A Deferred result many waiters can each get a copy of."""

    def __init__(self, d: Deferred[Any]) -> None:
        self._result: Any = None
        self._done = False
        self._waiters: list[Deferred[Any]] = []
        d.addBoth(self._fire)

    def _fire(self, result: Any) -> None:
        self._done, self._result = True, result
        waiters, self._waiters = self._waiters, []
        for w in waiters:
            self._deliver(w)
        # a failure is handled here: each waiter got its own copy

    def _deliver(self, w: Deferred[Any]) -> None:
        if w.called:  # this waiter gave up (its deadline passed)
            return
        if isinstance(self._result, Failure):
            w.errback(self._result)
        else:
            w.callback(self._result)

    def get(self) -> Deferred[Any]:
        w: Deferred[Any] = Deferred()
        if self._done:
            self._deliver(w)
        else:
            self._waiters.append(w)
        return w
