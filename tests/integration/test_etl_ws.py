"""The ETL over real WebSockets: the fake rippled on 127.0.0.1, a real SQLite file (and Cassandra).

The fake replays the ledgers recorded from a real rippled 3.1.1, validating a
new one every few milliseconds; each test bounds its own time.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from functools import cache
from typing import Any

from twisted.internet import reactor as _reactor
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater
from twisted.internet.threads import deferToThread
from twisted.trial.unittest import SkipTest, TestCase

from clio_twisted.backend.interface import IBackend
from clio_twisted.backend.sqlite import SqliteBackend
from clio_twisted.etl.follower import EtlSettings
from clio_twisted.etl.service import EtlService
from clio_twisted.etl.source import SourceError, WsSource
from clio_twisted.etl.status import Phase
from clio_twisted.protocol.ledger_header import LedgerHeader
from clio_twisted.testing.chain import Chain, ChainLedger
from clio_twisted.testing.fake_rippled import (
    FakeRippled,
    ReplaySource,
    RippledFactory,
    replay_server,
)

reactor: Any = _reactor
INTERVAL = 0.02
START = 10


async def wait_for(
    predicate: Callable[[], bool], timeout: float, what: str, *watched: EtlService
) -> None:
    deadline = reactor.seconds() + timeout
    while not predicate():
        for service in watched:
            if service.status.phase is Phase.FAILED:
                raise AssertionError(f"ETL failed waiting for {what}: {service.status.error}")
        if reactor.seconds() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await deferLater(reactor, 0.02, lambda: None)


@cache
def forged_chain() -> tuple[ChainLedger, list[ChainLedger]]:
    """Mainnet ledger 38129 and 55 forged successors (made once per run)."""
    from clio_twisted.testing.forge import Forge, load_fixture_ledger

    forge = Forge(load_fixture_ledger(38129), seed=7)
    return forge.start, [forge.next_ledger() for _ in range(55)]


def first_loaded(service: EtlService) -> int:
    """The ledger the initial load chose (the network's latest when the server started)."""
    assert service.status.load is not None
    return service.status.load.sequence


class EtlOverWebSocketMixin:
    """The scenarios; subclasses say which backend."""

    def make_backend(self, read_only: bool = False) -> IBackend:
        raise NotImplementedError

    # -- helpers -----------------------------------------------------------------------

    def rippled(self, start: int = START, port: int = 0) -> tuple[FakeRippled, Any]:
        fake = replay_server(reactor, start=start)
        listening = reactor.listenTCP(port, RippledFactory(fake), interface="127.0.0.1")
        self.addCleanup(fake.stop)  # type: ignore[attr-defined]
        self.addCleanup(listening.stopListening)  # type: ignore[attr-defined]
        return fake, listening

    async def server(
        self, ports: list[int], settings: EtlSettings, read_only: bool = False
    ) -> EtlService:
        backend = self.make_backend(read_only)
        await backend.start()
        service = EtlService(
            [("127.0.0.1", p) for p in ports], backend, reactor, settings, request_timeout=5
        )
        service.startService()

        async def stop() -> None:
            await service.stopService()
            await backend.stop()

        self.addCleanup(lambda: Deferred.fromCoroutine(stop()))  # type: ignore[attr-defined]
        service.backend = backend  # type: ignore[attr-defined]
        return service

    async def check_store(
        self, backend: IBackend, fake: FakeRippled, first: int, last: int
    ) -> None:
        """Every ledger first..last: header, transactions, and each object version equal the fake's."""
        rng = await backend.fetch_ledger_range()
        assert rng is not None
        assert rng.min_sequence == first and rng.max_sequence >= last, rng
        previous = None
        for seq in range(first, last + 1):
            ledger = fake.chain.ledger(seq)
            assert ledger is not None
            blob = await backend.fetch_ledger_by_sequence(seq)
            assert blob is not None, seq
            header = LedgerHeader.from_bytes(blob)
            assert header.hash == ledger.hash, seq
            if previous is not None:
                assert header.parent_hash == previous, seq
            previous = header.hash
            hashes = await backend.fetch_ledger_transaction_hashes(seq)
            assert hashes == [h for h, _t, _m in ledger.transactions], seq
            if seq == first:
                keys = sorted(ledger.changes) if fake.chain.first == seq else None
                cursor = None
                stored = {}
                while True:
                    page = await backend.fetch_ledger_page(cursor, seq, 512)
                    stored.update({o.key: o.blob for o in page.objects})
                    if page.cursor is None:
                        break
                    cursor = page.cursor
                for key, blob_ in stored.items():
                    assert fake.chain.object(key, seq) == blob_, (seq, key.hex())
                if keys is not None:
                    assert sorted(stored) == keys
                continue
            diff = await backend.fetch_ledger_diff(seq)
            assert {o.key: o.blob or None for o in diff} == dict(ledger.changes), seq

    # -- scenarios ---------------------------------------------------------------------

    def test_mainnet_38129_and_forged_successors(self) -> Deferred[None]:
        """Mainnet 38129 then 55 forged ledgers (payments, offers, NFTs, ...): all stored as served."""

        async def go() -> None:
            start, forged = forged_chain()
            chain = Chain()
            chain.append(start)
            fake = FakeRippled(chain, reactor, ReplaySource(forged))
            listening = reactor.listenTCP(0, RippledFactory(fake), interface="127.0.0.1")
            self.addCleanup(fake.stop)  # type: ignore[attr-defined]
            self.addCleanup(listening.stopListening)  # type: ignore[attr-defined]
            fake.start(INTERVAL)
            last = forged[-1].sequence
            service = await self.server(
                [listening.getHost().port],
                EtlSettings(start_sequence=start.sequence, finish_sequence=last, num_markers=4),
            )
            await wait_for(
                lambda: service.status.phase is Phase.FINISHED, 60, f"ledger {last}", service
            )
            await self.check_store(service.backend, fake, start.sequence, last)  # type: ignore[attr-defined]

        return Deferred.fromCoroutine(go())

    def test_ingests_and_matches_the_source(self) -> Deferred[None]:
        """Initial load then follow: every stored ledger and object equals the fake rippled's."""

        async def go() -> None:
            fake, port = self.rippled()
            fake.start(INTERVAL)
            service = await self.server(
                [port.getHost().port], EtlSettings(finish_sequence=60, num_markers=4)
            )
            await wait_for(lambda: service.status.phase is Phase.FINISHED, 30, "ledger 60")
            await self.check_store(service.backend, fake, first_loaded(service), 60)  # type: ignore[attr-defined]

        return Deferred.fromCoroutine(go())

    def test_source_restart_loses_nothing(self) -> None:
        """Killing the fake rippled mid-stream and restarting it: ingestion resumes with no gap."""

        async def go() -> None:
            fake, listening = self.rippled()
            port = listening.getHost().port
            fake.start(INTERVAL)
            service = await self.server([port], EtlSettings(finish_sequence=70, num_markers=2))
            await wait_for(lambda: (service.status.last_committed or 0) >= 30, 30, "ledger 30")
            await listening.stopListening()
            fake.drop_all_connections()
            await deferLater(reactor, 0.5, lambda: None)
            again = reactor.listenTCP(port, RippledFactory(fake), interface="127.0.0.1")
            self.addCleanup(again.stopListening)
            await wait_for(lambda: service.status.phase is Phase.FINISHED, 40, "ledger 70")
            await self.check_store(service.backend, fake, first_loaded(service), 70)  # type: ignore[attr-defined]

        return Deferred.fromCoroutine(go())  # type: ignore[return-value]

    def test_two_sources_one_stops(self) -> None:
        """With two sources, stopping one does not stop ingestion."""

        async def go() -> None:
            a, la = self.rippled()
            b, lb = self.rippled()
            a.start(INTERVAL)
            b.start(INTERVAL)
            service = await self.server(
                [la.getHost().port, lb.getHost().port],
                EtlSettings(finish_sequence=70, num_markers=4),
            )
            await wait_for(lambda: (service.status.last_committed or 0) >= 25, 30, "ledger 25")
            await la.stopListening()
            a.drop_all_connections()
            a.stop()
            await wait_for(lambda: service.status.phase is Phase.FINISHED, 40, "ledger 70")
            await self.check_store(service.backend, b, first_loaded(service), 70)  # type: ignore[attr-defined]

        return Deferred.fromCoroutine(go())  # type: ignore[return-value]

    def test_reader_serves_and_takes_over(self) -> None:
        """A read_only server follows the same store; a second writer takes over when the first dies."""

        async def go() -> None:
            fake, listening = self.rippled()
            port = listening.getHost().port
            fake.start(INTERVAL)
            writer = await self.server([port], EtlSettings(num_markers=2))
            await wait_for(lambda: (writer.status.last_committed or 0) >= 20, 30, "first writes")
            reader = await self.server([port], EtlSettings(read_only=True), read_only=True)
            standby = await self.server([port], EtlSettings(takeover_seconds=1.0))
            await wait_for(lambda: (reader.status.last_committed or 0) >= 30, 30, "reader at 30")
            self.assertFalse(standby.status.is_writer)  # type: ignore[attr-defined]
            await writer.stopService()
            await writer.backend.stop()  # type: ignore[attr-defined]
            await wait_for(lambda: standby.status.is_writer, 30, "takeover")
            target = (standby.status.last_committed or 0) + 15
            await wait_for(
                lambda: (reader.status.last_committed or 0) >= target, 30, "reader after takeover"
            )
            self.assertFalse(reader.status.is_writer)  # type: ignore[attr-defined]
            self.assertTrue(reader.cache.full)  # type: ignore[attr-defined]
            await self.check_store(reader.backend, fake, first_loaded(writer), target)  # type: ignore[attr-defined]

        return Deferred.fromCoroutine(go())  # type: ignore[return-value]


class SqliteEtlTests(EtlOverWebSocketMixin, TestCase):
    timeout = 120

    def setUp(self) -> None:
        self.path = os.path.join(self.mktemp() + ".d", "clio.sqlite")
        os.makedirs(os.path.dirname(self.path))

    def make_backend(self, read_only: bool = False) -> IBackend:
        return SqliteBackend(reactor, self.path, read_only=read_only)

    def test_stalled_source_times_out_and_the_other_serves(self) -> Deferred[None]:
        """A source that stops answering (connection open) costs one deadline, then the other serves."""

        async def go() -> None:
            a, la = self.rippled()
            b, lb = self.rippled()
            a.start(INTERVAL)
            b.start(INTERVAL)
            backend = self.make_backend()
            await backend.start()
            service = EtlService(
                [("127.0.0.1", la.getHost().port), ("127.0.0.1", lb.getHost().port)],
                backend,
                reactor,
                EtlSettings(finish_sequence=60, num_markers=2),
                request_timeout=0.5,
            )
            service.startService()
            try:
                await wait_for(
                    lambda: (service.status.last_committed or 0) >= 25, 30, "ledger 25", service
                )
                a.stall()
                await wait_for(
                    lambda: service.status.phase is Phase.FINISHED, 40, "ledger 60", service
                )
                await self.check_store(backend, b, first_loaded(service), 60)
            finally:
                await service.stopService()
                await backend.stop()

        return Deferred.fromCoroutine(go())

    def test_source_of_another_network_is_refused(self) -> Deferred[None]:
        """A source reporting another network_id is never used; the right one is."""

        async def go() -> None:
            chain_a, chain_b = Chain(), Chain()
            start, forged = forged_chain()
            chain_a.append(start)
            chain_b.append(start)
            good = FakeRippled(chain_a, reactor, ReplaySource(forged[:10]), network_id=21337)
            other = FakeRippled(chain_b, reactor, ReplaySource(forged[:10]), network_id=1)
            ports = []
            for fake in (good, other):
                listening = reactor.listenTCP(0, RippledFactory(fake), interface="127.0.0.1")
                self.addCleanup(listening.stopListening)
                self.addCleanup(fake.stop)
                fake.start(INTERVAL)
                ports.append(listening.getHost().port)
            backend = self.make_backend()
            await backend.start()
            service = EtlService(
                [("127.0.0.1", p) for p in ports],
                backend,
                reactor,
                EtlSettings(start_sequence=start.sequence, finish_sequence=forged[9].sequence),
                network_id=21337,
            )
            service.startService()
            try:
                await wait_for(
                    lambda: service.status.phase is Phase.FINISHED, 30, "ledger 10", service
                )
                states = {s["ws_port"]: s for s in service.status.sources()}
                self.assertIsNone(states[str(ports[0])]["refused"])
                refused = states[str(ports[1])]["refused"]
                self.assertIsNotNone(refused)
                self.assertIn("network_id 1", refused)
            finally:
                await service.stopService()
                await backend.stop()

        return Deferred.fromCoroutine(go())


class CassandraEtlTests(EtlOverWebSocketMixin, TestCase):
    """The same scenarios on a real Cassandra (``CLIO_TEST_CASSANDRA=host:port``), one keyspace per test."""

    timeout = 240

    def setUp(self) -> None:
        address = os.environ.get("CLIO_TEST_CASSANDRA", "")
        if not address:
            if os.environ.get("CI", "").lower() == "true":
                self.fail("CLIO_TEST_CASSANDRA must be set in CI")
            raise SkipTest("CLIO_TEST_CASSANDRA is unset (scripts/cassandra start; 127.0.0.1:9042)")
        host, _, port = address.rpartition(":")
        self.host, self.port = host or address, int(port or 9042)
        self.keyspace = f"etl_{uuid.uuid4().hex[:10]}"
        self.addCleanup(lambda: deferToThread(self._drop))

    def _drop(self) -> None:
        from cassandra.cluster import Cluster

        cluster = Cluster([self.host], port=self.port, protocol_version=4, connect_timeout=5)
        try:
            cluster.connect().execute(f"DROP KEYSPACE IF EXISTS {self.keyspace}", timeout=120)
        finally:
            cluster.shutdown()

    def make_backend(self, read_only: bool = False) -> IBackend:
        from clio_twisted.backend.cassandra import CassandraBackend, CassandraSettings

        settings = CassandraSettings(
            contact_points=self.host,
            port=self.port,
            keyspace=self.keyspace,
            replication_factor=1,
            request_timeout=20.0,
        )
        return CassandraBackend(reactor, settings, read_only=read_only)


class WsSourceTests(TestCase):
    """The WebSocket client alone against the fake rippled."""

    timeout = 30

    def test_requests_have_a_deadline_and_reconnect(self) -> Deferred[None]:
        """A stalled rippled costs a request its deadline; after a drop the client reconnects and resubscribes."""

        async def go() -> None:
            fake = replay_server(reactor, start=START)
            listening = reactor.listenTCP(0, RippledFactory(fake), interface="127.0.0.1")
            self.addCleanup(listening.stopListening)
            self.addCleanup(fake.stop)
            seen: list[int] = []
            source = WsSource(
                reactor,
                reactor,
                "127.0.0.1",
                listening.getHost().port,
                on_validated=lambda _s, seq: seen.append(seq),
                initial_delay=0.1,
            )
            source.startService()
            self.addCleanup(source.stopService)
            await wait_for(lambda: source.healthy, 10, "connection")
            self.assertTrue(source.has_ledger(START))
            self.assertEqual(seen, [START])
            result = await source.request({"command": "ledger", "ledger_index": START}, timeout=5)
            self.assertEqual(int(result["ledger_index"]), START)
            fake.stall()
            started = reactor.seconds()
            with self.assertRaises(SourceError) as e:
                await source.request({"command": "ledger", "ledger_index": START}, timeout=0.3)
            self.assertIn("timed out", str(e.exception))
            self.assertLess(reactor.seconds() - started, 2)
            fake.resume()
            fake.drop_all_connections()
            await wait_for(lambda: not source.healthy, 10, "disconnect")
            await wait_for(lambda: source.healthy, 10, "reconnection")
            fake.validate_next()
            await wait_for(lambda: START + 1 in seen, 10, "ledgerClosed after reconnect")
            self.assertTrue(source.has_ledger(START + 1))

        return Deferred.fromCoroutine(go())
