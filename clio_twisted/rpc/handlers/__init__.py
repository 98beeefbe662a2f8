"""The command handlers: one module per command, and the explicit registry of them.

Writing a handler (full example in ``docs/handlers.md``)::

    # clio_twisted/rpc/handlers/account_info.py
    NAME = "account_info"

    @frozen
    class Input:
        account: bytes
        ledger: LedgerSpec

    def parse(params: JsonDict, api_version: int) -> Input:
        # validate every field, raising rippled's exact error for the first bad one:
        #   raise RPCError(RippledError.actMalformed)
        #   raise missing_field("account")          # invalidParams "Missing field 'account'."
        ...

    async def process(ctx: Context, inp: Input) -> JsonDict:
        header = await select_ledger(ctx, inp.ledger)   # rpc/ledger_spec.py
        blob = await ctx.backend.fetch_ledger_object(key, header.sequence)
        if blob is None:
            raise RPCError(RippledError.actNotFound)
        return {"account_data": ..., "ledger_hash": ..., "ledger_index": header.sequence, "validated": True}

    HANDLER = Handler(NAME, parse, process)   # flags: admin_only, clio_only, needs_ledger_range, ws_only

Rules:

- ``parse`` is pure: no I/O, no clock. ``process`` is ``async`` and uses only
  what :class:`~clio_twisted.rpc.context.Context` carries (no globals, no reactor).
- Return the ``result`` object without ``status``/``warnings``/``id``: the
  dispatcher wraps it once for HTTP (``{"result": ...}``) and WebSocket (flat).
- Errors: ``raise RPCError(RippledError.X, message=...)``; anything else that
  escapes becomes ``internal`` (logged with its traceback); backend
  ``TooBusy``/``DatabaseTimeout`` become ``tooBusy``.
- Warnings (e.g. deprecated fields): ``ctx.warn(WarningCode.DEPRECATED)``.
- Tests go in ``tests/rpc/handlers/test_<module>.py`` and call ``parse`` and
  ``process`` directly with ``tests.fakes.backend.InMemoryBackend``; they never
  touch HTTP.

The registry: :data:`HANDLER_MODULES` names every command module this server
serves, explicitly (no scanning of the package). Every listed module must
exist and define ``HANDLER``, each for a different command: a missing module,
one without a ``HANDLER``, or two modules for one command stop
:func:`load_handlers` with an error, so a server never starts without a
command it claims to have. A new command needs its module and one line below.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from typing import Any

from clio_twisted.rpc.context import Handler

# Module names under clio_twisted.rpc.handlers, one per command (the module
# ``random_`` serves ``random``). Order is irrelevant.
HANDLER_MODULES: tuple[str, ...] = (
    # server and meta
    "ping",
    "random_",
    "version",
    "server_info",
    "ledger_range",
    # accounts
    "account_channels",
    "account_currencies",
    "account_info",
    "account_lines",
    "account_nfts",
    "account_objects",
    "account_offers",
    "account_tx",
    "account_mptoken_issuances",
    "account_mptokens",
    "gateway_balances",
    "noripple_check",
    "deposit_authorized",
    # ledgers and state
    "ledger",
    "ledger_data",
    "ledger_entry",
    "ledger_index",
    "book_changes",
    "book_offers",
    "amm_info",
    "get_aggregate_price",
    "feature",
    "vault_info",
    "mpt_holders",
    # transactions
    "tx",
    "transaction_entry",
    # NFTs
    "nft_buy_offers",
    "nft_sell_offers",
    "nft_info",
    "nft_history",
    "nfts_by_issuer",
    # streams (WebSocket only)
    "subscribe",
    "unsubscribe",
)


def _load(module_name: str) -> Handler[Any]:
    """The ``HANDLER`` of one listed module; any missing piece is an error, never skipped."""
    qualified = f"{__name__}.{module_name}"
    try:
        module = importlib.import_module(qualified)
    except ModuleNotFoundError as e:
        if e.name == qualified:
            raise ModuleNotFoundError(
                f"{qualified} is listed in HANDLER_MODULES but does not exist", name=qualified
            ) from e
        raise  # an import inside the handler failed
    handler = getattr(module, "HANDLER", None)
    if not isinstance(handler, Handler):
        raise TypeError(f"{qualified} has no HANDLER = Handler(...)")
    return handler


def load_handlers(module_names: Iterable[str] = HANDLER_MODULES) -> Mapping[str, Handler[Any]]:
    """The registry: command name to handler, for every listed module (all must exist)."""
    registry: dict[str, Handler[Any]] = {}
    for module_name in module_names:
        handler = _load(module_name)
        if handler.name in registry:
            raise ValueError(f"two handlers for {handler.name!r}")
        registry[handler.name] = handler
    return registry
