"""The ETL loop end to end on a fake clock: real rippled 3.1.1 ledgers into the in-memory store."""

from __future__ import annotations

from functools import cache
from random import Random

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.backend.cache import book_base, is_book_directory
from clio_twisted.backend.interface import (
    FIRST_KEY,
    LAST_KEY,
    LedgerRange,
    LedgerWrite,
    WriteConflict,
)
from clio_twisted.etl.follower import Etl, EtlSettings
from clio_twisted.etl.pool import SourcePool
from clio_twisted.etl.status import Phase
from clio_twisted.protocol.ledger_header import LedgerHeader
from clio_twisted.testing.chain import Chain, ChainLedger
from clio_twisted.testing.replay import load_ledgers
from tests.etl.fakes import ChainSource, chain_upto
from tests.fakes.backend import InMemoryBackend, MemoryStore


@cache
def corpus() -> list[ChainLedger]:
    return load_ledgers()


class RecordingBackend(InMemoryBackend):
    """Keeps every LedgerWrite to check what the ETL computed (successor links)."""

    def __init__(self, store: MemoryStore | None = None, read_only: bool = False) -> None:
        super().__init__(store, read_only)
        self.writes: list[LedgerWrite] = []

    async def write_ledger(self, ledger: LedgerWrite) -> None:
        await super().write_ledger(ledger)
        self.writes.append(ledger)


def run(etl: Etl) -> Deferred[None]:
    return Deferred.fromCoroutine(etl.run())


def make(
    chain: Chain,
    validated: int,
    settings: EtlSettings,
    backend: InMemoryBackend,
    sources: list[ChainSource] | None = None,
) -> tuple[Etl, Clock, list[ChainSource]]:
    clock = Clock()
    sources = sources or [ChainSource(chain, "a", validated)]
    pool = SourcePool(sources, clock, rng=Random(1))
    pool.on_validated(sources[0], validated)
    return Etl(pool, backend, clock, settings), clock, sources


def tick(clock: Clock, seconds: int) -> None:
    """Advance the fake clock one second at a time, so each second's timers run before the next."""
    for _ in range(seconds):
        clock.advance(1)


def stored_range(case: SynchronousTestCase, backend: InMemoryBackend) -> LedgerRange:
    """The backend's stored range (the in-memory store answers at once)."""
    rng = case.successResultOf(Deferred.fromCoroutine(backend.fetch_ledger_range()))
    assert rng is not None
    return rng


def twelve_ledgers() -> tuple[Etl, Clock, ChainSource, InMemoryBackend]:
    """An ETL loading ledgers 3-12 from one source that has validated 12, into an empty store."""
    backend = InMemoryBackend()
    etl, clock, (source,) = make(
        chain_upto(corpus(), 12),
        12,
        EtlSettings(start_sequence=3, finish_sequence=12, num_markers=2),
        backend,
    )
    return etl, clock, source, backend


def live_keys(chain: Chain, sequence: int) -> list[bytes]:
    keys: list[bytes] = []
    marker = None
    while True:
        found, marker = chain.page(marker, sequence, 100000)
        keys.extend(k for k, _b in found)
        if marker is None:
            return keys


class IngestTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.last = 270  # the whole corpus: includes 257, whose parent is a multiple of 256
        self.chain = chain_upto(corpus(), self.last)
        self.backend = RecordingBackend()
        self.etl, self.clock, self.sources = make(
            self.chain,
            self.last,
            EtlSettings(start_sequence=3, finish_sequence=self.last, num_markers=4),
            self.backend,
        )

    def ingest(self) -> None:
        d = run(self.etl)
        for _ in range(100):
            if d.called:
                break
            self.clock.advance(1)
        self.successResultOf(d)

    def test_every_object_at_every_ledger_equals_the_source(self) -> None:
        """After load and follow, each stored version equals rippled's at every sequence."""
        self.ingest()
        self.assertIs(self.etl.status.phase, Phase.FINISHED, self.etl.status.error)
        rng = stored_range(self, self.backend)
        self.assertEqual((rng.min_sequence, rng.max_sequence), (3, self.last))
        keys = set()
        for seq in range(3, self.last + 1):
            ledger = self.chain.ledger(seq)
            assert ledger is not None
            keys |= set(ledger.changes)
        for seq in range(3, self.last + 1, 7):
            for key in keys:
                stored = self.successResultOf(
                    Deferred.fromCoroutine(self.backend.fetch_ledger_object(key, seq))
                )
                self.assertEqual(stored, self.chain.object(key, seq), f"{key.hex()} at {seq}")

    def test_transactions_and_headers_are_stored(self) -> None:
        """Every ledger's header and transactions are stored, hash chain intact."""
        self.ingest()
        previous = None
        for seq in range(3, self.last + 1):
            blob = self.successResultOf(
                Deferred.fromCoroutine(self.backend.fetch_ledger_by_sequence(seq))
            )
            header = LedgerHeader.from_bytes(blob)
            ledger = self.chain.ledger(seq)
            assert ledger is not None
            self.assertEqual(header.hash, ledger.hash)
            if previous is not None:
                self.assertEqual(header.parent_hash, previous)
            previous = header.hash
            hashes = self.successResultOf(
                Deferred.fromCoroutine(self.backend.fetch_ledger_transaction_hashes(seq))
            )
            self.assertEqual(hashes, [h for h, _t, _m in ledger.transactions])

    def test_successor_links_rebuild_the_key_order(self) -> None:
        """Replaying the written successor links gives the live key order after every ledger."""
        self.ingest()
        links: dict[bytes, bytes] = {}
        for write in self.backend.writes:
            links.update(write.successors)
            walk = []
            key = links[FIRST_KEY]
            while key != LAST_KEY:
                walk.append(key)
                key = links[key]
            self.assertEqual(
                walk, live_keys(self.chain, write.sequence), f"ledger {write.sequence}"
            )

    def test_book_base_links_point_at_the_first_directory(self) -> None:
        """Each book base links to the lowest book directory of that book."""
        self.ingest()
        links: dict[bytes, bytes] = {}
        for write in self.backend.writes:
            links.update(write.successors)
        firsts: dict[bytes, bytes] = {}
        for key in live_keys(self.chain, self.last):
            blob = self.chain.object(key, self.last)
            assert blob is not None
            if is_book_directory(blob):
                firsts.setdefault(book_base(key), key)
        self.assertGreater(len(firsts), 0)
        for base, first in firsts.items():
            self.assertEqual(links[base], first)

    def test_cache_holds_the_latest_state(self) -> None:
        """The state cache ends equal to the source's latest state, full and at the last sequence."""
        self.ingest()
        cache_ = self.etl.cache
        self.assertTrue(cache_.full)
        self.assertEqual(cache_.latest_sequence, self.last)
        self.assertEqual(list(cache_.keys()), live_keys(self.chain, self.last))
        for key in live_keys(self.chain, self.last):
            self.assertEqual(cache_.get(key, self.last), self.chain.object(key, self.last))


class FailureTests(SynchronousTestCase):
    def test_mismatching_state_is_never_committed(self) -> None:
        """A source that serves a wrong object twice stops the writer before it commits."""
        etl, clock, source, backend = twelve_ledgers()
        original = source.request
        count = {"ledger": 0}

        async def request(cmd, timeout=30.0):  # type: ignore[no-untyped-def]
            if cmd["command"] == "ledger" and cmd["ledger_index"] == 8:
                source.corrupt_objects = 1
                count["ledger"] += 1
            return await original(cmd, timeout)

        source.request = request  # type: ignore[method-assign]
        d = run(etl)
        tick(clock, 20)
        self.successResultOf(d)
        self.assertEqual(stored_range(self, backend).max_sequence, 7)
        self.assertIs(etl.status.phase, Phase.FAILED)
        assert etl.status.error is not None
        self.assertIn("ledger 8", etl.status.error)
        self.assertIn("state hashes", etl.status.error)
        self.assertEqual(count["ledger"], 2)  # refetched once
        healthy, body = etl.status.health()
        self.assertFalse(healthy)
        self.assertIn("error", body)

    def test_undecodable_ledger_stops_as_amendment_blocked(self) -> None:
        """A transaction the codec cannot decode stops the writer, says so, and commits nothing of it."""
        etl, clock, source, backend = twelve_ledgers()
        original = source.request

        async def request(cmd, timeout=30.0):  # type: ignore[no-untyped-def]
            answer = await original(cmd, timeout)
            if cmd["command"] == "ledger" and cmd["ledger_index"] == 9:
                for tx in answer["ledger"]["transactions"]:
                    tx["meta"] = "E0" + tx["meta"]  # an unknown field code in front
            return answer

        source.request = request  # type: ignore[method-assign]
        d = run(etl)
        tick(clock, 10)
        self.successResultOf(d)
        self.assertIs(etl.status.phase, Phase.FAILED)
        self.assertTrue(etl.status.amendment_blocked)
        self.assertEqual(stored_range(self, backend).max_sequence, 8)

    def test_one_bad_answer_is_refetched(self) -> None:
        """A single wrong object is caught, refetched, and the right ledger committed."""
        etl, clock, source, backend = twelve_ledgers()
        original = source.request
        armed = [True]

        async def request(cmd, timeout=30.0):  # type: ignore[no-untyped-def]
            if cmd["command"] == "ledger" and cmd["ledger_index"] == 8 and armed[0]:
                armed[0] = False
                source.corrupt_objects = 1
            return await original(cmd, timeout)

        source.request = request  # type: ignore[method-assign]
        d = run(etl)
        tick(clock, 20)
        self.successResultOf(d)
        self.assertIs(etl.status.phase, Phase.FINISHED)
        self.assertEqual(stored_range(self, backend).max_sequence, 12)

    def test_source_dropping_mid_ledger_is_replaced(self) -> None:
        """When one source drops in the middle of a ledger, the other serves the rest."""
        chain = chain_upto(corpus(), 40)
        a = ChainSource(chain, "a", 40)
        b = ChainSource(chain, "b", 40)
        a.fail_after = 150
        backend = InMemoryBackend()
        etl, clock, _ = make(
            chain,
            40,
            EtlSettings(start_sequence=3, finish_sequence=40, num_markers=2),
            backend,
            sources=[a, b],
        )
        d = run(etl)
        tick(clock, 50)
        self.successResultOf(d)
        self.assertFalse(a.up)
        self.assertGreater(len(b.requests), 0)
        self.assertIs(etl.status.phase, Phase.FINISHED, etl.status.error)
        self.assertEqual(stored_range(self, backend).max_sequence, 40)

    def test_waits_for_sources_and_catches_up(self) -> None:
        """With no source holding the next ledger, nothing is written; once it appears, ingestion resumes."""
        chain = chain_upto(corpus(), 30)
        backend = InMemoryBackend()
        etl, clock, (source,) = make(
            chain, 10, EtlSettings(start_sequence=3, finish_sequence=30, num_markers=2), backend
        )
        d = run(etl)
        clock.advance(5)
        self.assertEqual(stored_range(self, backend).max_sequence, 10)
        source.up = False
        source.validated = 30
        etl.pool.on_validated(source, 30)
        clock.advance(5)
        self.assertEqual(stored_range(self, backend).max_sequence, 10)
        source.up = True
        tick(clock, 10)
        self.successResultOf(d)
        self.assertEqual(stored_range(self, backend).max_sequence, 30)


