"""Live forging: ledgers close at the wall clock (rounded, after the parent); without a clock, as before."""

from __future__ import annotations

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.protocol.ledger_header import RIPPLE_EPOCH_UNIX
from clio_twisted.testing.fake_rippled import ForgeSource, build_server, make_parser
from clio_twisted.testing.forge import CLOSE_INTERVAL, Forge, load_fixture_ledger, round_close_time

NOW = 1_795_744_803.0  # Unix seconds; 3 s past a multiple of 10 in Ripple time
RIPPLE_NOW = int(NOW) - RIPPLE_EPOCH_UNIX


class LiveCloseTimeTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.forge = Forge(load_fixture_ledger(), seed=3, txs_per_ledger=2)
        self.start = self.forge.start.header

    def test_round_close_time(self) -> None:
        """Rounded to the nearest multiple of the resolution, halves up, as rippled."""
        self.assertEqual(round_close_time(1004, 10), 1000)
        self.assertEqual(round_close_time(1005, 10), 1010)
        self.assertEqual(round_close_time(1007, 0), 1007)

    def test_given_close_time_is_rounded(self) -> None:
        """A wall-clock close time is rounded to the parent's resolution; the parent close is linked."""
        ledger = self.forge.next_ledger(close_time=RIPPLE_NOW)
        resolution = self.start.close_time_resolution
        self.assertEqual(ledger.header.close_time, round_close_time(RIPPLE_NOW, resolution))
        self.assertEqual(ledger.header.close_time % resolution, 0)
        self.assertEqual(ledger.header.parent_close_time, self.start.close_time)

    def test_strictly_after_parent(self) -> None:
        """Two ledgers in the same rounded second still close one after the other."""
        first = self.forge.next_ledger(close_time=RIPPLE_NOW)
        second = self.forge.next_ledger(close_time=RIPPLE_NOW)
        self.assertEqual(second.header.close_time, first.header.close_time + 1)

    def test_no_close_time_keeps_the_fixed_interval(self) -> None:
        """Without a close time the forge stays deterministic (CLOSE_INTERVAL after the parent)."""
        ledger = self.forge.next_ledger()
        self.assertEqual(ledger.header.close_time, self.start.close_time + CLOSE_INTERVAL)

    def test_forge_source_with_clock(self) -> None:
        """ForgeSource given a clock stamps each ledger with the clock's time."""
        clock = Clock()
        clock.advance(NOW)
        source = ForgeSource(self.forge, 2, clock)
        first = source.next_ledger()
        clock.advance(4)
        second = source.next_ledger()
        assert first is not None and second is not None
        self.assertLessEqual(abs(first.header.close_time - RIPPLE_NOW), 5)
        self.assertGreater(second.header.close_time, first.header.close_time)
        self.assertIsNone(source.next_ledger())


class BuildServerTests(SynchronousTestCase):
    def test_live_forge_uses_the_clock(self) -> None:
        """fake_rippled --forge with --interval > 0 forges live; --interval 0 keeps fixed close times."""
        clock = Clock()
        clock.advance(NOW)
        live = build_server(make_parser().parse_args(["--forge", "1", "--interval", "3"]), clock)
        fixed = build_server(make_parser().parse_args(["--forge", "1", "--interval", "0"]), clock)
        live_ledger = live.validate_next()
        fixed_ledger = fixed.validate_next()
        assert live_ledger is not None and fixed_ledger is not None
        self.assertLessEqual(abs(live_ledger.header.close_time - RIPPLE_NOW), 5)
        self.assertEqual(
            fixed_ledger.header.close_time, fixed_ledger.header.parent_close_time + CLOSE_INTERVAL
        )
