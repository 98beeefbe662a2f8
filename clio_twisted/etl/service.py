"""``EtlService``: the sources, the ETL loop and its status, as one Twisted service.

Built by tap.py from the config, a started backend and the reactor. The
sources reconnect on their own; the loop (``Etl.run``) starts with the
service and is stopped with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from twisted.application.service import MultiService
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTCP, IReactorTime
from twisted.logger import Logger

from clio_twisted.backend.cache import StateCache
from clio_twisted.backend.interface import IBackend
from clio_twisted.etl.follower import Etl, EtlSettings
from clio_twisted.etl.pool import SourcePool
from clio_twisted.etl.source import NetworkCheck, WsSource
from clio_twisted.etl.status import EtlStatus


class EtlService(MultiService):
    """Follows the configured rippled sources into ``backend``.

    Args:
        sources: (host, ws_port) of each ``etl_sources`` entry.
        backend: the store (already started, or started before this service).
        reactor: provides TCP and time.
        settings: read_only, start/finish_sequence, num_markers, verify_state,
            takeover_seconds (Clio's defaults).
        cache: the state cache shared with the RPC layer (one is made if None).
        request_timeout: the deadline of every request to a source.
    """

    log = Logger()

    def __init__(
        self,
        sources: Sequence[tuple[str, int]],
        backend: IBackend,
        reactor: Any,
        settings: EtlSettings | None = None,
        cache: StateCache | None = None,
        request_timeout: float = 30.0,
        network_id: int | None = None,
    ) -> None:
        super().__init__()
        self.reactor = reactor
        clock: IReactorTime = reactor
        tcp: IReactorTCP = reactor
        self.settings = settings or EtlSettings()
        self.pool = SourcePool([], clock, timeout=request_timeout)
        check = NetworkCheck(expected=network_id)
        ws_sources: list[WsSource] = []
        for host, port in sources:
            source = WsSource(
                tcp, clock, host, port, on_validated=self.pool.on_validated, network_check=check
            )
            ws_sources.append(source)
            self.pool.sources.append(source)
            source.setServiceParent(self)
        self.sources = ws_sources
        self.status = EtlStatus()
        self.status.sources = lambda: [s.to_json() for s in ws_sources]
        self.etl = Etl(self.pool, backend, clock, self.settings, cache=cache, status=self.status)
        self._running: Deferred[None] | None = None

    @classmethod
    def from_config(
        cls, config: Any, backend: IBackend, reactor: Any, cache: StateCache | None = None
    ) -> EtlService:
        """From a ``clio_twisted.config.ClioConfig``."""
        settings = EtlSettings(
            read_only=config.read_only,
            start_sequence=config.etl.start_sequence,
            finish_sequence=config.etl.finish_sequence,
            num_markers=config.etl.num_markers,
            verify_state=config.etl.verify_state,
            takeover_seconds=config.writer_takeover_seconds,
        )
        sources = [(s.ip, s.ws_port) for s in config.etl_sources]
        return cls(sources, backend, reactor, settings, cache=cache)

    @property
    def cache(self) -> StateCache:
        """The state cache (replaced by a fresh one on an initial load: read it through here)."""
        return self.etl.cache

    def startService(self) -> None:  # noqa: N802
        super().startService()
        self._running = Deferred.fromCoroutine(self.etl.run())
        self._running.addErrback(lambda f: self.log.failure("ETL loop crashed", f))

    def stopService(self) -> Deferred[None]:  # noqa: N802
        self.etl.stop()
        running = self._running
        if running is not None and not running.called:
            running.cancel()
        d: Deferred[None] = super().stopService()
        return d
