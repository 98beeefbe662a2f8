"""The DOS guard on its own and as the HTTP side applies it (slowDown, 429, load warning)."""

from __future__ import annotations

import orjson

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.config import DosGuardConfig
from clio_twisted.web.dosguard import DosGuard, charge_response
from tests.rpc.helpers import NOW, store_ledgers
from tests.web.helpers import HANDSHAKE, connect, make_server, parse_response, post

IP = "198.51.100.7"


class DosGuardTests(SynchronousTestCase):
    def make(self, **kwargs: object) -> tuple[DosGuard, Clock]:
        clock = Clock()
        return DosGuard(DosGuardConfig(**kwargs), clock), clock  # type: ignore[arg-type]

    def test_requests_over_budget_until_sweep(self) -> None:
        """The request after max_requests is refused; the sweep on the clock clears the count."""
        guard, clock = self.make(max_requests=3, sweep_interval=2.0)
        guard.start()
        self.assertEqual([guard.request(IP) for _ in range(4)], [True, True, True, False])
        clock.advance(1.9)
        self.assertFalse(guard.request(IP))
        clock.advance(0.1)
        self.assertTrue(guard.request(IP))
        guard.stop()
        self.assertEqual(clock.getDelayedCalls(), [])

    def test_bytes_over_budget(self) -> None:
        """Bytes beyond max_fetches make add() report over budget; other IPs are unaffected."""
        guard, _ = self.make(max_fetches=100)
        self.assertTrue(guard.add(IP, 100))
        self.assertFalse(guard.add(IP, 1))
        self.assertTrue(guard.is_ok("198.51.100.8"))

    def test_connections_persist_across_sweeps(self) -> None:
        """Connections above max_connections fail is_ok, survive sweeps, and recover on close."""
        guard, _ = self.make(max_connections=2)
        for _ in range(3):
            guard.increment(IP)
        self.assertFalse(guard.is_ok(IP))
        guard.clear()
        self.assertFalse(guard.is_ok(IP))
        guard.decrement(IP)
        self.assertTrue(guard.is_ok(IP))

    def test_whitelist_ips_and_cidrs(self) -> None:
        """Whitelisted IPs and networks (v4, v6, v4-mapped) skip every check."""
        guard, _ = self.make(max_requests=0, whitelist=("10.0.0.0/8", "2001:db8::/32", "127.0.0.1"))
        for ip in ("10.1.2.3", "2001:db8::5", "::ffff:10.0.0.1", "127.0.0.1"):
            self.assertTrue(guard.request(ip), ip)
        self.assertFalse(guard.request("11.0.0.1"))

    def test_load_warning_added_over_budget(self) -> None:
        """An answer that crosses the byte budget still goes out, with warning 'load' and 2003 appended."""
        guard, _ = self.make(max_fetches=10)
        body = {"result": {"status": "success"}, "warnings": [{"id": 2001, "message": "m"}]}
        data = orjson.loads(charge_response(guard, IP, body))
        self.assertEqual(data["warning"], "load")
        self.assertEqual(
            data["warnings"],
            [
                {"id": 2001, "message": "m"},
                {"id": 2003, "message": "You are about to be rate limited"},
            ],
        )


class HttpDosTests(SynchronousTestCase):
    def test_post_over_budget_is_503_slow_down(self) -> None:
        """The POST after max_requests is 503 with a slowDown JSON body."""
        server = make_server({"dos_guard": {"max_requests": 1}})
        self.assertEqual(post(server, b'{"method": "ping"}', ip=IP).status, 200)
        response = post(server, b'{"method": "ping"}', ip=IP)
        self.assertEqual(response.status, 503)
        self.assertEqual(
            orjson.loads(response.body),
            {
                "error": "slowDown",
                "error_code": 10,
                "error_message": "You are placing too much load on the server.",
                "status": "error",
                "type": "response",
            },
        )

    def test_http_answer_gets_load_warning(self) -> None:
        """An HTTP answer crossing max_fetches carries 'warning': 'load' and warning 2003."""
        server = make_server({"dos_guard": {"max_fetches": 100}})
        store_ledgers(server.backend, 3, 4, NOW - 1)
        body = orjson.loads(post(server, b'{"method": "ping"}', ip=IP).body)
        self.assertEqual(body["warning"], "load")
        self.assertEqual(body["warnings"][-1]["id"], 2003)

    def test_websocket_upgrade_refused_with_429(self) -> None:
        """A WebSocket upgrade from an IP over its connection budget is 429 'Too many requests'."""
        server = make_server({"dos_guard": {"max_connections": 1}})
        connect(server, ip=IP)  # one open HTTP connection
        channel, transport = connect(server, ip=IP)  # the second one asks to upgrade
        channel.dataReceived(HANDSHAKE + b"\r\n")
        response = parse_response(transport.value())
        self.assertEqual((response.status, response.body), (429, b"Too many requests"))

    def test_http_connections_counted(self) -> None:
        """Each open HTTP connection counts for its IP until it is lost."""
        server = make_server()
        channel, _ = connect(server, ip=IP)
        self.assertEqual(server.guard.connections(IP), 1)
        channel.connectionLost(None)
        self.assertEqual(server.guard.connections(IP), 0)
