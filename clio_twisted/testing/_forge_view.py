"""The forge's ledger state and the per-transaction view that writes metadata.

State objects are held as JSON dicts (xrpl.js / xrpl-py field names, the
form the binary codec takes) and are never mutated in place: a change makes a
new dict (nested amounts and lists are replaced, not edited), so the version
a transaction started from stays intact for its metadata.

Metadata follows rippled's rules for which fields go where (SField meta
flags): ``LedgerEntryType`` and ``Indexes`` never appear in field sets;
``PreviousTxnID``/``PreviousTxnLgrSeq`` only in a DeletedNode's FinalFields
(a ModifiedNode carries the object's old pair beside its field sets, the
"threading"); ``RootIndex`` always in final/new fields, never in
PreviousFields; everything else as the defaults say (PreviousFields = the
original values that changed, FinalFields = every final field, NewFields =
the non-default fields of a created object). Creating or deleting an object
threads the accounts that own it (``Account``, ``Destination``, both sides of
a trust line), as rippled does; nodes are sorted by ledger index.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from clio_twisted.protocol import keylets
from clio_twisted.protocol.addresses import decode_address

JsonObject = dict[str, Any]

_NEVER = frozenset({"LedgerEntryType", "Indexes"})
_DELETE_FINAL_ONLY = frozenset({"PreviousTxnID", "PreviousTxnLgrSeq"})
_ALWAYS_ONLY = frozenset({"RootIndex"})
DIR_NODE_MAX_ENTRIES = 32
ZERO_PAGE = "0"  # a UInt64 as our codec writes it: lowercase hex, no leading zeros


def is_default(value: Any) -> bool:
    """Whether a field value is its type's default (omitted from NewFields)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value == 0
    if isinstance(value, str):
        return value in ("", "0", "0000000000000000") or (len(value) == 64 and value == "0" * 64)
    if isinstance(value, list):
        return not value
    return False


def page_hex(page: int) -> str:
    """A directory page number in the codec's UInt64 JSON form (rippled's: ``"1a"``)."""
    return f"{page:x}"


class LedgerState:
    """Every state object of the forge's latest ledger, as JSON, by key.

    ``lazy`` objects are materialised on first read by a factory (used for the
    100k extra accounts, so untouched ones cost a few bytes each).
    """

    def __init__(self) -> None:
        self.objects: dict[bytes, JsonObject] = {}
        self.lazy: dict[bytes, Any] = {}
        self.lazy_factory: Callable[[Any], JsonObject] | None = None

    def get(self, key: bytes) -> JsonObject | None:
        obj = self.objects.get(key)
        if obj is None and key in self.lazy:
            assert self.lazy_factory is not None
            obj = self.lazy_factory(self.lazy.pop(key))
            self.objects[key] = obj
        return obj

    def put(self, key: bytes, obj: JsonObject | None) -> None:
        self.lazy.pop(key, None)
        if obj is None:
            self.objects.pop(key, None)
        else:
            self.objects[key] = obj

    def __contains__(self, key: bytes) -> bool:
        return key in self.objects or key in self.lazy

    def __len__(self) -> int:
        return len(self.objects) + len(self.lazy)


