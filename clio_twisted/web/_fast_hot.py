"""Hot answers: the newest ledger's JSON-RPC answers kept as ready bytes, so a repeated request costs no store or codec work.

Why whole answers: a hot ``account_info`` through the dispatcher costs four
store reads (range, header, AccountRoot, Amendments) and a binary-to-JSON
decode; under load the same few accounts and ledgers are asked again and
again. Keyed by the exact request body (and whether the client is admin), an
answer is pre-serialised JSON: the finest "fragment" there is.

Correctness rests on three rules:

- only commands whose answer is a function of (request, stored range) are
  kept (:data:`CACHEABLE`), only plain 200 answers, never forwarded ones nor
  transient errors (``tooBusy``, ``notReady``, ``internal``...);
- everything is dropped the moment the stored range changes: the API side's
  :class:`~clio_twisted.backend.known_range.KnownRange` calls
  :meth:`HotAnswers.on_range` synchronously when a commit (or, on a read-only
  server, its range refresh) moves the range, before any later request can
  read it. So the request right after a commit never gets the previous
  ledger's answer. An answer computed while the range moved is not kept:
  the fronts read :attr:`HotAnswers.generation` before dispatching and
  :meth:`HotAnswers.offer` refuses an answer from an older generation;
- the "server may be out of date" state (warning 2002, a minute after the
  newest close) depends on the time, not on an event: it is polled every
  ``refresh_interval`` seconds on the injected clock, and everything is
  dropped when it flips. The poll also reads the range, which is what keeps
  a ``HotAnswers`` nobody calls ``on_range`` on correct within one interval;
- the memory is bounded (``max_bytes`` in all, least recently used out first;
  answers over ``max_entry`` bytes are never kept).

The DOS guard still counts every request and every byte, and the per-method
counters still see every hit.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import orjson
from attrs import frozen

from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from clio_twisted.backend.interface import LedgerRange
from clio_twisted.rpc.dispatch import OUTDATED_AFTER_SECONDS, Dispatcher
from clio_twisted.rpc.envelope import dumps
from clio_twisted.rpc.errors import WarningCode

CACHEABLE = frozenset(
    {
        "account_info",
        "account_lines",
        "account_objects",
        "account_tx",
        "book_changes",
        "ledger",
        "ledger_entry",
        "nft_history",
        "transaction_entry",
        "tx",
    }
)
# Errors that say something about the server's state now, not about the request.
TRANSIENT_ERRORS = frozenset(
    {
        "tooBusy",
        "notReady",
        "internal",
        "slowDown",
        "unknownCmd",
        "noPermission",
        "badSyntax",
        # forwarding to rippled failed: the next try may succeed
        "connectionError",
        "requestError",
        "timeout",
        "invalidResponse",
        "failedToForward",
    }
)
ENTRY_OVERHEAD = 160  # dict slot, tuple, entry object: a rough per-entry cost in bytes


@frozen
class HotAnswer:
    """One kept answer: the response body, and what the counters need on a hit."""

    data: bytes
    method: str
    failed: bool


class HotAnswers:
    """A bounded map (is_admin, is WebSocket, request bytes) -> answer, valid for one stored range.

    Args:
        dispatcher: gives the backend (range poll) and the close age.
        clock: drives the refresh loop.
        max_bytes: memory budget for bodies and answers together.
        max_entry: the largest answer kept.
        refresh_interval: seconds between polls of the out-of-date state (and the range).
    """

    log = Logger()

    def __init__(
        self,
        dispatcher: Dispatcher,
        clock: IReactorTime,
        max_bytes: int = 64 << 20,
        max_entry: int = 256 << 10,
        refresh_interval: float = 0.2,
    ) -> None:
        self._dispatcher = dispatcher
        self._clock = clock
        self.max_bytes = max_bytes
        self.max_entry = max_entry
        self.refresh_interval = refresh_interval
        self._entries: OrderedDict[tuple[bool, bool, bytes], HotAnswer] = OrderedDict()
        self.size = 0
        self.epoch: tuple[int, int, bool] | None = None  # (min, max, outdated); None: not known
        # bumped at every drop: an answer computed across a drop is not kept
        self.generation = 0
        self._range: LedgerRange | None = None  # the last range on_range was told
        self.hits = 0
        self.misses = 0
        self._loop: LoopingCall | None = None
        self._refreshing: Deferred[None] | None = None

    def __len__(self) -> int:
        return len(self._entries)

    # -- lookups ---------------------------------------------------------------------------

    def get(self, is_admin: bool, body: bytes, ws: bool = False) -> HotAnswer | None:
        """The kept answer to this exact request body (HTTP body, or WebSocket message when ``ws``)."""
        key = (is_admin, ws, body)
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        counters = self._dispatcher.base_context.counters
        if counters is not None:
            counters.rpc_started(entry.method)
            if entry.failed:
                counters.rpc_failed(entry.method, 0.0)
            else:
                counters.rpc_finished(entry.method, 0.0)
        return entry

    def offer(
        self,
        is_admin: bool,
        body: bytes,
        answer: dict[str, Any],
        data: bytes,
        ws: bool = False,
        generation: int | None = None,
        method: Any = None,
    ) -> None:
        """Keep ``data`` (the serialised ``answer`` to ``body``) if it may be served again.

        HTTP answers carry their outcome in ``result``; WebSocket ones are flat
        (an error's ``error`` is at the top). ``generation``: :attr:`generation`
        as read before the request was dispatched; an answer from before a drop
        is not kept (None: the caller vouches the answer is current).
        ``method``: the request's command when the caller has parsed ``body``
        already (as :func:`request_method` reads it); None: parsed here.
        """
        if self.epoch is None or len(data) > self.max_entry:
            return
        if generation is not None and generation != self.generation:
            return
        if "forwarded" in answer:
            return
        result = answer if ws else answer.get("result")
        if not isinstance(result, dict):
            return
        error = result.get("error")
        if error in TRANSIENT_ERRORS:
            return
        if method is None:
            try:
                request = orjson.loads(body)
                method = request_method(request) if ws else request["method"]
            except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
                return
        if not isinstance(method, str) or method not in CACHEABLE:
            return
        key = (is_admin, ws, body)
        old = self._entries.pop(key, None)
        if old is not None:
            self.size -= len(body) + len(old.data) + ENTRY_OVERHEAD
        self._entries[key] = HotAnswer(data, method, error is not None)
        self.size += len(body) + len(data) + ENTRY_OVERHEAD
        while self.size > self.max_bytes and self._entries:
            (_, _, old_body), old = self._entries.popitem(last=False)
            self.size -= len(old_body) + len(old.data) + ENTRY_OVERHEAD

    def clear(self) -> None:
        """Drop every kept answer (and refuse those being computed now)."""
        self._entries.clear()
        self.size = 0
        self.generation += 1

    # -- validity --------------------------------------------------------------------------

    def on_range(self, stored: LedgerRange | None) -> None:
        """KnownRange listener: the stored range is ``stored`` now; drop everything kept.

        The out-of-date flag is carried over: a newer ledger can only make the
        server less out of date, and the next poll compares it anyway.
        """
        self.clear()
        self._range = stored
        if stored is None or self.epoch is None:
            self.epoch = None
        else:
            self.epoch = (stored.min_sequence, stored.max_sequence, self.epoch[2])

    async def refresh(self) -> None:
        """Read the stored range and the close age; drop everything when either changed."""
        generation = self.generation
        stored = await self._dispatcher.backend.fetch_ledger_range()
        if stored is None:
            epoch = None
        else:
            age = await self._dispatcher.last_close_age(stored)
            outdated = age is None or age >= OUTDATED_AFTER_SECONDS
            epoch = (stored.min_sequence, stored.max_sequence, outdated)
        if self.generation != generation and stored != self._range:
            return  # a newer range came meanwhile: what was read is older; the next poll looks
        if epoch != self.epoch:
            self.clear()
            self.epoch = epoch

    def _tick(self) -> None:
        if self._refreshing is not None:
            return  # the previous poll is still waiting for the store
        d = Deferred.fromCoroutine(self.refresh())
        if d.called:
            d.addErrback(self._failed)
            return
        self._refreshing = d

        def done(result: object) -> object:
            self._refreshing = None
            return result

        d.addBoth(done)
        d.addErrback(self._failed)

    def _failed(self, failure: Any) -> None:
        # Unknown state: serve nothing from memory until a poll succeeds.
        self.clear()
        if failure.check(CancelledError):
            return
        self.epoch = None
        self.log.failure("hot answers: reading the ledger range failed", failure)

    def start(self) -> None:
        if self._loop is None:
            self._loop = LoopingCall(self._tick)
            self._loop.clock = self._clock
            self._loop.start(self.refresh_interval, now=True)

    def stop(self) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        self._loop = None
        if self._refreshing is not None:
            self._refreshing.cancel()
        self.clear()
        self.epoch = None


def request_method(request: dict[str, Any]) -> Any:
    """The command a kept WebSocket answer is counted under: ``command``, else ``method``."""
    return request.get("command", request.get("method"))


def with_load_warning(data: bytes) -> bytes:
    """An answer re-serialised with the DOS guard's ``load`` warnings (the client is over budget).

    The same body :func:`~clio_twisted.web.dosguard.charge_response` makes.
    """
    body = orjson.loads(data)
    body["warning"] = "load"
    warnings = body.get("warnings")
    rate_limit = WarningCode.RATE_LIMIT.to_json()
    body["warnings"] = [*warnings, rate_limit] if isinstance(warnings, list) else [rate_limit]
    return dumps(body)
