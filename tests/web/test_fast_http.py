"""The lean HTTP front's own rules: order, keep-alive, hand-over, limits, smuggling, deadlines, hot answers, fuzzing."""

from __future__ import annotations

import re
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionDone
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.backend.interface import LedgerWrite
from clio_twisted.rpc.context import Context, Handler, JsonDict, NoInput, parse_nothing
from clio_twisted.web._fast_hot import HotAnswers
from clio_twisted.web.fast_http import FastHttpFactory, FastHttpProtocol, Limits
from tests.rpc.helpers import NOW, make_header, store_ledgers
from tests.web.helpers import HANDSHAKE, Server, connect, make_server, parse_response, post_bytes
from tests.web.test_fast_http_suites import make_fast_server

PING = b'{"method": "ping"}'
VERSION = b'{"method": "version"}'
LEDGER = b'{"method": "ledger", "params": [{"ledger_index": "validated"}]}'


def fast(
    raw_config: dict[str, Any] | None = None, limits: Limits | None = None, hot: bool = False
) -> Server:
    server = make_server(raw_config)
    factory = FastHttpFactory(
        server.site,
        server.dispatcher,
        server.guard,
        server.root._admin,
        server.inflight,
        server.clock,
        limits=limits,
        hot=HotAnswers(server.dispatcher, server.clock) if hot else None,
    )
    return Server(
        factory,  # type: ignore[arg-type]
        server.root,
        server.dispatcher,
        server.backend,
        server.clock,
        server.guard,
        server.inflight,
        server.ws_factory,
        server.config,
    )


