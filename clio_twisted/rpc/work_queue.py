"""The bound on requests being answered at once (``server.max_queue_size``), shared by every transport.

Clio posts each request to a work queue and answers ``tooBusy`` at once when
the queue already holds ``max_queue_size`` tasks (0: no bound), except for
clients on the DOS guard's whitelist, which are always admitted (and counted).
Our requests do not wait for a worker thread, so "in the queue" here means
"admitted and not yet answered"; the dispatcher asks :meth:`WorkQueue.enter`
before running a command and calls :meth:`WorkQueue.leave` when it is done,
for HTTP (both fronts) and WebSocket alike. Its figures feed the
``work_queue_*`` metric families and server_info's admin
``counters.work_queue``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from clio_twisted.rpc.context import Clock, JsonDict


class WorkQueue:
    """Admits requests up to ``max_size`` at once (0: unlimited).

    Args:
        max_size: ``server.max_queue_size``.
        clock: for the time each request spends admitted.
        metrics: a ``clio_twisted.metrics.Metrics`` (``work_queued``/``work_done``), or None.
        is_whitelisted: ``DosGuard.is_whitelisted``: those clients skip the bound.
    """

    def __init__(
        self,
        max_size: int,
        clock: Clock,
        metrics: Any = None,
        is_whitelisted: Callable[[str], bool] = lambda ip: False,
    ) -> None:
        self.max_size = max_size
        self.size = 0
        self.queued = 0
        self.queued_duration_us = 0
        self._clock = clock
        self._metrics = metrics
        self._is_whitelisted = is_whitelisted

    def enter(self, ip: str) -> float | None:
        """Admit one request from ``ip``: its start time (give it to :meth:`leave`), or None when full."""
        if self.max_size > 0 and self.size >= self.max_size and not self._is_whitelisted(ip):
            return None
        self.size += 1
        self.queued += 1
        if self._metrics is not None:
            self._metrics.work_queued(self.size)
        return self._clock.seconds()

    def leave(self, started: float) -> None:
        """The request admitted at ``started`` is answered (or abandoned)."""
        self.size -= 1
        seconds = max(0.0, self._clock.seconds() - started)
        self.queued_duration_us += int(seconds * 1_000_000)
        if self._metrics is not None:
            self._metrics.work_done(seconds, self.size)

    def report(self) -> JsonDict:
        """server_info's ``counters.work_queue``, with Clio's keys."""
        return {
            "queued": self.queued,
            "queued_duration_us": self.queued_duration_us,
            "current_queue_size": self.size,
            "max_queue_size": self.max_size,
        }
