"""Forwarding: Clio's rules, failover across sources, deadlines, the 700x errors, headers and the cache."""

from __future__ import annotations

from typing import Any

from attrs import frozen

from twisted.internet.defer import Deferred, ensureDeferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.rpc.context import Context, Handler, NoInput, parse_nothing
from clio_twisted.rpc.errors import RippledError, RPCError
from clio_twisted.rpc.forward import (
    PROXIED,
    Forwarder,
    ForwardError,
    truthy,
    wants_forwarding,
)
from tests.fakes.backend import InMemoryBackend


async def _nothing(ctx: Context, inp: NoInput) -> dict[str, Any]:
    return {}


LOCAL = Handler("account_info", parse_nothing, _nothing)
CLIO_ONLY = Handler("nft_history", parse_nothing, _nothing, clio_only=True)


@frozen
class Source:
    name: str
    host: str = "127.0.0.1"
    ws_port: int = 1
    healthy: bool = True


class RulesTests(SynchronousTestCase):
    def test_proxied_commands_always_go(self) -> None:
        """submit, fee, server_state... are forwarded for anyone."""
        for method in PROXIED:
            self.assertTrue(wants_forwarding(method, {}, None, is_admin=False), method)

    def test_current_and_closed_ledgers_go(self) -> None:
        """ledger_index "current"/"closed" (strings only) are forwarded; "validated" and numbers are not."""
        self.assertTrue(wants_forwarding("account_info", {"ledger_index": "current"}, LOCAL, False))
        self.assertTrue(wants_forwarding("account_info", {"ledger_index": "closed"}, LOCAL, False))
        self.assertFalse(
            wants_forwarding("account_info", {"ledger_index": "validated"}, LOCAL, False)
        )
        self.assertFalse(wants_forwarding("account_info", {"ledger_index": 5}, LOCAL, False))

    def test_force_forward_is_for_admins_only(self) -> None:
        """force_forward: true works for admins; others are answered locally."""
        self.assertTrue(wants_forwarding("account_info", {"force_forward": True}, LOCAL, True))
        self.assertFalse(wants_forwarding("account_info", {"force_forward": True}, LOCAL, False))
        self.assertFalse(wants_forwarding("account_info", {"force_forward": 1}, LOCAL, True))

    def test_queue_goes_for_account_info_and_ledger(self) -> None:
        """queue: true forwards account_info and ledger, nothing else."""
        self.assertTrue(wants_forwarding("account_info", {"queue": True}, LOCAL, False))
        self.assertTrue(wants_forwarding("ledger", {"queue": True}, LOCAL, False))
        self.assertFalse(wants_forwarding("account_lines", {"queue": True}, LOCAL, False))

    def test_never_forwarded(self) -> None:
        """subscribe/unsubscribe and Clio-only commands stay, even with ledger_index current."""
        self.assertFalse(wants_forwarding("subscribe", {"ledger_index": "current"}, None, True))
        self.assertFalse(wants_forwarding("unsubscribe", {}, None, True))
        self.assertFalse(
            wants_forwarding("nft_history", {"ledger_index": "current"}, CLIO_ONLY, True)
        )

    def test_unknown_commands_are_not_forwarded(self) -> None:
        """An unknown command stays local (unknownCmd), so do rippled admin commands."""
        self.assertFalse(wants_forwarding("owner_info", {}, None, False))
        self.assertFalse(wants_forwarding("stop", {}, None, True))

    def test_admin_forms_refused_to_non_admins(self) -> None:
        """ledger full/accounts (rippled truthiness) and feature vetoed: noPermission unless admin."""
        for method, params in [
            ("ledger", {"full": True}),
            ("ledger", {"accounts": "false"}),
            ("ledger", {"full": 1}),
            ("feature", {"vetoed": False}),
        ]:
            with self.assertRaises(RPCError) as caught:
                wants_forwarding(method, params, LOCAL, is_admin=False)
            self.assertIs(caught.exception.error, RippledError.noPermission)
            self.assertFalse(wants_forwarding(method, params, LOCAL, is_admin=True))
        self.assertFalse(wants_forwarding("ledger", {"full": False, "accounts": 0}, LOCAL, False))

    def test_truthy_is_rippleds(self) -> None:
        """Non-empty strings (even "false"), non-zero numbers and non-empty containers are true."""
        self.assertEqual(
            [truthy(v) for v in (None, False, 0, "", [], {}, True, 2, "false", [0], {"a": 1})],
            [False] * 6 + [True] * 5,
        )


class ScriptedForwarder(Forwarder):
    """The client with each source's behaviour scripted: an answer, a ForwardError, or a hang."""

    def __init__(self, clock: Clock, sources: list[Source], script: dict[str, Any], **kw: Any):
        super().__init__(clock, lambda: sources, rng=_FirstRandom(), **kw)
        self.script = script
        self.asked: list[tuple[str, dict[str, Any], dict[str, str]]] = []

    async def _ask(
        self, host: str, port: int, request: dict[str, Any], headers: dict[str, str]
    ) -> dict[str, Any]:
        name = next(n for n, s in self.script.items() if s["port"] == port)
        self.asked.append((name, request, headers))
        behaviour = self.script[name]["do"]
        if isinstance(behaviour, ForwardError):
            raise behaviour
        if behaviour == "hang":
            answer: dict[str, Any] = await self._with_deadline(Deferred(), "waiting")
            return answer
        return dict(behaviour)


