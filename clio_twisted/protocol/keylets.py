"""Ledger object keys ("keylets"): where rippled stores each kind of state object.

Every state object lives under a 256-bit key that anyone can recompute from
what identifies the object: SHA512Half over a two-byte name-space tag (an
ASCII letter, big-endian u16, one per object kind, as rippled's Indexes.cpp)
followed by the identifying fields in their binary form (20-byte account IDs,
20-byte currency codes, big-endian integers, 32-byte hashes). A few keys are
built rather than hashed: directory pages past the first, order-book
directories (whose low 64 bits hold the offer quality) and NFToken pages
(owner ID + low 96 bits of a token ID).

Accounts are passed as 20-byte account IDs and currencies as 20-byte codes
(see ``currency_code``); decoding classic addresses belongs to the codec.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from decimal import Decimal

from clio_twisted.protocol.amounts import MAX_MANTISSA, normalize
from clio_twisted.protocol.hashing import sha512_half

# Name spaces (rippled's LedgerNameSpace).
NS_ACCOUNT = b"\x00a"
NS_DIR_NODE = b"\x00d"
NS_TRUST_LINE = b"\x00r"
NS_OFFER = b"\x00o"
NS_OWNER_DIR = b"\x00O"
NS_BOOK_DIR = b"\x00B"
NS_SKIP_LIST = b"\x00s"
NS_ESCROW = b"\x00u"
NS_AMENDMENTS = b"\x00f"
NS_FEE_SETTINGS = b"\x00e"
NS_TICKET = b"\x00T"
NS_SIGNER_LIST = b"\x00S"
NS_PAYMENT_CHANNEL = b"\x00x"
NS_CHECK = b"\x00C"
NS_DEPOSIT_PREAUTH = b"\x00p"
NS_DEPOSIT_PREAUTH_CREDENTIALS = b"\x00P"
NS_NEGATIVE_UNL = b"\x00N"
NS_NFTOKEN_OFFER = b"\x00q"
NS_NFTOKEN_BUY_OFFERS = b"\x00h"
NS_NFTOKEN_SELL_OFFERS = b"\x00i"
NS_AMM = b"\x00A"
NS_BRIDGE = b"\x00H"
NS_XCHAIN_CLAIM_ID = b"\x00Q"
NS_XCHAIN_CREATE_ACCOUNT_CLAIM_ID = b"\x00K"
NS_DID = b"\x00I"
NS_ORACLE = b"\x00R"
NS_MPTOKEN_ISSUANCE = b"\x00~"
NS_MPTOKEN = b"\x00t"
NS_CREDENTIAL = b"\x00D"
NS_PERMISSIONED_DOMAIN = b"\x00m"
NS_DELEGATE = b"\x00E"
NS_VAULT = b"\x00V"
NS_LOAN_BROKER = b"\x00l"
NS_LOAN = b"\x00L"

XRP_CURRENCY = bytes(20)
XRP_ISSUER = bytes(20)

_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")

# An asset in a book or AMM: (currency, issuer) for XRP and tokens, or a
# 24-byte MPT issuance id.
Issue = tuple[bytes, bytes]
Asset = Issue | bytes


def _u32(n: int) -> bytes:
    return _U32.pack(n)


def currency_code(code: str) -> bytes:
    """The 20-byte currency code: "XRP" is zero, three letters ISO-style, else 40 hex digits."""
    if code == "XRP":
        return XRP_CURRENCY
    if len(code) == 3:
        return bytes(12) + code.encode("ascii") + bytes(5)
    raw = bytes.fromhex(code)
    if len(raw) != 20:
        raise ValueError(f"bad currency code {code!r}")
    return raw


# -- singletons --------------------------------------------------------------


def amendments() -> bytes:
    return sha512_half(NS_AMENDMENTS)


def fees() -> bytes:
    return sha512_half(NS_FEE_SETTINGS)


def negative_unl() -> bytes:
    return sha512_half(NS_NEGATIVE_UNL)


def skip() -> bytes:
    """The short skip list: hashes of the last 256 ledgers."""
    return sha512_half(NS_SKIP_LIST)


def skip_for(sequence: int) -> bytes:
    """The long skip list holding every 256th ledger hash of ``sequence``'s 65536 block."""
    return sha512_half(NS_SKIP_LIST, _u32(sequence >> 16))


# -- accounts and their directories ----------------------------------------------


def account(account_id: bytes) -> bytes:
    return sha512_half(NS_ACCOUNT, account_id)


def owner_dir(account_id: bytes) -> bytes:
    return sha512_half(NS_OWNER_DIR, account_id)


def page(root: bytes, index: int) -> bytes:
    """Page ``index`` of the directory rooted at ``root`` (page 0 is the root itself)."""
    if index == 0:
        return root
    return sha512_half(NS_DIR_NODE, root, _U64.pack(index))


def signer_list(account_id: bytes) -> bytes:
    return sha512_half(NS_SIGNER_LIST, account_id, _u32(0))


