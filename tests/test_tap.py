"""Options and assembly: build_service on a fake reactor, ordered start, graceful stop."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.config import config_from_dict
from clio_twisted.rpc.context import Context, Handler, JsonDict, NoInput, parse_nothing
from clio_twisted.service import ClioService, sd_notify
from clio_twisted.tap import Options, build_service
from tests.fakes.backend import InMemoryBackend
from tests.web.helpers import connect, parse_response, post_bytes

ROOT = Path(__file__).resolve().parent.parent


class OptionsTests(SynchronousTestCase):
    def test_good_config(self) -> None:
        """--config PATH loads and validates the file."""
        options = Options()
        options.parseOptions(["--config", str(ROOT / "etc" / "demo.json")])
        assert options.clio_config is not None
        self.assertEqual(options.clio_config.server.port, 51233)

    def test_bad_config_is_one_line_and_exit_1(self) -> None:
        """A bad file prints one line naming the key and exits 1 (no usage dump, no traceback)."""
        path = Path(self.mktemp())
        path.write_text('{"dos_guard": {"max_requests": "many"}}')
        err = io.StringIO()
        with self.assertRaises(SystemExit) as caught:
            Options(stderr=err).parseOptions(["-c", str(path)])
        self.assertEqual(caught.exception.code, 1)
        self.assertEqual(
            err.getvalue(),
            f'clio-twisted: config error: dos_guard.max_requests: expected an integer, got "many" (in {path})\n',
        )

    def test_help_documents_config(self) -> None:
        """--help text names the --config option and the default locations."""
        text = str(Options())
        self.assertIn("--config", text)
        self.assertIn("/etc/clio-twisted/config.json", text)


class BuildServiceTests(SynchronousTestCase):
    def build(
        self, raw: dict[str, Any] | None = None
    ) -> tuple[ClioService, MemoryReactorClock, InMemoryBackend]:
        reactor = MemoryReactorClock()
        backend = InMemoryBackend()
        config = config_from_dict(
            raw or {"server": {"ip": "127.0.0.1", "port": 0}, "graceful_period": 5}
        )
        service = build_service(
            config,
            reactor,
            backend_factory=lambda c, r: backend,
            environ={},
            install_log_observer=False,
        )
        return service, reactor, backend

    def test_builds_without_io_and_starts_in_order(self) -> None:
        """Building opens nothing; starting starts the backend, then listens, then is ready."""
        service, reactor, backend = self.build()
        self.assertEqual(reactor.tcpServers, [])
        self.assertFalse(backend.started)
        ready = service.when_ready()
        service.startService()
        self.assertTrue(backend.started)
        self.assertEqual(len(reactor.tcpServers), 1)
        port, _site, _backlog, interface = reactor.tcpServers[0]
        self.assertEqual((port, interface), (0, "127.0.0.1"))
        self.successResultOf(ready)
        self.successResultOf(service.stopService())
        self.assertFalse(backend.started)

    def test_graceful_stop_waits_for_requests_in_flight(self) -> None:
        """Stopping lets a request in flight finish before the backend stops."""
        service, reactor, backend = self.build()
        gate: Deferred[None] = Deferred()

        async def slow(ctx: Context, inp: NoInput) -> JsonDict:
            await gate
            return {"done": True}

        dispatcher = service.site.resource._dispatcher  # type: ignore[attr-defined]
        dispatcher._handlers["slow"] = Handler(
            "slow", parse_nothing, slow, needs_ledger_range=False
        )
        service.startService()
        channel, transport = connect_site(service)
        channel.dataReceived(post_bytes(b'{"method": "slow"}'))
        stopping = service.stopService()
        self.assertNoResult(stopping)
        self.assertTrue(backend.started)
        gate.callback(None)
        self.assertIn(b'"done":true', parse_response(transport.value()).body)
        self.successResultOf(stopping)
        self.assertFalse(backend.started)

    def test_grace_period_bounds_the_wait(self) -> None:
        """A request still running after graceful_period is cancelled and shutdown completes."""
        service, reactor, backend = self.build()
        gate: Deferred[None] = Deferred()

        async def stuck(ctx: Context, inp: NoInput) -> JsonDict:
            await gate
            return {}

        dispatcher = service.site.resource._dispatcher  # type: ignore[attr-defined]
        dispatcher._handlers["stuck"] = Handler(
            "stuck", parse_nothing, stuck, needs_ledger_range=False
        )
        service.startService()
        channel, _ = connect_site(service)
        channel.dataReceived(post_bytes(b'{"method": "stuck"}'))
        stopping = service.stopService()
        reactor.advance(4.9)
        self.assertNoResult(stopping)
        reactor.advance(0.1)
        self.successResultOf(stopping)
        self.assertFalse(backend.started)

    def test_failed_start_reports_and_stops(self) -> None:
        """A backend that cannot start fails when_ready and asks the reactor to stop."""
        service, reactor, backend = self.build()

        async def broken() -> None:
            raise OSError("disk on fire")

        backend.start = broken  # type: ignore[method-assign]
        ready = service.when_ready()
        service.startService()
        self.failureResultOf(ready, OSError)
        self.assertEqual(len(self.flushLoggedErrors(OSError)), 1)
        self.assertEqual(reactor.tcpServers, [])
        reactor.advance(0)
        self.assertTrue(reactor.hasStopped)

    def test_metrics_count_requests_and_are_admin_only(self) -> None:
        """Requests are counted under Clio's metric names; /metrics answers admin only."""
        service, reactor, backend = self.build()
        service.startService()
        for body in (
            b'{"method": "ping"}',
            b'{"method": "no_such"}',
            b'{"method": "ledger_range"}',
        ):
            channel, transport = connect_site(service)
            channel.dataReceived(post_bytes(body))
        channel, transport = connect_site(service)
        channel.dataReceived(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        text = parse_response(transport.value()).body.decode()
        self.assertIn('rpc_method_total_number{method="ping",status="finished"} 1.0', text)
        self.assertIn('rpc_error_total_number{error_type="not_ready"} 2.0', text)
        self.assertNotIn("no_such", text)
        channel, transport = connect_site(service, "203.0.113.9")
        channel.dataReceived(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(parse_response(transport.value()).status, 401)
        self.successResultOf(service.stopService())

    def test_status_page_for_admin_browser(self) -> None:
        """A browser GET of / from an admin gets the status page; JSON-RPC still needs POST."""
        service, reactor, backend = self.build()
        service.startService()
        channel, transport = connect_site(service)
        channel.dataReceived(b"GET /?format=json HTTP/1.1\r\nHost: x\r\n\r\n")
        response = parse_response(transport.value())
        self.assertEqual(response.status, 200)
        self.assertIn(b'"ledger_range":null', response.body)
        channel, transport = connect_site(service)
        channel.dataReceived(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(parse_response(transport.value()).body, b"Expected a POST request")
        self.successResultOf(service.stopService())

    def test_stop_closes_forwarding_connections(self) -> None:
        """Stopping closes the forwarder's pooled rippled connections, open or still connecting."""
        service, reactor, backend = self.build()
        service.startService()
        forwarder = service.on_stop[0].__self__  # type: ignore[attr-defined]
        headers = {"Forwarded": "for=127.0.0.1", "X-User": "clio_user"}
        forwarder._open(("127.0.0.1", 6006, "for=127.0.0.1", "clio_user"), headers)
        forwarder._open(("127.0.0.1", 6007, "for=127.0.0.1", "clio_user"), headers)
        transports = []
        for _host, _port, factory, _timeout, _bind in reactor.tcpClients:
            protocol = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", _port))
            transports.append(_LenientTransport())
            if _port == 6006:  # connected before the stop; 6007 connects after it
                protocol.makeConnection(transports[-1])
        self.assertEqual(len(forwarder._pool), 2)
        self.successResultOf(service.stopService())
        self.assertEqual(forwarder._pool, {})
        self.assertTrue(transports[0].disconnecting)
        late = reactor.tcpClients[1][2].buildProtocol(IPv4Address("TCP", "127.0.0.1", 6007))
        late.makeConnection(transports[1])
        self.assertTrue(transports[1].disconnecting)

    def test_commit_drops_hot_answers_at_once(self) -> None:
        """The hot answers listen to the API side's range: a commit drops them with no clock tick."""
        service, _reactor, _backend = self.build()
        hot = service.listen_factory.hot  # type: ignore[union-attr]
        self.assertIs(service.ws_factory.hot, hot)
        before = hot.generation
        service.backend.on_committed(7)  # type: ignore[attr-defined]
        self.assertGreater(hot.generation, before)

    def test_front_limits_and_cache_sizes_from_config(self) -> None:
        """server.* limits reach the HTTP front; cache.* sizes size (or turn off) the answer caches."""
        service, _reactor, _backend = self.build(
            {
                "server": {
                    "ip": "127.0.0.1",
                    "port": 0,
                    "max_header_size": 2048,
                    "idle_timeout": 5,
                },
                "cache": {"hot_answers_max_size": 12345, "versions_max_size": 0},
            }
        )
        fast = service.listen_factory
        self.assertEqual(fast.limits.max_header_bytes, 2048)  # type: ignore[union-attr]
        self.assertEqual(fast.limits.idle_timeout, 5.0)  # type: ignore[union-attr]
        self.assertEqual(fast.hot.max_bytes, 12345)  # type: ignore[union-attr]
        dispatcher = fast.dispatcher  # type: ignore[union-attr]
        self.assertIs(dispatcher.backend, service.backend)  # no ImmutableReads in between
        service, _reactor, _backend = self.build(
            {"server": {"ip": "127.0.0.1", "port": 0}, "cache": {"hot_answers_max_size": 0}}
        )
        self.assertIsNone(service.listen_factory.hot)  # type: ignore[union-attr]
        self.assertIsNone(service.ws_factory.hot)  # type: ignore[union-attr]
        backend = service.listen_factory.dispatcher.backend  # type: ignore[union-attr]
        self.assertEqual(backend.max_bytes, 32 << 20)

    def test_sd_notify_without_socket(self) -> None:
        """sd_notify does nothing (False) when NOTIFY_SOCKET is unset."""
        self.assertFalse(sd_notify(b"READY=1", {}))


class _LenientTransport(StringTransport):
    """A TCP connection as Autobahn sees it (it unregisters a producer it never registered)."""

    def unregisterProducer(self) -> None:
        self.producer = None


def connect_site(service: ClioService, ip: str = "127.0.0.1") -> tuple[Any, Any]:
    class _Server:
        site = service.site

    return connect(_Server, ip)  # type: ignore[arg-type]


class EtlInfoTests(SynchronousTestCase):
    def info(self, is_admin: bool, blocked: bool) -> JsonDict:
        from twisted.internet.task import Clock

        from clio_twisted.etl.status import EtlStatus
        from clio_twisted.tap import _EtlInfo

        etl = type("Etl", (), {"status": EtlStatus(is_writer=True, amendment_blocked=blocked)})()
        ctx = Context(backend=InMemoryBackend(), clock=Clock(), is_admin=is_admin)
        result: JsonDict = self.successResultOf(
            Deferred.fromCoroutine(_EtlInfo(etl).server_info(ctx))
        )
        return result

    def test_amendment_blocked_for_everyone_etl_for_admin(self) -> None:
        """As Clio: amendment_blocked at info level for any client; the etl section for admin only."""
        self.assertEqual(self.info(is_admin=False, blocked=True), {"amendment_blocked": True})
        self.assertEqual(self.info(is_admin=False, blocked=False), {})
        admin = self.info(is_admin=True, blocked=True)
        self.assertIs(admin["amendment_blocked"], True)
        self.assertEqual(admin["etl"]["is_writer"], 1)
        self.assertNotIn("amendment_blocked", admin["etl"])