class TxView:
    """One transaction's changes over the ledger state, and its metadata.

    Reads see this transaction's own writes; nothing reaches the state until
    ``commit``.
    """

    def __init__(self, state: LedgerState, tx_id: str, ledger_seq: int) -> None:
        self._state = state
        self.tx_id = tx_id
        self.ledger_seq = ledger_seq
        self._orig: dict[bytes, JsonObject | None] = {}
        self._cur: dict[bytes, JsonObject | None] = {}
        self._threaded: set[bytes] = set()

    # -- reads and writes -------------------------------------------------------

    def read(self, key: bytes) -> JsonObject | None:
        if key in self._cur:
            return self._cur[key]
        return self._state.get(key)

    def peek(self, key: bytes) -> JsonObject:
        """A fresh copy of an object that must exist, to modify and ``update``."""
        obj = self.read(key)
        if obj is None:
            raise KeyError(key.hex())
        return dict(obj)

    def _remember(self, key: bytes) -> None:
        if key not in self._orig:
            self._orig[key] = self._state.get(key)

    def update(self, key: bytes, obj: JsonObject) -> None:
        self._remember(key)
        self._cur[key] = obj

    def insert(self, key: bytes, obj: JsonObject) -> None:
        self._remember(key)
        if self.read(key) is not None:
            raise ValueError(f"object {key.hex()} already exists")
        self._cur[key] = obj

    def erase(self, key: bytes) -> None:
        self._remember(key)
        self._cur[key] = None

    def thread_account(self, address: str) -> None:
        """Mark an account as touched by this transaction (its PreviousTxnID moves)."""
        key = keylets.account(account_id(address))
        obj = self.read(key)
        if obj is not None:
            self.update(key, dict(obj))
            self._threaded.add(key)

    # -- directories (rippled's dirAdd / dirRemove) ---------------------------------

    def dir_add(
        self,
        root: bytes,
        item: bytes,
        describe: Callable[[JsonObject], None],
        preserve_order: bool = False,
    ) -> int:
        """Add ``item`` to the directory at ``root``; returns the page it went to."""
        item_hex = item.hex().upper()
        root_obj = self.read(root)
        if root_obj is None:
            new: JsonObject = {
                "LedgerEntryType": "DirectoryNode",
                "Flags": 0,
                "RootIndex": root.hex().upper(),
                "Indexes": [item_hex],
            }
            describe(new)
            self.insert(root, new)
            return 0
        last = int(root_obj.get("IndexPrevious", ZERO_PAGE), 16)
        node_key = keylets.page(root, last)
        node = self.peek(node_key)
        indexes = list(node["Indexes"])
        if len(indexes) < DIR_NODE_MAX_ENTRIES:
            if preserve_order:
                indexes.append(item_hex)
            else:
                indexes.append(item_hex)
                indexes.sort()
            node["Indexes"] = indexes
            self.update(node_key, node)
            return last
        page = last + 1
        node["IndexNext"] = page_hex(page)
        self.update(node_key, node)
        root_obj = self.peek(root)
        root_obj["IndexPrevious"] = page_hex(page)
        self.update(root, root_obj)
        fresh: JsonObject = {
            "LedgerEntryType": "DirectoryNode",
            "Flags": 0,
            "RootIndex": root.hex().upper(),
            "Indexes": [item_hex],
        }
        if page != 1:
            fresh["IndexPrevious"] = page_hex(page - 1)
        describe(fresh)
        self.insert(keylets.page(root, page), fresh)
        return page

    def dir_remove(self, root: bytes, page: int, item: bytes, keep_root: bool = False) -> None:
        """Remove ``item`` from page ``page`` of the directory at ``root``."""
        node_key = keylets.page(root, page)
        node = self.peek(node_key)
        item_hex = item.hex().upper()
        indexes = [i for i in node["Indexes"] if i != item_hex]
        if len(indexes) == len(node["Indexes"]):
            raise KeyError(f"{item_hex} not in directory page {node_key.hex()}")
        node["Indexes"] = indexes
        self.update(node_key, node)
        if indexes:
            return
        prev_page = int(node.get("IndexPrevious", ZERO_PAGE), 16)
        next_page = int(node.get("IndexNext", ZERO_PAGE), 16)
        if page == 0:
            if not keep_root and prev_page == 0 and next_page == 0:
                self.erase(node_key)
            return
        # Unlink a non-root page (its neighbours point past it) and drop it.
        for neighbour, link, target in (
            (prev_page, "IndexNext", next_page),
            (next_page, "IndexPrevious", prev_page),
        ):
            neighbour_key = keylets.page(root, neighbour)
            other = self.peek(neighbour_key)
            if target:
                other[link] = page_hex(target)
            else:
                other.pop(link, None)  # a link to page 0 is left out
            self.update(neighbour_key, other)
        self.erase(node_key)
        root_obj = self.read(root)
        if (
            not keep_root
            and root_obj is not None
            and not root_obj["Indexes"]
            and "IndexNext" not in root_obj
            and "IndexPrevious" not in root_obj
        ):
            self.erase(root)

    # -- commit ----------------------------------------------------------------------

    def touched(self) -> Iterator[bytes]:
        return iter(self._cur)

    def commit(self, result: str, index: int, extra: JsonObject | None = None) -> JsonObject:
        """Write this transaction's changes to the state and return its metadata JSON.

        Objects created with a ``PreviousTxnID`` (a placeholder) are threaded
        types and get this transaction's id; directories are created without
        one, as before the fixPreviousTxnID amendment.
        """
        # Thread the owners of created and deleted objects first (they join the view).
        for key in list(self._cur):
            orig, cur = self._orig[key], self._cur[key]
            if (orig is None) != (cur is None):
                for owner in _owners(cur if cur is not None else orig):  # type: ignore[arg-type]
                    self.thread_account(owner)
        nodes: list[tuple[bytes, JsonObject]] = []
        for key in sorted(self._cur):
            orig, cur = self._orig[key], self._cur[key]
            if orig is None and cur is None:
                continue
            if orig is None:
                assert cur is not None
                if "PreviousTxnID" in cur:
                    cur["PreviousTxnID"] = self.tx_id
                    cur["PreviousTxnLgrSeq"] = self.ledger_seq
                nodes.append((key, _created_node(key, cur)))
            elif cur is None:
                nodes.append((key, _deleted_node(key, orig, orig)))
            else:
                if cur == orig and "PreviousTxnID" not in orig:
                    continue
                node = _modified_node(key, orig, cur)
                if "PreviousTxnID" in orig:
                    body = node["ModifiedNode"]
                    body["PreviousTxnID"] = orig["PreviousTxnID"]
                    body["PreviousTxnLgrSeq"] = orig["PreviousTxnLgrSeq"]
                    cur["PreviousTxnID"] = self.tx_id
                    cur["PreviousTxnLgrSeq"] = self.ledger_seq
                nodes.append((key, node))
        for key, cur in self._cur.items():
            self._state.put(key, cur)
        meta: JsonObject = {
            "AffectedNodes": [node for _, node in nodes],
            "TransactionIndex": index,
            "TransactionResult": result,
        }
        if extra:
            meta.update(extra)
        return meta


