"""The stored ledger range, kept in memory: every request needs it, and it changes once a ledger.

Why: the dispatcher reads the range first for every request; on SQLite that is
a thread-pool round trip each time, and a profile of WebSocket account_info
showed those round trips dominating. The range only changes when a ledger is
committed, so this wrapper answers ``fetch_ledger_range`` from memory:

- the store is the truth at start-up: until it has been read once, the read
  goes to the store;
- :meth:`KnownRange.on_committed` is an ETL listener: the follower calls it
  for each ledger it commits (writer) or sees committed (reader), so the next
  request sees that ledger;
- a refresh every ``refresh_seconds`` reads the store again, for a read-only
  server whose writer is another process (and to follow online deletion of
  old ledgers).

The newest sequence never goes backwards. Every other call goes to the store.

Listeners (:meth:`KnownRange.add_listener`) are told synchronously each time
the kept range changes, before any later request can read it: caches of whole
answers (web/_fast_hot.py) drop what they kept for the previous range there,
so no request after a commit is answered from the previous ledger.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zope.interface import implementer

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from clio_twisted.backend.interface import IBackend, LedgerRange

REFRESH_SECONDS = 1.0

RangeListener = Callable[[LedgerRange | None], None]


@implementer(IBackend)
class KnownRange:
    """``inner`` with its ledger range answered from memory (refreshed as described above)."""

    log = Logger()

    def __init__(
        self, inner: IBackend, clock: IReactorTime, refresh_seconds: float = REFRESH_SECONDS
    ) -> None:
        self._inner = inner
        self._clock = clock
        self.refresh_seconds = refresh_seconds
        self.known: LedgerRange | None = None
        self.loaded = False
        self._loop: LoopingCall | None = None
        self._refreshing = False
        self._listeners: list[RangeListener] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def start(self) -> None:
        await self._inner.start()
        if self.refresh_seconds > 0:
            self._loop = LoopingCall(self._tick)
            self._loop.clock = self._clock
            self._loop.start(self.refresh_seconds, now=False)

    async def stop(self) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        self._loop = None
        await self._inner.stop()

    async def fetch_ledger_range(self) -> LedgerRange | None:
        if not self.loaded:
            await self.refresh()
        return self.known

    async def refresh(self) -> LedgerRange | None:
        """Read the range from the store and keep it (never moving the newest sequence back)."""
        stored: LedgerRange | None = await self._inner.fetch_ledger_range()
        self._merge(stored)
        self.loaded = True
        return self.known

    def add_listener(self, listener: RangeListener) -> None:
        """Call ``listener(new_range)`` each time the kept range changes (synchronously)."""
        self._listeners.append(listener)

    def on_committed(self, sequence: int) -> None:
        """ETL listener: ``sequence`` is in the store now."""
        known = self.known
        if known is None:
            # the first ledger this process saw; the store may hold older ones, so keep
            # reading it until it has been read once
            self._set(LedgerRange(sequence, sequence))
        elif sequence > known.max_sequence:
            self._set(LedgerRange(known.min_sequence, sequence))

    def _merge(self, stored: LedgerRange | None) -> None:
        known = self.known
        if stored is None:
            return  # nothing stored yet (or a store that lost it): keep what commits told us
        if known is None or stored.max_sequence >= known.max_sequence:
            self._set(stored)
        else:
            self._set(LedgerRange(stored.min_sequence, known.max_sequence))

    def _set(self, new: LedgerRange | None) -> None:
        if new == self.known:
            return
        self.known = new
        for listener in self._listeners:
            try:
                listener(new)
            except Exception:
                self.log.failure("a ledger range listener failed")

    def _tick(self) -> None:
        # not returned to the LoopingCall: a slow store must not stop the loop; one at a time
        if self._refreshing:
            return
        self._refreshing = True
        d = Deferred.fromCoroutine(self.refresh())
        d.addErrback(lambda f: self.log.failure("refreshing the ledger range failed", f))
        d.addBoth(self._refreshed)

    def _refreshed(self, _: object) -> None:
        self._refreshing = False