def line(account_a: bytes, account_b: bytes, currency: bytes) -> bytes:
    """The trust line (RippleState) between two accounts, in either order."""
    low, high = (account_a, account_b) if account_a < account_b else (account_b, account_a)
    return sha512_half(NS_TRUST_LINE, low, high, currency)


# -- sequence-numbered objects ----------------------------------------------------


def offer(account_id: bytes, sequence: int) -> bytes:
    return sha512_half(NS_OFFER, account_id, _u32(sequence))


def escrow(account_id: bytes, sequence: int) -> bytes:
    return sha512_half(NS_ESCROW, account_id, _u32(sequence))


def check(account_id: bytes, sequence: int) -> bytes:
    return sha512_half(NS_CHECK, account_id, _u32(sequence))


def ticket(account_id: bytes, ticket_sequence: int) -> bytes:
    return sha512_half(NS_TICKET, account_id, _u32(ticket_sequence))


def payment_channel(source: bytes, destination: bytes, sequence: int) -> bytes:
    return sha512_half(NS_PAYMENT_CHANNEL, source, destination, _u32(sequence))


def nftoken_offer(account_id: bytes, sequence: int) -> bytes:
    return sha512_half(NS_NFTOKEN_OFFER, account_id, _u32(sequence))


def vault(owner: bytes, sequence: int) -> bytes:
    return sha512_half(NS_VAULT, owner, _u32(sequence))


def permissioned_domain(account_id: bytes, sequence: int) -> bytes:
    return sha512_half(NS_PERMISSIONED_DOMAIN, account_id, _u32(sequence))


def loan_broker(owner: bytes, sequence: int) -> bytes:
    return sha512_half(NS_LOAN_BROKER, owner, _u32(sequence))


def loan(loan_broker_id: bytes, loan_sequence: int) -> bytes:
    return sha512_half(NS_LOAN, loan_broker_id, _u32(loan_sequence))


def oracle(account_id: bytes, document_id: int) -> bytes:
    return sha512_half(NS_ORACLE, account_id, _u32(document_id))


# -- authorisations, identities --------------------------------------------------


def deposit_preauth(owner: bytes, authorized: bytes) -> bytes:
    return sha512_half(NS_DEPOSIT_PREAUTH, owner, authorized)


def deposit_preauth_credentials(owner: bytes, credentials: Iterable[tuple[bytes, bytes]]) -> bytes:
    """Preauthorisation by a set of credentials, each ``(issuer, credential type)``.

    The set is taken in rippled's order (issuer, then type bytes), each member
    reduced to SHA512Half(issuer + type), and the list of those hashes is
    followed by its length as a big-endian u64 (how rippled hashes a vector).
    """
    hashes = [sha512_half(issuer, cred_type) for issuer, cred_type in sorted(set(credentials))]
    return sha512_half(NS_DEPOSIT_PREAUTH_CREDENTIALS, owner, *hashes, _U64.pack(len(hashes)))


def credential(subject: bytes, issuer: bytes, credential_type: bytes) -> bytes:
    return sha512_half(NS_CREDENTIAL, subject, issuer, credential_type)


def did(account_id: bytes) -> bytes:
    return sha512_half(NS_DID, account_id)


def delegate(account_id: bytes, authorized: bytes) -> bytes:
    return sha512_half(NS_DELEGATE, account_id, authorized)


# -- NFTokens -------------------------------------------------------------------

_PAGE_MASK_LOW = (1 << 96) - 1


def nftoken_page_min(owner: bytes) -> bytes:
    """The lowest possible key of ``owner``'s NFToken pages."""
    return owner + bytes(12)


def nftoken_page_max(owner: bytes) -> bytes:
    """The highest possible key of ``owner``'s NFToken pages (where the last page lives)."""
    return owner + b"\xff" * 12


def nftoken_page(owner: bytes, token_id: bytes) -> bytes:
    """The page key a token would have alone: owner + the token's low 96 bits."""
    return owner + token_id[20:]


def nft_buy_offers(token_id: bytes) -> bytes:
    return sha512_half(NS_NFTOKEN_BUY_OFFERS, token_id)


def nft_sell_offers(token_id: bytes) -> bytes:
    return sha512_half(NS_NFTOKEN_SELL_OFFERS, token_id)


# -- MPTs ------------------------------------------------------------------------


def mpt_issuance_id(sequence: int, issuer: bytes) -> bytes:
    """The 24-byte MPT issuance id: big-endian sequence then issuer."""
    return _u32(sequence) + issuer


def mpt_issuance(issuance_id: bytes) -> bytes:
    return sha512_half(NS_MPTOKEN_ISSUANCE, issuance_id)


def mptoken(issuance_id: bytes, holder: bytes) -> bytes:
    return sha512_half(NS_MPTOKEN, mpt_issuance(issuance_id), holder)


# -- books and AMMs ---------------------------------------------------------------


def _asset_sort_key(asset: Asset) -> tuple[int, bytes, bytes]:
    # rippled orders Issues before MPTIssues, Issues by (currency, account).
    if isinstance(asset, tuple):
        return (0, asset[0], asset[1])
    return (1, asset, b"")


