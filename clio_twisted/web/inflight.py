"""Requests being answered right now, so shutdown can let them finish (within a grace period)."""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred, DeferredList
from twisted.internet.interfaces import IReactorTime


class InFlight:
    """A set of in-flight request Deferreds shared by the HTTP and WebSocket sides."""

    def __init__(self) -> None:
        self._pending: set[Deferred[Any]] = set()
        self.accepting = True

    def __len__(self) -> int:
        return len(self._pending)

    def track(self, d: Deferred[Any]) -> Deferred[Any]:
        """Remember ``d`` until it fires (whatever its result)."""
        if d.called:
            return d
        self._pending.add(d)

        def done(result: object) -> object:
            self._pending.discard(d)
            return result

        d.addBoth(done)
        return d

    def drain(self, clock: IReactorTime, grace_period: float) -> Deferred[None]:
        """Fires when every tracked request has finished, or after ``grace_period`` (then cancels the rest)."""
        self.accepting = False
        result: Deferred[None] = Deferred()
        if not self._pending:
            result.callback(None)
            return result
        waiting = DeferredList([_observe(d) for d in list(self._pending)], consumeErrors=True)

        def finished(_: object) -> None:
            if timer.active():
                timer.cancel()
            if not result.called:
                result.callback(None)

        def expire() -> None:
            for d in list(self._pending):
                d.cancel()
            if not result.called:
                result.callback(None)

        timer = clock.callLater(grace_period, expire)
        waiting.addBoth(finished)
        return result


def _observe(d: Deferred[Any]) -> Deferred[None]:
    """A Deferred firing when ``d`` does, without touching ``d``'s own result chain."""
    observer: Deferred[None] = Deferred()

    def fire(result: object) -> object:
        if not observer.called:
            observer.callback(None)
        return result

    d.addBoth(fire)
    return observer
