"""The API port: JSON-RPC ``POST``, WebSocket upgrade on any path, ``GET /health``, all on one TCP port.

Routing (every path is the same resource, as in Clio):

- ``Upgrade: websocket``: the WebSocket API (429 ``Too many requests`` when the
  DOS guard refuses the client);
- ``GET /health``: 200 ``{"status": "ok", ...}`` once a ledger is stored, else
  503 with the reason;
- ``GET /metrics`` and the browser status page, when those resources are given;
- any other non-``POST``: 400 ``Expected a POST request``;
- ``POST``: JSON-RPC (503 ``slowDown`` when the DOS guard refuses).

A body larger than ``server.max_request_size`` is answered 413 at once (from
``Content-Length``, or as soon as a chunked body passes the limit) and the
connection is closed, never left waiting. :class:`ApiSite` counts each TCP
connection against the DOS guard.
"""

from __future__ import annotations

from typing import Any

from autobahn.twisted.resource import WebSocketResource
from twisted.internet.defer import CancelledError, Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.http import HTTPChannel
from twisted.web.iweb import IRequest
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request, Site

from clio_twisted.rpc.dispatch import Caller, Dispatcher
from clio_twisted.rpc.envelope import answer_http, dumps
from clio_twisted.rpc.errors import RippledError, RPCError
from clio_twisted.web.admin import AdminPolicy
from clio_twisted.web.dosguard import DosGuard, charge_response
from clio_twisted.web.inflight import InFlight
from clio_twisted.web.websocket import ClioWebSocketFactory

TEXT_EXPECTED_POST = b"Expected a POST request"
TEXT_TOO_MANY = b"Too many requests"
TEXT_SHUTTING_DOWN = b"Server shutting down"


def peer_ip(request: IRequest) -> str:
    return getattr(request.getClientAddress(), "host", "") or ""


class RootResource(Resource):
    """Every request to the API port.

    Args:
        dispatcher: the shared command dispatcher.
        dos_guard: the shared per-IP budgets.
        admin: decides who is admin.
        ws_factory: the WebSocket factory (same dispatcher and guard).
        inflight: requests being answered, for graceful shutdown.
        metrics: optional ``/metrics`` resource.
        status_page: optional browser page, with ``wants_status_page(request)``.
    """

    isLeaf = True
    log = Logger()

    def __init__(
        self,
        dispatcher: Dispatcher,
        dos_guard: DosGuard,
        admin: AdminPolicy,
        ws_factory: ClioWebSocketFactory,
        inflight: InFlight,
        metrics: Resource | None = None,
        status_page: tuple[Resource, Any] | None = None,
    ) -> None:
        super().__init__()
        self._dispatcher = dispatcher
        self._guard = dos_guard
        self._admin = admin
        self._ws = WebSocketResource(ws_factory)
        self._inflight = inflight
        self._metrics = metrics
        self._status_page = status_page

    def is_admin(self, request: IRequest) -> bool:
        return self._admin.is_admin(peer_ip(request), request.getHeader(b"authorization"))

    def render(self, request: Request) -> bytes | int:
        ip = peer_ip(request)
        upgrade = (request.getHeader(b"upgrade") or b"").lower()
        if upgrade == b"websocket":
            if not self._guard.is_ok(ip):
                return _plain(request, 429, TEXT_TOO_MANY, b"text/html")
            # From here the WebSocket protocol owns the connection (and counts it).
            channel = request.channel
            if isinstance(channel, ApiChannel):
                channel.release_count()
            result: bytes | int = self._ws.render(request)
            return result
        path = request.path
        if request.method == b"GET":
            if path == b"/health":
                return self._render_deferred(request, self._health(request))
            if path == b"/metrics" and self._metrics is not None:
                rendered: bytes | int = self._metrics.render(request)
                return rendered
            if self._status_page is not None and self._status_page[1](request):
                page: bytes | int = self._status_page[0].render(request)
                return page
        if request.method != b"POST":
            return _plain(request, 400, TEXT_EXPECTED_POST, b"text/html")
        if not self._inflight.accepting:
            return _plain(request, 503, TEXT_SHUTTING_DOWN)
        if not self._guard.request(ip):
            body = dumps(RPCError(RippledError.slowDown).to_json())
            return _plain(request, 503, body)
        content = request.content.read() if request.content is not None else b""
        caller = Caller(ip=ip, is_admin=self.is_admin(request), transport="http")
        return self._render_deferred(request, self._rpc(request, content, caller))

    def _render_deferred(self, request: Request, coro: Any) -> int:
        d: Deferred[None] = Deferred.fromCoroutine(coro)
        self._inflight.track(d)
        request.notifyFinish().addErrback(lambda _: d.cancel())
        d.addErrback(self._failed, request)
        return NOT_DONE_YET

    async def _rpc(self, request: Request, content: bytes, caller: Caller) -> None:
        answer = await answer_http(self._dispatcher, content, caller)
        request.setResponseCode(answer.status)
        if answer.json is not None:
            request.setHeader(b"content-type", b"application/json")
            data = charge_response(self._guard, caller.ip, answer.json)
        else:
            request.setHeader(b"content-type", b"text/plain; charset=utf-8")
            data = (answer.text or "").encode("utf-8")
            self._guard.add(caller.ip, len(data))
        _finish(request, data)

    async def _health(self, request: Request) -> None:
        stored = await self._dispatcher.backend.fetch_ledger_range()
        request.setHeader(b"content-type", b"application/json")
        request.setHeader(b"cache-control", b"no-store")
        if stored is None:
            request.setResponseCode(503)
            body: dict[str, Any] = {"status": "not_ready", "reason": "no ledger stored yet"}
        else:
            request.setResponseCode(200)
            body = {
                "status": "ok",
                "complete_ledgers": f"{stored.min_sequence}-{stored.max_sequence}",
            }
            age = await self._dispatcher.last_close_age(stored)
            if age is not None:
                body["validated_ledger_age"] = int(age)
        _finish(request, dumps(body))

    def _failed(self, failure: Failure, request: Request) -> None:
        if failure.check(CancelledError):
            return  # the client went away
        self.log.failure("answering an HTTP request failed", failure)
        if request.finished or request._disconnected:
            return
        request.setResponseCode(500)
        request.setHeader(b"content-type", b"application/json")
        _finish(request, dumps({"result": RPCError(RippledError.internal).to_json()}))


