"""``amm_info``: an AMM pool's balances, LP tokens, fee votes and auction slot.

The pool is named by its two assets (``asset`` and ``asset2``) or by its
account (``amm_account``), never both; ``account`` asks for that liquidity
provider's LP tokens instead of the pool's total. As rippled 3.1.1: every
error comes after the ledger and carries its fields; a malformed asset is
``issueMalformed``; an unknown pool ``actNotFound``. Balances are shown in the
order the assets were asked; ``asset_frozen``/``asset2_frozen`` for tokens;
the auction slot's ``time_interval`` (0-19, or 20 when expired) is counted at
the ledger's parent close time and its expiration written as rippled's
``to_iso8601`` writes it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from clio_twisted.protocol import keylets
from clio_twisted.protocol.addresses import decode_address, encode_account_id
from clio_twisted.protocol.codec import decode
from clio_twisted.protocol.ledger_header import ripple_time_to_datetime
from clio_twisted.rpc.account_params import ledger_fields, parse_account
from clio_twisted.rpc.books import Issue, amount_json, is_frozen
from clio_twisted.rpc.context import Context, Handler, JsonDict
from clio_twisted.rpc.errors import RippledError, RPCError
from clio_twisted.rpc.handlers.account_lines import line_json
from clio_twisted.rpc.handlers.book_offers import parse_currency
from clio_twisted.rpc.ledger_spec import (
    LedgerThenParams,
    parse_ledger_then_params,
    select_ledger,
)

NAME = "amm_info"
SLOT_SECONDS = 24 * 3600
SLOT_INTERVALS = 20


Input = LedgerThenParams
parse = parse_ledger_then_params


def parse_issue(value: Any) -> Issue | None:
    """rippled's ``issueFromJson`` for XRP and tokens; None when malformed."""
    if not isinstance(value, dict) or not isinstance(value.get("currency"), str):
        return None
    currency = parse_currency(value["currency"])
    if currency is None:
        return None
    issuer_text = value.get("issuer")
    if currency == keylets.XRP_CURRENCY:
        return None if issuer_text is not None else Issue(currency, keylets.XRP_ISSUER)
    issuer = parse_account(issuer_text) if isinstance(issuer_text, str) else None
    if issuer is None:
        return None
    return Issue(currency, issuer)


def _issue_of(asset: JsonDict) -> Issue:
    if asset.get("currency") == "XRP" and "issuer" not in asset:
        return Issue(keylets.XRP_CURRENCY, keylets.XRP_ISSUER)
    return Issue(keylets.currency_code(asset["currency"]), decode_address(asset["issuer"]))


def iso8601(seconds: int) -> str:
    """rippled's ``to_iso8601`` of a ripple-epoch time (nanoseconds, ``+0000``)."""
    return ripple_time_to_datetime(seconds).strftime("%Y-%m-%dT%H:%M:%S.000000000+0000")


def time_interval(now: int, expiration: int) -> int:
    """The auction slot's current 72-minute interval, or 20 when the slot is not running."""
    if expiration >= SLOT_SECONDS:
        start = expiration - SLOT_SECONDS
        if now >= start and now - start < SLOT_SECONDS:
            return (now - start) // (SLOT_SECONDS // SLOT_INTERVALS)
    return SLOT_INTERVALS


async def _holds(ctx: Context, seq: int, holder: bytes, issue: Issue) -> Decimal:
    """The pool account's (or an LP's) balance of ``issue``, freezes ignored."""
    backend = ctx.backend
    if issue.is_xrp:
        blob = await backend.fetch_ledger_object(keylets.account(holder), seq)
        return Decimal(decode(blob)["Balance"]) if blob is not None else Decimal(0)
    blob = await backend.fetch_ledger_object(
        keylets.line(holder, issue.issuer, issue.currency), seq
    )
    if blob is None:
        return Decimal(0)
    return Decimal(line_json(decode(blob), encode_account_id(holder))["balance"])


