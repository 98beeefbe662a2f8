"""The ledger forge: consecutive, hash-consistent ledgers grown from a real one.

Start from a real validated ledger (mainnet 38129, shipped gzipped in
``testing/data``) and produce any number of successors, deterministically
from a seed. Each forged ledger holds real-format transactions (fake but
well-formed signatures; the id is SHA512Half("TXN\\0" + blob)) with the
metadata rippled would write for them, keeps owner and order-book
directories, the LedgerHashes skip lists, and carries correct hashes:
parent chain, transaction_hash, account_hash (a SHAMap kept incrementally) and
ledger_hash.

Transaction kinds: XRP payments (some creating accounts), TrustSet, IOU
payments (issue, redeem, and holder to holder through the issuer), OfferCreate resting on the book, OfferCancel,
AccountSet, NFTokenMint, NFTokenCreateOffer, EscrowCreate, CheckCreate,
TicketCreate. Every one succeeds (tesSUCCESS); the forge only generates
transactions whose preconditions hold in its state.

For benchmarks the forge can add ``accounts`` extra funded accounts up front.
They cannot be in the real ledger, so the start then becomes a synthetic
ledger with the real one's sequence, parent and close times but a state with
the extra accounts (funded from the richest real account, so total coins
stay the same) and hence its own account_hash and ledger hash.
"""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Callable, Iterator
from importlib import resources

from clio_twisted.protocol import codec as _codec
from clio_twisted.protocol import keylets
from clio_twisted.protocol.addresses import encode_account_id as encode_classic_address
from clio_twisted.protocol.hashing import sha512_half, transaction_id
from clio_twisted.protocol.ledger_header import LedgerHeader
from clio_twisted.protocol.shamap import SHAMap, transaction_tree_hash
from clio_twisted.testing._forge_view import (
    JsonObject,
    LedgerState,
    TxView,
    account_id,
    page_hex,
)
from clio_twisted.testing.chain import ChainLedger

__all__ = ["Forge", "from_binary", "load_fixture_ledger", "to_binary"]


# -- the one codec adapter ------------------------------------------------------------
# Both directions go through our codec, so the forge needs nothing beyond the
# package. State objects are held in the JSON form our decoder gives (rippled's):
# UInt64 fields (directory pages, ExchangeRate) as lowercase hex without leading
# zeros, which is also how the forge writes the ones it sets (``page_hex``), so
# an unchanged field compares equal and never lands in PreviousFields. Tests
# check every blob against xrpl-py independently.


def to_binary(obj: JsonObject) -> bytes:
    """Serialise a transaction, metadata or ledger object (rippled / xrpl.js JSON)."""
    return _codec.encode(obj)


def from_binary(blob: bytes) -> JsonObject:
    """Decode a blob to the JSON form the forge holds its state in."""
    return _codec.decode(blob)


# -- the real starting ledgers ---------------------------------------------------------


def _fixture_json(sequence: int) -> JsonObject:
    data = resources.files("clio_twisted.testing") / "data" / f"mainnet-{sequence}-full.json.gz"
    loaded: JsonObject = json.loads(gzip.decompress(data.read_bytes()))
    return loaded


def header_from_json(data: JsonObject) -> LedgerHeader:
    """The header of a rippled ``ledger`` JSON answer (its fields, not its ``ledger_hash``).

    ``close_flags`` is 0 when the JSON has none.
    """
    return LedgerHeader(
        sequence=int(data["ledger_index"]),
        total_drops=int(data["total_coins"]),
        parent_hash=bytes.fromhex(data["parent_hash"]),
        transaction_hash=bytes.fromhex(data["transaction_hash"]),
        account_hash=bytes.fromhex(data["account_hash"]),
        parent_close_time=int(data["parent_close_time"]),
        close_time=int(data["close_time"]),
        close_time_resolution=int(data["close_time_resolution"]),
        close_flags=int(data.get("close_flags", 0)),
    )


def load_fixture_ledger(sequence: int = 38129) -> ChainLedger:
    """A shipped real mainnet ledger (38129 or 40000) as the first ledger of a chain.

    ``changes`` is its full state; ``transactions`` its transactions with
    metadata. The header is rebuilt from the fixture's fields, so its hash is
    checked against the recorded ledger hash.
    """
    raw = _fixture_json(sequence)
    header = header_from_json(raw)
    if header.hash.hex().upper() != raw["ledger_hash"]:
        raise ValueError(f"fixture {sequence}: header does not hash to its ledger_hash")
    state: dict[bytes, bytes | None] = {}
    for obj in raw["accountState"]:
        obj = dict(obj)
        key = bytes.fromhex(obj.pop("index"))
        state[key] = to_binary(obj)
    txs = []
    for tx in raw.get("transactions", []):
        tx = dict(tx)
        meta = tx.pop("metaData")
        tx.pop("hash", None)
        blob = to_binary(tx)
        txs.append((transaction_id(blob), blob, to_binary(meta)))
    txs.sort(key=lambda item: int(from_binary(item[2])["TransactionIndex"]))
    return ChainLedger(header=header, transactions=tuple(txs), changes=state)


