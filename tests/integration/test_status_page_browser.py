"""The status page in a real headless Chromium, served over a real socket.

Chromium loads the page, runs its script, polls ``/?format=json`` (virtual
time makes the refresh timer fire quickly) and we read the DOM it rendered;
a screenshot is saved and its path printed. Skipped with a reason when
Chromium is not installed, except under CI=true, where a missing browser is a
failure (CI installs it: ``apt-get install -y --no-install-recommends chromium``).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from typing import Any

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.utils import getProcessOutputAndValue
from twisted.trial.unittest import TestCase
from twisted.web.resource import Resource
from twisted.web.server import Site

from clio_twisted.web.status_page import StatusPageResource, wants_status_page

CHROMIUM = (
    shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1100,800",
]


class _Root(Resource):
    isLeaf = True

    def __init__(self, page: StatusPageResource) -> None:
        super().__init__()
        self.page = page

    def render(self, request: Any) -> Any:
        if wants_status_page(request):
            return self.page.render(request)
        request.setResponseCode(405)
        return b"not the page"


class StatusPageBrowserTests(TestCase):
    timeout = 120

    def setUp(self) -> None:
        if CHROMIUM is None:
            if os.environ.get("CI") == "true":
                self.fail("chromium is required under CI=true")
            raise self.skipTest("chromium not installed (apt-get install chromium)")
        self.calls = 0
        port = reactor.listenTCP(
            0, Site(_Root(StatusPageResource(self.snapshot, 0.2))), interface="127.0.0.1"
        )  # type: ignore[attr-defined]
        self.addCleanup(port.stopListening)
        self.url = f"http://127.0.0.1:{port.getHost().port}/"
        self.profile = tempfile.mkdtemp(prefix="clio-chromium-")
        self.addCleanup(shutil.rmtree, self.profile, True)

    def snapshot(self) -> dict[str, Any]:
        """Each call sees one more stored ledger, so a refresh is visible in the DOM."""
        self.calls += 1
        return {
            "version": "test",
            "time": 1_790_000_000 + self.calls,
            "uptime_seconds": 3725,
            "ledger_range": {"min": 1000, "max": 1000 + self.calls},
            "requests": {
                "total": 12,
                "per_second": 3.5,
                "errors_total": 2,
                "errors_by_type": {"too_busy": 2},
            },
            "etl": {
                "state": "cache loading",
                "cache_load": {"done": 30, "total": 120},
                "initial_load": {"ledger_index": 1268, "objects": 5000, "percent": 62.5},
                "etl_sources": [
                    {
                        "url": "ws://127.0.0.1:6006",
                        "is_connected": True,
                        "validated_ledgers": "32570-1268",
                    },
                    {"url": "ws://10.0.0.2:6006", "is_connected": False, "validated_ledgers": None},
                ],
            },
        }

    def chromium(self, *args: str) -> Deferred[tuple[bytes, bytes, int]]:
        return getProcessOutputAndValue(
            CHROMIUM,  # type: ignore[arg-type]
            [*FLAGS, f"--user-data-dir={self.profile}", *args],
            env={"HOME": self.profile, "PATH": os.environ.get("PATH", "")},
            reactor=reactor,
        )

    async def test_page_renders_and_refreshes(self) -> None:
        """Chromium renders range, sources, progress and errors, and a refresh shows newer data."""
        out, err, code = await self.chromium("--virtual-time-budget=3000", "--dump-dom", self.url)
        dom = out.decode()
        self.assertEqual(code, 0, err.decode()[-2000:])
        self.assertIn("clio-twisted", dom)
        self.assertIn("ws://10.0.0.2:6006", dom)
        self.assertIn('<tr class="bad">', dom)  # the disconnected source is flagged
        self.assertIn('<tr class="ok">', dom)
        self.assertIn("30 / 120 (25%)", dom)
        self.assertIn("62.5% ledger_index 1268, objects 5000", dom)  # server_info's initial_load
        self.assertIn("too_busy: 2", dom)
        self.assertIn("1h 2m 5s", dom)
        # The first snapshot is embedded (call 1); what the page shows came from a refresh.
        shown = int(re.search(r"id=\"range\"[^>]*>1000 - (\d+)<", dom).group(1))  # type: ignore[union-attr]
        self.assertGreater(shown, 1001, "the page never refreshed")
        self.assertIn("updated 2026-", dom)

    async def test_screenshot(self) -> None:
        """A screenshot of the page is written (its path is printed for CI to keep)."""
        path = os.path.abspath("status-page.png")
        out, err, code = await self.chromium(
            "--virtual-time-budget=1000", f"--screenshot={path}", self.url
        )
        self.assertEqual(code, 0, err.decode()[-2000:])
        with open(path, "rb") as f:
            head = f.read(8)
        self.assertEqual(head, b"\x89PNG\r\n\x1a\n")
        size = os.path.getsize(path)
        self.assertGreater(size, 10_000)  # a blank page is far smaller
        print(f"\nstatus page screenshot: {path} ({size} bytes)", file=sys.stderr)
