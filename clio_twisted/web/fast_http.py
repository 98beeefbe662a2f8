"""The API port's lean HTTP/1.1 front: httptools parses, JSON-RPC ``POST`` is answered here, the rest goes to Twisted Web.

Why: twisted.web's per-request machinery costs ~400 us here, while a plain
Protocol with httptools and orjson answers in ~40 us (issue 14). This is a
transport, not a second API: bodies go through the same
:func:`~clio_twisted.rpc.envelope.answer_http` and dispatcher, the same DOS
guard and admin policy, and answers are the same bytes.

Routing, per request:

- ``POST`` without ``Upgrade: websocket``: answered here (keep-alive,
  pipelined requests answered in order, Content-Length or chunked bodies,
  ``Expect: 100-continue``);
- anything else (``GET /health``, ``/metrics``, the status page, a
  WebSocket upgrade, other methods): from then on the connection belongs to
  the Twisted Web site (:class:`~clio_twisted.web.root.ApiSite`). Requests
  already parsed are passed on rebuilt (same method, target, headers and
  body); an upgrade's following bytes are passed on raw and Autobahn takes
  the transport over. The hand-over waits until every earlier answer is out.

Limits (:class:`Limits`), each refused with its status and ``Connection: close``:

- request line + headers over ``max_header_bytes``, or more than
  ``max_headers`` headers: 431;
- a body over ``max_body`` (``server.max_request_size``): 413 at once, from
  Content-Length or as soon as a chunked body passes it;
- a request not fully received ``request_timeout`` seconds after its first
  byte (slow senders): 408;
- repeated or conflicting Content-Length / Transfer-Encoding, and anything
  else httptools refuses: 400 (no request smuggling); a transfer coding other
  than ``chunked``: 501;
- a keep-alive connection idle for ``idle_timeout`` seconds is closed;
  more than ``max_pipelined`` unanswered requests pause reading.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import httptools
from attrs import frozen
from zope.interface import implementer

from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.interfaces import IAddress, IDelayedCall, IPushProducer, IReactorTime
from twisted.internet.protocol import Factory, Protocol
from twisted.logger import Logger
from twisted.python.failure import Failure

from clio_twisted.rpc.dispatch import Caller, Dispatcher
from clio_twisted.rpc.envelope import HttpAnswer, answer_http, dumps
from clio_twisted.rpc.errors import RippledError, RPCError
from clio_twisted.web._fast_hot import HotAnswers, with_load_warning
from clio_twisted.web._fast_wire import (
    CONTINUE,
    JSON,
    TEXT,
    DateHeader,
    rebuild_request,
    response,
)
from clio_twisted.web.admin import AdminPolicy
from clio_twisted.web.dosguard import DosGuard
from clio_twisted.web.inflight import InFlight
from clio_twisted.web.root import TEXT_SHUTTING_DOWN, ApiSite

TEXT_HEADERS_TOO_LARGE = b"Request header fields too large"
TEXT_TIMEOUT = b"Request timeout"
TEXT_BAD_REQUEST = b"Bad request"
TEXT_BAD_FRAMING = b"Conflicting or repeated Content-Length / Transfer-Encoding"
TEXT_UNSUPPORTED_CODING = b"Unsupported Transfer-Encoding"


@frozen
class Limits:
    """What one connection may ask of the front (see the module docstring)."""

    max_header_bytes: int = 16 * 1024
    max_headers: int = 100
    max_body: int = 1_048_576
    request_timeout: float = 20.0
    idle_timeout: float = 120.0
    max_pipelined: int = 64


class _Refused(Exception):
    """A request the front answers itself with an error status, then closes."""

    def __init__(self, status: int, text: bytes) -> None:
        super().__init__(status)
        self.status = status
        self.text = text


class _Slot:
    """One request's place in the answer order; ``data`` is None until answered."""

    __slots__ = ("data", "close", "deferred")

    def __init__(self, close: bool) -> None:
        self.data: bytes | None = None
        self.close = close
        self.deferred: Deferred[Any] | None = None


