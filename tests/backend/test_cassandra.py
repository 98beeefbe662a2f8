"""The Cassandra backend passes the storage contract against a real node.

Needs ``CLIO_TEST_CASSANDRA=host:port`` (``make test`` starts a node with
``scripts/cassandra start`` and sets it). Unset: the suite is skipped with a
reason, except under ``CI=true`` where that is a failure. Set but unreachable:
a failure. One keyspace per test class (made by its first test, schema created
by the first backend start, dropped at exit); tables are truncated between
tests (fast, unlike DDL).

These are integration tests: they run on the global reactor with real sockets.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Coroutine
from typing import Any

from zope.interface.verify import verifyObject

from twisted.internet import reactor
from twisted.internet.defer import Deferred, ensureDeferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase, TestCase

from clio_twisted.backend.cassandra import _STATEMENTS, CassandraBackend, CassandraSettings
from clio_twisted.backend.errors import SchemaMissing
from clio_twisted.backend.interface import IBackend, LedgerRange, TooBusy
from tests.backend.builders import BASE_SEQUENCE as S
from tests.backend.builders import Chain, key, put
from tests.backend.contract import BackendContract

ADDRESS = os.environ.get("CLIO_TEST_CASSANDRA", "")
IN_CI = os.environ.get("CI", "").lower() == "true"
SKIP_REASON = (
    "CLIO_TEST_CASSANDRA is unset (run scripts/cassandra start and set it to 127.0.0.1:9042)"
)


def _host_port() -> tuple[str, int]:
    host, _, port = ADDRESS.rpartition(":")
    return (host or ADDRESS), int(port or 9042)


class _Keyspace:
    """A keyspace for one test class: truncated between tests, dropped at the end (blocking, test-only)."""

    def __init__(self, prefix: str) -> None:
        from cassandra.cluster import Cluster

        host, port = _host_port()
        self.name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        self.cluster = Cluster([host], port=port, protocol_version=4, connect_timeout=5)
        self.session = self.cluster.connect()

    def settings(self, **overrides: Any) -> CassandraSettings:
        host, port = _host_port()
        values: dict[str, Any] = {
            "contact_points": host,
            "port": port,
            "keyspace": self.name,
            "replication_factor": 1,
            "request_timeout": 20.0,
        }
        values.update(overrides)
        return CassandraSettings(**values)

    def truncate(self) -> None:
        meta = self.cluster.metadata.keyspaces.get(self.name)
        if meta is None:
            self.cluster.refresh_schema_metadata()
            meta = self.cluster.metadata.keyspaces.get(self.name)
        for table in list(meta.tables) if meta is not None else ():
            self.session.execute(f"TRUNCATE {self.name}.{table}", timeout=60)

    def drop_stale(self) -> None:
        """Drop test keyspaces left by earlier runs whose process is gone."""
        for name in list(self.cluster.metadata.keyspaces):
            parts = name.split("_")
            if name.startswith("clio_test_") and len(parts) >= 4 and parts[2].isdigit():
                pid = int(parts[2])
                if pid != os.getpid() and not os.path.exists(f"/proc/{pid}"):
                    self.session.execute(f"DROP KEYSPACE IF EXISTS {name}", timeout=120)

    def drop(self) -> None:
        try:
            self.session.execute(f"DROP KEYSPACE IF EXISTS {self.name}", timeout=120)
        finally:
            self.cluster.shutdown()


class CassandraCase(TestCase):
    """Base: one keyspace per class; ``open_backend`` starts backends stopped at cleanup."""

    keyspace: _Keyspace | None = None
    remaining = 0
    timeout = 120

    if not ADDRESS and not IN_CI:
        skip = SKIP_REASON

    def setUp(self) -> Any:
        if not ADDRESS:
            self.fail(
                "CI=true but CLIO_TEST_CASSANDRA is unset: the Cassandra suite must run in CI"
            )
        cls = type(self)
        if cls.__dict__.get("keyspace") is None:
            # trial has no setUpClass/tearDownClass: the first test of a class makes
            # its keyspace, the last one drops it (a run of only some tests leaves one
            # behind, which the next run drops: the name carries the pid)
            cls.keyspace = _Keyspace(f"clio_test_{os.getpid()}")
            cls.keyspace.drop_stale()
            cls.remaining = len([n for n in dir(cls) if n.startswith("test_")])
        else:
            cls.keyspace.truncate()
        self.addCleanup(self._maybe_drop)

    def _maybe_drop(self) -> None:
        cls = type(self)
        cls.remaining -= 1
        if cls.remaining == 0 and cls.keyspace is not None:
            cls.keyspace.drop()
            cls.keyspace = None

    async def open_backend(self, read_only: bool = False, **overrides: Any) -> CassandraBackend:
        assert self.keyspace is not None
        backend = CassandraBackend(
            reactor, self.keyspace.settings(**overrides), read_only=read_only
        )
        await backend.start()
        self.addCleanup(lambda: ensureDeferred(backend.stop()))
        return backend


class CassandraContractTests(BackendContract, CassandraCase):
    def setUp(self) -> Any:
        super().setUp()
        return ensureDeferred(self._open())

    async def _open(self) -> None:
        self.backend = await self.open_backend()
        self.peers: list[CassandraBackend] = []

    def open_peer(self, read_only: bool = False) -> IBackend:
        # Cassandra backends start asynchronously: the tests that need a peer are
        # rewrapped below (_peer_test) to start one first and hand it out here.
        raise AssertionError("no peer was opened for this test")

    def drive(self, coro: Coroutine[Any, Any, Any]) -> Deferred[Any]:
        return Deferred.fromCoroutine(coro)

    def test_provides_interface(self) -> None:
        """The Cassandra backend provides IBackend as zope.interface checks it."""
        self.assertTrue(verifyObject(IBackend, self.backend))


def _peer_test(name: str, read_only: bool = False) -> Any:
    body = getattr(BackendContract, name)

    def test(self: CassandraContractTests) -> Deferred[Any]:
        async def run() -> None:
            peer = await self.open_backend(read_only=read_only)
            self.open_peer = lambda read_only=False: peer  # type: ignore[method-assign]
            await body(self)

        return Deferred.fromCoroutine(run())

    test.__doc__ = body.__doc__
    test.__name__ = name
    return test


# Contract bodies return whatever drive() returns; the ones needing a peer are
# rewrapped so the peer is started (asynchronously) before the body runs.
for _name, _ro in [
    ("test_two_writers_one_conflicts", False),
    ("test_concurrent_writers_exactly_one_wins", False),
    ("test_peer_takes_over_after_writer_stops", False),
    ("test_read_only_backend_does_not_write", True),
]:
    setattr(CassandraContractTests, _name, _peer_test(_name, _ro))


class CassandraStartTests(CassandraCase):
    def test_read_only_needs_schema(self) -> Deferred[Any]:
        """A read-only server on a keyspace without the schema fails to start, naming the keyspace."""

        async def run() -> None:
            settings = self.keyspace.settings(keyspace="clio_absent_" + uuid.uuid4().hex[:8])  # type: ignore[union-attr]
            backend = CassandraBackend(reactor, settings, read_only=True)
            try:
                await backend.start()
            except SchemaMissing as e:
                self.assertIn(settings.keyspace, str(e))
            else:
                await backend.stop()
                self.fail("read-only start created or accepted a missing schema")

        return Deferred.fromCoroutine(run())

    def test_too_busy(self) -> Deferred[Any]:
        """Reads over max_read_requests_outstanding are refused with TooBusy."""

        async def run() -> None:
            backend = await self.open_backend(max_read_requests_outstanding=2)
            first = Deferred.fromCoroutine(backend.fetch_ledger_object(key(1), S))
            second = Deferred.fromCoroutine(backend.fetch_ledger_object(key(2), S))
            self.assertTrue(backend.is_too_busy())
            with self.assertRaises(TooBusy):
                await backend.fetch_ledger_object(key(3), S)
            await first
            await second
            self.assertFalse(backend.is_too_busy())

        return Deferred.fromCoroutine(run())

    def test_table_prefix(self) -> Deferred[Any]:
        """Two prefixes in one keyspace are two independent stores."""

        async def run() -> None:
            plain = await self.open_backend()
            prefixed = await self.open_backend(table_prefix="other_")
            await plain.write_ledger(Chain().ledger([put(1)]))
            self.assertEqual(await plain.fetch_ledger_range(), LedgerRange(S, S))
            self.assertIsNone(await prefixed.fetch_ledger_range())

        return Deferred.fromCoroutine(run())


class FakeFuture:
    """A ResponseFuture stand-in: the test fires its callbacks as the driver's thread would."""

    def __init__(self) -> None:
        self.callbacks: list[tuple[Any, Any]] = []

    def add_callbacks(self, ok: Any, err: Any) -> None:
        self.callbacks.append((ok, err))


