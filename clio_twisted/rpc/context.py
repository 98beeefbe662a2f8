"""The handler contract: what a command handler is (:class:`Handler`) and what it is given (:class:`Context`).

A handler never reaches for globals: everything it may use arrives in the
``Context`` the dispatcher builds for each request. Parts of the server that
come later (ETL status, the state cache, subscriptions, forwarding, counters)
are *providers*: one optional field each on ``Context``, ``None`` until the
assembly in ``tap.py`` passes them to the :class:`~clio_twisted.rpc.dispatch.Dispatcher`.
Adding a provider is one line here (a field with a ``None`` default) plus the
wiring in ``tap.py``.

See ``docs/handlers.md`` for a worked example.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, Protocol, TypeVar

from attrs import Factory, field, frozen

from clio_twisted.backend.interface import IBackend, LedgerRange
from clio_twisted.config import ApiVersionConfig, ClioConfig
from clio_twisted.rpc.errors import RippledError, RPCError, WarningCode

JsonDict = dict[str, Any]
InputT = TypeVar("InputT")


class Clock(Protocol):
    """The part of ``IReactorTime`` handlers use: the time now, in Unix seconds."""

    def seconds(self) -> float: ...


class InfoSection(Protocol):
    """A provider that adds fields to ``server_info``'s ``info`` object (ETL, cache, counters...).

    ``server_info`` awaits each in order and merges the returned mapping into
    ``info``; a section is responsible for hiding admin-only fields when
    ``ctx.is_admin`` is False.
    """

    async def server_info(self, ctx: Context) -> JsonDict: ...


@frozen
class Context:
    """Everything one request's handler may use; built fresh by the dispatcher for each request.

    Attributes:
        backend: the store (``IBackend``); every read must stay within ``ledger_range``.
        clock: the injected time source (``clock.seconds()``: Unix time).
        config: the validated configuration.
        api_version: the request's API version (already checked against the config's range).
        is_admin: whether the client is admin (localhost or password); never show
            admin-only fields when False.
        client_ip: the peer address as the DOS guard knows it.
        ledger_range: the stored range, read once for this request; ``None`` only
            for handlers declared with ``needs_ledger_range=False``.
        transport: ``"http"`` or ``"ws"``.
        session: the WebSocket connection for ``subscribe``/``unsubscribe``; None on HTTP.
        started_at: Unix time the server started (``server_info`` uptime).
        warnings: warnings this request adds to its response (use :meth:`warn`).
    """

    backend: IBackend
    clock: Clock
    config: ClioConfig = ClioConfig()
    api_version: int = 1
    is_admin: bool = False
    client_ip: str = ""
    ledger_range: LedgerRange | None = None
    transport: str = "http"
    session: Any = None
    started_at: float = 0.0
    warnings: list[JsonDict] = field(default=Factory(list), eq=False)

    # -- providers: later parts of the server plug in here, one line each --------------------
    etl: Any = None  # ETL service: source health, last publish age, is_writer
    cache: Any = None  # in-memory state cache of the newest ledger
    subscriptions: Any = None  # feeds/ subscription manager
    forwarder: Any = None  # rpc/forward.py: relays commands to rippled
    counters: Any = None  # per-method counters for server_info and /metrics
    info_sections: tuple[InfoSection, ...] = ()  # extra server_info sections, in order

    @property
    def api_versions(self) -> ApiVersionConfig:
        return self.config.api_version

    def require_range(self) -> LedgerRange:
        """The stored range, or ``notReady`` when nothing is stored yet."""
        if self.ledger_range is None:
            raise RPCError(RippledError.notReady)
        return self.ledger_range

    def warn(self, code: WarningCode) -> None:
        """Add a warning (e.g. ``WarningCode.DEPRECATED``) to this request's response, once."""
        warning = code.to_json()
        if warning not in self.warnings:
            self.warnings.append(warning)


@frozen
class Handler(Generic[InputT]):
    """One command: its name, its flags, and its two steps.

    ``parse(params, api_version)`` validates the request's fields and returns
    the handler's own frozen ``Input``, raising :class:`RPCError` with
    rippled's exact error for the first bad field. It is pure (no I/O).
    ``process(ctx, inp)`` is ``async`` and returns the ``result`` object as a
    JSON dict (without ``status``: the dispatcher adds the envelope).

    Flags:
        admin_only: non-admin clients get ``noPermission``.
        clio_only: a Clio extension; never forwarded to rippled.
        needs_ledger_range: answer ``notReady`` before the first ledger is stored
            (True for everything that reads ledgers).
        ws_only: over HTTP the answer is ``badSyntax`` (subscribe/unsubscribe).
    """

    name: str
    parse: Callable[[JsonDict, int], InputT]
    process: Callable[[Context, InputT], Awaitable[JsonDict]]
    admin_only: bool = False
    clio_only: bool = False
    needs_ledger_range: bool = True
    ws_only: bool = False


@frozen
class NoInput:
    """The ``Input`` of commands that take no parameters."""


def parse_nothing(params: JsonDict, api_version: int) -> NoInput:
    """``parse`` for commands whose parameters are all ignored (ping, random, version)."""
    return NoInput()