# -- constants of the forged world ---------------------------------------------------------

FEE_DROPS = 10
XRP = 1_000_000
ACCOUNT_ONE = "rrrrrrrrrrrrrrrrrrrrBZbvji"
_PLACEHOLDER_TXN = "0" * 64
_FAKE_SIGNATURE = (
    "3045022100"
    + sha512_half(b"forge-r").hex().upper()
    + "0220"
    + sha512_half(b"forge-s").hex().upper()
)
CLOSE_INTERVAL = 10

LSF_LOW_RESERVE = 0x00010000
LSF_HIGH_RESERVE = 0x00020000
LSF_LOW_NO_RIPPLE = 0x00100000
LSF_HIGH_NO_RIPPLE = 0x00200000
LSF_DEFAULT_RIPPLE = 0x00800000
LSF_SELL_NFTOKEN = 0x00000001
LSF_NFTOKEN_SELL_OFFERS = 0x00000002
TF_SET_NO_RIPPLE = 0x00020000
TF_TRANSFERABLE = 0x00000008
TF_SELL_NFTOKEN = 0x00000001
ASF_DEFAULT_RIPPLE = 8
NFT_PAGE_MAX = 32

_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("payment_xrp", 24),
    ("create_account", 5),
    ("trust_set", 10),
    ("iou_payment", 10),
    ("iou_transfer", 4),
    ("offer_create", 10),
    ("offer_cancel", 6),
    ("account_set", 5),
    ("nft_mint", 8),
    ("nft_offer", 5),
    ("escrow_create", 5),
    ("check_create", 4),
    ("ticket_create", 4),
)

Applier = Callable[[TxView, JsonObject], JsonObject | None]


def _owner_describer(address: str) -> Callable[[JsonObject], None]:
    def describe(node: JsonObject) -> None:
        node["Owner"] = address

    return describe


def _value(v: int) -> str:
    return str(v)


def _iou(currency: str, issuer: str, units: int) -> JsonObject:
    """A token amount of whole ``units``."""
    return {"currency": currency, "issuer": issuer, "value": _value(units)}


def _payment(sender: str, destination: str, amount: str | JsonObject) -> JsonObject:
    """The partial Payment JSON every payment generator submits (drops as a string, or a token)."""
    return {
        "TransactionType": "Payment",
        "Account": sender,
        "Destination": destination,
        "Amount": amount,
    }


