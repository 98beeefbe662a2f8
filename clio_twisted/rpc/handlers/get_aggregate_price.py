"""``get_aggregate_price``: mean, median and standard deviation of one asset pair's price over price oracles.

As rippled: the oracles' current PriceDataSeries is searched for the pair
(``base_asset``/``quote_asset`` compared as the ledger writes them); a price
is ``AssetPrice * 10**-Scale`` and its time the oracle's ``LastUpdateTime``.
``time_threshold`` drops prices older than the newest minus the threshold;
``trim`` (1-25 percent) adds a ``trimmed_set`` without that share of the
lowest and highest prices. Sums and means are amounts (16 digits, rippled's ``divide``); the
standard deviation is a ``Number`` (19 digits). Field errors come before the
ledger; oracle errors after it, with its fields.

When an oracle's current series lacks the pair, rippled looks back through
the metadata of the transactions that last changed it (up to three hops, the
first of which re-reads the current state), and so do we.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from decimal import Context as DecimalContext
from typing import Any

from attrs import frozen

from clio_twisted.protocol import keylets
from clio_twisted.protocol.amounts import number_text
from clio_twisted.protocol.codec import decode
from clio_twisted.rpc.account_params import ledger_fields, parse_account
from clio_twisted.rpc.books import amount_text, divide, round_amount
from clio_twisted.rpc.context import Context, Handler, JsonDict
from clio_twisted.rpc.errors import RippledError, RPCError, missing_field
from clio_twisted.rpc.handlers.book_offers import parse_currency
from clio_twisted.rpc.ledger_spec import LedgerSpec, parse_ledger_spec, select_ledger
from clio_twisted.rpc.markers import is_integral

NAME = "get_aggregate_price"
MAX_ORACLES = 200
MAX_TRIM = 25
MAX_HISTORY = 3
_NUMBER = DecimalContext(prec=19, rounding=ROUND_HALF_EVEN)


@frozen
class Input:
    ledger: LedgerSpec
    oracles: tuple[Any, ...]
    base: str
    quote: str
    trim: int
    time_threshold: int


def _uint(params: JsonDict, name: str) -> int:
    if name not in params:
        return 0
    value = params[name]
    if not is_integral(value) or not 0 <= value <= 0xFFFFFFFF:
        raise RPCError(RippledError.invalidParams)
    return int(value)


def _currency(params: JsonDict, name: str) -> str:
    value = params[name]
    if not isinstance(value, str) or not value or parse_currency(value) is None:
        raise RPCError(RippledError.invalidParams)
    return value


def parse(params: JsonDict, api_version: int) -> Input:
    if "oracles" not in params:
        raise missing_field("oracles")
    oracles = params["oracles"]
    if not isinstance(oracles, list) or not oracles or len(oracles) > MAX_ORACLES:
        raise RPCError(RippledError.oracleMalformed)
    for name in ("base_asset", "quote_asset"):
        if name not in params:
            raise missing_field(name)
    trim = _uint(params, "trim")
    if "trim" in params and not 0 < trim <= MAX_TRIM:
        raise RPCError(RippledError.invalidParams)
    threshold = _uint(params, "time_threshold")
    return Input(
        parse_ledger_spec(params),
        tuple(oracles),
        _currency(params, "base_asset"),
        _currency(params, "quote_asset"),
        trim,
        threshold,
    )


def _find_price(node: JsonDict, base: str, quote: str) -> tuple[int, Decimal] | None:
    for wrapper in node.get("PriceDataSeries", []):
        data = wrapper["PriceData"]
        if (
            data.get("BaseAsset") == base
            and data.get("QuoteAsset") == quote
            and "AssetPrice" in data
        ):
            price = Decimal(int(data["AssetPrice"], 16)).scaleb(-int(data.get("Scale", 0)))
            return int(node["LastUpdateTime"]), round_amount(price, False)
    return None


async def _price_history(
    ctx: Context, oracle: JsonDict, base: str, quote: str
) -> tuple[int, Decimal] | None:
    """rippled's ``iteratePriceData``: the current state, then up to three metadata hops back."""
    chain: JsonDict = oracle
    previous_chain: JsonDict | None = None
    is_new = False
    history = 0
    node: JsonDict | None = oracle
    while True:
        if previous_chain is chain or node is None:
            return None
        found = _find_price(node, base, quote)
        if found is not None or is_new:
            return found
        history += 1
        if history > MAX_HISTORY or "PreviousTxnID" not in chain:
            return None
        record = await ctx.backend.fetch_transaction(bytes.fromhex(chain["PreviousTxnID"]))
        if record is None:
            return None
        previous_chain = chain
        for affected in decode(record.metadata).get("AffectedNodes", []):
            ((kind, entry),) = affected.items()
            if entry.get("LedgerEntryType") != "Oracle":
                continue
            chain = entry
            is_new = kind == "CreatedNode"
            if is_new and history == 1:
                return None
            node = entry.get("NewFields" if is_new else "FinalFields")
            break


