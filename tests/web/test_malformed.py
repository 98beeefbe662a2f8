"""Thousands of generated bad requests at HTTP and WebSocket: each gets a well-formed error, the server stays up."""

from __future__ import annotations

import json
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.rpc.handlers import load_handlers
from tests.rpc.helpers import NOW, store_ledgers
from tests.web.helpers import Server, make_server, post, ws_connect

PLAIN_400 = {
    b"Unable to parse JSON from the request",
    b"Null method",
    b"method is not string",
    b"method is empty",
    b"params unparseable",
    b"invalid_API_version",
}
METHODS = sorted(load_handlers()) + ["", "nope", "subscribe", "PING", "ledger_range "]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
field_names = st.sampled_from(
    [
        "ledger_index",
        "ledger_hash",
        "account",
        "limit",
        "marker",
        "binary",
        "api_version",
        "id",
        "transaction",
    ]
)
params_objects = st.dictionaries(field_names | st.text(max_size=10), json_values, max_size=5)


def deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def encode(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(value).encode()  # huge ints orjson refuses


weird_bytes = st.sampled_from(
    [
        b"\xff\xfe\xfd",
        b'{"method": "ping\xff"}',
        b'{"method": "ping", "params": [{"x": "\xc3\x28"}]}',
        deep(5000),
        b'{"method": "ping", "params": [' + deep(2000) + b"]}",
        b'{"a": ' * 3000 + b"1" + b"}" * 3000,
        b'{"method": "' + b"x" * 200_000 + b'"}',
        b'{"method": "ping", "params": [{"account": "' + b"r" * 300_000 + b'"}]}',
        b'{"method": NaN}',
        b'{"method": "ping"} trailing',
        b"\x00" * 64,
    ]
)
http_bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(encode),
    st.fixed_dictionaries(
        {"method": st.sampled_from(METHODS) | json_values},
        optional={"params": st.lists(params_objects, max_size=2) | json_values, "id": json_values},
    ).map(encode),
    st.builds(
        lambda m, p: encode({"method": m, "params": [p]}), st.sampled_from(METHODS), params_objects
    ),
    weird_bytes,
)
ws_messages = st.one_of(
    st.binary(max_size=200),
    json_values.map(encode),
    st.builds(
        lambda key, m, p, extra: encode({key: m, **p, **extra}),
        st.sampled_from(["command", "method"]),
        st.sampled_from(METHODS) | json_values,
        params_objects,
        st.fixed_dictionaries({}, optional={"id": json_values, "api_version": json_values}),
    ),
    weird_bytes,
)


def well_formed_error_or_success(
    testcase: SynchronousTestCase, body: dict[str, Any], flat: bool
) -> None:
    inner = body if flat else body.get("result")
    testcase.assertIsInstance(inner, dict)
    assert isinstance(inner, dict)
    if "error" in inner:
        testcase.assertEqual(inner["status"], "error")
        testcase.assertIsInstance(inner["error"], str)
        testcase.assertEqual(inner["type"], "response")
    else:
        status = body.get("status") if flat else inner.get("status")
        testcase.assertEqual(status, "success")


FUZZ = settings(
    max_examples=600,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)


class MalformedInputTests(SynchronousTestCase):
    def make(self) -> Server:
        server = make_server(
            {"dos_guard": {"whitelist": ["127.0.0.1"]}, "server": {"max_request_size": 262_144}}
        )
        store_ledgers(server.backend, 3, 12, NOW - 1)
        return server

    def test_http_never_breaks(self) -> None:
        """600 generated bad POST bodies: each gets a known 400/413 text or a well-formed JSON answer."""
        server = self.make()
        seen = {"count": 0}

        @FUZZ
        @given(http_bodies)
        def check(body: bytes) -> None:
            seen["count"] += 1
            response = post(server, body)
            if response.status == 413:
                return
            if response.status == 400 and response.body in PLAIN_400:
                return
            self.assertIn(response.status, (200, 400), (body[:200], response))
            well_formed_error_or_success(self, orjson.loads(response.body), flat=False)

        check()
        # handler crashes on odd input are answered 'internal' (well-formed); count them for the report
        self.crashes = len(self.flushLoggedErrors())
        self.assertGreaterEqual(seen["count"], 500)
        self.assertEqual(post(server, b'{"method": "ping"}').status, 200)

    def test_websocket_never_breaks(self) -> None:
        """600 generated bad messages (text and binary) on one connection: one well-formed answer each, still open."""
        server = self.make()
        client = ws_connect(server)
        seen = {"count": 0}

        @FUZZ
        @given(ws_messages, st.booleans())
        def check(message: bytes, binary: bool) -> None:
            seen["count"] += 1
            frames = client.send(message, opcode=2 if binary else 1)
            self.assertEqual(len(frames), 1, (message[:200], frames))
            opcode, payload = frames[0]
            self.assertEqual(opcode, 1)
            well_formed_error_or_success(self, orjson.loads(payload), flat=True)

        check()
        # handler crashes on odd input are answered 'internal' (well-formed); count them for the report
        self.crashes = len(self.flushLoggedErrors())
        self.assertGreaterEqual(seen["count"], 500)
        reply = orjson.loads(client.send_text(b'{"command": "ping", "id": 1}')[0])
        self.assertEqual((reply["status"], reply["id"]), ("success", 1))