def amm(asset1: Asset, asset2: Asset) -> bytes:
    """The AMM pool of two assets, in either order."""
    low, high = sorted((asset1, asset2), key=_asset_sort_key)
    parts: list[bytes] = []
    for a in (low, high):
        if isinstance(a, tuple):
            parts += [a[1], a[0]]
        else:
            parts.append(a)
    return sha512_half(NS_AMM, *parts)


def book_base(taker_pays: Asset, taker_gets: Asset, domain: bytes | None = None) -> bytes:
    """The first key of an order book (quality zero); offers live from here up.

    ``taker_pays`` is the book's "in" asset, ``taker_gets`` its "out" asset.
    """
    if isinstance(taker_pays, tuple) and isinstance(taker_gets, tuple):
        parts = [taker_pays[0], taker_gets[0], taker_pays[1], taker_gets[1]]
    elif isinstance(taker_pays, tuple):
        parts = [taker_pays[0], taker_gets, taker_pays[1]]  # type: ignore[list-item]
    elif isinstance(taker_gets, tuple):
        parts = [taker_pays, taker_gets[0], taker_gets[1]]
    else:
        parts = [taker_pays, taker_gets]
    if domain is not None:
        parts.append(domain)
    return sha512_half(NS_BOOK_DIR, *parts)[:24] + bytes(8)


def quality_key(base: bytes, quality: int) -> bytes:
    """The book directory for offers of ``quality`` in the book at ``base``."""
    return base[:24] + _U64.pack(quality)


def key_quality(key: bytes) -> int:
    """The quality a book directory key encodes in its low 64 bits."""
    return int(_U64.unpack(key[24:])[0])


def book_directory(
    taker_pays: Asset, taker_gets: Asset, quality: int, domain: bytes | None = None
) -> bytes:
    return quality_key(book_base(taker_pays, taker_gets, domain), quality)


# -- bridges ----------------------------------------------------------------------


def bridge(door: bytes, currency: bytes) -> bytes:
    """The bridge object on one chain: that chain's door account and its currency."""
    return sha512_half(NS_BRIDGE, door, currency)


def _bridge_parts(
    locking_door: bytes, locking_issue: Issue, issuing_door: bytes, issuing_issue: Issue
) -> list[bytes]:
    return [locking_door, *locking_issue, issuing_door, *issuing_issue]


def xchain_claim_id(
    locking_door: bytes,
    locking_issue: Issue,
    issuing_door: bytes,
    issuing_issue: Issue,
    sequence: int,
) -> bytes:
    """A cross-chain claim id; issues are ``(currency, issuer)``."""
    parts = _bridge_parts(locking_door, locking_issue, issuing_door, issuing_issue)
    return sha512_half(NS_XCHAIN_CLAIM_ID, *parts, _U64.pack(sequence))


def xchain_create_account_claim_id(
    locking_door: bytes,
    locking_issue: Issue,
    issuing_door: bytes,
    issuing_issue: Issue,
    sequence: int,
) -> bytes:
    parts = _bridge_parts(locking_door, locking_issue, issuing_door, issuing_issue)
    return sha512_half(NS_XCHAIN_CREATE_ACCOUNT_CLAIM_ID, *parts, _U64.pack(sequence))


# -- offer quality -------------------------------------------------------------------

# An amount for quality purposes: int drops (XRP, MPT) or a token value.
Amount = int | str | Decimal


def _mantissa_exponent(amount: Amount) -> tuple[int, int]:
    """Amount as rippled's (mantissa, exponent) with the mantissa in [1e15, 1e16)."""
    if isinstance(amount, int):
        mantissa, exponent = abs(amount), 0
    else:
        sign, digits, exp = Decimal(amount).as_tuple()
        mantissa = int("".join(map(str, digits)) or "0")
        exponent = int(exp)
    return normalize(mantissa, exponent)


def offer_quality(taker_pays: Amount, taker_gets: Amount) -> int:
    """The quality of an offer (TakerPays / TakerGets), as rippled's ``getRate``.

    Encoded as (exponent + 100) in the top byte and the 16-digit mantissa
    below, so that sorting the integers sorts the rates; zero means no rate.
    """
    num_m, num_e = _mantissa_exponent(taker_pays)
    den_m, den_e = _mantissa_exponent(taker_gets)
    if den_m == 0 or num_m == 0:
        return 0
    mantissa = num_m * 10**17 // den_m + 5
    exponent = num_e - den_e - 17
    while mantissa > MAX_MANTISSA:
        mantissa //= 10
        exponent += 1
    return ((exponent + 100) << 56) | mantissa


def round_quality(quality: int, tick_size: int) -> int:
    """Round a quality's mantissa up to ``tick_size`` significant digits (an issuer's TickSize).

    OfferCreate does this when either issuer sets a TickSize below 16, so the
    book directory of such offers holds the rounded quality.
    """
    if tick_size >= 16 or quality == 0:
        return quality
    step = 10 ** (16 - tick_size)
    mantissa = quality & ((1 << 56) - 1)
    mantissa += step - 1
    mantissa -= mantissa % step
    return (quality >> 56) << 56 | mantissa
