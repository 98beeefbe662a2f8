"""JSON-RPC over HTTP: every transport-level error and envelope rule, checked on the exact bytes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson

from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.rpc.context import Context, Handler, JsonDict, NoInput, parse_nothing
from tests.rpc.helpers import NOW, store_ledgers
from tests.web.helpers import (
    connect,
    make_server,
    parse_response,
    post,
    post_bytes,
    request,
    rippled_json,
)

DATA = Path(__file__).parent / "data" / "envelope-answers.jsonl"
RECORDED = {row["method"]: row for row in map(json.loads, DATA.read_text().splitlines())}
CLIO_WARNING = {
    "id": 2001,
    "message": "This is a clio server. clio only serves validated data. If you want to talk to "
    "rippled, include 'ledger_index':'current' in your request",
}
OUTDATED_WARNING = {"id": 2002, "message": "This server may be out of date"}


def ordered(value: Any) -> bytes:
    """JSON bytes in rippled's key order, to compare answers field order and all."""
    return rippled_json(value)


class TransportErrorTests(SynchronousTestCase):
    """Transport-level errors: HTTP status codes and plain-text bodies, as Clio sends them."""

    def setUp(self) -> None:
        self.server = make_server()

    def assertPlain(self, body: bytes, status: int, text: bytes) -> None:
        response = post(self.server, body)
        self.assertEqual((response.status, response.body), (status, text))

    def test_invalid_json_matches_clio(self) -> None:
        """A truncated JSON body gets Clio's recorded 400 answer, byte for byte."""
        row = RECORDED["invalid_json"]
        response = post(self.server, row["request"]["_raw"].encode())
        self.assertEqual(response.status, row["clio_http_status"])
        self.assertEqual(response.body.decode(), row["clio_response"]["_non_json_body"])

    def test_json_that_is_not_an_object(self) -> None:
        """A JSON array, string or number body is 'Unable to parse JSON from the request'."""
        for body in (b"[]", b'"ping"', b"1", b"null", b""):
            self.assertPlain(body, 400, b"Unable to parse JSON from the request")

    def test_missing_method_matches_clio(self) -> None:
        """No method: Clio's recorded 400 'Null method'."""
        row = RECORDED["no_method"]
        response = post(self.server, json.dumps(row["request"]).encode())
        self.assertEqual(response.status, row["clio_http_status"])
        self.assertEqual(response.body.decode(), row["clio_response"]["_non_json_body"])

    def test_method_not_string(self) -> None:
        """A non-string method is 400 'method is not string'."""
        for method in (b"1", b"null", b"[]", b"{}", b"true"):
            self.assertPlain(b'{"method": ' + method + b"}", 400, b"method is not string")

    def test_method_empty(self) -> None:
        """An empty method is 400 'method is empty'."""
        self.assertPlain(b'{"method": ""}', 400, b"method is empty")

    def test_params_unparseable(self) -> None:
        """params that is not one object in an array is 400 'params unparseable'."""
        for params in (b'"x"', b"1", b'{"a": 1}', b"[{}, {}]", b"[1]", b'["x"]', b"[[]]", b"true"):
            self.assertPlain(
                b'{"method": "ping", "params": ' + params + b"}", 400, b"params unparseable"
            )

    def test_params_replaced_like_rippled(self) -> None:
        """Missing, null, empty string, {}, [], [null] and [""] params all mean [{}]."""
        for extra in (
            b"",
            b', "params": null',
            b', "params": ""',
            b', "params": {}',
            b', "params": []',
            b', "params": [null]',
            b', "params": [""]',
        ):
            response = post(self.server, b'{"method": "ping"' + extra + b"}")
            self.assertEqual(response.status, 200, extra)
            self.assertEqual(orjson.loads(response.body)["result"], {"status": "success"})

    def test_invalid_api_version(self) -> None:
        """A bad api_version in params is 400 'invalid_API_version'."""
        for version in (b'"1"', b"3", b"0", b"1.5", b"true", b"null"):
            body = b'{"method": "ping", "params": [{"api_version": ' + version + b"}]}"
            self.assertPlain(body, 400, b"invalid_API_version")

    def test_non_post_is_refused(self) -> None:
        """GET, PUT and DELETE on / are 400 'Expected a POST request'."""
        for method in (b"GET", b"PUT", b"DELETE"):
            raw = method + b" / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
            response = request(self.server, raw)
            self.assertEqual((response.status, response.body), (400, b"Expected a POST request"))

    def test_websocket_only_command_over_http(self) -> None:
        """A WebSocket-only command over HTTP is 400 with a badSyntax JSON error echoing the request."""

        async def process(ctx: Context, inp: NoInput) -> JsonDict:
            return {}

        self.server.dispatcher._handlers["subscribe"] = Handler(
            "subscribe", parse_nothing, process, ws_only=True, needs_ledger_range=False
        )
        response = post(
            self.server, b'{"method": "subscribe", "params": [{"streams": ["ledger"]}]}'
        )
        self.assertEqual(response.status, 400)
        self.assertEqual(
            response.body,
            ordered(
                {
                    "result": {
                        "error": "badSyntax",
                        "error_code": 1,
                        "error_message": "Subscribe and unsubscribe are only allowed or websocket.",
                        "status": "error",
                        "type": "response",
                        "request": {"method": "subscribe", "params": [{"streams": ["ledger"]}]},
                    }
                }
            ),
        )

    def test_body_over_limit_is_413_and_closes(self) -> None:
        """A Content-Length over server.max_request_size is refused at once with 413 and the connection closes."""
        server = make_server({"server": {"max_request_size": 2048}})
        channel, transport = connect(server)
        channel.dataReceived(
            post_bytes(b"x" * 10)[:-10].replace(b"Content-Length: 10", b"Content-Length: 4096")
        )
        response = parse_response(transport.value())
        self.assertEqual(response.status, 413)
        self.assertEqual(response.body, b"Request body too large (limit 2048 bytes)")
        self.assertTrue(transport.disconnecting)

    def test_chunked_body_over_limit_is_413(self) -> None:
        """A chunked body is refused as soon as it passes the limit, without waiting for the end."""
        server = make_server({"server": {"max_request_size": 2048}})
        channel, transport = connect(server)
        channel.dataReceived(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"a" * 1500
        channel.dataReceived(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        self.assertEqual(transport.value(), b"")
        channel.dataReceived(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        self.assertEqual(parse_response(transport.value()).status, 413)
        self.assertTrue(transport.disconnecting)


class EnvelopeTests(SynchronousTestCase):
    """The JSON envelope: result wrapping, status, request echo, warnings."""

    def setUp(self) -> None:
        self.server = make_server()

    def test_unknown_method_matches_clio(self) -> None:
        """unknownCmd: Clio's recorded answer, byte for byte (a stale ledger adds 2002)."""
        row = RECORDED["no_such_method"]
        store_ledgers(self.server.backend, 3, 270, NOW - 3600)
        response = post(self.server, json.dumps(row["request"]).encode())
        self.assertEqual(response.status, row["clio_http_status"])
        self.assertEqual(response.body, ordered(row["clio_response"]))

    def test_version_matches_clio(self) -> None:
        """version: Clio's recorded shape and warnings; 'last' is our configured max (Clio's build had 3)."""
        expected = RECORDED["version"]["clio_response"]
        expected["result"]["version"]["last"] = 2
        response = post(self.server, b'{"method": "version"}')
        self.assertEqual(response.status, 200)
        self.assertEqual(response.body, ordered(expected))

    def test_success_with_fresh_ledger(self) -> None:
        """A success is {"result": {..., "status": "success"}, "warnings": [2001]} with a fresh ledger."""
        store_ledgers(self.server.backend, 3, 10, NOW - 1)
        response = post(self.server, b'{"method": "ledger_range", "params": [{}]}')
        self.assertEqual(
            response.body,
            ordered(
                {
                    "result": {"ledger_index_min": 3, "ledger_index_max": 10, "status": "success"},
                    "warnings": [CLIO_WARNING],
                }
            ),
        )
        self.assertEqual(response.headers["content-type"], "application/json")

    def test_error_echoes_id_and_request(self) -> None:
        """An error answer carries the request (and its id) inside result, HTTP 200."""
        store_ledgers(self.server.backend, 3, 10, NOW - 1)
        response = post(self.server, b'{"method": "nope", "id": 7, "params": [{"a": 1}]}')
        self.assertEqual(response.status, 200)
        self.assertEqual(
            response.body,
            ordered(
                {
                    "result": {
                        "error": "unknownCmd",
                        "error_code": 32,
                        "error_message": "Unknown method.",
                        "status": "error",
                        "type": "response",
                        "id": 7,
                        "request": {"method": "nope", "id": 7, "params": [{"a": 1}]},
                    },
                    "warnings": [CLIO_WARNING],
                }
            ),
        )

    def test_not_ready_before_any_ledger(self) -> None:
        """Before any ledger: notReady, HTTP 200, request echoed, no warnings (as Clio)."""
        response = post(self.server, b'{"method": "ledger_range"}')
        self.assertEqual(response.status, 200)
        self.assertEqual(
            response.body,
            ordered(
                {
                    "result": {
                        "error": "notReady",
                        "error_code": 13,
                        "error_message": "Not ready to handle this request.",
                        "status": "error",
                        "type": "response",
                        "request": {"method": "ledger_range", "params": [{}]},
                    }
                }
            ),
        )

    def test_internal_error_keeps_serving(self) -> None:
        """A handler crash answers internal (with warnings) and the next request is served."""

        async def boom(ctx: Context, inp: NoInput) -> JsonDict:
            raise RuntimeError("boom")

        self.server.dispatcher._handlers["boom"] = Handler(
            "boom", parse_nothing, boom, needs_ledger_range=False
        )
        body = orjson.loads(post(self.server, b'{"method": "boom"}').body)
        self.assertEqual(body["result"]["error"], "internal")
        self.assertEqual(body["result"]["error_code"], 73)
        self.assertEqual(body["warnings"][0], CLIO_WARNING)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        self.assertEqual(post(self.server, b'{"method": "ping"}').status, 200)

    def test_api_version_2_accepted(self) -> None:
        """api_version 2 in params is accepted."""
        response = post(self.server, b'{"method": "ping", "params": [{"api_version": 2}]}')
        self.assertEqual(response.status, 200)


class HealthTests(SynchronousTestCase):
    def test_health_503_then_200(self) -> None:
        """GET /health is 503 with a reason until a ledger is stored, then 200 with the range."""
        server = make_server()
        raw = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
        before = request(server, raw)
        self.assertEqual(before.status, 503)
        self.assertEqual(
            orjson.loads(before.body), {"status": "not_ready", "reason": "no ledger stored yet"}
        )
        store_ledgers(server.backend, 3, 5, NOW - 2)
        after = request(server, raw)
        self.assertEqual(after.status, 200)
        self.assertEqual(
            orjson.loads(after.body),
            {"status": "ok", "complete_ledgers": "3-5", "validated_ledger_age": 2},
        )


class DisconnectTests(SynchronousTestCase):
    def test_client_gone_cancels_the_request(self) -> None:
        """When the client disconnects mid-request, the handler's work is cancelled and nothing is logged."""
        from twisted.internet.defer import CancelledError, Deferred
        from twisted.internet.error import ConnectionDone
        from twisted.python.failure import Failure

        server = make_server()
        gate: Deferred[None] = Deferred()
        seen: list[str] = []

        async def slow(ctx: Context, inp: NoInput) -> JsonDict:
            try:
                await gate
            except CancelledError:
                seen.append("cancelled")
                raise
            return {}

        server.dispatcher._handlers["slow"] = Handler(
            "slow", parse_nothing, slow, needs_ledger_range=False
        )
        channel, transport = connect(server)
        channel.dataReceived(post_bytes(b'{"method": "slow"}'))
        self.assertEqual(len(server.inflight), 1)
        channel.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(seen, ["cancelled"])
        self.assertEqual(len(server.inflight), 0)
        self.assertEqual(transport.value(), b"")
