"""Source state, network checks and the failover pool, on a fake clock."""

from __future__ import annotations

from random import Random
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.etl.pool import NoSourceAvailable, SourcePool
from clio_twisted.etl.source import (
    NetworkCheck,
    RippledError,
    SourceError,
    SourceState,
    _answer_to_result,
    parse_validated_ledgers,
)


class ScriptedSource:
    """Answers with a fixed result or raises a fixed error."""

    def __init__(self, name: str, answer: Any, held: tuple[int, int] = (1, 100)) -> None:
        self.name = name
        self.answer = answer
        self.held = held
        self.healthy = True
        self.calls = 0

    def has_ledger(self, sequence: int) -> bool:
        return self.healthy and self.held[0] <= sequence <= self.held[1]

    async def request(self, cmd: dict[str, Any], timeout: float = 30.0) -> dict[str, Any]:
        self.calls += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return dict(self.answer)


def ask(pool: SourcePool, sequence: int | None = None) -> Deferred[dict[str, Any]]:
    return Deferred.fromCoroutine(pool.request({"command": "ledger"}, sequence=sequence))


class StateTests(SynchronousTestCase):
    def test_validated_ledgers_ranges(self) -> None:
        """rippled's "a-b,c" strings parse to ranges; "empty" to none."""
        self.assertEqual(parse_validated_ledgers("3-10,12,20-21"), ((3, 10), (12, 12), (20, 21)))
        self.assertEqual(parse_validated_ledgers("empty"), ())

    def test_ledger_closed_updates_range_and_latest(self) -> None:
        """A ledgerClosed message sets what the source holds and its newest ledger."""
        state = SourceState()
        seq = state.on_ledger_closed({"ledger_index": 12, "validated_ledgers": "5-12"}, 7.0)
        self.assertEqual(seq, 12)
        self.assertTrue(state.has_ledger(5))
        self.assertFalse(state.has_ledger(13))
        self.assertEqual(state.last_message, 7.0)
        state.on_ledger_closed({"ledger_index": 13}, 8.0)
        self.assertTrue(state.has_ledger(13))
        self.assertEqual(state.latest, 13)

    def test_error_answers_raise(self) -> None:
        """An error answer becomes RippledError carrying rippled's token."""
        ok = _answer_to_result({"status": "success", "result": {"x": 1}})
        self.assertEqual(ok, {"x": 1})
        with self.assertRaises(RippledError) as e:
            _answer_to_result({"status": "error", "error": "lgrNotFound", "id": 3})
        self.assertEqual(e.exception.error, "lgrNotFound")

    def test_network_check_refuses_another_network(self) -> None:
        """The first source fixes the network id; a source of another network is refused."""
        check = NetworkCheck()
        a, b, c = ScriptedSource("a", {}), ScriptedSource("b", {}), ScriptedSource("c", {})
        self.assertIsNone(check(a, 21337))  # type: ignore[arg-type]
        self.assertIsNone(check(b, 21337))  # type: ignore[arg-type]
        why = check(c, 1)  # type: ignore[arg-type]
        assert why is not None
        self.assertIn("network_id 1", why)

    def test_configured_network_id_wins(self) -> None:
        """With a configured network id even the first source must match it."""
        check = NetworkCheck(expected=0)
        self.assertIsNotNone(check(ScriptedSource("a", {}), 1))  # type: ignore[arg-type]


class PoolTests(SynchronousTestCase):
    def test_fails_over_to_a_working_source(self) -> None:
        """A failing source is skipped and the next one answers."""
        bad = ScriptedSource("bad", SourceError("closed"))
        good = ScriptedSource("good", {"ok": True})
        pool = SourcePool([bad, good], Clock(), rng=Random(0))
        for _ in range(5):
            self.assertEqual(self.successResultOf(ask(pool, 5)), {"ok": True})
        self.assertEqual(good.calls, 5)

    def test_only_sources_holding_the_ledger_are_asked(self) -> None:
        """A source whose range lacks the ledger is not asked."""
        old = ScriptedSource("old", {"from": "old"}, held=(1, 10))
        new = ScriptedSource("new", {"from": "new"}, held=(5, 50))
        pool = SourcePool([old, new], Clock(), rng=Random(0))
        for _ in range(5):
            self.assertEqual(self.successResultOf(ask(pool, 40)), {"from": "new"})
        self.assertEqual(old.calls, 0)

    def test_definitive_errors_are_not_retried_elsewhere(self) -> None:
        """entryNotFound is an answer about the ledger: it is raised, not failed over."""
        a = ScriptedSource("a", RippledError("entryNotFound", {}))
        b = ScriptedSource("b", RippledError("entryNotFound", {}))
        pool = SourcePool([a, b], Clock(), rng=Random(0))
        f = self.failureResultOf(ask(pool, 5), RippledError)
        self.assertEqual(f.value.error, "entryNotFound")
        self.assertEqual(a.calls + b.calls, 1)

    def test_all_failing_raises_no_source(self) -> None:
        """When every source fails once, the caller gets NoSourceAvailable naming them."""
        pool = SourcePool(
            [
                ScriptedSource("a", SourceError("x")),
                ScriptedSource("b", RippledError("tooBusy", {})),
            ],
            Clock(),
        )
        f = self.failureResultOf(ask(pool, 5), NoSourceAvailable)
        self.assertIn("tooBusy", str(f.value))
        unhealthy = ScriptedSource("c", {})
        unhealthy.healthy = False
        self.failureResultOf(ask(SourcePool([unhealthy], Clock()), 5), NoSourceAvailable)

    def test_wait_validated(self) -> None:
        """Waiting for a sequence fires once any source announces it, and can time out."""
        clock = Clock()
        pool = SourcePool([], clock)
        d = pool.wait_validated(10)
        pool.on_validated(None, 9)
        self.assertNoResult(d)
        pool.on_validated(None, 11)
        self.successResultOf(d)
        self.successResultOf(pool.wait_validated(5))
        late = pool.wait_validated(20, timeout=3)
        clock.advance(3)
        self.failureResultOf(late)
