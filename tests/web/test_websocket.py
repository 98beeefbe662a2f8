"""The WebSocket API: flat envelope, id/api_version echo, bad frames, size limit, DOS guard."""

from __future__ import annotations

import struct

import orjson

from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionDone
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.backend.interface import LedgerRange, TooBusy
from clio_twisted.web._fast_hot import HotAnswers
from tests.fakes.backend import InMemoryBackend
from tests.rpc.helpers import NOW, store_ledgers
from tests.web.helpers import make_server, rippled_json, server_frames, ws_connect

CLIO_WARNING = {
    "id": 2001,
    "message": "This is a clio server. clio only serves validated data. If you want to talk to "
    "rippled, include 'ledger_index':'current' in your request",
}
BAD_SYNTAX = {
    "error": "badSyntax",
    "error_code": 1,
    "error_message": "Syntax error.",
    "status": "error",
    "type": "response",
}


class WebSocketTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.server = make_server()
        store_ledgers(self.server.backend, 3, 10, NOW - 1)
        self.client = ws_connect(self.server)

    def ask(self, message: bytes) -> bytes:
        replies = self.client.send_text(message)
        self.assertEqual(len(replies), 1)
        return replies[0]

    def test_handshake_upgrades(self) -> None:
        """The upgrade on / is answered 101 by Autobahn."""
        self.assertTrue(self.client.handshake_response.startswith(b"HTTP/1.1 101 "))

    def test_success_is_flat_with_id_and_api_version(self) -> None:
        """A success: result, id, api_version, status, type, warnings, keys in rippled's order."""
        reply = self.ask(b'{"command": "ledger_range", "id": "a1", "api_version": 2}')
        self.assertEqual(
            reply,
            rippled_json(
                {
                    "result": {"ledger_index_min": 3, "ledger_index_max": 10},
                    "id": "a1",
                    "api_version": 2,
                    "status": "success",
                    "type": "response",
                    "warnings": [CLIO_WARNING],
                }
            ),
        )

    def test_method_works_like_command(self) -> None:
        """'method' may name the command instead of 'command'; no id means none echoed."""
        reply = orjson.loads(self.ask(b'{"method": "ping"}'))
        self.assertEqual(reply["result"], {})
        self.assertNotIn("id", reply)

    def test_error_is_flat_with_request(self) -> None:
        """An error: the error fields at top level, id, request echo and warnings."""
        reply = self.ask(b'{"command": "nope", "id": 5}')
        self.assertEqual(
            reply,
            rippled_json(
                {
                    "error": "unknownCmd",
                    "error_code": 32,
                    "error_message": "Unknown method.",
                    "status": "error",
                    "type": "response",
                    "id": 5,
                    "request": {"command": "nope", "id": 5},
                    "warnings": [CLIO_WARNING],
                }
            ),
        )

    def test_missing_or_ambiguous_command(self) -> None:
        """No command, a non-string one, or both command and method: missingCommand, echoing the request."""
        for message in (
            b'{"id": 1}',
            b'{"command": 5, "id": 1}',
            b'{"command": "ping", "method": "ping", "id": 1}',
        ):
            reply = orjson.loads(self.ask(message))
            self.assertEqual(reply["error"], "missingCommand")
            self.assertEqual(reply["error_code"], 6001)
            self.assertEqual(
                reply["error_message"], "Method/Command is not specified or is not a string."
            )
            self.assertEqual(reply["id"], 1)
            self.assertEqual(reply["request"], orjson.loads(message))
            self.assertNotIn("warnings", reply)

    def test_invalid_api_version(self) -> None:
        """A bad api_version: invalid_API_version with Clio's message, id and api_version echoed."""
        reply = orjson.loads(self.ask(b'{"command": "ping", "id": 2, "api_version": 9}'))
        self.assertEqual(reply["error"], "invalid_API_version")
        self.assertEqual(reply["error_code"], 6000)
        self.assertEqual(
            reply["error_message"], "Requested API version is higher than maximum supported (2)"
        )
        self.assertEqual((reply["id"], reply["api_version"]), (2, 9))

    def test_not_json_is_bad_syntax_and_stays_open(self) -> None:
        """Text that is not a JSON object gets a bare badSyntax; the connection keeps serving."""
        for message in (b"{", b"[1]", b'"x"', b"\xff\xfe"):
            self.assertEqual(self.ask(message), rippled_json(BAD_SYNTAX))
        self.assertEqual(orjson.loads(self.ask(b'{"command": "ping"}'))["status"], "success")

    def test_binary_frame_is_bad_syntax(self) -> None:
        """A binary frame gets badSyntax, and the connection stays open."""
        frames = self.client.send(b'{"command": "ping"}', opcode=2)
        self.assertEqual(frames, [(1, rippled_json(BAD_SYNTAX))])
        self.assertEqual(orjson.loads(self.ask(b'{"command": "ping"}'))["status"], "success")

    def test_oversized_message_closes_with_1009(self) -> None:
        """A message over server.max_ws_message_size closes the connection with code 1009."""
        server = make_server({"server": {"max_ws_message_size": 1024}})
        client = ws_connect(server)
        frames = client.send(b'{"command": "ping", "pad": "' + b"x" * 2000 + b'"}')
        self.assertEqual(frames[-1][0], 8)  # close
        self.assertEqual(struct.unpack("!H", frames[-1][1][:2])[0], 1009)

    def test_not_ready_is_flat_without_warnings(self) -> None:
        """Before any ledger: a flat notReady with id, api_version and request, no warnings."""
        server = make_server()
        client = ws_connect(server)
        reply = client.send_text(b'{"command": "ledger_range", "id": 3, "api_version": 1}')[0]
        self.assertEqual(
            reply,
            rippled_json(
                {
                    "error": "notReady",
                    "error_code": 13,
                    "error_message": "Not ready to handle this request.",
                    "status": "error",
                    "type": "response",
                    "id": 3,
                    "api_version": 1,
                    "request": {"command": "ledger_range", "id": 3, "api_version": 1},
                }
            ),
        )

    def test_slow_down_over_request_budget(self) -> None:
        """Over max_requests per sweep: a slowDown error echoing id and request; open; the sweep restores."""
        server = make_server({"dos_guard": {"max_requests": 2}})
        store_ledgers(server.backend, 3, 10, NOW - 1)
        client = ws_connect(server, ip="198.51.100.1")
        for _ in range(2):
            self.assertIn(b'"success"', client.send_text(b'{"command": "ping"}')[0])
        reply = orjson.loads(client.send_text(b'{"command": "ping", "id": 9}')[0])
        self.assertEqual(
            reply,
            {
                "error": "slowDown",
                "error_code": 10,
                "error_message": "You are placing too much load on the server.",
                "status": "error",
                "type": "response",
                "id": 9,
                "request": {"command": "ping", "id": 9},
            },
        )
        server.guard.start()
        server.clock.advance(1.0)
        self.assertIn(b'"success"', client.send_text(b'{"command": "ping"}')[0])
        server.guard.stop()

    def test_connection_counted_until_closed(self) -> None:
        """A WebSocket counts as one connection of its IP until it closes."""
        server = make_server()
        client = ws_connect(server, ip="198.51.100.2")
        self.assertEqual(server.guard.connections("198.51.100.2"), 1)
        client.protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(server.guard.connections("198.51.100.2"), 0)


