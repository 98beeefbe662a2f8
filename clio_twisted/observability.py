"""Wiring the metrics to the parts that know the figures, without those parts knowing metrics exist.

- :func:`watch` refreshes mirrored gauges at each scrape (subscriber counts,
  the ETL's phase and sources, the state cache's totals) and records each
  publish time (``etl_last_publish_seconds``);
- :class:`CountersInfo` is server_info's admin ``counters`` section, in Clio's
  shape: the RPC tallies and error totals, ``work_queue`` and ``subscriptions``.

Backend operations are counted by :class:`clio_twisted.backend.instrumented.InstrumentedBackend`
and RPC requests by the dispatcher.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.interfaces import IReactorTime

from clio_twisted.metrics import Metrics
from clio_twisted.rpc.context import Context, JsonDict


def watch(
    metrics: Metrics,
    clock: IReactorTime,
    *,
    etl: Any = None,
    subscriptions: Any = None,
    publisher: Any = None,
    read_only: bool = False,
) -> None:
    """Connect ``metrics`` to the ETL service, the subscription manager and the publisher (each optional)."""
    if publisher is not None:
        previous = publisher.on_published

        def published(sequence: int) -> None:
            metrics.etl_published(clock.seconds())
            if previous is not None:
                previous(sequence)

        publisher.on_published = published

    def refresh() -> None:
        if subscriptions is not None:
            for stream, n in subscriptions.counts().items():
                metrics.subscriptions(stream, n)
        status = getattr(etl, "status", None)
        if status is None:
            metrics.etl_state(read_only=read_only, writing=False)
            return
        metrics.etl_state(
            writing=bool(status.is_writer),
            amendment_blocked=bool(status.amendment_blocked),
            read_only=bool(status.read_only or read_only),
        )
        for source in getattr(etl, "sources", None) or []:
            last = getattr(getattr(source, "state", None), "last_message", None)
            if last is not None:
                metrics.source_message(f"ws://{source.host}:{source.ws_port}", last)
        cache = getattr(etl, "cache", None)
        if cache is not None:
            metrics.cache_totals(cache.requests, cache.hits)

    metrics.on_scrape(refresh)


class CountersInfo:
    """server_info's admin ``counters``: Clio's RPC counters, ``work_queue`` and ``subscriptions``."""

    def __init__(self, metrics: Metrics, work_queue: Any = None, subscriptions: Any = None) -> None:
        self._metrics = metrics
        self._work_queue = work_queue
        self._subscriptions = subscriptions

    async def server_info(self, ctx: Context) -> JsonDict:
        if not ctx.is_admin:
            return {}
        counters = self._metrics.report()
        if self._work_queue is not None:
            counters["work_queue"] = self._work_queue.report()
        if self._subscriptions is not None:
            counters["subscriptions"] = self._subscriptions.counts()
        return {"counters": counters}
