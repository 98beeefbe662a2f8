"""IBackend on one SQLite file (stdlib sqlite3, WAL): the zero-set-up default.

Every call runs on a thread pool the backend owns (``deferToThreadPool``); the
reactor thread never touches sqlite3. Readers use one connection per pool
thread (WAL lets them read while the writer writes); the writer uses one
connection behind a lock.

Writing a ledger is one transaction (``BEGIN IMMEDIATE``): the fence check,
every row, then the range's max, committed together, so readers see a ledger
entirely or not at all. A second server writing the same file is stopped by an
exclusive ``flock`` on ``<path>-writer.lock``, held from its first write until
``stop()`` (or process death): it gets ``WriteConflict`` and stays a reader.

Successor walks use the ordered primary key of ``objects`` (key, sequence), so
``LedgerWrite.successors`` is ignored here.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from importlib.resources import files
from typing import Any, TypeVar

from zope.interface import implementer

from twisted.internet.interfaces import IReactorFromThreads
from twisted.logger import Logger

from clio_twisted.backend._threads import PoolLike, ThreadRunner
from clio_twisted.backend.errors import SchemaMissing
from clio_twisted.backend.interface import (
    NFT,
    IBackend,
    LedgerObject,
    LedgerPage,
    LedgerRange,
    LedgerWrite,
    NFTsPage,
    TooBusy,
    TransactionRecord,
    TransactionsPage,
    TxCursor,
    WriteConflict,
)
from clio_twisted.backend.nft_ids import nft_issuer, nft_taxon

T = TypeVar("T")

_MAX_U32 = 0xFFFFFFFF


def _schema() -> str:
    return files("clio_twisted.backend").joinpath("sqlite.sql").read_text()


_TX_COLUMNS = "t.hash, t.ledger_sequence, t.transaction_index, t.date, t.tx, t.meta"

# The newest version of each key at or before a sequence, live, in key order from a key.
_LIVE_AFTER = """
SELECT o.key, o.sequence, o.blob FROM objects AS o
WHERE o.key > ?1
  AND o.sequence = (SELECT MAX(i.sequence) FROM objects AS i WHERE i.key = o.key AND i.sequence <= ?2)
  AND length(o.blob) > 0
