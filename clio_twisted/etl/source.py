"""rippled sources: the narrow request interface the ETL uses, and its WebSocket client.

The ETL core only ever calls ``LedgerSource.request(cmd, timeout)`` and reads
``has_ledger``/``healthy``; so unit tests drive it with an in-memory source,
and ``WsSource`` is a thin Autobahn adapter around a reconnecting
``ClientService``.

Wire protocol (rippled's WebSocket API): each request is a JSON object with
``command`` and an ``id``; the answer carries the same ``id`` and either
``status: "success"`` with ``result`` or ``status: "error"`` with ``error``.
On every (re)connection the client sends ``server_info`` (to learn the
``network_id``) and ``subscribe`` to the ``ledger`` stream, whose
``ledgerClosed`` messages carry ``ledger_index`` and ``validated_ledgers``
("a-b,c-d"): the ranges the source can serve.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any, Protocol, cast

import orjson
from attrs import define, field

from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol
from twisted.application.internet import ClientService, backoffPolicy
from twisted.application.service import Service
from twisted.internet.defer import CancelledError, Deferred, TimeoutError
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.interfaces import IReactorTCP, IReactorTime
from twisted.logger import Logger

JsonDict = dict[str, Any]

DEFAULT_TIMEOUT = 30.0


class SourceError(Exception):
    """A request to a source failed: not connected, timed out, dropped, or rippled said no."""


class RippledError(SourceError):
    """rippled answered with an error (``error`` is rippled's token, e.g. ``entryNotFound``)."""

    def __init__(self, error: str, answer: JsonDict) -> None:
        super().__init__(error)
        self.error = error
        self.answer = answer


class LedgerSource(Protocol):
    """What the ETL needs from one rippled: ask it things, and know what it holds."""

    name: str

    @property
    def healthy(self) -> bool: ...

    def has_ledger(self, sequence: int) -> bool: ...

    async def request(self, cmd: JsonDict, timeout: float = DEFAULT_TIMEOUT) -> JsonDict:
        """Send ``cmd`` and return rippled's ``result``; raise SourceError on any failure."""
        ...


def parse_validated_ledgers(text: str) -> tuple[tuple[int, int], ...]:
    """rippled's ``validated_ledgers``/``complete_ledgers`` ("a-b,c", "empty") as ranges."""
    ranges: list[tuple[int, int]] = []
    for part in text.split(","):
        part = part.strip()
        if not part or not part[0].isdigit():
            continue
        low, _, high = part.partition("-")
        ranges.append((int(low), int(high or low)))
    return tuple(ranges)


@define
class SourceState:
    """What one source told us lately: the basis for health and for picking it."""

    validated: tuple[tuple[int, int], ...] = ()
    latest: int = 0  # the newest validated ledger it announced
    network_id: int | None = None
    connected: bool = False
    refused: str | None = None  # why this source is not used at all (e.g. wrong network)
    last_message: float | None = None

    def has_ledger(self, sequence: int) -> bool:
        return any(low <= sequence <= high for low, high in self.validated)

    def on_ledger_closed(self, message: JsonDict, now: float) -> int | None:
        """Update from a ``ledgerClosed`` message (or a ``subscribe`` result); the seq it announced."""
        self.last_message = now
        if "validated_ledgers" in message:
            self.validated = parse_validated_ledgers(str(message["validated_ledgers"]))
        seq = message.get("ledger_index")
        if isinstance(seq, int):
            self.latest = max(self.latest, seq)
            if not self.has_ledger(seq):
                # Older rippled omit validated_ledgers when unchanged; the announced one is held.
                self.validated = (*self.validated, (seq, seq))
            return seq
        return None

    def to_json(self) -> JsonDict:
        return {
            "validated_range": ",".join(
                f"{a}-{b}" if a != b else str(a) for a, b in self.validated
            ),
            "is_connected": self.connected,
            "latest_validated": self.latest,
            "network_id": self.network_id,
            "refused": self.refused,
        }


def _answer_to_result(answer: JsonDict) -> JsonDict:
    """rippled's WS answer -> its ``result``, or RippledError."""
    if answer.get("status") == "success" and isinstance(answer.get("result"), dict):
        result: JsonDict = answer["result"]
        return result
    inner = answer.get("result")
    body: JsonDict = inner if isinstance(inner, dict) else answer
    error = body.get("error") or answer.get("error") or "unknown"
    raise RippledError(str(error), answer)


class _RippledClientProtocol(WebSocketClientProtocol):
    """One WebSocket connection: matches answers to requests by id, hands stream messages on."""

    _log = Logger()
    factory: _RippledClientFactory

    def __init__(self) -> None:
        super().__init__()
        self._ids = itertools.count(1)
        self._pending: dict[int, Deferred[JsonDict]] = {}
        self.opened: Deferred[None] = Deferred()

    def onOpen(self) -> None:  # noqa: N802 (Autobahn's name)
        self.opened.callback(None)

    def send_request(self, cmd: JsonDict) -> Deferred[JsonDict]:
        """Send ``cmd``; the Deferred fires with rippled's whole answer."""
        request_id = next(self._ids)

        def cancel(_: Deferred[JsonDict]) -> None:
            self._pending.pop(request_id, None)

        d: Deferred[JsonDict] = Deferred(cancel)
        self._pending[request_id] = d
        self.sendMessage(orjson.dumps({**cmd, "id": request_id}))
        return d

    def onMessage(self, payload: bytes, isBinary: bool) -> None:  # noqa: N802, N803
        try:
            message = orjson.loads(payload)
        except orjson.JSONDecodeError:
            self._log.warn("{source}: undecodable message dropped", source=self.factory.source.name)
            return
        if not isinstance(message, dict):
            return
        request_id = message.get("id")
        if request_id is not None and message.get("type", "response") == "response":
            d = self._pending.pop(request_id, None)
            if d is not None:
                d.callback(message)
            return
        self.factory.source.on_stream_message(message)

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:  # noqa: N802, N803
        pending, self._pending = self._pending, {}
        for d in pending.values():
            d.errback(SourceError(f"connection closed: {reason}"))
        if not self.opened.called:
            self.opened.errback(SourceError(f"could not open: {reason}"))
        self.factory.source.on_disconnected()


class _RippledClientFactory(WebSocketClientFactory):
    protocol = _RippledClientProtocol  # type: ignore[assignment]

    def __init__(self, source: WsSource, url: str) -> None:
        super().__init__(url)
        self.source = source


class WsSource(Service):
    """One configured rippled: a reconnecting WebSocket client subscribed to validated ledgers.

    ``expected_network_id`` (shared by all sources through ``network_check``)
    refuses a source that belongs to another network, with a log line saying so.
    """

    log = Logger()
    name: str  # type: ignore[assignment]  # Service.name is Optional; ours is always set

    def __init__(
        self,
        reactor: IReactorTCP,
        clock: IReactorTime,
        host: str,
        ws_port: int,
        on_validated: Callable[[WsSource, int], None] | None = None,
        network_check: Callable[[WsSource, int | None], str | None] | None = None,
        initial_delay: float = 1.0,
        max_delay: float = 30.0,
        connect_timeout: float = 10.0,
        on_stream: Callable[[WsSource, JsonDict], None] | None = None,
        streams: tuple[str, ...] = ("ledger",),
    ) -> None:
        self.name = f"{host}:{ws_port}"
        self.host = host
        self.ws_port = ws_port
        self.state = SourceState()
        self._clock = clock
        self._on_validated = on_validated
        self._network_check = network_check
        self._connect_timeout = connect_timeout
        # feeds: the other streams' messages (proposed transactions, validations,
        # manifests) go to ``on_stream``, for the relay to pick one source's.
        self._on_stream = on_stream
        self._streams = list(streams)
        endpoint = TCP4ClientEndpoint(reactor, host, ws_port, timeout=int(connect_timeout))
        self._factory = _RippledClientFactory(self, f"ws://{host}:{ws_port}")
        self._factory.setProtocolOptions(autoPingInterval=10, autoPingTimeout=30)
        self._service = ClientService(
            endpoint,
            self._factory,
            retryPolicy=backoffPolicy(initialDelay=initial_delay, maxDelay=max_delay),
            clock=clock,
            prepareConnection=self._prepare,  # type: ignore[arg-type]
        )

    def relay_to(
        self, on_stream: Callable[[WsSource, JsonDict], None], streams: Sequence[str]
    ) -> None:
        """Subscribe to ``streams`` on (re)connect and hand their non-ledger messages to ``on_stream``."""
        self._on_stream = on_stream
        self._streams = list(streams)

    # -- the LedgerSource interface ---------------------------------------------------------

    @property
    def healthy(self) -> bool:
        return self.state.connected and self.state.refused is None

    def has_ledger(self, sequence: int) -> bool:
        return self.healthy and self.state.has_ledger(sequence)

    async def request(self, cmd: JsonDict, timeout: float = DEFAULT_TIMEOUT) -> JsonDict:
        if self.state.refused is not None:
            raise SourceError(f"{self.name} refused: {self.state.refused}")
        if not self.state.connected:
            raise SourceError(f"{self.name} not connected")
        d = self._service.whenConnected(failAfterFailures=1)
        try:
            proto = cast(_RippledClientProtocol, await d.addTimeout(timeout, self._clock))
            answer = await proto.send_request(cmd).addTimeout(timeout, self._clock)
        except (TimeoutError, CancelledError) as e:
            raise SourceError(
                f"{self.name}: {cmd.get('command')} timed out after {timeout}s"
            ) from e
        except SourceError:
            raise
        except Exception as e:
            raise SourceError(f"{self.name}: {e}") from e
        return _answer_to_result(answer)

    # -- connection life --------------------------------------------------------------------

    def startService(self) -> None:  # noqa: N802
        super().startService()
        self._service.startService()

    def stopService(self) -> Deferred[None]:  # noqa: N802
        super().stopService()
        self.state.connected = False
        d: Deferred[None] = self._service.stopService()
        return d

    async def _prepare_async(self, proto: _RippledClientProtocol) -> None:
        await proto.opened.addTimeout(self._connect_timeout, self._clock)
        info = _answer_to_result(
            await proto.send_request({"command": "server_info"}).addTimeout(
                self._connect_timeout, self._clock
            )
        )
        network_id = info.get("info", {}).get("network_id")
        self.state.network_id = network_id if isinstance(network_id, int) else None
        if self._network_check is not None:
            self.state.refused = self._network_check(self, self.state.network_id)
        if self.state.refused is not None:
            self.log.error(
                "ETL source {source} refused: {why}", source=self.name, why=self.state.refused
            )
        sub = _answer_to_result(
            await proto.send_request({"command": "subscribe", "streams": self._streams}).addTimeout(
                self._connect_timeout, self._clock
            )
        )
        self.state.connected = True
        self.log.info("ETL source {source} connected", source=self.name)
        self._announce(self.state.on_ledger_closed(sub, self._clock.seconds()))

    def _prepare(self, proto: _RippledClientProtocol) -> Deferred[None]:
        d = Deferred.fromCoroutine(self._prepare_async(proto))

        def failed(f: Any) -> Any:
            self.log.warn(  # noqa: G010
                "ETL source {source}: handshake failed: {why}", source=self.name, why=f.value
            )
            proto.dropConnection(abort=True)
            return f

        return d.addErrback(failed)

    def on_stream_message(self, message: JsonDict) -> None:
        if message.get("type") == "ledgerClosed":
            self._announce(self.state.on_ledger_closed(message, self._clock.seconds()))
        else:
            self.state.last_message = self._clock.seconds()
            if self._on_stream is not None and self.healthy:
                try:
                    self._on_stream(self, message)
                except Exception:
                    self.log.failure("relaying a stream message failed")

    def on_disconnected(self) -> None:
        if self.state.connected:
            self.log.warn("ETL source {source} disconnected", source=self.name)  # noqa: G010
        self.state.connected = False

    def _announce(self, sequence: int | None) -> None:
        if sequence is not None and self._on_validated is not None and self.healthy:
            self._on_validated(self, sequence)

    def to_json(self) -> JsonDict:
        now = self._clock.seconds()
        age = None if self.state.last_message is None else round(now - self.state.last_message, 1)
        return {
            "ip": self.host,
            "ws_port": str(self.ws_port),
            **self.state.to_json(),
            "last_msg_age_seconds": age,
        }


@define
class NetworkCheck:
    """All sources must share one network id: the first one heard fixes it, unless configured."""

    expected: int | None = None
    _seen: dict[str, int | None] = field(factory=dict, alias="_seen")

    def __call__(self, source: WsSource, network_id: int | None) -> str | None:
        self._seen[source.name] = network_id
        if self.expected is None:
            self.expected = network_id
            return None
        if network_id != self.expected:
            return f"network_id {network_id} differs from the other sources' {self.expected}"
        return None