class ThreadQueueClock(Clock):
    """callFromThread only queues: nothing runs until the 'reactor' turns."""

    def __init__(self) -> None:
        super().__init__()
        self.queued: list[tuple[Any, tuple[Any, ...]]] = []

    def callFromThread(self, f: Any, *args: Any) -> None:
        self.queued.append((f, args))

    def turn(self) -> None:
        queued, self.queued = self.queued, []
        for f, args in queued:
            f(*args)


class FakeSession:
    def __init__(self) -> None:
        self.sent: list[tuple[Any, Any, FakeFuture]] = []

    def execute_async(self, statement: Any, params: Any) -> FakeFuture:
        future = FakeFuture()
        self.sent.append((statement, params, future))
        return future


class BridgeTests(SynchronousTestCase):
    """The future-to-Deferred bridge and the bounds, without a cluster."""

    def make(self, **overrides: Any) -> tuple[CassandraBackend, FakeSession, ThreadQueueClock]:
        clock = ThreadQueueClock()
        backend = CassandraBackend(clock, CassandraSettings(**overrides))
        session = FakeSession()
        backend._session = session
        backend._prepared = {name: name for name in _STATEMENTS}
        return backend, session, clock

    def test_results_arrive_on_the_reactor_turn(self) -> None:
        """Rows from the driver's thread reach the awaiting code only through callFromThread."""
        backend, session, clock = self.make()
        d = Deferred.fromCoroutine(backend.fetch_ledger_object(key(1), S))
        statement, params, future = session.sent[0]
        self.assertEqual((statement, params), ("object", (key(1), S)))
        future.callbacks[0][0]([(S, b"blob")])
        self.assertNoResult(d)
        clock.turn()
        self.assertEqual(self.successResultOf(d), b"blob")

    def test_read_timeout_is_database_timeout(self) -> None:
        """A driver timeout on a read surfaces as DatabaseTimeout."""
        from cassandra import OperationTimedOut

        from clio_twisted.backend.interface import DatabaseTimeout

        backend, session, clock = self.make()
        d = Deferred.fromCoroutine(backend.fetch_ledger_object(key(1), S))
        session.sent[0][2].callbacks[0][1](OperationTimedOut("slow"))
        clock.turn()
        self.failureResultOf(d, DatabaseTimeout)
        self.assertFalse(backend.is_too_busy())

    def test_write_timeout_is_retried(self) -> None:
        """A write that times out is sent again after a backoff, and then succeeds."""
        from cassandra import WriteTimeout

        backend, session, clock = self.make()
        d = Deferred.fromCoroutine(backend._write("object_insert", key(1), S, b"x"))
        session.sent[0][2].callbacks[0][1](WriteTimeout("slow", write_type=0))
        clock.turn()
        self.assertEqual(len(session.sent), 1)
        clock.advance(1)
        self.assertEqual(len(session.sent), 2)
        session.sent[1][2].callbacks[0][0]([])
        clock.turn()
        self.assertEqual(self.successResultOf(d), [])

    def test_writes_in_flight_are_bounded(self) -> None:
        """No more than max_write_requests_outstanding writes are sent before one completes."""
        backend, session, clock = self.make(max_write_requests_outstanding=3)
        objects = [(key(n), b"x") for n in range(10)]
        writes = [("object_insert", (k, S, b)) for k, b in objects]
        d = Deferred.fromCoroutine(backend._write_all(writes))
        self.assertEqual(len(session.sent), 3)
        while len(session.sent) < 10 or any(f.callbacks for _, _, f in session.sent):
            pending = [f for _, _, f in session.sent if f.callbacks]
            self.assertLessEqual(len(pending), 3)
            for future in pending:
                ok, _ = future.callbacks.pop()
                ok([])
            clock.turn()
        self.assertEqual(len(session.sent), 10)
        self.successResultOf(d)