def number_json(value: Decimal) -> str:
    """rippled's ``to_string(Number)``."""
    if value == 0:
        return "0"
    sign, digits, exponent = value.as_tuple()
    mantissa = int("".join(map(str, digits)))
    return number_text(-mantissa if sign else mantissa, int(exponent))


def number_sqrt(value: Decimal) -> Decimal:
    """rippled's ``root2(Number)``: scale into (0, 1), quadratic first guess, Newton steps in Number arithmetic."""
    if value == 0 or value == 1:
        return value
    _sign, digits, exponent = value.as_tuple()
    internal_exponent = int(exponent) + len(digits) - 19  # mantissa scaled to 19 digits
    e = internal_exponent + 18 + 1
    if e % 2:
        e += 1
    f = value.scaleb(-e)
    n = _NUMBER
    r = n.divide(
        n.add(n.multiply(n.add(n.multiply(Decimal(-60), f), Decimal(144)), f), Decimal(18)),
        Decimal(105),
    )
    previous: Decimal | None = None
    before: Decimal | None = None
    while True:
        before, previous = previous, r
        r = n.divide(n.add(r, n.divide(f, r)), Decimal(2))
        if r == previous or r == before:
            break
    return r.scaleb(e // 2)


def stats(prices: list[Decimal]) -> JsonDict:
    """mean (an amount), size and standard deviation (a Number) as rippled's ``getStats``."""
    total = Decimal(0)
    for price in prices:
        total = round_amount(_NUMBER.add(total, price), False)
    size = len(prices)
    mean = divide(total, Decimal(size), False)
    deviation = Decimal(0)
    if size > 1:
        acc = Decimal(0)
        for price in prices:
            diff = round_amount(_NUMBER.subtract(price, mean), False)
            acc = _NUMBER.add(acc, _NUMBER.multiply(diff, diff))
        deviation = number_sqrt(_NUMBER.divide(acc, Decimal(size - 1)))
    return {
        "mean": amount_text(mean, False),
        "size": size,
        "standard_deviation": number_json(deviation),
    }


async def process(ctx: Context, inp: Input) -> JsonDict:
    header = await select_ledger(ctx, inp.ledger)
    fields = ledger_fields(header)
    points: list[tuple[int, Decimal]] = []
    for oracle in inp.oracles:
        if (
            not isinstance(oracle, dict)
            or "oracle_document_id" not in oracle
            or "account" not in oracle
        ):
            raise RPCError(RippledError.oracleMalformed, extra=fields)
        document = oracle["oracle_document_id"]
        account = parse_account(oracle["account"]) if isinstance(oracle["account"], str) else None
        if (
            account is None
            or account == bytes(20)
            or not is_integral(document)
            or not 0 <= document <= 0xFFFFFFFF
        ):
            raise RPCError(RippledError.invalidParams, extra=fields)
        blob = await ctx.backend.fetch_ledger_object(
            keylets.oracle(account, int(document)), header.sequence
        )
        if blob is not None:
            point = await _price_history(ctx, decode(blob), inp.base, inp.quote)
            if point is not None:
                points.append(point)
    if not points:
        raise RPCError(RippledError.objectNotFound, extra=fields)
    latest = max(t for t, _ in points)
    if inp.time_threshold:
        oldest = min(t for t, _ in points)
        bound = latest - inp.time_threshold if latest > inp.time_threshold else oldest
        if bound > oldest:
            points = [(t, p) for t, p in points if t >= bound]
    prices = sorted(p for _, p in points)
    size = len(prices)
    if size % 2 == 0:
        pair = round_amount(_NUMBER.add(prices[size // 2 - 1], prices[size // 2]), False)
        median = divide(pair, Decimal(2), False)
    else:
        median = prices[size // 2]
    out: JsonDict = {
        **fields,
        "time": latest,
        "entire_set": stats(prices),
        "median": amount_text(median, False),
    }
    if inp.trim:
        cut = size * inp.trim // 100
        out["trimmed_set"] = stats(prices[cut : size - cut])
    return out


HANDLER = Handler(NAME, parse, process)
