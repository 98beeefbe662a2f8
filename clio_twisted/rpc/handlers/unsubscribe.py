"""``unsubscribe``: the reverse of ``subscribe``, with the same validation (books without ``snapshot``)."""

from __future__ import annotations

from attrs import frozen

from clio_twisted.rpc.context import Context, Handler, JsonDict
from clio_twisted.rpc.handlers.subscribe import (
    BookRequest,
    book_key,
    manager_of,
    parse_accounts,
    parse_books,
    parse_streams,
)

NAME = "unsubscribe"


@frozen
class Input:
    streams: tuple[str, ...] = ()
    accounts: tuple[bytes, ...] = ()
    accounts_proposed: tuple[bytes, ...] = ()
    books: tuple[BookRequest, ...] = ()


def parse(params: JsonDict, api_version: int) -> Input:
    return Input(
        streams=parse_streams(params),
        accounts=parse_accounts(params, "accounts"),
        accounts_proposed=parse_accounts(params, "accounts_proposed"),
        books=parse_books(params, check_snapshot=False),
    )


async def process(ctx: Context, inp: Input) -> JsonDict:
    manager = manager_of(ctx)
    session = ctx.session
    for stream in inp.streams:
        manager.unsub_stream(session, stream)
    for account in inp.accounts:
        manager.unsub_account(session, account)
    for account in inp.accounts_proposed:
        manager.unsub_account(session, account, proposed=True)
    for book in inp.books:
        manager.unsub_book(session, book_key(book.pays, book.gets))
        if book.both:
            manager.unsub_book(session, book_key(book.gets, book.pays))
    return {}


HANDLER = Handler(NAME, parse, process, ws_only=True)
