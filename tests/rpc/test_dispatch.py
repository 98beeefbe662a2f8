"""The dispatcher: handler lookup, readiness, admin flag, errors and warnings."""

from __future__ import annotations

from typing import Any

import attrs
from attrs import evolve

from twisted.internet.defer import Deferred
from twisted.internet.testing import EventLoggingObserver
from twisted.logger import globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.backend.interface import LedgerRange, TooBusy
from clio_twisted.rpc.context import Context, Handler, JsonDict, NoInput, parse_nothing
from clio_twisted.rpc.dispatch import CONTEXT_POSITIONAL, Caller, Dispatcher, Outcome
from clio_twisted.rpc.errors import RippledError, RPCError, WarningCode
from clio_twisted.rpc.handlers import load_handlers
from tests.rpc.helpers import LOCAL, NOW, REMOTE, make_dispatcher, store_ledgers

CLIO = WarningCode.CLIO.to_json()
OUTDATED = WarningCode.OUTDATED.to_json()


class DispatchTests(SynchronousTestCase):
    def run_command(
        self,
        dispatcher: Dispatcher,
        method: str,
        params: JsonDict | None = None,
        caller: Caller = LOCAL,
    ) -> Outcome:
        return self.successResultOf(
            Deferred.fromCoroutine(dispatcher.execute(method, params or {}, 1, caller))
        )

    def test_registry_loads_the_first_commands(self) -> None:
        """The registry holds ping, random, version, server_info and ledger_range."""
        names = set(load_handlers())
        self.assertTrue({"ping", "random", "version", "server_info", "ledger_range"} <= names)

    def test_ping_answers_before_any_ledger(self) -> None:
        """ping is an empty success even with nothing stored, with both warnings."""
        dispatcher, _, _ = make_dispatcher()
        outcome = self.run_command(dispatcher, "ping")
        self.assertEqual(outcome.result, {})
        self.assertIsNone(outcome.error)
        self.assertEqual(outcome.warnings, (CLIO, OUTDATED))

    def test_random_is_64_hex_digits_and_changes(self) -> None:
        """random answers 64 upper-case hex digits, fresh each time."""
        dispatcher, _, _ = make_dispatcher()
        first = self.run_command(dispatcher, "random").result
        second = self.run_command(dispatcher, "random").result
        assert first is not None and second is not None
        self.assertRegex(first["random"], r"^[0-9A-F]{64}$")
        self.assertNotEqual(first["random"], second["random"])

    def test_version_reports_configured_range(self) -> None:
        """version answers first/last/good from api_version min/max/default."""
        dispatcher, _, _ = make_dispatcher()
        outcome = self.run_command(dispatcher, "version")
        self.assertEqual(outcome.result, {"version": {"first": 1, "last": 2, "good": 1}})

    def test_not_ready_before_first_ledger(self) -> None:
        """A ledger-reading command before anything is stored is notReady, without warnings."""
        dispatcher, _, _ = make_dispatcher()
        outcome = self.run_command(dispatcher, "ledger_range")
        assert outcome.error is not None
        self.assertEqual(outcome.error.error, RippledError.notReady)
        self.assertEqual(outcome.warnings, ())

    def test_unknown_command_before_first_ledger_is_not_ready(self) -> None:
        """As Clio, an unknown command with nothing stored is notReady."""
        dispatcher, _, _ = make_dispatcher()
        outcome = self.run_command(dispatcher, "no_such_method")
        assert outcome.error is not None
        self.assertEqual(outcome.error.error, RippledError.notReady)

    def test_unknown_command(self) -> None:
        """An unknown command is unknownCmd with warnings once ledgers are stored."""
        dispatcher, backend, _ = make_dispatcher()
        store_ledgers(backend, 3, 5, NOW - 2)
        outcome = self.run_command(dispatcher, "no_such_method")
        assert outcome.error is not None
        self.assertEqual(
            outcome.error.to_json(),
            {
                "error": "unknownCmd",
                "error_code": 32,
                "error_message": "Unknown method.",
                "status": "error",
                "type": "response",
            },
        )
        self.assertEqual(outcome.warnings, (CLIO,))

    def test_ledger_range_and_fresh_ledger_has_no_outdated_warning(self) -> None:
        """ledger_range answers min/max; a ledger closed 2 s ago adds no 2002 warning."""
        dispatcher, backend, _ = make_dispatcher()
        store_ledgers(backend, 3, 270, NOW - 2)
        outcome = self.run_command(dispatcher, "ledger_range")
        self.assertEqual(outcome.result, {"ledger_index_min": 3, "ledger_index_max": 270})
        self.assertEqual(outcome.warnings, (CLIO,))

    def test_outdated_warning_after_sixty_seconds(self) -> None:
        """Once the newest ledger is 60 s old, warning 2002 is added."""
        dispatcher, backend, clock = make_dispatcher()
        store_ledgers(backend, 3, 4, NOW - 2)
        clock.advance(57.9)
        self.assertEqual(self.run_command(dispatcher, "ping").warnings, (CLIO,))
        clock.advance(0.1)
        self.assertEqual(self.run_command(dispatcher, "ping").warnings, (CLIO, OUTDATED))

    def test_handler_exception_is_internal_and_logged(self) -> None:
        """An unexpected exception becomes internal, is logged with its traceback, and the next call works."""

        async def boom(ctx: Context, inp: NoInput) -> JsonDict:
            raise ZeroDivisionError("boom")

        dispatcher, _, _ = make_dispatcher()
        dispatcher._handlers["boom"] = Handler(
            "boom", parse_nothing, boom, needs_ledger_range=False
        )
        observer = EventLoggingObserver.createWithCleanup(self, globalLogPublisher)
        outcome = self.run_command(dispatcher, "boom")
        assert outcome.error is not None
        self.assertEqual(outcome.error.error, RippledError.internal)
        self.assertEqual(len(self.flushLoggedErrors(ZeroDivisionError)), 1)
        self.assertTrue(any("log_failure" in event for event in observer))
        self.assertEqual(self.run_command(dispatcher, "ping").result, {})

    def test_backend_overload_is_too_busy(self) -> None:
        """A backend TooBusy inside a handler answers tooBusy."""

        async def busy(ctx: Context, inp: NoInput) -> JsonDict:
            raise TooBusy()

        dispatcher, _, _ = make_dispatcher()
        dispatcher._handlers["busy"] = Handler(
            "busy", parse_nothing, busy, needs_ledger_range=False
        )
        outcome = self.run_command(dispatcher, "busy")
        assert outcome.error is not None
        self.assertEqual(outcome.error.error, RippledError.tooBusy)

    def test_request_context_is_the_base_with_the_request_fields(self) -> None:
        """A handler's Context is the base one (providers too) with the request's fields, built positionally."""
        seen: list[Context] = []

        async def look(ctx: Context, inp: NoInput) -> JsonDict:
            seen.append(ctx)
            return {}

        marker = object()
        dispatcher, backend, _ = make_dispatcher(etl=None, cache=marker, counters=None)
        store_ledgers(backend, 3, 5, NOW - 1)
        dispatcher._handlers["look"] = Handler("look", parse_nothing, look)
        session = object()
        caller = Caller(ip="192.0.2.9", is_admin=True, transport="ws", session=session)
        self.successResultOf(Deferred.fromCoroutine(dispatcher.execute("look", {}, 2, caller)))
        (ctx,) = seen
        expected = evolve(
            dispatcher.base_context,
            api_version=2,
            is_admin=True,
            client_ip="192.0.2.9",
            ledger_range=LedgerRange(3, 5),
            transport="ws",
            session=session,
            warnings=[],
        )
        self.assertTrue(
            CONTEXT_POSITIONAL
        )  # Context's fields moved: update dispatch._CONTEXT_FIELDS
        for field in attrs.fields(Context):
            self.assertEqual(getattr(ctx, field.name), getattr(expected, field.name), field.name)
        self.assertIs(ctx.cache, marker)

    def test_admin_only_refused_to_remote_client(self) -> None:
        """An admin-only command from a non-admin client is noPermission; admin gets the answer."""

        async def secret(ctx: Context, inp: NoInput) -> JsonDict:
            return {"secret": 1}

        dispatcher, _, _ = make_dispatcher()
        dispatcher._handlers["secret"] = Handler(
            "secret", parse_nothing, secret, admin_only=True, needs_ledger_range=False
        )
        outcome = self.run_command(dispatcher, "secret", caller=REMOTE)
        assert outcome.error is not None
        self.assertEqual(outcome.error.error, RippledError.noPermission)
        self.assertEqual(self.run_command(dispatcher, "secret").result, {"secret": 1})

    def test_parse_error_and_handler_warnings(self) -> None:
        """parse's RPCError is the answer; warnings a handler adds come before 2001."""

        def parse(params: JsonDict, api_version: int) -> NoInput:
            raise RPCError(RippledError.invalidParams, "Missing field 'account'.")

        async def process(ctx: Context, inp: NoInput) -> JsonDict:
            return {}

        async def deprecated(ctx: Context, inp: NoInput) -> JsonDict:
            ctx.warn(WarningCode.DEPRECATED)
            ctx.warn(WarningCode.DEPRECATED)
            return {}

        dispatcher, _, _ = make_dispatcher()
        dispatcher._handlers["strict"] = Handler("strict", parse, process, needs_ledger_range=False)
        dispatcher._handlers["old"] = Handler(
            "old", parse_nothing, deprecated, needs_ledger_range=False
        )
        outcome = self.run_command(dispatcher, "strict")
        assert outcome.error is not None
        self.assertEqual(outcome.error.message, "Missing field 'account'.")
        warnings: Any = self.run_command(dispatcher, "old").warnings
        self.assertEqual(warnings, (WarningCode.DEPRECATED.to_json(), CLIO, OUTDATED))
