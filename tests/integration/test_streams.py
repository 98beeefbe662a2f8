"""Streams and forwarding end to end, over real sockets on 127.0.0.1.

The fake rippled replays the ledgers recorded from a real rippled 3.1.1; our
ETL follows it into a real SQLite file; WebSocket clients (Autobahn, and
xrpl-py's ``AsyncWebsocketClient`` on its own asyncio loop) subscribe to our
server. Every message they receive must be the one rippled itself sent on its
streams for those ledgers (``tests/feeds/data``), in order, exactly once.
Each test bounds its own time.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from collections.abc import Callable
from typing import Any

from attrs import evolve

from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol
from twisted.internet import reactor as _reactor
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.task import deferLater
from twisted.internet.threads import deferToThread
from twisted.trial.unittest import TestCase

from clio_twisted.backend.sqlite import SqliteBackend
from clio_twisted.config import ClioConfig, DosGuardConfig
from clio_twisted.etl.follower import EtlSettings
from clio_twisted.etl.service import EtlService
from clio_twisted.rpc.context import Context
from clio_twisted.rpc.dispatch import Dispatcher
from clio_twisted.rpc.handlers import load_handlers
from clio_twisted.tap import Feeds, wire_feeds
from clio_twisted.testing.fake_rippled import FakeRippled, RippledFactory, replay_server
from clio_twisted.web.admin import AdminPolicy
from clio_twisted.web.dosguard import DosGuard
from clio_twisted.web.inflight import InFlight
from clio_twisted.web.websocket import ClioWebSocketFactory
from tests.feeds.recorded import recorded_stream

reactor: Any = _reactor
START = 27  # the recorded clients subscribed while 27 was the newest ledger
LAST = 110  # ledgers 28..LAST are published during the test
INTERVAL = 0.01


async def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = reactor.seconds() + timeout
    while not predicate():
        if reactor.seconds() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await deferLater(reactor, 0.01, lambda: None)


class Client(WebSocketClientProtocol):
    """Keeps every message; answers are paired with requests by ``id``."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[dict[str, Any]] = []
        self.opened: Deferred[None] = Deferred()
        self.closed: Deferred[None] = Deferred()
        self._answers: dict[Any, Deferred[dict[str, Any]]] = {}

    def onOpen(self) -> None:  # noqa: N802
        self.opened.callback(None)

    def onMessage(self, payload: bytes, isBinary: bool) -> None:  # noqa: N802, N803
        message = json.loads(payload)
        d = (
            self._answers.pop(message.get("id"), None)
            if message.get("type") == "response"
            else None
        )
        if d is not None:
            d.callback(message)
        else:
            self.messages.append(message)

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:  # noqa: N802, N803
        if not self.closed.called:
            self.closed.callback(None)

    def ask(self, request: dict[str, Any]) -> Deferred[dict[str, Any]]:
        d: Deferred[dict[str, Any]] = Deferred()
        self._answers[request["id"]] = d
        self.sendMessage(json.dumps(request).encode())
        return d


async def connect(port: int) -> Client:
    factory = WebSocketClientFactory(f"ws://127.0.0.1:{port}")
    factory.protocol = Client
    factory.setProtocolOptions(maxFramePayloadSize=0, maxMessagePayloadSize=0)
    client: Client = await TCP4ClientEndpoint(reactor, "127.0.0.1", port).connect(factory)
    await client.opened
    return client


def no_range(message: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if k != "validated_ledgers"}


def upto(messages: list[dict[str, Any]], last: int) -> list[dict[str, Any]]:
    return [
        m
        for m in messages
        if m.get("type") not in (None, "response") and m.get("ledger_index", 0) <= last
    ]