def _owners(obj: JsonObject) -> list[str]:
    kind = obj["LedgerEntryType"]
    if kind == "AccountRoot":
        return []
    if kind == "RippleState":
        return [obj["LowLimit"]["issuer"], obj["HighLimit"]["issuer"]]
    return [obj[f] for f in ("Account", "Destination") if f in obj]


def _created_node(key: bytes, cur: JsonObject) -> JsonObject:
    new = {
        k: v
        for k, v in cur.items()
        if k not in _NEVER
        and k not in _DELETE_FINAL_ONLY
        and (k in _ALWAYS_ONLY or not is_default(v))
    }
    node: JsonObject = {"LedgerEntryType": cur["LedgerEntryType"], "LedgerIndex": key.hex().upper()}
    if new:
        node["NewFields"] = new
    return {"CreatedNode": node}


def _previous_fields(orig: JsonObject, cur: JsonObject) -> JsonObject:
    return {
        k: v
        for k, v in orig.items()
        if k not in _NEVER
        and k not in _DELETE_FINAL_ONLY
        and k not in _ALWAYS_ONLY
        and cur.get(k) != v
    }


def _modified_node(key: bytes, orig: JsonObject, cur: JsonObject) -> JsonObject:
    node: JsonObject = {"LedgerEntryType": cur["LedgerEntryType"], "LedgerIndex": key.hex().upper()}
    final = {k: v for k, v in cur.items() if k not in _NEVER and k not in _DELETE_FINAL_ONLY}
    prev = _previous_fields(orig, cur)
    if final:
        node["FinalFields"] = final
    if prev:
        node["PreviousFields"] = prev
    return {"ModifiedNode": node}


def _deleted_node(key: bytes, orig: JsonObject, last: JsonObject) -> JsonObject:
    node: JsonObject = {
        "LedgerEntryType": last["LedgerEntryType"],
        "LedgerIndex": key.hex().upper(),
    }
    final = {k: v for k, v in last.items() if k not in _NEVER}
    prev = _previous_fields(orig, last)
    if final:
        node["FinalFields"] = final
    if prev:
        node["PreviousFields"] = prev
    return {"DeletedNode": node}


_ACCOUNT_IDS: dict[str, bytes] = {}


def account_id(address: str) -> bytes:
    """The 20-byte account ID of a classic address (cached)."""
    found = _ACCOUNT_IDS.get(address)
    if found is None:
        found = decode_address(address)
        if len(_ACCOUNT_IDS) < 1_000_000:
            _ACCOUNT_IDS[address] = found
    return found