class FastHttpFactory(Factory):
    """Builds :class:`FastHttpProtocol` connections sharing one site, dispatcher and guard.

    Args:
        site: the Twisted Web site for everything that is not a JSON-RPC POST.
        dispatcher, dos_guard, admin, inflight: the same objects the site uses.
        clock: timers (deadlines, idle) and the Date header.
        limits: the connection limits; ``max_body`` should equal the site's.
        hot: the hot-answer cache, or None to always dispatch.
    """

    log = Logger()

    def __init__(
        self,
        site: ApiSite,
        dispatcher: Dispatcher,
        dos_guard: DosGuard,
        admin: AdminPolicy,
        inflight: InFlight,
        clock: IReactorTime,
        limits: Limits | None = None,
        hot: HotAnswers | None = None,
    ) -> None:
        self.site = site
        self.dispatcher = dispatcher
        self.dos_guard = dos_guard
        self.admin = admin
        self.inflight = inflight
        self.clock = clock
        self.limits = limits if limits is not None else Limits(max_body=site.max_request_size)
        self.hot = hot
        self.date = DateHeader()
        self.connections: set[FastHttpProtocol] = set()

    def buildProtocol(self, addr: IAddress | None) -> FastHttpProtocol:
        return FastHttpProtocol(self, addr)

    def startFactory(self) -> None:
        if self.hot is not None:
            self.hot.start()

    def stopFactory(self) -> None:
        if self.hot is not None:
            self.hot.stop()


