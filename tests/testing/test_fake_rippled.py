"""Tests for the rippled stand-in: answers, ledger stream, hooks, and its command line."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol
from twisted.internet.defer import Deferred, inlineCallbacks
from twisted.internet.task import Clock
from twisted.trial.unittest import SkipTest, SynchronousTestCase, TestCase

from clio_twisted.protocol.ledger_header import LedgerHeader
from clio_twisted.testing._fake_errors import RpcError
from clio_twisted.testing.chain import Chain, ChainLedger
from clio_twisted.testing.fake_rippled import (
    FakeRippled,
    RippledFactory,
    RippledProtocol,
    build_server,
    load_ledger_file,
    make_parser,
    replay_server,
)
from clio_twisted.testing.replay import DEFAULT_CORPUS, load_ledgers

_LEDGERS = load_ledgers()
_CONFORMANCE: list[dict[str, Any]] = json.loads(
    gzip.decompress((DEFAULT_CORPUS / "conformance.json.gz").read_bytes())
)
# Request options this double does not implement: admin views, offer funding,
# and the AMM and cross-chain ledger_entry selectors.
_UNSUPPORTED = (
    "owner_funds",
    "accounts",
    "amm",
    "bridge_account",
    "xchain_owned_claim_id",
    "xchain_owned_create_account_claim_id",
)


class _FakeProtocol:
    """Stands in for a WebSocket connection: records what is sent, and drops."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.dropped = False

    def send_json(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    def dropConnection(self, abort: bool = False) -> None:  # noqa: N802 - autobahn's name
        self.dropped = True


def _server(start: int = 270, clock: Clock | None = None) -> FakeRippled:
    return replay_server(clock or Clock(), start=start)


def _ask(server: FakeRippled, protocol: Any = None, **request: Any) -> dict[str, Any]:
    answer = server.answer({"id": 7, **request}, protocol)
    assert answer is not None
    return answer


def _strip(result: dict[str, Any]) -> dict[str, Any]:
    """A recorded JSON-RPC result as the WS envelope carries it."""
    return {k: v for k, v in result.items() if k not in ("status", "request")}


class ConformanceTests(SynchronousTestCase):
    """The fake's answers against rippled 3.1.1's recorded answers to the same requests."""

    def _check(self, want_binary: bool) -> int:
        server = _server()
        checked = 0
        for case in _CONFORMANCE:
            params = case["params"]
            if any(option in params for option in _UNSUPPORTED):
                continue
            binary = str(params.get("binary", False)) not in ("False", "false")
            if binary != want_binary:
                continue
            answer = _ask(server, command=case["method"], **params)
            expected = _strip(case["result"])
            if "error" in expected:
                got = {k: answer.get(k) for k in ("error", "error_code", "error_message")}
                want = {k: expected.get(k) for k in ("error", "error_code", "error_message")}
                self.assertEqual(got, want, case["label"])
            else:
                self.assertEqual(answer["status"], "success", (case["label"], answer))
                self.assertEqual(_strip(answer["result"]), expected, case["label"])
            checked += 1
        return checked

    def test_binary_answers_match_rippled(self) -> None:
        """Every recorded binary ledger/ledger_data/ledger_entry/tx answer is reproduced exactly."""
        self.assertGreater(self._check(want_binary=True), 200)

    def test_json_answers_match_rippled(self) -> None:
        """Every recorded JSON answer and error is reproduced exactly."""
        self.assertGreater(self._check(want_binary=False), 900)


class EnvelopeTests(SynchronousTestCase):
    def test_success_envelope(self) -> None:
        """A success carries id, api_version, result, status and type as rippled's WS does."""
        answer = _ask(_server(), command="ledger_closed", api_version=2)
        self.assertEqual(
            answer,
            {
                "api_version": 2,
                "id": 7,
                "result": {"ledger_hash": _LEDGERS[-1].hash.hex().upper(), "ledger_index": 270},
                "status": "success",
                "type": "response",
            },
        )

    def test_error_envelope(self) -> None:
        """An error is flat: token, code, message and the request echoed."""
        answer = _ask(_server(), command="ledger", ledger_index=99999999)
        self.assertEqual(
            answer,
            {
                "error": "lgrNotFound",
                "error_code": 21,
                "error_message": "ledgerNotFound",
                "id": 7,
                "request": {"command": "ledger", "id": 7, "ledger_index": 99999999},
                "status": "error",
                "type": "response",
            },
        )

    def test_unknown_command(self) -> None:
        """An unknown command is unknownCmd."""
        self.assertEqual(_ask(_server(), command="no_such")["error"], "unknownCmd")

    def test_method_accepted_for_command(self) -> None:
        """``method`` names the command when ``command`` is absent."""
        self.assertEqual(_ask(_server(), method="ping")["status"], "success")

    def test_missing_command(self) -> None:
        """No command, a command that is no string, or command and method differing: missingCommand."""
        server = _server()
        self.assertEqual(_ask(server)["error"], "missingCommand")
        self.assertEqual(_ask(server, command=5)["error"], "missingCommand")
        self.assertEqual(_ask(server, command="ping", method="fee")["error"], "missingCommand")

    def test_invalid_api_version(self) -> None:
        """An api_version rippled 3.1.1 does not serve is invalid_API_version, echoed back."""
        answer = _ask(_server(), command="ping", api_version=3)
        self.assertEqual(
            answer,
            {
                "api_version": 3,
                "error": "invalid_API_version",
                "id": 7,
                "request": {"api_version": 3, "command": "ping", "id": 7},
                "status": "error",
                "type": "response",
            },
        )


class LedgerDataTests(SynchronousTestCase):
    def _big_chain(self, count: int) -> FakeRippled:
        state = {
            n.to_bytes(32, "big"): _LEDGERS[0].changes[min(_LEDGERS[0].changes)]
            for n in range(1, count + 1)
        }
        chain = Chain()
        chain.append(ChainLedger(_LEDGERS[0].header, (), state))
        return FakeRippled(chain, Clock())

    def test_binary_pages_walk_whole_state(self) -> None:
        """Binary pages chained by marker return every object of the ledger once, in key order."""
        server = _server()
        marker, keys = None, []
        while True:
            request: dict[str, Any] = {
                "command": "ledger_data",
                "binary": True,
                "limit": 7,
                "ledger_index": 150,
            }
            if marker is not None:
                request["marker"] = marker
            result = _ask(server, **request)["result"]
            keys += [item["index"] for item in result["state"]]
            self.assertLessEqual(len(result["state"]), 7)
            marker = result.get("marker")
            if marker is None:
                break
        state, _ = server.chain.page(None, 150, 10**9)
        self.assertEqual(keys, [k.hex().upper() for k, _ in state])

    def test_marker_any_key(self) -> None:
        """A marker that is no object's key starts at the next key after it."""
        server = _server()
        state, _ = server.chain.page(None, 270, 10**9)
        between = (int.from_bytes(state[4][0], "big") + 1).to_bytes(32, "big").hex()
        result = _ask(server, command="ledger_data", binary=True, limit=1, marker=between)["result"]
        self.assertEqual(result["state"][0]["index"], state[5][0].hex().upper())
        self.assertNotIn("ledger", result)

    def test_limits_clamp(self) -> None:
        """limit clamps to 2048 in binary and 256 in JSON, and defaults to those."""
        server = self._big_chain(3000)
        binary = _ask(server, command="ledger_data", binary=True, limit=5000)["result"]
        self.assertEqual(len(binary["state"]), 2048)
        self.assertEqual(
            len(_ask(server, command="ledger_data", binary=True)["result"]["state"]), 2048
        )
        json_page = _ask(server, command="ledger_data", limit=1000)["result"]
        self.assertEqual(len(json_page["state"]), 256)

    def test_first_page_carries_header(self) -> None:
        """The first page holds the ledger header, binary or JSON."""
        server = _server()
        result = _ask(server, command="ledger_data", binary=True, limit=1, ledger_index=31)[
            "result"
        ]
        self.assertEqual(
            LedgerHeader.from_bytes(bytes.fromhex(result["ledger"]["ledger_data"])),
            server.chain.ledger(31).header,  # type: ignore[union-attr]
        )


class StreamTests(SynchronousTestCase):
    def test_subscribe_then_ledger_closed(self) -> None:
        """A ledger subscriber gets rippled's ledgerClosed message for each new ledger."""
        clock = Clock()
        server = _server(start=26, clock=clock)
        protocol = _FakeProtocol()
        answer = _ask(server, protocol, command="subscribe", streams=["ledger"])
        self.assertEqual(answer["result"]["ledger_index"], 26)
        self.assertEqual(answer["result"]["validated_ledgers"], "3-26")
        server.start(1.0)
        clock.advance(1.0)
        clock.advance(1.0)
        self.assertEqual(
            protocol.sent[0],
            {
                "fee_base": 10,
                "ledger_hash": "155B87CF74FFEE7F01713BED384DD990DF34F902E0522C9BCE5B149BBDA07F31",
                "ledger_index": 27,
                "ledger_time": 849058475,
                "network_id": 0,
                "reserve_base": 10000000,
                "reserve_inc": 2000000,
                "txn_count": _LEDGERS[24].transactions.__len__(),
                "type": "ledgerClosed",
                "validated_ledgers": "3-27",
            },
        )
        self.assertEqual([m["ledger_index"] for m in protocol.sent], [27, 28])
        server.stop()

    def test_closed_subscriber_does_not_stop_the_ledger_clock(self) -> None:
        """A subscriber gone before its onClose is skipped; the others still get every ledger."""
        clock = Clock()
        server = _server(start=26, clock=clock)
        closed = RippledProtocol()
        closed.state = closed.STATE_CLOSED
        _ask(server, closed, command="subscribe", streams=["ledger"])
        open_ = _FakeProtocol()
        _ask(server, open_, command="subscribe", streams=["ledger"])
        server.start(1.0)
        clock.advance(1.0)
        clock.advance(1.0)
        self.assertEqual([m["ledger_index"] for m in open_.sent], [27, 28])
        server.stop()

    def test_unsubscribe_stops_messages(self) -> None:
        """After unsubscribe, no more ledgerClosed messages arrive."""
        server = _server(start=100)
        protocol = _FakeProtocol()
        _ask(server, protocol, command="subscribe", streams=["ledger"])
        self.assertEqual(
            _ask(server, protocol, command="unsubscribe", streams=["ledger"])["result"], {}
        )
        server.validate_next()
        self.assertEqual(protocol.sent, [])

    def test_unknown_stream(self) -> None:
        """An unknown stream name is malformedStream."""
        self.assertEqual(
            _ask(_server(), command="subscribe", streams=["bogus"])["error"], "malformedStream"
        )

    def test_replay_ends(self) -> None:
        """Once the corpus is served, validate_next does nothing."""
        server = _server(start=269)
        self.assertEqual(server.validate_next().sequence, 270)  # type: ignore[union-attr]
        self.assertIsNone(server.validate_next())
        self.assertEqual(server.chain.last, 270)


class HookTests(SynchronousTestCase):
    def test_stall_for_seconds(self) -> None:
        """A stalled server answers nothing and publishes nothing until the stall ends."""
        clock = Clock()
        server = _server(start=100, clock=clock)
        protocol = _FakeProtocol()
        _ask(server, protocol, command="subscribe", streams=["ledger"])
        server.stall(5)
        self.assertIsNone(server.answer({"command": "ping"}))
        server.validate_next()
        self.assertEqual(protocol.sent, [])
        clock.advance(5)
        self.assertEqual(_ask(server, command="ping")["status"], "success")

    def test_stall_forever_and_resume(self) -> None:
        """stall() without a time lasts until resume()."""
        clock = Clock()
        server = _server(clock=clock)
        server.stall()
        clock.advance(10**6)
        self.assertIsNone(server.answer({"command": "ping"}))
        server.resume()
        self.assertIsNotNone(server.answer({"command": "ping"}))

    def test_refuse_and_allow(self) -> None:
        """refuse answers one command with an error until allow."""
        server = _server()
        server.refuse("ledger_data", "tooBusy")
        self.assertEqual(_ask(server, command="ledger_data")["error"], "tooBusy")
        self.assertEqual(_ask(server, command="ping")["status"], "success")
        server.refuse(
            "ping", RpcError("slowDown", 10, "You are placing too much load on the server.")
        )
        self.assertEqual(_ask(server, command="ping")["error_code"], 10)
        server.allow("ledger_data")
        self.assertEqual(_ask(server, command="ledger_data", limit=1)["status"], "success")

    def test_fail_next(self) -> None:
        """fail_next fails exactly the next n requests."""
        server = _server()
        server.fail_next(2, "notReady")
        self.assertEqual(
            [_ask(server, command="ping").get("error") for _ in range(3)],
            ["notReady", "notReady", None],
        )

    def test_drop_all_connections(self) -> None:
        """drop_all_connections aborts every open connection."""
        server = _server()
        protocols = [_FakeProtocol(), _FakeProtocol()]
        for protocol in protocols:
            server.connection_made(protocol)  # type: ignore[arg-type]
        server.drop_all_connections()
        self.assertTrue(all(p.dropped for p in protocols))


class ForwardedTests(SynchronousTestCase):
    def test_server_info(self) -> None:
        """server_info reports the range, build and validated ledger as rippled does."""
        info = _ask(_server(start=100), command="server_info")["result"]["info"]
        self.assertEqual(info["build_version"], "3.1.1")
        self.assertEqual(info["complete_ledgers"], "3-100")
        self.assertEqual(info["validated_ledger"]["seq"], 100)
        self.assertEqual(info["validated_ledger"]["reserve_base_xrp"], 10)
        self.assertNotIn("network_id", info)

    def test_server_state(self) -> None:
        """server_state shares server_info's status fields but gives fees in drops."""
        server = _server(start=100)
        info = _ask(server, command="server_info")["result"]["info"]
        state = _ask(server, command="server_state")["result"]["state"]
        for name in ("build_version", "complete_ledgers", "server_state", "time", "uptime"):
            self.assertEqual(state[name], info[name], name)
        self.assertEqual(state["complete_ledgers"], "3-100")
        self.assertEqual(state["validated_ledger"]["seq"], 100)
        self.assertEqual(state["validated_ledger"]["reserve_base"], 10_000_000)
        self.assertEqual(list(state), sorted(state))

    def test_network_id(self) -> None:
        """A configured network id shows in server_info."""
        server = replay_server(Clock(), network_id=21338)
        self.assertEqual(_ask(server, command="server_info")["result"]["info"]["network_id"], 21338)

    def test_fee_and_current(self) -> None:
        """fee and ledger_current name the open ledger after the last validated one."""
        server = _server(start=100)
        self.assertEqual(
            _ask(server, command="ledger_current")["result"], {"ledger_current_index": 101}
        )
        fee = _ask(server, command="fee")["result"]
        self.assertEqual((fee["ledger_current_index"], fee["drops"]["base_fee"]), (101, "10"))

    def test_submit(self) -> None:
        """submit answers rippled's shape, naming the submitted transaction's hash."""
        ledger = _LEDGERS[-1]
        tx_hash, blob, _ = ledger.transactions[0]
        result = _ask(_server(), command="submit", tx_blob=blob.hex())["result"]
        self.assertEqual(result["engine_result"], "tesSUCCESS")
        self.assertEqual(result["tx_json"]["hash"], tx_hash.hex().upper())
        self.assertEqual(_ask(_server(), command="submit", tx_blob="zz")["error"], "invalidParams")

    def test_verbatim_and_definitions(self) -> None:
        """channel_verify replays rippled's recorded answer; server_definitions is served."""
        server = _server()
        self.assertIn("TYPES", _ask(server, command="server_definitions")["result"])
        self.assertIn(
            "signature_verified", _ask(server, command="channel_verify", amount="1")["result"]
        )


def _run_cli(*args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    return subprocess.Popen(
        [sys.executable, "-m", "clio_twisted.testing.fake_rippled", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )


class ProcessTests(SynchronousTestCase):
    """The real command on a real socket, driven by xrpl-py's AsyncWebsocketClient."""

    def test_help_documents_options(self) -> None:
        """--help lists every option."""
        process = _run_cli("--help")
        out, _ = process.communicate(timeout=30)
        for option in (
            "--port",
            "--replay",
            "--start",
            "--interval",
            "--ledger",
            "--forge",
            "--seed",
        ):
            self.assertIn(option, out)

    def test_replay_over_websocket(self) -> None:
        """A replaying server answers xrpl-py and publishes ledgers as they validate."""
        process = _run_cli("--replay", "--start", "200", "--port", "0", "--interval", "0.2")
        self.addCleanup(process.wait, 10)
        self.addCleanup(process.terminate)
        assert process.stdout is not None
        line = process.stdout.readline()
        port = int(line.split("ws://127.0.0.1:")[1].split()[0])
        seen = asyncio.run(asyncio.wait_for(_client_session(port), 20))
        self.assertEqual(seen["info_seq"] >= 200, True)
        self.assertEqual(seen["entry_binary"], seen["entry_expected"])
        self.assertEqual(seen["closed"][1] - seen["closed"][0], 1)


async def _client_session(port: int) -> dict[str, Any]:
    from xrpl.asyncio.clients import AsyncWebsocketClient
    from xrpl.models.requests import LedgerEntry, ServerInfo, StreamParameter, Subscribe

    seen: dict[str, Any] = {}
    key, blob = sorted(_LEDGERS[0].changes.items())[0]
    async with AsyncWebsocketClient(f"ws://127.0.0.1:{port}") as client:
        info = await client.request(ServerInfo())
        seen["info_seq"] = info.result["info"]["validated_ledger"]["seq"]
        entry = await client.request(
            LedgerEntry(index=key.hex().upper(), ledger_index=3, binary=True)
        )
        seen["entry_binary"] = entry.result["node_binary"]
        seen["entry_expected"] = blob.hex().upper() if blob else None
        await client.request(Subscribe(streams=[StreamParameter.LEDGER]))
        closed: list[int] = []
        async for message in client:
            if message.get("type") == "ledgerClosed":
                closed.append(message["ledger_index"])
                if len(closed) == 2:
                    break
        seen["closed"] = closed
    return seen


class LedgerFileTests(SynchronousTestCase):
    def _ledger_json(self, sequence: int) -> dict[str, Any]:
        """A rippled-style full ledger JSON, as the mainnet fixtures are, made from the corpus."""
        from clio_twisted.protocol.codec import decode

        chain = _server(start=sequence).chain
        ledger = chain.ledger(sequence)
        assert ledger is not None
        state, _ = chain.page(None, sequence, 10**9)
        return {
            **ledger.header.to_json(1),
            "accountState": [{**decode(blob), "index": key.hex().upper()} for key, blob in state],
            "transactions": [
                {**decode(tx), "hash": h.hex().upper(), "metaData": decode(meta)}
                for h, tx, meta in sorted(ledger.transactions)
            ],
        }

    def test_load_ledger_file_round_trips(self) -> None:
        """A full ledger JSON loads back into the same header, state and transactions."""
        original = _server(start=40).chain
        path = Path(self.mktemp())
        path.write_text(json.dumps({"result": {"ledger": self._ledger_json(40)}}))
        loaded = load_ledger_file(path)
        expected = original.ledger(40)
        assert expected is not None
        self.assertEqual(loaded.header, expected.header)
        self.assertEqual(loaded.transactions, expected.transactions)
        self.assertEqual(sorted(loaded.changes.items()), original.page(None, 40, 10**9)[0])

    def test_build_server_from_ledger_file(self) -> None:
        """--ledger serves that one ledger; without --forge no more ledgers come."""
        path = Path(self.mktemp())
        path.write_text(json.dumps(self._ledger_json(12)))
        args = make_parser().parse_args(["--ledger", str(path)])
        server = build_server(args, Clock())
        self.assertEqual(
            _ask(server, command="server_info")["result"]["info"]["complete_ledgers"], "12"
        )
        self.assertIsNone(server.validate_next())


class ForgeModeTests(SynchronousTestCase):
    def setUp(self) -> None:
        try:
            import clio_twisted.testing.forge  # noqa: F401
        except ImportError as e:
            raise SkipTest("clio_twisted.testing.forge not available") from e

    def test_forged_ledgers_served(self) -> None:
        """--forge serves mainnet 38129 then exactly COUNT forged successors, hash-consistent."""
        from clio_twisted.protocol.shamap import SHAMap

        server = build_server(make_parser().parse_args(["--forge", "3", "--seed", "5"]), Clock())
        self.assertEqual(server.chain.last, 38129)
        protocol = _FakeProtocol()
        _ask(server, protocol, command="subscribe", streams=["ledger"])
        for _ in range(4):
            server.validate_next()
        self.assertEqual([m["ledger_index"] for m in protocol.sent], [38130, 38131, 38132])
        self.assertEqual(server.context.validated_ledgers(), "38129-38132")
        state, _ = server.chain.page(None, 38132, 10**9)
        ledger = server.chain.ledger(38132)
        assert ledger is not None
        self.assertEqual(SHAMap(state).root_hash(), ledger.header.account_hash)
        answer = _ask(
            server,
            command="ledger",
            ledger_index=38132,
            binary=True,
            transactions=True,
            expand=True,
        )
        self.assertEqual(len(answer["result"]["ledger"]["transactions"]), len(ledger.transactions))


class _Client(WebSocketClientProtocol):
    """A bare autobahn client that hands its messages and its close to the test."""

    def onOpen(self) -> None:  # noqa: N802 - autobahn's name
        self.factory.opened.callback(self)

    def onMessage(self, payload: bytes, isBinary: bool) -> None:  # noqa: N802, N803
        self.factory.messages.append(json.loads(payload))
        if self.factory.waiting is not None:
            waiting, self.factory.waiting = self.factory.waiting, None
            waiting.callback(None)

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:  # noqa: N802, N803
        self.factory.closed.callback(code)


class InProcessSocketTests(TestCase):
    """The real protocol and factory on a 127.0.0.1 socket, in this process."""

    timeout = 10

    async def _connect(self) -> tuple[FakeRippled, Any, WebSocketClientFactory]:
        from twisted.internet import reactor

        server = _server(start=100, clock=Clock())
        port = reactor.listenTCP(0, RippledFactory(server), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        url = f"ws://127.0.0.1:{port.getHost().port}"
        factory = WebSocketClientFactory(url)
        factory.protocol = _Client
        factory.opened, factory.closed, factory.waiting = Deferred(), Deferred(), None
        factory.messages = []
        connector = reactor.connectTCP("127.0.0.1", port.getHost().port, factory)
        self.addCleanup(connector.disconnect)
        client = await factory.opened
        return server, client, factory

    @inlineCallbacks
    def test_answer_then_drop(self) -> Any:
        """A request over the socket is answered; drop_all_connections closes the socket."""
        server, client, factory = yield Deferred.fromCoroutine(self._connect())
        factory.waiting = Deferred()
        client.sendMessage(json.dumps({"id": 1, "command": "ledger_closed"}).encode())
        yield factory.waiting
        self.assertEqual(factory.messages[0]["result"]["ledger_index"], 100)
        self.assertEqual(len(server.connections), 1)
        server.drop_all_connections()
        yield factory.closed
        self.assertEqual(len(server.connections), 0)