def round_close_time(close_time: int, resolution: int) -> int:
    """rippled's rounding of a close time to the nearest multiple of ``resolution`` (halves up)."""
    if resolution <= 0:
        return close_time
    return (close_time + resolution // 2) // resolution * resolution


class Forge:
    """Grows a chain of ledgers from ``start``; deterministic for a seed.

    Args:
        start: the first ledger, whose ``changes`` hold its full state (e.g.
            ``load_fixture_ledger()``).
        seed: every choice the forge makes comes from ``random.Random(seed)``.
        accounts: extra funded accounts to add to the start state (scale).
        txs_per_ledger: transactions in each forged ledger.
    """

    def __init__(
        self, start: ChainLedger, seed: int, accounts: int = 0, txs_per_ledger: int = 20
    ) -> None:
        self._rng = random.Random(seed)
        self._txs_per_ledger = txs_per_ledger
        self._state = LedgerState()
        self._state.lazy_factory = self._extra_account_json
        self._tree = SHAMap()
        participants: list[tuple[int, str]] = []
        for key, blob in start.changes.items():
            if blob is None:
                continue
            obj = from_binary(blob)
            self._state.objects[key] = obj
            self._tree.set(key, blob)
            if obj["LedgerEntryType"] == "AccountRoot":
                participants.append((int(obj["Balance"]), obj["Account"]))
        participants.sort()
        self._bank = participants[-1][1]
        self._participants: list[str] = [a for _, a in participants]
        self._gateways: list[tuple[str, str]] = []  # (address, currency)
        self._lines: list[tuple[str, str, str]] = []  # (holder, gateway, currency)
        self._line_set: set[tuple[str, str, str]] = set()
        self._offers: dict[str, list[int]] = {}
        self._nfts: list[tuple[str, str]] = []  # (owner, token id)
        self._nft_counts: dict[str, int] = {}
        self._bootstrap: list[Callable[[], tuple[JsonObject, Applier] | None]] = [
            lambda: self._gen_create_account(gateway="USD"),
            lambda: self._gen_create_account(gateway="EUR"),
            lambda: self._gen_default_ripple(0),
            lambda: self._gen_default_ripple(1),
        ]
        self._header = start.header
        self._seq = start.header.sequence
        self._close_time = start.header.close_time
        self._extra_seq = start.header.sequence
        self._extra_txn = "0" * 64
        if accounts:
            self.start = self._add_extra_accounts(start, accounts)
        else:
            self.start = start
        self._header = self.start.header

    # -- public ------------------------------------------------------------------------

    @property
    def state_size(self) -> int:
        """How many objects the latest ledger's state holds."""
        return len(self._state)

    def ledgers(self, count: int) -> Iterator[ChainLedger]:
        for _ in range(count):
            yield self.next_ledger()

    def next_ledger(self, close_time: int | None = None) -> ChainLedger:
        """Forge the ledger after the last one (or after the start).

        ``close_time`` (Ripple-epoch seconds, e.g. the wall clock for a live
        demo) is rounded to the parent's close-time resolution and kept strictly
        after the parent's close, as rippled does; without it the ledger closes
        ``CLOSE_INTERVAL`` seconds after its parent, so a seed always forges the
        same chain.
        """
        parent = self._header
        seq = parent.sequence + 1
        if close_time is None:
            close_time = parent.close_time + CLOSE_INTERVAL
        else:
            close_time = round_close_time(close_time, parent.close_time_resolution)
            close_time = max(close_time, parent.close_time + 1)
        self._seq = seq
        self._close_time = close_time
        dirty: set[bytes] = set()
        self._update_skip_lists(seq, parent.hash, dirty)
        items: list[tuple[bytes, bytes, bytes]] = []
        burned = 0
        for index in range(self._txs_per_ledger):
            generated = self._pick()
            tx_id, tx_blob, meta_blob, view = self._submit(generated, index)
            items.append((tx_id, tx_blob, meta_blob))
            dirty.update(view.touched())
            burned += FEE_DROPS
        changes: dict[bytes, bytes | None] = {}
        for key in sorted(dirty):
            obj = self._state.get(key)
            if obj is None:
                # Created and deleted within this ledger: no net change.
                if self._tree.delete(key):
                    changes[key] = None
            else:
                blob = to_binary(obj)
                changes[key] = blob
                self._tree.set(key, blob)
        header = LedgerHeader(
            sequence=seq,
            total_drops=parent.total_drops - burned,
            parent_hash=parent.hash,
            transaction_hash=transaction_tree_hash(items),
            account_hash=self._tree.root_hash(),
            parent_close_time=parent.close_time,
            close_time=close_time,
            close_time_resolution=parent.close_time_resolution,
            close_flags=0,
        )
        self._header = header
        return ChainLedger(header=header, transactions=tuple(items), changes=changes)

    # -- scale ------------------------------------------------------------------------------

    def _extra_account_json(self, address: str) -> JsonObject:
        return {
            "LedgerEntryType": "AccountRoot",
            "Account": address,
            "Balance": str(1000 * XRP),
            "Flags": 0,
            "OwnerCount": 0,
            "PreviousTxnID": self._extra_txn,
            "PreviousTxnLgrSeq": self._extra_seq,
            "Sequence": self._extra_seq,
        }

    def _add_extra_accounts(self, start: ChainLedger, count: int) -> ChainLedger:
        self._extra_seq = start.header.sequence
        self._extra_txn = sha512_half(b"forge-genesis", start.header.hash).hex().upper()
        template_address = encode_classic_address(bytes(20))
        template = to_binary(self._extra_account_json(template_address))
        at = template.index(b"\x81\x14" + bytes(20)) + 2
        changes: dict[bytes, bytes | None] = dict(start.changes)
        for _ in range(count):
            raw = self._rng.randbytes(20)
            address = encode_classic_address(raw)
            key = keylets.account(raw)
            if key in self._state:
                continue
            blob = template[:at] + raw + template[at + 20 :]
            self._state.lazy[key] = address
            self._tree.set(key, blob)
            changes[key] = blob
            self._participants.append(address)
        bank_key = keylets.account(account_id(self._bank))
        bank = dict(self._state.objects[bank_key])
        bank["Balance"] = str(int(bank["Balance"]) - count * 1000 * XRP)
        blob = to_binary(bank)
        self._state.objects[bank_key] = bank
        self._tree.set(bank_key, blob)
        changes[bank_key] = blob
        header = LedgerHeader(
            sequence=start.header.sequence,
            total_drops=start.header.total_drops,
            parent_hash=start.header.parent_hash,
            transaction_hash=start.header.transaction_hash,
            account_hash=self._tree.root_hash(),
            parent_close_time=start.header.parent_close_time,
            close_time=start.header.close_time,
            close_time_resolution=start.header.close_time_resolution,
            close_flags=start.header.close_flags,
        )
        return ChainLedger(header=header, transactions=start.transactions, changes=changes)

    # -- ledger mechanics ----------------------------------------------------------------------

    def _update_skip_lists(self, seq: int, parent_hash: bytes, dirty: set[bytes]) -> None:
        """rippled's updateSkipList: the parent's hash joins the skip lists (no metadata)."""
        prev = seq - 1
        parent_hex = parent_hash.hex().upper()
        targets = [(keylets.skip(), 256)]
        if prev & 0xFF == 0:
            targets.insert(0, (keylets.skip_for(prev), 0))
        for key, limit in targets:
            old = self._state.get(key)
            hashes = list(old["Hashes"]) if old else []
            if limit and len(hashes) == limit:
                hashes.pop(0)
            hashes.append(parent_hex)
            obj: JsonObject = dict(old) if old else {"LedgerEntryType": "LedgerHashes", "Flags": 0}
            obj["Hashes"] = hashes
            obj["LastLedgerSequence"] = prev
            self._state.put(key, obj)
            dirty.add(key)

    def _submit(
        self, generated: tuple[JsonObject, Applier], index: int
    ) -> tuple[bytes, bytes, bytes, TxView]:
        tx, apply = generated
        account = tx["Account"]
        acct_key = keylets.account(account_id(account))
        root = self._state.get(acct_key)
        assert root is not None, account
        tx["Sequence"] = root["Sequence"]
        tx["Fee"] = str(FEE_DROPS)
        tx["LastLedgerSequence"] = self._seq + 4
        tx["SigningPubKey"] = "02" + sha512_half(b"forge-key", account_id(account)).hex().upper()
        tx["TxnSignature"] = _FAKE_SIGNATURE
        tx_blob = to_binary(tx)
        tx_id = transaction_id(tx_blob)
        view = TxView(self._state, tx_id.hex().upper(), self._seq)
        payer = view.peek(acct_key)
        payer["Balance"] = str(int(payer["Balance"]) - FEE_DROPS)
        payer["Sequence"] = root["Sequence"] + 1
        view.update(acct_key, payer)
        extra = apply(view, tx)
        meta = view.commit("tesSUCCESS", index, extra)
        return tx_id, tx_blob, to_binary(meta), view

    def _pick(self) -> tuple[JsonObject, Applier]:
        while self._bootstrap:
            found = self._bootstrap.pop(0)()
            if found is not None:
                return found
        kinds = [k for k, _ in _WEIGHTS]
        weights = [w for _, w in _WEIGHTS]
        for _ in range(20):
            kind = self._rng.choices(kinds, weights)[0]
            found = getattr(self, f"_gen_{kind}")()
            if found is not None:
                return found
        fallback = self._gen_create_account()
        assert fallback is not None
        return fallback

    # -- helpers ---------------------------------------------------------------------------------

    def _balance(self, address: str) -> int:
        obj = self._state.get(keylets.account(account_id(address)))
        return int(obj["Balance"]) if obj else 0

    def _funded(self, minimum: int) -> str | None:
        """A random participant with at least ``minimum`` drops (plus headroom)."""
        for _ in range(8):
            address = self._rng.choice(self._participants)
            if self._balance(address) >= minimum + 50 * XRP:
                return address
        return None

    def _other(self, address: str) -> str:
        while True:
            other = self._rng.choice(self._participants)
            if other != address:
                return other

    @staticmethod
    def _adjust(view: TxView, address: str, drops: int = 0, owner_count: int = 0) -> None:
        key = keylets.account(account_id(address))
        obj = view.peek(key)
        if drops:
            obj["Balance"] = str(int(obj["Balance"]) + drops)
        if owner_count:
            obj["OwnerCount"] = int(obj.get("OwnerCount", 0)) + owner_count
        view.update(key, obj)

    @staticmethod
    def _owner_dir_add(view: TxView, address: str, item: bytes) -> str:
        page = view.dir_add(keylets.owner_dir(account_id(address)), item, _owner_describer(address))
        return page_hex(page)

    # -- generators: each returns (partial tx JSON, how to apply it) or None ---------------------

    def _gen_payment_xrp(self) -> tuple[JsonObject, Applier] | None:
        amount = self._rng.randint(1, 50) * XRP
        sender = self._funded(amount)
        if sender is None:
            return None
        dest = self._other(sender)
        tx = _payment(sender, dest, str(amount))

        def apply(view: TxView, tx: JsonObject) -> JsonObject:
            self._adjust(view, sender, drops=-amount)
            self._adjust(view, dest, drops=amount)
            return {"DeliveredAmount": str(amount)}

        return tx, apply

    def _gen_create_account(self, gateway: str | None = None) -> tuple[JsonObject, Applier] | None:
        amount = (1000 if gateway else 300) * XRP
        sender = self._bank
        raw = self._rng.randbytes(20)
        dest = encode_classic_address(raw)
        tx = _payment(sender, dest, str(amount))

        def apply(view: TxView, tx: JsonObject) -> JsonObject:
            self._adjust(view, sender, drops=-amount)
            view.insert(
                keylets.account(raw),
                {
                    "LedgerEntryType": "AccountRoot",
                    "Account": dest,
                    "Balance": str(amount),
                    "Flags": 0,
                    "OwnerCount": 0,
                    "PreviousTxnID": _PLACEHOLDER_TXN,
                    "PreviousTxnLgrSeq": 0,
                    "Sequence": self._seq,
                },
            )
            self._participants.append(dest)
            if gateway:
                self._gateways.append((dest, gateway))
            return {"DeliveredAmount": str(amount)}

        return tx, apply

    def _gen_default_ripple(self, which: int) -> tuple[JsonObject, Applier] | None:
        gateway = self._gateways[which][0]
        tx = {"TransactionType": "AccountSet", "Account": gateway, "SetFlag": ASF_DEFAULT_RIPPLE}

        def apply(view: TxView, tx: JsonObject) -> None:
            key = keylets.account(account_id(gateway))
            obj = view.peek(key)
            obj["Flags"] = int(obj["Flags"]) | LSF_DEFAULT_RIPPLE
            view.update(key, obj)

        return tx, apply

    def _gen_account_set(self) -> tuple[JsonObject, Applier] | None:
        account = self._funded(0)
        if account is None:
            return None
        domain = f"forge-{self._rng.randrange(10**6)}.example".encode().hex().upper()
        tx = {"TransactionType": "AccountSet", "Account": account, "Domain": domain}

        def apply(view: TxView, tx: JsonObject) -> None:
            key = keylets.account(account_id(account))
            obj = view.peek(key)
            obj["Domain"] = domain
            view.update(key, obj)

        return tx, apply

    def _gen_trust_set(self) -> tuple[JsonObject, Applier] | None:
        if not self._gateways:
            return None
        holder = self._funded(5 * XRP)
        gateway, currency = self._rng.choice(self._gateways)
        if holder is None or holder == gateway:
            return None
        limit = _value(self._rng.randint(1, 100) * 1000)
        tx = {
            "TransactionType": "TrustSet",
            "Account": holder,
            "Flags": TF_SET_NO_RIPPLE,
            "LimitAmount": {"currency": currency, "issuer": gateway, "value": limit},
        }
        link = (holder, gateway, currency)

        def apply(view: TxView, tx: JsonObject) -> None:
            hid, gid = account_id(holder), account_id(gateway)
            key = keylets.line(hid, gid, keylets.currency_code(currency))
            holder_low = hid < gid
            side = "LowLimit" if holder_low else "HighLimit"
            existing = view.read(key)
            if existing is not None:
                line = dict(existing)
                line[side] = {"currency": currency, "issuer": holder, "value": limit}
                view.update(key, line)
                return
            low, high = (holder, gateway) if holder_low else (gateway, holder)
            low_node = self._owner_dir_add(view, low, key)
            high_node = self._owner_dir_add(view, high, key)
            flags = (
                (LSF_LOW_RESERVE | LSF_LOW_NO_RIPPLE)
                if holder_low
                else (LSF_HIGH_RESERVE | LSF_HIGH_NO_RIPPLE)
            )
            view.insert(
                key,
                {
                    "LedgerEntryType": "RippleState",
                    "Flags": flags,
                    "Balance": {"currency": currency, "issuer": ACCOUNT_ONE, "value": "0"},
                    "LowLimit": {
                        "currency": currency,
                        "issuer": low,
                        "value": limit if holder_low else "0",
                    },
                    "HighLimit": {
                        "currency": currency,
                        "issuer": high,
                        "value": "0" if holder_low else limit,
                    },
                    "LowNode": low_node,
                    "HighNode": high_node,
                    "PreviousTxnID": _PLACEHOLDER_TXN,
                    "PreviousTxnLgrSeq": 0,
                },
            )
            self._adjust(view, holder, owner_count=1)
            if link not in self._line_set:
                self._line_set.add(link)
                self._lines.append(link)

        return tx, apply

    def _line_balance(
        self, holder: str, gateway: str, currency: str
    ) -> tuple[bytes, JsonObject, int, int]:
        """(key, line, holder's balance, holder's limit), balances as integers."""
        hid, gid = account_id(holder), account_id(gateway)
        key = keylets.line(hid, gid, keylets.currency_code(currency))
        line = self._state.get(key)
        assert line is not None
        sign = 1 if hid < gid else -1
        side = "LowLimit" if hid < gid else "HighLimit"
        return key, line, sign * int(line["Balance"]["value"]), int(line[side]["value"])

    @staticmethod
    def _shift_line(view: TxView, holder: str, gateway: str, currency: str, delta: int) -> None:
        """Add ``delta`` to ``holder``'s balance on its line with ``gateway``.

        The stored Balance is from the low account's side, so the sign flips
        when the holder is the high account.
        """
        hid, gid = account_id(holder), account_id(gateway)
        key = keylets.line(hid, gid, keylets.currency_code(currency))
        line = view.peek(key)
        balance = dict(line["Balance"])
        balance["value"] = _value(int(balance["value"]) + (delta if hid < gid else -delta))
        line["Balance"] = balance
        view.update(key, line)

    def _gen_iou_payment(self) -> tuple[JsonObject, Applier] | None:
        if not self._lines:
            return None
        holder, gateway, currency = self._rng.choice(self._lines)
        _, _, balance, limit = self._line_balance(holder, gateway, currency)
        redeem = balance > 0 and self._rng.random() < 0.3
        if redeem:
            amount, sender, dest = self._rng.randint(1, balance), holder, gateway
        else:
            if limit - balance < 1:
                return None
            amount, sender, dest = self._rng.randint(1, min(limit - balance, 500)), gateway, holder
        if self._balance(sender) < 60 * XRP:
            return None
        delta = -amount if redeem else amount
        value = _iou(currency, gateway, amount)
        tx = _payment(sender, dest, value)

        def apply(view: TxView, tx: JsonObject) -> JsonObject:
            self._shift_line(view, holder, gateway, currency, delta)
            return {"DeliveredAmount": dict(value)}

        return tx, apply

    def _gen_iou_transfer(self) -> tuple[JsonObject, Applier] | None:
        """A holder pays another holder of the same issuer's token (rippling through it)."""
        if len(self._lines) < 2:
            return None
        sender, gateway, currency = self._rng.choice(self._lines)
        _, _, sender_balance, _ = self._line_balance(sender, gateway, currency)
        receivers = [h for h, g, c in self._lines if g == gateway and c == currency and h != sender]
        if sender_balance < 1 or not receivers or self._balance(sender) < 60 * XRP:
            return None
        receiver = self._rng.choice(receivers)
        _, _, receiver_balance, receiver_limit = self._line_balance(receiver, gateway, currency)
        room = min(sender_balance, receiver_limit - receiver_balance)
        if room < 1:
            return None
        amount = self._rng.randint(1, room)
        value = _iou(currency, gateway, amount)
        tx = _payment(sender, receiver, value)

        def apply(view: TxView, tx: JsonObject) -> JsonObject:
            for holder, delta in ((sender, -amount), (receiver, amount)):
                self._shift_line(view, holder, gateway, currency, delta)
            return {"DeliveredAmount": dict(value)}

        return tx, apply

    def _gen_offer_create(self) -> tuple[JsonObject, Applier] | None:
        if not self._gateways:
            return None
        gets = self._rng.randint(1, 20) * XRP
        account = self._funded(gets)
        if account is None:
            return None
        gateway, currency = self._rng.choice(self._gateways)
        pays_value = self._rng.randint(1, 100)
        pays = _iou(currency, gateway, pays_value)
        tx = {
            "TransactionType": "OfferCreate",
            "Account": account,
            "TakerGets": str(gets),
            "TakerPays": pays,
        }

        def apply(view: TxView, tx: JsonObject) -> None:
            seq = int(tx["Sequence"])
            offer_key = keylets.offer(account_id(account), seq)
            owner_node = self._owner_dir_add(view, account, offer_key)
            self._adjust(view, account, owner_count=1)
            quality = keylets.offer_quality(pays_value, gets)
            pays_issue = (keylets.currency_code(currency), account_id(gateway))
            book = keylets.book_directory(
                pays_issue, (keylets.XRP_CURRENCY, keylets.XRP_ISSUER), quality
            )

            def describe(node: JsonObject) -> None:
                node["TakerPaysCurrency"] = pays_issue[0].hex().upper()
                node["TakerPaysIssuer"] = pays_issue[1].hex().upper()
                node["TakerGetsCurrency"] = "0" * 40
                node["TakerGetsIssuer"] = "0" * 40
                node["ExchangeRate"] = f"{quality:x}"

            book_node = view.dir_add(book, offer_key, describe, preserve_order=True)
            view.insert(
                offer_key,
                {
                    "LedgerEntryType": "Offer",
                    "Flags": 0,
                    "Account": account,
                    "Sequence": seq,
                    "TakerPays": dict(pays),
                    "TakerGets": str(gets),
                    "BookDirectory": book.hex().upper(),
                    "BookNode": page_hex(book_node),
                    "OwnerNode": owner_node,
                    "PreviousTxnID": _PLACEHOLDER_TXN,
                    "PreviousTxnLgrSeq": 0,
                },
            )
            self._offers.setdefault(account, []).append(seq)

        return tx, apply

    def _gen_offer_cancel(self) -> tuple[JsonObject, Applier] | None:
        owners = sorted(a for a, seqs in self._offers.items() if seqs)
        if not owners:
            return None
        account = self._rng.choice(owners)
        seqs = self._offers[account]
        offer_seq = seqs.pop(self._rng.randrange(len(seqs)))
        tx = {"TransactionType": "OfferCancel", "Account": account, "OfferSequence": offer_seq}

        def apply(view: TxView, tx: JsonObject) -> None:
            aid = account_id(account)
            offer_key = keylets.offer(aid, offer_seq)
            offer = view.peek(offer_key)
            view.dir_remove(keylets.owner_dir(aid), int(offer["OwnerNode"], 16), offer_key)
            book = bytes.fromhex(offer["BookDirectory"])
            view.dir_remove(book, int(offer["BookNode"], 16), offer_key)
            self._adjust(view, account, owner_count=-1)
            view.erase(offer_key)

        return tx, apply

    def _gen_nft_mint(self) -> tuple[JsonObject, Applier] | None:
        account = self._funded(0)
        if account is None or self._nft_counts.get(account, 0) >= NFT_PAGE_MAX:
            return None
        taxon = self._rng.randrange(1000)
        uri = f"ipfs://forge/{self._rng.randrange(10**9)}".encode().hex().upper()
        tx = {
            "TransactionType": "NFTokenMint",
            "Account": account,
            "Flags": TF_TRANSFERABLE,
            "NFTokenTaxon": taxon,
            "URI": uri,
        }

        def apply(view: TxView, tx: JsonObject) -> None:
            aid = account_id(account)
            key = keylets.account(aid)
            root = view.peek(key)
            if "FirstNFTokenSequence" not in root:
                root["FirstNFTokenSequence"] = int(tx["Sequence"])
            minted = int(root.get("MintedNFTokens", 0))
            root["MintedNFTokens"] = minted + 1
            token_seq = int(root["FirstNFTokenSequence"]) + minted
            scrambled = taxon ^ ((384160001 * token_seq + 2459) & 0xFFFFFFFF)
            token = (
                TF_TRANSFERABLE.to_bytes(2, "big")
                + bytes(2)
                + aid
                + scrambled.to_bytes(4, "big")
                + token_seq.to_bytes(4, "big")
            )
            token_hex = token.hex().upper()
            page_key = keylets.nftoken_page_max(aid)
            page = view.read(page_key)
            entry = {"NFToken": {"NFTokenID": token_hex, "URI": uri}}
            if page is None:
                root["OwnerCount"] = int(root.get("OwnerCount", 0)) + 1
                view.update(key, root)
                view.insert(
                    page_key,
                    {
                        "LedgerEntryType": "NFTokenPage",
                        "Flags": 0,
                        "NFTokens": [entry],
                        "PreviousTxnID": _PLACEHOLDER_TXN,
                        "PreviousTxnLgrSeq": 0,
                    },
                )
            else:
                view.update(key, root)
                page = dict(page)
                tokens = [*page["NFTokens"], entry]
                tokens.sort(
                    key=lambda t: (
                        bytes.fromhex(t["NFToken"]["NFTokenID"])[20:],
                        t["NFToken"]["NFTokenID"],
                    )
                )
                page["NFTokens"] = tokens
                view.update(page_key, page)
            self._nft_counts[account] = self._nft_counts.get(account, 0) + 1
            self._nfts.append((account, token_hex))

        return tx, apply

    def _gen_nft_offer(self) -> tuple[JsonObject, Applier] | None:
        if not self._nfts:
            return None
        owner, token = self._rng.choice(self._nfts)
        if self._balance(owner) < 60 * XRP:
            return None
        amount = self._rng.randint(1, 100) * XRP
        tx = {
            "TransactionType": "NFTokenCreateOffer",
            "Account": owner,
            "Flags": TF_SELL_NFTOKEN,
            "NFTokenID": token,
            "Amount": str(amount),
        }

        def apply(view: TxView, tx: JsonObject) -> None:
            offer_key = keylets.nftoken_offer(account_id(owner), int(tx["Sequence"]))
            owner_node = self._owner_dir_add(view, owner, offer_key)

            def describe(node: JsonObject) -> None:
                node["Flags"] = LSF_NFTOKEN_SELL_OFFERS
                node["NFTokenID"] = token

            offer_node = view.dir_add(
                keylets.nft_sell_offers(bytes.fromhex(token)), offer_key, describe
            )
            view.insert(
                offer_key,
                {
                    "LedgerEntryType": "NFTokenOffer",
                    "Flags": LSF_SELL_NFTOKEN,
                    "Owner": owner,
                    "NFTokenID": token,
                    "Amount": str(amount),
                    "OwnerNode": owner_node,
                    "NFTokenOfferNode": page_hex(offer_node),
                    "PreviousTxnID": _PLACEHOLDER_TXN,
                    "PreviousTxnLgrSeq": 0,
                },
            )
            self._adjust(view, owner, owner_count=1)

        return tx, apply

    def _gen_escrow_create(self) -> tuple[JsonObject, Applier] | None:
        amount = self._rng.randint(1, 10) * XRP
        account = self._funded(amount)
        if account is None:
            return None
        dest = self._other(account)
        finish = self._close_time + self._rng.randint(60, 3600)
        cancel = finish + 86400
        tx = {
            "TransactionType": "EscrowCreate",
            "Account": account,
            "Destination": dest,
            "Amount": str(amount),
            "FinishAfter": finish,
            "CancelAfter": cancel,
        }

        def apply(view: TxView, tx: JsonObject) -> None:
            key = keylets.escrow(account_id(account), int(tx["Sequence"]))
            owner_node = self._owner_dir_add(view, account, key)
            dest_node = self._owner_dir_add(view, dest, key)
            view.insert(
                key,
                {
                    "LedgerEntryType": "Escrow",
                    "Flags": 0,
                    "Account": account,
                    "Destination": dest,
                    "Amount": str(amount),
                    "FinishAfter": finish,
                    "CancelAfter": cancel,
                    "OwnerNode": owner_node,
                    "DestinationNode": dest_node,
                    "PreviousTxnID": _PLACEHOLDER_TXN,
                    "PreviousTxnLgrSeq": 0,
                },
            )
            self._adjust(view, account, drops=-amount, owner_count=1)

        return tx, apply

    def _gen_check_create(self) -> tuple[JsonObject, Applier] | None:
        account = self._funded(0)
        if account is None:
            return None
        dest = self._other(account)
        send_max = str(self._rng.randint(1, 100) * XRP)
        tx = {
            "TransactionType": "CheckCreate",
            "Account": account,
            "Destination": dest,
            "SendMax": send_max,
        }

        def apply(view: TxView, tx: JsonObject) -> None:
            seq = int(tx["Sequence"])
            key = keylets.check(account_id(account), seq)
            dest_node = self._owner_dir_add(view, dest, key)
            owner_node = self._owner_dir_add(view, account, key)
            view.insert(
                key,
                {
                    "LedgerEntryType": "Check",
                    "Flags": 0,
                    "Account": account,
                    "Destination": dest,
                    "SendMax": send_max,
                    "Sequence": seq,
                    "OwnerNode": owner_node,
                    "DestinationNode": dest_node,
                    "PreviousTxnID": _PLACEHOLDER_TXN,
                    "PreviousTxnLgrSeq": 0,
                },
            )
            self._adjust(view, account, owner_count=1)

        return tx, apply

    def _gen_ticket_create(self) -> tuple[JsonObject, Applier] | None:
        account = self._funded(0)
        if account is None:
            return None
        count = self._rng.randint(1, 3)
        tx = {"TransactionType": "TicketCreate", "Account": account, "TicketCount": count}

        def apply(view: TxView, tx: JsonObject) -> None:
            seq = int(tx["Sequence"])
            aid = account_id(account)
            for n in range(1, count + 1):
                key = keylets.ticket(aid, seq + n)
                owner_node = self._owner_dir_add(view, account, key)
                view.insert(
                    key,
                    {
                        "LedgerEntryType": "Ticket",
                        "Flags": 0,
                        "Account": account,
                        "TicketSequence": seq + n,
                        "OwnerNode": owner_node,
                        "PreviousTxnID": _PLACEHOLDER_TXN,
                        "PreviousTxnLgrSeq": 0,
                    },
                )
            root_key = keylets.account(aid)
            root = view.peek(root_key)
            root["Sequence"] = seq + 1 + count
            root["TicketCount"] = int(root.get("TicketCount", 0)) + count
            root["OwnerCount"] = int(root.get("OwnerCount", 0)) + count
            view.update(root_key, root)

        return tx, apply
