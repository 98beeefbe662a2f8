"""The root service: start the parts in order, say when ready, and stop them in reverse, gracefully.

Start: the backend connects (``await backend.start()``), then the DOS guard's
sweep and the other parts (ETL...) start, then the API port listens; then
``READY=1`` goes to systemd (when ``NOTIFY_SOCKET`` is set) and
:meth:`ClioService.when_ready` fires. Twisted's ``MultiService`` starts and
stops children all at once and ignores their Deferreds, so the order is
explicit here.

Stop (SIGTERM): stop listening; let requests in flight finish, up to
``graceful_period`` seconds (then cancel them); close WebSocket sessions and
the connections to rippled that forwarding pooled (``on_stop``: nothing is in
flight by then); stop the other parts in reverse order; stop the backend.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from twisted.application.service import IService, Service
from twisted.internet.defer import CancelledError, Deferred, maybeDeferred
from twisted.internet.interfaces import (
    IListeningPort,
    IProtocolFactory,
    IReactorTime,
    IStreamServerEndpoint,
)
from twisted.logger import ILogObserver, Logger
from twisted.python.failure import Failure
from twisted.web.server import Site

from clio_twisted.backend.interface import IBackend
from clio_twisted.web.dosguard import DosGuard
from clio_twisted.web.inflight import InFlight
from clio_twisted.web.websocket import ClioWebSocketFactory


def sd_notify(state: bytes, environ: Mapping[str, str] | None = None) -> bool:
    """Send ``state`` (e.g. ``b"READY=1"``) to systemd's notify socket; False when there is none."""
    env = os.environ if environ is None else environ
    address = env.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]  # abstract namespace
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(state)
    except OSError:
        return False
    return True


class ClioService(Service):
    """The whole server as one twistd service.

    Args:
        backend: the store; started first, stopped last.
        clock: the reactor's clock (grace-period timer).
        endpoint: where the API listens.
        site: the API site (``web.root.ApiSite``).
        dos_guard, inflight, ws_factory: shared with the site.
        parts: other services (ETL...), started in order after the backend.
        grace_period: seconds in-flight requests get at shutdown.
        log_observer: registered on the twistd application, if given.
        on_fatal: called (e.g. ``reactor.stop``) when start-up fails.
        listen_factory: the protocol factory the port serves (``web.fast_http``),
            when it is not ``site`` itself.
        on_stop: called once requests have drained, before the parts stop
            (``Forwarder.close_all``: its pooled rippled connections).
    """

    log = Logger()

    def __init__(
        self,
        backend: IBackend,
        clock: IReactorTime,
        endpoint: IStreamServerEndpoint,
        site: Site,
        dos_guard: DosGuard,
        inflight: InFlight,
        ws_factory: ClioWebSocketFactory,
        parts: Sequence[IService] = (),
        grace_period: float = 10.0,
        log_observer: ILogObserver | None = None,
        environ: Mapping[str, str] | None = None,
        on_fatal: Callable[[], object] | None = None,
        listen_factory: IProtocolFactory | None = None,
        on_stop: Sequence[Callable[[], object]] = (),
    ) -> None:
        self.backend = backend
        self.clock = clock
        self.endpoint = endpoint
        self.site = site
        self.dos_guard = dos_guard
        self.inflight = inflight
        self.ws_factory = ws_factory
        self.parts = list(parts)
        self.grace_period = grace_period
        self.log_observer = log_observer
        self.environ = environ
        self.port: IListeningPort | None = None
        self._outcome: Literal[True] | Failure | None = None
        self._waiters: list[Deferred[None]] = []
        self.on_fatal = on_fatal
        self.listen_factory = listen_factory  # what the port serves (the lean front); else the site
        self._starting: Deferred[None] | None = None
        self._backend_started = False
        self.on_stop = list(on_stop)

    def setServiceParent(self, parent: Any) -> None:
        # twistd makes the Application after makeService and consults its
        # ILogObserver component when it starts logging: give it ours.
        if self.log_observer is not None and hasattr(parent, "setComponent"):
            parent.setComponent(ILogObserver, self.log_observer)
        super().setServiceParent(parent)

    def when_ready(self) -> Deferred[None]:
        """Fires once the API port listens (or fails with the start-up error)."""
        d: Deferred[None] = Deferred()
        if self._outcome is not None:
            d.callback(None) if self._outcome is True else d.errback(self._outcome)
        else:
            self._waiters.append(d)
        return d

    def _settle(self, outcome: Literal[True] | Failure) -> None:
        self._outcome = outcome
        waiters, self._waiters = self._waiters, []
        for d in waiters:
            d.callback(None) if outcome is True else d.errback(outcome)

    def startService(self) -> None:
        super().startService()
        self._starting = Deferred.fromCoroutine(self._start())
        self._starting.addErrback(self._start_failed)

    async def _start(self) -> None:
        await self.backend.start()
        self._backend_started = True
        self.dos_guard.start()
        for part in self.parts:
            part.startService()
        self.port = await self.endpoint.listen(self.listen_factory or self.site)
        address = self.port.getHost()
        self.log.info(
            "clio-twisted listening on {host}:{port}",
            host=getattr(address, "host", "?"),
            port=getattr(address, "port", "?"),
        )
        sd_notify(b"READY=1", self.environ)
        self._settle(True)

    def _start_failed(self, failure: Failure) -> None:
        if failure.check(CancelledError):
            return
        self.log.failure("start-up failed; stopping", failure)
        self._settle(failure)
        if self.on_fatal is not None:
            self.clock.callLater(0, self.on_fatal)

    def stopService(self) -> Deferred[None]:
        super().stopService()
        return Deferred.fromCoroutine(self._stop())

    async def _stop(self) -> None:
        sd_notify(b"STOPPING=1", self.environ)
        if self._starting is not None and not self._starting.called:
            self._starting.cancel()
        if self.port is not None:
            await maybeDeferred(self.port.stopListening)
            self.port = None
        await self.inflight.drain(self.clock, self.grace_period)
        self.ws_factory.close_all()
        for close in self.on_stop:
            try:
                close()
            except Exception:
                self.log.failure("closing {what} at shutdown", what=close)
        for part in reversed(self.parts):
            if part.running:
                await maybeDeferred(part.stopService)
        self.dos_guard.stop()
        if self._backend_started:
            self._backend_started = False
            await self.backend.stop()
        self.log.info("clio-twisted stopped")
