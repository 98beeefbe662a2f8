"""``subscribe``: streams, accounts, proposed accounts and order books for this WebSocket session.

Validation is Clio's, in its order: ``streams`` (an array of strings;
``peer_status``/``consensus``/``server`` are ``notSupported``, other unknown
names ``malformedStream``), ``accounts`` and ``accounts_proposed`` (non-empty
arrays of valid addresses), then ``books`` (objects; ``both`` and ``snapshot``
booleans, ``taker`` a valid account, the book itself as ``book_offers``
parses it). The request's ``api_version`` becomes the session's stream
version. The answer holds the ledger stream's current ledger when ``ledger``
is among the streams, and the book snapshots (``offers``, or ``bids`` and
``asks`` for ``both``: up to 200 offers each, at the newest stored ledger).
"""

from __future__ import annotations

from typing import Any

from attrs import frozen

from clio_twisted.feeds.messages import XRP_ISSUE, Book, fees_from_object, ledger_fields
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
        side_params = {k: v for k, v in book.items() if k not in ("taker", "domain")}
        pays, gets, _taker, _domain = book_offers_handler._validate(side_params)
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
