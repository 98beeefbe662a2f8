"""The status page resource: negotiation, the snapshot it embeds and serves, and its provider."""

from __future__ import annotations

import json
import re

from treq.testing import StubTreq
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.resource import Resource
from twisted.web.test.requesthelper import DummyRequest

from clio_twisted.backend.interface import LedgerRange
from clio_twisted.etl.status import EtlStatus, Phase
from clio_twisted.metrics import Metrics
from clio_twisted.web.status_page import (
    StatusPageResource,
    etl_view,
    status_provider,
    wants_status_page,
)


class _Root(Resource):
    """Stands in for the web root: status page for browsers, something else otherwise."""

    isLeaf = True

    def __init__(self, page: StatusPageResource) -> None:
        super().__init__()
        self.page = page

    def render(self, request):  # type: ignore[no-untyped-def]
        if wants_status_page(request):
            return self.page.render(request)
        return b"api"


class _Backend:
    def __init__(self, result: LedgerRange | None | Exception) -> None:
        self.result = result

    async def fetch_ledger_range(self) -> LedgerRange | None:
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


def _embedded(html: bytes) -> dict:
    match = re.search(rb'<script id="initial" type="application/json">(.*?)</script>', html, re.S)
    assert match is not None
    return json.loads(match.group(1))


class WantsStatusPageTests(SynchronousTestCase):
    def _request(self, method: bytes, headers: dict[bytes, bytes], args: dict | None = None):  # type: ignore[no-untyped-def]
        request = DummyRequest([b""])
        request.method = method
        for k, v in headers.items():
            request.requestHeaders.setRawHeaders(k, [v])
        request.args = args or {}
        return request

    def test_browser_get_is_the_page(self) -> None:
        """A GET accepting text/html (what a browser sends) is for the page."""
        accept = b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        self.assertTrue(wants_status_page(self._request(b"GET", {b"accept": accept})))

    def test_json_refresh_is_the_page(self) -> None:
        """The page's own refresh (?format=json) is for the page."""
        req = self._request(b"GET", {b"accept": b"application/json"}, {b"format": [b"json"]})
        self.assertTrue(wants_status_page(req))

    def test_api_requests_are_not(self) -> None:
        """POSTs, WebSocket upgrades and plain API GETs never reach the page."""
        html = {b"accept": b"text/html"}
        self.assertFalse(wants_status_page(self._request(b"POST", html)))
        self.assertFalse(
            wants_status_page(self._request(b"GET", {**html, b"upgrade": b"websocket"}))
        )
        self.assertFalse(wants_status_page(self._request(b"GET", {b"accept": b"*/*"})))
        self.assertFalse(wants_status_page(self._request(b"GET", {})))


class StatusPageTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.clock.advance(1_790_000_000)
        self.metrics = Metrics(clock=self.clock)
        self.backend = _Backend(LedgerRange(1000, 1268))
        self.etl = {
            "state": "following",
            "cache_load": {"done": 40, "total": 100},
            "sources": [
                {"url": "ws://127.0.0.1:6006", "connected": True, "validated_ledgers": "1-1268"}
            ],
        }
        provider = status_provider(
            metrics=self.metrics,
            backend=self.backend,  # type: ignore[arg-type]
            clock=self.clock,
            etl_status=lambda: self.etl,
        )
        self.http = StubTreq(_Root(StatusPageResource(provider, refresh_seconds=1.5)))

    def get(self, url: str, accept: bytes) -> tuple[int, bytes, object]:
        d = self.http.get(url, headers={b"accept": [accept]})
        self.http.flush()
        response = self.successResultOf(d)
        return response.code, self.successResultOf(response.content()), response.headers

    def test_html_embeds_the_snapshot(self) -> None:
        """The HTML page carries the current snapshot, its refresh period and a strict CSP."""
        self.metrics.rpc_finished("ping", 0.001)
        self.metrics.rpc_error("bad_syntax")
        self.clock.advance(42)
        code, body, headers = self.get("http://x/", b"text/html")
        self.assertEqual(code, 200)
        self.assertEqual(headers.getRawHeaders(b"content-type"), [b"text/html; charset=utf-8"])
        self.assertIn(b"default-src 'none'", headers.getRawHeaders(b"content-security-policy")[0])
        self.assertIn(b"const REFRESH_MS = 1500;", body)
        snap = _embedded(body)
        self.assertEqual(snap["ledger_range"], {"min": 1000, "max": 1268})
        self.assertEqual(snap["uptime_seconds"], 42)
        self.assertEqual(snap["requests"]["total"], 1)
        self.assertEqual(snap["requests"]["errors_by_type"], {"bad_syntax": 1})
        self.assertEqual(snap["etl"]["sources"][0]["validated_ledgers"], "1-1268")

    def test_json_refresh(self) -> None:
        """?format=json answers the same snapshot as JSON, and sees new data."""
        code, body, headers = self.get("http://x/?format=json", b"application/json")
        self.assertEqual(code, 200)
        self.assertEqual(headers.getRawHeaders(b"content-type"), [b"application/json"])
        self.assertEqual(json.loads(body)["ledger_range"]["max"], 1268)
        self.backend.result = LedgerRange(1000, 1269)
        _, body, _ = self.get("http://x/?format=json", b"application/json")
        self.assertEqual(json.loads(body)["ledger_range"]["max"], 1269)

    def test_empty_and_broken_store(self) -> None:
        """An empty store shows no range; a failing store still renders, with the error."""
        self.backend.result = None
        _, body, _ = self.get("http://x/?format=json", b"application/json")
        self.assertIsNone(json.loads(body)["ledger_range"])
        self.backend.result = TimeoutError("cassandra did not answer")
        code, body, _ = self.get("http://x/?format=json", b"application/json")
        self.assertEqual(code, 200)
        self.assertEqual(
            json.loads(body)["backend_error"], "TimeoutError: cassandra did not answer"
        )

    def test_script_injection_is_escaped(self) -> None:
        """Strings from the snapshot cannot close the embedding <script> element."""
        self.etl["state"] = "</script><script>alert(1)</script>"
        _, body, _ = self.get("http://x/", b"text/html")
        self.assertNotIn(b"<script>alert(1)", body)
        self.assertEqual(_embedded(body)["etl"]["state"], "</script><script>alert(1)</script>")

    def test_api_get_is_not_served(self) -> None:
        """A GET that does not accept HTML goes to the API, not the page."""
        _, body, _ = self.get("http://x/", b"application/json")
        self.assertEqual(body, b"api")

    def test_gate(self) -> None:
        """With is_allowed, a refused client gets 403 and no data."""
        page = StatusPageResource(lambda: {"secret": 1}, is_allowed=lambda r: False)
        self.http = StubTreq(_Root(page))
        code, body, _ = self.get("http://x/?format=json", b"application/json")
        self.assertEqual(code, 403)
        self.assertNotIn(b"secret", body)

    def test_failing_provider_is_500(self) -> None:
        """A provider that raises gives a 500 and a logged failure, not a hung request."""

        def boom() -> dict:
            raise RuntimeError("no")

        self.http = StubTreq(_Root(StatusPageResource(boom)))
        code, body, _ = self.get("http://x/?format=json", b"application/json")
        self.assertEqual(code, 500)
        self.assertEqual(body, b"status unavailable")
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)

    def test_async_provider_waits(self) -> None:
        """An async provider's answer is written when it arrives."""
        pending: Deferred[dict] = Deferred()

        async def slow() -> dict:
            return await pending

        self.http = StubTreq(_Root(StatusPageResource(slow)))
        d = self.http.get("http://x/?format=json", headers={b"accept": [b"application/json"]})
        self.http.flush()
        self.assertNoResult(d)
        pending.callback({"ledger_range": None, "late": True})
        self.http.flush()
        body = self.successResultOf(self.successResultOf(d).content())
        self.assertEqual(json.loads(body)["late"], True)


class EtlViewTests(SynchronousTestCase):
    def test_server_info_section_flattened_for_the_page(self) -> None:
        """The page shows our extras beside Clio's keys and Clio's "1"/"0" flags as yes/no booleans."""
        status = EtlStatus(
            phase=Phase.WRITING,
            is_writer=True,
            sources=lambda: [
                {"ip": "127.0.0.1", "ws_port": "6006", "is_connected": True, "refused": None},
                {"ip": "10.0.0.2", "ws_port": "6007", "is_connected": False, "refused": "net"},
            ],
        )
        view = etl_view(status.server_info(0.0))
        self.assertEqual(view["phase"], "writing")
        self.assertIs(view["is_writer"], True)
        self.assertIs(view["read_only"], False)
        self.assertNotIn("clio_twisted", view)
        first, second = view["etl_sources"]
        self.assertIs(first["is_connected"], True)
        self.assertIs(second["is_connected"], False)
        self.assertEqual(second["refused"], "net")
        self.assertNotIn("clio_twisted", second)