async def process(ctx: Context, inp: Input) -> JsonDict:
    header = await select_ledger(ctx, inp.ledger)
    fields = ledger_fields(header)
    seq = header.sequence
    params = inp.params
    backend = ctx.backend

    def fail(error: RippledError) -> RPCError:
        return RPCError(error, extra=fields)

    if ("asset" in params) != ("asset2" in params) or ("asset" in params) == (
        "amm_account" in params
    ):
        raise fail(RippledError.invalidParams)
    issues: list[Issue] = []
    for name in ("asset", "asset2"):
        if name in params:
            issue = parse_issue(params[name])
            if issue is None:
                raise fail(RippledError.issueMalformed)
            issues.append(issue)
    amm_key = None
    if "amm_account" in params:
        pool = (
            parse_account(params["amm_account"]) if isinstance(params["amm_account"], str) else None
        )
        blob = await backend.fetch_ledger_object(keylets.account(pool), seq) if pool else None
        if blob is None:
            raise fail(RippledError.actMalformed)
        amm_id = decode(blob).get("AMMID")
        if not amm_id or int(amm_id, 16) == 0:
            raise fail(RippledError.actNotFound)
        amm_key = bytes.fromhex(amm_id)
    lp = None
    if "account" in params:
        lp = parse_account(params["account"]) if isinstance(params["account"], str) else None
        if lp is None or await backend.fetch_ledger_object(keylets.account(lp), seq) is None:
            raise fail(RippledError.actMalformed)
    if amm_key is None:
        amm_key = keylets.amm(issues[0].key(), issues[1].key())
    amm_blob = await backend.fetch_ledger_object(amm_key, seq)
    if amm_blob is None:
        raise fail(RippledError.actNotFound)
    amm = decode(amm_blob)
    pool_account = decode_address(amm["Account"])
    if not issues:
        issues = [_issue_of(amm["Asset"]), _issue_of(amm["Asset2"])]
    lp_balance = amm["LPTokenBalance"]
    lp_issue = Issue(keylets.currency_code(lp_balance["currency"]), pool_account)
    lp_tokens = (
        amount_json(await _holds(ctx, seq, lp, lp_issue), lp_issue)
        if lp is not None
        else lp_balance
    )
    out: JsonDict = {
        "account": amm["Account"],
        "amount": amount_json(await _holds(ctx, seq, pool_account, issues[0]), issues[0]),
        "amount2": amount_json(await _holds(ctx, seq, pool_account, issues[1]), issues[1]),
        "lp_token": lp_tokens,
        "trading_fee": int(amm.get("TradingFee", 0)),
    }
    votes = [
        {
            "account": slot["VoteEntry"]["Account"],
            "trading_fee": int(slot["VoteEntry"].get("TradingFee", 0)),
            "vote_weight": int(slot["VoteEntry"]["VoteWeight"]),
        }
        for slot in amm.get("VoteSlots", [])
    ]
    if votes:
        out["vote_slots"] = votes
    slot = amm.get("AuctionSlot")
    if slot and "Account" in slot:
        auction: JsonDict = {
            "account": slot["Account"],
            "discounted_fee": int(slot.get("DiscountedFee", 0)),
            "expiration": iso8601(int(slot["Expiration"])),
            "price": slot["Price"],
            "time_interval": time_interval(header.parent_close_time, int(slot["Expiration"])),
        }
        if "AuthAccounts" in slot:
            auction["auth_accounts"] = [
                {"account": a["AuthAccount"]["Account"]} for a in slot["AuthAccounts"]
            ]
        out["auction_slot"] = auction
    for name, issue in (("asset_frozen", issues[0]), ("asset2_frozen", issues[1])):
        if not issue.is_xrp:
            out[name] = await is_frozen(ctx, seq, pool_account, issue)
    return {"amm": out, **fields}


HANDLER = Handler(NAME, parse, process)
