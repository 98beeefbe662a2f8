"""ledger_index (Clio): the last ledger closed at or before a date."""

from __future__ import annotations

from clio_twisted.protocol.ledger_header import RIPPLE_EPOCH_UNIX, LedgerHeader, ripple_time_iso
from clio_twisted.rpc.handlers import ledger_index
from tests.rpc.corpus import corpus_backend
from tests.rpc.handlers._helpers import HandlerCase


def _header(sequence: int) -> LedgerHeader:
    return LedgerHeader.from_bytes(corpus_backend().store.headers[sequence])


def _iso(ripple_seconds: int) -> str:
    return ripple_time_iso(ripple_seconds)


class LedgerIndexTests(HandlerCase):
    handler = ledger_index.HANDLER

    def test_no_date_is_newest(self) -> None:
        """Without a date: the newest stored ledger, its hash and close time."""
        answer = self.call({})
        header = _header(270)
        self.assertEqual(
            answer,
            {
                "ledger_index": 270,
                "ledger_hash": header.hash.hex().upper(),
                "closed": _iso(header.close_time),
                "validated": True,
            },
        )

    def test_dates(self) -> None:
        """At a ledger's close time, that ledger (or the last closing in the same second); after the last, the last."""
        for sequence in (3, 31, 100, 269):
            close = _header(sequence).close_time
            expected = max(s for s in range(3, 271) if _header(s).close_time <= close)
            self.assertEqual(self.call({"date": _iso(close)})["ledger_index"], expected)
        self.assertEqual(self.call({"date": "2099-01-01T00:00:00Z"})["ledger_index"], 270)
        self.assertEqual(RIPPLE_EPOCH_UNIX, 946684800)

    def test_errors(self) -> None:
        """A date before the first ledger, and malformed dates."""
        before = _iso(_header(3).close_time - 1)
        self.assertError({"date": before}, "lgrNotFound", 21, "ledgerNotInRange")
        self.assertError({"date": "not_a_number"}, "invalidParams", 31, "Invalid parameters.")
        self.assertError({"date": 5}, "invalidParams", 31, "Invalid parameters.")
