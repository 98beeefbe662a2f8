"""The latest ledger's whole state in memory: key -> blob, with keys in order.

The ETL fills it as it ingests (so it can compute the successor links every
ledger write carries, and book-base links), and readers load it from the
store in the background at start-up. Lookups at older sequences fall through
to the store; successor walks are served only when the cache is full and the
asked sequence is the latest.

While a background load runs, newer ledgers keep being applied: every key
they touch is remembered, so a page loaded from the (older) snapshot never
overwrites or resurrects it (Clio's "deletes" set, generalised to updates).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from attrs import define, field
from sortedcontainers import SortedList

from twisted.logger import Logger

from clio_twisted.backend.interface import FIRST_KEY, LAST_KEY, IBackend, LedgerObject

BOOK_BASE_PREFIX = 24  # a book directory's key is its book base (24 bytes) + 8 bytes of quality
_DIRECTORY_NODE = 0x0064
# Owner (sfOwner, AccountID field 2) marks an owner directory; book directories have none.
_SF_OWNER = b"\x82"


def is_book_directory(blob: bytes) -> bool:
    """A DirectoryNode that is an order-book page (it has no Owner), as Clio's ``isBookDir``.

    The field scan is cheap: sfOwner's header byte 0x82 is followed by a VL
    length byte 0x14 (20); we look for that pair on field boundaries by
    decoding lazily only when the byte pair occurs at all.
    """
    if len(blob) < 3 or blob[0] != 0x11 or int.from_bytes(blob[1:3], "big") != _DIRECTORY_NODE:
        return False
    if b"\x82\x14" not in blob:
        return True
    from clio_twisted.etl.extract import decode_binary

    return "Owner" not in decode_binary(blob)


def book_base(key: bytes) -> bytes:
    return key[:BOOK_BASE_PREFIX] + bytes(32 - BOOK_BASE_PREFIX)


@define
class LoadProgress:
    loading: bool = False
    loaded: int = 0
    done: bool = False


@define
class StateCache:
    """Ordered key -> blob map of the newest ledger's state."""

    log = Logger()

    _objects: dict[bytes, bytes] = field(factory=dict)
    _keys: SortedList = field(factory=SortedList)
    latest_sequence: int = 0
    full: bool = False
    disabled: bool = False
    progress: LoadProgress = field(factory=LoadProgress)
    _touched_while_loading: set[bytes] | None = None
    hits: int = 0
    requests: int = 0

    def __len__(self) -> int:
        return len(self._objects)

    # -- reads -----------------------------------------------------------------------------

    def get(self, key: bytes, sequence: int) -> bytes | None:
        """The live blob at the latest sequence, or None when unknown here (ask the store)."""
        self.requests += 1
        if self.disabled or sequence != self.latest_sequence:
            return None
        blob = self._objects.get(key)
        if blob is not None:
            self.hits += 1
        return blob

    def peek(self, key: bytes) -> bytes | None:
        """The blob held for ``key`` whatever the sequence (no hit counting)."""
        return self._objects.get(key)

    def contains(self, key: bytes) -> bool:
        return key in self._objects

    def successor(self, key: bytes, sequence: int | None = None) -> bytes | None:
        """The first live key strictly after ``key``; None past the last, or when not answerable."""
        if not self.full or (sequence is not None and sequence != self.latest_sequence):
            return None
        i = self._keys.bisect_right(key)
        return self._keys[i] if i < len(self._keys) else None

    def predecessor(self, key: bytes) -> bytes | None:
        i = self._keys.bisect_left(key)
        return self._keys[i - 1] if i > 0 else None

    def _next_or_last(self, key: bytes) -> bytes:
        i = self._keys.bisect_right(key)
        return self._keys[i] if i < len(self._keys) else LAST_KEY

    def keys(self) -> Iterable[bytes]:
        return iter(self._keys)

    def items(self) -> Iterable[tuple[bytes, bytes]]:
        return ((k, self._objects[k]) for k in self._keys)

    # -- writes ----------------------------------------------------------------------------

    def clear(self) -> None:
        """Forget everything (the same object stays shared with the RPC layer)."""
        self._objects.clear()
        self._keys.clear()
        self.latest_sequence = 0
        self.full = False
        self.progress = LoadProgress()
        self._touched_while_loading = None

    def _put(self, key: bytes, blob: bytes) -> None:
        if blob:
            if key not in self._objects:
                self._keys.add(key)
            self._objects[key] = blob
        elif key in self._objects:
            del self._objects[key]
            self._keys.remove(key)

    def update(self, objects: Sequence[LedgerObject], sequence: int) -> None:
        """Apply one ledger's changes (``b""`` deletes) and move to ``sequence``."""
        for obj in objects:
            self._put(obj.key, obj.blob)
            if self._touched_while_loading is not None:
                self._touched_while_loading.add(obj.key)
        self.latest_sequence = max(self.latest_sequence, sequence)

    def apply_ledger(
        self, objects: Sequence[LedgerObject], sequence: int
    ) -> list[tuple[bytes, bytes]]:
        """Apply one ledger and return the successor links it changed, book bases included.

        A link is (key, next live key) as of ``sequence``, with FIRST_KEY as the
        head and LAST_KEY as the tail. For each created key, the key and its new
        predecessor get links; for each deleted key, its predecessor does; for
        each book directory created or deleted, its book base gets the link to
        the book's first directory (LAST_KEY when the book is now empty), as
        Clio keeps them. Needs a full cache.
        """
        created = [o.key for o in objects if o.blob and o.key not in self._objects]
        deleted = [o.key for o in objects if not o.blob and o.key in self._objects]
        books: set[bytes] = set()
        for o in objects:
            old = self._objects.get(o.key)
            if (o.blob and old is None and is_book_directory(o.blob)) or (
                not o.blob and old is not None and is_book_directory(old)
            ):
                books.add(book_base(o.key))
        self.update(objects, sequence)
        heads: set[bytes] = set(created)
        for key in (*created, *deleted):
            heads.add(self.predecessor(key) or FIRST_KEY)
        links = [(k, self._next_or_last(k)) for k in sorted(heads)]
        links.extend(self.book_links(books))
        return links

    def book_links(self, bases: Iterable[bytes]) -> list[tuple[bytes, bytes]]:
        """(book base, first directory of that book or LAST_KEY) for each base."""
        links = []
        for base in sorted(bases):
            nxt = self._next_or_last(base)
            links.append(
                (base, nxt if nxt[:BOOK_BASE_PREFIX] == base[:BOOK_BASE_PREFIX] else LAST_KEY)
            )
        return links

    def full_links(self) -> list[tuple[bytes, bytes]]:
        """Every successor link of the whole state (head to tail) plus every book base link."""
        keys = list(self._keys)
        chain = list(zip([FIRST_KEY, *keys], [*keys, LAST_KEY], strict=True))
        bases = {
            book_base(k)
            for k, blob in self.items()
            if blob[1:3] == b"\x00\x64" and is_book_directory(blob)
        }
        return chain + self.book_links(bases)

    # -- background load from the store ----------------------------------------------------

    async def load_from(self, backend: IBackend, sequence: int, page_size: int = 2048) -> None:
        """Fill from the store's state at ``sequence``, while newer ledgers may be applied meanwhile."""
        self.progress = LoadProgress(loading=True)
        self._touched_while_loading = set()
        self.latest_sequence = max(self.latest_sequence, sequence)
        cursor: bytes | None = None
        try:
            while True:
                page = await backend.fetch_ledger_page(cursor, sequence, page_size)
                for obj in page.objects:
                    if obj.key not in self._touched_while_loading:
                        self._put(obj.key, obj.blob)
                self.progress.loaded += len(page.objects)
                if page.cursor is None:
                    break
                cursor = page.cursor
        finally:
            self._touched_while_loading = None
            self.progress.loading = False
        self.full = True
        self.progress.done = True
        self.log.info(
            "state cache loaded: {n} objects at ledger {seq}", n=len(self), seq=self.latest_sequence
        )

    def to_json(self) -> dict[str, object]:
        """Clio's server_info ``cache`` section."""
        return {
            "size": len(self),
            "is_enabled": not self.disabled,
            "is_full": self.full,
            "latest_ledger_seq": self.latest_sequence,
            "object_hit_rate": (self.hits / self.requests) if self.requests else 1.0,
            "loading": self.progress.loading,
            "loaded": self.progress.loaded,
        }
