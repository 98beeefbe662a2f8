"""IBackend on Cassandra / ScyllaDB through cassandra-driver, without blocking the reactor.

Threads: the driver keeps its own IO thread. Every query is a prepared
statement sent with ``execute_async``; its ``ResponseFuture`` callbacks run on
the driver's thread and only hand the rows (or the error) to the reactor with
``callFromThread``, so awaiting code always resumes on the reactor thread. The
calls that block (connect, prepare, schema DDL, shutdown) run on a thread pool
this backend owns, started in ``start()`` and stopped in ``stop()``.

Bounds: at most ``max_write_requests_outstanding`` writes are in flight (the
writer waits for a slot); reads over ``max_read_requests_outstanding`` are
refused with ``TooBusy`` (and ``is_too_busy()`` says so first). A read that
times out or finds no host raises ``DatabaseTimeout``; a write that does is
retried with backoff.

Committing a ledger (the fence), improving on Clio's single LWT:

1. read the range: the ledger must follow the max (or be the max again, with
   the same hash: an idempotent rewrite);
2. claim the sequence: ``INSERT INTO ledgers ... IF NOT EXISTS``; a claim held
   with another hash is a ``WriteConflict`` *before* any row is written, so a
   fork can never overwrite rows of the ledger another writer committed;
3. write every row of the ledger;
4. advance the max with a lightweight transaction ``IF sequence = <seq - 1>``;
   if it is not applied and the max is not already this ledger (same hash),
   ``WriteConflict``.

Readers never look past the max, so rows of a ledger not yet committed are
invisible. Key order comes from Clio's versioned ``successor`` list fed by
``LedgerWrite.successors`` (Cassandra's token order is not key order), with a
``keys`` index (ordered inside 256 partitions) for keys that are not live.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Sequence
from importlib.resources import files
from typing import Any

from attrs import frozen
from zope.interface import implementer

from twisted.internet.defer import Deferred, DeferredSemaphore, FirstError, gatherResults
from twisted.internet.task import deferLater
from twisted.logger import Logger

from clio_twisted.backend._threads import ThreadRunner, WorkInFlight
from clio_twisted.backend.errors import SchemaMissing
from clio_twisted.backend.interface import (
    FIRST_KEY,
    LAST_KEY,
    NFT,
    DatabaseTimeout,
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

_MAX_U32 = 0xFFFFFFFF
_SCAN_CHUNK = 64
_WRITE_ATTEMPTS = 12


@frozen
class CassandraSettings:
    """``database.cassandra`` with Clio's key names and defaults (clio-anatomy §5)."""

    contact_points: str = "127.0.0.1"  # comma-separated hosts
    port: int = 9042
    keyspace: str = "clio"
    table_prefix: str = ""
    replication_factor: int = 3
    max_write_requests_outstanding: int = 10_000
    max_read_requests_outstanding: int = 100_000
    connect_timeout: float = 10.0
    request_timeout: float = 0.0  # seconds; 0 = none
    username: str | None = None
    password: str | None = None
    threads: int | None = None  # driver executor threads; None = driver default
    protocol_version: int = 4  # v4: spoken by Cassandra 4/5 and ScyllaDB

    @classmethod
    def from_config(cls, config: Any) -> CassandraSettings:
        """Build from any object with Clio's attribute names (e.g. config.CassandraConfig)."""
        names = [a.name for a in cls.__attrs_attrs__]
        return cls(**{n: getattr(config, n) for n in names if hasattr(config, n)})


_TABLES = (
    "ledger_range",
    "ledgers",
    "ledger_hashes",
    "objects",
    "successor",
    "keys",
    "diff",
    "transactions",
    "ledger_transactions",
    "account_tx",
    "nf_tokens",
    "nf_token_uris",
    "issuer_nf_tokens_v2",
    "nf_token_transactions",
    "mp_token_holders",
)

