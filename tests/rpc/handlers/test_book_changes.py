"""book_changes computed from ledger transactions, checked against what rippled 3.1.1 sent."""

import gzip
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.rpc.book_changes import book_changes_message, compute_book_changes, number_text

_DATA = Path(__file__).parent.parent / "data" / "book_changes.json.gz"


def _load() -> dict[str, Any]:
    with gzip.open(_DATA, "rt") as f:
        data: dict[str, Any] = json.load(f)
    return data


def _pairs(transactions: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    ordered = sorted(transactions, key=lambda t: t["metaData"]["TransactionIndex"])
    return [({k: v for k, v in t.items() if k != "metaData"}, t["metaData"]) for t in ordered]


def _offer_node(
    kind: str, final: dict[str, Any], previous: dict[str, Any] | None
) -> dict[str, Any]:
    node: dict[str, Any] = {"LedgerEntryType": "Offer", "FinalFields": final}
    if previous is not None:
        node["PreviousFields"] = previous
    return {kind: node}


USD = {"currency": "USD", "issuer": "rRtJMZbVx3PM4iXvnH7pR1KYmnyzQXcfm"}


def _usd(value: str) -> dict[str, str]:
    return {**USD, "value": value}


class CorpusTests(SynchronousTestCase):
    def test_every_recorded_ledger(self) -> None:
        """The changes of every recorded ledger equal rippled's, field for field."""
        data = _load()
        with_changes = 0
        for seq, entry in data.items():
            expected = entry["expected"]
            changes = compute_book_changes(_pairs(entry["transactions"]))
            self.assertEqual(changes, expected["changes"], f"ledger {seq}")
            with_changes += bool(changes)
        self.assertGreaterEqual(with_changes, 6)

    def test_message_envelope(self) -> None:
        """The message carries type, ledger index, hash, time and validated as rippled's does."""
        entry = _load()["28"]
        expected = entry["expected"]
        message = book_changes_message(
            28,
            bytes.fromhex(expected["ledger_hash"]),
            expected["ledger_time"],
            compute_book_changes(_pairs(entry["transactions"])),
        )
        self.assertEqual(message, expected)


class RuleTests(SynchronousTestCase):
    def test_created_offers_ignored(self) -> None:
        """A new offer trades nothing."""
        meta = {"AffectedNodes": [{"CreatedNode": {"LedgerEntryType": "Offer", "NewFields": {}}}]}
        self.assertEqual(compute_book_changes([({"TransactionType": "OfferCreate"}, meta)]), [])

    def test_explicit_cancel_ignored(self) -> None:
        """The offer an OfferCancel names is not a trade, another deleted offer is."""
        final = {"Sequence": 7, "TakerGets": "100", "TakerPays": _usd("1")}
        previous = {"TakerGets": "200", "TakerPays": _usd("2")}
        meta = {"AffectedNodes": [_offer_node("DeletedNode", final, previous)]}
        cancel = {"TransactionType": "OfferCancel", "OfferSequence": 7}
        self.assertEqual(compute_book_changes([(cancel, meta)]), [])
        other = {"TransactionType": "OfferCancel", "OfferSequence": 8}
        self.assertEqual(len(compute_book_changes([(other, meta)])), 1)

    def test_missing_previous_fields_ignored(self) -> None:
        """Without PreviousFields nothing can be computed."""
        final = {"Sequence": 7, "TakerGets": "100", "TakerPays": _usd("1")}
        meta = {"AffectedNodes": [_offer_node("ModifiedNode", final, None)]}
        self.assertEqual(compute_book_changes([({"TransactionType": "Payment"}, meta)]), [])

    def test_tally_open_high_low_close(self) -> None:
        """Two fills of one book add volumes and track open, high, low and close in order."""
        fills = [("1100000", "1"), ("2400000", "2"), ("1000000", "1")]
        nodes = []
        for drops, usd in fills:
            final = {"Sequence": 1, "TakerGets": "0", "TakerPays": _usd("0")}
            previous = {"TakerGets": drops, "TakerPays": _usd(usd)}
            nodes.append(_offer_node("ModifiedNode", final, previous))
        (change,) = compute_book_changes(
            [({"TransactionType": "Payment"}, {"AffectedNodes": nodes})]
        )
        self.assertEqual(
            change,
            {
                "currency_a": "XRP_drops",
                "currency_b": "rRtJMZbVx3PM4iXvnH7pR1KYmnyzQXcfm/USD",
                "volume_a": "4500000",
                "volume_b": "4",
                "open": "1100000",
                "high": "1200000",
                "low": "1000000",
                "close": "1000000",
            },
        )

    def test_iou_pair_ordered_by_issue(self) -> None:
        """Between two IOUs the smaller issue string is side A."""
        eur = {"currency": "EUR", "issuer": "rRtJMZbVx3PM4iXvnH7pR1KYmnyzQXcfm"}
        final = {"Sequence": 1, "TakerGets": _usd("0"), "TakerPays": {**eur, "value": "0"}}
        previous = {"TakerGets": _usd("3"), "TakerPays": {**eur, "value": "2"}}
        meta = {"AffectedNodes": [_offer_node("DeletedNode", final, previous)]}
        (change,) = compute_book_changes([({"TransactionType": "Payment"}, meta)])
        self.assertEqual(change["currency_a"], "rRtJMZbVx3PM4iXvnH7pR1KYmnyzQXcfm/EUR")
        self.assertEqual(change["volume_a"], "2")
        self.assertEqual(change["open"], "0.6666666666666667")


class NumberTextTests(SynchronousTestCase):
    def test_formats(self) -> None:
        """Plain decimal for exponents -25..-5, mantissa and exponent outside."""
        self.assertEqual(number_text(Decimal(0)), "0")
        self.assertEqual(number_text(Decimal("10.02")), "10.02")
        self.assertEqual(number_text(Decimal("-0.5")), "-0.5")
        self.assertEqual(number_text(Decimal("1e20")), "1000000000000000e5")
        self.assertEqual(number_text(Decimal("1e-30")), "1000000000000000e-45")
        self.assertEqual(number_text(1200000), "1200000")


class HandlerTests(SynchronousTestCase):
    def test_answer_and_errors(self) -> None:
        """The handler answers a stored ledger's changes and the usual ledger errors."""
        from clio_twisted.rpc.handlers import book_changes
        from tests.rpc.corpus import call

        answer = call(book_changes.HANDLER, {"ledger_index": 28}, 2)
        self.assertEqual(answer["type"], "bookChanges")
        self.assertEqual(answer["changes"][0]["volume_b"], "120")
        self.assertEqual(call(book_changes.HANDLER, {"ledger_index": 999})["error"], "lgrNotFound")
        self.assertEqual(
            call(book_changes.HANDLER, {"ledger_index": "a"})["error_message"],
            "ledgerIndexMalformed",
        )
