"""ImmutableReads: store reads that never change kept in memory, and answers unchanged behind it."""

from __future__ import annotations

from typing import Any

import attrs
import orjson

from twisted.internet.defer import Deferred
from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.backend.immutable_reads import ImmutableReads
from clio_twisted.backend.interface import (
    LedgerPage,
    LedgerRange,
    TransactionRecord,
    TransactionsPage,
    TxCursor,
)
from clio_twisted.rpc.dispatch import Caller
from clio_twisted.rpc.envelope import answer_http
from clio_twisted.rpc.handlers import account_tx, ledger_data, tx
from tests.rpc.corpus import call, corpus_backend, corpus_context
from tests.rpc.handlers._helpers import ALICE
from tests.rpc.helpers import make_dispatcher

KEY = bytes(range(32))
PAYMENT = "71D2488787BD596661A8A391D34DB2029494DD5DB6F860A9443FB961F5E73159"


class CountingBackend:
    """Counts the reads that reach the store."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)
        if not name.startswith("fetch_"):
            return target

        async def counted(*args: Any) -> Any:
            self.calls.append(name)
            return await target(*args)

        return counted


class FixedBackend:
    """Answers every read with the same thing and counts the reads (the range read aside)."""

    def __init__(self, record: TransactionRecord | None, top: int = 10) -> None:
        self.record = record
        self.top = top
        self.calls = 0

    async def fetch_ledger_range(self) -> LedgerRange:
        return LedgerRange(1, self.top)

    async def fetch_transaction(self, tx_hash: bytes) -> TransactionRecord | None:
        self.calls += 1
        return self.record

    async def fetch_ledger_page(
        self, cursor: bytes | None, sequence: int, limit: int
    ) -> LedgerPage:
        self.calls += 1
        return LedgerPage(objects=[], cursor=None)

    async def fetch_account_transactions(
        self,
        account: bytes,
        limit: int,
        forward: bool,
        cursor: TxCursor | None,
        min_sequence: int,
        max_sequence: int,
    ) -> TransactionsPage:
        self.calls += 1
        return TransactionsPage(transactions=[], cursor=None)


def run(coro: Any) -> Any:
    results: list[Any] = []
    failures: list[Any] = []
    Deferred.fromCoroutine(coro).addCallbacks(results.append, failures.append)
    if failures:
        failures[0].raiseException()
    return results[0]


def _record() -> TransactionRecord:
    record: TransactionRecord = run(corpus_backend().fetch_transaction(bytes.fromhex(PAYMENT)))
    return record


def _reads(inner: Any, max_bytes: int = 32 << 20) -> ImmutableReads:
    """The wrapper, having seen the store's range once (as the dispatcher reads it first)."""
    reads = ImmutableReads(inner, max_bytes=max_bytes)
    run(reads.fetch_ledger_range())
    return reads


class VersionTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.store = CountingBackend(corpus_backend())
        self.cache = ImmutableReads(self.store)  # type: ignore[arg-type]
        self.range = run(self.cache.fetch_ledger_range())
        self.store.calls.clear()

    def test_committed_reads_kept(self) -> None:
        """A header and an object (absent too) at a committed sequence are read from the store once."""
        seq = self.range.max_sequence
        header = run(self.cache.fetch_ledger_by_sequence(seq))
        absent = run(self.cache.fetch_ledger_object(KEY, seq))
        self.assertEqual(run(self.cache.fetch_ledger_by_sequence(seq)), header)
        self.assertIsNone(run(self.cache.fetch_ledger_object(KEY, seq)))
        self.assertIsNone(absent)
        self.assertEqual(self.store.calls, ["fetch_ledger_by_sequence", "fetch_ledger_object"])

    def test_missing_header_not_kept(self) -> None:
        """A header the store does not have (yet) is asked again."""
        for _ in range(2):
            self.assertIsNone(run(self.cache.fetch_ledger_by_sequence(1)))
        self.assertEqual(len(self.store.calls), 2)

    def test_sequences_past_the_range_not_kept(self) -> None:
        """Reads above the newest range seen always go to the store (that ledger may still come)."""
        seq = self.range.max_sequence + 1
        for _ in range(2):
            run(self.cache.fetch_ledger_by_sequence(seq))
            run(self.cache.fetch_ledger_object(KEY, seq))
            run(self.cache.fetch_ledger_objects([KEY], seq))
            run(self.cache.fetch_ledger_page(None, seq, 5))
            run(self.cache.fetch_account_transactions(KEY[:20], 5, False, None, 3, seq))
        self.assertEqual(len(self.store.calls), 10)
        self.assertEqual(len(self.cache), 0)

    def test_batch_reads_fill_and_use_the_memory(self) -> None:
        """fetch_ledger_objects asks the store only for keys it does not hold."""
        seq = self.range.max_sequence
        page = run(self.store.inner.fetch_ledger_page(None, seq, 3))
        keys = [o.key for o in page.objects]
        first = run(self.cache.fetch_ledger_object(keys[0], seq))
        both = run(self.cache.fetch_ledger_objects([keys[0], keys[1], KEY], seq))
        self.assertEqual(both[0], first)
        self.assertIsNotNone(both[1])
        self.assertIsNone(both[2])
        self.assertEqual(run(self.cache.fetch_ledger_objects(keys[:2], seq)), both[:2])
        self.assertEqual(self.store.calls, ["fetch_ledger_object", "fetch_ledger_objects"])

    def test_memory_bound(self) -> None:
        """Past max_bytes the least recently used reads are forgotten."""
        cache = _reads(self.store, max_bytes=2000)
        seq = self.range.max_sequence
        for i in range(40):
            run(cache.fetch_ledger_by_sequence(seq - i))
        self.assertLessEqual(cache.size, 2000)
        self.assertGreater(len(cache), 0)

    def test_every_kind_bounded_in_bytes(self) -> None:
        """Transactions, state pages and history pages stay within max_bytes each, too."""
        cache = _reads(self.store, max_bytes=3000)
        seq = self.range.max_sequence
        hashes = run(self.store.inner.fetch_ledger_transaction_hashes(seq))
        for h in hashes * 2:
            run(cache.fetch_transaction(h))
        for limit in range(1, 30):
            run(cache.fetch_ledger_page(None, seq, limit))
            run(
                cache.fetch_account_transactions(
                    bytes.fromhex("00" * 20), limit, False, None, 3, seq
                )
            )
        for lru in (cache.transactions, cache.ledger_pages, cache.history_pages):
            self.assertLessEqual(lru.size, 3000)
        self.assertGreater(len(cache.ledger_pages), 0)