_STATEMENTS = {
    "range": "SELECT is_latest, sequence FROM {t}ledger_range",
    "range_serial": "SELECT is_latest, sequence FROM {t}ledger_range",
    "range_min_insert": "INSERT INTO {t}ledger_range (is_latest, sequence) VALUES (false, ?) IF NOT EXISTS",
    "range_max_insert": "INSERT INTO {t}ledger_range (is_latest, sequence) VALUES (true, ?) IF NOT EXISTS",
    "range_max_update": "UPDATE {t}ledger_range SET sequence = ? WHERE is_latest = true IF sequence = ?",
    "ledger_claim": "INSERT INTO {t}ledgers (sequence, header, hash) VALUES (?, ?, ?) IF NOT EXISTS",
    "ledger": "SELECT header, hash FROM {t}ledgers WHERE sequence = ?",
    "hash_insert": "INSERT INTO {t}ledger_hashes (hash, sequence) VALUES (?, ?)",
    "hash": "SELECT sequence FROM {t}ledger_hashes WHERE hash = ?",
    "object_insert": "INSERT INTO {t}objects (key, sequence, object) VALUES (?, ?, ?)",
    "object": "SELECT sequence, object FROM {t}objects WHERE key = ? AND sequence <= ? LIMIT 1",
    "successor_insert": "INSERT INTO {t}successor (key, seq, next) VALUES (?, ?, ?)",
    "successor": "SELECT next FROM {t}successor WHERE key = ? AND seq <= ? LIMIT 1",
    "key_insert": "INSERT INTO {t}keys (prefix, key) VALUES (?, ?)",
    "keys_after": "SELECT key FROM {t}keys WHERE prefix = ? AND key > ? LIMIT ?",
    "diff_insert": "INSERT INTO {t}diff (seq, key) VALUES (?, ?)",
    "diff": "SELECT key FROM {t}diff WHERE seq = ?",
    "tx_insert": "INSERT INTO {t}transactions"
    " (hash, ledger_sequence, transaction_index, date, transaction, metadata) VALUES (?, ?, ?, ?, ?, ?)",
    "tx": "SELECT hash, ledger_sequence, transaction_index, date, transaction, metadata"
    " FROM {t}transactions WHERE hash = ?",
    "ledger_tx_insert": "INSERT INTO {t}ledger_transactions (ledger_sequence, transaction_index, hash)"
    " VALUES (?, ?, ?)",
    "ledger_tx": "SELECT hash FROM {t}ledger_transactions WHERE ledger_sequence = ?",
    "account_tx_insert": "INSERT INTO {t}account_tx (account, seq_idx, hash) VALUES (?, ?, ?)",
    "account_tx_back": "SELECT seq_idx, hash FROM {t}account_tx"
    " WHERE account = ? AND seq_idx >= ? AND seq_idx <= ? LIMIT ?",
    "account_tx_fwd": "SELECT seq_idx, hash FROM {t}account_tx"
    " WHERE account = ? AND seq_idx >= ? AND seq_idx <= ? ORDER BY seq_idx ASC LIMIT ?",
    "nft_insert": "INSERT INTO {t}nf_tokens (token_id, sequence, owner, is_burned) VALUES (?, ?, ?, ?)",
    "nft": "SELECT sequence, owner, is_burned FROM {t}nf_tokens"
    " WHERE token_id = ? AND sequence <= ? LIMIT 1",
    "uri_insert": "INSERT INTO {t}nf_token_uris (token_id, sequence, uri) VALUES (?, ?, ?)",
    "uri": "SELECT uri FROM {t}nf_token_uris WHERE token_id = ? AND sequence <= ? LIMIT 1",
    "issuer_insert": "INSERT INTO {t}issuer_nf_tokens_v2 (issuer, taxon, token_id) VALUES (?, ?, ?)",
    "issuer_nfts": "SELECT taxon, token_id FROM {t}issuer_nf_tokens_v2"
    " WHERE issuer = ? AND (taxon, token_id) > (?, ?) LIMIT ?",
    "issuer_taxon_nfts": "SELECT taxon, token_id FROM {t}issuer_nf_tokens_v2"
    " WHERE issuer = ? AND taxon = ? AND token_id > ? LIMIT ?",
    "nft_tx_insert": "INSERT INTO {t}nf_token_transactions (token_id, seq_idx, hash) VALUES (?, ?, ?)",
    "nft_tx_back": "SELECT seq_idx, hash FROM {t}nf_token_transactions"
    " WHERE token_id = ? AND seq_idx >= ? AND seq_idx <= ? LIMIT ?",
    "nft_tx_fwd": "SELECT seq_idx, hash FROM {t}nf_token_transactions"
    " WHERE token_id = ? AND seq_idx >= ? AND seq_idx <= ? ORDER BY seq_idx ASC LIMIT ?",
    "mpt_insert": "INSERT INTO {t}mp_token_holders (mpt_id, holder, mptoken_key) VALUES (?, ?, ?)",
    "mpt_holders": "SELECT holder, mptoken_key FROM {t}mp_token_holders"
    " WHERE mpt_id = ? AND holder > ? LIMIT ?",
}


