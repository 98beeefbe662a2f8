"""The whole server against rippled 3.1.1's and Clio's recorded answers (issue 13).

The recorded corpus is ingested through the real ETL from a fake rippled on
127.0.0.1 into SQLite (and Cassandra when ``CLIO_TEST_CASSANDRA`` is set; under
``CI=true`` it must be), then every recorded request is asked again on the real
listening port (HTTP, and a sample over WebSocket) and Clio's bad-input cases
are replayed; any difference not listed in docs/conformance.md fails. The
machinery that decides (normalising, the documented list, pins) is tested on
its own first, so a suite that silently passes everything would be caught.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from twisted.internet import reactor as _reactor
from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThread
from twisted.trial.unittest import SkipTest, SynchronousTestCase, TestCase

from clio_twisted.testing import conformance as c

reactor: Any = _reactor
# Clio's 443 cases less the 143 flagged depends_on_mocked_state.
N_CLIO_CASES = 300


def _entry(**fields: Any) -> c.Documented:
    base: dict[str, Any] = {
        "suite": c.SUITE_RIPPLED,
        "method": "ledger",
        "label": "*",
        "api_version": None,
        "expect": c.EXPECT_DIFFERS,
        "reason": "because",
    }
    base.update(fields)
    return c.Documented(**base)


def _judge(ours: Any, rippled: Any, clio: Any, documented: list[c.Documented]) -> c.CaseResult:
    return c.judge(
        c.SUITE_RIPPLED, "ledger", "a case", 1, ours, rippled, clio, documented, c.Report()
    )


class MachineryTests(SynchronousTestCase):
    """How answers are normalised and judged, and how the documented list is read."""

    def test_envelope_rules(self) -> None:
        """Warnings, the error echo and Clio's error ``type`` are dropped; text loses trailing CRLF only."""
        ours = c.normalise_http(
            200,
            {
                "result": {"error": "x", "status": "error", "type": "response", "request": {}},
                "warnings": [{"id": 2001}],
            },
        )
        self.assertEqual(ours, {"http_status": 200, "result": {"error": "x", "status": "error"}})
        success = c.normalise_http(200, {"result": {"type": "bookChanges", "status": "success"}})
        self.assertEqual(success["result"]["type"], "bookChanges")
        text = c.normalise_http(400, {"_non_json_body": "Null method\r\n"})
        self.assertEqual(text, {"http_status": 400, "text": "Null method"})

    def test_websocket_answers_compare_as_results(self) -> None:
        """A WebSocket error's flat fields and a success's result compare with the HTTP result."""
        error = {"error": "e", "error_code": 1, "status": "error", "type": "response", "id": 4}
        self.assertEqual(c.ws_as_result(error), {"error": "e", "error_code": 1, "status": "error"})
        ok = {"result": {"ledger_index": 3}, "status": "success", "type": "response", "id": 5}
        self.assertEqual(c.ws_as_result(ok), {"ledger_index": 3, "status": "success"})

    def test_undocumented_difference_fails(self) -> None:
        """An answer unlike rippled's with no entry is DIFFERENT; equal to rippled's is fine."""
        self.assertEqual(_judge({"a": 1}, {"a": 2}, {"a": 1}, []).outcome, c.DIFFERENT)
        self.assertEqual(_judge({"a": 2}, {"a": 2}, {"a": 1}, []).outcome, c.RIPPLED)

    def test_expect_clio_must_equal_clio(self) -> None:
        """An entry that expects Clio's answer fails when ours is neither rippled's nor Clio's."""
        entry = [_entry(expect=c.EXPECT_CLIO)]
        self.assertEqual(_judge({"a": 1}, {"a": 2}, {"a": 1}, entry).outcome, c.AS_CLIO)
        self.assertEqual(_judge({"a": 3}, {"a": 2}, {"a": 1}, entry).outcome, c.DIFFERENT)

    def test_pin_catches_a_changed_answer(self) -> None:
        """A documented difference whose pinned error changed fails again."""
        entry = [_entry(pin=(("error", '"x"'),))]
        self.assertEqual(_judge({"error": "x"}, {"error": "y"}, None, entry).outcome, c.DOCUMENTED)
        self.assertEqual(_judge({"error": "z"}, {"error": "y"}, None, entry).outcome, c.DIFFERENT)

    def test_entries_match_by_suite_method_label_and_version(self) -> None:
        """Globs select cases; a ``rippled`` entry covers the WebSocket sample too, not Clio's cases."""
        entry = _entry(method="account_*", label="error: *", api_version=2)
        self.assertTrue(entry.covers(c.SUITE_RIPPLED, "account_info", "error: x", 2))
        self.assertTrue(entry.covers(c.SUITE_WS, "account_info", "error: x", 2))
        self.assertFalse(entry.covers(c.SUITE_CLIO_ERRORS, "account_info", "error: x", 2))
        self.assertFalse(entry.covers(c.SUITE_RIPPLED, "account_info", "error: x", 1))
        self.assertFalse(entry.covers(c.SUITE_RIPPLED, "ledger", "error: x", 2))

    def test_the_project_list_is_read(self) -> None:
        """docs/conformance.md has entries, each with a known expectation and a reason."""
        documented = c.load_documented()
        self.assertGreater(len(documented), 50)
        for d in documented:
            self.assertIn(d.expect, c.EXPECTS)
            self.assertTrue(d.reason)

    def test_a_document_without_the_list_is_refused(self) -> None:
        """A docs file with no ``json conformance`` block cannot excuse anything."""
        path = Path(self.mktemp())
        path.write_text("# nothing here\n")
        self.assertRaises(c.DocumentError, c.load_documented, path)

    def test_shape_differences_name_every_path(self) -> None:
        """Missing, extra and retyped fields are each named with their path."""
        ours = c.skeleton({"a": {"b": True, "x": 1}, "l": [{"k": "v"}]})
        theirs = c.skeleton({"a": {"b": "1", "c": 2}, "l": [{"k": "v", "m": 0}]})
        self.assertEqual(
            c.shape_differences(ours, theirs),
            ["type a.b: bool != string", "missing a.c", "extra a.x", "missing l[].m"],
        )

    def test_stream_keys(self) -> None:
        """Stream messages are matched by type, ledger and (transactions) hash, v1 or v2 form."""
        v1 = {"type": "transaction", "ledger_index": 5, "transaction": {"hash": "AB"}}
        v2 = {"type": "transaction", "ledger_index": 5, "hash": "AB", "tx_json": {}}
        self.assertEqual(c.stream_key(v1), c.stream_key(v2))
        self.assertEqual(
            c.stream_key({"type": "ledgerClosed", "ledger_index": 5}), ("ledgerClosed", 5)
        )

    def test_ignore_lets_only_named_fields_differ(self) -> None:
        """An entry's ``ignore`` excuses those fields only."""
        entry = [_entry(ignore=("validated_ledgers",))]
        theirs = {"ledger_index": 5, "validated_ledgers": "2-5"}
        ok = _judge({"ledger_index": 5, "validated_ledgers": "3-9"}, theirs, None, entry)
        self.assertEqual(ok.outcome, c.DOCUMENTED)
        bad = _judge({"ledger_index": 6, "validated_ledgers": "3-9"}, theirs, None, entry)
        self.assertEqual(bad.outcome, c.DIFFERENT)

    def test_shifted_clock_moves_only_seconds(self) -> None:
        """The replay clock reads the recording's time; everything else is the reactor's."""
        from twisted.internet.task import Clock

        clock = Clock()
        clock.advance(1000)
        shifted = c.ShiftedClock(clock, 400)
        self.assertEqual(shifted.seconds(), 600)
        shifted.callLater(5, lambda: None)
        self.assertEqual(len(clock.getDelayedCalls()), 1)

    def test_data_is_complete(self) -> None:
        """All 2,293 recorded exchanges and Clio's 300 state-independent bad-input cases are kept."""
        self.assertEqual(len(c.load_exchanges()), 2293)
        self.assertEqual(len(c.load_clio_errors()), N_CLIO_CASES)
        streams = {s.name: len(s.messages) for s in c.load_streams()}
        self.assertEqual(streams["ledger"], 243)
        self.assertEqual(streams["transactions"], streams["transactions_v2"])


