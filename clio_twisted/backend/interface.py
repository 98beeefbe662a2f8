"""What the API and the ETL need from storage, and nothing more.

Every read is bounded by a ledger sequence: a reader never looks past the
stored range's max, so rows written for a ledger that is not yet committed
(or whose commit lost the writer fence) are invisible. Writing a ledger is one
call that stores all its rows first and advances the range last; that last step
is the commit point and the single-writer fence.

All methods are ``async``: implementations never block the reactor thread.
Keys, hashes and account ids are raw bytes (32, 32 and 20 bytes); blobs are
XRPL binary exactly as rippled serialises them. A deletion is stored as a
version whose blob is empty (``b""``).
"""

from __future__ import annotations

from collections.abc import Sequence

from attrs import field, frozen
from zope.interface import Interface

FIRST_KEY = bytes(32)
LAST_KEY = b"\xff" * 32


@frozen
class LedgerRange:
    """The contiguous stored range; both ends are complete, committed ledgers."""

    min_sequence: int
    max_sequence: int

    def __contains__(self, sequence: object) -> bool:
        return isinstance(sequence, int) and self.min_sequence <= sequence <= self.max_sequence


@frozen
class LedgerObject:
    """One version of one state object; ``blob == b""`` means deleted at ``sequence``."""

    key: bytes
    blob: bytes
    sequence: int = 0


@frozen
class LedgerPage:
    """A page of live objects in key order; ``cursor`` is the next key to ask from, or None at the end."""

    objects: list[LedgerObject]
    cursor: bytes | None


@frozen
class TransactionRecord:
    """A validated transaction: its blobs, where it is, and its ledger's close time."""

    hash: bytes
    ledger_sequence: int
    transaction_index: int
    date: int  # close time of its ledger, seconds since the XRPL epoch
    transaction: bytes
    metadata: bytes


@frozen(order=True)
class TxCursor:
    """A position in a transaction history: (ledger sequence, index in ledger)."""

    ledger_sequence: int
    transaction_index: int


@frozen
class TransactionsPage:
    """A page of history, newest first unless walking forward.

    ``cursor`` is rippled's marker: the position of the first row *not*
    returned (so passing it back resumes exactly there), or None when the walk
    is complete.
    """

    transactions: list[TransactionRecord]
    cursor: TxCursor | None


@frozen
class AccountTransactionRow:
    account: bytes
    ledger_sequence: int
    transaction_index: int
    hash: bytes


@frozen
class NFT:
    """An NFToken's state as of some ledger."""

    token_id: bytes
    ledger_sequence: int
    owner: bytes
    is_burned: bool
    uri: bytes | None = None


@frozen
class NFTsPage:
    nfts: list[NFT]
    cursor: bytes | None  # the token id to resume from (exclusive), or None at the end


@frozen
class NFTTransactionRow:
    token_id: bytes
    ledger_sequence: int
    transaction_index: int
    hash: bytes


@frozen
class MPTHolderRow:
    """A holder of an MPT issuance, recorded when its MPToken object is written at ``sequence``.

    Whether the holder still holds as of a ledger is read from the MPToken object
    itself (``mptoken_key``): a deleted MPToken drops the holder from the answer.
    """

    issuance_id: bytes  # 24 bytes
    holder: bytes  # 20-byte account id
    sequence: int
    mptoken_key: bytes  # the MPToken ledger object's key


@frozen
class LedgerWrite:
    """Everything one ledger adds to the store, committed atomically by ``write_ledger``.

    ``objects`` are the new versions of every object created, modified or
    deleted (``b""``) in this ledger; ``successors`` are the (key, next key)
    links that hold as of this ledger for every key whose successor changed
    (computed by the ETL from its ordered cache; backends that keep their own
    ordered index may ignore them). ``is_first`` marks the first ledger of an
    empty store: it sets the range's min too and its objects are the full state.
    """

    sequence: int
    header: bytes
    ledger_hash: bytes
    objects: Sequence[LedgerObject] = ()
    successors: Sequence[tuple[bytes, bytes]] = ()
    transactions: Sequence[TransactionRecord] = ()
    account_transactions: Sequence[AccountTransactionRow] = ()
    nfts: Sequence[NFT] = ()
    nft_transactions: Sequence[NFTTransactionRow] = ()
    mpt_holders: Sequence[MPTHolderRow] = ()
    is_first: bool = field(default=False)


class WriteConflict(Exception):
    """Another writer advanced the range first: this server must become a reader."""


class DatabaseTimeout(Exception):
    """The store did not answer in time; handlers answer ``tooBusy``."""


