"""The SQLite backend passes the storage contract, and keeps its own promises."""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Coroutine
from typing import Any

from attrs import evolve
from zope.interface.verify import verifyObject

from twisted.internet.defer import Deferred
from twisted.python.threadpool import ThreadPool
from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.backend.errors import SchemaMissing
from clio_twisted.backend.interface import IBackend, LedgerRange, WriteConflict
from clio_twisted.backend.sqlite import SqliteBackend
from tests.backend.builders import BASE_SEQUENCE as S
from tests.backend.builders import Chain, key, put
from tests.backend.contract import BackendContract
from tests.backend.threadless import ImmediateReactor, ImmediateThreadPool


class SqliteBackendTests(BackendContract, SynchronousTestCase):
    def setUp(self) -> None:
        self.path = os.path.join(self.mktemp() + ".sqlite3")
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self.reactor = ImmediateReactor()
        self.pool = ImmediateThreadPool()
        self.backend = self.open(read_only=False, pool=self.pool)

    def open(self, read_only: bool, pool: ImmediateThreadPool | None = None) -> SqliteBackend:
        backend = SqliteBackend(
            self.reactor, self.path, read_only=read_only, threadpool=pool or ImmediateThreadPool()
        )
        self.drive(backend.start())
        self.addCleanup(lambda: self.drive(backend.stop()))
        return backend

    def open_peer(self, read_only: bool = False) -> SqliteBackend:
        return self.open(read_only)

    def drive(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return self.successResultOf(Deferred.fromCoroutine(coro))

    def test_provides_interface(self) -> None:
        """The SQLite backend provides IBackend as zope.interface checks it."""
        self.assertTrue(verifyObject(IBackend, self.backend))

    def test_calls_go_through_the_pool(self) -> None:
        """Every call runs on the backend's thread pool, and the pool stops with the backend."""
        before = self.pool.calls
        self.drive(self.backend.fetch_ledger_range())
        self.assertEqual(self.pool.calls, before + 1)
        self.drive(self.backend.stop())
        self.assertFalse(self.pool.started)

    def test_data_survives_reopen(self) -> None:
        """A ledger committed to the file is there for the next process that opens it."""
        self.drive(self.backend.write_ledger(Chain().ledger([put(1)])))
        self.drive(self.backend.stop())
        again = self.open(read_only=True)
        self.assertEqual(self.drive(again.fetch_ledger_range()), LedgerRange(S, S))

    def test_read_only_needs_a_schema(self) -> None:
        """A read-only server on a file with no schema fails to start with a clear error."""
        backend = SqliteBackend(
            self.reactor, self.path + ".missing", read_only=True, threadpool=ImmediateThreadPool()
        )
        self.failureResultOf(Deferred.fromCoroutine(backend.start()), SchemaMissing)

    def test_failed_write_leaves_no_rows(self) -> None:
        """A ledger that loses the fence leaves none of its rows behind."""
        chain = Chain()
        self.drive(self.backend.write_ledger(chain.ledger([put(1)])))
        gap = Chain(S + 5).ledger([put(2)])
        failure = self.failureResultOf(
            Deferred.fromCoroutine(self.backend.write_ledger(evolve(gap, is_first=False)))
        )
        failure.trap(WriteConflict)
        self.assertIsNone(self.drive(self.backend.fetch_ledger_object_version(key(2), S + 10)))


class QueueReactor:
    """callFromThread queues the call; the test thread runs the queue (real threads, no reactor)."""

    def __init__(self) -> None:
        self.calls: queue.Queue[tuple[Any, tuple[Any, ...]]] = queue.Queue()

    def callFromThread(self, f: Any, *args: Any) -> None:
        self.calls.put((f, args))


class SqliteRealThreadsTests(SynchronousTestCase):
    def drive(self, reactor: QueueReactor, coro: Coroutine[Any, Any, Any]) -> Any:
        d = Deferred.fromCoroutine(coro)
        results: list[Any] = []
        d.addBoth(results.append)
        while not results:
            f, args = reactor.calls.get(timeout=10)
            f(*args)
        if isinstance(results[0], Exception) or hasattr(results[0], "raiseException"):
            results[0].raiseException()
        return results[0]

    def test_real_thread_pool(self) -> None:
        """On a real pool, sqlite work runs off the calling thread and readers see the writer's commit."""
        path = self.mktemp() + ".sqlite3"
        os.makedirs(os.path.dirname(path), exist_ok=True)
        reactor = QueueReactor()
        pool = ThreadPool(2, 2, "test-sqlite")
        backend = SqliteBackend(reactor, path, threadpool=pool)  # type: ignore[arg-type]
        self.drive(reactor, backend.start())
        try:
            chain = Chain()
            self.drive(reactor, backend.write_ledger(chain.ledger([put(n) for n in range(50)])))
            self.drive(reactor, backend.write_ledger(chain.ledger([put(1, 1)])))
            reads = [backend.fetch_ledger_object(key(1), S + 1) for _ in range(8)]
            got = [self.drive(reactor, r) for r in reads]
            self.assertEqual(got, [chain.history[S + 1][key(1)]] * 8)
            self.assertNotIn(threading.current_thread(), pool.threads)
        finally:
            self.drive(reactor, backend.stop())
        self.assertFalse(any(t.is_alive() for t in pool.threads))
