"""EtlService built from the config, and the initial load's progress in logs and status."""

from __future__ import annotations

from random import Random
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.internet.testing import EventLoggingObserver, MemoryReactorClock
from twisted.logger import globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.config import ClioConfig, EtlConfig, EtlSourceConfig
from clio_twisted.etl.follower import Etl, EtlSettings
from clio_twisted.etl.pool import SourcePool
from clio_twisted.etl.service import EtlService
from clio_twisted.etl.status import Phase
from clio_twisted.testing.replay import load_ledgers
from tests.etl.fakes import ChainSource, chain_upto
from tests.fakes.backend import InMemoryBackend


class ServiceTests(SynchronousTestCase):
    def test_from_config(self) -> None:
        """Every ETL key of the config reaches the settings; one WebSocket source per etl_sources entry."""
        config = ClioConfig(
            etl_sources=(EtlSourceConfig("127.0.0.1", 6006), EtlSourceConfig("10.0.0.2", 6007)),
            etl=EtlConfig(verify_state=False, num_markers=8, start_sequence=5, finish_sequence=9),
            read_only=True,
            writer_takeover_seconds=3.0,
        )
        reactor = MemoryReactorClock()
        service = EtlService.from_config(config, InMemoryBackend(), reactor)
        self.assertEqual(
            service.settings,
            EtlSettings(
                read_only=True,
                start_sequence=5,
                finish_sequence=9,
                num_markers=8,
                verify_state=False,
                takeover_seconds=3.0,
            ),
        )
        self.assertEqual(
            [s.name for s in service.pool.sources], ["127.0.0.1:6006", "10.0.0.2:6007"]
        )
        service.startService()
        self.assertEqual(
            [(c[0], c[1]) for c in reactor.tcpClients], [("127.0.0.1", 6006), ("10.0.0.2", 6007)]
        )
        info = service.status.server_info(reactor.seconds())
        self.assertEqual([s["ws_port"] for s in info["etl_sources"]], ["6006", "6007"])
        self.assertTrue(info["read_only"])
        self.successResultOf(service.stopService())


class SlowSource(ChainSource):
    """Each ledger_data page takes one second of the fake clock."""

    def __init__(self, clock: Clock, *args: Any) -> None:
        super().__init__(*args)
        self.clock = clock

    async def request(self, cmd: dict[str, Any], timeout: float = 30.0) -> dict[str, Any]:
        if cmd["command"] == "ledger_data":
            self.clock.rightNow += 1.0
        return await super().request(cmd, timeout)


class ProgressTests(SynchronousTestCase):
    def test_initial_load_logs_rate_and_eta(self) -> None:
        """A long initial load logs objects, rate and ETA every few seconds, and status shows it."""
        observer = EventLoggingObserver()
        globalLogPublisher.addObserver(observer)
        self.addCleanup(globalLogPublisher.removeObserver, observer)
        chain = chain_upto(load_ledgers(), 20)
        clock = Clock()
        source = SlowSource(clock, chain, "slow", 20)
        pool = SourcePool([source], clock, rng=Random(0))
        pool.on_validated(source, 20)
        seen: list[dict[str, Any]] = []
        etl = Etl(
            pool,
            InMemoryBackend(),
            clock,
            EtlSettings(finish_sequence=20, num_markers=1, log_interval=2),
        )

        original = source.request

        async def watching(cmd: dict[str, Any], timeout: float = 30.0) -> dict[str, Any]:
            if cmd["command"] == "ledger_data" and etl.status.phase is Phase.LOADING:
                healthy, body = etl.status.health()
                self.assertFalse(healthy)
                seen.append(body["initial_load"])
            return await original(cmd, timeout)

        source.request = watching  # type: ignore[method-assign]
        import clio_twisted.etl.initial_load as initial_load

        page_limit = initial_load.PAGE_LIMIT
        initial_load.PAGE_LIMIT = 8
        self.addCleanup(setattr, initial_load, "PAGE_LIMIT", page_limit)
        self.successResultOf(Deferred.fromCoroutine(etl.run()))
        lines = [e for e in observer if "initial load of ledger" in e.get("log_format", "")]
        progress = [e for e in lines if "ETA" in e["log_format"]]
        self.assertGreater(len(progress), 1)
        self.assertGreater(progress[-1]["objects"], progress[0]["objects"])
        self.assertGreater(progress[-1]["rate"], 0)
        self.assertTrue(any("committed" in e["log_format"] for e in lines))
        self.assertGreater(seen[-1]["objects"], 0)
        self.assertIsNotNone(seen[-1]["eta_seconds"])
        self.assertTrue(etl.status.health()[0])


class SharedCacheTests(SynchronousTestCase):
    def test_the_cache_given_is_the_one_filled(self) -> None:
        """A cache handed in (shared with the RPC layer) is the one the initial load fills, not a copy."""
        from clio_twisted.backend.cache import StateCache

        chain = chain_upto(load_ledgers(), 12)
        clock = Clock()
        source = ChainSource(chain, "a", 12)
        pool = SourcePool([source], clock, rng=Random(0))
        pool.on_validated(source, 12)
        shared = StateCache()
        etl = Etl(
            pool,
            InMemoryBackend(),
            clock,
            EtlSettings(start_sequence=5, finish_sequence=12, num_markers=2),
            cache=shared,
        )
        self.successResultOf(Deferred.fromCoroutine(etl.run()))
        self.assertIs(etl.cache, shared)
        self.assertTrue(shared.full)
        self.assertEqual(shared.latest_sequence, 12)
        self.assertEqual(len(shared), len(chain.page(None, 12, 100000)[0]))