class SlowStore(InMemoryBackend):
    """The in-memory store; when ``hold`` is set, a range read answers what the test later fires."""

    def __init__(self) -> None:
        super().__init__()
        self.hold = False
        self.waiting: list[Deferred[LedgerRange | None]] = []

    async def fetch_ledger_range(self) -> LedgerRange | None:
        if not self.hold:
            return await super().fetch_ledger_range()
        gate: Deferred[LedgerRange | None] = Deferred()
        self.waiting.append(gate)
        return await gate


STORED = LedgerRange(3, 10)


class WaitingAnswerTests(SynchronousTestCase):
    """Answers that wait on the store: sent when the read completes, not lost, not sent after close."""

    def setUp(self) -> None:
        self.backend = SlowStore()
        self.server = make_server(backend=self.backend)
        store_ledgers(self.backend, 3, 10, NOW - 1)
        self.client = ws_connect(self.server)

    def test_reply_sent_when_the_read_completes(self) -> None:
        """A reply waiting on a store read goes out once the read completes, the same bytes as at once."""
        message = b'{"command": "ledger_range", "id": 7}'
        at_once = self.client.send_text(message)
        self.backend.hold = True
        self.assertEqual(self.client.send_text(message), [])
        self.assertEqual(len(self.backend.waiting), 1)
        self.assertEqual(len(self.server.inflight), 1)
        self.backend.waiting.pop().callback(STORED)
        self.assertEqual(
            [p for op, p in server_frames(self.client.transport.value()) if op == 1], at_once
        )
        self.assertEqual(len(self.server.inflight), 0)
        self.assertEqual(self.client.protocol._pending, set())

    def test_read_failing_later_is_answered(self) -> None:
        """A store read that fails after waiting still gets an answer (tooBusy), with the request's id."""
        self.backend.hold = True
        self.assertEqual(self.client.send_text(b'{"command": "ledger_range", "id": 8}'), [])
        self.backend.waiting.pop().errback(TooBusy())
        (reply,) = [p for op, p in server_frames(self.client.transport.value()) if op == 1]
        body = orjson.loads(reply)
        self.assertEqual((body["error"], body["id"]), ("tooBusy", 8))

    def test_close_while_waiting_cancels_and_sends_nothing(self) -> None:
        """Closing the connection cancels the waiting answer; nothing is written after."""
        self.backend.hold = True
        self.client.send_text(b'{"command": "ledger_range", "id": 9}')
        gate = self.backend.waiting[0]
        self.client.protocol.connectionLost(Failure(ConnectionDone()))
        self.client.transport.clear()
        self.assertTrue(gate.called)  # cancelled
        self.assertEqual(self.client.transport.value(), b"")
        self.assertEqual(len(self.server.inflight), 0)

    def test_waited_answer_is_kept_as_a_hot_answer(self) -> None:
        """A cacheable answer that waited is offered once done (method read from the parsed message)."""
        hot = HotAnswers(self.server.dispatcher, self.server.clock)
        self.server.ws_factory.hot = hot
        hot.start()
        self.addCleanup(hot.stop)
        message = b'{"command": "ledger", "ledger_index": "validated", "id": 1}'
        self.backend.hold = True
        self.assertEqual(self.client.send_text(message), [])
        self.backend.waiting.pop().callback(STORED)
        (first,) = [p for op, p in server_frames(self.client.transport.value()) if op == 1]
        self.assertEqual(len(hot), 1)
        self.assertEqual(self.client.send_text(message), [first])  # from memory: no store read
        self.assertEqual((hot.hits, self.backend.waiting), (1, []))