def _plain(
    request: Request, status: int, body: bytes, content_type: bytes = b"text/plain"
) -> bytes:
    request.setResponseCode(status)
    request.setHeader(b"content-type", content_type)
    return body


def _finish(request: Request, data: bytes) -> None:
    if request.finished or request._disconnected:
        return
    request.setHeader(b"content-length", str(len(data)).encode())
    request.write(data)
    request.finish()


class ApiRequest(Request):
    """A request that refuses bodies over the site's limit instead of buffering them."""

    _too_large = False
    _received = 0

    def _limit(self) -> int:
        site = getattr(self.channel, "site", None)
        return getattr(site, "max_request_size", 1_048_576)

    def gotLength(self, length: int | None) -> None:
        if length is not None and length > self._limit():
            self._refuse()
            return
        super().gotLength(length)

    def handleContentChunk(self, data: bytes) -> None:
        if self._too_large:
            return
        self._received += len(data)
        if self._received > self._limit():
            self._refuse()
            return
        super().handleContentChunk(data)

    def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:
        if self._too_large:
            return
        super().requestReceived(command, path, version)

    def _refuse(self) -> None:
        self._too_large = True
        body = f"Request body too large (limit {self._limit()} bytes)".encode()
        transport = self.channel.transport if self.channel is not None else None
        if transport is None:
            return
        transport.write(
            b"HTTP/1.1 413 Payload Too Large\r\n"
            b"Content-Type: text/plain\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n"
            b"Connection: close\r\n\r\n" + body
        )
        transport.loseConnection()


class ApiChannel(HTTPChannel):
    """An HTTP connection counted against the DOS guard while it is open."""

    site: ApiSite
    _counted_ip: str | None = None

    def connectionMade(self) -> None:
        super().connectionMade()
        peer = self.transport.getPeer() if self.transport is not None else None
        ip = getattr(peer, "host", None)
        if ip is not None:
            self._counted_ip = ip
            self.site.dos_guard.increment(ip)

    def release_count(self) -> None:
        """The connection became a WebSocket, which counts itself."""
        if self._counted_ip is not None:
            self.site.dos_guard.decrement(self._counted_ip)
            self._counted_ip = None

    def connectionLost(self, reason: Failure) -> None:  # type: ignore[override]
        self.release_count()
        super().connectionLost(reason)


class ApiSite(Site):
    """The Site for the API port: our request and channel classes, and the body limit."""

    protocol = ApiChannel  # type: ignore[assignment]
    requestFactory = ApiRequest
    displayTracebacks = False

    def __init__(
        self, resource: Resource, dos_guard: DosGuard, max_request_size: int, **kwargs: Any
    ) -> None:
        super().__init__(resource, **kwargs)
        self.dos_guard = dos_guard
        self.max_request_size = max_request_size
