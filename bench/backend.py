"""Storage speed beside the raw driver, on real ledger blobs, in one run.

For each backend (SQLite always; Cassandra when ``--cassandra host:port`` or
``CLIO_TEST_CASSANDRA`` is given) this writes and reads:

- state objects: the 261 real objects of mainnet ledger 38129 (the project's
  copy in clio_twisted/testing/data, encoded to binary with our codec),
  repeated under fresh keys up to ``--objects``;
- transactions: the 90 real transactions (with metadata) of mainnet ledger
  90150378 (../shared/fixtures), repeated under fresh hashes in ledgers of 90,
  with one account_tx row each, up to ``--txs``;

and prints rows/s through the backend next to the same statements issued
directly (sqlite3 ``executemany`` in one transaction per chunk; cassandra-driver
``execute_concurrent_with_args``), with the ratio backend/raw; then reads of
random objects both ways. Storage: bytes per stored object version against the
mean binary size of the objects -- SQLite's file pages in use; for Cassandra
(a node of scripts/cassandra on this machine) the SSTables of the objects and
keys tables after ``scripts/cassandra flush <keyspace>`` (nodetool over
loopback JMX), *-Data.db alone and every component.

Usage: python bench/backend.py [--objects N] [--txs N] [--reads N] [--cassandra host:port]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from twisted.internet import defer, task, threads  # noqa: E402

from clio_twisted.backend.cassandra import (  # noqa: E402
    _STATEMENTS,
    CassandraBackend,
    CassandraSettings,
)
from clio_twisted.backend.interface import (  # noqa: E402
    AccountTransactionRow as Row,
)
from clio_twisted.backend.interface import (  # noqa: E402
    IBackend,
    LedgerObject,
    LedgerWrite,
    TransactionRecord,
)
from clio_twisted.backend.sqlite import SqliteBackend, _schema  # noqa: E402
from clio_twisted.protocol import codec  # noqa: E402
from clio_twisted.protocol.addresses import decode_address  # noqa: E402
from clio_twisted.protocol.ledger_header import LedgerHeader  # noqa: E402

SEQ = 1_000_000
CHUNK = 1000


# -- data -------------------------------------------------------------------------------


def real_objects() -> list[bytes]:
    path = ROOT / "clio_twisted/testing/data/mainnet-38129-full.json.gz"
    state = json.loads(gzip.decompress(path.read_bytes()))["accountState"]
    return [codec.encode(o, skip_unknown=True) for o in state]


def real_transactions() -> list[tuple[bytes, bytes, bytes]]:
    """(tx blob, meta blob, account id) of each transaction."""
    for path in (
        ROOT / "bench/data/mainnet-90150378-transactions.json",
        ROOT.parent / "shared/fixtures/ledgers/mainnet-90150378-transactions.json",
    ):
        if path.exists():
            break
    else:
        raise SystemExit("mainnet-90150378-transactions.json not found")
    out = []
    for t in json.loads(path.read_text())["ledger"]["transactions"]:
        t = dict(t)
        meta = t.pop("metaData")
        t.pop("hash", None)
        out.append(
            (
                codec.encode(t, skip_unknown=True),
                codec.encode(meta, skip_unknown=True),
                decode_address(t["Account"]),
            )
        )
    return out


def fresh_key(i: int, salt: bytes) -> bytes:
    return hashlib.sha256(salt + i.to_bytes(8, "big")).digest()


def header(seq: int) -> tuple[bytes, bytes]:
    h = LedgerHeader(seq, 10**17, bytes(32), bytes(32), bytes(32), 0, seq, 10, 0)
    return h.to_bytes(), h.hash


def workload(
    n_objects: int, n_txs: int, salt: bytes
) -> tuple[list[LedgerObject], list[LedgerWrite]]:
    blobs = real_objects()
    objects = [
        LedgerObject(fresh_key(i, salt), blobs[i % len(blobs)], SEQ) for i in range(n_objects)
    ]
    txs = real_transactions()
    ledgers: list[LedgerWrite] = []
    hdr, hsh = header(SEQ)
    ledgers.append(LedgerWrite(SEQ, hdr, hsh, is_first=True))
    made = 0
    seq = SEQ + 1
    while made < n_txs:
        records, rows = [], []
        for index, (tx, meta, account) in enumerate(txs[: n_txs - made]):
            h = fresh_key(made + index, salt + b"tx")
            records.append(TransactionRecord(h, seq, index, 777_000_000, tx, meta))
            rows.append(Row(account, seq, index, h))
        made += len(records)
        hdr, hsh = header(seq)
        ledgers.append(LedgerWrite(seq, hdr, hsh, transactions=records, account_transactions=rows))
        seq += 1
    return objects, ledgers


# -- timing -----------------------------------------------------------------------------


async def timed(coro: Coroutine[Any, Any, Any]) -> float:
    start = time.perf_counter()
    await coro
    return time.perf_counter() - start


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>10,.0f}/s"


def report(label: str, n: int, ours: float, raw: float) -> None:
    print(f"  {label:<36}{rate(n, ours)}  raw {rate(n, raw)}  backend/raw {raw / ours:5.2f}")


# -- backend side (the same for both) ---------------------------------------------------


async def backend_writes(
    backend: IBackend, objects: Sequence[LedgerObject], ledgers: Sequence[LedgerWrite]
) -> tuple[float, float]:
    async def objs() -> None:
        for i in range(0, len(objects), CHUNK):
            await backend.write_state_objects(SEQ, objects[i : i + CHUNK])

    async def txs() -> None:
        for ledger in ledgers:
            await backend.write_ledger(ledger)

    return await timed(objs()), await timed(txs())


async def backend_reads(backend: IBackend, keys: Sequence[bytes]) -> float:
    async def go() -> None:
        for i in range(0, len(keys), 100):
            got = await defer.gatherResults(
                [
                    defer.Deferred.fromCoroutine(backend.fetch_ledger_object(k, SEQ))
                    for k in keys[i : i + 100]
                ]
            )
            assert all(g is not None for g in got)

    return await timed(go())


# -- SQLite -----------------------------------------------------------------------------


def sqlite_raw(
    path: str,
    objects: Sequence[LedgerObject],
    ledgers: Sequence[LedgerWrite],
    keys: Sequence[bytes],
) -> tuple[float, float, float]:
    # the same file set-up as the backend's, so only the calling path differs
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.executescript(_schema())
    start = time.perf_counter()
    for i in range(0, len(objects), CHUNK):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT OR REPLACE INTO objects (key, sequence, blob) VALUES (?, ?, ?)",
            [(o.key, SEQ, o.blob) for o in objects[i : i + CHUNK]],
        )
        conn.execute("COMMIT")
    t_obj = time.perf_counter() - start
    start = time.perf_counter()
    for ledger in ledgers:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT OR REPLACE INTO transactions (hash, ledger_sequence, transaction_index, date, tx, meta) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (t.hash, t.ledger_sequence, t.transaction_index, t.date, t.transaction, t.metadata)
                for t in ledger.transactions
            ],
        )
        conn.executemany(
            "INSERT OR REPLACE INTO account_transactions (account, ledger_sequence, transaction_index, hash) VALUES (?, ?, ?, ?)",
            [
                (r.account, r.ledger_sequence, r.transaction_index, r.hash)
                for r in ledger.account_transactions
            ],
        )
        conn.execute("COMMIT")
    t_tx = time.perf_counter() - start
    start = time.perf_counter()
    for k in keys:
        row = conn.execute(
            "SELECT sequence, blob FROM objects WHERE key = ? AND sequence <= ? ORDER BY sequence DESC LIMIT 1",
            (k, SEQ),
        ).fetchone()
        assert row is not None
    t_read = time.perf_counter() - start
    conn.close()
    return t_obj, t_tx, t_read


async def bench_sqlite(
    reactor: Any,
    objects: list[LedgerObject],
    ledgers: list[LedgerWrite],
    keys: list[bytes],
    n_tx: int,
) -> None:
    # best of two rounds each, alternating, in fresh files: the machine is shared
    ours: list[tuple[float, float, float]] = []
    raws: list[tuple[float, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(2):
            raws.append(
                sqlite_raw(os.path.join(tmp, f"raw{round_}.sqlite3"), objects, ledgers, keys)
            )
            path = os.path.join(tmp, f"bench{round_}.sqlite3")
            backend = SqliteBackend(reactor, path)
            await backend.start()
            t_obj, _ = await backend_writes(backend, objects, [])
            size_objects = _sqlite_size(path)
            _, t_tx = await backend_writes(backend, [], ledgers)
            t_read = await backend_reads(backend, keys)
            await backend.stop()
            ours.append((t_obj, t_tx, t_read))
    best = [min(o[i] for o in ours) for i in range(3)]
    raw = [min(r[i] for r in raws) for i in range(3)]
    print("sqlite (best of 2 rounds)")
    report("state objects written", len(objects), best[0], raw[0])
    report("transactions (+account_tx) written", n_tx, best[1], raw[1])
    report("objects read (100 in flight)", len(keys), best[2], raw[2])
    mean_blob = statistics.fmean(len(o.blob) for o in objects)
    per_version = size_objects / len(objects)
    print(
        f"  storage: {per_version:,.0f} bytes per object version (file pages in use) for a mean"
        f" blob of {mean_blob:,.0f} bytes: {per_version / mean_blob:.2f}x"
    )


def _sqlite_size(path: str) -> int:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    used = (
        conn.execute("PRAGMA page_count").fetchone()[0]
        - conn.execute("PRAGMA freelist_count").fetchone()[0]
    )
    conn.close()
    return int(page_size * used)


# -- Cassandra --------------------------------------------------------------------------


def cassandra_raw(
    address: str,
    keyspace: str,
    prefix: str,
    objects: Sequence[LedgerObject],
    ledgers: Sequence[LedgerWrite],
    keys: Sequence[bytes],
) -> tuple[float, float, float]:
    from cassandra.cluster import Cluster
    from cassandra.concurrent import execute_concurrent_with_args

    host, _, port = address.rpartition(":")
    cluster = Cluster([host], port=int(port), protocol_version=4)
    session = cluster.connect()
    t = f"{keyspace}.{prefix}"
    ins_obj = session.prepare(_STATEMENTS["object_insert"].format(t=t))
    ins_tx = session.prepare(_STATEMENTS["tx_insert"].format(t=t))
    ins_ltx = session.prepare(_STATEMENTS["ledger_tx_insert"].format(t=t))
    ins_acc = session.prepare(_STATEMENTS["account_tx_insert"].format(t=t))
    sel = session.prepare(_STATEMENTS["object"].format(t=t))
    conc = 128
    start = time.perf_counter()
    execute_concurrent_with_args(
        session, ins_obj, [(o.key, SEQ, o.blob) for o in objects], concurrency=conc
    )
    t_obj = time.perf_counter() - start
    start = time.perf_counter()
    for ledger in ledgers:
        execute_concurrent_with_args(
            session,
            ins_tx,
            [
                (x.hash, x.ledger_sequence, x.transaction_index, x.date, x.transaction, x.metadata)
                for x in ledger.transactions
            ],
            concurrency=conc,
        )
        execute_concurrent_with_args(
            session,
            ins_ltx,
            [(x.ledger_sequence, x.transaction_index, x.hash) for x in ledger.transactions],
            concurrency=conc,
        )
        execute_concurrent_with_args(
            session,
            ins_acc,
            [
                (r.account, (r.ledger_sequence, r.transaction_index), r.hash)
                for r in ledger.account_transactions
            ],
            concurrency=conc,
        )
    t_tx = time.perf_counter() - start
    start = time.perf_counter()
    results = execute_concurrent_with_args(session, sel, [(k, SEQ) for k in keys], concurrency=100)
    assert all(ok for ok, _ in results)
    t_read = time.perf_counter() - start
    cluster.shutdown()
    return t_obj, t_tx, t_read


def cassandra_storage(host: str, keyspace: str, objects: Sequence[LedgerObject]) -> None:
    """Flush the keyspace's memtables and print the SSTable bytes per object version.

    Written rows sit in memtables (and the commit log) until a flush; only then does the
    data directory show what a version costs on disk. The flush is nodetool's, over the
    loopback JMX port of a node run by scripts/cassandra, whose data directory we read.
    """
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"  storage: not measured (node {host} is not on this machine: no data directory to read)"
        )
        return
    flush = subprocess.run(
        [str(ROOT / "scripts/cassandra"), "flush", keyspace],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if flush.returncode != 0:
        why = " ".join(
            line.removeprefix("[cassandra] ").strip()
            for line in (flush.stderr or flush.stdout).splitlines()
            if line.strip()
        )
        print(f"  storage: not measured -- cannot flush memtables to SSTables: {why}")
        return
    work = Path(os.environ.get("CASSANDRA_WORK", ROOT / ".cassandra"))
    ks_dir = work / "data" / "data" / keyspace
    if not ks_dir.is_dir():
        print(
            f"  storage: not measured ({ks_dir} missing: the node is not the one of scripts/cassandra)"
        )
        return
    sizes = {name: _sstable_bytes(ks_dir, name) for name in ("objects", "keys")}
    n = len(objects)
    mean_blob = statistics.fmean(len(o.blob) for o in objects)
    for name, (data, total, count) in sizes.items():
        print(
            f"  storage, table {name}: {count} SSTable(s), {data:,} bytes in *-Data.db,"
            f" {total:,} with every component"
        )
    data = sum(v[0] for v in sizes.values())
    total = sum(v[1] for v in sizes.values())
    print(
        f"  storage: {data / n:,.0f} bytes per object version in *-Data.db (objects + keys,"
        f" LZ4-compressed), {total / n:,.0f} with every component, for a mean blob of"
        f" {mean_blob:,.0f} bytes: {data / n / mean_blob:.2f}x / {total / n / mean_blob:.2f}x"
    )


def _sstable_bytes(ks_dir: Path, table: str) -> tuple[int, int, int]:
    """(*-Data.db bytes, bytes of every component, SSTable count) of a table's live SSTables."""
    # a table's directory is <table>-<id>; only top-level files are live SSTables
    # (snapshots/ and backups/ are subdirectories); keys-* must not match keys_foo-*
    dirs = [d for d in ks_dir.iterdir() if d.is_dir() and d.name.rpartition("-")[0] == table]
    files = [f for d in dirs for f in d.iterdir() if f.is_file()]
    data = sum(f.stat().st_size for f in files if f.name.endswith("-Data.db"))
    total = sum(f.stat().st_size for f in files)
    count = sum(1 for f in files if f.name.endswith("-Data.db"))
    return data, total, count