def responses(raw: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """Split a byte stream into consecutive HTTP responses; fails on anything else."""
    out = []
    while raw:
        head, sep, rest = raw.partition(b"\r\n\r\n")
        assert sep, raw
        lines = head.decode("latin-1").split("\r\n")
        match = re.fullmatch(r"HTTP/1\.[01] (\d{3}) [^\r\n]*", lines[0])
        assert match, lines[0]
        headers = {}
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            assert colon, line
            headers[name.strip().lower()] = value.strip()
        status = int(match.group(1))
        if status == 100:
            raw = rest
            continue
        if "content-length" not in headers:
            out.append((status, headers, rest))
            break
        n = int(headers["content-length"])
        assert len(rest) >= n
        out.append((status, headers, rest[:n]))
        raw = rest[n:]
    return out


def gated(server: Server, name: str = "slow") -> Deferred[None]:
    """Register a command that answers ``{"gate": true}`` when the returned Deferred fires."""
    gate: Deferred[None] = Deferred()

    async def process(ctx: Context, inp: NoInput) -> JsonDict:
        await gate
        return {"gate": True}

    server.dispatcher._handlers[name] = Handler(
        name, parse_nothing, process, needs_ledger_range=False
    )
    return gate


class OrderAndKeepAliveTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.server = fast()
        self.proto, self.transport = connect(self.server)

    def test_is_the_fast_protocol(self) -> None:
        """Connections are FastHttpProtocol, not Twisted Web's channel."""
        self.assertIsInstance(self.proto, FastHttpProtocol)

    def test_pipelined_answers_keep_request_order(self) -> None:
        """A slow first request holds back the ready answers behind it until it is done."""
        gate = gated(self.server)
        self.proto.dataReceived(
            post_bytes(b'{"method": "slow"}') + post_bytes(PING) + post_bytes(VERSION)
        )
        self.assertEqual(self.transport.value(), b"")
        gate.callback(None)
        got = responses(self.transport.value())
        self.assertEqual([s for s, _, _ in got], [200, 200, 200])
        results = [orjson.loads(b)["result"] for _, _, b in got]
        self.assertEqual(results[0]["gate"], True)
        self.assertEqual(results[1], {"status": "success"})
        self.assertIn("version", results[2])
        self.assertFalse(self.transport.disconnecting)

    def test_keep_alive_then_http10_closes(self) -> None:
        """HTTP/1.1 keeps the connection; an HTTP/1.0 request without keep-alive closes it after the answer."""
        self.proto.dataReceived(post_bytes(PING))
        self.assertFalse(self.transport.disconnecting)
        raw = post_bytes(PING).replace(b"HTTP/1.1", b"HTTP/1.0")
        self.proto.dataReceived(raw)
        got = responses(self.transport.value())
        self.assertEqual(len(got), 2)
        self.assertEqual(got[1][1]["connection"], "close")
        self.assertTrue(self.transport.disconnecting)

    def test_chunked_body(self) -> None:
        """A chunked body split anywhere is reassembled and answered."""
        body = b'{"method": "ping", "id": 7}'
        raw = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        raw += b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (5, body[:5], len(body) - 5, body[5:])
        for i in range(len(raw)):
            self.proto.dataReceived(raw[i : i + 1])
        ((status, headers, data),) = responses(self.transport.value())
        self.assertEqual((status, headers["content-type"]), (200, "application/json"))
        self.assertEqual(orjson.loads(data)["result"]["status"], "success")

    def test_expect_continue(self) -> None:
        """Expect: 100-continue gets the interim answer before the body is sent."""
        self.proto.dataReceived(
            post_bytes(b"", {"Expect": "100-continue"}).replace(
                b"Content-Length: 0", b"Content-Length: %d" % len(PING)
            )
        )
        self.assertEqual(self.transport.value(), b"HTTP/1.1 100 Continue\r\n\r\n")
        self.proto.dataReceived(PING)
        self.assertEqual(responses(self.transport.value())[0][0], 200)

    def test_client_gone_cancels_pipelined_work(self) -> None:
        """A lost connection cancels every unanswered request and writes nothing."""
        gated(self.server)
        self.proto.dataReceived(post_bytes(b'{"method": "slow"}') * 2)
        self.assertEqual(len(self.server.inflight), 2)
        self.proto.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(len(self.server.inflight), 0)
        self.assertEqual(self.transport.value(), b"")

    def test_too_many_pipelined_pauses_reading(self) -> None:
        """Past max_pipelined unanswered requests the transport is paused, and resumed as answers go out."""
        server = fast(limits=Limits(max_pipelined=4))
        proto, transport = connect(server)
        gate = gated(server)
        proto.dataReceived(post_bytes(b'{"method": "slow"}') * 5)
        self.assertEqual(transport.producerState, "paused")
        gate.callback(None)
        self.assertEqual(transport.producerState, "producing")
        self.assertEqual(len(responses(transport.value())), 5)


class SlowReaderTests(SynchronousTestCase):
    def test_full_write_buffer_stops_reading(self) -> None:
        """The protocol is the transport's producer: a full write buffer pauses reading until it drains."""
        server = fast()
        proto, transport = connect(server)
        self.assertIs(transport.producer, proto)
        proto.pauseProducing()  # what the transport does when the client stops reading
        self.assertEqual(transport.producerState, "paused")
        proto.resumeProducing()
        self.assertEqual(transport.producerState, "producing")

    def test_hand_over_gives_the_producer_slot_to_the_channel(self) -> None:
        """After the hand-over Twisted Web's channel is the transport's producer."""
        server = fast()
        proto, transport = connect(server)
        proto.pauseProducing()
        proto.dataReceived(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertIsNot(transport.producer, proto)
        self.assertIsNotNone(transport.producer)


class HandOverTests(SynchronousTestCase):
    def test_get_then_post_on_one_connection(self) -> None:
        """GET /health goes to Twisted Web, and the connection keeps answering POSTs there."""
        server = fast()
        store_ledgers(server.backend, 3, 5, NOW - 2)
        proto, transport = connect(server)
        proto.dataReceived(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n" + post_bytes(PING))
        got = responses(transport.value())
        self.assertEqual([s for s, _, _ in got], [200, 200])
        self.assertEqual(orjson.loads(got[0][2])["status"], "ok")
        self.assertEqual(orjson.loads(got[1][2])["result"]["status"], "success")

    def test_hand_over_waits_for_earlier_answers(self) -> None:
        """A GET pipelined behind an unanswered POST is answered after it."""
        server = fast()
        proto, transport = connect(server)
        gate = gated(server)
        proto.dataReceived(post_bytes(b'{"method": "slow"}') + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(transport.value(), b"")
        gate.callback(None)
        got = responses(transport.value())
        self.assertEqual([s for s, _, _ in got], [200, 400])
        self.assertEqual(got[1][2], b"Expected a POST request")

    def test_connection_counted_once(self) -> None:
        """The DOS guard counts the connection once, before and after the hand-over."""
        server = fast()
        proto, transport = connect(server, ip="10.0.0.1")
        self.assertEqual(server.guard.connections("10.0.0.1"), 1)
        proto.dataReceived(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(server.guard.connections("10.0.0.1"), 1)
        proto.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(server.guard.connections("10.0.0.1"), 0)

    def test_websocket_upgrade_with_eager_frame(self) -> None:
        """An upgrade and a frame sent in the same packet reach Autobahn, which answers the frame."""
        from tests.web.helpers import client_frame, server_frames

        server = fast()
        proto, transport = connect(server)
        proto.dataReceived(HANDSHAKE + b"\r\n" + client_frame(b'{"command": "ping", "id": 1}'))
        head, _, frames = transport.value().partition(b"\r\n\r\n")
        self.assertIn(b"101", head.split(b"\r\n")[0])
        ((opcode, payload),) = server_frames(frames)
        self.assertEqual(orjson.loads(payload)["id"], 1)
        self.assertIsNot(transport.protocol, proto)


class LimitTests(SynchronousTestCase):
    def send(self, raw: bytes, limits: Limits | None = None, split: bool = False) -> Any:
        server = fast(limits=limits)
        proto, transport = connect(server)
        if split:
            for i in range(len(raw)):
                proto.dataReceived(raw[i : i + 1])
        else:
            proto.dataReceived(raw)
        return parse_response(transport.value()), transport, server

    def test_duplicate_content_length(self) -> None:
        """Two Content-Length headers (even equal) are 400 and close: no smuggling."""
        raw = b"POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}"
        response, transport, _ = self.send(raw)
        self.assertEqual(response.status, 400)
        self.assertTrue(transport.disconnecting)

    def test_content_length_with_chunked(self) -> None:
        """Content-Length together with Transfer-Encoding is 400."""
        raw = b"POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        response, transport, _ = self.send(raw)
        self.assertEqual(response.status, 400)
        self.assertTrue(transport.disconnecting)

    def test_unsupported_transfer_coding(self) -> None:
        """A transfer coding other than chunked is 501."""
        raw = b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"
        response, transport, _ = self.send(raw)
        self.assertEqual(response.status, 501)
        self.assertTrue(transport.disconnecting)

    def test_header_bytes_limit(self) -> None:
        """Headers over max_header_bytes are 431, whether they arrive whole or a byte at a time."""
        raw = b"POST / HTTP/1.1\r\nX-Big: " + b"a" * 3000 + b"\r\n\r\n"
        for split in (False, True):
            response, transport, _ = self.send(raw, Limits(max_header_bytes=2048), split)
            self.assertEqual(response.status, 431)
            self.assertTrue(transport.disconnecting)

    def test_endless_header_line(self) -> None:
        """A header line that never ends is refused once it passes the limit, not buffered forever."""
        server = fast(limits=Limits(max_header_bytes=2048))
        proto, transport = connect(server)
        proto.dataReceived(b"POST / HTTP/1.1\r\nX-Big: ")
        for _ in range(10):
            proto.dataReceived(b"a" * 500)
        self.assertEqual(parse_response(transport.value()).status, 431)

    def test_header_count_limit(self) -> None:
        """More than max_headers headers is 431."""
        raw = b"POST / HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(20)) + b"\r\n"
        response, _, _ = self.send(raw, Limits(max_headers=10))
        self.assertEqual(response.status, 431)

    def test_slow_sender_gets_408(self) -> None:
        """A request still incomplete request_timeout seconds after its first byte is 408 and closed."""
        server = fast(limits=Limits(request_timeout=5.0))
        proto, transport = connect(server)
        proto.dataReceived(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n{")
        server.clock.advance(4.9)
        self.assertEqual(transport.value(), b"")
        proto.dataReceived(b"  ")
        server.clock.advance(0.2)
        response = parse_response(transport.value())
        self.assertEqual((response.status, response.body), (408, b"Request timeout"))
        self.assertTrue(transport.disconnecting)

    def test_idle_connection_closed(self) -> None:
        """A keep-alive connection with no request for idle_timeout seconds is closed; activity defers it."""
        server = fast(limits=Limits(idle_timeout=10.0))
        proto, transport = connect(server)
        server.clock.advance(6)
        proto.dataReceived(post_bytes(PING))
        server.clock.advance(6)
        self.assertFalse(transport.disconnecting)
        server.clock.advance(5)
        self.assertTrue(transport.disconnecting)

    def test_garbage_is_400(self) -> None:
        """Bytes that are not HTTP are 400 and close."""
        response, transport, _ = self.send(b"\x16\x03\x01\x02\x00hello\r\n\r\n")
        self.assertEqual(response.status, 400)
        self.assertTrue(transport.disconnecting)


class HotAnswerTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.server = fast(hot=True)
        store_ledgers(self.server.backend, 3, 5, NOW - 2)
        self.hot = self.server.site.hot  # type: ignore[attr-defined]
        self.hot.start()
        self.addCleanup(self.hot.stop)
        self.proto, self.transport = connect(self.server)
        self.reads = 0
        backend = self.server.backend
        original = backend.fetch_ledger_range

        async def counting() -> Any:
            self.reads += 1
            return await original()

        backend.fetch_ledger_range = counting  # type: ignore[method-assign]

    def ask(self, body: bytes) -> bytes:
        self.transport.clear()
        self.proto.dataReceived(post_bytes(body))
        ((status, _, data),) = responses(self.transport.value())
        self.assertEqual(status, 200)
        return data

    def test_repeat_served_from_memory(self) -> None:
        """The second identical ledger request is the same bytes and reads nothing from the store."""
        first = self.ask(LEDGER)
        reads = self.reads
        self.assertEqual(self.ask(LEDGER), first)
        self.assertEqual(self.reads, reads)
        self.assertEqual(self.hot.hits, 1)

    def test_new_ledger_drops_answers(self) -> None:
        """Once the poll sees a new ledger, the answer is computed again and names it."""
        first = orjson.loads(self.ask(LEDGER))
        header = make_header(6, NOW)
        self.successResultOf(
            Deferred.fromCoroutine(
                self.server.backend.write_ledger(
                    LedgerWrite(sequence=6, header=header.to_bytes(), ledger_hash=header.hash)
                )
            )
        )
        self.server.clock.advance(self.hot.refresh_interval)
        second = orjson.loads(self.ask(LEDGER))
        self.assertEqual(first["result"]["ledger_index"], 5)
        self.assertEqual(second["result"]["ledger_index"], 6)

    def test_outdated_state_drops_answers(self) -> None:
        """When the newest ledger turns a minute old, kept answers go and the 2002 warning appears."""
        self.ask(LEDGER)
        self.server.clock.advance(61)
        ids = [w["id"] for w in orjson.loads(self.ask(LEDGER))["warnings"]]
        self.assertEqual(ids, [2001, 2002])

    def test_only_deterministic_commands_kept(self) -> None:
        """server_info and ping are never kept; their answers come from the dispatcher each time."""
        self.ask(b'{"method": "server_info"}')
        self.ask(PING)
        self.assertEqual(len(self.hot), 0)

    def test_memory_bound(self) -> None:
        """Past max_bytes the least recently used answers are dropped."""
        self.hot.max_bytes = 3000
        for i in range(20):
            self.ask(b'{"method": "ledger", "params": [{"ledger_index": 5, "id": %d}]}' % i)
        self.assertLessEqual(self.hot.size, 3000)
        self.assertGreater(len(self.hot), 0)
        self.assertLess(len(self.hot), 20)

    def test_hits_still_charged(self) -> None:
        """Answers from memory count against the DOS guard like any other."""
        self.ask(LEDGER)
        self.ask(LEDGER)
        usage = self.server.guard._usage["127.0.0.1"]
        self.assertEqual(usage.requests, 2)


# -- fuzzing ----------------------------------------------------------------------------------

_VALID = [
    post_bytes(PING),
    post_bytes(VERSION),
    post_bytes(b"{not json"),
    b'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{"me\r\n0\r\n\r\n',
    b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n",
]
_EVIL = [
    b"POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    b"POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
    b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
    b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
    b"POST / HTTP/1.1\r\n Content-Length: 2\r\n\r\n{}",
    b"POST / HTTP/1.1\r\nContent-Length : 2\r\n\r\n{}",
    b"POST / HTTP/1.1\nContent-Length: 2\n\n{}",
    b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n",
    b"GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n",
    b"\x00\xff\r\n\r\n",
]
_pieces = st.one_of(
    st.sampled_from(_VALID),
    st.sampled_from(_EVIL),
    st.binary(max_size=40),
    st.sampled_from(_VALID + _EVIL).flatmap(
        lambda raw: st.tuples(st.integers(0, len(raw)), st.binary(max_size=4)).map(
            lambda cut: raw[: cut[0]] + cut[1] + raw[cut[0] + len(cut[1]) :]
        )
    ),
)


def _run(stream: bytes, split: bool) -> tuple[bytes, bool]:
    server = make_fast_server()
    store_ledgers(server.backend, 3, 5, NOW - 2)
    proto, transport = connect(server)
    assert isinstance(transport, StringTransport)
    chunks = [stream[i : i + 1] for i in range(len(stream))] if split else [stream]
    for chunk in chunks:
        if transport.disconnecting or transport.protocol is not proto:
            break
        proto.dataReceived(chunk)
    return transport.value(), transport.disconnecting


class FuzzTests(SynchronousTestCase):
    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        derandomize=True,
    )
    @given(st.lists(_pieces, min_size=1, max_size=5))
    def test_adversarial_streams(self, pieces: list[bytes]) -> None:
        """Any stream gives well-formed responses only, and the same ones fed whole or a byte at a time."""
        stream = b"".join(pieces)
        whole, closed = _run(stream, split=False)
        one_by_one, closed_split = _run(stream, split=True)
        got = responses(whole) if b"\r\n\r\n" in whole or whole else []
        if b"HTTP/1.1 101" not in whole:
            self.assertEqual(got, responses(one_by_one))
        for status, _, _ in got:
            self.assertIn(status, (101, 200, 400, 408, 413, 431, 500, 501, 503))


class WebSocketHotAnswerTests(SynchronousTestCase):
    def setUp(self) -> None:
        from tests.web.helpers import ws_connect

        self.server = fast(hot=True)
        store_ledgers(self.server.backend, 3, 5, NOW - 2)
        self.hot = self.server.site.hot  # type: ignore[attr-defined]
        self.server.ws_factory.hot = self.hot
        self.hot.start()
        self.addCleanup(self.hot.stop)
        self.client = ws_connect(self.server)

    def test_repeat_served_from_memory(self) -> None:
        """The same WebSocket message twice: the same answer, the second from memory."""
        message = b'{"command": "ledger", "ledger_index": "validated", "id": 3}'
        (first,) = self.client.send_text(message)
        (second,) = self.client.send_text(message)
        self.assertEqual(first, second)
        self.assertEqual(orjson.loads(first)["id"], 3)
        self.assertEqual(self.hot.hits, 1)

    def test_http_and_ws_answers_kept_apart(self) -> None:
        """An HTTP body and a WebSocket message never share an entry (their envelopes differ)."""
        body = b'{"method": "ledger", "params": [{"ledger_index": "validated"}]}'
        proto, transport = connect(self.server)
        proto.dataReceived(post_bytes(body))
        self.client.send_text(body)
        self.assertEqual(self.hot.hits, 0)
        self.assertEqual(len(self.hot), 2)

    def test_hits_still_charged(self) -> None:
        """Each WebSocket hit counts a request and its bytes against the DOS guard."""
        message = b'{"command": "ledger", "ledger_index": "validated"}'
        self.client.send_text(message)
        before = self.server.guard._usage["127.0.0.1"].bytes_sent
        (answer,) = self.client.send_text(message)
        usage = self.server.guard._usage["127.0.0.1"]
        self.assertEqual((usage.requests, usage.bytes_sent), (2, before + len(answer)))


class HotOfferRuleTests(SynchronousTestCase):
    def setUp(self) -> None:
        server = make_server()
        store_ledgers(server.backend, 3, 5, NOW - 2)
        self.hot = HotAnswers(server.dispatcher, server.clock)
        self.hot.start()
        self.addCleanup(self.hot.stop)

    def offer(self, answer: dict[str, Any], ws: bool = False) -> int:
        body = (
            b'{"command": "ledger", "ledger_index": 9}'
            if ws
            else b'{"method": "ledger", "params": [{"ledger_index": 9}]}'
        )
        self.hot.offer(False, body, answer, orjson.dumps(answer), ws=ws)
        return len(self.hot)

    def test_transient_errors_not_kept(self) -> None:
        """tooBusy, notReady and failed forwarding (7000-7003) are answers of the moment, never kept."""
        for error in ("tooBusy", "notReady", "internal", "connectionError", "timeout"):
            self.assertEqual(self.offer({"result": {"error": error, "status": "error"}}), 0)
            self.assertEqual(self.offer({"error": error, "status": "error"}, ws=True), 0)

    def test_forwarded_not_kept(self) -> None:
        """An answer relayed from rippled is never kept."""
        self.assertEqual(self.offer({"result": {"status": "success"}, "forwarded": True}), 0)

    def test_request_errors_kept(self) -> None:
        """An error about the request itself (lgrNotFound) is the same for the same range: kept."""
        self.assertEqual(self.offer({"result": {"error": "lgrNotFound", "status": "error"}}), 1)
        self.assertEqual(self.offer({"error": "lgrNotFound", "status": "error"}, ws=True), 2)
