"""Per-ledger order book activity (open/high/low/close and volumes), as rippled computes it.

Used by the ``book_changes`` method and the ``book_changes`` stream. Input is
the ledger's transactions as rippled JSON (the transaction and its metadata);
the arithmetic follows rippled's: IOU values are decimal numbers with 16
significant digits (rounded to nearest), a rate is ``divide(first, second)``
with rippled's integer mantissa division, and numbers print as rippled's
``Number`` does (plain decimal for moderate exponents, ``<mantissa>e<exp>``
otherwise).

Which offers count: Offer nodes that were modified or deleted and have both
TakerGets and TakerPays in FinalFields and PreviousFields, except the offer an
OfferCancel or OfferCreate explicitly cancels (its ``OfferSequence``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Any

from attrs import define

_CONTEXT = Context(prec=16, rounding=ROUND_HALF_EVEN, Emin=-999999, Emax=999999)
_MIN_MANTISSA = 10**15
_MAX_MANTISSA = 10**16 - 1

Amount = int | Decimal  # drops, or an IOU value


def _issue_and_value(amount: object) -> tuple[str, Amount] | None:
    """rippled's issue string ("XRP" or "issuer/currency") and the value; None for MPT or junk."""
    if isinstance(amount, str):
        return "XRP", int(amount)
    if isinstance(amount, Mapping) and "issuer" in amount and "currency" in amount:
        return f"{amount['issuer']}/{amount['currency']}", Decimal(str(amount["value"]))
    return None


def _mantissa_exponent(value: Amount) -> tuple[int, int, bool]:
    """The unsigned 16-digit mantissa, exponent and sign of a non-zero amount."""
    if isinstance(value, int):
        mantissa, exponent = abs(value), 0
    else:
        sign, digits, exp = value.as_tuple()
        mantissa = int("".join(map(str, digits)))
        exponent = int(exp)
    while mantissa < _MIN_MANTISSA:
        mantissa *= 10
        exponent -= 1
    while mantissa > _MAX_MANTISSA:
        mantissa //= 10
        exponent += 1
    return mantissa, exponent, value < 0


def _divide(numerator: Amount, denominator: Amount) -> Decimal:
    """rippled's ``divide(num, den, noIssue())``: truncated mantissa division plus 5, then truncation."""
    if numerator == 0:
        return Decimal(0)
    num, num_exp, num_neg = _mantissa_exponent(numerator)
    den, den_exp, den_neg = _mantissa_exponent(denominator)
    mantissa = num * 10**17 // den + 5
    exponent = num_exp - den_exp - 17
    while mantissa > _MAX_MANTISSA:
        mantissa //= 10
        exponent += 1
    return Decimal((1 if num_neg != den_neg else 0, tuple(int(c) for c in str(mantissa)), exponent))


def _sub(a: Amount, b: Amount) -> Amount:
    if isinstance(a, int) and isinstance(b, int):
        return a - b
    return _CONTEXT.subtract(Decimal(a), Decimal(b))


def _abs(a: Amount) -> Amount:
    return -a if a < 0 else a


def _add(a: Amount, b: Amount) -> Amount:
    if isinstance(a, int) and isinstance(b, int):
        return a + b
    return _CONTEXT.add(Decimal(a), Decimal(b))


def number_text(value: Amount) -> str:
    """A value as rippled's ``to_string(Number)`` prints it."""
    if value == 0:
        return "0"
    mantissa, exponent, negative = _mantissa_exponent(value)
    sign = "-" if negative else ""
    if exponent != 0 and (exponent < -25 or exponent > -5):
        return f"{sign}{mantissa}e{exponent}"
    if exponent == 0:
        return f"{sign}{mantissa}"
    digits = str(mantissa).rjust(-exponent + 1, "0")
    whole, fraction = digits[:exponent], digits[exponent:].rstrip("0")
    whole = whole.lstrip("0") or "0"
    return f"{sign}{whole}.{fraction}" if fraction else f"{sign}{whole}"


