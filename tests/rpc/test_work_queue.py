"""server.max_queue_size: requests over the bound get tooBusy (HTTP 503, WS error), whitelisted clients pass."""

from __future__ import annotations

import orjson
from attrs import evolve

from twisted.internet.defer import Deferred
from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.metrics import Metrics
from clio_twisted.rpc.context import Context, Handler, JsonDict, NoInput, parse_nothing
from clio_twisted.rpc.dispatch import Caller
from clio_twisted.rpc.work_queue import WorkQueue
from tests.rpc.helpers import NOW, store_ledgers
from tests.web.helpers import connect, make_server, parse_response, post, post_bytes, ws_connect

TOO_BUSY = {
    "error": "tooBusy",
    "error_code": 9,
    "error_message": "The server is too busy to help you now.",
    "status": "error",
    "type": "response",
}


class WorkQueueTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.server = make_server({"dos_guard": {"whitelist": ["192.0.2.7"]}})
        store_ledgers(self.server.backend, 3, 10, NOW - 1)
        self.metrics = Metrics(self.server.clock)
        self.queue = WorkQueue(
            1, self.server.clock, self.metrics, is_whitelisted=self.server.guard.is_whitelisted
        )
        self.server.dispatcher.work_queue = self.queue
        self.gate: Deferred[None] = Deferred()

        async def slow(ctx: Context, inp: NoInput) -> JsonDict:
            await self.gate
            return {"done": True}

        self.server.dispatcher._handlers["slow"] = Handler(
            "slow", parse_nothing, slow, needs_ledger_range=False
        )

    def hold_one(self) -> tuple[object, object]:
        """Start one slow request over HTTP; it stays in the queue until the gate opens."""
        channel, transport = connect(self.server, "198.51.100.1")
        channel.dataReceived(post_bytes(b'{"method": "slow"}'))
        self.assertEqual(self.queue.size, 1)
        return channel, transport

    def test_http_over_the_bound_is_503_too_busy(self) -> None:
        """With one request in flight and max_queue_size 1, the next POST is answered 503 tooBusy."""
        _, held = self.hold_one()
        answer = post(self.server, b'{"method": "ping"}', ip="198.51.100.2")
        self.assertEqual(answer.status, 503)
        self.assertEqual(orjson.loads(answer.body), TOO_BUSY)
        self.gate.callback(None)
        self.assertIn(b'"done":true', parse_response(held.value()).body)  # type: ignore[attr-defined]
        self.assertEqual(self.queue.size, 0)
        self.assertEqual(post(self.server, b'{"method": "ping"}', ip="198.51.100.2").status, 200)

    def test_ws_over_the_bound_is_an_error_message(self) -> None:
        """Over WebSocket the refusal is a tooBusy error frame echoing the id; the connection stays open."""
        self.hold_one()
        client = ws_connect(self.server, ip="198.51.100.3")
        reply = orjson.loads(client.send_text(b'{"command": "ping", "id": 4}')[0])
        self.assertEqual((reply["error"], reply["status"], reply["id"]), ("tooBusy", "error", 4))
        self.gate.callback(None)
        reply = orjson.loads(client.send_text(b'{"command": "ping", "id": 5}')[0])
        self.assertEqual((reply["status"], reply["id"]), ("success", 5))

    def test_whitelisted_client_skips_the_bound(self) -> None:
        """A whitelisted IP is admitted over the bound (and counted in the queue)."""
        self.hold_one()
        self.assertEqual(post(self.server, b'{"method": "ping"}', ip="192.0.2.7").status, 200)
        self.assertEqual(self.queue.queued, 2)

    def test_zero_is_unlimited(self) -> None:
        """max_queue_size 0 admits everything."""
        self.queue.max_size = 0
        self.hold_one()
        self.assertEqual(post(self.server, b'{"method": "ping"}', ip="198.51.100.2").status, 200)

    def test_counters(self) -> None:
        """queued/duration/size feed the metrics and the report; refusals count as too_busy errors."""
        self.server.dispatcher._base = evolve(
            self.server.dispatcher.base_context, counters=self.metrics
        )
        self.hold_one()
        post(self.server, b'{"method": "ping"}', ip="198.51.100.2")
        self.server.clock.advance(0.25)
        self.gate.callback(None)
        self.assertEqual(
            self.queue.report(),
            {
                "queued": 1,
                "queued_duration_us": 250_000,
                "current_queue_size": 0,
                "max_queue_size": 1,
            },
        )
        self.assertEqual(self.metrics.errors_by_type, {"too_busy": 1})
        self.assertEqual(self.metrics.work_queued_total, 1)
        self.assertEqual(self.metrics.work_queued_duration_us, 250_000)

    def test_cancelled_request_leaves_the_queue(self) -> None:
        """A request cancelled in flight (client gone, shutdown) frees its place."""
        d = Deferred.fromCoroutine(
            self.server.dispatcher.execute("slow", {}, 1, Caller(ip="198.51.100.9", is_admin=False))
        )
        self.assertEqual(self.queue.size, 1)
        d.cancel()
        self.failureResultOf(d)
        self.assertEqual(self.queue.size, 0)
