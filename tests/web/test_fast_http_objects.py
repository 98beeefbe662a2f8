"""VersionCache: immutable store reads kept in memory, and answers unchanged behind it."""

from __future__ import annotations

from typing import Any

import orjson

from twisted.internet.defer import Deferred
from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.rpc.dispatch import Caller
from clio_twisted.rpc.envelope import answer_http
from clio_twisted.web._fast_objects import VersionCache
from tests.rpc.corpus import corpus_backend
from tests.rpc.helpers import make_dispatcher

KEY = bytes(range(32))


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


def run(coro: Any) -> Any:
    results: list[Any] = []
    failures: list[Any] = []
    Deferred.fromCoroutine(coro).addCallbacks(results.append, failures.append)
    if failures:
        failures[0].raiseException()
    return results[0]


class VersionCacheTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.store = CountingBackend(corpus_backend())
        self.cache = VersionCache(self.store)  # type: ignore[arg-type]
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

    def test_sequences_past_the_range_not_kept(self) -> None:
        """Reads above the newest range seen always go to the store (that ledger may still come)."""
        seq = self.range.max_sequence + 1
        for _ in range(2):
            run(self.cache.fetch_ledger_by_sequence(seq))
            run(self.cache.fetch_ledger_object(KEY, seq))
        self.assertEqual(len(self.store.calls), 4)
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
        self.cache.max_bytes = 2000
        seq = self.range.max_sequence
        for i in range(40):
            run(self.cache.fetch_ledger_by_sequence(seq - i))
        self.assertLessEqual(self.cache.size, 2000)
        self.assertGreater(len(self.cache), 0)


class SameAnswersTests(SynchronousTestCase):
    def test_answers_unchanged(self) -> None:
        """account_info, ledger, account_tx and ledger_entry answer the same bytes with and without it, twice."""
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
        ]
        plain, _, _ = make_dispatcher(backend=corpus_backend())
        cached, _, _ = make_dispatcher(backend=VersionCache(corpus_backend()))  # type: ignore[arg-type]
        caller = Caller(ip="127.0.0.1", is_admin=True)
        for body in bodies:
            raw = orjson.dumps(body)
            want = run(answer_http(plain, raw, caller))
            for _ in range(2):
                self.assertEqual(run(answer_http(cached, raw, caller)), want, body["method"])
