"""``nft_history`` (Clio's own): the transactions that touched one NFT, paged like ``account_tx``.

As a Clio-only method it follows Clio's rules: ``nft_id`` is required (64
hex digits); ``binary`` and ``forward`` must be booleans; ``limit`` is 1-100
(default 50, larger values clamped); a marker is ``{"ledger", "seq"}``; bounds
outside the stored range are ``lgrIdxMalformed`` (``ledgerSeqMinOutOfRange`` /
``ledgerSeqMaxOutOfRange``), min above max ``lgrIdxsInvalid``, and a ledger
selector together with a range ``containsLedgerSpecifierAndRange``.
"""

from __future__ import annotations

from typing import Any

from attrs import frozen

from clio_twisted.backend.interface import TransactionsPage, TxCursor
from clio_twisted.rpc.context import Context, Handler, JsonDict
from clio_twisted.rpc.errors import RippledError, RPCError, invalid_params, missing_field
from clio_twisted.rpc.history import HistoryInput, history_page
from clio_twisted.rpc.ledger_spec import parse_ledger_spec, select_ledger
from clio_twisted.rpc.markers import clio_limit, is_integral

NAME = "nft_history"
_HEX = frozenset("0123456789abcdefABCDEF")


@frozen
class Input:
    nft_id: bytes
    history: HistoryInput
    limit_given: bool


def _bool(params: JsonDict, name: str) -> bool:
    value = params.get(name, False)
    if not isinstance(value, bool):
        raise RPCError(RippledError.invalidParams)
    return value


def _bound(params: JsonDict, name: str) -> int | None:
    if name not in params:
        return None
    value = params[name]
    if not is_integral(value):
        raise RPCError(RippledError.invalidParams)
    return None if value == -1 else int(value)


def _marker(value: Any) -> TxCursor:
    if not isinstance(value, dict):
        raise invalid_params("invalidMarker")
    ledger, seq = value.get("ledger"), value.get("seq")
    if not (
        isinstance(ledger, int)
        and isinstance(seq, int)
        and is_integral(ledger)
        and is_integral(seq)
    ):
        raise RPCError(RippledError.invalidParams)
    if ledger < 0 or seq < 0:
        raise RPCError(RippledError.invalidParams)
    return TxCursor(ledger, seq)


def parse(params: JsonDict, api_version: int) -> Input:
    if "nft_id" not in params:
        raise missing_field("nft_id")
    nft_id = params["nft_id"]
    if not isinstance(nft_id, str):
        raise invalid_params("nft_idNotString")
    if len(nft_id) != 64 or not _HEX.issuperset(nft_id):
        raise invalid_params("nft_idMalformed")
    has_range = "ledger_index_min" in params or "ledger_index_max" in params
    has_spec = "ledger_index" in params or "ledger_hash" in params
    if has_range and has_spec:
        raise invalid_params("containsLedgerSpecifierAndRange")
    limit = clio_limit(params)
    history = HistoryInput(
        min_index=_bound(params, "ledger_index_min"),
        max_index=_bound(params, "ledger_index_max"),
        ledger=parse_ledger_spec(params, as_clio=True) if has_spec else None,
        binary=_bool(params, "binary"),
        forward=_bool(params, "forward"),
        limit=limit,
        marker=_marker(params["marker"]) if "marker" in params else None,
    )
    return Input(bytes.fromhex(nft_id), history, "limit" in params)


async def _bounds(ctx: Context, inp: HistoryInput) -> tuple[int, int]:
    stored = ctx.require_range()
    if inp.ledger is not None:
        header = await select_ledger(ctx, inp.ledger)
        return header.sequence, header.sequence
    low, high = stored.min_sequence, stored.max_sequence
    if inp.min_index is not None:
        if inp.min_index < stored.min_sequence:
            raise RPCError(RippledError.lgrIdxMalformed, "ledgerSeqMinOutOfRange")
        low = inp.min_index
    if inp.max_index is not None:
        if inp.max_index > stored.max_sequence:
            raise RPCError(RippledError.lgrIdxMalformed, "ledgerSeqMaxOutOfRange")
        high = inp.max_index
    if high < low:
        raise RPCError(RippledError.lgrIdxsInvalid)
    return low, high


async def process(ctx: Context, inp: Input) -> JsonDict:
    async def fetch(
        limit: int, forward: bool, cursor: TxCursor | None, low: int, high: int
    ) -> TransactionsPage:
        return await ctx.backend.fetch_nft_transactions(
            inp.nft_id, limit, forward, cursor, low, high
        )

    bounds = await _bounds(ctx, inp.history)
    page = await history_page(
        ctx, inp.history, fetch, bounds=bounds, page_size=inp.history.limit, exact_marker=False
    )
    if not inp.limit_given:
        page.pop("limit")
    return {"nft_id": inp.nft_id.hex().upper(), **page}


HANDLER = Handler(NAME, parse, process, clio_only=True)
