"""Our ledger and transaction handlers against rippled 3.1.1's recorded answers, from the same ledgers.

Every recorded exchange of these methods is replayed against the corpus
loaded in an InMemoryBackend; the answer must equal rippled's field for field
(the envelope's ``status`` and the error echo ``request`` are the
dispatcher's). Where we keep Clio's behaviour or cannot answer as rippled did,
the exchange is listed in ``KNOWN`` with the reason (docs/conformance.md).
"""

from __future__ import annotations

import importlib
from typing import Any

from twisted.trial.unittest import SkipTest, SynchronousTestCase

from clio_twisted.testing.conformance import normalise_result
from tests.rpc.corpus import call, recorded

CLIO_REFUSES = "Clio refuses admin dumps: notSupported"
SEARCHED_ALL = "searched_all is true when the whole range is stored (as Clio); rippled said false"

# (method, api_version, label) -> why our answer differs from rippled's on purpose.
KNOWN: dict[tuple[str, int, str], str] = {
    ("ledger", 2, "accounts (admin) first ledger"): CLIO_REFUSES,
    ("ledger", 1, "full binary"): CLIO_REFUSES,
    ("ledger", 2, "full binary"): CLIO_REFUSES,
    ("tx", 2, "not found searched_all"): SEARCHED_ALL,
}


def _handler(method: str) -> Any:
    module = importlib.import_module(f"clio_twisted.rpc.handlers.{method}")
    return module.HANDLER


def _needs_render() -> None:
    try:
        importlib.import_module("clio_twisted.protocol.render")
    except ImportError:
        raise SkipTest("clio_twisted.protocol.render has not landed yet") from None


def _expected(exchange: dict[str, Any]) -> dict[str, Any]:
    """rippled's result under the suite's envelope rules, less ``status`` (the dispatcher's)."""
    result = normalise_result(exchange["rippled_response"]["result"])
    result.pop("status", None)
    return result


def _ours(result: dict[str, Any]) -> dict[str, Any]:
    """A handler's result or error object, compared as the whole-server suite compares answers."""
    out = normalise_result(result)
    out.pop("status", None)
    return out


class _Conformance(SynchronousTestCase):
    method = ""
    render_free: tuple[str, ...] = ()  # labels (prefixes) answerable without protocol.render

    def _check(self, predicate: Any) -> int:
        handler = _handler(self.method)
        checked = 0
        mismatches = []
        for exchange in recorded(self.method):
            version, label = exchange["api_version"], exchange["label"]
            if (self.method, version, label) in KNOWN or not predicate(label):
                continue
            params = dict(exchange["request"]["params"][0])
            params.pop("api_version", None)
            ours = _ours(call(handler, params, version))
            if ours != _expected(exchange):
                mismatches.append((version, label, ours, _expected(exchange)))
            checked += 1
        if mismatches:
            version, label, ours, theirs = mismatches[0]
            self.assertEqual(
                ours, theirs, f"{len(mismatches)} mismatches; first: v{version} {label!r}"
            )
        return checked


class LedgerTests(_Conformance):
    method = "ledger"

    def test_headers_and_hashes(self) -> None:
        """Headers, binary headers, hash lists and every error equal rippled's."""
        n = self._check(
            lambda label: (
                "expanded" not in label and "owner_funds" not in label and "binary @" not in label
            )
        )
        self.assertGreater(n, 30)

    def test_expanded(self) -> None:
        """Expanded transactions (JSON and binary) and owner_funds equal rippled's."""
        _needs_render()
        n = self._check(
            lambda label: "expanded" in label or "owner_funds" in label or "binary @" in label
        )
        self.assertGreater(n, 15)


class LedgerDataTests(_Conformance):
    method = "ledger_data"

    def test_pages(self) -> None:
        """Every recorded page (JSON, binary, type filters, markers) and error equals rippled's."""
        self.assertGreater(self._check(lambda label: True), 30)


class TxTests(_Conformance):
    method = "tx"

    def test_answers(self) -> None:
        """Every recorded tx answer (by hash and CTID, JSON and binary, v1 and v2) and error equals rippled's."""
        self.assertGreater(self._check(lambda label: True), 300)


class AccountTxTests(_Conformance):
    method = "account_tx"

    def test_answers(self) -> None:
        """Every recorded page (ranges, forward, binary, markers, v1/v2) and error equals rippled's."""
        self.assertGreater(self._check(lambda label: True), 35)


class TransactionEntryTests(_Conformance):
    method = "transaction_entry"

    def test_answers(self) -> None:
        """Every recorded transaction_entry answer and error equals rippled's."""
        self.assertGreater(self._check(lambda label: True), 35)


class LedgerEntryTests(_Conformance):
    method = "ledger_entry"

    def test_answers(self) -> None:
        """Every recorded selector (JSON and binary, v1 and v2) and every error equals rippled's."""
        self.assertGreater(self._check(lambda label: True), 200)


class BookChangesTests(_Conformance):
    method = "book_changes"

    def test_answers(self) -> None:
        """Every recorded ledger's book changes equal rippled's."""
        self.assertGreater(self._check(lambda label: True), 250)


class FeatureTests(_Conformance):
    method = "feature"

    def test_errors(self) -> None:
        """Unknown and unsupported amendments are badFeature, as rippled answers."""
        self.assertEqual(self._check(lambda label: True), 2)

    def test_full_list(self) -> None:
        """The whole list equals rippled's, without the admin-only ``vetoed``."""
        import gzip
        import json

        from tests.rpc.corpus import DATA

        with gzip.open(DATA / "feature_all.json.gz", "rt") as f:
            expected = json.load(f)["result"]["features"]
        for entry in expected.values():
            entry.pop("vetoed", None)
        ours = call(_handler("feature"), {"ledger_index": 270}, 1)
        self.assertEqual(ours["features"], expected)


class ThroughTheDispatcherTests(SynchronousTestCase):
    """The handlers behind the real dispatcher and HTTP envelope (what clients see)."""

    def _post(self, body: dict[str, Any]) -> Any:
        import json

        from twisted.internet.defer import Deferred, ensureDeferred

        from clio_twisted.rpc.dispatch import Caller, Dispatcher
        from clio_twisted.rpc.envelope import answer_http
        from clio_twisted.rpc.handlers import load_handlers
        from tests.rpc.corpus import corpus_context

        dispatcher = Dispatcher(load_handlers(), corpus_context())
        d: Deferred[Any] = ensureDeferred(
            answer_http(dispatcher, json.dumps(body).encode(), Caller("127.0.0.1", False))
        )
        return self.successResultOf(d)

    def test_success_and_error_envelopes(self) -> None:
        """A tx answer is wrapped in result with status; a transaction_entry error keeps its bare token."""
        ok = self._post({"method": "tx", "params": [{"transaction": _PAYMENT, "api_version": 2}]})
        body = ok.json
        self.assertEqual(body["result"]["status"], "success")
        self.assertEqual(body["result"]["hash"], _PAYMENT)
        bad = self._post(
            {"method": "transaction_entry", "params": [{"tx_hash": "zz", "ledger_index": 3}]}
        )
        result = bad.json["result"]
        self.assertEqual(
            (result["error"], result["status"], result["ledger_index"]),
            ("malformedRequest", "error", 3),
        )
        self.assertNotIn("error_code", result)


_PAYMENT = "71D2488787BD596661A8A391D34DB2029494DD5DB6F860A9443FB961F5E73159"