class TransactionsAndPagesTests(SynchronousTestCase):
    def test_found_transactions_are_kept_missing_ones_not(self) -> None:
        """A found transaction is read once; a missing one is asked again (it may be stored later)."""
        record = _record()
        found, missing = FixedBackend(record), FixedBackend(None)
        found_reads, missing_reads = _reads(found), _reads(missing)
        for _ in range(3):
            self.assertIs(run(found_reads.fetch_transaction(record.hash)), record)
            self.assertIsNone(run(missing_reads.fetch_transaction(record.hash)))
        self.assertEqual((found.calls, missing.calls), (1, 3))

    def test_memory_belongs_to_one_wrapper(self) -> None:
        """Another backend does not see the first one's kept reads."""
        first, second = _reads(FixedBackend(_record())), _reads(FixedBackend(None))
        run(first.fetch_transaction(b"\1" * 32))
        self.assertIsNone(run(second.fetch_transaction(b"\1" * 32)))

    def test_ledger_pages_keyed_by_cursor_sequence_and_limit(self) -> None:
        """The same page is read once; another sequence or limit is read again."""
        backend = FixedBackend(None)
        reads = _reads(backend)
        for _ in range(2):
            run(reads.fetch_ledger_page(None, 5, 10))
        run(reads.fetch_ledger_page(None, 6, 10))
        run(reads.fetch_ledger_page(None, 5, 11))
        self.assertEqual(backend.calls, 3)

    def test_history_pages_keyed_by_every_argument(self) -> None:
        """The same history page is read once; another cursor, direction or bound is read again."""
        backend = FixedBackend(None)
        reads = _reads(backend)
        account = b"\2" * 20
        for _ in range(2):
            run(reads.fetch_account_transactions(account, 5, False, None, 1, 10))
        run(reads.fetch_account_transactions(account, 5, True, None, 1, 10))
        run(reads.fetch_account_transactions(account, 5, False, TxCursor(9, 0), 1, 10))
        run(reads.fetch_account_transactions(account, 5, False, None, 2, 10))
        self.assertEqual(backend.calls, 4)

    def test_pages_above_the_committed_range_not_kept(self) -> None:
        """A page asked for past the newest committed ledger goes to the store every time."""
        backend = FixedBackend(None, top=10)
        reads = _reads(backend)
        for _ in range(2):
            run(reads.fetch_ledger_page(None, 11, 10))
            run(reads.fetch_account_transactions(b"\2" * 20, 5, False, None, 1, 11))
        self.assertEqual((backend.calls, len(reads)), (4, 0))

    def test_other_calls_reach_the_store(self) -> None:
        """Reads it does not keep are the store's own."""
        reads = _reads(corpus_backend())
        self.assertEqual(
            run(reads.fetch_ledger_transaction_hashes(5)),
            run(corpus_backend().fetch_ledger_transaction_hashes(5)),
        )


class SameAnswersTests(SynchronousTestCase):
    def test_answers_unchanged(self) -> None:
        """account_info, ledger, account_tx, ledger_entry, tx, ledger_data answer the same bytes with and without it, twice."""
        bodies = [
            {
                "method": "account_info",
                "params": [{"account": "rKRund6F5oRxLkwLkHx49EN1X42yyAH4gq", "signer_lists": True}],
            },
            {
                "method": "account_info",
                "params": [{"account": "rPT1Sjq2YGrBMTttX4GZHjKu9dyfzbpAYe"}],
            },
            {"method": "ledger", "params": [{"ledger_index": "validated", "transactions": True}]},
            {"method": "account_tx", "params": [{"account": "rKRund6F5oRxLkwLkHx49EN1X42yyAH4gq"}]},
            {"method": "ledger_entry", "params": [{"index": "00" * 32}]},
            {"method": "tx", "params": [{"transaction": PAYMENT}]},
            {"method": "tx", "params": [{"transaction": "AB" * 32}]},
            {"method": "ledger_data", "params": [{"limit": 5}]},
        ]
        plain, _, _ = make_dispatcher(backend=corpus_backend())
        cached, _, _ = make_dispatcher(backend=ImmutableReads(corpus_backend()))  # type: ignore[arg-type]
        caller = Caller(ip="127.0.0.1", is_admin=True)
        for body in bodies:
            raw = orjson.dumps(body)
            want = run(answer_http(plain, raw, caller))
            for _ in range(2):
                self.assertEqual(run(answer_http(cached, raw, caller)), want, body["method"])

    def test_repeated_requests_answer_the_same(self) -> None:
        """tx, account_tx and ledger_data answer identically from memory and from the store."""
        for handler, params in (
            (tx.HANDLER, {"transaction": PAYMENT}),
            (account_tx.HANDLER, {"account": ALICE, "limit": 5}),
            (ledger_data.HANDLER, {"limit": 5}),
        ):
            for version in (1, 2):
                plain = corpus_context(version)
                ctx = attrs.evolve(plain, backend=_reads(plain.backend))
                first = call(handler, params, version, ctx)
                self.assertEqual(call(handler, params, version, ctx), first)
                self.assertEqual(call(handler, params, version), first)
                self.assertGreater(ctx.backend.hits, 0)
