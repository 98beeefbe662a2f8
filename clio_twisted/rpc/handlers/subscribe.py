"""``subscribe``: streams, accounts, proposed accounts and order books for this WebSocket session.

Validation is Clio's, in its order: ``streams`` (an array of strings;
``peer_status``/``consensus``/``server`` are ``notSupported``, other unknown
names ``malformedStream``), ``accounts`` and ``accounts_proposed`` (non-empty
arrays of valid addresses), then ``books`` (objects; ``both`` and ``snapshot``
booleans, ``taker`` a valid account, the book itself with Clio's book
parser's checks, tokens and messages: :func:`parse_book`). The request's ``api_version`` becomes the session's stream
version. The answer holds the ledger stream's current ledger when ``ledger``
is among the streams, and the book snapshots (``offers``, or ``bids`` and
``asks`` for ``both``: up to 200 offers each, at the newest stored ledger).
"""

from __future__ import annotations

from typing import Any

from attrs import frozen

from clio_twisted.feeds.messages import XRP_ISSUE, Book, fees_from_object, ledger_fields
from clio_twisted.protocol import keylets
from clio_twisted.protocol.codec import decode
from clio_twisted.protocol.keylets import fees as fees_key
from clio_twisted.protocol.ledger_header import LedgerHeader
from clio_twisted.rpc.account_params import parse_account
from clio_twisted.rpc.books import Issue, book_offers
from clio_twisted.rpc.context import Context, Handler, JsonDict
from clio_twisted.rpc.errors import RippledError, RPCError, WarningCode, invalid_params
from clio_twisted.rpc.handlers import book_offers as book_offers_handler

NAME = "subscribe"
SNAPSHOT_LIMIT = 200
VALID_STREAMS = frozenset(
    {"ledger", "transactions", "transactions_proposed", "book_changes", "manifests", "validations"}
)
NOT_SUPPORTED_STREAMS = frozenset({"peer_status", "consensus", "server"})
DEPRECATED_FIELDS = ("user", "password", "rt_accounts")
_NO_ACCOUNT = bytes(19) + b"\x01"  # rippled's noAccount(): never an issuer


@frozen
class BookRequest:
    pays: Issue
    gets: Issue
    both: bool = False
    snapshot: bool = False


@frozen
class Input:
    streams: tuple[str, ...] = ()
    accounts: tuple[bytes, ...] = ()
    accounts_proposed: tuple[bytes, ...] = ()
    books: tuple[BookRequest, ...] = ()
    deprecated: bool = False


def parse_streams(params: JsonDict) -> tuple[str, ...]:
    if "streams" not in params:
        return ()
    value = params["streams"]
    if not isinstance(value, list):
        raise invalid_params("streamsNotArray")
    for stream in value:
        if not isinstance(stream, str):
            raise invalid_params("streamNotString")
        if stream in NOT_SUPPORTED_STREAMS:
            raise RPCError(RippledError.notSupported)
        if stream not in VALID_STREAMS:
            raise RPCError(RippledError.malformedStream)
    return tuple(value)


def parse_accounts(params: JsonDict, key: str) -> tuple[bytes, ...]:
    if key not in params:
        return ()
    value = params[key]
    if not isinstance(value, list):
        raise invalid_params(f"{key}NotArray")
    if not value:
        raise RPCError(RippledError.actMalformed, f"{key} malformed.")
    out = []
    for item in value:
        if not isinstance(item, str):
            raise invalid_params(f"{key}'sItemNotString")
        account = parse_account(item)
        if account is None:
            raise RPCError(RippledError.actMalformed, f"{key}'sItemMalformed")
        out.append(account)
    return tuple(out)


def _clio_side(
    obj: JsonDict, name: str, cur_error: RippledError, isr_error: RippledError
) -> tuple[bytes, bytes]:
    """One side's currency and issuer (XRP's when absent), with Clio's errors."""
    currency = book_offers_handler.parse_currency(obj["currency"])
    if currency is None:
        raise RPCError(cur_error)
    if "issuer" not in obj:
        return currency, keylets.XRP_ISSUER
    value = obj["issuer"]
    pays = name == "taker_pays"
    if not isinstance(value, str):
        # Clio's two spellings, one per side
        raise invalid_params(
            "takerPaysIssuerNotString" if pays else "taker_gets.issuer should be string"
        )
    issuer = book_offers_handler.parse_issuer(value)
    if issuer is None:
        raise (
            RPCError(isr_error)
            if pays
            else RPCError(isr_error, f"Invalid field '{name}.issuer', bad issuer.")
        )
    if issuer == _NO_ACCOUNT:
        if pays:
            raise RPCError(isr_error)
        raise RPCError(isr_error, f"Invalid field '{name}.issuer', bad issuer account one.")
    return currency, issuer


def _clio_issue(name: str, cur: bytes, issuer: bytes, isr_error: RippledError) -> Issue:
    xrp_currency, xrp_issuer = cur == keylets.XRP_CURRENCY, issuer == keylets.XRP_ISSUER
    if xrp_currency and not xrp_issuer:
        raise RPCError(isr_error, f"Unneeded field '{name}.issuer' for XRP currency specification.")
    if not xrp_currency and xrp_issuer:
        raise RPCError(isr_error, f"Invalid field '{name}.issuer', expected non-XRP issuer.")
    return Issue(cur, issuer)