ORDER BY o.key LIMIT ?3
"""


@implementer(IBackend)
class SqliteBackend:
    """IBackend on a single SQLite file; ``path`` is created (with its schema) when missing."""

    log = Logger()

    def __init__(
        self,
        reactor: IReactorFromThreads,
        path: str,
        read_only: bool = False,
        max_threads: int = 4,
        max_read_requests_outstanding: int = 0,
        threadpool: PoolLike | None = None,
    ) -> None:
        self.path = path
        self.read_only = read_only
        self._threads = ThreadRunner(reactor, "clio-sqlite", max_threads, threadpool)
        self._max_reads = max_read_requests_outstanding
        self._reads_in_flight = 0
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._writer: sqlite3.Connection | None = None
        self._write_lock = threading.Lock()
        self._lock_fd: int | None = None

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        self._threads.start()
        await self._threads.run(self._open)

    async def stop(self) -> None:
        # New calls are refused, calls still on a pool thread finish, and only then do the
        # connections close: closing one under a running query can crash the process.
        await self._threads.close(self._close)

    def _open(self) -> None:
        if self.read_only:
            if not os.path.exists(self.path):
                raise SchemaMissing(f"no database at {self.path}")
            conn = self._reader()
            found = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'ledger_range'"
            ).fetchone()
            if found is None:
                raise SchemaMissing(f"{self.path} has no clio-twisted schema")
            return
        directory = os.path.dirname(self.path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        conn = self._connect()
        conn.execute("PRAGMA journal_mode = WAL")
        conn.executescript(_schema())
        self._writer = conn

    def _close(self) -> None:
        with self._connections_lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._writer = None
        self._local = threading.local()
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves.
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA busy_timeout = 30000")
        with self._connections_lock:
            self._connections.append(conn)
        return conn

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    # -- plumbing ----------------------------------------------------------------------

    def is_too_busy(self) -> bool:
        return self._max_reads > 0 and self._reads_in_flight >= self._max_reads

    async def _read(self, func: Callable[..., T], *args: Any) -> T:
        if self.is_too_busy():
            raise TooBusy(f"{self._reads_in_flight} reads in flight")
        self._reads_in_flight += 1
        try:
            return await self._threads.run(self._in_reader, func, *args)
        finally:
            self._reads_in_flight -= 1

    def _in_reader(self, func: Callable[..., T], *args: Any) -> T:
        return func(self._reader(), *args)

    # -- ledgers and the range -----------------------------------------------------------

    async def fetch_ledger_range(self) -> LedgerRange | None:
        return await self._read(_range)

    async def fetch_ledger_by_sequence(self, sequence: int) -> bytes | None:
        return await self._read(_header_by_sequence, sequence)

    async def fetch_ledger_by_hash(self, ledger_hash: bytes) -> bytes | None:
        return await self._read(_header_by_hash, ledger_hash)

    # -- state -------------------------------------------------------------------------

    async def fetch_ledger_object(self, key: bytes, sequence: int) -> bytes | None:
        version = await self._read(_version, key, sequence)
        return version.blob if version is not None and version.blob else None

    async def fetch_ledger_objects(
        self, keys: Sequence[bytes], sequence: int
    ) -> list[bytes | None]:
        return await self._read(_objects, list(keys), sequence)

    async def fetch_ledger_object_version(self, key: bytes, sequence: int) -> LedgerObject | None:
        return await self._read(_version, key, sequence)

    async def fetch_successor_key(self, key: bytes, sequence: int) -> bytes | None:
        rows = await self._read(_live_after, key, sequence, 1)
        return rows[0].key if rows else None

    async def fetch_ledger_page(
        self, cursor: bytes | None, sequence: int, limit: int
    ) -> LedgerPage:
        rows = await self._read(_live_after, cursor, sequence, limit + 1)
        page, more = rows[:limit], len(rows) > limit
        return LedgerPage(objects=page, cursor=page[-1].key if more and page else None)

    async def fetch_ledger_diff(self, sequence: int) -> list[LedgerObject]:
        return await self._read(_diff, sequence)

    # -- transactions ------------------------------------------------------------------

    async def fetch_transaction(self, tx_hash: bytes) -> TransactionRecord | None:
        return (await self._read(_transactions, [tx_hash]))[0]

    async def fetch_transactions(self, hashes: Sequence[bytes]) -> list[TransactionRecord | None]:
        return await self._read(_transactions, list(hashes))

    async def fetch_ledger_transaction_hashes(self, sequence: int) -> list[bytes]:
        return [t.hash for t in await self.fetch_ledger_transactions(sequence)]

    async def fetch_ledger_transactions(self, sequence: int) -> list[TransactionRecord]:
        return await self._read(_ledger_transactions, sequence)

    async def fetch_account_transactions(
        self,
        account: bytes,
        limit: int,
        forward: bool,
        cursor: TxCursor | None,
        min_sequence: int,
        max_sequence: int,
    ) -> TransactionsPage:
        return await self._read(
            _history,
            "account_transactions",
            "account",
            account,
            limit,
            forward,
            cursor,
            min_sequence,
            max_sequence,
        )

    # -- NFTs and MPTs -----------------------------------------------------------------

    async def fetch_nft(self, token_id: bytes, sequence: int) -> NFT | None:
        return await self._read(_nft, token_id, sequence)

    async def fetch_nft_transactions(
        self,
        token_id: bytes,
        limit: int,
        forward: bool,
        cursor: TxCursor | None,
        min_sequence: int,
        max_sequence: int,
    ) -> TransactionsPage:
        return await self._read(
            _history,
            "nft_transactions",
            "token_id",
            token_id,
            limit,
            forward,
            cursor,
            min_sequence,
            max_sequence,
        )

    async def fetch_nfts_by_issuer(
        self, issuer: bytes, taxon: int | None, limit: int, cursor: bytes | None, sequence: int
    ) -> NFTsPage:
        return await self._read(_nfts_by_issuer, issuer, taxon, limit, cursor, sequence)

    async def fetch_mpt_holders(
        self, issuance_id: bytes, limit: int, cursor: bytes | None, sequence: int
    ) -> tuple[list[bytes], bytes | None]:
        return await self._read(_mpt_holders, issuance_id, limit, cursor, sequence)

    # -- writing -----------------------------------------------------------------------

    async def write_state_objects(self, sequence: int, objects: Sequence[LedgerObject]) -> None:
        await self._threads.run(self._write, _write_state, sequence, list(objects))

    async def write_ledger(self, ledger: LedgerWrite) -> None:
        await self._threads.run(self._write, _write_ledger, ledger)

    def _write(self, func: Callable[..., None], *args: Any) -> None:
        if self.read_only or self._writer is None:
            raise WriteConflict("this backend is read-only")
        with self._write_lock:
            self._take_writer_lock()
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                func(conn, *args)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _take_writer_lock(self) -> None:
        if self._lock_fd is not None:
            return
        fd = os.open(self.path + "-writer.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise WriteConflict(f"another server is writing {self.path}") from None
        self._lock_fd = fd


# -- queries (run on a pool thread with a reader connection) -----------------------------


def _range(conn: sqlite3.Connection) -> LedgerRange | None:
    row = conn.execute(
        "SELECT min_sequence, max_sequence FROM ledger_range WHERE id = 1"
    ).fetchone()
    return LedgerRange(row[0], row[1]) if row else None


def _max(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT max_sequence FROM ledger_range WHERE id = 1").fetchone()
    return row[0] if row else -1


def _header_by_sequence(conn: sqlite3.Connection, sequence: int) -> bytes | None:
    row = conn.execute(
        "SELECT l.header FROM ledgers AS l, ledger_range AS r"
        " WHERE l.sequence = ? AND l.sequence BETWEEN r.min_sequence AND r.max_sequence",
        (sequence,),
    ).fetchone()
    return row[0] if row else None


def _header_by_hash(conn: sqlite3.Connection, ledger_hash: bytes) -> bytes | None:
    row = conn.execute(
        "SELECT l.header FROM ledgers AS l, ledger_range AS r"
        " WHERE l.hash = ? AND l.sequence BETWEEN r.min_sequence AND r.max_sequence",
        (ledger_hash,),
    ).fetchone()
    return row[0] if row else None


def _version(conn: sqlite3.Connection, key: bytes, sequence: int) -> LedgerObject | None:
    row = conn.execute(
        "SELECT sequence, blob FROM objects WHERE key = ? AND sequence <= ?"
        " ORDER BY sequence DESC LIMIT 1",
        (key, sequence),
    ).fetchone()
    return LedgerObject(key, row[1], row[0]) if row else None


def _objects(conn: sqlite3.Connection, keys: list[bytes], sequence: int) -> list[bytes | None]:
    out: list[bytes | None] = []
    for key in keys:
        version = _version(conn, key, sequence)
        out.append(version.blob if version is not None and version.blob else None)
    return out


def _live_after(
    conn: sqlite3.Connection, key: bytes | None, sequence: int, limit: int
) -> list[LedgerObject]:
    # A None cursor starts before every key: b"" sorts before any 32-byte key.
    rows = conn.execute(_LIVE_AFTER, (key if key is not None else b"", sequence, limit))
    return [LedgerObject(k, b, s) for k, s, b in rows]


def _diff(conn: sqlite3.Connection, sequence: int) -> list[LedgerObject]:
    rows = conn.execute(
        "SELECT d.key, o.blob FROM diffs AS d JOIN objects AS o"
        " ON o.key = d.key AND o.sequence = d.sequence WHERE d.sequence = ? ORDER BY d.key",
        (sequence,),
    )
    return [LedgerObject(k, b, sequence) for k, b in rows]


def _record(row: tuple[Any, ...]) -> TransactionRecord:
    return TransactionRecord(
        hash=row[0],
        ledger_sequence=row[1],
        transaction_index=row[2],
        date=row[3],
        transaction=row[4],
        metadata=row[5],
    )


def _transactions(conn: sqlite3.Connection, hashes: list[bytes]) -> list[TransactionRecord | None]:
    top = _max(conn)
    out: list[TransactionRecord | None] = []
    for tx_hash in hashes:
        row = conn.execute(
            f"SELECT {_TX_COLUMNS} FROM transactions AS t WHERE t.hash = ? AND t.ledger_sequence <= ?",
            (tx_hash, top),
        ).fetchone()
        out.append(_record(row) if row else None)
    return out


def _ledger_transactions(conn: sqlite3.Connection, sequence: int) -> list[TransactionRecord]:
    if sequence > _max(conn):
        return []
    rows = conn.execute(
        f"SELECT {_TX_COLUMNS} FROM transactions AS t WHERE t.ledger_sequence = ?"
        " ORDER BY t.transaction_index",
        (sequence,),
    )
    return [_record(r) for r in rows]


def _history(
    conn: sqlite3.Connection,
    table: str,
    column: str,
    subject: bytes,
    limit: int,
    forward: bool,
    cursor: TxCursor | None,
    min_sequence: int,
    max_sequence: int,
) -> TransactionsPage:
    max_sequence = min(max_sequence, _max(conn))
    lo = (min_sequence, 0)
    hi = (max_sequence, _MAX_U32)
    if cursor is not None:
        position = (cursor.ledger_sequence, cursor.transaction_index)
        lo, hi = (max(lo, position), hi) if forward else (lo, min(hi, position))
    order = "ASC" if forward else "DESC"
    rows = conn.execute(
        f"SELECT a.ledger_sequence, a.transaction_index, {_TX_COLUMNS}"
        f" FROM {table} AS a JOIN transactions AS t ON t.hash = a.hash"
        f" WHERE a.{column} = ? AND (a.ledger_sequence, a.transaction_index) >= (?, ?)"
        " AND (a.ledger_sequence, a.transaction_index) <= (?, ?)"
        f" ORDER BY a.ledger_sequence {order}, a.transaction_index {order} LIMIT ?",
        (subject, lo[0], lo[1], hi[0], hi[1], limit + 1),
    ).fetchall()
    page, rest = rows[:limit], rows[limit:]
    return TransactionsPage(
        transactions=[_record(r[2:]) for r in page],
        cursor=TxCursor(rest[0][0], rest[0][1]) if rest else None,
    )


def _nft(conn: sqlite3.Connection, token_id: bytes, sequence: int) -> NFT | None:
    row = conn.execute(
        "SELECT sequence, owner, is_burned FROM nft_states WHERE token_id = ? AND sequence <= ?"
        " ORDER BY sequence DESC LIMIT 1",
        (token_id, sequence),
    ).fetchone()
    if row is None:
        return None
    uri = conn.execute(
        "SELECT uri FROM nft_uris WHERE token_id = ? AND sequence <= ? ORDER BY sequence DESC LIMIT 1",
        (token_id, sequence),
    ).fetchone()
    return NFT(token_id, row[0], row[1], bool(row[2]), uri[0] if uri else None)


def _nfts_by_issuer(
    conn: sqlite3.Connection,
    issuer: bytes,
    taxon: int | None,
    limit: int,
    cursor: bytes | None,
    sequence: int,
) -> NFTsPage:
    after = (nft_taxon(cursor), cursor) if cursor is not None else (-1, b"")
    sql = "SELECT token_id FROM issuer_nfts WHERE issuer = ? AND (taxon, token_id) > (?, ?)"
    params: list[Any] = [issuer, after[0], after[1]]
    if taxon is not None:
        sql += " AND taxon = ?"
        params.append(taxon)
    sql += " ORDER BY taxon, token_id"
    nfts: list[NFT] = []
    more = False
    for (token_id,) in conn.execute(sql, params).fetchall():
        nft = _nft(conn, token_id, sequence)
        if nft is None:
            continue
        if len(nfts) == limit:
            more = True
            break
        nfts.append(nft)
    return NFTsPage(nfts=nfts, cursor=nfts[-1].token_id if more and nfts else None)


def _mpt_holders(
    conn: sqlite3.Connection, issuance_id: bytes, limit: int, cursor: bytes | None, sequence: int
) -> tuple[list[bytes], bytes | None]:
    rows = conn.execute(
        "SELECT holder, mptoken_key FROM mpt_holders"
        " WHERE issuance_id = ? AND holder > ? AND sequence <= ? ORDER BY holder",
        (issuance_id, cursor if cursor is not None else b"", sequence),
    )
    keys: list[bytes] = []
    last: bytes | None = None
    for holder, mptoken_key in rows.fetchall():
        version = _version(conn, mptoken_key, sequence)
        if version is None or not version.blob:
            continue
        if len(keys) == limit:
            return keys, last
        keys.append(mptoken_key)
        last = holder
    return keys, None


# -- writes (run on a pool thread inside BEGIN IMMEDIATE on the writer connection) ----------


def _write_state(conn: sqlite3.Connection, sequence: int, objects: list[LedgerObject]) -> None:
    conn.executemany(
        "INSERT OR REPLACE INTO objects (key, sequence, blob) VALUES (?, ?, ?)",
        [(o.key, sequence, o.blob) for o in objects],
    )


def _write_ledger(conn: sqlite3.Connection, ledger: LedgerWrite) -> None:
    seq = ledger.sequence
    rng = _range(conn)
    current = rng.max_sequence if rng is not None else None
    expected = None if ledger.is_first else seq - 1
    if current != expected:
        stored = conn.execute("SELECT hash FROM ledgers WHERE sequence = ?", (seq,)).fetchone()
        if not (current == seq and stored is not None and stored[0] == ledger.ledger_hash):
            raise WriteConflict(f"cannot commit ledger {seq}: the stored max is {current}")
    conn.execute(
        "INSERT OR REPLACE INTO ledgers (sequence, hash, header) VALUES (?, ?, ?)",
        (seq, ledger.ledger_hash, ledger.header),
    )
    _write_state(conn, seq, list(ledger.objects))
    if not ledger.is_first:
        conn.executemany(
            "INSERT OR IGNORE INTO diffs (sequence, key) VALUES (?, ?)",
            [(seq, o.key) for o in ledger.objects],
        )
    conn.executemany(
        "INSERT OR REPLACE INTO transactions"
        " (hash, ledger_sequence, transaction_index, date, tx, meta) VALUES (?, ?, ?, ?, ?, ?)",
        [
            (t.hash, t.ledger_sequence, t.transaction_index, t.date, t.transaction, t.metadata)
            for t in ledger.transactions
        ],
    )
    conn.executemany(
        "INSERT OR REPLACE INTO account_transactions"
        " (account, ledger_sequence, transaction_index, hash) VALUES (?, ?, ?, ?)",
        [
            (r.account, r.ledger_sequence, r.transaction_index, r.hash)
            for r in ledger.account_transactions
        ],
    )
    conn.executemany(
        "INSERT OR REPLACE INTO nft_states (token_id, sequence, owner, is_burned) VALUES (?, ?, ?, ?)",
        [(n.token_id, n.ledger_sequence, n.owner, int(n.is_burned)) for n in ledger.nfts],
    )
    conn.executemany(
        "INSERT OR REPLACE INTO nft_uris (token_id, sequence, uri) VALUES (?, ?, ?)",
        [(n.token_id, n.ledger_sequence, n.uri) for n in ledger.nfts if n.uri is not None],
    )
    conn.executemany(
        "INSERT OR IGNORE INTO issuer_nfts (issuer, taxon, token_id) VALUES (?, ?, ?)",
        [(nft_issuer(n.token_id), nft_taxon(n.token_id), n.token_id) for n in ledger.nfts],
    )
    conn.executemany(
        "INSERT OR REPLACE INTO nft_transactions"
        " (token_id, ledger_sequence, transaction_index, hash) VALUES (?, ?, ?, ?)",
        [
            (r.token_id, r.ledger_sequence, r.transaction_index, r.hash)
            for r in ledger.nft_transactions
        ],
    )
    conn.executemany(
        "INSERT INTO mpt_holders (issuance_id, holder, mptoken_key, sequence) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (issuance_id, holder) DO UPDATE SET mptoken_key = excluded.mptoken_key,"
        " sequence = min(sequence, excluded.sequence)",
        [(m.issuance_id, m.holder, m.mptoken_key, m.sequence) for m in ledger.mpt_holders],
    )
    # the commit point, last
    if rng is None or ledger.is_first:
        conn.execute(
            "INSERT OR REPLACE INTO ledger_range (id, min_sequence, max_sequence) VALUES (1, ?, ?)",
            (seq, seq),
        )
    else:
        conn.execute("UPDATE ledger_range SET max_sequence = ? WHERE id = 1", (seq,))