async def bench_cassandra(
    reactor: Any,
    address: str,
    objects: list[LedgerObject],
    ledgers: list[LedgerWrite],
    keys: list[bytes],
    n_tx: int,
) -> None:
    host, _, port = address.rpartition(":")
    keyspace = "clio_bench_" + uuid.uuid4().hex[:8]
    settings = CassandraSettings(
        contact_points=host,
        port=int(port),
        keyspace=keyspace,
        replication_factor=1,
        max_write_requests_outstanding=128,
    )
    backend = CassandraBackend(reactor, settings)
    raw_backend = CassandraBackend(
        reactor,
        CassandraSettings(
            contact_points=host,
            port=int(port),
            keyspace=keyspace,
            replication_factor=1,
            table_prefix="raw_",
        ),
    )
    try:
        await backend.start()
        await (
            raw_backend.start()
        )  # creates the raw_ tables; raw writes go straight through the driver
        await raw_backend.stop()
        t_obj, t_tx = await backend_writes(backend, objects, ledgers)
        t_read = await backend_reads(backend, keys)
        await backend.stop()
        # the raw driver blocks: run it off the reactor thread so the backend's callbacks are not involved
        raw = await threads.deferToThread(
            cassandra_raw, address, keyspace, "raw_", objects, ledgers, keys
        )
        print("cassandra (statements per backend row: object 2 (+key index), transaction 3)")
        report("state objects written", len(objects), t_obj, raw[0])
        report("transactions (+account_tx) written", n_tx, t_tx, raw[1])
        report("objects read (100 in flight)", len(keys), t_read, raw[2])
        # measured last, so neither the flush nor its compactions touch the timings above
        await threads.deferToThread(cassandra_storage, host, keyspace, objects)
    finally:
        from cassandra.cluster import Cluster

        cluster = Cluster([host], port=int(port), protocol_version=4)
        cluster.connect().execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=120)
        cluster.shutdown()


async def main(reactor: Any, args: argparse.Namespace) -> None:
    salt = os.urandom(8)
    objects, ledgers = workload(args.objects, args.txs, salt)
    keys = [o.key for o in random.Random(1).sample(objects, min(args.reads, len(objects)))]
    print(
        f"{len(objects)} objects, {args.txs} transactions in {len(ledgers) - 1} ledgers, {len(keys)} reads"
    )
    await bench_sqlite(reactor, objects, ledgers, keys, args.txs)
    address = args.cassandra or os.environ.get("CLIO_TEST_CASSANDRA", "")
    if address:
        await bench_cassandra(reactor, address, objects, ledgers, keys, args.txs)
    else:
        print("cassandra: skipped (no --cassandra and no CLIO_TEST_CASSANDRA)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=20_000)
    parser.add_argument("--txs", type=int, default=4_500)
    parser.add_argument("--reads", type=int, default=5_000)
    parser.add_argument("--cassandra", default="")
    ns = parser.parse_args()
    task.react(lambda reactor: defer.Deferred.fromCoroutine(main(reactor, ns)))
