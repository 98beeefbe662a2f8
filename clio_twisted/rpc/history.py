"""What ``account_tx`` and ``nft_history`` share: the ledger range rules, markers, and one page of history.

Range rules, as rippled 3.1.1 applies them:

- ``ledger_index_min``/``ledger_index_max`` (``-1`` or absent: the stored
  end). API v1 clamps them into the stored range and answers
  ``lgrIdxsInvalid`` when nothing is left; v2 answers ``invalidLgrRange`` for
  min above max and ``lgrIdxMalformed`` for an end outside the stored range.
- ``ledger_hash``/``ledger_index`` select a single ledger (v2 refuses them
  together with a min/max: ``containsLedgerSpecifierAndRange``; v1 lets the
  min/max win).
- ``limit`` 0 or absent means a full page: 200 transactions (500 in binary),
  also the most a page holds; the requested value is echoed.
- A marker ``{ledger, seq}`` resumes exactly at that transaction; as rippled,
  a marker that is not a transaction of this history gives an empty page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from attrs import frozen

from clio_twisted.backend.interface import TransactionsPage, TxCursor
from clio_twisted.protocol.ledger_header import LedgerHeader
from clio_twisted.rpc.context import Context, JsonDict
from clio_twisted.rpc.errors import RippledError, RPCError, invalid_field, invalid_params
from clio_twisted.rpc.ledger_spec import LedgerSpec, parse_ledger_spec, select_ledger
from clio_twisted.rpc.markers import as_bool, is_integral, parse_tx_marker, tx_marker_json
from clio_twisted.rpc.render_cache import ledger_hash_of
from clio_twisted.rpc.tx_json import history_item, network_id

DEFAULT_PAGE = 200  # rippled's page length for JSON answers
BINARY_PAGE = 500  # and for binary ones


@frozen
class HistoryInput:
    """The paging part of an account_tx / nft_history request."""

    min_index: int | None  # None: from the first stored ledger
    max_index: int | None  # None: to the last stored ledger
    ledger: LedgerSpec | None  # a single ledger instead of a range
    binary: bool
    forward: bool
    limit: int  # as requested (0 when absent): echoed back
    marker: TxCursor | None


def _bool_field(params: JsonDict, name: str, api_version: int) -> bool:
    if name not in params:
        return False
    value = params[name]
    if api_version > 1 and not isinstance(value, bool):
        raise invalid_field(name)
    return as_bool(value)


def _index(value: Any) -> int | None:
    """A min/max bound: negative (conventionally -1) means "the stored end"."""
    if not is_integral(value):
        if isinstance(value, str) and value.lstrip("-").isdigit():
            value = int(value)
        else:
            raise RPCError(RippledError.lgrIdxMalformed)
    return None if value < 0 else int(value)


def parse_history(params: JsonDict, api_version: int) -> HistoryInput:
    has_range = "ledger_index_min" in params or "ledger_index_max" in params
    has_spec = "ledger_index" in params or "ledger_hash" in params
    if has_range and has_spec and api_version > 1:
        raise invalid_params("containsLedgerSpecifierAndRange")
    min_index = _index(params["ledger_index_min"]) if "ledger_index_min" in params else None
    max_index = _index(params["ledger_index_max"]) if "ledger_index_max" in params else None
    ledger = parse_ledger_spec(params) if has_spec and not has_range else None
    binary = _bool_field(params, "binary", api_version)
    forward = _bool_field(params, "forward", api_version)
    limit = 0
    if "limit" in params:
        value = params["limit"]
        if isinstance(value, bool):
            value = int(value)
        if not is_integral(value) or value < 0:
            raise RPCError(RippledError.internal)  # rippled's asUInt() throws: "Internal error."
        limit = value
    marker = parse_tx_marker(params["marker"]) if "marker" in params else None
    return HistoryInput(min_index, max_index, ledger, binary, forward, limit, marker)


async def resolve_range(ctx: Context, inp: HistoryInput) -> tuple[int, int]:
    """The [min, max] ledger sequences to search, or rippled's error for the request's bounds."""
    stored = ctx.require_range()
    if inp.ledger is not None:
        header: LedgerHeader = await select_ledger(ctx, inp.ledger)
        return header.sequence, header.sequence
    low = stored.min_sequence if inp.min_index is None else inp.min_index
    high = stored.max_sequence if inp.max_index is None else inp.max_index
    if ctx.api_version > 1:
        if low > high:
            raise RPCError(RippledError.invalidLgrRange)
        if low < stored.min_sequence or high > stored.max_sequence:
            raise RPCError(RippledError.lgrIdxMalformed)
        return low, high
    low, high = max(low, stored.min_sequence), min(high, stored.max_sequence)
    if high < low:
        raise RPCError(RippledError.lgrIdxsInvalid)
    return low, high


Fetch = Callable[[int, bool, TxCursor | None, int, int], Awaitable[TransactionsPage]]


async def history_page(
    ctx: Context,
    inp: HistoryInput,
    fetch: Fetch,
    *,
    bounds: tuple[int, int] | None = None,
    page_size: int | None = None,
    exact_marker: bool = True,
) -> JsonDict:
    """``ledger_index_min``, ``ledger_index_max``, ``limit``, ``marker``?, ``transactions`` of one page.

    ``bounds`` (already resolved) and ``page_size`` default to rippled's rules;
    ``exact_marker`` is rippled's "a marker must name a row of this history".
    """
    low, high = bounds if bounds is not None else await resolve_range(ctx, inp)
    if page_size is None:
        cap = BINARY_PAGE if inp.binary else DEFAULT_PAGE
        page_size = inp.limit if 0 < inp.limit <= cap else cap
    page = await fetch(page_size, inp.forward, inp.marker, low, high)
    records, cursor = page.transactions, page.cursor
    if exact_marker and inp.marker is not None and records:
        first = TxCursor(records[0].ledger_sequence, records[0].transaction_index)
        if first != inp.marker:
            records, cursor = [], None
    net = network_id(ctx)
    hashes: dict[int, bytes] = {}
    items = []
    for record in records:
        ledger_hash = hashes.get(record.ledger_sequence)
        if ledger_hash is None and not inp.binary and ctx.api_version > 1:
            blob = await ctx.backend.fetch_ledger_by_sequence(record.ledger_sequence)
            ledger_hash = ledger_hash_of(blob) if blob is not None else bytes(32)
            hashes[record.ledger_sequence] = ledger_hash
        items.append(
            history_item(
                record,
                ctx.api_version,
                binary=inp.binary,
                ledger_hash=ledger_hash or bytes(32),
                network_id=net,
            )
        )
    out: JsonDict = {"ledger_index_min": low, "ledger_index_max": high, "limit": inp.limit}
    if cursor is not None:
        out["marker"] = tx_marker_json(cursor)
    out["transactions"] = items
    out["validated"] = True
    return out
