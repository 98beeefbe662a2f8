"""feature: amendments by name or id, enabled per ledger, and the refused admin part."""

from __future__ import annotations

from clio_twisted.rpc.amendments import amendment_id
from clio_twisted.rpc.handlers import feature
from tests.rpc.handlers._helpers import HandlerCase


class FeatureTests(HandlerCase):
    handler = feature.HANDLER

    def test_one_by_name_or_id(self) -> None:
        """A name and its id give the same single entry, keyed by the id."""
        key = amendment_id("AMM").hex().upper()
        by_name = self.call({"feature": "AMM"})
        self.assertEqual(by_name[key], {"enabled": True, "name": "AMM", "supported": True})
        self.assertEqual(self.call({"feature": key}), by_name)
        self.assertNotIn("features", by_name)

    def test_enabled_comes_from_the_ledger(self) -> None:
        """Amendments enabled later in the chain are not enabled in the first ledger."""
        first = self.call({"ledger_index": 3})["features"]
        last = self.call({"ledger_index": 270})["features"]
        self.assertLessEqual(
            sum(f["enabled"] for f in first.values()), sum(f["enabled"] for f in last.values())
        )
        self.assertEqual(sum(f["enabled"] for f in last.values()), 79)

    def test_errors(self) -> None:
        """Unknown names, non-strings, vetoed and bad ledgers."""
        self.assertError(
            {"feature": "NoSuchAmendment"}, "badFeature", 40, "Feature unknown or invalid."
        )
        self.assertError({"feature": "Batch"}, "badFeature", 40, "Feature unknown or invalid.")
        self.assertError({"feature": 42}, "invalidParams", 31, "Invalid parameters.")
        self.assertError(
            {"feature": "AMM", "vetoed": True},
            "noPermission",
            6,
            "The admin portion of feature API is not available through Clio.",
        )
        self.assertError({"ledger_index": 30000}, "lgrNotFound", 21, "ledgerNotFound")