class PrefetchTests(SynchronousTestCase):
    def test_catching_up_fetches_ahead_and_commits_in_order(self) -> None:
        """Behind the network, the next ledgers are fetched before the current one commits; commits stay in order."""
        chain = chain_upto(corpus(), 30)
        backend = InMemoryBackend()
        etl, clock, (source,) = make(
            chain,
            30,
            EtlSettings(start_sequence=3, finish_sequence=30, num_markers=2, prefetch=4),
            backend,
        )
        asked_at_commit: dict[int, int] = {}
        committed: list[int] = []

        def on_commit(seq: int) -> None:
            committed.append(seq)
            asked = [c["ledger_index"] for c in source.requests if c["command"] == "ledger"]
            asked_at_commit[seq] = max(asked)

        etl.add_listener(on_commit)
        d = run(etl)
        tick(clock, 30)
        self.successResultOf(d)
        self.assertEqual(committed, list(range(3, 31)))
        self.assertEqual(asked_at_commit[10], 13)
        self.assertEqual(asked_at_commit[29], 30)  # never past the network's validated ledger


class WriterElectionTests(SynchronousTestCase):
    def test_reader_follows_then_takes_over_without_gap(self) -> None:
        """A second server reads while the writer writes, then takes over when it goes silent."""
        chain = chain_upto(corpus(), 60)
        store = MemoryStore()
        source = ChainSource(chain, "a", 20)
        writer, clock, _ = make(
            chain,
            20,
            EtlSettings(start_sequence=3, num_markers=2),
            InMemoryBackend(store),
            [source],
        )
        reader_pool = SourcePool([source], clock, rng=Random(2))
        reader_pool.on_validated(source, 20)
        reader = Etl(reader_pool, InMemoryBackend(store), clock, EtlSettings(takeover_seconds=10.0))
        wd = run(writer)
        clock.advance(1)
        rd = run(reader)
        clock.advance(1)
        self.assertEqual(reader.status.last_committed, 20)
        self.assertIs(reader.status.phase, Phase.READING)
        # the writer keeps writing: the reader follows and never writes
        for upto in range(21, 41):
            source.validated = upto
            writer.pool.on_validated(source, upto)
            reader_pool.on_validated(source, upto)
            clock.advance(2)
        self.assertEqual(reader.status.last_committed, 40)
        self.assertFalse(reader.status.is_writer)
        self.assertTrue(reader.cache.full)
        # the writer dies; new ledgers keep being validated
        writer.stop()
        clock.advance(1)
        self.successResultOf(wd)
        for upto in range(41, 61):
            source.validated = upto
            reader_pool.on_validated(source, upto)
            clock.advance(1)
        clock.advance(15)
        self.assertTrue(reader.status.is_writer)
        self.assertEqual(reader.status.last_committed, 60)
        rng = store.range
        assert rng is not None
        self.assertEqual((rng.min_sequence, rng.max_sequence), (3, 60))
        for seq in range(4, 61):
            header = LedgerHeader.from_bytes(store.headers[seq])
            self.assertEqual(header.hash, chain.ledger(seq).hash)  # type: ignore[union-attr]
            self.assertEqual(
                header.parent_hash, LedgerHeader.from_bytes(store.headers[seq - 1]).hash
            )
        # and the new writer's cache matches the source's state
        self.assertEqual(list(reader.cache.keys()), live_keys(chain, 60))
        reader.stop()
        clock.advance(1)
        self.successResultOf(rd)

    def test_lost_fence_makes_a_reader_that_later_takes_over(self) -> None:
        """A WriteConflict turns the writer into a reader; with the store silent it takes over again, no gap."""
        chain = chain_upto(corpus(), 20)

        class FencedOnce(RecordingBackend):
            conflicts = 0

            async def write_ledger(self, ledger: LedgerWrite) -> None:
                if ledger.sequence == 11 and not self.conflicts:
                    self.conflicts += 1
                    raise WriteConflict("another writer holds the fence")
                await super().write_ledger(ledger)

        backend = FencedOnce()
        etl, clock, _ = make(
            chain,
            20,
            EtlSettings(start_sequence=3, finish_sequence=20, num_markers=2, takeover_seconds=5),
            backend,
        )
        phases: list[tuple[int, bool]] = []
        etl.add_listener(lambda seq: phases.append((seq, etl.status.is_writer)))
        d = run(etl)
        clock.advance(1)
        self.assertEqual(backend.conflicts, 1)
        self.assertFalse(etl.status.is_writer)
        self.assertIs(etl.status.phase, Phase.READING)
        self.assertEqual(backend.store.range.max_sequence, 10)  # type: ignore[union-attr]
        tick(clock, 10)
        self.successResultOf(d)
        self.assertEqual([seq for seq, _w in phases], list(range(3, 21)))
        self.assertEqual(backend.store.range.max_sequence, 20)  # type: ignore[union-attr]
        # the links written after the takeover still rebuild the key order of every ledger
        links: dict[bytes, bytes] = {}
        for write in backend.writes:
            links.update(write.successors)
            walk, key = [], links[FIRST_KEY]
            while key != LAST_KEY:
                walk.append(key)
                key = links[key]
            self.assertEqual(walk, live_keys(chain, write.sequence), f"ledger {write.sequence}")
        self.assertEqual(list(etl.cache.keys()), live_keys(chain, 20))

    def test_read_only_server_never_writes(self) -> None:
        """A read_only server follows the store and never becomes a writer, however silent it is."""
        chain = chain_upto(corpus(), 15)
        store = MemoryStore()
        source = ChainSource(chain, "a", 15)
        writer, clock, _ = make(
            chain,
            10,
            EtlSettings(start_sequence=3, finish_sequence=10, num_markers=2),
            InMemoryBackend(store),
            [source],
        )
        self.successResultOf(run(writer))
        pool = SourcePool([source], clock)
        pool.on_validated(source, 15)
        reader = Etl(
            pool,
            InMemoryBackend(store, read_only=True),
            clock,
            EtlSettings(read_only=True, takeover_seconds=1),
        )
        d = run(reader)
        clock.advance(60)
        self.assertFalse(reader.status.is_writer)
        self.assertEqual(store.range.max_sequence, 10)  # type: ignore[union-attr]
        self.assertEqual(reader.status.last_committed, 10)
        self.assertTrue(reader.cache.full)
        reader.stop()
        clock.advance(1)
        self.successResultOf(d)

    def test_initial_load_uses_the_network_latest_by_default(self) -> None:
        """Without start_sequence, the newest validated ledger is loaded first."""
        chain = chain_upto(corpus(), 25)
        backend = InMemoryBackend()
        etl, clock, _ = make(chain, 25, EtlSettings(finish_sequence=25, num_markers=3), backend)
        self.successResultOf(run(etl))
        rng = stored_range(self, backend)
        self.assertEqual((rng.min_sequence, rng.max_sequence), (25, 25))
        self.assertEqual(etl.status.load.objects, len(live_keys(chain, 25)))  # type: ignore[union-attr]