class StreamsEndToEndTests(TestCase):
    timeout = 60

    def rippled(self, start: int = START) -> tuple[FakeRippled, int]:
        fake = replay_server(reactor, start=start)
        listening = reactor.listenTCP(0, RippledFactory(fake), interface="127.0.0.1")
        self.addCleanup(fake.stop)
        self.addCleanup(listening.stopListening)
        return fake, listening.getHost().port

    async def server(
        self, rippled_ports: list[int], queue_size: int = 80_000, request_timeout: float = 5.0
    ) -> tuple[int, Feeds, EtlService]:
        directory = tempfile.mkdtemp()
        backend = SqliteBackend(reactor, os.path.join(directory, "clio.db"))
        await backend.start()
        etl = EtlService(
            [("127.0.0.1", p) for p in rippled_ports],
            backend,
            reactor,
            EtlSettings(),
            request_timeout=5,
        )
        config = ClioConfig()
        feeds = wire_feeds(config, backend, reactor, etl, max_age=float("inf"))
        feeds.forwarder.request_timeout = request_timeout
        base = Context(
            backend=backend,
            clock=reactor,
            config=config,
            etl=etl,
            subscriptions=feeds.manager,
            forwarder=feeds.forwarder,
        )
        factory = ClioWebSocketFactory(
            Dispatcher(load_handlers(), base),
            DosGuard(config.dos_guard, reactor),
            AdminPolicy(config.server),
            InFlight(),
            reactor,
            subscriptions=feeds.manager,
            max_sending_queue_size=queue_size,
        )
        listening = reactor.listenTCP(0, factory, interface="127.0.0.1")
        etl.startService()

        async def stop() -> None:
            try:
                for session in list(factory.sessions):
                    session.dropConnection(abort=True)
                feeds.forwarder.close_all()
                await listening.stopListening()
                await etl.stopService()
                publisher = feeds.publisher
                if publisher is not None:
                    await wait_for(publisher.idle, 10, "the publisher to finish")
            finally:
                await backend.stop()
            # Autobahn's close timers (1 s buckets) of the dropped connections run out
            await deferLater(reactor, 1.2, lambda: None)

        self.addCleanup(lambda: Deferred.fromCoroutine(stop()))
        return listening.getHost().port, feeds, etl

    async def first_ledger(self, feeds: Feeds) -> None:
        publisher = feeds.publisher
        assert publisher is not None
        await wait_for(lambda: publisher.last_published == START, 20, "the first ledger")

    async def follow(self, fake: FakeRippled, feeds: Feeds, last: int) -> None:
        """Let the fake validate ledgers up to ``last`` and wait until each is published."""
        publisher = feeds.publisher
        assert publisher is not None
        fake.start(INTERVAL)
        await wait_for(lambda: (fake.chain.last or 0) >= last, 30, f"rippled reaching {last}")
        fake.stop()
        await wait_for(lambda: (publisher.last_published or 0) >= last, 30, f"publishing {last}")

    def test_every_stream_every_ledger_once_in_order(self) -> Deferred[None]:
        """Subscribers of every stream get exactly what rippled sent for each ledger, v1 and v2."""

        async def go() -> None:
            fake, rport = self.rippled()
            port, feeds, etl = await self.server([rport])
            publisher = feeds.publisher
            assert publisher is not None
            await wait_for(lambda: publisher.last_published == START, 20, "the first ledger")
            clients: dict[str, Client] = {}
            answers: dict[str, dict[str, Any]] = {}
            for name in (
                "ledger",
                "transactions",
                "transactions_v2",
                "accounts",
                "accounts_v2",
                "book_changes",
                "books",
            ):
                sent, _ = recorded_stream(name)
                clients[name] = await connect(port)
                answers[name] = await clients[name].ask(sent)
            everything = await connect(port)
            both = await everything.ask(
                {
                    "id": 1,
                    "command": "subscribe",
                    "streams": ["ledger", "transactions", "book_changes", "transactions_proposed"],
                }
            )
            self.assertEqual(both["status"], "success")
            await self.follow(fake, feeds, LAST)
            wanted = {name: upto(recorded_stream(name)[1][1:], LAST) for name in clients}
            await wait_for(
                lambda: all(len(c.messages) >= len(wanted[n]) for n, c in clients.items()),
                20,
                "every message delivered",
            )
            await deferLater(reactor, 0.1, lambda: None)  # nothing more arrives
            for name, client in clients.items():
                _, recorded = recorded_stream(name)
                self.assertEqual(answers[name]["status"], "success", name)
                if name == "books":
                    self.assertEqual(answers[name]["result"], recorded[0]["result"])
                expected = [no_range(m) for m in upto(recorded[1:], LAST)]
                got = [no_range(m) for m in upto(client.messages, LAST)]
                self.assertTrue(expected, name)
                self.assertEqual(len(got), len(expected), name)
                self.assertEqual(got, expected, name)
            # one connection on transactions and transactions_proposed gets each transaction twice,
            # as rippled sends it; ledgers and book changes once, in ledger order
            kinds = [m["type"] for m in upto(everything.messages, LAST)]
            _, txs = recorded_stream("transactions")
            self.assertEqual(kinds.count("ledgerClosed"), LAST - START)
            self.assertEqual(kinds.count("bookChanges"), LAST - START)
            self.assertEqual(kinds.count("transaction"), 2 * len(upto(txs[1:], LAST)))
            ledgers = [m["ledger_index"] for m in everything.messages]
            self.assertEqual(ledgers, sorted(ledgers))
            for client in [*clients.values(), everything]:
                client.sendClose()

        return Deferred.fromCoroutine(go())

    def test_xrpl_py_subscribe_receives_ledgers_and_transactions(self) -> Deferred[None]:
        """xrpl-py's AsyncWebsocketClient with its Subscribe model reads our streams unchanged."""

        async def go() -> None:
            fake, rport = self.rippled()
            port, feeds, _etl = await self.server([rport])
            publisher = feeds.publisher
            assert publisher is not None
            await wait_for(lambda: publisher.last_published == START, 20, "the first ledger")
            subscribed: list[bool] = []

            def run_client() -> list[dict[str, Any]]:
                from xrpl.asyncio.clients import AsyncWebsocketClient
                from xrpl.models.requests import StreamParameter, Subscribe

                async def main() -> list[dict[str, Any]]:
                    got: list[dict[str, Any]] = []
                    async with AsyncWebsocketClient(f"ws://127.0.0.1:{port}") as client:
                        answer = await client.request(
                            Subscribe(
                                streams=[StreamParameter.LEDGER, StreamParameter.TRANSACTIONS]
                            )
                        )
                        assert answer.is_successful(), answer
                        subscribed.append(True)
                        async for message in client:
                            if "result" in message:  # an answer, not a stream message
                                continue
                            got.append(message)
                            if message.get("type") == "ledgerClosed" and (
                                message["ledger_index"] >= START + 10
                            ):
                                break
                    return got

                return asyncio.run(asyncio.wait_for(main(), 30))

            received = deferToThread(run_client)
            await wait_for(lambda: bool(subscribed), 20, "xrpl-py subscribing")
            fake.start(INTERVAL)
            got: list[dict[str, Any]] = await received
            fake.stop()
            _, ledgers = recorded_stream("ledger")
            _, txs = recorded_stream("transactions_v2")  # xrpl-py asks for api_version 2
            last = START + 10
            # the client stops at ledger 37's ledgerClosed, which comes before that ledger's transactions
            expected = sorted(
                upto(ledgers[1:], last) + upto(txs[1:], last - 1),
                key=lambda m: (m["ledger_index"], m["type"] != "ledgerClosed"),
            )
            self.assertEqual([no_range(m) for m in got], [no_range(m) for m in expected])

        return Deferred.fromCoroutine(go())

    def test_relayed_streams_from_one_source(self) -> Deferred[None]:
        """Validations, manifests and proposed transactions are relayed once, from one source of two."""

        async def go() -> None:
            a, aport = self.rippled()
            b, bport = self.rippled()
            port, feeds, etl = await self.server([aport, bport])
            await self.first_ledger(feeds)
            await wait_for(lambda: all(s.healthy for s in etl.sources), 20, "both sources")
            client = await connect(port)
            await client.ask(
                {
                    "id": "s",
                    "command": "subscribe",
                    "streams": ["validations", "manifests", "transactions_proposed"],
                }
            )
            validation = {"type": "validationReceived", "ledger_index": "28", "flags": 1}
            manifest = {"type": "manifestReceived", "master_key": "nHU", "seq": 1}
            proposed = {
                "type": "transaction",
                "status": "proposed",
                "validated": False,
                "transaction": {"Account": "rKRund6F5oRxLkwLkHx49EN1X42yyAH4gq"},
            }
            for fake in (a, b):
                fake.publish("validations", validation)
                fake.publish("manifests", manifest)
                fake.publish("transactions_proposed", proposed)
            await wait_for(lambda: len(client.messages) >= 3, 10, "relayed messages")
            await deferLater(reactor, 0.2, lambda: None)
            self.assertEqual(client.messages, [validation, manifest, proposed])
            client.sendClose()

        return Deferred.fromCoroutine(go())

    def test_forwarded_commands_with_headers_and_failover(self) -> Deferred[None]:
        """fee, server_state, submit and ledger_current go to rippled with Forwarded/X-User; a dead source is skipped."""

        async def go() -> None:
            fake, rport = self.rippled()
            dead = reactor.listenTCP(
                0, RippledFactory(replay_server(reactor)), interface="127.0.0.1"
            )
            dead_port = dead.getHost().port
            await dead.stopListening()  # nothing listens there any more
            port, feeds, etl = await self.server([rport, dead_port])
            await self.first_ledger(feeds)
            client = await connect(port)
            for i, request in enumerate(
                [
                    {"command": "fee"},
                    {"command": "server_state"},
                    {"command": "ledger_current"},
                    {
                        "command": "account_info",
                        "account": "rKRund6F5oRxLkwLkHx49EN1X42yyAH4gq",
                        "ledger_index": "current",
                    },
                    {"command": "submit", "tx_blob": "00"},
                ]
            ):
                answer = await client.ask({"id": i, **request})
                self.assertTrue(answer.get("forwarded"), answer)
                self.assertEqual(answer["id"], i)
                self.assertEqual(answer["type"], "response")
            handshake = fake.handshakes[-1]
            self.assertEqual(handshake.get("x-user"), "clio_admin")  # 127.0.0.1 is admin by default
            self.assertEqual(handshake.get("forwarded"), "for=127.0.0.1")
            # the forwarder reuses its connection: one per source and header set
            self.assertEqual(feeds.forwarder.connections_opened, 1)
            refused = await client.ask({"id": "x", "command": "owner_info", "account": "r"})
            self.assertEqual(refused["error"], "unknownCmd")
            client.sendClose()

        return Deferred.fromCoroutine(go())

    def test_stalled_rippled_is_a_timeout(self) -> Deferred[None]:
        """A rippled that stops answering costs one deadline, then Clio's timeout error (7002)."""

        async def go() -> None:
            fake, rport = self.rippled()
            port, feeds, etl = await self.server([rport], request_timeout=0.3)
            await self.first_ledger(feeds)
            client = await connect(port)
            fake.stall()
            started = reactor.seconds()
            answer = await client.ask({"id": 1, "command": "fee"})
            self.assertEqual((answer["error"], answer["error_code"]), ("timeout", 7002))
            self.assertLess(reactor.seconds() - started, 2.0)
            fake.resume()
            client.sendClose()

        return Deferred.fromCoroutine(go())


