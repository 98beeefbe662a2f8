"""Stopping a backend while reads are in flight: they finish (or fail) cleanly before anything closes."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from twisted.internet.defer import CancelledError, Deferred
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool
from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.backend._threads import ThreadRunner
from clio_twisted.backend.cassandra import _STATEMENTS, CassandraBackend, CassandraSettings
from clio_twisted.backend.interface import LedgerRange
from clio_twisted.backend.sqlite import SqliteBackend
from tests.backend.builders import BASE_SEQUENCE as S
from tests.backend.builders import Chain, key, put
from tests.backend.test_cassandra import FakeSession, ThreadQueueClock
from tests.backend.test_sqlite import QueueReactor
from tests.backend.threadless import ImmediateReactor, ImmediateThreadPool


class HeldThreadPool:
    """A pool whose 'threads' run a call only when the test releases it (oldest first)."""

    def __init__(self) -> None:
        self.started = False
        self.held: list[tuple[Callable[[bool, Any], object], Callable[..., Any], tuple[Any, ...]]]
        self.held = []

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.started = False

    def callInThreadWithCallback(
        self, onResult: Callable[[bool, Any], object], func: Callable[..., Any], *args: Any
    ) -> None:
        assert self.started, "call on a pool that is not running"
        self.held.append((onResult, func, args))

    def release(self) -> str:
        """Run the oldest held call; returns its function's name."""
        onResult, func, args = self.held.pop(0)
        try:
            result = func(*args)
        except BaseException:
            onResult(False, Failure())
        else:
            onResult(True, result)
        return getattr(func, "__name__", "?")


class SqliteStopTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.path = self.mktemp() + ".sqlite3"
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self.pool = HeldThreadPool()
        self.backend = SqliteBackend(ImmediateReactor(), self.path, threadpool=self.pool)
        started = Deferred.fromCoroutine(self.backend.start())
        self.pool.release()
        self.successResultOf(started)
        written = Deferred.fromCoroutine(self.backend.write_ledger(Chain().ledger([put(1)])))
        self.pool.release()
        self.successResultOf(written)

    def test_read_in_flight_finishes_before_close(self) -> None:
        """stop() waits for a read still on its thread; the read gets its answer, then the connections close."""
        read = Deferred.fromCoroutine(self.backend.fetch_ledger_range())
        stopped = Deferred.fromCoroutine(self.backend.stop())
        self.assertNoResult(stopped)
        self.assertEqual(len(self.pool.held), 1, "close must not be queued beside the read")
        self.assertEqual(self.pool.release(), "_in_reader")
        self.assertEqual(self.successResultOf(read), LedgerRange(S, S))
        self.assertEqual(self.pool.release(), "_close")
        self.successResultOf(stopped)
        self.assertFalse(self.pool.started)

    def test_new_work_refused_while_stopping(self) -> None:
        """Once stop() has begun, a new read fails at once instead of reaching a closing connection."""
        read = Deferred.fromCoroutine(self.backend.fetch_ledger_object(key(1), S))
        stopped = Deferred.fromCoroutine(self.backend.stop())
        late = Deferred.fromCoroutine(self.backend.fetch_ledger_range())
        self.failureResultOf(late, RuntimeError)
        self.assertEqual(len(self.pool.held), 1)
        self.pool.release()
        self.assertIsNotNone(self.successResultOf(read))
        self.pool.release()
        self.successResultOf(stopped)

    def test_cancelled_read_still_waited_for(self) -> None:
        """A read whose caller gave up is still running on its thread: stop() waits for the thread."""
        read = Deferred.fromCoroutine(self.backend.fetch_ledger_range())
        read.cancel()
        self.failureResultOf(read, CancelledError)
        stopped = Deferred.fromCoroutine(self.backend.stop())
        self.assertNoResult(stopped)
        self.assertEqual(self.pool.release(), "_in_reader")  # its result goes nowhere, quietly
        self.assertEqual(self.pool.release(), "_close")
        self.successResultOf(stopped)

    def test_failed_read_does_not_block_stop(self) -> None:
        """A read that raises on its thread counts as finished."""
        read = Deferred.fromCoroutine(self.backend._read(lambda conn: 1 // 0))
        stopped = Deferred.fromCoroutine(self.backend.stop())
        self.pool.release()
        self.failureResultOf(read, ZeroDivisionError)
        self.assertEqual(self.pool.release(), "_close")
        self.successResultOf(stopped)


class SqliteStopRealThreadsTests(SynchronousTestCase):
    def drive(self, reactor: QueueReactor, d: Deferred[Any]) -> list[Any]:
        results: list[Any] = []
        d.addBoth(results.append)
        while not results:
            f, args = reactor.calls.get(timeout=10)
            f(*args)
        return results

    def test_stop_under_concurrent_reads(self) -> None:
        """On a real pool, stop() called with many reads queued lets each finish with its answer."""
        path = self.mktemp() + ".sqlite3"
        os.makedirs(os.path.dirname(path), exist_ok=True)
        reactor = QueueReactor()
        pool = ThreadPool(4, 4, "test-sqlite-stop")
        backend = SqliteBackend(reactor, path, threadpool=pool)  # type: ignore[arg-type]
        self.drive(reactor, Deferred.fromCoroutine(backend.start()))
        chain = Chain()
        self.drive(
            reactor,
            Deferred.fromCoroutine(backend.write_ledger(chain.ledger([put(n) for n in range(40)]))),
        )
        reads = [Deferred.fromCoroutine(backend.fetch_ledger_page(None, S, 40)) for _ in range(32)]
        answers: list[Any] = []
        for r in reads:
            r.addBoth(answers.append)
        self.drive(reactor, Deferred.fromCoroutine(backend.stop()))
        self.assertEqual(len(answers), 32, "stop() fired before every read answered")
        self.assertTrue(all(len(a.objects) == 40 for a in answers), answers[:1])
        self.assertFalse(any(t.is_alive() for t in pool.threads))


class CassandraStopTests(SynchronousTestCase):
    def test_stop_waits_for_reads_the_driver_has_not_answered(self) -> None:
        """The cluster shuts down only after the driver answered every statement sent; new ones are refused."""
        clock = ThreadQueueClock()
        backend = CassandraBackend(clock, CassandraSettings())
        session = FakeSession()
        backend._session = session
        backend._prepared = {name: name for name in _STATEMENTS}
        shutdowns: list[bool] = []

        class Cluster:
            def shutdown(self) -> None:
                shutdowns.append(True)

        backend._cluster = Cluster()
        backend._threads = ThreadRunner(clock, "test", pool=ImmediateThreadPool())
        backend._threads.start()
        read = Deferred.fromCoroutine(backend.fetch_ledger_object(key(1), S))
        stopped = Deferred.fromCoroutine(backend.stop())
        self.assertNoResult(stopped)
        self.failureResultOf(
            Deferred.fromCoroutine(backend.fetch_ledger_object(key(2), S)), RuntimeError
        )
        self.assertEqual(len(session.sent), 1)
        session.sent[0][2].callbacks[0][0]([(S, b"blob")])
        clock.turn()
        self.assertEqual(self.successResultOf(read), b"blob")
        clock.turn()  # the shutdown's result comes back through callFromThread
        self.successResultOf(stopped)
        self.assertEqual(shutdowns, [True])
