"""Feeds benchmark: time from a ledger's commit to the last subscriber receiving its ledgerClosed.

One process, loopback only: our WebSocket server (the real protocol, send
queues and subscription manager) and N Autobahn clients subscribed to the
``ledger`` stream. For each of 20 ledgers of the recorded rippled 3.1.1
corpus (held in memory), the publisher is called as the ETL calls it after a
commit; the figure is the time until the last of the N clients has parsed
that ledger's message. Clients run in the same process and share its CPU, so
the figures are an upper bound for the server's part.

    .venv/bin/python bench/feeds.py [--subscribers 1,100,1000] [--ledgers 20]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from typing import Any

# run as a script: the repository root, not bench/ (whose http.py would shadow the stdlib's)
sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from attrs import evolve  # noqa: E402

from autobahn.twisted.websocket import (  # noqa: E402
    WebSocketClientFactory,
    WebSocketClientProtocol,
)
from twisted.internet import task  # noqa: E402
from twisted.internet.defer import Deferred  # noqa: E402
from twisted.internet.endpoints import TCP4ClientEndpoint  # noqa: E402
from twisted.internet.task import deferLater  # noqa: E402

from clio_twisted.config import ClioConfig, DosGuardConfig  # noqa: E402
from clio_twisted.feeds.manager import SubscriptionManager  # noqa: E402
from clio_twisted.feeds.publisher import Publisher  # noqa: E402
from clio_twisted.rpc.context import Context  # noqa: E402
from clio_twisted.rpc.dispatch import Dispatcher  # noqa: E402
from clio_twisted.rpc.handlers import load_handlers  # noqa: E402
from clio_twisted.web.admin import AdminPolicy  # noqa: E402
from clio_twisted.web.dosguard import DosGuard  # noqa: E402
from clio_twisted.web.inflight import InFlight  # noqa: E402
from clio_twisted.web.websocket import ClioWebSocketFactory  # noqa: E402

ARRIVALS: dict[int, list[float]] = {}


class Subscriber(WebSocketClientProtocol):
    def __init__(self) -> None:
        super().__init__()
        self.ready: Deferred[None] = Deferred()

    def onOpen(self) -> None:  # noqa: N802
        self.sendMessage(b'{"id":1,"command":"subscribe","streams":["ledger"]}')

    def onMessage(self, payload: bytes, isBinary: bool) -> None:  # noqa: N802, N803
        message = json.loads(payload)
        if message.get("type") == "ledgerClosed":
            ARRIVALS.setdefault(message["ledger_index"], []).append(time.perf_counter())
        elif not self.ready.called:
            self.ready.callback(None)


async def measure(reactor: Any, backend: Any, subscribers: int, ledgers: int) -> list[float]:
    manager = SubscriptionManager()
    config = evolve(ClioConfig(), dos_guard=DosGuardConfig(whitelist=("127.0.0.1",)))
    base = Context(backend=backend, clock=reactor, config=config, subscriptions=manager)
    factory = ClioWebSocketFactory(
        Dispatcher(load_handlers(), base),
        DosGuard(config.dos_guard, reactor),
        AdminPolicy(config.server),
        InFlight(),
        reactor,
        subscriptions=manager,
    )
    listening = reactor.listenTCP(0, factory, interface="127.0.0.1", backlog=1024)
    port = listening.getHost().port
    client_factory = WebSocketClientFactory(f"ws://127.0.0.1:{port}")
    client_factory.protocol = Subscriber
    endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port)
    clients: list[Subscriber] = []

    async def one() -> Subscriber:
        client: Subscriber = await endpoint.connect(client_factory)
        await client.ready
        return client

    while len(clients) < subscribers:
        batch = [Deferred.fromCoroutine(one()) for _ in range(min(100, subscribers - len(clients)))]
        for d in batch:
            clients.append(await d)
    publisher = Publisher(backend, manager, reactor, max_age=float("inf"))
    latencies = []
    ARRIVALS.clear()
    for sequence in range(28, 28 + ledgers):
        started = time.perf_counter()
        await publisher.publish(sequence)
        while len(ARRIVALS.get(sequence, ())) < subscribers:
            await deferLater(reactor, 0, lambda: None)
        latencies.append(max(ARRIVALS[sequence]) - started)
    for client in clients:
        client.dropConnection(abort=True)
    await listening.stopListening()
    await deferLater(reactor, 0.5, lambda: None)
    return latencies


async def main(reactor: Any, counts: list[int], ledgers: int) -> None:
    from tests.rpc.corpus import corpus_backend

    backend = corpus_backend()
    print(
        f"{'subscribers':>11}  {'median ms':>9}  {'p90 ms':>7}  {'max ms':>7}  (commit -> last ledgerClosed parsed, {ledgers} ledgers)"
    )
    for n in counts:
        latencies = sorted(await measure(reactor, backend, n, ledgers))
        ms = [x * 1000 for x in latencies]
        p90 = ms[int(0.9 * (len(ms) - 1))]
        print(f"{n:>11}  {statistics.median(ms):>9.2f}  {p90:>7.2f}  {max(ms):>7.2f}")


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", default="1,100,1000")
    parser.add_argument("--ledgers", type=int, default=20)
    args = parser.parse_args()
    counts = [int(x) for x in args.subscribers.split(",")]
    task.react(lambda reactor: Deferred.fromCoroutine(main(reactor, counts, args.ledgers)))


if __name__ == "__main__":
    run()