@implementer(IPushProducer)
class FastHttpProtocol(Protocol):
    """One client connection (see the module docstring for what it does).

    It is its transport's producer: when the client does not read its answers
    and the write buffer fills, the transport pauses it and it stops reading
    requests, so a client cannot make the server buffer answers without end.
    """

    def __init__(self, factory: FastHttpFactory, addr: IAddress | None) -> None:
        self.factory = factory
        self._addr = addr
        self._limits = factory.limits
        self._clock = factory.clock
        self._parser = httptools.HttpRequestParser(self)
        self._ip = getattr(addr, "host", "") or ""
        self._whitelisted = False
        self._counted = False
        self._queue: deque[_Slot] = deque()
        self._pipeline_full = False  # too many unanswered requests
        self._write_full = False  # the transport's write buffer is full (the client reads slowly)
        self._reading_paused = False
        self._closing = False  # no more requests are read
        self._gone = False
        # the current request
        self._in_message = False
        self._in_head = False
        self._began = 0
        self._began_at = 0.0
        self._head_seen = 0
        self._head_raw = 0
        self._url: list[bytes] = []
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []
        self._body_len = 0
        self._fast = True
        self._authorization: bytes | None = None
        self._refused: _Refused | None = None
        # admin decision cache: (authorization, is_admin)
        self._admin: tuple[bytes | None, bool] | None = None
        # hand-over to Twisted Web
        self._channel: Any = None
        self._backlog: list[bytes] | None = None  # rebuilt requests waiting for the hand-over
        self._raw = False  # after an upgrade: bytes go to the channel unparsed
        # timers
        self._deadline: IDelayedCall | None = None
        self._idle: IDelayedCall | None = None
        self._last_active = 0.0

    # -- connection ------------------------------------------------------------------------

    def connectionMade(self) -> None:
        guard = self.factory.dos_guard
        self._whitelisted = guard.is_whitelisted(self._ip)
        if self._ip and not self._whitelisted:
            guard.increment(self._ip)
            self._counted = True
        self.factory.connections.add(self)
        self._last_active = self._clock.seconds()
        self._idle = self._clock.callLater(self._limits.idle_timeout, self._idle_check)
        if self.transport is not None:
            self.transport.registerProducer(self, True)  # type: ignore[attr-defined]

    def _release_count(self) -> None:
        if self._counted:
            self._counted = False
            self.factory.dos_guard.decrement(self._ip)

    def _stop_timers(self) -> None:
        for timer in (self._deadline, self._idle):
            if timer is not None and timer.active():
                timer.cancel()
        self._deadline = self._idle = None

    def connectionLost(self, reason: Failure = Failure(ConnectionError())) -> None:  # noqa: B008
        self._gone = True
        self._stop_timers()
        self._release_count()
        self.factory.connections.discard(self)
        for slot in self._queue:
            if slot.deferred is not None and not slot.deferred.called:
                slot.deferred.cancel()
        self._queue.clear()
        if self._channel is not None:
            self._channel.connectionLost(reason)

    def dataReceived(self, data: bytes) -> None:
        if self._raw:
            self._to_channel(data)
            return
        if self._closing:
            return
        was_in_head = self._in_head
        began = self._began
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:
            self._upgraded(data[upgrade.args[0] :])
            return
        except httptools.HttpParserCallbackError:
            refused = self._refused or _Refused(500, TEXT_BAD_REQUEST)
            self._refuse(refused)
            return
        except httptools.HttpParserError as e:
            self._refuse(self._parse_error(e))
            return
        if self._in_head and not self._closing:
            # Bytes httptools holds for an unfinished header line count too.
            if was_in_head and began == self._began:
                self._head_raw += len(data)
            if self._head_raw > self._limits.max_header_bytes:
                self._refuse(_Refused(431, TEXT_HEADERS_TOO_LARGE))
                return
        if self._in_message and self._deadline is None and not self._closing:
            delay = self._began_at + self._limits.request_timeout - self._clock.seconds()
            self._deadline = self._clock.callLater(max(delay, 0.0), self._timed_out)

    @staticmethod
    def _parse_error(error: Exception) -> _Refused:
        text = str(error)
        if "Transfer-Encoding" in text and "invalid" in text:
            return _Refused(501, TEXT_UNSUPPORTED_CODING)
        if "Content-Length" in text or "Transfer-Encoding" in text:
            return _Refused(400, TEXT_BAD_FRAMING)
        return _Refused(400, TEXT_BAD_REQUEST)

    # -- httptools callbacks -------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._in_message = True
        self._in_head = True
        self._began += 1
        self._began_at = self._clock.seconds()
        self._head_seen = 0
        self._head_raw = 0
        self._url = []
        self._headers = []
        self._body = []
        self._body_len = 0
        self._fast = True
        self._authorization = None

    def on_url(self, url: bytes) -> None:
        self._url.append(url)
        self._head_seen += len(url)
        if self._head_seen > self._limits.max_header_bytes:
            self._fail(431, TEXT_HEADERS_TOO_LARGE)

    def on_header(self, name: bytes, value: bytes) -> None:
        headers = self._headers
        headers.append((name, value))
        self._head_seen += len(name) + len(value) + 4
        if self._head_seen > self._limits.max_header_bytes:
            self._fail(431, TEXT_HEADERS_TOO_LARGE)
        if len(headers) > self._limits.max_headers:
            self._fail(431, TEXT_HEADERS_TOO_LARGE)

    def _fail(self, status: int, text: bytes) -> None:
        self._refused = _Refused(status, text)
        raise self._refused

    def on_headers_complete(self) -> None:
        self._in_head = False
        fast = self._parser.get_method() == b"POST" and not self._delegating()
        lengths = 0
        codings = 0
        expect = False
        for name, value in self._headers:
            lowered = name.lower()
            if lowered == b"content-length":
                lengths += 1
                if value.strip().isdigit() and int(value) > self._limits.max_body:
                    self._fail(413, self._too_large_text())
            elif lowered == b"transfer-encoding":
                codings += 1
                if value.strip().lower() != b"chunked":
                    self._fail(501, TEXT_UNSUPPORTED_CODING)
            elif lowered == b"upgrade":
                if value.strip().lower() == b"websocket":
                    fast = False
            elif lowered == b"authorization":
                self._authorization = value
            elif lowered == b"expect":
                expect = value.strip().lower() == b"100-continue"
        if lengths > 1 or codings > 1 or (lengths and codings):
            self._fail(400, TEXT_BAD_FRAMING)
        self._fast = fast
        if expect and fast and not self._queue and self.transport is not None:
            self.transport.write(CONTINUE)

    def on_body(self, body: bytes) -> None:
        self._body_len += len(body)
        if self._body_len > self._limits.max_body:
            self._fail(413, self._too_large_text())
        self._body.append(body)

    def on_message_complete(self) -> None:
        self._in_message = False
        if self._deadline is not None:
            if self._deadline.active():
                self._deadline.cancel()
            self._deadline = None
        self._last_active = self._clock.seconds()
        body = b"".join(self._body) if len(self._body) != 1 else self._body[0]
        self._body = []
        if self._parser.should_upgrade():
            return  # dataReceived sees HttpParserUpgrade next and hands the connection over
        if not self._fast:
            self._delegate(
                rebuild_request(
                    self._parser.get_method(),
                    b"".join(self._url),
                    self._parser.get_http_version(),
                    self._headers,
                    body,
                )
            )
            return
        keep_alive = self._parser.should_keep_alive()
        self._answer(body, not keep_alive)

    def _too_large_text(self) -> bytes:
        return f"Request body too large (limit {self._limits.max_body} bytes)".encode()

    # -- JSON-RPC ------------------------------------------------------------------------------

    def _is_admin(self) -> bool:
        auth = self._authorization
        cached = self._admin
        if cached is not None and cached[0] == auth:
            return cached[1]
        decision = self.factory.admin.is_admin(self._ip, auth)
        self._admin = (auth, decision)
        return decision

    def _answer(self, body: bytes, close: bool) -> None:
        slot = _Slot(close)
        self._queue.append(slot)
        if close:
            self._closing = True
        factory = self.factory
        ip = self._ip
        if not factory.inflight.accepting:
            self._finish(slot, 503, TEXT, TEXT_SHUTTING_DOWN)
            return
        guard = factory.dos_guard
        if not self._whitelisted and not guard.request(ip):
            self._finish(slot, 503, JSON, dumps(RPCError(RippledError.slowDown).to_json()))
            return
        is_admin = self._is_admin()
        hot = factory.hot
        generation = 0
        if hot is not None:
            entry = hot.get(is_admin, body)
            if entry is not None:
                data = entry.data
                if not self._whitelisted and not guard.add(ip, len(data)):
                    data = with_load_warning(data)
                self._finish(slot, 200, JSON, data)
                return
            generation = hot.generation  # before dispatching: a commit meanwhile voids the answer
        caller = Caller(ip=ip, is_admin=is_admin, transport="http")
        d = Deferred.fromCoroutine(answer_http(factory.dispatcher, body, caller))
        if not d.called:
            slot.deferred = d
            factory.inflight.track(d)
            if len(self._queue) > self._limits.max_pipelined:
                self._pause()
        d.addCallback(self._answered, slot, body, is_admin, generation)
        d.addErrback(self._failed, slot)

    def _answered(
        self, answer: HttpAnswer, slot: _Slot, body: bytes, is_admin: bool, generation: int
    ) -> None:
        if answer.json is not None:
            data = dumps(answer.json)
            hot = self.factory.hot
            if hot is not None and answer.status == 200:
                hot.offer(is_admin, body, answer.json, data, generation=generation)
            if not self._whitelisted and not self.factory.dos_guard.add(self._ip, len(data)):
                data = with_load_warning(data)
            self._finish(slot, answer.status, JSON, data)
        else:
            data = (answer.text or "").encode("utf-8")
            if not self._whitelisted:
                self.factory.dos_guard.add(self._ip, len(data))
            self._finish(slot, answer.status, TEXT, data)

    def _failed(self, failure: Failure, slot: _Slot) -> None:
        if failure.check(CancelledError):
            return  # the client went away, or shutdown's grace period ran out
        self.factory.log.failure("answering an HTTP request failed", failure)
        body = dumps({"result": RPCError(RippledError.internal).to_json()})
        self._finish(slot, 500, JSON, body)

    def _finish(self, slot: _Slot, status: int, content_type: bytes, body: bytes) -> None:
        slot.deferred = None
        slot.data = response(
            status,
            content_type,
            body,
            self.factory.date.line(self._clock.seconds()),
            slot.close,
        )
        self._flush()

    def _flush(self) -> None:
        if self._gone:
            return
        queue = self._queue
        transport = self.transport
        if transport is None:
            return
        while queue:
            data = queue[0].data
            if data is None:
                break
            slot = queue.popleft()
            transport.write(data)
            if slot.close:
                queue.clear()
                self._stop_timers()
                transport.loseConnection()
                return
        if self._pipeline_full and len(queue) <= self._limits.max_pipelined // 2:
            self._resume()
        if not queue and self._backlog is not None:
            self._hand_over()

    def _pause(self) -> None:
        self._pipeline_full = True
        self._set_reading()

    def _resume(self) -> None:
        self._pipeline_full = False
        self._set_reading()

    def _set_reading(self) -> None:
        """Read from the client only while its answers are neither piling up nor unread."""
        transport: Any = self.transport
        if transport is None or self._channel is not None:
            return
        pause = self._pipeline_full or self._write_full
        if pause and not self._reading_paused:
            self._reading_paused = True
            transport.pauseProducing()
        elif not pause and self._reading_paused:
            self._reading_paused = False
            transport.resumeProducing()

    # IPushProducer, registered with the transport: its write buffer is full, or drained.

    def pauseProducing(self) -> None:
        self._write_full = True
        self._set_reading()

    def resumeProducing(self) -> None:
        self._write_full = False
        self._set_reading()

    def stopProducing(self) -> None:
        pass

    # -- refusals and timers -----------------------------------------------------------------

    def _refuse(self, refused: _Refused) -> None:
        """Answer ``refused`` after the answers already owed, then close; read nothing more."""
        if self._closing and self._queue and self._queue[-1].close:
            return
        self._closing = True
        self._in_message = self._in_head = False
        if self._deadline is not None and self._deadline.active():
            self._deadline.cancel()
        self._deadline = None
        if self._backlog is not None or self._channel is not None:
            # The connection already belongs to Twisted Web: let it see the bad bytes' effect.
            self._stop_timers()
            if self.transport is not None:
                self.transport.loseConnection()
            return
        slot = _Slot(close=True)
        self._queue.append(slot)
        self._finish(slot, refused.status, TEXT, refused.text)

    def _timed_out(self) -> None:
        self._deadline = None
        if self._in_message and not self._closing:
            self._refuse(_Refused(408, TEXT_TIMEOUT))

    def _idle_check(self) -> None:
        self._idle = None
        if self._gone or self._channel is not None:
            return
        now = self._clock.seconds()
        due = self._last_active + self._limits.idle_timeout
        if self._in_message or self._queue or due > now:
            self._idle = self._clock.callLater(max(due - now, 0.0), self._idle_check)
            return
        if self.transport is not None:
            self.transport.loseConnection()

    # -- hand-over to Twisted Web -----------------------------------------------------------------

    def _delegating(self) -> bool:
        return self._backlog is not None or self._channel is not None

    def _delegate(self, data: bytes) -> None:
        if self._channel is not None:
            self._channel.dataReceived(data)
            return
        if self._backlog is None:
            self._backlog = []
        self._backlog.append(data)
        if not self._queue:
            self._hand_over()

    def _upgraded(self, rest: bytes) -> None:
        """An upgrade request (WebSocket): its head, then every later byte, go to Twisted Web as received."""
        head = rebuild_request(
            self._parser.get_method(),
            b"".join(self._url),
            self._parser.get_http_version(),
            self._headers,
            None,
        )
        self._raw = True
        self._delegate(head)
        if rest:
            self._to_channel(rest)

    def _to_channel(self, data: bytes) -> None:
        if self._channel is not None:
            # After the upgrade Autobahn owns the transport: its protocol gets the bytes.
            owner = getattr(self.transport, "protocol", None)
            if owner is not None and owner is not self and owner is not self._channel:
                owner.dataReceived(data)
                return
            self._channel.dataReceived(data)
        elif self._backlog is not None:
            self._backlog.append(data)

    def _hand_over(self) -> None:
        backlog, self._backlog = self._backlog or [], None
        self._stop_timers()
        channel = self.factory.site.buildProtocol(self._addr)
        self._channel = channel
        # The channel counts the connection from here (and releases it on a WebSocket upgrade).
        self._release_count()
        transport: Any = self.transport
        if transport is not None:
            # The channel registers itself as the transport's producer and decides reading.
            transport.unregisterProducer()
            if self._reading_paused:
                self._reading_paused = False
                transport.resumeProducing()
        channel.makeConnection(self.transport)
        for data in backlog:
            if self._channel is None or self._gone:
                return
            self._channel.dataReceived(data)
