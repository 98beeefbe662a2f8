"""Hot answers are exact across commits: the request right after a commit sees the new ledger, on HTTP and WebSocket."""

from __future__ import annotations

from typing import Any

import orjson

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.backend.interface import LedgerRange, LedgerWrite
from clio_twisted.backend.known_range import KnownRange
from clio_twisted.web._fast_hot import HotAnswers
from clio_twisted.web.fast_http import FastHttpFactory
from tests.fakes.backend import InMemoryBackend
from tests.rpc.helpers import NOW, make_header, store_ledgers
from tests.web.helpers import Server, connect, make_server, post_bytes, ws_connect

LEDGER = b'{"method": "ledger", "params": [{"ledger_index": "validated"}]}'
WS_LEDGER = b'{"command": "ledger", "ledger_index": "validated"}'


class GatedBackend(InMemoryBackend):
    """Header reads wait for ``gate`` when it is set: a request in flight across a commit."""

    gate: Deferred[None] | None = None

    async def fetch_ledger_by_sequence(self, sequence: int) -> bytes | None:
        if self.gate is not None:
            await self.gate
        blob: bytes | None = await super().fetch_ledger_by_sequence(sequence)
        return blob


class FreshnessTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.store = GatedBackend()
        store_ledgers(self.store, 3, 5, NOW - 2)
        # refresh_seconds=0: no range polling at all, so only commits can move the range
        self.known = KnownRange(self.store, Clock(), refresh_seconds=0)
        server = make_server(backend=self.known)  # type: ignore[arg-type]
        self.clock = server.clock
        self.hot = HotAnswers(server.dispatcher, self.clock)
        self.known.add_listener(self.hot.on_range)
        factory = FastHttpFactory(
            server.site,
            server.dispatcher,
            server.guard,
            server.root._admin,
            server.inflight,
            self.clock,
            hot=self.hot,
        )
        server.ws_factory.hot = self.hot
        self.server = Server(
            factory,  # type: ignore[arg-type]
            server.root,
            server.dispatcher,
            server.backend,
            self.clock,
            server.guard,
            server.inflight,
            server.ws_factory,
            server.config,
        )
        self.hot.start()
        self.addCleanup(self.hot.stop)
        self.proto, self.transport = connect(self.server)

    def commit(self, sequence: int) -> None:
        """Write ledger ``sequence`` and tell the range, as the ETL does; the clock does not move."""
        header = make_header(sequence, NOW)
        write = LedgerWrite(sequence=sequence, header=header.to_bytes(), ledger_hash=header.hash)
        self.successResultOf(Deferred.fromCoroutine(self.store.write_ledger(write)))
        self.known.on_committed(sequence)

    def ask(self) -> Any:
        self.transport.clear()
        self.proto.dataReceived(post_bytes(LEDGER))
        _, _, body = self.transport.value().partition(b"\r\n\r\n")
        return orjson.loads(body)["result"]["ledger_index"]

    def test_http_request_after_commit_sees_new_ledger(self) -> None:
        """No clock tick between commit and request: the answer names the new ledger."""
        self.assertEqual(self.ask(), 5)
        self.assertEqual(self.ask(), 5)
        self.assertEqual(self.hot.hits, 1)
        self.commit(6)
        self.assertEqual(self.ask(), 6)
        self.assertEqual(self.ask(), 6)  # and that answer is kept again
        self.assertEqual(self.hot.hits, 2)

    def test_ws_request_after_commit_sees_new_ledger(self) -> None:
        """The same over WebSocket: kept answers go with the commit, not with the next poll."""
        client = ws_connect(self.server)
        (first,) = client.send_text(WS_LEDGER)
        client.send_text(WS_LEDGER)
        self.assertEqual(self.hot.hits, 1)
        self.commit(6)
        (after,) = client.send_text(WS_LEDGER)
        self.assertEqual(orjson.loads(first)["result"]["ledger_index"], 5)
        self.assertEqual(orjson.loads(after)["result"]["ledger_index"], 6)

    def test_answer_computed_across_commit_not_kept(self) -> None:
        """A request dispatched before a commit and answered after it is sent, but never served again."""
        self.ask()  # the range and the close time are known now
        self.hot.clear()
        self.store.gate = Deferred()
        self.transport.clear()
        self.proto.dataReceived(post_bytes(LEDGER))
        self.assertEqual(self.transport.value(), b"")  # waiting for the store
        self.commit(6)
        gate, self.store.gate = self.store.gate, None
        gate.callback(None)
        _, _, body = self.transport.value().partition(b"\r\n\r\n")
        self.assertEqual(orjson.loads(body)["result"]["ledger_index"], 5)
        self.assertEqual(len(self.hot), 0)
        self.assertEqual(self.ask(), 6)

    def test_poll_started_before_commit_does_not_restore_old_range(self) -> None:
        """A poll that read the old range finishes after the commit: the new range's answers stay."""
        self.ask()
        self.store.gate = Deferred()
        self.server.dispatcher._close_time = None  # the poll reads the header, and waits
        self.clock.advance(self.hot.refresh_interval)  # a poll, now waiting for the store
        self.commit(6)
        gate, self.store.gate = self.store.gate, None
        gate.callback(None)
        self.assertEqual(self.hot.epoch, (3, 6, False))
        self.assertEqual(self.ask(), 6)
        self.assertEqual(self.ask(), 6)
        self.assertEqual(self.hot.hits, 1)

    def test_outdated_warning_still_polled(self) -> None:
        """Without a commit, the 2002 warning appears within one poll after the minute passes."""
        self.ask()
        self.clock.advance(61)
        self.transport.clear()
        self.proto.dataReceived(post_bytes(LEDGER))
        _, _, body = self.transport.value().partition(b"\r\n\r\n")
        self.assertIn(2002, [w["id"] for w in orjson.loads(body)["warnings"]])


class OfferGenerationTests(SynchronousTestCase):
    def test_offer_from_older_generation_refused(self) -> None:
        """offer() with the generation read before a range change keeps nothing; the current one keeps it."""
        server = make_server()
        store_ledgers(server.backend, 3, 5, NOW - 2)
        hot = HotAnswers(server.dispatcher, server.clock)
        hot.start()
        self.addCleanup(hot.stop)
        answer = {"result": {"status": "success", "ledger_index": 5}}
        before = hot.generation
        hot.on_range(LedgerRange(3, 6))
        hot.offer(False, LEDGER, answer, orjson.dumps(answer), generation=before)
        self.assertEqual(len(hot), 0)
        hot.offer(False, LEDGER, answer, orjson.dumps(answer), generation=hot.generation)
        self.assertEqual(len(hot), 1)
        self.assertEqual(hot.epoch, (3, 6, False))
