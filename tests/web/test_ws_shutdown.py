"""Graceful shutdown with WebSocket clients connected: each gets a close frame Autobahn accepts."""

from __future__ import annotations

import struct
from typing import Any

from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.config import config_from_dict
from clio_twisted.tap import build_service
from tests.fakes.backend import InMemoryBackend
from tests.web.helpers import HANDSHAKE, connect, server_frames

CLOSE = 8


class WebSocketShutdownTests(SynchronousTestCase):
    def test_stop_closes_every_session_with_1000(self) -> None:
        """stopService sends each open WebSocket a close frame 1000 with a reason, and completes."""
        reactor = MemoryReactorClock()
        backend = InMemoryBackend()
        config = config_from_dict({"server": {"ip": "127.0.0.1", "port": 0}})
        service = build_service(
            config,
            reactor,
            backend_factory=lambda c, r: backend,
            environ={},
            install_log_observer=False,
        )
        service.startService()

        class _Server:
            site = service.site

        clients: list[Any] = []
        for n in range(3):
            channel, transport = connect(_Server, port=40000 + n)  # type: ignore[arg-type]
            channel.dataReceived(HANDSHAKE + b"\r\n")
            self.assertTrue(transport.value().startswith(b"HTTP/1.1 101 "))
            transport.clear()
            clients.append(transport)
        self.assertEqual(len(service.ws_factory.sessions), 3)
        self.successResultOf(service.stopService())
        for transport in clients:
            frames = server_frames(transport.value())
            self.assertEqual([op for op, _ in frames], [CLOSE])
            payload = frames[0][1]
            self.assertEqual(struct.unpack("!H", payload[:2])[0], 1000)
            self.assertEqual(payload[2:], b"server shutting down")
        self.assertEqual(self.flushLoggedErrors(), [])
        self.assertFalse(backend.started)