def _amount_text(value: Amount) -> str:
    return str(value) if isinstance(value, int) else number_text(value)


@define
class _Tally:
    currency_a: str
    currency_b: str
    volume_a: Amount
    volume_b: Amount
    high: Decimal
    low: Decimal
    open: Decimal
    close: Decimal
    domain: str | None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "currency_a": "XRP_drops" if self.currency_a == "XRP" else self.currency_a,
            "currency_b": "XRP_drops" if self.currency_b == "XRP" else self.currency_b,
            "volume_a": _amount_text(self.volume_a),
            "volume_b": _amount_text(self.volume_b),
            "high": number_text(self.high),
            "low": number_text(self.low),
            "open": number_text(self.open),
            "close": number_text(self.close),
        }
        if self.domain is not None:
            out["domain"] = self.domain
        return out


def _cancelled_sequence(tx: Mapping[str, Any]) -> int | None:
    if tx.get("TransactionType") in ("OfferCancel", "OfferCreate"):
        seq = tx.get("OfferSequence")
        return int(seq) if seq is not None else None
    return None


def compute_book_changes(
    transactions: Iterable[tuple[Mapping[str, Any], Mapping[str, Any]]],
) -> list[dict[str, Any]]:
    """The ``changes`` array for a ledger, from its (transaction JSON, metadata JSON) pairs.

    Transactions must come in ledger order (TransactionIndex): open and close
    depend on it. The result is ordered by book key as rippled's map orders it.
    """
    tally: dict[str, _Tally] = {}
    for tx, meta in transactions:
        cancelled = _cancelled_sequence(tx)
        for wrapper in meta.get("AffectedNodes", ()):
            ((kind, node),) = wrapper.items()
            if kind == "CreatedNode" or node.get("LedgerEntryType") != "Offer":
                continue
            final, previous = node.get("FinalFields"), node.get("PreviousFields")
            if not final or not previous:
                continue
            if not all(f in d for d in (final, previous) for f in ("TakerGets", "TakerPays")):
                continue
            if (
                kind == "DeletedNode"
                and cancelled is not None
                and final.get("Sequence") == cancelled
            ):
                continue
            gets_final = _issue_and_value(final["TakerGets"])
            pays_final = _issue_and_value(final["TakerPays"])
            gets_prev = _issue_and_value(previous["TakerGets"])
            pays_prev = _issue_and_value(previous["TakerPays"])
            if gets_final is None or pays_final is None or gets_prev is None or pays_prev is None:
                continue
            g, delta_gets = gets_final[0], _sub(gets_final[1], gets_prev[1])
            p, delta_pays = pays_final[0], _sub(pays_final[1], pays_prev[1])
            noswap = True if g == "XRP" else (False if p == "XRP" else g < p)
            first, second = (delta_gets, delta_pays) if noswap else (delta_pays, delta_gets)
            if second == 0:
                continue
            rate = _divide(first, second)
            first, second = _abs(first), _abs(second)
            key = f"{g}|{p}" if noswap else f"{p}|{g}"
            domain = final.get("DomainID")
            entry = tally.get(key)
            if entry is None:
                a, b = (g, p) if noswap else (p, g)
                tally[key] = _Tally(a, b, first, second, rate, rate, rate, rate, domain)
            else:
                entry.volume_a = _add(entry.volume_a, first)
                entry.volume_b = _add(entry.volume_b, second)
                entry.high = max(entry.high, rate)
                entry.low = min(entry.low, rate)
                entry.close = rate
                entry.domain = domain
    return [tally[key].to_json() for key in sorted(tally, key=lambda k: k.encode())]


def book_changes_message(
    ledger_sequence: int, ledger_hash: bytes, close_time: int, changes: list[dict[str, Any]]
) -> dict[str, Any]:
    """The ``book_changes`` answer and stream message for one validated ledger."""
    return {
        "type": "bookChanges",
        "ledger_index": ledger_sequence,
        "ledger_hash": ledger_hash.hex().upper(),
        "ledger_time": close_time,
        "validated": True,
        "changes": changes,
    }
