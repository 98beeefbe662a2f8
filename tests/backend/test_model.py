"""Random ledger chains: memory and SQLite answer exactly what the chain model says.

The contract pins chosen cases; this walks random ones (creations, updates,
deletions and re-creations over a small key space, so keys collide often) and
checks every object read, successor walk, page split and diff at every ledger.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Coroutine
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twisted.internet.defer import Deferred
from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.backend.interface import FIRST_KEY, IBackend, LedgerObject
from clio_twisted.backend.sqlite import SqliteBackend
from tests.backend.builders import Chain, delete, key, put
from tests.backend.threadless import ImmediateReactor, ImmediateThreadPool
from tests.fakes.backend import InMemoryBackend

# a ledger: a dict of object number -> new version (None = delete)
ledger_strategy = st.dictionaries(
    st.integers(0, 15), st.one_of(st.none(), st.integers(0, 3)), max_size=8
)
chains = st.lists(ledger_strategy, min_size=1, max_size=6)
probes = st.lists(st.binary(min_size=32, max_size=32), max_size=4)


def _run(coro: Coroutine[Any, Any, Any]) -> Any:
    results: list[Any] = []
    Deferred.fromCoroutine(coro).addBoth(results.append)
    if hasattr(results[0], "raiseException"):
        results[0].raiseException()
    return results[0]


class _ModelChecks:
    make_backend: Callable[[], IBackend]

    def check(
        self, ledgers: list[dict[int, int | None]], probe_keys: list[bytes], limit: int
    ) -> None:
        backend = self.make_backend()
        chain = Chain()
        for changes in ledgers:
            objects = [delete(n) if v is None else put(n, v) for n, v in sorted(changes.items())]
            _run(backend.write_ledger(chain.ledger(objects)))
        for seq, state in chain.history.items():
            live = sorted(state)
            for n in range(16):
                got = _run(backend.fetch_ledger_object(key(n), seq))
                assert got == state.get(key(n)), (seq, n)
            walked, cursor = [], FIRST_KEY
            while (cursor := _run(backend.fetch_successor_key(cursor, seq))) is not None:
                walked.append(cursor)
            assert walked == live, seq
            paged: list[bytes] = []
            page_cursor: bytes | None = None
            while True:
                page = _run(backend.fetch_ledger_page(page_cursor, seq, limit))
                assert all(o.blob == state[o.key] for o in page.objects)
                paged += [o.key for o in page.objects]
                if page.cursor is None:
                    break
                page_cursor = page.cursor
            assert paged == live, seq
            for probe in probe_keys:
                after = [k for k in live if k > probe]
                assert _run(backend.fetch_successor_key(probe, seq)) == (
                    after[0] if after else None
                )
        first = min(chain.history)
        for seq in chain.history:
            if seq == first:
                continue
            diff = _run(backend.fetch_ledger_diff(seq))
            changes = ledgers[seq - first]
            expected = sorted(
                (LedgerObject(key(n), chain.history[seq].get(key(n), b""), seq) for n in changes),
                key=lambda o: o.key,
            )
            assert diff == expected, seq


class MemoryModelTests(_ModelChecks, SynchronousTestCase):
    def make_backend(self) -> IBackend:
        return InMemoryBackend()

    @settings(max_examples=40, deadline=None)
    @given(chains, probes, st.integers(1, 5))
    def test_random_chains(
        self, ledgers: list[dict[int, int | None]], probe_keys: list[bytes], limit: int
    ) -> None:
        """Random chains read back as the model says, in memory."""
        self.check(ledgers, probe_keys, limit)


class SqliteModelTests(_ModelChecks, SynchronousTestCase):
    def make_backend(self) -> IBackend:
        directory = self.mktemp()
        os.makedirs(directory)
        path = os.path.join(directory, f"model-{len(os.listdir(directory))}.sqlite3")
        backend = SqliteBackend(ImmediateReactor(), path, threadpool=ImmediateThreadPool())
        _run(backend.start())
        self.addCleanup(lambda: _run(backend.stop()))
        return backend

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(chains, probes, st.integers(1, 5))
    def test_random_chains(
        self, ledgers: list[dict[int, int | None]], probe_keys: list[bytes], limit: int
    ) -> None:
        """Random chains read back as the model says, from SQLite."""
        self.check(ledgers, probe_keys, limit)
