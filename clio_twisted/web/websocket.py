"""The WebSocket side of the API port (Autobahn), speaking rippled's WebSocket API.

Wire protocol: the client sends one JSON object per **text** message,
``{"command"|"method": "...", "id": ..., "api_version": ..., ...params flat...}``;
the server answers each with one text message (the envelope is documented in
:mod:`clio_twisted.rpc.envelope`). Answers may go out in a different order
than requests came in; ``id`` pairs them. A binary frame, or text that is not
a JSON object, is answered with a ``badSyntax`` error and the connection stays
open. A message bigger than ``server.max_ws_message_size`` closes the
connection with code 1009 (message too big). Every message counts against the
DOS guard; over budget the answer is a ``slowDown`` error. Subscription
streams send already-serialised messages through
:meth:`ClioWebSocketProtocol.send_stream`; answers and stream messages share one
bounded send queue (:class:`clio_twisted.feeds.send_queue.SendQueue`), and a
client that lets more than ``server.ws_max_sending_queue_size`` messages pile
up is disconnected.
"""

from __future__ import annotations

from collections.abc import Coroutine, Generator
from typing import Any

import txaio
import txaio.tx

from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from autobahn.websocket.types import ConnectionRequest
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from clio_twisted.feeds.send_queue import SendQueue
from clio_twisted.rpc.dispatch import Caller, Dispatcher
from clio_twisted.rpc.envelope import (
    answer_ws_request,
    dumps,
    load_json_object,
    ws_bad_syntax,
    ws_error,
)
from clio_twisted.rpc.errors import RippledError, RPCError
from clio_twisted.web._fast_hot import HotAnswers, request_method, with_load_warning
from clio_twisted.web.admin import AdminPolicy
from clio_twisted.web.dosguard import DosGuard, charge_response
from clio_twisted.web.inflight import InFlight


def _resume(
    coro: Coroutine[Any, Any, dict[str, Any]], waiting_on: Any
) -> Generator[Any, Any, dict[str, Any]]:
    """Hand a coroutine already started by hand (now waiting on ``waiting_on``) to Twisted.

    A generator :meth:`Deferred.fromCoroutine` drives: it yields what the
    coroutine waits on and passes each result (or failure, or cancellation) back in.
    """
    while True:
        try:
            result = yield waiting_on
        except GeneratorExit:
            coro.close()
            raise
        except BaseException as e:
            try:
                waiting_on = coro.throw(e)
            except StopIteration as done:
                return done.value
        else:
            try:
                waiting_on = coro.send(result)
            except StopIteration as done:
                return done.value


