"""The one dispatcher behind HTTP and WebSocket: find the handler, run it, turn every failure into an error.

Transport framing (JSON parsing, ``params`` unwrapping, the envelope and its
bytes) lives in :mod:`clio_twisted.rpc.envelope`; this module only knows
commands. Order of checks, as Clio's RPC engine:

0. the work queue (``server.max_queue_size``): over it, ``tooBusy`` at once;
1. read the stored ledger range once (this request sees no other);
2. offer the request to the forwarder, if one is plugged in and wants it;
3. unknown command: ``unknownCmd``; nothing stored yet and the handler needs
   ledgers (or the command is unknown): ``notReady``;
4. admin-only command from a non-admin client: ``noPermission``;
5. ``parse`` then ``process``; ``RPCError`` is the answer, backend overload is
   ``tooBusy``, anything else is ``internal`` (logged with its traceback).
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import Any

import attrs
from attrs import evolve, frozen

from twisted.internet.defer import CancelledError
from twisted.logger import Logger

from clio_twisted.backend.interface import DatabaseTimeout, IBackend, LedgerRange, TooBusy
from clio_twisted.protocol.ledger_header import RIPPLE_EPOCH_UNIX, LedgerHeader
from clio_twisted.rpc.context import Clock, Context, Handler, JsonDict
from clio_twisted.rpc.errors import RippledError, RPCError, WarningCode
from clio_twisted.rpc.work_queue import WorkQueue

OUTDATED_AFTER_SECONDS = 60.0

# A request's Context is built positionally when Context's fields are still in this
# order (checked once here; otherwise evolve() is used, and a test says so).
_CONTEXT_FIELDS = (
    "backend",
    "clock",
    "config",
    "api_version",
    "is_admin",
    "client_ip",
    "ledger_range",
    "transport",
    "session",
    "started_at",
    "warnings",
    "etl",
    "cache",
    "subscriptions",
    "forwarder",
    "counters",
    "info_sections",
)
CONTEXT_POSITIONAL = (
    all(f.init and not f.kw_only and f.alias == f.name for f in attrs.fields(Context))
    and tuple(f.name for f in attrs.fields(Context)) == _CONTEXT_FIELDS
)
_providers = operator.attrgetter(*_CONTEXT_FIELDS[11:])


@frozen
class Caller:
    """Who is asking, as the transport knows it."""

    ip: str
    is_admin: bool
    transport: str = "http"  # or "ws"
    session: Any = None


@frozen
class Outcome:
    """A dispatched request's answer before framing.

    Exactly one of ``result`` and ``error`` is set. ``warnings`` is empty for
    the answers Clio sends without them (``notReady``). ``forwarded`` marks a
    reply relayed from rippled, copied as-is by the envelope.
    """

    result: JsonDict | None = None
    error: RPCError | None = None
    warnings: tuple[JsonDict, ...] = ()
    forwarded: bool = False
    refused: bool = False  # turned away by the work queue (HTTP answers 503)


class Dispatcher:
    """Runs commands for both transports.

    Args:
        handlers: the registry (``clio_twisted.rpc.handlers.load_handlers()``).
        base_context: a :class:`Context` carrying backend, clock, config and
            providers; the per-request fields are filled in for each call.
    """

    log = Logger()

    def __init__(
        self,
        handlers: Mapping[str, Handler[Any]],
        base_context: Context,
        work_queue: WorkQueue | None = None,
    ) -> None:
        self._handlers = dict(handlers)
        self._base = base_context
        self.work_queue = work_queue  # bounds the requests answered at once (rpc/work_queue.py)
        self._close_time: tuple[int, float] | None = None  # (max sequence, its close time, Unix)

    @property
    def backend(self) -> IBackend:
        return self._base.backend

    @property
    def clock(self) -> Clock:
        return self._base.clock

    @property
    def base_context(self) -> Context:
        return self._base

    def lookup(self, method: str) -> Handler[Any] | None:
        return self._handlers.get(method)

    async def execute(
        self, method: str, params: JsonDict, api_version: int, caller: Caller
    ) -> Outcome:
        """Answer one command; never raises (every failure becomes an error outcome)."""
        counters = self._base.counters
        queue = self.work_queue
        ticket = queue.enter(caller.ip) if queue is not None else None
        if queue is not None and ticket is None:
            if counters is not None:
                counters.rpc_error("too_busy")  # as Clio: the refusal is counted by kind only
            return Outcome(error=RPCError(RippledError.tooBusy), refused=True)
        started = self.clock.seconds()
        try:
            outcome = await self._execute(method, params, api_version, caller)
        finally:
            if queue is not None and ticket is not None:
                queue.leave(ticket)
        if counters is not None:
            try:
                _count(
                    counters,
                    method,
                    method in self._handlers,
                    outcome,
                    self.clock.seconds() - started,
                )
            except Exception:
                self.log.failure("counting a request failed")
        return outcome

    async def _execute(
        self, method: str, params: JsonDict, api_version: int, caller: Caller
    ) -> Outcome:
        try:
            stored = await self.backend.fetch_ledger_range()
        except (TooBusy, DatabaseTimeout):
            return Outcome(error=RPCError(RippledError.tooBusy))
        except CancelledError:
            raise
        except Exception:
            self.log.failure("reading the ledger range failed")
            return Outcome(error=RPCError(RippledError.internal))

        base = self._base
        if CONTEXT_POSITIONAL:  # twice as fast as evolve(), and this runs for every request
            ctx = Context(
                base.backend,
                base.clock,
                base.config,
                api_version,
                caller.is_admin,
                caller.ip,
                stored,
                caller.transport,
                caller.session,
                base.started_at,
                [],
                *_providers(base),
            )
        else:
            ctx = evolve(
                base,
                api_version=api_version,
                is_admin=caller.is_admin,
                client_ip=caller.ip,
                ledger_range=stored,
                transport=caller.transport,
                session=caller.session,
                warnings=[],
            )
        forwarded = False
        try:
            handler = self._handlers.get(method)
            if ctx.forwarder is not None and await ctx.forwarder.should_forward(
                ctx, method, params, handler
            ):
                result = await ctx.forwarder.forward(ctx, method, params)
                forwarded = True
            else:
                if stored is None and (handler is None or handler.needs_ledger_range):
                    return Outcome(error=RPCError(RippledError.notReady))
                if handler is None:
                    raise RPCError(RippledError.unknownCmd)
                if handler.admin_only and not ctx.is_admin:
                    raise RPCError(RippledError.noPermission)
                inp = handler.parse(params, api_version)
                result = await handler.process(ctx, inp)
        except RPCError as e:
            return Outcome(error=e, warnings=await self._warnings(ctx, stored))
        except (TooBusy, DatabaseTimeout):
            return Outcome(
                error=RPCError(RippledError.tooBusy), warnings=await self._warnings(ctx, stored)
            )
        except CancelledError:
            raise  # the client went away, or shutdown's grace period ran out
        except Exception:
            self.log.failure("handler {method} failed", method=method)
            return Outcome(
                error=RPCError(RippledError.internal), warnings=await self._warnings(ctx, stored)
            )
        return Outcome(
            result=result, warnings=await self._warnings(ctx, stored), forwarded=forwarded
        )

    async def _warnings(self, ctx: Context, stored: LedgerRange | None) -> tuple[JsonDict, ...]:
        """The handler's warnings, then Clio's 2001, then 2002 when the newest ledger is a minute old."""
        out = [*ctx.warnings, WarningCode.CLIO.to_json()]
        # the close age without a coroutine when it is known at once (nearly always)
        etl = self._base.etl
        close_time = self._close_time
        age: float | None
        if etl is not None and hasattr(etl, "last_close_age"):
            age = etl.last_close_age()
        elif stored is not None and close_time is not None and close_time[0] == stored.max_sequence:
            age = self.clock.seconds() - close_time[1]
        else:
            age = await self.last_close_age(stored)
        if age is None or age >= OUTDATED_AFTER_SECONDS:
            out.append(WarningCode.OUTDATED.to_json())
        return tuple(out)

    async def last_close_age(self, stored: LedgerRange | None) -> float | None:
        """Seconds since the newest stored ledger closed (the ETL's figure when it has one)."""
        etl = self._base.etl
        if etl is not None and hasattr(etl, "last_close_age"):
            age: float | None = etl.last_close_age()
            return age
        if stored is None:
            return None
        if self._close_time is None or self._close_time[0] != stored.max_sequence:
            try:
                blob = await self.backend.fetch_ledger_by_sequence(stored.max_sequence)
            except Exception:
                self.log.failure("reading the newest ledger header failed")
                return None
            if blob is None:
                return None
            header = LedgerHeader.from_bytes(blob)
            self._close_time = (stored.max_sequence, float(header.close_time + RIPPLE_EPOCH_UNIX))
        return self.clock.seconds() - self._close_time[1]


# Clio's rpc_error_total_number{error_type} for the errors it counts by kind.
_ERROR_KINDS = {
    RippledError.notReady: "not_ready",
    RippledError.tooBusy: "too_busy",
    RippledError.unknownCmd: "unknown_command",
    RippledError.internal: "internal_error",
    RippledError.badSyntax: "bad_syntax",
}


def _count(counters: Any, method: str, known: bool, outcome: Outcome, seconds: float) -> None:
    """Feed the counters provider (``clio_twisted.metrics.Metrics``) as Clio counts requests.

    Only known command names become labels, so clients cannot grow the metric set.
    """
    if outcome.forwarded:
        counters.rpc_forwarded(method)
        return
    error = outcome.error
    kind = _ERROR_KINDS.get(error.error) if error is not None else None
    if kind is not None:
        counters.rpc_error(kind)
    if not known:
        return
    counters.rpc_started(method)
    if error is None:
        counters.rpc_finished(method, seconds)
    elif error.error is RippledError.internal:
        counters.rpc_errored(method)
    else:
        counters.rpc_failed(method, seconds)
