"""The ETL loop: load an empty store, then keep it at the network's latest validated ledger.

One server writes; the others read. Each server walks ledger ``next = max + 1``:

- if the store already holds ``next`` (another server wrote it), it applies
  the store's diff to its cache and moves on (reader);
- a writer fetches ``next`` from the sources, verifies it, and commits it
  with ``write_ledger``, whose fence raises ``WriteConflict`` if another
  server got there first: it then becomes a reader;
- a reader that is not ``read_only`` takes over once the network has
  validated ``next`` and the store has been silent for ``takeover_seconds``.

Walking one sequence at a time from the stored max means no gap and no
duplicate, whoever writes, and catching up after downtime is the same loop.
"""

from __future__ import annotations

from collections.abc import Callable

from attrs import frozen

from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import deferLater
from twisted.logger import Logger

from clio_twisted.backend.cache import StateCache
from clio_twisted.backend.interface import (
    IBackend,
    LedgerObject,
    LedgerRange,
    LedgerWrite,
    WriteConflict,
)
from clio_twisted.etl.fetch import FetchedLedger, fetch_ledger
from clio_twisted.etl.initial_load import initial_load
from clio_twisted.etl.pool import SourcePool
from clio_twisted.etl.source import SourceError
from clio_twisted.etl.status import EtlStatus, LoadProgress, Phase
from clio_twisted.etl.verify import (
    StateVerifier,
    VerificationError,
    check_header,
    check_transactions,
)
from clio_twisted.protocol.codec import CodecError
from clio_twisted.protocol.ledger_header import LedgerHeader


@frozen
class EtlSettings:
    read_only: bool = False
    start_sequence: int | None = None
    finish_sequence: int | None = None
    num_markers: int = 16
    verify_state: bool = True
    takeover_seconds: float = 10.0
    poll_interval: float = 0.5  # how often a reader looks at the store
    retry_delay: float = 1.0  # after a failed fetch or write
    prefetch: int = 4  # ledgers fetched ahead while catching up (commits stay in order)
    log_interval: float = 5.0


class Stopped(Exception):
    """The loop was asked to stop."""


