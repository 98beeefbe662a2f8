"""ledger_data: rippled's limits, markers, type filter and a full walk of the state."""

from __future__ import annotations

from clio_twisted.rpc.handlers import ledger_data
from tests.rpc.corpus import corpus_backend
from tests.rpc.handlers._helpers import HandlerCase


def _all_keys(sequence: int) -> list[str]:
    store = corpus_backend().store
    keys = []
    for key in store.keys:
        sequences, blobs = store.versions[key]
        live = [b for s, b in zip(sequences, blobs, strict=True) if s <= sequence]
        if live and live[-1]:
            keys.append(key.hex().upper())
    return keys


class WalkTests(HandlerCase):
    handler = ledger_data.HANDLER

    def _walk(self, binary: bool, limit: int, api_version: int) -> list[str]:
        params: dict[str, object] = {"ledger_index": 270, "limit": limit, "binary": binary}
        seen: list[str] = []
        pages = 0
        while True:
            page = self.call(params, api_version)
            pages += 1
            self.assertEqual("ledger" in page, "marker" not in params)
            self.assertLessEqual(len(page["state"]), limit)
            seen += [obj["index"] for obj in page["state"]]
            if "marker" not in page:
                return seen
            self.assertEqual(len(page["state"]), limit)
            params["marker"] = page["marker"]
            self.assertLess(pages, 1000)

    def test_walk_json(self) -> None:
        """Following the markers (JSON, limit 17) yields every object once, in key order."""
        self.assertEqual(self._walk(False, 17, 2), _all_keys(270))

    def test_walk_binary(self) -> None:
        """The same walk in binary (v1) yields the same keys."""
        self.assertEqual(self._walk(True, 50, 1), _all_keys(270))

    def test_exact_fit_has_no_marker(self) -> None:
        """A page that ends exactly at the last object carries no marker."""
        total = len(_all_keys(3))
        page = self.call({"ledger_index": 3, "limit": total})
        self.assertEqual(len(page["state"]), total)
        self.assertNotIn("marker", page)


class ParameterTests(HandlerCase):
    handler = ledger_data.HANDLER

    def test_default_limits(self) -> None:
        """JSON pages hold 256 objects at most and binary pages 2048; larger limits are clamped."""
        self.assertEqual(ledger_data.parse({}, 1).limit, 256)
        self.assertEqual(ledger_data.parse({"limit": 100000}, 1).limit, 256)
        self.assertEqual(ledger_data.parse({"binary": True}, 1).limit, 2048)
        self.assertEqual(ledger_data.parse({"binary": True, "limit": 100000}, 1).limit, 2048)
        page = self.call({"ledger_index": 270})
        self.assertEqual(len(page["state"]), len(_all_keys(270)))
        self.assertNotIn("marker", page)

    def test_binary_shapes(self) -> None:
        """Binary objects are data+index; the first page's header is closed+ledger_data."""
        page = self.call({"ledger_index": 270, "binary": True, "limit": 1})
        self.assertEqual(sorted(page["state"][0]), ["data", "index"])
        self.assertEqual(sorted(page["ledger"]), ["closed", "ledger_data"])

    def test_header_ledger_index_per_version(self) -> None:
        """The first page's JSON header has ledger_index as a string in v1, a number in v2."""
        self.assertEqual(
            self.call({"ledger_index": 31, "limit": 1}, 1)["ledger"]["ledger_index"], "31"
        )
        self.assertEqual(
            self.call({"ledger_index": 31, "limit": 1}, 2)["ledger"]["ledger_index"], 31
        )

    def test_type_filter_after_limit(self) -> None:
        """The type filter thins a page but the marker still advances by the limit."""
        page = self.call({"ledger_index": 270, "limit": 20, "type": "account"})
        self.assertTrue(all(o["LedgerEntryType"] == "AccountRoot" for o in page["state"]))
        unfiltered = self.call({"ledger_index": 270, "limit": 20})
        self.assertEqual(page["marker"], unfiltered["marker"])
        by_name = self.call({"ledger_index": 270, "limit": 20, "type": "AccountRoot"})
        self.assertEqual(by_name["state"], page["state"])

    def test_errors(self) -> None:
        """Bad marker, limit and type get rippled's messages; an unknown ledger lgrNotFound."""
        self.assertError(
            {"marker": "bad"}, "invalidParams", 31, "Invalid field 'marker', not valid."
        )
        self.assertError({"limit": "x"}, "invalidParams", 31, "Invalid field 'limit', not integer.")
        self.assertError({"type": 5}, "invalidParams", 31, "Invalid field 'type', not string.")
        self.assertError({"type": "nonsense"}, "invalidParams", 31, "Invalid field 'type'.")
        self.assertError({"ledger_index": 99999999}, "lgrNotFound", 21, "ledgerNotFound")


class OutOfOrderTests(HandlerCase):
    """Clio's out_of_order paging: cursor markers, then integer (diff) markers."""

    handler = ledger_data.HANDLER

    def test_walk_ends_with_sequence_marker(self) -> None:
        """Walking with out_of_order yields every object once and ends with the newest sequence."""
        params: dict[str, object] = {"ledger_index": 270, "limit": 40, "out_of_order": True}
        keys: list[str] = []
        for _ in range(100):
            page = self.call(params)
            self.assertIs(page["cache_full"], False)
            keys += [o["index"] for o in page["state"]]
            if isinstance(page["marker"], int):
                self.assertEqual(page["marker"], 270)
                break
            params["marker"] = page["marker"]
        self.assertEqual(keys, _all_keys(270))

    def test_diff_marker(self) -> None:
        """An integer marker gives the objects deleted in that ledger that the requested ledger still has."""
        store = corpus_backend().store
        deleting = next(
            s for s in range(270, 3, -1) if any(not b for b in store.diffs.get(s, {}).values())
        )
        deleted = {k.hex().upper() for k, b in store.diffs[deleting].items() if not b}
        page = self.call({"ledger_index": deleting - 1, "out_of_order": True, "marker": deleting})
        self.assertEqual(
            {o["index"] for o in page["state"]}, deleted & set(_all_keys(deleting - 1))
        )
        self.assertTrue(page["state"])
        self.assertEqual(page["marker"], deleting - 1)
        same = self.call({"ledger_index": deleting, "out_of_order": True, "marker": deleting})
        self.assertEqual(same["state"], [])
        self.assertNotIn("marker", same)

    def test_out_of_order_must_be_bool(self) -> None:
        """out_of_order takes a boolean; integer markers need it."""
        self.assertError({"out_of_order": "yes"}, "invalidParams", 31, "Invalid parameters.")
        self.assertError({"marker": 5}, "invalidParams", 31, "Invalid field 'marker', not valid.")
