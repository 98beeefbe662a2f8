"""The subscription registry and the fan-out: who gets which message, serialised once per version.

A *session* is anything with ``send_stream(data: bytes)`` (the WebSocket
connection). Its stream API version is the one of its last ``subscribe``.
Delivery rules (Clio's, after rippled):

- ``transactions``: every validated transaction, once per subscriber;
  ``transactions_proposed`` gets them too, as a second copy for a connection on
  both streams (rippled does the same);
- ``accounts`` and ``accounts_proposed``: one copy per connection however many
  of its accounts a transaction touches;
- ``books``: one copy per connection however many of its books it touches;
- relayed messages (proposed transactions, validations, manifests) go out as
  rippled sent them.

Each message is serialised at most once per API version (``Payload``), so a
thousand subscribers cost one ``orjson.dumps`` each for v1 and v2.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import orjson

from twisted.logger import Logger

from clio_twisted.etl.extract import _is_account_field, account_id
from clio_twisted.feeds.messages import Book, DecodedTransaction
from clio_twisted.rpc.envelope import JSON_OPTIONS

JsonDict = dict[str, Any]

STREAMS = (
    "ledger",
    "transactions",
    "transactions_proposed",
    "book_changes",
    "manifests",
    "validations",
)


class Session(Protocol):
    def send_stream(self, data: bytes) -> None: ...


class Payload:
    """One message, built and serialised lazily, once per API version."""

    def __init__(self, build: Callable[[int], JsonDict], versioned: bool = True) -> None:
        self._build = build
        self._versioned = versioned
        self._bytes: dict[int, bytes] = {}

    def for_version(self, api_version: int) -> bytes:
        key = api_version if self._versioned else 0
        data = self._bytes.get(key)
        if data is None:
            data = self._bytes[key] = orjson.dumps(self._build(api_version), option=JSON_OPTIONS)
        return data

    @property
    def serialisations(self) -> int:
        return len(self._bytes)


class SubscriptionManager:
    """Every session's subscriptions, and publishing to them."""

    log = Logger()

    def __init__(self, network_id: Callable[[], int] = lambda: 0) -> None:
        self.network_id = network_id  # the followed network's id (ctid, network_id fields)
        self._streams: dict[str, set[Any]] = {name: set() for name in STREAMS}
        self._accounts: dict[bytes, set[Any]] = defaultdict(set)
        self._accounts_proposed: dict[bytes, set[Any]] = defaultdict(set)
        self._books: dict[Book, set[Any]] = defaultdict(set)
        self._versions: dict[Any, int] = {}
        self.published = 0  # messages handed to sessions (for metrics and benches)

    # -- registry ----------------------------------------------------------------------------

    def set_version(self, session: Session, api_version: int) -> None:
        self._versions[session] = api_version

    def version_of(self, session: Session) -> int:
        return self._versions.get(session, 1)

    def sub_stream(self, session: Session, stream: str) -> None:
        self._streams[stream].add(session)

    def unsub_stream(self, session: Session, stream: str) -> None:
        self._streams[stream].discard(session)

    def sub_account(self, session: Session, account: bytes, proposed: bool = False) -> None:
        (self._accounts_proposed if proposed else self._accounts)[account].add(session)

    def unsub_account(self, session: Session, account: bytes, proposed: bool = False) -> None:
        table = self._accounts_proposed if proposed else self._accounts
        _discard(table, account, session)

    def sub_book(self, session: Session, book: Book) -> None:
        self._books[book].add(session)

    def unsub_book(self, session: Session, book: Book) -> None:
        _discard(self._books, book, session)

    def remove_session(self, session: Session) -> None:
        """Forget a closed connection everywhere."""
        for subscribers in self._streams.values():
            subscribers.discard(session)
        for table in (self._accounts, self._accounts_proposed, self._books):
            for key in [k for k, v in table.items() if session in v]:
                _discard(table, key, session)
        self._versions.pop(session, None)

    def counts(self) -> JsonDict:
        """Subscriber counts as Clio's server_info ``subscriptions`` section names them."""
        return {
            "ledger": len(self._streams["ledger"]),
            "transactions": len(self._streams["transactions"]),
            "transactions_proposed": len(self._streams["transactions_proposed"]),
            "manifests": len(self._streams["manifests"]),
            "validations": len(self._streams["validations"]),
            "account": sum(len(v) for v in self._accounts.values()),
            "accounts_proposed": sum(len(v) for v in self._accounts_proposed.values()),
            "books": sum(len(v) for v in self._books.values()),
            "book_changes": len(self._streams["book_changes"]),
        }

    def has_subscribers(self, stream: str) -> bool:
        return bool(self._streams[stream])

    def wants_transactions(self) -> bool:
        """Whether any session would receive a validated transaction."""
        return bool(
            self._streams["transactions"]
            or self._streams["transactions_proposed"]
            or self._accounts
            or self._accounts_proposed
            or self._books
        )

    # -- publishing -------------------------------------------------------------------------

    def _deliver(self, sessions: Iterable[Any], payload: Payload) -> None:
        for session in sessions:
            try:
                session.send_stream(payload.for_version(self.version_of(session)))
                self.published += 1
            except Exception:
                self.log.failure("sending a stream message failed")

    def publish_stream(self, stream: str, message: JsonDict) -> None:
        """A message that is the same in every API version (ledgerClosed, bookChanges, relayed)."""
        subscribers = self._streams[stream]
        if subscribers:
            self._deliver(list(subscribers), Payload(lambda _v: message, versioned=False))

    def publish_transaction(self, tx: DecodedTransaction, network_id: int) -> None:
        """One validated transaction to its streams, accounts and books (Clio's copy rules)."""
        payload = Payload(lambda v: tx.message(v, network_id))
        self._deliver(list(self._streams["transactions"]), payload)
        self._deliver(list(self._streams["transactions_proposed"]), payload)
        notified: set[Any] = set()
        for account in tx.accounts:
            for table in (self._accounts, self._accounts_proposed):
                sessions = table.get(account)
                if sessions:
                    fresh = [s for s in sessions if s not in notified]
                    notified.update(fresh)
                    self._deliver(fresh, payload)
        notified.clear()
        for book in tx.books:
            sessions = self._books.get(book)
            if sessions:
                fresh = [s for s in sessions if s not in notified]
                notified.update(fresh)
                self._deliver(fresh, payload)

    def publish_proposed(self, message: JsonDict) -> None:
        """A proposed transaction relayed from rippled: transactions_proposed and accounts_proposed."""
        payload = Payload(lambda _v: message, versioned=False)
        self._deliver(list(self._streams["transactions_proposed"]), payload)
        if not self._accounts_proposed:
            return
        notified: set[Any] = set()
        for account in transaction_accounts(message.get("transaction") or {}):
            sessions = self._accounts_proposed.get(account)
            if sessions:
                fresh = [s for s in sessions if s not in notified]
                notified.update(fresh)
                self._deliver(fresh, payload)


def transaction_accounts(tx: JsonDict) -> set[bytes]:
    """The accounts a transaction's own fields name (AccountID fields and amount issuers, nested too)."""
    found: set[bytes] = set()

    def walk(value: Any, name: str | None) -> None:
        if isinstance(value, dict):
            if name is not None and "issuer" in value and isinstance(value["issuer"], str):
                _add(found, value["issuer"])
            for key, inner in value.items():
                walk(inner, key)
        elif isinstance(value, list):
            for inner in value:
                walk(inner, None)
        elif isinstance(value, str) and name is not None and _is_account_field(name):
            _add(found, value)

    walk(tx, None)
    return found


def _add(found: set[bytes], address: str) -> None:
    try:
        found.add(account_id(address))
    except Exception:
        return


def _discard(table: dict[Any, set[Any]], key: Any, session: Any) -> None:
    sessions = table.get(key)
    if sessions is None:
        return
    sessions.discard(session)
    if not sessions:
        del table[key]
