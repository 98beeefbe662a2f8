"""Real mainnet ledgers 38129 and 40000 stored whole: ``ledger`` shows their real headers, and
``ledger_data`` pages through exactly their real state (issue 6's check on real data)."""

from __future__ import annotations

import gzip
import importlib
import json
from importlib import resources
from typing import Any

from attrs import evolve

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.backend.interface import LedgerObject, LedgerRange, LedgerWrite
from clio_twisted.rpc.context import Context
from clio_twisted.testing.forge import load_fixture_ledger
from tests.fakes.backend import InMemoryBackend
from tests.rpc.corpus import call

# The header fields the fixture (rippled's own answer of 2013) and ours share, by name.
HEADER_FIELDS = (
    "account_hash",
    "close_flags",
    "close_time",
    "close_time_resolution",
    "ledger_hash",
    "parent_close_time",
    "parent_hash",
    "total_coins",
    "transaction_hash",
)


def _fixture_json(sequence: int) -> dict[str, Any]:
    data = resources.files("clio_twisted.testing") / "data" / f"mainnet-{sequence}-full.json.gz"
    loaded: dict[str, Any] = json.loads(gzip.decompress(data.read_bytes()))
    return loaded


class _MainnetLedger:
    """One fixture ledger written to an in-memory store as the ETL writes a first ledger."""

    sequence: int

    def setUp(self) -> None:
        ledger = load_fixture_ledger(self.sequence)
        self.fixture = _fixture_json(self.sequence)
        self.state = {k: b for k, b in ledger.changes.items() if b}
        backend = InMemoryBackend()
        objects = [LedgerObject(k, b, self.sequence) for k, b in sorted(self.state.items())]
        write = LedgerWrite(
            self.sequence,
            ledger.header.to_bytes(),
            ledger.header.hash,
            objects=objects,
            is_first=True,
        )
        failures: list[Any] = []
        Deferred.fromCoroutine(backend.write_ledger(write)).addErrback(failures.append)
        self.assertEqual(failures, [])
        self.ctx = Context(
            backend=backend,
            clock=Clock(),
            ledger_range=LedgerRange(self.sequence, self.sequence),
        )

    def _call(self, method: str, params: dict[str, Any], api_version: int = 1) -> dict[str, Any]:
        handler = importlib.import_module(f"clio_twisted.rpc.handlers.{method}").HANDLER
        return call(handler, params, api_version, evolve(self.ctx, api_version=api_version))

    def test_ledger_is_the_real_header(self) -> None:
        """``ledger`` answers the real header and hash, ledger_index a string in v1 and a number in v2."""
        for api_version, index in ((1, str(self.sequence)), (2, self.sequence)):
            answer = self._call("ledger", {"ledger_index": self.sequence}, api_version)
            header = answer["ledger"]
            for name in HEADER_FIELDS:
                self.assertEqual(header[name], self.fixture[name], name)
            self.assertEqual(header["ledger_index"], index)
            self.assertEqual(answer["ledger_hash"], self.fixture["ledger_hash"])
            self.assertTrue(answer["validated"])

    def test_ledger_data_pages_through_the_real_state(self) -> None:
        """Binary pages of 50, following the markers, give every real object once, in key order."""
        seen: list[tuple[str, str]] = []
        marker: str | None = None
        pages = 0
        while True:
            params: dict[str, Any] = {"ledger_index": self.sequence, "binary": True, "limit": 50}
            if marker is not None:
                params["marker"] = marker
            answer = self._call("ledger_data", params)
            seen.extend((o["index"], o["data"]) for o in answer["state"])
            pages += 1
            marker = answer.get("marker")
            if marker is None:
                break
            self.assertLess(pages, 100)
        expected = sorted((k.hex().upper(), b.hex().upper()) for k, b in self.state.items())
        self.assertEqual(seen, expected)
        self.assertEqual(len(seen), len(self.fixture["accountState"]))

    def test_ledger_data_json_indexes_are_the_real_ones(self) -> None:
        """The JSON pages name exactly the fixture's object indexes and types."""
        by_index = {o["index"]: o["LedgerEntryType"] for o in self.fixture["accountState"]}
        seen: dict[str, str] = {}
        marker: str | None = None
        while True:
            params: dict[str, Any] = {"ledger_index": self.sequence, "limit": 100}
            if marker is not None:
                params["marker"] = marker
            answer = self._call("ledger_data", params)
            for obj in answer["state"]:
                self.assertNotIn(obj["index"], seen)
                seen[obj["index"]] = obj["LedgerEntryType"]
            marker = answer.get("marker")
            if marker is None:
                break
        self.assertEqual(seen, by_index)


class Mainnet38129Tests(_MainnetLedger, SynchronousTestCase):
    """Mainnet ledger 38129 (261 objects, one transaction)."""

    sequence = 38129


class Mainnet40000Tests(_MainnetLedger, SynchronousTestCase):
    """Mainnet ledger 40000 (261 objects, no transactions)."""

    sequence = 40000