class Etl:
    """Drives one server's ingestion; ``run()`` returns when stopped, finished or failed."""

    log = Logger()

    def __init__(
        self,
        pool: SourcePool,
        backend: IBackend,
        clock: IReactorTime,
        settings: EtlSettings,
        cache: StateCache | None = None,
        status: EtlStatus | None = None,
    ) -> None:
        self.pool = pool
        self.backend = backend
        self.clock = clock
        self.settings = settings
        self.cache = cache if cache is not None else StateCache()
        self.status = status if status is not None else EtlStatus()
        self.status.read_only = settings.read_only
        self.status.verify_state = settings.verify_state
        self.status.cache = self.cache.to_json
        self.verifier: StateVerifier | None = None
        self._listeners: list[Callable[[int], None]] = []
        self._stopping = False
        self._last_hash: bytes | None = None
        self._last_progress = clock.seconds()
        self._cache_load: Deferred[None] | None = None
        self._inflight: dict[int, Deferred[FetchedLedger | Exception]] = {}

    def add_listener(self, callback: Callable[[int], None]) -> None:
        """``callback(sequence)`` after each ledger this server sees committed (written or read)."""
        self._listeners.append(callback)

    def stop(self) -> None:
        self._stopping = True
        self._drop_prefetched()

    # -- the loop --------------------------------------------------------------------------

    async def _sleep(self, seconds: float) -> None:
        if self._stopping:
            raise Stopped()
        await deferLater(self.clock, seconds, lambda: None)
        if self._stopping:
            raise Stopped()

    async def run(self) -> None:
        try:
            await self._run()
        except (Stopped, CancelledError):
            pass
        except CodecError as e:
            # rippled sent something our protocol definitions do not know: Clio's "amendment blocked".
            self.status.amendment_blocked = True
            self._fail(f"ETL stopped: a ledger could not be decoded (amendment blocked?): {e}")
        except Exception as e:  # never silently: the operator must see why ingestion ended
            self.log.failure("ETL stopped")
            self._fail(f"ETL stopped: {e!r}")

    async def _run(self) -> None:
        rng = await self.backend.fetch_ledger_range()
        while rng is None:
            if not self.settings.read_only:
                rng = await self._initial_load()
                if rng is not None:
                    break
            await self._sleep(self.settings.poll_interval)
            rng = await self.backend.fetch_ledger_range()
        if self._last_hash is None:
            self._start_cache_load(rng.max_sequence)
            header = await self.backend.fetch_ledger_by_sequence(rng.max_sequence)
            self._last_hash = LedgerHeader.from_bytes(header).hash if header else None
            self._committed(rng.max_sequence, written=False)
            self.status.phase = Phase.READING
        next_seq = rng.max_sequence + 1
        self._last_progress = self.clock.seconds()
        while True:
            finish = self.settings.finish_sequence
            if finish is not None and next_seq > finish:
                self.status.phase = Phase.FINISHED
                self.log.info("finish_sequence {seq} reached: ETL done", seq=finish)
                return
            if self.status.phase is Phase.FAILED:
                return
            if await self._read_from_store(next_seq):
                next_seq += 1
                continue
            if self.status.is_writer:
                if await self._write(next_seq):
                    next_seq += 1
                continue
            if self._should_take_over(next_seq):
                await self._become_writer()
                continue
            await self._sleep(self.settings.poll_interval)

    # -- initial load ----------------------------------------------------------------------

    async def _initial_load(self) -> LedgerRange | None:
        seq = self.settings.start_sequence
        if seq is None:
            while self.pool.network_validated == 0:
                await self._sleep(self.settings.poll_interval)
            seq = self.pool.network_validated
        self.status.phase = Phase.LOADING
        self.status.is_writer = True
        self.status.load = progress = LoadProgress()
        self.verifier = StateVerifier() if self.settings.verify_state else None
        self.cache.clear()
        self.log.info("store is empty: initial load of ledger {seq}", seq=seq)
        while True:
            try:
                await self._wait_validated(seq)
                write = await initial_load(
                    self.pool,
                    self.backend,
                    self.cache,
                    self.verifier,
                    seq,
                    self.clock,
                    progress,
                    self.settings.num_markers,
                    self.settings.log_interval,
                )
                break
            except WriteConflict:
                self.log.info("another server committed the first ledger: reading")
                self.status.is_writer = False
                self.status.phase = Phase.READING
                self.cache.clear()
                self.verifier = None
                return await self.backend.fetch_ledger_range()
            except SourceError as e:
                self.log.warn(  # noqa: G010
                    "initial load of {seq} interrupted ({why}); restarting it", seq=seq, why=e
                )
                await self._sleep(self.settings.retry_delay)
                self.cache.clear()
                self.verifier = StateVerifier() if self.settings.verify_state else None
                progress.objects = 0
                progress.fraction = 0.0
        self._last_hash = write.ledger_hash
        self.status.phase = Phase.WRITING
        self._note_state_memory()
        self._committed(seq, written=True)
        return await self.backend.fetch_ledger_range()

    async def _wait_validated(self, seq: int) -> None:
        while self.pool.network_validated < seq:
            await self._sleep(self.settings.poll_interval)

    # -- readers -----------------------------------------------------------------------------

    def _start_cache_load(self, sequence: int) -> None:
        """Fill the cache from the store in the background (progress in server_info)."""
        if self.cache.full or self._cache_load is not None:
            return
        d = Deferred.fromCoroutine(self.cache.load_from(self.backend, sequence))
        d.addErrback(lambda f: self.log.failure("state cache load failed", f))
        self._cache_load = d

    async def _read_from_store(self, seq: int) -> bool:
        """If the store already holds ``seq`` (another writer), follow it; True if it did."""
        rng = await self.backend.fetch_ledger_range()
        if rng is None or rng.max_sequence < seq:
            return False
        header_blob = await self.backend.fetch_ledger_by_sequence(seq)
        if header_blob is None:
            return False
        diff = await self.backend.fetch_ledger_diff(seq)
        self.cache.update(diff, seq)
        self._drop_prefetched(seq)
        if self.verifier is not None:
            # Keep the state map in step (the writer verified it); trust, do not check.
            self.verifier.apply(diff)
            self.verifier.sequence = seq
        if self.status.is_writer:
            self.log.warn("ledger {seq} was written by another server: now a reader", seq=seq)  # noqa: G010
            self.status.is_writer = False
            self.status.phase = Phase.READING
        elif self.status.phase is not Phase.READING:
            self.status.phase = Phase.READING
        self._last_hash = LedgerHeader.from_bytes(header_blob).hash
        self._committed(seq, written=False)
        return True

    def _should_take_over(self, seq: int) -> bool:
        if self.settings.read_only:
            return False
        silent = self.clock.seconds() - self._last_progress
        return self.pool.network_validated >= seq and silent >= self.settings.takeover_seconds

    async def _become_writer(self) -> None:
        self.log.info("the store has been silent: this server becomes the writer")
        if self._cache_load is not None and not self.cache.full:
            await self._cache_load
        if not self.cache.full:
            # The background load failed (it logged why): a writer needs the whole state.
            rng = await self.backend.fetch_ledger_range()
            assert rng is not None
            self.cache.clear()
            self.verifier = None
            await self.cache.load_from(self.backend, rng.max_sequence)
        if self.settings.verify_state and self.verifier is None:
            verifier = StateVerifier()
            verifier.load(self.cache.items(), self.cache.latest_sequence)
            self.verifier = verifier
            self._note_state_memory()
        self.status.is_writer = True
        self.status.phase = Phase.WRITING

    # -- the writer --------------------------------------------------------------------------

    async def _write(self, seq: int) -> bool:
        """Fetch, verify and commit ``seq``; True once committed (by us or, identically, by another)."""
        if self.pool.network_validated < seq:
            await self._sleep(self.settings.poll_interval)
            return False
        fetched = await self._fetch_verified(seq)
        if fetched is None:
            return False
        objects = fetched.objects
        previous = fetched.previous
        links = self.cache.apply_ledger(objects, seq)
        rows = fetched.rows
        write = LedgerWrite(
            sequence=seq,
            header=fetched.header_blob,
            ledger_hash=fetched.header.hash,
            objects=objects,
            successors=links,
            transactions=rows.transactions,
            account_transactions=rows.account_transactions,
            nfts=rows.nfts,
            nft_transactions=rows.nft_transactions,
            mpt_holders=rows.mpt_holders,
        )
        while True:
            try:
                await self.backend.write_ledger(write)
                break
            except WriteConflict as e:
                self.log.warn(  # noqa: G010
                    "write of ledger {seq} lost the writer fence ({why}): now a reader",
                    seq=seq,
                    why=e,
                )
                self.status.is_writer = False
                self.status.phase = Phase.READING
                self._last_progress = self.clock.seconds()
                self._drop_prefetched()
                # Put the cache and state map back at seq - 1: the reader step applies
                # seq from the store if the other writer committed it, and a later
                # takeover refetches it (its successor links need the old state).
                self._undo(previous, seq - 1)
                return False
            except Exception as e:
                self.log.warn("write of ledger {seq} failed ({why}); retrying", seq=seq, why=e)  # noqa: G010
                await self._sleep(self.settings.retry_delay)
        self._last_hash = fetched.header.hash
        self._committed(seq, written=True)
        return True

    async def _fetch_verified(self, seq: int) -> FetchedLedger | None:
        """Fetch ``seq`` (prefetching the next validated ones) and check it; refetch once on a mismatch."""
        failures = 0
        while True:
            self._prefetch(seq)
            fetched = await self._inflight.pop(seq)
            if isinstance(fetched, Exception):
                self.log.warn(  # noqa: G010
                    "fetching ledger {seq} failed ({why}); retrying", seq=seq, why=fetched
                )
                await self._sleep(self.settings.retry_delay)
                return None
            try:
                self._verify(fetched)
                return fetched
            except VerificationError as e:
                failures += 1
                if failures >= 2:
                    self._fail(f"ledger {seq} failed verification twice, not written: {e}")
                    return None
                self.log.warn(  # noqa: G010
                    "ledger {seq} failed verification ({why}); refetching", seq=seq, why=e
                )

    def _prefetch(self, seq: int) -> None:
        """Start fetching ``seq`` and the next validated ledgers (up to ``prefetch`` in flight).

        Fetching only reads from the sources; verification and the commit stay
        in sequence order, so prefetching changes no outcome, only latency.
        """
        top = min(seq + max(1, self.settings.prefetch) - 1, self.pool.network_validated)
        for s in range(seq, max(seq, top) + 1):
            if s not in self._inflight:
                self._inflight[s] = Deferred.fromCoroutine(self._fetch_or_error(s))

    async def _fetch_or_error(self, seq: int) -> FetchedLedger | Exception:
        try:
            return await fetch_ledger(self.pool, seq)
        except (SourceError, CancelledError) as e:
            return e

    def _drop_prefetched(self, upto: int | None = None) -> None:
        """Forget fetches for ledgers up to ``upto`` (all when None): someone else wrote them."""
        for s in [s for s in self._inflight if upto is None or s <= upto]:
            d = self._inflight.pop(s)
            d.cancel()
            d.addErrback(lambda _: None)

    def _verify(self, fetched: FetchedLedger) -> None:
        header = fetched.header
        check_header(header, fetched.announced_hash, self._last_hash)
        check_transactions(header, fetched.rows.transactions)
        previous = {o.key: self.cache.peek(o.key) for o in fetched.objects}
        fetched.previous.clear()
        fetched.previous.update(previous)
        if self.verifier is not None:
            self.verifier.check(header, fetched.objects, previous)
            self._note_state_memory()

    def _undo(self, previous: dict[bytes, bytes | None], sequence: int) -> None:
        """Return the cache and the state map to their state before a ledger that was not committed."""
        restore = [LedgerObject(k, v or b"", sequence) for k, v in previous.items()]
        self.cache.update(restore, sequence)
        self.cache.latest_sequence = sequence
        if self.verifier is not None:
            self.verifier.apply(restore)
            self.verifier.sequence = sequence

    # -- bookkeeping -------------------------------------------------------------------------

    def _committed(self, seq: int, written: bool) -> None:
        now = self.clock.seconds()
        self._last_progress = now
        self.status.last_committed = seq
        self.status.last_commit_time = now
        for callback in self._listeners:
            try:
                callback(seq)
            except Exception:
                self.log.failure("ledger listener failed")

    def _fail(self, why: str) -> None:
        self.log.error("{why}; this server stops writing", why=why)
        self.status.error = why
        self.status.phase = Phase.FAILED
        self.status.is_writer = False
        self._drop_prefetched()

    def _note_state_memory(self) -> None:
        if self.verifier is not None:
            self.status.state_map_bytes = self.verifier.memory_estimate()