def rss_kib() -> int:
    """This process's resident memory (Linux)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class LedgerCounter(WebSocketClientProtocol):
    """A light subscriber: counts ledgerClosed messages and keeps their sequences."""

    def __init__(self) -> None:
        super().__init__()
        self.sequences: list[int] = []
        self.opened: Deferred[None] = Deferred()
        self.closed: Deferred[None] = Deferred()
        self.answered: Deferred[None] = Deferred()

    def onOpen(self) -> None:  # noqa: N802
        self.opened.callback(None)

    def onMessage(self, payload: bytes, isBinary: bool) -> None:  # noqa: N802, N803
        message = json.loads(payload)
        if message.get("type") == "ledgerClosed":
            self.sequences.append(message["ledger_index"])
        elif message.get("type") == "response" and not self.answered.called:
            self.answered.callback(None)

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:  # noqa: N802, N803
        if not self.closed.called:
            self.closed.callback(None)


class LoadTests(TestCase):
    """1,000 subscribers on loopback, plus one that stops reading."""

    timeout = 120
    SUBSCRIBERS = 1000
    LEDGERS = 40
    QUEUE_BOUND = 50

    def test_thousand_subscribers_and_one_slow(self) -> None:
        """Every subscriber gets every ledger in order; the slow one is cut at the bound; memory is flat."""
        import socket

        from clio_twisted.feeds.manager import SubscriptionManager
        from clio_twisted.feeds.publisher import Publisher
        from tests.rpc.corpus import corpus_backend

        async def go() -> None:
            backend = corpus_backend()
            manager = SubscriptionManager()
            # loopback is whitelisted: a thousand clients from one IP are the point here
            config = evolve(ClioConfig(), dos_guard=DosGuardConfig(whitelist=("127.0.0.1",)))
            base = Context(backend=backend, clock=reactor, config=config, subscriptions=manager)
            factory = ClioWebSocketFactory(
                Dispatcher(load_handlers(), base),
                DosGuard(config.dos_guard, reactor),
                AdminPolicy(config.server),
                InFlight(),
                reactor,
                subscriptions=manager,
                max_sending_queue_size=self.QUEUE_BOUND,
            )
            listening = reactor.listenTCP(0, factory, interface="127.0.0.1", backlog=1024)
            port = listening.getHost().port
            clients: list[LedgerCounter] = []

            async def cleanup() -> None:
                for c in clients:
                    c.dropConnection(abort=True)
                for session in list(factory.sessions):
                    session.dropConnection(abort=True)
                await listening.stopListening()
                await deferLater(reactor, 1.2, lambda: None)

            self.addCleanup(lambda: Deferred.fromCoroutine(cleanup()))
            client_factory = WebSocketClientFactory(f"ws://127.0.0.1:{port}")
            client_factory.protocol = LedgerCounter
            endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port)

            async def one(streams: list[str]) -> LedgerCounter:
                client: LedgerCounter = await endpoint.connect(client_factory)
                await client.opened
                client.sendMessage(
                    json.dumps({"id": 1, "command": "subscribe", "streams": streams}).encode()
                )
                await client.answered
                return client

            # one slow subscriber: small socket buffers, and it stops reading
            slow = await one(["transactions"])
            slow.transport.getHandle().setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            server_side = next(
                s
                for s in factory.sessions
                if s.transport.getPeer().port == slow.transport.getHost().port
            )
            server_side.transport.getHandle().setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
            slow.transport.pauseProducing()
            for _batch in range(0, self.SUBSCRIBERS, 100):
                batch = [Deferred.fromCoroutine(one(["ledger"])) for _ in range(100)]
                for d in batch:
                    clients.append(await d)
            self.assertEqual(manager.counts()["ledger"], self.SUBSCRIBERS)
            before = rss_kib()
            publisher = Publisher(backend, manager, reactor, max_age=float("inf"))
            first = 28
            for sequence in range(first, first + self.LEDGERS):
                await publisher.publish(sequence)
                await deferLater(reactor, 0, lambda: None)
            wanted = list(range(first, first + self.LEDGERS))
            await wait_for(
                lambda: all(len(c.sequences) >= self.LEDGERS for c in clients),
                60,
                "every subscriber receiving every ledger",
            )
            after = rss_kib()
            for c in clients:
                self.assertEqual(c.sequences, wanted)
            # the slow subscriber was disconnected at the bound, and forgotten
            self.assertTrue(
                server_side.stream_queue is not None and server_side.stream_queue.closed
            )
            self.assertEqual(manager.counts()["transactions"], 0)
            self.assertEqual(len(server_side.stream_queue), 0)
            print(
                f"\n{self.SUBSCRIBERS} subscribers x {self.LEDGERS} ledgers: RSS {before} KiB before"
                f" publishing, {after} KiB after ({after - before:+d} KiB); slow one cut at"
                f" {self.QUEUE_BOUND} waiting messages"
            )

        return Deferred.fromCoroutine(go())
