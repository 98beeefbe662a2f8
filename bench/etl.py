"""ETL benchmark: initial-load rate against the backend's raw write rate, and follow latency.

Everything runs in one process, side by side, so the figures are ratios on
the same machine and disk:

1. raw: ``write_state_objects`` of the whole start state, in pages of 2048,
   straight into a fresh store (the ceiling for any initial load);
2. load: the ETL's initial load of that same ledger from the fake rippled
   over a real WebSocket on 127.0.0.1 (ledger_data binary, parallel ranges);
3. follow: forged ledgers of 200 transactions validated one at a time; the
   time from the fake's ``ledgerClosed`` to the ETL's commit of that ledger;
4. catch-up: many ledgers validated at once, committed at what rate.

    .venv/bin/python bench/etl.py [--accounts 20000] [--ledgers 10] [--backend sqlite|cassandra]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from typing import Any

from twisted.internet import task
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater

from clio_twisted.backend.interface import IBackend, LedgerObject
from clio_twisted.etl.follower import EtlSettings
from clio_twisted.etl.service import EtlService
from clio_twisted.etl.status import Phase
from clio_twisted.testing.chain import Chain
from clio_twisted.testing.fake_rippled import FakeRippled, ReplaySource, RippledFactory
from clio_twisted.testing.forge import Forge, load_fixture_ledger

PAGE = 2048
KEYSPACES: list[str] = []  # made by this run, dropped at its end


def make_backend(reactor: Any, kind: str, read_only: bool = False) -> IBackend:
    if kind == "sqlite":
        from clio_twisted.backend.sqlite import SqliteBackend

        path = os.path.join(tempfile.mkdtemp(prefix="clio-bench-"), "clio.sqlite")
        return SqliteBackend(reactor, path, read_only=read_only)
    from clio_twisted.backend.cassandra import CassandraBackend, CassandraSettings

    host, _, port = os.environ.get("CLIO_TEST_CASSANDRA", "127.0.0.1:9042").rpartition(":")
    KEYSPACES.append(f"bench_{uuid.uuid4().hex[:8]}")
    settings = CassandraSettings(
        contact_points=host or "127.0.0.1",
        port=int(port or 9042),
        keyspace=KEYSPACES[-1],
        replication_factor=1,
        request_timeout=30.0,
    )
    return CassandraBackend(reactor, settings, read_only=read_only)


async def wait_until(reactor: Any, predicate: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit("benchmark timed out")
        await deferLater(reactor, 0.005, lambda: None)


async def bench(reactor: Any, args: argparse.Namespace) -> None:
    forge = Forge(load_fixture_ledger(), seed=11, accounts=args.accounts, txs_per_ledger=200)
    start = forge.start
    forged = [forge.next_ledger() for _ in range(args.ledgers + args.catch_up)]
    objects = [LedgerObject(k, b, start.sequence) for k, b in sorted(start.changes.items()) if b]
    print(
        f"start ledger {start.sequence}: {len(objects)} objects; {len(forged)} ledgers of 200 transactions"
    )

    # 1. the backend's raw write rate
    raw = make_backend(reactor, args.backend)
    await raw.start()
    t0 = time.perf_counter()
    for i in range(0, len(objects), PAGE):
        await raw.write_state_objects(start.sequence, objects[i : i + PAGE])
    raw_seconds = time.perf_counter() - t0
    await raw.stop()
    raw_rate = len(objects) / raw_seconds

    # 2. the ETL's initial load over WebSocket
    chain = Chain()
    chain.append(start)
    fake = FakeRippled(chain, reactor, ReplaySource(forged))
    port = reactor.listenTCP(0, RippledFactory(fake), interface="127.0.0.1")
    closed_at: dict[int, float] = {}
    validate = fake.validate_next

    def validate_and_note() -> Any:
        ledger = validate()
        if ledger is not None:
            closed_at[ledger.sequence] = time.perf_counter()
        return ledger

    fake.validate_next = validate_and_note  # type: ignore[method-assign]
    backend = make_backend(reactor, args.backend)
    await backend.start()
    service = EtlService(
        [("127.0.0.1", port.getHost().port)],
        backend,
        reactor,
        EtlSettings(
            start_sequence=start.sequence,
            finish_sequence=forged[-1].sequence,
            num_markers=args.markers,
            verify_state=not args.no_verify,
        ),
    )
    committed_at: dict[int, float] = {}
    service.etl.add_listener(lambda seq: committed_at.setdefault(seq, time.perf_counter()))
    t0 = time.perf_counter()
    service.startService()
    await wait_until(reactor, lambda: start.sequence in committed_at, 600)
    load_seconds = committed_at[start.sequence] - t0
    load_rate = len(objects) / load_seconds

    # 3. follow: validate one ledger at a time, each after the previous one is committed
    followed, behind = forged[: args.ledgers], forged[args.ledgers :]
    for ledger in followed:
        await deferLater(reactor, 0.05, lambda: None)
        fake.validate_next()
        await wait_until(
            reactor,
            lambda seq=ledger.sequence: seq in committed_at or service.status.phase is Phase.FAILED,
            120,
        )
        if service.status.phase is Phase.FAILED:
            raise SystemExit(f"ETL failed: {service.status.error}")
    latencies = [committed_at[s.sequence] - closed_at[s.sequence] for s in followed]

    # 4. catch up: the network validates many ledgers at once
    t0 = time.perf_counter()
    for _ in behind:
        fake.validate_next()
    if behind:
        await wait_until(reactor, lambda: behind[-1].sequence in committed_at, 600)
    catch_up_seconds = time.perf_counter() - t0
    await service.stopService()
    await backend.stop()
    await port.stopListening()

    print(
        f"backend: {args.backend}; verify_state: {not args.no_verify}; num_markers: {args.markers}"
    )
    print(f"raw write_state_objects:  {raw_rate:10.0f} objects/s ({raw_seconds:.2f} s)")
    print(f"ETL initial load:         {load_rate:10.0f} objects/s ({load_seconds:.2f} s)")
    print(f"initial load / raw write: {load_rate / raw_rate:10.2f}")
    print(
        "validation -> commit, 200-tx ledgers: "
        f"median {1000 * statistics.median(latencies):.0f} ms, "
        f"max {1000 * max(latencies):.0f} ms over {len(latencies)} ledgers"
    )
    if behind:
        print(
            f"catch-up of {len(behind)} 200-tx ledgers: {len(behind) / catch_up_seconds:.1f} ledgers/s "
            f"({catch_up_seconds:.1f} s)"
        )


def drop_keyspaces() -> None:
    """Blocking; after the reactor stopped."""
    if not KEYSPACES:
        return
    from cassandra.cluster import Cluster

    host, _, port = os.environ.get("CLIO_TEST_CASSANDRA", "127.0.0.1:9042").rpartition(":")
    cluster = Cluster([host or "127.0.0.1"], port=int(port or 9042), protocol_version=4)
    try:
        session = cluster.connect()
        for name in KEYSPACES:
            session.execute(f"DROP KEYSPACE IF EXISTS {name}", timeout=120)
    finally:
        cluster.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--accounts", type=int, default=20000, help="extra accounts in the start state"
    )
    parser.add_argument(
        "--ledgers", type=int, default=10, help="forged 200-transaction ledgers to follow"
    )
    parser.add_argument("--catch-up", type=int, default=20, help="ledgers validated at once")
    parser.add_argument("--markers", type=int, default=16, help="initial-load parallel ranges")
    parser.add_argument("--backend", choices=("sqlite", "cassandra"), default="sqlite")
    parser.add_argument("--no-verify", action="store_true", help="skip the account_hash check")
    args = parser.parse_args()
    try:
        task.react(lambda reactor: Deferred.fromCoroutine(bench(reactor, args)))
    finally:
        drop_keyspaces()


if __name__ == "__main__":
    sys.exit(main())