class _FirstRandom:
    def randrange(self, n: int) -> int:
        return 0


def _ctx(is_admin: bool = False) -> Context:
    return Context(
        backend=InMemoryBackend(), clock=Clock(), is_admin=is_admin, client_ip="203.0.113.9"
    )


class ClientTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.sources = [Source("a", ws_port=1), Source("b", ws_port=2)]

    def forwarder(self, a: Any, b: Any, **kw: Any) -> ScriptedForwarder:
        script = {"a": {"port": 1, "do": a}, "b": {"port": 2, "do": b}}
        return ScriptedForwarder(self.clock, self.sources, script, **kw)

    def test_answer_relayed_with_headers(self) -> None:
        """rippled's reply comes back without its id; Forwarded and X-User name the client."""
        fwd = self.forwarder({"result": {"x": 1}, "id": 7, "status": "success"}, None)
        d = ensureDeferred(fwd.forward(_ctx(), "fee", {"id": "mine", "command": "fee"}))
        self.assertEqual(self.successResultOf(d), {"result": {"x": 1}, "status": "success"})
        name, request, headers = fwd.asked[0]
        self.assertEqual(request, {"command": "fee"})
        self.assertEqual(headers, {"Forwarded": "for=203.0.113.9", "X-User": "clio_user"})
        ensureDeferred(fwd.forward(_ctx(is_admin=True), "fee", {}))
        self.assertEqual(fwd.asked[-1][2]["X-User"], "clio_admin")

    def test_failover_to_the_next_source(self) -> None:
        """A source that cannot be reached is skipped; the next one answers."""
        fwd = self.forwarder(ForwardError(RippledError.connectionError, "refused"), {"result": {}})
        d = ensureDeferred(fwd.forward(_ctx(), "fee", {}))
        self.assertEqual(self.successResultOf(d), {"result": {}})
        self.assertEqual([a[0] for a in fwd.asked], ["a", "b"])

    def test_unhealthy_sources_are_skipped(self) -> None:
        """Only healthy sources are asked while any is healthy."""
        self.sources[0] = Source("a", ws_port=1, healthy=False)
        fwd = self.forwarder({"result": {"from": "a"}}, {"result": {"from": "b"}})
        d = ensureDeferred(fwd.forward(_ctx(), "fee", {}))
        self.assertEqual(self.successResultOf(d), {"result": {"from": "b"}})

    def test_deadline_then_timeout_error(self) -> None:
        """A source that never answers costs one deadline; with none left the answer is timeout (7002)."""
        fwd = self.forwarder("hang", ForwardError(RippledError.connectionError, "refused"))
        fwd.request_timeout = 2.0
        d = ensureDeferred(fwd.forward(_ctx(), "fee", {}))
        self.assertNoResult(d)
        self.clock.advance(2.0)
        error = self.failureResultOf(d, RPCError).value
        self.assertIs(error.error, RippledError.timeout)
        self.assertEqual(error.to_json()["error_code"], 7002)

    def test_worst_error_wins(self) -> None:
        """invalidResponse beats requestError beats connectionError; no source at all is connectionError."""
        fwd = self.forwarder(
            ForwardError(RippledError.invalidResponse, "x"),
            ForwardError(RippledError.requestError, "y"),
        )
        d = ensureDeferred(fwd.forward(_ctx(), "fee", {}))
        self.assertIs(self.failureResultOf(d, RPCError).value.error, RippledError.invalidResponse)
        self.sources.clear()
        d = ensureDeferred(fwd.forward(_ctx(), "fee", {}))
        self.assertIs(self.failureResultOf(d, RPCError).value.error, RippledError.connectionError)

    def test_cache_until_timeout_or_new_ledger(self) -> None:
        """Cacheable answers are reused within cache_timeout and dropped on a new ledger; errors never."""
        fwd = self.forwarder({"result": {"n": 1}}, None, cache_timeout=5.0)
        for _ in range(3):
            self.successResultOf(ensureDeferred(fwd.forward(_ctx(), "server_state", {})))
        self.assertEqual(len(fwd.asked), 1)
        self.clock.advance(5.0)
        self.successResultOf(ensureDeferred(fwd.forward(_ctx(), "server_state", {})))
        self.assertEqual(len(fwd.asked), 2)
        fwd.invalidate(99)
        self.successResultOf(ensureDeferred(fwd.forward(_ctx(), "server_state", {})))
        self.assertEqual(len(fwd.asked), 3)
        self.successResultOf(ensureDeferred(fwd.forward(_ctx(), "submit", {"tx_blob": "00"})))
        self.successResultOf(ensureDeferred(fwd.forward(_ctx(), "submit", {"tx_blob": "00"})))
        self.assertEqual(len(fwd.asked), 5)  # submit is never cached
        fwd.script["a"]["do"] = {"error": "tooBusy", "status": "error"}
        fwd.invalidate()
        self.successResultOf(ensureDeferred(fwd.forward(_ctx(), "fee", {})))
        self.successResultOf(ensureDeferred(fwd.forward(_ctx(), "fee", {})))
        self.assertEqual(len(fwd.asked), 7)

    def test_no_cache_by_default(self) -> None:
        """forwarding.cache_timeout 0 (Clio's default): every request goes to rippled."""
        fwd = self.forwarder({"result": {}}, None)
        for _ in range(2):
            self.successResultOf(ensureDeferred(fwd.forward(_ctx(), "fee", {})))
        self.assertEqual(len(fwd.asked), 2)
