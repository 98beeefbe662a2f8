"""/metrics with Clio's families, moving after real activity; server_info's admin counters."""

from __future__ import annotations

from typing import Any

import orjson
from prometheus_client.parser import text_string_to_metric_families

from twisted.application.service import MultiService
from twisted.internet.error import ConnectionDone
from twisted.internet.testing import MemoryReactorClock
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.backend.cache import StateCache
from clio_twisted.backend.interface import LedgerObject
from clio_twisted.config import config_from_dict
from clio_twisted.etl.status import EtlStatus
from clio_twisted.service import ClioService
from clio_twisted.tap import build_service
from tests.fakes.backend import InMemoryBackend
from tests.rpc.helpers import NOW, store_ledgers
from tests.web.helpers import HANDSHAKE, client_frame, connect, parse_response, post_bytes

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


class FakeFollower:
    def __init__(self) -> None:
        self.listeners: list[Any] = []

    def add_listener(self, callback: Any) -> None:
        self.listeners.append(callback)

    def committed(self, sequence: int) -> None:
        for callback in self.listeners:
            callback(sequence)


class FakeSourceState:
    last_message = NOW - 2


class FakeSource:
    host = "127.0.0.1"
    ws_port = 6006
    state = FakeSourceState()


class FakeEtl(MultiService):
    """What the tap reads of the ETL service: status, follower, sources, cache."""

    def __init__(self) -> None:
        super().__init__()
        self.status = EtlStatus(is_writer=True)
        self.etl = FakeFollower()
        self.sources = [FakeSource()]
        self.cache = StateCache()


class ObservabilityTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.reactor = MemoryReactorClock()
        self.reactor.advance(NOW)
        self.backend = InMemoryBackend()
        store_ledgers(self.backend, 3, 10, NOW - 1)
        self.etl = FakeEtl()
        config = config_from_dict({"server": {"ip": "127.0.0.1", "port": 0}})
        self.service = build_service(
            config,
            self.reactor,
            backend_factory=lambda c, r: self.backend,
            parts_factory=lambda c, b, r: [self.etl],
            environ={},
            install_log_observer=False,
        )
        self.service.startService()
        self.addCleanup(lambda: self.successResultOf(self.service.stopService()))

    def post(self, body: bytes, ip: str = "127.0.0.1") -> Any:
        channel, transport = connect_site(self.service, ip)
        channel.dataReceived(post_bytes(body))
        if not transport.value():
            # server_info may ask the followed rippled (through the forwarder) and gives up
            # after one forwarding deadline; our fake source never answers
            self.reactor.advance(60)
        return orjson.loads(parse_response(transport.value()).body)

    def scrape(self) -> Samples:
        channel, transport = connect_site(self.service)
        channel.dataReceived(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        text = parse_response(transport.value()).body.decode()
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }

    def test_families_move_after_activity(self) -> None:
        """RPC, backend, work queue, cache, ETL and subscription families all change with real activity."""
        before = self.scrape()
        self.post(b'{"method": "ledger_range"}')
        self.post(b'{"method": "ledger", "params": [{"ledger_index": 9}]}')
        ws = subscribe_transactions(self.service)
        self.etl.cache.update([LedgerObject(b"\x01" * 32, b"blob", 10)], 10)
        self.etl.cache.get(b"\x01" * 32, 10)
        self.etl.cache.get(b"\x02" * 32, 10)
        self.etl.etl.committed(10)  # the publisher publishes ledger 10 (closed 1 s ago)
        after = self.scrape()

        def delta(name: str, **labels: str) -> float:
            key = (name, tuple(sorted(labels.items())))
            return after.get(key, 0.0) - before.get(key, 0.0)

        self.assertEqual(
            delta("rpc_method_total_number", method="ledger_range", status="finished"), 1
        )
        self.assertGreater(delta("rpc_method_duration_us", method="ledger"), -1)
        self.assertGreater(
            delta("backend_operations_total_number", operation="read_async", status="completed"), 2
        )
        self.assertGreater(
            delta("backend_duration_milliseconds_histogram_count", operation="read"), 2
        )
        self.assertEqual(
            after[
                (
                    "backend_operations_current_number",
                    (("operation", "read_async"), ("status", "pending")),
                )
            ],
            0,
        )
        self.assertEqual(delta("work_queue_queued_total_number"), 3)  # two POSTs and subscribe
        self.assertEqual(after[("work_queue_current_size", ())], 0)
        self.assertEqual(delta("subscriptions_current_number", stream="transactions"), 1)
        self.assertEqual(
            after[
                (
                    "ledger_cache_counter_total_number",
                    (("fetch", "ledger_objects"), ("type", "request")),
                )
            ],
            2,
        )
        self.assertEqual(
            after[
                (
                    "ledger_cache_counter_total_number",
                    (("fetch", "ledger_objects"), ("type", "cache_hit")),
                )
            ],
            1,
        )
        self.assertEqual(after[("etl_writing", ())], 1)
        self.assertEqual(after[("etl_last_publish_seconds", ())], NOW)
        self.assertEqual(
            after[("subscription_source_last_message_time", (("source", "ws://127.0.0.1:6006"),))],
            NOW - 2,
        )
        ws.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(
            self.scrape()[("subscriptions_current_number", (("stream", "transactions"),))], 0
        )

    def test_server_info_admin_counters(self) -> None:
        """Admin server_info carries Clio's counters: rpc, error totals, work_queue, subscriptions."""
        self.post(b'{"method": "ledger_range"}')
        subscribe_transactions(self.service)
        counters = self.post(b'{"method": "server_info"}')["result"]["info"]["counters"]
        self.assertEqual(counters["rpc"]["ledger_range"]["finished"], "1")
        self.assertEqual(counters["too_busy_errors"], "0")
        self.assertEqual(
            counters["work_queue"],
            {"queued": 3, "queued_duration_us": 0, "current_queue_size": 1, "max_queue_size": 0},
        )
        self.assertEqual(counters["subscriptions"]["transactions"], 1)
        self.assertEqual(
            set(counters),
            {
                "rpc",
                "too_busy_errors",
                "not_ready_errors",
                "bad_syntax_errors",
                "unknown_command_errors",
                "internal_errors",
                "work_queue",
                "subscriptions",
            },
        )

    def test_counters_are_admin_only(self) -> None:
        """A non-admin server_info has no counters."""
        info = self.post(b'{"method": "server_info"}', "203.0.113.9")["result"]["info"]
        self.assertNotIn("counters", info)


def connect_site(service: ClioService, ip: str = "127.0.0.1") -> tuple[Any, Any]:
    class _Server:
        site = service.site

    return connect(_Server, ip)  # type: ignore[arg-type]


def subscribe_transactions(service: ClioService) -> Any:
    channel, transport = connect_site(service)
    channel.dataReceived(HANDSHAKE + b"\r\n")
    protocol = transport.protocol
    protocol.dataReceived(client_frame(b'{"command": "subscribe", "streams": ["transactions"]}'))
    return protocol


class CountersShapeTests(SynchronousTestCase):
    def test_rpc_counters_compared_per_entry(self) -> None:
        """The conformance shape check compares counters.rpc entry by entry, not by method names."""
        from clio_twisted.testing.conformance import shape_differences, skeleton

        entry = {"started": "1", "finished": "1", "duration_us": "3"}
        ours = skeleton({"result": {"info": {"counters": {"rpc": {"ledger": entry}}}}})
        theirs = skeleton({"result": {"info": {"counters": {"rpc": {"server_info": entry}}}}})
        self.assertEqual(shape_differences(ours, theirs), [])
        bad = skeleton({"result": {"info": {"counters": {"rpc": {"tx": {"started": 1}}}}}})
        self.assertEqual(
            shape_differences(bad, theirs),
            [
                "missing result.info.counters.rpc.*.duration_us",
                "missing result.info.counters.rpc.*.finished",
                "type result.info.counters.rpc.*.started: number != string",
            ],
        )
