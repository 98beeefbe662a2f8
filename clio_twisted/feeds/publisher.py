"""After each committed ledger: publish it from the store, in ledger order, one ledger at a time.

The ETL calls :meth:`Publisher.on_committed` for every ledger this server
sees committed, whether it wrote it or read it (so read-only servers publish
too). Ledgers are published strictly in sequence from the store: the
``ledgerClosed`` message, then each transaction in TransactionIndex order,
then ``bookChanges``. A ledger that closed more than ``max_age`` seconds ago
(catch-up after downtime) is not published, as in Clio. The first call only
sets the starting point: ledgers committed before the server started are not
replayed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.application.service import Service
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater
from twisted.logger import Logger

from clio_twisted.backend.interface import IBackend
from clio_twisted.feeds.manager import SubscriptionManager
from clio_twisted.feeds.messages import (
    Fees,
    decode_for_streams,
    fees_from_object,
    ledger_closed,
    owner_funds_wanted,
)
from clio_twisted.protocol import keylets
from clio_twisted.protocol.codec import decode
from clio_twisted.protocol.ledger_header import RIPPLE_EPOCH_UNIX, LedgerHeader
from clio_twisted.rpc.book_changes import book_changes_message, compute_book_changes
from clio_twisted.rpc.context import Clock, Context
from clio_twisted.rpc.owner_funds import account_funds

MAX_AGE_SECONDS = 600.0


class Publisher:
    """Publishes committed ledgers to a :class:`SubscriptionManager`.

    Args:
        backend: the store the ledgers are read from.
        manager: the subscriptions.
        clock: ``seconds()`` in Unix time.
        on_published: called with each published sequence (forwarding cache
            invalidation, benches).
    """

    log = Logger()

    def __init__(
        self,
        backend: IBackend,
        manager: SubscriptionManager,
        clock: Clock,
        max_age: float = MAX_AGE_SECONDS,
        on_published: Callable[[int], None] | None = None,
    ) -> None:
        self.backend = backend
        self.manager = manager
        self.clock = clock
        self.max_age = max_age
        self.on_published = on_published
        self.last_published: int | None = None
        self._next: int | None = None
        self._target = 0
        self._busy = False
        self.stopping = False  # set at shutdown: publish nothing more

    def on_committed(self, sequence: int) -> None:
        """The ETL's listener: ``sequence`` is now in the store."""
        if self._next is None:
            self._next = sequence
        self._target = max(self._target, sequence)
        if not self._busy:
            self._busy = True  # set before starting: the drain may finish synchronously
            d = Deferred.fromCoroutine(self._drain())
            d.addErrback(lambda f: self.log.failure("publishing stopped", f))

    def idle(self) -> bool:
        return not self._busy

    async def _drain(self) -> None:
        try:
            while self._next is not None and self._next <= self._target and not self.stopping:
                sequence = self._next
                try:
                    await self.publish(sequence)
                except Exception:
                    self.log.failure("publishing ledger {sequence} failed", sequence=sequence)
                self._next = sequence + 1
        finally:
            self._busy = False

    async def publish(self, sequence: int) -> bool:
        """Publish one ledger from the store; False when skipped (missing or too old)."""
        blob = await self.backend.fetch_ledger_by_sequence(sequence)
        if blob is None:
            return False
        header = LedgerHeader.from_bytes(blob)
        age = self.clock.seconds() - (header.close_time + RIPPLE_EPOCH_UNIX)
        if age > self.max_age:
            return False
        manager = self.manager
        records = sorted(
            await self.backend.fetch_ledger_transactions(sequence),
            key=lambda r: r.transaction_index,
        )
        network_id = manager.network_id()
        if manager.has_subscribers("ledger"):
            rng = await self.backend.fetch_ledger_range()
            validated = f"{rng.min_sequence}-{rng.max_sequence}" if rng else str(sequence)
            fees = await self.fees(sequence)
            manager.publish_stream(
                "ledger", ledger_closed(header, fees, validated, len(records), network_id)
            )
        decoded: list[tuple[dict[str, Any], dict[str, Any]]] | None = None
        if manager.wants_transactions():
            ctx = Context(backend=self.backend, clock=self.clock)
            for record in records:
                tx_json = decode(record.transaction)
                funds = None
                wanted = owner_funds_wanted(tx_json)
                if wanted is not None:
                    funds = await account_funds(ctx, sequence, wanted[0], wanted[1])
                manager.publish_transaction(
                    decode_for_streams(record, header.hash, funds), network_id
                )
        if manager.has_subscribers("book_changes"):
            decoded = [(decode(r.transaction), decode(r.metadata)) for r in records]
            changes = compute_book_changes(decoded)
            manager.publish_stream(
                "book_changes",
                book_changes_message(header.sequence, header.hash, header.close_time, changes),
            )
        self.last_published = sequence
        if self.on_published is not None:
            self.on_published(sequence)
        return True

    async def fees(self, sequence: int) -> Fees:
        blob = await self.backend.fetch_ledger_object(keylets.fees(), sequence)
        return fees_from_object(decode(blob) if blob else None)


class PublisherService(Service):
    """Stops publishing with the ETL: the store must not close under a ledger being published.

    Added as a child of the ETL service, so stopping the ETL waits (up to
    ``grace`` seconds) for the publisher to finish the ledger in hand.
    """

    def __init__(self, publisher: Publisher, reactor: Any, grace: float = 5.0) -> None:
        self.publisher = publisher
        self.reactor = reactor
        self.grace = grace

    def stopService(self) -> Deferred[None]:  # noqa: N802
        super().stopService()
        self.publisher.stopping = True
        return Deferred.fromCoroutine(self._wait())

    async def _wait(self) -> None:
        deadline = self.reactor.seconds() + self.grace
        while not self.publisher.idle() and self.reactor.seconds() < deadline:
            await deferLater(self.reactor, 0.01, lambda: None)
