"""An IBackend that counts what it forwards: Clio's backend metrics, with the stores left untouched.

Every read and write goes to ``inner`` unchanged; around it this wrapper
feeds :class:`clio_twisted.metrics.Metrics` as Clio's backend counters do:
``backend_operations_total_number{operation="read_async"|"write_async", status="completed"|"error"}``,
the number in flight (``backend_operations_current_number{..., status="pending"}``),
the duration histogram (``read`` / ``write``, milliseconds) and
``backend_too_busy_total_number`` when a read is refused for overload. One
wrapper serves SQLite and Cassandra alike, so neither store knows metrics exist.
Attributes that are not part of IBackend (``path``, ``read_only``...) are the
inner store's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from zope.interface import implementer

from twisted.internet.interfaces import IReactorTime

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
)

T = TypeVar("T")


@implementer(IBackend)
class InstrumentedBackend:
    """Counts operations and durations of ``inner`` into ``metrics`` (a ``Metrics``)."""

    def __init__(self, inner: IBackend, metrics: Any, clock: IReactorTime) -> None:
        self._inner = inner
        self._metrics = metrics
        self._clock = clock
        self._pending = {"read_async": 0, "write_async": 0}

    @property
    def inner(self) -> IBackend:
        return self._inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def _timed(self, operation: str, kind: str, call: Callable[[], Awaitable[T]]) -> T:
        metrics = self._metrics
        self._pending[operation] += 1
        metrics.backend_pending(operation, self._pending[operation])
        started = self._clock.seconds()
        try:
            result = await call()
        except TooBusy:
            metrics.backend_too_busy()
            metrics.backend_op(operation, "error")
            raise
        except Exception:
            metrics.backend_op(operation, "error")
            raise
        else:
            metrics.backend_op(operation, "completed")
            return result
        finally:
            # a cancelled call (BaseException) still leaves the in-flight count
            self._pending[operation] -= 1
            metrics.backend_pending(operation, self._pending[operation])
            metrics.backend_duration(kind, self._clock.seconds() - started)

    def _read(self, call: Callable[[], Awaitable[T]]) -> Awaitable[T]:
        return self._timed("read_async", "read", call)

    # -- lifecycle and load ------------------------------------------------------------------

    async def start(self) -> None:
        await self._inner.start()

    async def stop(self) -> None:
        await self._inner.stop()

    def is_too_busy(self) -> bool:
        busy: bool = self._inner.is_too_busy()
        return busy

    # -- reads -------------------------------------------------------------------------------

    async def fetch_ledger_range(self) -> LedgerRange | None:
        return await self._read(lambda: self._inner.fetch_ledger_range())

    async def fetch_ledger_by_sequence(self, sequence: int) -> bytes | None:
        return await self._read(lambda: self._inner.fetch_ledger_by_sequence(sequence))

    async def fetch_ledger_by_hash(self, ledger_hash: bytes) -> bytes | None:
        return await self._read(lambda: self._inner.fetch_ledger_by_hash(ledger_hash))

    async def fetch_ledger_object(self, key: bytes, sequence: int) -> bytes | None:
        return await self._read(lambda: self._inner.fetch_ledger_object(key, sequence))

    async def fetch_ledger_objects(
        self, keys: Sequence[bytes], sequence: int
    ) -> list[bytes | None]:
        return await self._read(lambda: self._inner.fetch_ledger_objects(keys, sequence))

    async def fetch_ledger_object_version(self, key: bytes, sequence: int) -> LedgerObject | None:
        return await self._read(lambda: self._inner.fetch_ledger_object_version(key, sequence))

    async def fetch_successor_key(self, key: bytes, sequence: int) -> bytes | None:
        return await self._read(lambda: self._inner.fetch_successor_key(key, sequence))

    async def fetch_ledger_page(
        self, cursor: bytes | None, sequence: int, limit: int
    ) -> LedgerPage:
        return await self._read(lambda: self._inner.fetch_ledger_page(cursor, sequence, limit))

    async def fetch_ledger_diff(self, sequence: int) -> list[LedgerObject]:
        return await self._read(lambda: self._inner.fetch_ledger_diff(sequence))

    async def fetch_transaction(self, tx_hash: bytes) -> TransactionRecord | None:
        return await self._read(lambda: self._inner.fetch_transaction(tx_hash))

    async def fetch_transactions(self, hashes: Sequence[bytes]) -> list[TransactionRecord | None]:
        return await self._read(lambda: self._inner.fetch_transactions(hashes))

    async def fetch_ledger_transaction_hashes(self, sequence: int) -> list[bytes]:
        return await self._read(lambda: self._inner.fetch_ledger_transaction_hashes(sequence))

    async def fetch_ledger_transactions(self, sequence: int) -> list[TransactionRecord]:
        return await self._read(lambda: self._inner.fetch_ledger_transactions(sequence))

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
            lambda: self._inner.fetch_account_transactions(
                account, limit, forward, cursor, min_sequence, max_sequence
            )
        )

    async def fetch_nft(self, token_id: bytes, sequence: int) -> NFT | None:
        return await self._read(lambda: self._inner.fetch_nft(token_id, sequence))

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
            lambda: self._inner.fetch_nft_transactions(
                token_id, limit, forward, cursor, min_sequence, max_sequence
            )
        )

    async def fetch_nfts_by_issuer(
        self, issuer: bytes, taxon: int | None, limit: int, cursor: bytes | None, sequence: int
    ) -> NFTsPage:
        return await self._read(
            lambda: self._inner.fetch_nfts_by_issuer(issuer, taxon, limit, cursor, sequence)
        )

    async def fetch_mpt_holders(
        self, issuance_id: bytes, limit: int, cursor: bytes | None, sequence: int
    ) -> tuple[list[bytes], bytes | None]:
        return await self._read(
            lambda: self._inner.fetch_mpt_holders(issuance_id, limit, cursor, sequence)
        )

    # -- writes ------------------------------------------------------------------------------

    async def write_state_objects(self, sequence: int, objects: Sequence[LedgerObject]) -> None:
        await self._timed(
            "write_async", "write", lambda: self._inner.write_state_objects(sequence, objects)
        )

    async def write_ledger(self, ledger: LedgerWrite) -> None:
        await self._timed("write_async", "write", lambda: self._inner.write_ledger(ledger))