class ClioWebSocketProtocol(WebSocketServerProtocol):
    """One client connection. ``_log`` because Autobahn owns ``log``."""

    _log = Logger()
    factory: ClioWebSocketFactory

    def __init__(self) -> None:
        super().__init__()
        self.client_ip = ""
        self.is_admin = False
        self._pending: set[Deferred[Any]] = set()
        self._counted = False
        self._whitelisted = False  # decided once per session, not per message
        self.stream_queue: SendQueue | None = None
        self._caller: Caller | None = None

    # -- per-message cost: Autobahn formats (click-styled) arguments for a debug log line on
    # every read and write, whatever the log level: a fifth of a message's time. The two
    # overrides below do what Autobahn does, minus that line.

    def dataReceived(self, data: bytes) -> None:
        self._dataReceived(data)

    def sendData(self, data: bytes, sync: bool = False, chopsize: int | None = None) -> None:
        if (
            chopsize
            or sync
            or self.send_queue
            or self.state != self.STATE_OPEN
            or getattr(self, "logOctets", False)
        ):
            super().sendData(data, sync, chopsize)
            return
        self.transport.write(data)  # type: ignore[union-attr]
        self.trafficStats.outgoingOctetsWireLevel += len(data)

    def onConnect(self, request: ConnectionRequest) -> None:
        try:
            peer = self.transport.getPeer() if self.transport is not None else None
            self.client_ip = getattr(peer, "host", "") or ""
            self.is_admin = self.factory.admin.is_admin(
                self.client_ip, request.headers.get("authorization")
            )
            self.factory.dos_guard.increment(self.client_ip)
            self._counted = True
            self._whitelisted = self.factory.dos_guard.is_whitelisted(self.client_ip)
        except Exception:
            self._log.failure("WebSocket onConnect failed")
            raise

    def onOpen(self) -> None:
        self.factory.sessions.add(self)
        self.stream_queue = SendQueue(
            self._send_now,
            lambda: self.dropConnection(abort=True),
            self.factory.max_sending_queue_size,
            name=self.client_ip,
        )
        self.stream_queue.attach(self.transport)

    def _send_now(self, data: bytes) -> None:
        self.sendMessage(data, isBinary=False)

    def send_stream(self, data: bytes) -> None:
        """Send one serialised stream message, through the bounded send queue."""
        if self.state != WebSocketServerProtocol.STATE_OPEN or self.stream_queue is None:
            return
        self.stream_queue.push(data)

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        try:
            guard = self.factory.dos_guard
            if isBinary:
                self.send_json(ws_bad_syntax())
                return
            if not self._whitelisted and not guard.request(self.client_ip):
                # as Clio: the refusal itself is not charged (no "load" warning on it)
                self.send_json(ws_error(RPCError(RippledError.slowDown), payload), charge=False)
                return
            hot = self.factory.hot
            if hot is not None:  # the lean front's hot answers (web/_fast_hot.py)
                entry = hot.get(self.is_admin, payload, ws=True)
                if entry is not None:
                    self._send_hot(entry.data)
                    return
            generation = hot.generation if hot is not None else 0  # read before dispatching
            request = load_json_object(payload)
            method = request_method(request) if request is not None else None
            caller = self._caller
            if caller is None:  # who is asking is settled once the session is open
                caller = self._caller = Caller(
                    ip=self.client_ip, is_admin=self.is_admin, transport="ws", session=self
                )
            coro = answer_ws_request(self.factory.dispatcher, request, caller)
            # Run the answer up to its first wait by hand: most answers never wait (they come
            # from memory) and then need no Deferred, no tracking and no callbacks at all.
            try:
                waiting_on = coro.send(None)
            except StopIteration as done:
                self._send_answer(done.value, payload, generation, method)
                return
            d = Deferred.fromCoroutine(_resume(coro, waiting_on))
            self._pending.add(d)
            self.factory.inflight.track(d)
            d.addCallback(self._send_answer, payload, generation, method)
            d.addErrback(self._failed)
            d.addBoth(self._forget, d)
        except Exception:
            self._log.failure("WebSocket onMessage failed")

    def _send_answer(
        self, body: dict[str, Any], payload: bytes, generation: int, method: Any = None
    ) -> None:
        """Serialise an answer once: offered to the hot answers, then charged and sent as one."""
        data = dumps(body)
        hot = self.factory.hot
        if hot is not None:
            # ``generation`` was read before dispatching: an answer computed across a commit is not kept
            hot.offer(
                self.is_admin, payload, body, data, ws=True, generation=generation, method=method
            )
        self._send_hot(data)

    def _send_hot(self, data: bytes) -> None:
        """Send a serialised answer, charged (with the ``load`` warning over budget)."""
        if self.state != WebSocketServerProtocol.STATE_OPEN:
            return
        if not self._whitelisted and not self.factory.dos_guard.add(self.client_ip, len(data)):
            data = with_load_warning(data)
        if self.stream_queue is not None:
            self.stream_queue.push(data)
        else:
            self.sendMessage(data, isBinary=False)

    def _forget(self, result: object, d: Deferred[Any]) -> None:
        self._pending.discard(d)

    def _failed(self, failure: Failure) -> None:
        if failure.check(CancelledError):
            return
        self._log.failure("answering a WebSocket message failed", failure)

    def send_json(self, body: dict[str, Any], charge: bool = True) -> None:
        """Send one answer or stream message, counting its bytes against the DOS guard."""
        if self.state != WebSocketServerProtocol.STATE_OPEN:
            return
        if charge and not self._whitelisted:
            data = charge_response(self.factory.dos_guard, self.client_ip, body)
        else:
            data = dumps(body)
        if self.stream_queue is not None:
            self.stream_queue.push(data)
        else:
            self.sendMessage(data, isBinary=False)

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
        self.factory.sessions.discard(self)
        if self.stream_queue is not None:
            self.stream_queue.stopProducing()
        if self.factory.subscriptions is not None:
            self.factory.subscriptions.remove_session(self)
        for d in list(self._pending):
            d.cancel()
        if self._counted:
            self._counted = False
            self.factory.dos_guard.decrement(self.client_ip)


class ClioWebSocketFactory(WebSocketServerFactory):
    """Builds :class:`ClioWebSocketProtocol` with the shared dispatcher, guard and limits."""

    protocol = ClioWebSocketProtocol  # type: ignore[assignment]

    def __init__(
        self,
        dispatcher: Dispatcher,
        dos_guard: DosGuard,
        admin: AdminPolicy,
        inflight: InFlight,
        reactor: IReactorTime,
        max_message_size: int = 1_048_576,
        auto_ping_interval: float = 30.0,
        subscriptions: Any = None,
        max_sending_queue_size: int = 80_000,
    ) -> None:
        super().__init__(reactor=reactor)
        # Autobahn's timers (handshake, ping, close) go through txaio's global
        # loop; bind them to the injected reactor instead.
        txaio_config = txaio._Config()
        txaio_config.loop = reactor  # type: ignore[assignment]
        self._batched_timer = txaio.tx._TxApi(txaio_config).make_batched_timer(
            bucket_seconds=0.2, chunk_size=1000
        )
        self.dispatcher = dispatcher
        self.dos_guard = dos_guard
        self.admin = admin
        self.inflight = inflight
        self.subscriptions = subscriptions  # feeds.manager.SubscriptionManager, or None
        self.max_sending_queue_size = max_sending_queue_size
        self.sessions: set[ClioWebSocketProtocol] = set()
        # Hot answers shared with the lean HTTP front (web/_fast_hot.py); set by the tap.
        self.hot: HotAnswers | None = None
        self.setProtocolOptions(
            maxMessagePayloadSize=max_message_size,
            maxFramePayloadSize=max_message_size,
            # invalid UTF-8 gets a badSyntax answer (from the JSON parser), not a dropped connection
            utf8validateIncoming=False,
            # too-big messages get a close frame with 1009, not a silent drop
            failByDrop=False,
            autoPingInterval=auto_ping_interval,
            autoPingTimeout=auto_ping_interval,
        )

    def close_all(self, code: int = 1000, reason: str = "server shutting down") -> None:
        """Close every open session (shutdown).

        1000 with a reason: Autobahn lets a server send only 1000 or 3000-4999
        (it refuses 1001 "going away"), and one session's failure must not
        leave the others open.
        """
        for session in list(self.sessions):
            try:
                session.sendClose(code=code, reason=reason)
            except Exception:
                ClioWebSocketProtocol._log.failure("closing a WebSocket session failed")
