"""The metric families and the ``/metrics`` endpoint, scraped and parsed back."""

from __future__ import annotations

import gzip

from prometheus_client.parser import text_string_to_metric_families

from treq.testing import StubTreq
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.iweb import IRequest
from twisted.web.resource import Resource
from twisted.web.test.requesthelper import DummyRequest

from clio_twisted.metrics import Metrics
from clio_twisted.web.metrics import MetricsResource


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, keyed by name and sorted labels."""
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def _admin_by_header(request: IRequest) -> bool:
    return request.getHeader(b"x-test-admin") == b"yes"


class MetricsTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.metrics = Metrics(clock=self.clock)
        root = Resource()
        root.putChild(b"metrics", MetricsResource(self.metrics.registry, _admin_by_header))
        self.http = StubTreq(root)

    def scrape(self, headers: dict[bytes, list[bytes]] | None = None) -> tuple[int, bytes, object]:
        hdrs = {b"x-test-admin": [b"yes"]}
        hdrs.update(headers or {})
        d = self.http.get("http://127.0.0.1/metrics", headers=hdrs)
        self.http.flush()
        response = self.successResultOf(d)
        body = self.successResultOf(response.content())
        return response.code, body, response.headers

    def test_rpc_counts_under_clio_names(self) -> None:
        """RPC calls show up as rpc_method_total_number{method,status} with Clio's exact name."""
        self.metrics.rpc_started("account_info")
        self.metrics.rpc_started("account_info")
        self.metrics.rpc_finished("account_info", 0.0025)
        self.metrics.rpc_failed("account_info", 0.001)
        self.metrics.rpc_forwarded("submit")
        self.metrics.rpc_forwarded("submit", ok=False)
        code, body, _ = self.scrape()
        self.assertEqual(code, 200)
        s = _samples(body.decode())
        key = "rpc_method_total_number"
        self.assertEqual(s[(key, (("method", "account_info"), ("status", "started")))], 2)
        self.assertEqual(s[(key, (("method", "account_info"), ("status", "finished")))], 1)
        self.assertEqual(s[(key, (("method", "account_info"), ("status", "failed")))], 1)
        self.assertEqual(s[(key, (("method", "submit"), ("status", "forwarded")))], 1)
        self.assertEqual(s[(key, (("method", "submit"), ("status", "failed_forward")))], 1)
        self.assertAlmostEqual(
            s[("rpc_method_duration_us", (("method", "account_info"),))], 3500.0, places=3
        )

    def test_error_backend_cache_etl_and_subscription_families(self) -> None:
        """Every other Clio family named in the anatomy is exposed with its labels."""
        m = self.metrics
        m.rpc_error("too_busy")
        m.rpc_error("too_busy")
        m.work_queued(3)
        m.work_done(0.5, 2)
        m.backend_op("read_async", "completed", 5)
        m.backend_pending("write_async", 4)
        m.backend_too_busy()
        m.backend_duration("read", 0.003)
        m.cache_lookup(hit=True)
        m.cache_lookup(hit=False, fetch="successor_key")
        m.etl_published(1_790_000_000)
        m.etl_state(writing=True, read_only=False, corruption_detected=False)
        m.source_message("ws://127.0.0.1:6006", 1_790_000_001)
        m.subscriptions("ledger", 7)
        m.ws_message(512)
        _, body, _ = self.scrape()
        s = _samples(body.decode())
        self.assertEqual(s[("rpc_error_total_number", (("error_type", "too_busy"),))], 2)
        self.assertEqual(s[("work_queue_queued_total_number", ())], 1)
        self.assertEqual(s[("work_queue_current_size", ())], 2)
        self.assertEqual(s[("work_queue_cumulitive_tasks_duration_us", ())], 500_000)
        self.assertEqual(
            s[
                (
                    "backend_operations_total_number",
                    (("operation", "read_async"), ("status", "completed")),
                )
            ],
            5,
        )
        self.assertEqual(
            s[
                (
                    "backend_operations_current_number",
                    (("operation", "write_async"), ("status", "pending")),
                )
            ],
            4,
        )
        self.assertEqual(s[("backend_too_busy_total_number", ())], 1)
        self.assertEqual(
            s[
                (
                    "backend_duration_milliseconds_histogram_bucket",
                    (("le", "5.0"), ("operation", "read")),
                )
            ],
            1,
        )
        self.assertEqual(
            s[
                (
                    "backend_duration_milliseconds_histogram_bucket",
                    (("le", "2.0"), ("operation", "read")),
                )
            ],
            0,
        )
        cache = "ledger_cache_counter_total_number"
        self.assertEqual(s[(cache, (("fetch", "ledger_objects"), ("type", "request")))], 1)
        self.assertEqual(s[(cache, (("fetch", "ledger_objects"), ("type", "cache_hit")))], 1)
        self.assertEqual(s[(cache, (("fetch", "successor_key"), ("type", "request")))], 1)
        self.assertNotIn((cache, (("fetch", "successor_key"), ("type", "cache_hit"))), s)
        self.assertEqual(s[("etl_last_publish_seconds", ())], 1_790_000_000)
        self.assertEqual(s[("etl_writing", ())], 1)
        self.assertEqual(s[("read_only", ())], 0)
        self.assertEqual(
            s[("subscription_source_last_message_time", (("source", "ws://127.0.0.1:6006"),))],
            1_790_000_001,
        )
        self.assertEqual(s[("subscriptions_current_number", (("stream", "ledger"),))], 7)
        self.assertEqual(s[("ws_messages_length_count", ())], 1)

    def test_non_admin_gets_401(self) -> None:
        """A scrape from a non-admin is refused with Clio's 401 text and no metrics."""
        self.metrics.rpc_started("ping")
        code, body, _ = self.scrape({b"x-test-admin": [b"no"]})
        self.assertEqual(code, 401)
        self.assertEqual(body, b"Only admin is allowed to collect metrics")

    def test_disabled_gets_403(self) -> None:
        """With prometheus.enabled false, even an admin gets Clio's 403."""
        root = Resource()
        root.putChild(
            b"metrics", MetricsResource(self.metrics.registry, _admin_by_header, enabled=False)
        )
        self.http = StubTreq(root)
        code, body, _ = self.scrape()
        self.assertEqual(code, 403)
        self.assertEqual(body, b"Prometheus is disabled in clio config")

    def test_gzip_when_accepted(self) -> None:
        """A scraper that accepts gzip gets a gzipped body that decompresses to the metrics."""
        self.metrics.rpc_started("ping")
        request = DummyRequest([b""])
        request.requestHeaders.setRawHeaders(b"accept-encoding", [b"deflate, gzip;q=1.0"])
        resource = MetricsResource(self.metrics.registry, lambda r: True)
        raw = resource.render_GET(request)
        self.assertEqual(request.responseHeaders.getRawHeaders(b"content-encoding"), [b"gzip"])
        s = _samples(gzip.decompress(raw).decode())
        self.assertEqual(
            s[("rpc_method_total_number", (("method", "ping"), ("status", "started")))], 1
        )

    def test_no_gzip_when_compress_reply_is_off(self) -> None:
        """With compress_reply false the body stays plain even for a gzip-capable scraper."""
        request = DummyRequest([b""])
        request.requestHeaders.setRawHeaders(b"accept-encoding", [b"gzip"])
        resource = MetricsResource(self.metrics.registry, lambda r: True, compress_reply=False)
        raw = resource.render_GET(request)
        self.assertIsNone(request.responseHeaders.getRawHeaders(b"content-encoding"))
        self.assertIn(b"# HELP rpc_method_total_number", raw)

    def test_plain_text_content_type(self) -> None:
        """Without gzip the body is the 0.0.4 text format, uncompressed."""
        _, body, headers = self.scrape()
        self.assertIn(b"text/plain; version=0.0.4", headers.getRawHeaders(b"content-type")[0])
        self.assertIn(b"# TYPE rpc_method_total_number gauge", body)

    def test_requests_per_second_uses_the_window(self) -> None:
        """Requests per second averages over the last ten seconds of the injected clock."""
        for _ in range(20):
            self.metrics.rpc_finished("ping", 0.0)
        self.assertEqual(self.metrics.requests_per_second(), 2.0)
        self.clock.advance(5)
        self.metrics.rpc_errored("ping")
        self.assertEqual(self.metrics.requests_per_second(), 2.1)
        self.clock.advance(6)
        self.assertEqual(self.metrics.requests_per_second(), 0.1)
        self.assertEqual(self.metrics.requests_total, 21)

    def test_two_instances_do_not_share_a_registry(self) -> None:
        """Each Metrics owns its registry, so two servers in one process never collide."""
        other = Metrics()
        other.rpc_started("ping")
        self.assertIsNone(
            self.metrics.registry.get_sample_value(
                "rpc_method_total_number", {"method": "ping", "status": "started"}
            )
        )
        self.assertEqual(
            other.registry.get_sample_value(
                "rpc_method_total_number", {"method": "ping", "status": "started"}
            ),
            1,
        )

    def test_counts_current_at_every_scrape(self) -> None:
        """Counts kept per request reach the families at each scrape; an uncounted status has no sample."""
        self.metrics.rpc_started("tx")
        self.metrics.rpc_finished("tx", 0.5)
        self.metrics.work_queued(1)
        first = _samples(self.scrape()[1].decode())
        self.metrics.rpc_started("tx")
        self.metrics.rpc_finished("tx", 0.25)
        self.metrics.rpc_error("bad_syntax")
        self.metrics.work_done(0.5, 0)
        second = _samples(self.scrape()[1].decode())
        key = "rpc_method_total_number"
        self.assertEqual(first[(key, (("method", "tx"), ("status", "finished")))], 1)
        self.assertEqual(second[(key, (("method", "tx"), ("status", "finished")))], 2)
        self.assertNotIn((key, (("method", "tx"), ("status", "failed"))), second)
        self.assertEqual(second[("rpc_method_duration_us", (("method", "tx"),))], 750_000.0)
        self.assertNotIn(("rpc_error_total_number", (("error_type", "bad_syntax"),)), first)
        self.assertEqual(second[("rpc_error_total_number", (("error_type", "bad_syntax"),))], 1)
        self.assertEqual(first[("work_queue_current_size", ())], 1)
        self.assertEqual(second[("work_queue_current_size", ())], 0)
        self.assertEqual(second[("work_queue_cumulitive_tasks_duration_us", ())], 500_000)