def schema_statements(settings: CassandraSettings) -> list[str]:
    """The DDL for this keyspace and prefix, one statement per item."""
    text = files("clio_twisted.backend").joinpath("cassandra.cql").read_text()
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    text = string.Template(text).substitute(
        ks=_quote(settings.keyspace),
        ks_bare=_quote(settings.keyspace),
        p=settings.table_prefix,
        rf=settings.replication_factor,
    )
    return [s.strip() for s in text.split(";") if s.strip()]


def _quote(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"invalid Cassandra identifier {name!r}")
    return name


def _timeout_errors() -> tuple[type[BaseException], ...]:
    from cassandra import OperationTimedOut, ReadTimeout, Unavailable, WriteTimeout
    from cassandra.cluster import NoHostAvailable
    from cassandra.protocol import OverloadedErrorMessage

    return (
        OperationTimedOut,
        ReadTimeout,
        WriteTimeout,
        Unavailable,
        NoHostAvailable,
        OverloadedErrorMessage,
    )


@implementer(IBackend)
class CassandraBackend:
    """IBackend on a Cassandra or ScyllaDB cluster.

    ``reactor`` must provide IReactorFromThreads and IReactorTime (the global
    reactor does; tests may pass a Clock with a callFromThread).
    """

    log = Logger()

    def __init__(self, reactor: Any, settings: CassandraSettings, read_only: bool = False) -> None:
        self._reactor = reactor
        self.settings = settings
        self.read_only = read_only
        self._threads = ThreadRunner(reactor, "clio-cassandra", 2)
        self._cluster: Any = None
        self._session: Any = None
        self._prepared: dict[str, Any] = {}
        self._write_slots = DeferredSemaphore(settings.max_write_requests_outstanding)
        self._reads_in_flight = 0
        self._writes_pending: set[Deferred[Any]] = set()
        # statements the driver has not answered yet (stop() waits for them)
        self._sends = WorkInFlight("the Cassandra backend")
        self._timeouts = _timeout_errors()

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        self._sends = WorkInFlight("the Cassandra backend")
        self._threads.start()
        try:
            await self._threads.run(self._connect)
        except BaseException:
            self._threads.stop()
            raise

    async def stop(self) -> None:
        if not self._threads.running:
            return
        if self._writes_pending:
            await gatherResults(list(self._writes_pending), consumeErrors=True).addErrback(
                lambda _: None
            )
        # then refuse new statements and let the driver answer the ones sent (reads included)
        # before the cluster shuts down under them
        await self._sends.close()
        await self._threads.close(self._shutdown)

    def _connect(self) -> None:
        from cassandra import ConsistencyLevel
        from cassandra.auth import PlainTextAuthProvider
        from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
        from cassandra.policies import DCAwareRoundRobinPolicy, TokenAwarePolicy
        from cassandra.query import tuple_factory

        s = self.settings
        profile = ExecutionProfile(
            load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy()),
            consistency_level=ConsistencyLevel.QUORUM,
            request_timeout=s.request_timeout or None,
            row_factory=tuple_factory,
        )
        kwargs: dict[str, Any] = {
            "contact_points": [h.strip() for h in s.contact_points.split(",") if h.strip()],
            "port": s.port,
            "protocol_version": s.protocol_version,
            "connect_timeout": s.connect_timeout,
            "execution_profiles": {EXEC_PROFILE_DEFAULT: profile},
        }
        if s.username is not None:
            kwargs["auth_provider"] = PlainTextAuthProvider(s.username, s.password or "")
        if s.threads is not None:
            kwargs["executor_threads"] = s.threads
        cluster = Cluster(**kwargs)
        try:
            session = cluster.connect()
            self._ensure_schema(cluster, session)
            prefix = f"{s.keyspace}.{s.table_prefix}"
            prepared = {
                name: session.prepare(cql.format(t=prefix)) for name, cql in _STATEMENTS.items()
            }
            prepared["range_serial"].consistency_level = ConsistencyLevel.SERIAL
        except BaseException:
            cluster.shutdown()
            raise
        self._cluster, self._session, self._prepared = cluster, session, prepared

    def _ensure_schema(self, cluster: Any, session: Any) -> None:
        s = self.settings
        keyspace = cluster.metadata.keyspaces.get(s.keyspace)
        have = set(keyspace.tables) if keyspace is not None else set()
        missing = [t for t in _TABLES if s.table_prefix + t not in have]
        if not missing:
            return
        if self.read_only:
            raise SchemaMissing(
                f"read-only mode and keyspace {s.keyspace!r} lacks tables"
                f" {', '.join(s.table_prefix + t for t in missing)}: start a writer first"
            )
        self.log.info("creating schema in keyspace {keyspace}", keyspace=s.keyspace)
        for statement in schema_statements(s):
            if statement.upper().startswith("CREATE KEYSPACE") and keyspace is not None:
                continue
            session.execute(statement, timeout=60)
        cluster.control_connection.wait_for_schema_agreement()

    def _shutdown(self) -> None:
        if self._cluster is not None:
            self._cluster.shutdown()
        self._cluster = self._session = None

    # -- the bridge --------------------------------------------------------------------

    def _send(self, name: str, params: Sequence[Any]) -> Deferred[list[Any]]:
        """Send a prepared statement; the Deferred fires on the reactor thread with the rows."""
        if self._session is None:
            raise RuntimeError("the backend is not started")
        d: Deferred[list[Any]] = Deferred()
        self._sends.begin()
        try:
            future = self._session.execute_async(self._prepared[name], params)
        except BaseException:
            self._sends.end()
            raise

        def done(ok: bool, value: Any) -> None:
            self._sends.end()
            if not d.called:  # else the caller cancelled
                d.callback(value) if ok else d.errback(value)

        future.add_callbacks(
            lambda rows: self._reactor.callFromThread(done, True, list(rows or [])),
            lambda exc: self._reactor.callFromThread(done, False, exc),
        )
        return d

    def is_too_busy(self) -> bool:
        return self._reads_in_flight >= self.settings.max_read_requests_outstanding

    async def _read(self, name: str, *params: Any) -> list[Any]:
        if self.is_too_busy():
            raise TooBusy(f"{self._reads_in_flight} reads in flight")
        self._reads_in_flight += 1
        try:
            return await self._send(name, params)
        except self._timeouts as exc:
            raise DatabaseTimeout(f"{name}: {exc}") from exc
        finally:
            self._reads_in_flight -= 1

    async def _read_one(self, name: str, *params: Any) -> Any:
        rows = await self._read(name, *params)
        return rows[0] if rows else None

    async def _gather(self, coros: Iterable[Any]) -> list[Any]:
        try:
            return await gatherResults(
                [Deferred.fromCoroutine(c) for c in coros], consumeErrors=True
            )
        except FirstError as e:
            e.subFailure.raiseException()
            raise  # unreachable

    async def _write(self, name: str, *params: Any) -> list[Any]:
        """One write, holding a slot, retried with backoff on timeouts."""
        await self._write_slots.acquire()
        try:
            for attempt in range(_WRITE_ATTEMPTS):
                try:
                    return await self._send(name, params)
                except self._timeouts as exc:
                    if attempt == _WRITE_ATTEMPTS - 1:
                        raise DatabaseTimeout(f"{name}: {exc}") from exc
                    self.log.warn("write {name} timed out, retrying: {exc}", name=name, exc=exc)  # noqa: G010
                    await deferLater(self._reactor, min(1.0, 0.005 * 2**attempt), lambda: None)
            raise AssertionError("unreachable")
        finally:
            self._write_slots.release()

    async def _write_all(self, writes: Iterable[tuple[str, tuple[Any, ...]]]) -> None:
        """Many writes with at most max_write_requests_outstanding in flight; fails if any fails."""
        pending: list[Deferred[Any]] = []
        for name, params in writes:
            # wait for a slot before creating the next write, so memory stays bounded too
            if self._write_slots.tokens == 0:
                await self._write_slots.acquire()
                self._write_slots.release()
            d = Deferred.fromCoroutine(self._write(name, *params))
            self._writes_pending.add(d)
            d.addBoth(self._forget, d)
            pending.append(d)
        try:
            await gatherResults(pending, consumeErrors=True)
        except FirstError as e:
            e.subFailure.raiseException()

    def _forget(self, result: Any, d: Deferred[Any]) -> Any:
        self._writes_pending.discard(d)
        return result

    # -- ledgers and the range -----------------------------------------------------------

    async def _range(self, serial: bool = False) -> tuple[int | None, int | None]:
        rows = await self._read("range_serial" if serial else "range")
        values = {bool(r[0]): r[1] for r in rows}
        return values.get(False), values.get(True)

    async def fetch_ledger_range(self) -> LedgerRange | None:
        low, high = await self._range()
        if low is None or high is None:
            return None
        return LedgerRange(low, high)

    async def _max(self) -> int:
        rng = await self.fetch_ledger_range()
        return rng.max_sequence if rng is not None else -1

    async def fetch_ledger_by_sequence(self, sequence: int) -> bytes | None:
        rng = await self.fetch_ledger_range()
        if rng is None or sequence not in rng:
            return None
        row = await self._read_one("ledger", sequence)
        return row[0] if row else None

    async def fetch_ledger_by_hash(self, ledger_hash: bytes) -> bytes | None:
        row = await self._read_one("hash", ledger_hash)
        return await self.fetch_ledger_by_sequence(row[0]) if row else None

    # -- state -------------------------------------------------------------------------

    async def fetch_ledger_object_version(self, key: bytes, sequence: int) -> LedgerObject | None:
        row = await self._read_one("object", key, sequence)
        return LedgerObject(key, row[1] or b"", row[0]) if row else None

    async def fetch_ledger_object(self, key: bytes, sequence: int) -> bytes | None:
        version = await self.fetch_ledger_object_version(key, sequence)
        return version.blob if version is not None and version.blob else None

    async def fetch_ledger_objects(
        self, keys: Sequence[bytes], sequence: int
    ) -> list[bytes | None]:
        return await self._gather(self.fetch_ledger_object(k, sequence) for k in keys)

    async def fetch_successor_key(self, key: bytes, sequence: int) -> bytes | None:
        if key == FIRST_KEY:
            return await self._successor_of_live(key, sequence)
        # both reads at once: the link is only trusted if the key is live at the ledger
        blob_, link = await self._gather(
            [self.fetch_ledger_object(key, sequence), self._read_one("successor", key, sequence)]
        )
        if blob_ is None or link is None:
            return await self._scan_successor(key, sequence)
        return None if link[0] == LAST_KEY else link[0]

    async def _successor_of_live(self, key: bytes, sequence: int) -> bytes | None:
        row = await self._read_one("successor", key, sequence)
        if row is None:  # no link (the ETL did not feed one): fall back to the key index
            return await self._scan_successor(key, sequence)
        return None if row[0] == LAST_KEY else row[0]

    async def _scan_successor(self, key: bytes, sequence: int) -> bytes | None:
        """The first key after ``key`` in the key index that is live as of ``sequence``."""
        prefix, after = key[0], key
        while prefix <= 0xFF:
            rows = await self._read("keys_after", prefix, after, _SCAN_CHUNK)
            candidates = [r[0] for r in rows]
            # the first candidate is usually live (a book base's first directory): check a
            # few first, then more, rather than reading the whole chunk at once
            start = 0
            for size in (2, 8, _SCAN_CHUNK):
                batch = candidates[start : start + size]
                if not batch:
                    break
                blobs = await self.fetch_ledger_objects(batch, sequence)
                for candidate, blob_ in zip(batch, blobs, strict=True):
                    if blob_ is not None:
                        return candidate
                start += size
            if len(candidates) == _SCAN_CHUNK:
                after = candidates[-1]
            else:
                prefix, after = prefix + 1, b""
        return None

    async def fetch_ledger_page(
        self, cursor: bytes | None, sequence: int, limit: int
    ) -> LedgerPage:
        keys: list[bytes] = []
        nxt = await self.fetch_successor_key(cursor if cursor is not None else FIRST_KEY, sequence)
        while nxt is not None and len(keys) <= limit:
            keys.append(nxt)
            if len(keys) > limit:
                break
            nxt = await self._successor_of_live(nxt, sequence)
        page = keys[:limit]
        blobs = await self.fetch_ledger_objects(page, sequence)
        objects = [
            LedgerObject(k, b, sequence) for k, b in zip(page, blobs, strict=True) if b is not None
        ]
        return LedgerPage(objects=objects, cursor=page[-1] if len(keys) > limit and page else None)

    async def fetch_ledger_diff(self, sequence: int) -> list[LedgerObject]:
        keys = [r[0] for r in await self._read("diff", sequence)]
        versions = await self._gather(self.fetch_ledger_object_version(k, sequence) for k in keys)
        return [LedgerObject(v.key, v.blob, sequence) for v in versions if v is not None]

    # -- transactions ------------------------------------------------------------------

    async def _transaction(self, tx_hash: bytes, top: int) -> TransactionRecord | None:
        row = await self._read_one("tx", tx_hash)
        if row is None or row[1] > top:
            return None
        return TransactionRecord(
            hash=row[0],
            ledger_sequence=row[1],
            transaction_index=row[2],
            date=row[3],
            transaction=row[4],
            metadata=row[5],
        )

    async def fetch_transaction(self, tx_hash: bytes) -> TransactionRecord | None:
        return await self._transaction(tx_hash, await self._max())

    async def fetch_transactions(self, hashes: Sequence[bytes]) -> list[TransactionRecord | None]:
        top = await self._max()
        return await self._gather(self._transaction(h, top) for h in hashes)

    async def fetch_ledger_transaction_hashes(self, sequence: int) -> list[bytes]:
        if sequence > await self._max():
            return []
        return [r[0] for r in await self._read("ledger_tx", sequence)]

    async def fetch_ledger_transactions(self, sequence: int) -> list[TransactionRecord]:
        hashes = await self.fetch_ledger_transaction_hashes(sequence)
        records = await self._gather(self._transaction(h, sequence) for h in hashes)
        return [r for r in records if r is not None]

    async def _history(
        self,
        statement: str,
        subject: bytes,
        limit: int,
        forward: bool,
        cursor: TxCursor | None,
        min_sequence: int,
        max_sequence: int,
    ) -> TransactionsPage:
        top = await self._max()
        lo = (max(min_sequence, 0), 0)
        hi = (min(max_sequence, top), _MAX_U32)
        if cursor is not None:
            position = (cursor.ledger_sequence, cursor.transaction_index)
            lo, hi = (max(lo, position), hi) if forward else (lo, min(hi, position))
        if lo > hi or limit <= 0:
            return TransactionsPage(transactions=[], cursor=None)
        rows = await self._read(
            statement + ("_fwd" if forward else "_back"), subject, lo, hi, limit + 1
        )
        page, rest = rows[:limit], rows[limit:]
        records = await self._gather(self._transaction(r[1], top) for r in page)
        return TransactionsPage(
            transactions=[r for r in records if r is not None],
            cursor=TxCursor(*rest[0][0]) if rest else None,
        )

    async def fetch_account_transactions(
        self,
        account: bytes,
        limit: int,
        forward: bool,
        cursor: TxCursor | None,
        min_sequence: int,
        max_sequence: int,
    ) -> TransactionsPage:
        return await self._history(
            "account_tx", account, limit, forward, cursor, min_sequence, max_sequence
        )

    # -- NFTs and MPTs -----------------------------------------------------------------

    async def fetch_nft(self, token_id: bytes, sequence: int) -> NFT | None:
        state, uri = await self._gather(
            [self._read_one("nft", token_id, sequence), self._read_one("uri", token_id, sequence)]
        )
        if state is None:
            return None
        return NFT(token_id, state[0], state[1], bool(state[2]), uri[0] if uri else None)

    async def fetch_nft_transactions(
        self,
        token_id: bytes,
        limit: int,
        forward: bool,
        cursor: TxCursor | None,
        min_sequence: int,
        max_sequence: int,
    ) -> TransactionsPage:
        return await self._history(
            "nft_tx", token_id, limit, forward, cursor, min_sequence, max_sequence
        )

    async def fetch_nfts_by_issuer(
        self, issuer: bytes, taxon: int | None, limit: int, cursor: bytes | None, sequence: int
    ) -> NFTsPage:
        after_taxon = nft_taxon(cursor) if cursor is not None else -1
        after_id = cursor if cursor is not None else b""
        if taxon is not None and after_taxon != taxon:
            after_id = b"" if after_taxon < taxon else b"\xff" * 33
        nfts: list[NFT] = []
        chunk = max(limit + 1, _SCAN_CHUNK)
        while True:
            if taxon is None:
                rows = await self._read("issuer_nfts", issuer, after_taxon, after_id, chunk)
            else:
                rows = await self._read("issuer_taxon_nfts", issuer, taxon, after_id, chunk)
            found = await self._gather(self.fetch_nft(r[1], sequence) for r in rows)
            for nft in found:
                if nft is None:
                    continue
                if len(nfts) == limit:
                    return NFTsPage(nfts=nfts, cursor=nfts[-1].token_id if nfts else None)
                nfts.append(nft)
            if len(rows) < chunk:
                return NFTsPage(nfts=nfts, cursor=None)
            after_taxon, after_id = rows[-1][0], rows[-1][1]

    async def fetch_mpt_holders(
        self, issuance_id: bytes, limit: int, cursor: bytes | None, sequence: int
    ) -> tuple[list[bytes], bytes | None]:
        keys: list[bytes] = []
        last: bytes | None = None
        after = cursor if cursor is not None else b""
        chunk = max(limit + 1, _SCAN_CHUNK)
        while True:
            rows = await self._read("mpt_holders", issuance_id, after, chunk)
            blobs = await self.fetch_ledger_objects([r[1] for r in rows], sequence)
            for (holder, key), blob_ in zip(rows, blobs, strict=True):
                if blob_ is None:
                    continue
                if len(keys) == limit:
                    return keys, last
                keys.append(key)
                last = holder
            if len(rows) < chunk:
                return keys, None
            after = rows[-1][0]

    # -- writing -----------------------------------------------------------------------

    def _check_writable(self) -> None:
        if self.read_only:
            raise WriteConflict("this backend is read-only")

    async def write_state_objects(self, sequence: int, objects: Sequence[LedgerObject]) -> None:
        self._check_writable()
        await self._write_all(self._object_writes(sequence, objects, with_diff=False))

    def _object_writes(
        self, sequence: int, objects: Iterable[LedgerObject], with_diff: bool
    ) -> Iterable[tuple[str, tuple[Any, ...]]]:
        for obj in objects:
            yield "object_insert", (obj.key, sequence, obj.blob)
            if obj.blob:
                yield "key_insert", (obj.key[0], obj.key)
            if with_diff:
                yield "diff_insert", (sequence, obj.key)

    def _ledger_writes(self, ledger: LedgerWrite) -> Iterable[tuple[str, tuple[Any, ...]]]:
        seq = ledger.sequence
        yield "hash_insert", (ledger.ledger_hash, seq)
        yield from self._object_writes(seq, ledger.objects, with_diff=not ledger.is_first)
        for key, nxt in ledger.successors:
            yield "successor_insert", (key, seq, nxt)
        for t in ledger.transactions:
            yield (
                "tx_insert",
                (
                    t.hash,
                    t.ledger_sequence,
                    t.transaction_index,
                    t.date,
                    t.transaction,
                    t.metadata,
                ),
            )
            yield "ledger_tx_insert", (t.ledger_sequence, t.transaction_index, t.hash)
        for a in ledger.account_transactions:
            yield "account_tx_insert", (a.account, (a.ledger_sequence, a.transaction_index), a.hash)
        for n in ledger.nfts:
            yield "nft_insert", (n.token_id, n.ledger_sequence, n.owner, n.is_burned)
            if n.uri is not None:
                yield "uri_insert", (n.token_id, n.ledger_sequence, n.uri)
            yield "issuer_insert", (nft_issuer(n.token_id), nft_taxon(n.token_id), n.token_id)
        for r in ledger.nft_transactions:
            yield "nft_tx_insert", (r.token_id, (r.ledger_sequence, r.transaction_index), r.hash)
        for m in ledger.mpt_holders:
            yield "mpt_insert", (m.issuance_id, m.holder, m.mptoken_key)

    async def _stored_hash(self, sequence: int) -> bytes | None:
        row = await self._read_one("ledger", sequence)
        return row[1] if row else None

    async def write_ledger(self, ledger: LedgerWrite) -> None:
        self._check_writable()
        seq = ledger.sequence
        _, current = await self._range(serial=True)
        expected = None if ledger.is_first else seq - 1
        if current != expected and not (
            current == seq and await self._stored_hash(seq) == ledger.ledger_hash
        ):
            raise WriteConflict(f"cannot commit ledger {seq}: the stored max is {current}")
        # 2. claim the sequence before writing any row
        claim = await self._write("ledger_claim", seq, ledger.header, ledger.ledger_hash)
        if not claim[0][0] and await self._stored_hash(seq) != ledger.ledger_hash:
            raise WriteConflict(f"ledger {seq} is claimed by another writer with another hash")
        # 3. every row
        await self._write_all(self._ledger_writes(ledger))
        # 4. the commit point and fence
        if ledger.is_first:
            await self._write("range_min_insert", seq)
            result = await self._write("range_max_insert", seq)
        else:
            result = await self._write("range_max_update", seq, seq - 1)
        if not result[0][0]:
            _, current = await self._range(serial=True)
            if current != seq or await self._stored_hash(seq) != ledger.ledger_hash:
                raise WriteConflict(f"lost the race to commit ledger {seq} (max is {current})")