def parse_book(book: JsonDict) -> tuple[Issue, Issue]:
    """A subscribe/unsubscribe book as Clio checks it (its own behaviour: Clio's order, tokens, messages).

    Both sides present and objects, both currencies present and strings, both
    valid, then each issuer; a market of one issue is ``badMarket``.
    """
    for name in ("taker_pays", "taker_gets"):
        if name not in book:
            raise invalid_params(f"Missing field '{name}'")
    for name in ("taker_pays", "taker_gets"):
        if not isinstance(book[name], dict):
            raise invalid_params(f"Field '{name}' is not an object")
    pays_obj, gets_obj = book["taker_pays"], book["taker_gets"]
    for obj, error in (
        (pays_obj, RippledError.srcCurMalformed),
        (gets_obj, RippledError.dstAmtMalformed),
    ):
        if not isinstance(obj.get("currency"), str):
            raise RPCError(error)
    for obj, error in (
        (pays_obj, RippledError.srcCurMalformed),
        (gets_obj, RippledError.dstAmtMalformed),
    ):
        if book_offers_handler.parse_currency(obj["currency"]) is None:
            raise RPCError(error)
    pay_cur, pay_issuer = _clio_side(
        pays_obj, "taker_pays", RippledError.srcCurMalformed, RippledError.srcIsrMalformed
    )
    pays = _clio_issue("taker_pays", pay_cur, pay_issuer, RippledError.srcIsrMalformed)
    get_cur, get_issuer = _clio_side(
        gets_obj, "taker_gets", RippledError.dstAmtMalformed, RippledError.dstIsrMalformed
    )
    gets = _clio_issue("taker_gets", get_cur, get_issuer, RippledError.dstIsrMalformed)
    if pays == gets:
        raise RPCError(RippledError.badMarket, "badMarket")
    return pays, gets


def parse_books(params: JsonDict, check_snapshot: bool = True) -> tuple[BookRequest, ...]:
    if "books" not in params:
        return ()
    value = params["books"]
    if not isinstance(value, list):
        raise invalid_params("booksNotArray")
    out = []
    for book in value:
        if not isinstance(book, dict):
            raise invalid_params("booksItemNotObject")
        if "both" in book and not isinstance(book["both"], bool):
            raise invalid_params("bothNotBool")
        if check_snapshot and "snapshot" in book and not isinstance(book["snapshot"], bool):
            raise invalid_params("snapshotNotBool")
        if "taker" in book:
            taker = book["taker"]
            if not isinstance(taker, str) or parse_account(taker) is None:
                raise RPCError(RippledError.badIssuer, "Issuer account malformed.")
        pays, gets = parse_book(book)
        out.append(
            BookRequest(
                pays, gets, both=book.get("both") is True, snapshot=book.get("snapshot") is True
            )
        )
    return tuple(out)


def parse(params: JsonDict, api_version: int) -> Input:
    return Input(
        streams=parse_streams(params),
        accounts=parse_accounts(params, "accounts"),
        accounts_proposed=parse_accounts(params, "accounts_proposed"),
        books=parse_books(params),
        deprecated=any(name in params for name in DEPRECATED_FIELDS),
    )


def book_key(pays: Issue, gets: Issue) -> Book:
    """The feeds' book key of a (taker_pays, taker_gets) pair."""

    def side(issue: Issue) -> tuple[bytes, bytes]:
        return XRP_ISSUE if issue.is_xrp else (issue.currency, issue.issuer)

    return (side(pays), side(gets), None)


def manager_of(ctx: Context) -> Any:
    if ctx.subscriptions is None or ctx.session is None:
        raise RPCError(RippledError.internal)
    return ctx.subscriptions


async def ledger_stream_answer(ctx: Context) -> JsonDict:
    """The ledger stream's part of the answer: the newest stored ledger, as Clio's LedgerFeed."""
    rng = ctx.require_range()
    blob = await ctx.backend.fetch_ledger_by_sequence(rng.max_sequence)
    if blob is None:
        raise RPCError(RippledError.internal)
    header = LedgerHeader.from_bytes(blob)
    fee_blob = await ctx.backend.fetch_ledger_object(fees_key(), header.sequence)
    fees = fees_from_object(decode(fee_blob) if fee_blob else None)
    return ledger_fields(
        header, fees, f"{rng.min_sequence}-{rng.max_sequence}", manager_of(ctx).network_id()
    )


async def process(ctx: Context, inp: Input) -> JsonDict:
    manager = manager_of(ctx)
    session = ctx.session
    if inp.deprecated:
        ctx.warn(WarningCode.DEPRECATED)
    manager.set_version(session, ctx.api_version)
    result: JsonDict = {}
    for stream in inp.streams:
        if stream == "ledger":
            result = await ledger_stream_answer(ctx)
        manager.sub_stream(session, stream)
    for account in inp.accounts:
        manager.sub_account(session, account)
    for account in inp.accounts_proposed:
        manager.sub_account(session, account, proposed=True)
    offers: list[JsonDict] | None = None
    bids: list[JsonDict] | None = None
    asks: list[JsonDict] | None = None
    for book in inp.books:
        if book.snapshot:
            seq = ctx.require_range().max_sequence
            if book.both:
                bids = (bids or []) + await book_offers(
                    ctx, seq, book.pays, book.gets, None, SNAPSHOT_LIMIT
                )
                asks = (asks or []) + await book_offers(
                    ctx, seq, book.gets, book.pays, None, SNAPSHOT_LIMIT
                )
            else:
                offers = (offers or []) + await book_offers(
                    ctx, seq, book.pays, book.gets, None, SNAPSHOT_LIMIT
                )
        manager.sub_book(session, book_key(book.pays, book.gets))
        if book.both:
            manager.sub_book(session, book_key(book.gets, book.pays))
    if offers is not None:
        result["offers"] = offers
    if asks is not None:
        result["asks"] = asks
    if bids is not None:
        result["bids"] = bids
    return result


HANDLER = Handler(NAME, parse, process, ws_only=True)
