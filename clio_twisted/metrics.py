"""Counters the whole server updates, under Clio's Prometheus names.

Operators of Clio already have dashboards and alerts written against Clio's
metric families (``rpc_method_total_number``, ``backend_operations_total_number``,
...), so we expose the same names and labels. One :class:`Metrics` object owns
one ``CollectorRegistry``: nothing is registered in prometheus-client's global
registry, so tests and several servers in one process never collide.

Why Clio's counters are exported as gauges: prometheus-client appends
``_total`` to every counter's name, which would rename
``rpc_method_total_number`` to ``rpc_method_total_number_total`` and break
those dashboards. A gauge keeps the name byte for byte, and PromQL's ``rate()``
works on it all the same; the values only ever go up, as Clio's do.

The dispatcher, ETL, backend, cache and subscription manager call the small
methods below; every method is cheap (a dict lookup and an add) because some
run once per request or per backend read. The per-request RPC and work-queue
totals are plain numbers copied into their families when a scrape reads them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Gauge, Histogram
from prometheus_client.metrics_core import Metric

from twisted.internet.interfaces import IReactorTime

# Clio's RPC statuses (rpc_method_total_number's ``status`` label).
RPC_STATUSES = ("started", "finished", "failed", "errored", "forwarded", "failed_forward")
# Clio's error kinds (rpc_error_total_number's ``error_type`` label).
RPC_ERROR_TYPES = ("too_busy", "not_ready", "bad_syntax", "unknown_command", "internal_error")
# Clio's backend histogram buckets, in milliseconds.
BACKEND_BUCKETS_MS = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 700.0, 1000.0)
# Sizes of WebSocket messages sent, in bytes.
WS_MESSAGE_BUCKETS = (100.0, 1_000.0, 10_000.0, 100_000.0, 1_000_000.0, 10_000_000.0)

# How far back "requests per second" looks.
RATE_WINDOW_SECONDS = 10


class _RateWindow:
    """Events per second over the last few whole seconds, in bounded memory."""

    def __init__(self, clock: IReactorTime, window: int = RATE_WINDOW_SECONDS) -> None:
        self._clock = clock
        self._window = window
        self._buckets: deque[list[int]] = deque()  # [second, count], oldest first

    def _prune(self, now: int) -> None:
        while self._buckets and self._buckets[0][0] <= now - self._window:
            self._buckets.popleft()

    def mark(self) -> None:
        now = int(self._clock.seconds())
        if self._buckets and self._buckets[-1][0] == now:
            self._buckets[-1][1] += 1
            return
        self._prune(now)
        self._buckets.append([now, 1])

    def per_second(self) -> float:
        now = int(self._clock.seconds())
        self._prune(now)
        return sum(count for _, count in self._buckets) / self._window


class _ScrapeHooks:
    """A collector with no families of its own: it runs the hooks just before a scrape reads the rest.

    Registered first, so the registry collects it first. Gauges that mirror a
    state somebody else keeps (subscriber counts, the ETL's phase, the state
    cache's hit totals) are refreshed here rather than pushed on every change.
    """

    def __init__(self) -> None:
        self.hooks: list[Callable[[], object]] = []

    def collect(self) -> Iterable[Metric]:
        for hook in self.hooks:
            try:
                hook()
            except Exception:  # a broken hook must not break the scrape
                pass
        return []


class Metrics:
    """The server's metric families, and the calls that update them.

    Args:
        clock: used only to compute requests per second for the status page;
            without one, :meth:`requests_per_second` answers 0.
        registry: the registry to register in; a fresh one by default.
    """

    def __init__(
        self, clock: IReactorTime | None = None, registry: CollectorRegistry | None = None
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        r = self.registry
        self._hooks = _ScrapeHooks()
        r.register(self._hooks)
        # -- RPC --------------------------------------------------------------------------
        self._rpc_total = Gauge(
            "rpc_method_total_number",
            "The total number of RPC requests per method and status",
            ["method", "status"],
            registry=r,
        )
        self._rpc_duration = Gauge(
            "rpc_method_duration_us",
            "The total time spent answering each RPC method, in microseconds",
            ["method"],
            registry=r,
        )
        self._rpc_errors = Gauge(
            "rpc_error_total_number",
            "The total number of RPC errors by type",
            ["error_type"],
            registry=r,
        )
        # -- work queue -------------------------------------------------------------------
        self._queued = Gauge(
            "work_queue_queued_total_number", "The total number of tasks queued", registry=r
        )
        self._queue_duration = Gauge(
            "work_queue_cumulitive_tasks_duration_us",  # sic: Clio's spelling
            "The total time tasks spent in the work queue, in microseconds",
            registry=r,
        )
        self._queue_size = Gauge(
            "work_queue_current_size", "The number of tasks waiting now", registry=r
        )
        # -- backend ----------------------------------------------------------------------
        self._backend_ops = Gauge(
            "backend_operations_total_number",
            "The total number of backend operations by operation and status",
            ["operation", "status"],
            registry=r,
        )
        self._backend_current = Gauge(
            "backend_operations_current_number",
            "The number of backend operations in flight",
            ["operation", "status"],
            registry=r,
        )
        self._backend_too_busy = Gauge(
            "backend_too_busy_total_number",
            "The total number of times the backend was too busy to process a request",
            registry=r,
        )
        self._backend_duration = Histogram(
            "backend_duration_milliseconds_histogram",
            "The duration of backend operations, in milliseconds",
            ["operation"],
            buckets=BACKEND_BUCKETS_MS,
            registry=r,
        )
        # -- cache ------------------------------------------------------------------------
        self._cache = Gauge(
            "ledger_cache_counter_total_number",
            "The total number of cache requests and hits by kind of fetch",
            ["type", "fetch"],
            registry=r,
        )
        # -- ETL --------------------------------------------------------------------------
        self._etl_last_publish = Gauge(
            "etl_last_publish_seconds",
            "Unix time at which the last ledger was published",
            registry=r,
        )
        self._etl_writing = Gauge("etl_writing", "1 when this server is the writer", registry=r)
        self._etl_amendment_blocked = Gauge(
            "etl_amendment_blocked", "1 when an unknown amendment blocks ingestion", registry=r
        )
        self._etl_corruption = Gauge(
            "etl_corruption_detected", "1 when ingested data failed verification", registry=r
        )
        self._read_only = Gauge("read_only", "1 when the server never writes", registry=r)
        # -- subscriptions ----------------------------------------------------------------
        self._source_last_message = Gauge(
            "subscription_source_last_message_time",
            "Unix time of the last message received from each ETL source",
            ["source"],
            registry=r,
        )
        self._subscriptions = Gauge(
            "subscriptions_current_number",
            "The number of subscribers per stream",
            ["stream"],
            registry=r,
        )
        self._ws_message_length = Histogram(
            "ws_messages_length",
            "The length of WebSocket messages sent, in bytes",
            buckets=WS_MESSAGE_BUCKETS,
            registry=r,
        )
        # Plain totals for the status page and server_info (reading the registry back is slow).
        self.rpc_counts: dict[str, dict[str, int]] = {}
        self.work_queued_total = 0
        self.work_queued_duration_us = 0
        self.requests_total = 0
        self.errors_total = 0
        self.errors_by_type: dict[str, int] = {}
        self._rate = _RateWindow(clock) if clock is not None else None
        # Totals kept as plain numbers, copied into their families at scrape time (_mirror).
        self._rpc_children: dict[str, dict[str, Any]] = {}
        self._rpc_duration_us: dict[str, float] = {}
        self._work_duration_us = 0.0
        self._work_size = 0
        self.on_scrape(self._mirror)  # the first hook: before anyone else's

    # -- RPC -------------------------------------------------------------------------------

    def rpc_started(self, method: str) -> None:
        """A request for ``method`` was accepted for processing."""
        self._tally(method, "started")

    def rpc_finished(self, method: str, seconds: float) -> None:
        """A request completed successfully after ``seconds``."""
        self._tally(method, "finished", seconds)
        self._add_duration(method, seconds)
        self._count_request()

    def rpc_failed(self, method: str, seconds: float = 0.0) -> None:
        """A request ended with an RPC error (bad params, not found, ...)."""
        self._tally(method, "failed", seconds)
        self._add_duration(method, seconds)
        self._count_request()

    def rpc_errored(self, method: str) -> None:
        """A request ended with an unexpected exception (answered ``internal``)."""
        self._tally(method, "errored")
        self._count_request()

    def rpc_forwarded(self, method: str, ok: bool = True) -> None:
        """A request was forwarded to rippled (``ok=False``: the forward failed)."""
        self._tally(method, "forwarded" if ok else "failed_forward")
        self._count_request()

    def rpc_error(self, kind: str) -> None:
        """An error of one of Clio's kinds (see ``RPC_ERROR_TYPES``) was answered."""
        self.errors_total += 1
        self.errors_by_type[kind] = self.errors_by_type.get(kind, 0) + 1

    def _add_duration(self, method: str, seconds: float) -> None:
        # the float sum the duration gauge shows (rpc_counts keeps whole microseconds)
        self._rpc_duration_us[method] = self._rpc_duration_us.get(method, 0.0) + seconds * 1_000_000

    def _mirror(self) -> None:
        """Copy the per-request totals into their families, at scrape time.

        Per request the counts are plain dict adds: prometheus-client's
        ``labels()`` and its locked ``inc()`` cost more than the rest of the
        counting together. A (method, status) pair appears once counted, as before.
        """
        for method, counts in self.rpc_counts.items():
            children = self._rpc_children.get(method)
            if children is None:
                children = self._rpc_children[method] = {}
            for status in RPC_STATUSES:
                n = counts[status]
                if n:
                    child = children.get(status)
                    if child is None:
                        child = children[status] = self._rpc_total.labels(method, status)
                    child.set(n)
        for method, us in self._rpc_duration_us.items():
            self._rpc_duration.labels(method).set(us)
        for kind, n in self.errors_by_type.items():
            self._rpc_errors.labels(kind).set(n)
        self._queued.set(self.work_queued_total)
        self._queue_duration.set(self._work_duration_us)
        self._queue_size.set(self._work_size)

    def _tally(self, method: str, status: str, seconds: float = 0.0) -> None:
        counts = self.rpc_counts.get(method)
        if counts is None:
            counts = self.rpc_counts[method] = dict.fromkeys((*RPC_STATUSES, "duration_us"), 0)
        counts[status] += 1
        counts["duration_us"] += int(seconds * 1_000_000)

    def report(self) -> dict[str, Any]:
        """server_info's admin ``counters`` (without work_queue and subscriptions), in Clio's shape.

        Clio writes these counts as strings; so do we, to stay byte-compatible.
        """
        errors = self.errors_by_type
        return {
            "rpc": {
                method: {status: str(n) for status, n in counts.items()}
                for method, counts in self.rpc_counts.items()
            },
            "too_busy_errors": str(errors.get("too_busy", 0)),
            "not_ready_errors": str(errors.get("not_ready", 0)),
            "bad_syntax_errors": str(errors.get("bad_syntax", 0)),
            "unknown_command_errors": str(errors.get("unknown_command", 0)),
            "internal_errors": str(errors.get("internal_error", 0)),
        }

    def on_scrape(self, hook: Callable[[], object]) -> None:
        """Run ``hook`` at each scrape, before the families are read (to refresh mirrored gauges)."""
        self._hooks.hooks.append(hook)

    def _count_request(self) -> None:
        self.requests_total += 1
        if self._rate is not None:
            self._rate.mark()

    def requests_per_second(self) -> float:
        """Requests answered per second over the last ``RATE_WINDOW_SECONDS``."""
        return self._rate.per_second() if self._rate is not None else 0.0

    # -- work queue ------------------------------------------------------------------------

    def work_queued(self, current_size: int) -> None:
        """A task entered the work queue, which now holds ``current_size`` tasks."""
        self._work_size = current_size
        self.work_queued_total += 1

    def work_done(self, seconds: float, current_size: int) -> None:
        """A task left the queue after ``seconds``; ``current_size`` remain."""
        self._work_duration_us += seconds * 1_000_000
        self._work_size = current_size
        self.work_queued_duration_us += int(seconds * 1_000_000)

    # -- backend ---------------------------------------------------------------------------

    def backend_op(self, operation: str, status: str, count: int = 1) -> None:
        """Count backend operations; Clio's operations are ``read_async``, ``write_async``,
        ``write_sync``..., statuses ``completed``, ``retry`` and ``error``."""
        self._backend_ops.labels(operation, status).inc(count)

    def backend_pending(self, operation: str, pending: int) -> None:
        """How many ``operation`` calls are in flight now."""
        self._backend_current.labels(operation, "pending").set(pending)

    def backend_duration(self, kind: str, seconds: float) -> None:
        """One backend ``read`` or ``write`` took ``seconds`` (retries included)."""
        self._backend_duration.labels(kind).observe(seconds * 1000)

    def backend_too_busy(self) -> None:
        """A read was refused because too many were in flight."""
        self._backend_too_busy.inc()

    # -- cache -----------------------------------------------------------------------------

    def cache_lookup(self, hit: bool, fetch: str = "ledger_objects") -> None:
        """One cache lookup (``fetch`` is ``ledger_objects`` or ``successor_key``)."""
        self._cache.labels("request", fetch).inc()
        if hit:
            self._cache.labels("cache_hit", fetch).inc()

    def cache_totals(self, requests: int, hits: int, fetch: str = "ledger_objects") -> None:
        """Mirror a cache's own running totals (read at scrape time) into the cache family."""
        self._cache.labels("request", fetch).set(requests)
        self._cache.labels("cache_hit", fetch).set(hits)

    # -- ETL -------------------------------------------------------------------------------

    def etl_published(self, unix_time: float) -> None:
        """A ledger was published; ``unix_time`` is when (Clio records the publish time)."""
        self._etl_last_publish.set(unix_time)

    def etl_state(
        self,
        *,
        writing: bool | None = None,
        amendment_blocked: bool | None = None,
        corruption_detected: bool | None = None,
        read_only: bool | None = None,
    ) -> None:
        """Set any of the ETL's boolean gauges; arguments left as None are unchanged."""
        for gauge, value in (
            (self._etl_writing, writing),
            (self._etl_amendment_blocked, amendment_blocked),
            (self._etl_corruption, corruption_detected),
            (self._read_only, read_only),
        ):
            if value is not None:
                gauge.set(1 if value else 0)

    def source_message(self, source: str, unix_time: float) -> None:
        """A message arrived from ETL source ``source`` (e.g. ``ws://127.0.0.1:6006``)."""
        self._source_last_message.labels(source).set(unix_time)

    # -- subscriptions ---------------------------------------------------------------------

    def subscriptions(self, stream: str, n: int) -> None:
        """``stream`` (``ledger``, ``transactions``, ``account``, ...) now has ``n`` subscribers."""
        self._subscriptions.labels(stream).set(n)

    def ws_message(self, length: int) -> None:
        """A WebSocket message of ``length`` bytes was sent."""
        self._ws_message_length.observe(length)