class TooBusy(Exception):
    """Too many reads in flight; handlers answer ``tooBusy``."""


class IBackend(Interface):
    """Storage for validated ledgers. Implementations: sqlite, cassandra, and tests' in-memory fake."""

    async def start() -> None:
        """Connect, create the schema when missing (not in read-only mode), and get ready."""

    async def stop() -> None:
        """Finish writes in flight and release connections and threads."""

    # -- ledgers and the range -------------------------------------------------------------

    async def fetch_ledger_range() -> LedgerRange | None:
        """The committed range, or None for an empty store."""

    async def fetch_ledger_by_sequence(sequence: int) -> bytes | None:
        """The 118-byte header blob of a stored ledger."""

    async def fetch_ledger_by_hash(ledger_hash: bytes) -> bytes | None:
        """The header blob of the stored ledger with this hash."""

    # -- state -----------------------------------------------------------------------------

    async def fetch_ledger_object(key: bytes, sequence: int) -> bytes | None:
        """The object as of ``sequence``; None when it does not exist (or was deleted) then."""

    async def fetch_ledger_objects(keys: Sequence[bytes], sequence: int) -> list[bytes | None]:
        """Many objects as of ``sequence``, in the order of ``keys``."""

    async def fetch_ledger_object_version(key: bytes, sequence: int) -> LedgerObject | None:
        """The newest version at or before ``sequence`` (a deletion shows as ``blob == b""``)."""

    async def fetch_successor_key(key: bytes, sequence: int) -> bytes | None:
        """The first live key strictly after ``key`` as of ``sequence``; None past the last."""

    async def fetch_ledger_page(cursor: bytes | None, sequence: int, limit: int) -> LedgerPage:
        """Up to ``limit`` live objects with keys strictly after ``cursor`` (from the start if None)."""

    async def fetch_ledger_diff(sequence: int) -> list[LedgerObject]:
        """The objects created, modified or deleted in ``sequence``, in key order."""

    # -- transactions ----------------------------------------------------------------------

    async def fetch_transaction(tx_hash: bytes) -> TransactionRecord | None:
        """A stored transaction by hash (any ledger the store ever held)."""

    async def fetch_transactions(hashes: Sequence[bytes]) -> list[TransactionRecord | None]:
        """Many transactions, in the order of ``hashes``."""

    async def fetch_ledger_transaction_hashes(sequence: int) -> list[bytes]:
        """The hashes of the ledger's transactions, in TransactionIndex order."""

    async def fetch_ledger_transactions(sequence: int) -> list[TransactionRecord]:
        """The ledger's transactions, in TransactionIndex order."""

    async def fetch_account_transactions(
        account: bytes,
        limit: int,
        forward: bool,
        cursor: TxCursor | None,
        min_sequence: int,
        max_sequence: int,
    ) -> TransactionsPage:
        """History of ``account`` within [min_sequence, max_sequence], from ``cursor`` inclusive."""

    # -- NFTs and MPTs ---------------------------------------------------------------------

    async def fetch_nft(token_id: bytes, sequence: int) -> NFT | None:
        """The NFT's owner, burn state and URI as of ``sequence``."""

    async def fetch_nft_transactions(
        token_id: bytes,
        limit: int,
        forward: bool,
        cursor: TxCursor | None,
        min_sequence: int,
        max_sequence: int,
    ) -> TransactionsPage:
        """History of one NFT, paged like account history."""

    async def fetch_nfts_by_issuer(
        issuer: bytes, taxon: int | None, limit: int, cursor: bytes | None, sequence: int
    ) -> NFTsPage:
        """NFTs minted by ``issuer`` (optionally one taxon), ordered by (taxon, token id)."""

    async def fetch_mpt_holders(
        issuance_id: bytes, limit: int, cursor: bytes | None, sequence: int
    ) -> tuple[list[bytes], bytes | None]:
        """MPToken object keys of the issuance's holders as of ``sequence``, ordered by holder; and a cursor."""

    # -- writing ---------------------------------------------------------------------------

    async def write_state_objects(sequence: int, objects: Sequence[LedgerObject]) -> None:
        """Store part of the initial load's state at ``sequence`` before ``write_ledger`` commits it."""

    async def write_ledger(ledger: LedgerWrite) -> None:
        """Store every row of the ledger, then advance the range (the commit and the fence).

        Raises WriteConflict when another writer got there first. Rewriting the
        ledger that is already the max, with the same hash, succeeds (idempotent).
        """

    def is_too_busy() -> bool:
        """Whether reads in flight are at the configured bound."""
