"""The demo's path end to end: a live-forging fake rippled, the whole server (build_service), a subscriber.

Forged ledgers used to carry 2013 close times, so the server (rightly) published
none of them; forging live stamps them with the wall clock. Real sockets on
127.0.0.1, ephemeral ports, a SQLite file; bounded to a few seconds.
"""

from __future__ import annotations

import os
from typing import Any

from twisted.internet import reactor as _reactor
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.internet.task import deferLater
from twisted.trial.unittest import TestCase

from clio_twisted.config import config_from_dict
from clio_twisted.tap import build_service
from clio_twisted.testing.fake_rippled import RippledFactory, build_server, make_parser
from tests.integration.test_streams import connect, wait_for

reactor: Any = _reactor


class LiveDemoTests(TestCase):
    timeout = 60

    def test_live_forge_publishes_transactions(self) -> Deferred[None]:
        """A transactions subscriber of the whole server receives the forged ledgers' transactions."""

        async def go() -> None:
            # runs last: Autobahn's close timers (1 s buckets) of the closed connections run out
            self.addCleanup(deferLater, reactor, 1.2, lambda: None)
            args = make_parser().parse_args(["--forge", "50", "--interval", "0.3", "--seed", "1"])
            fake = build_server(args, reactor)
            rippled = reactor.listenTCP(0, RippledFactory(fake), interface="127.0.0.1")
            self.addCleanup(rippled.stopListening)
            self.addCleanup(fake.stop)
            directory = self.mktemp()
            os.makedirs(directory)
            config = config_from_dict(
                {
                    "database": {
                        "type": "sqlite",
                        "sqlite": {"path": os.path.join(directory, "demo.sqlite3")},
                    },
                    "etl_sources": [{"ip": "127.0.0.1", "ws_port": str(rippled.getHost().port)}],
                    "server": {"ip": "127.0.0.1", "port": 0},
                }
            )
            endpoint = TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1")
            service = build_service(
                config, reactor, environ={}, install_log_observer=False, endpoint=endpoint
            )
            service.startService()
            self.addCleanup(service.stopService)
            await service.when_ready()
            assert service.port is not None
            port = service.port.getHost().port
            fake.start(0.3)
            client = await connect(port)
            self.addCleanup(client.dropConnection, True)

            async def subscribed() -> bool:
                answer = await client.ask(
                    {"command": "subscribe", "streams": ["transactions"], "id": 1}
                )
                return bool(answer.get("status") == "success")

            # notReady until the initial load is in: ask again until it is
            for _ in range(100):
                if await subscribed():
                    break
                await deferLater(reactor, 0.1, lambda: None)
            await wait_for(
                lambda: sum(m.get("type") == "transaction" for m in client.messages) >= 20,
                30,
                "a forged ledger's transactions",
            )
            txs = [m for m in client.messages if m.get("type") == "transaction"]
            self.assertTrue(all(m["validated"] for m in txs))
            self.assertGreater(min(m["ledger_index"] for m in txs), 38129)

        return Deferred.fromCoroutine(go())