class _WholeServer:
    """One ingest and one full run per backend; the table is printed for the log."""

    def database(self) -> dict[str, Any]:
        raise NotImplementedError

    def test_every_answer_is_rippleds_or_documented(self) -> Deferred[None]:
        """Every recorded request and Clio bad-input case, through the real ETL and port: no undocumented difference."""

        async def go() -> None:
            report = await c.run(reactor, self.database())
            failures = report.failures
            lines = [
                f"{f.suite} {f.method} v{f.api_version} {f.label!r}: {f.detail}"
                for f in failures[:15]
            ]
            assert not failures, f"{len(failures)} undocumented differences:\n" + "\n".join(lines)
            by_suite: dict[str, int] = {}
            for case in report.cases:
                by_suite[case.suite] = by_suite.get(case.suite, 0) + 1
            assert by_suite[c.SUITE_RIPPLED] == 2293, by_suite
            assert by_suite[c.SUITE_WS] > 400, by_suite
            assert by_suite[c.SUITE_CLIO_ERRORS] == N_CLIO_CASES, by_suite
            # every recorded stream message (ledgers 28-270), each stream's answer and order
            assert by_suite[c.SUITE_STREAMS] == 2793, by_suite
            assert by_suite[c.SUITE_CLIO_SHAPE] == len(c.CLIO_SHAPES), by_suite
            same = sum(1 for case in report.cases if case.outcome == c.RIPPLED)
            assert same > 2700, f"only {same} answers equal rippled's"

        return Deferred.fromCoroutine(go())


class SqliteWholeServerTests(_WholeServer, TestCase):
    timeout = 240

    def database(self) -> dict[str, Any]:
        directory = self.mktemp()
        os.makedirs(directory)
        return c.sqlite_database(directory)


class CassandraWholeServerTests(_WholeServer, TestCase):
    """The same on a real Cassandra (``CLIO_TEST_CASSANDRA=host:port``), a fresh keyspace dropped afterwards."""

    timeout = 400

    def setUp(self) -> None:
        self.address = os.environ.get("CLIO_TEST_CASSANDRA", "")
        if not self.address:
            if os.environ.get("CI", "").lower() == "true":
                self.fail("CLIO_TEST_CASSANDRA must be set in CI")
            raise SkipTest("CLIO_TEST_CASSANDRA is unset (scripts/cassandra start; 127.0.0.1:9042)")
        self.keyspace = f"conformance_{uuid.uuid4().hex[:10]}"
        self.addCleanup(lambda: deferToThread(c.drop_keyspace, self.address, self.keyspace))

    def database(self) -> dict[str, Any]:
        return c.cassandra_database(self.address, self.keyspace)
