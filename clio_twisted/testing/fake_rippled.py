"""A rippled stand-in: rippled's WebSocket API over real ledgers.

There is no rippled on our machines, so the project ships its own. It serves
a ``Chain`` of real ledgers (the recorded rippled 3.1.1 corpus replayed, a
mainnet fixture, or forged successors) over WebSocket exactly as rippled
answers: the ``ledger`` stream, ``ledger``/``ledger_data``/``ledger_entry``/
``tx`` in binary and JSON, ``server_info``, and plausible answers to the
commands Clio forwards. A new ledger validates every ``--interval`` seconds.
Tests steer it through hooks: drop every connection, stall, refuse a command,
fail the next requests.

    python -m clio_twisted.testing.fake_rippled --replay [DIR] [--start SEQ] [--interval S]
    python -m clio_twisted.testing.fake_rippled [--ledger FILE] --forge COUNT [--seed N]
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from clio_twisted.protocol.codec import encode
from clio_twisted.protocol.hashing import transaction_id
from clio_twisted.protocol.ledger_header import RIPPLE_EPOCH_UNIX
from clio_twisted.testing._fake_errors import KNOWN_ERRORS, RpcError
from clio_twisted.testing._fake_handlers import HANDLERS, Context
from clio_twisted.testing.chain import Chain, ChainLedger
from clio_twisted.testing.forge import header_from_json
from clio_twisted.testing.replay import DEFAULT_CORPUS, load_json, load_ledgers

# Streams a client may subscribe to. Only ``ledger`` publishes here; the rest
# are accepted so a Clio-like client's subscription succeeds as on rippled.
KNOWN_STREAMS = frozenset(
    {
        "ledger",
        "transactions",
        "transactions_proposed",
        "validations",
        "manifests",
        "peer_status",
        "consensus",
        "server",
        "book_changes",
    }
)


# rippled 3.1.1 serves API versions 1 and 2 (3 only with beta_rpc_api).
SUPPORTED_API_VERSIONS = (1, 2)


class LedgerSource(Protocol):
    """Where new ledgers come from: a forge, or the rest of a recorded corpus."""

    def next_ledger(self) -> ChainLedger | None: ...


class ReplaySource:
    """The corpus ledgers not served yet, one per call; None once all are served."""

    def __init__(self, ledgers: Sequence[ChainLedger]) -> None:
        self._ledgers: Iterator[ChainLedger] = iter(ledgers)

    def next_ledger(self) -> ChainLedger | None:
        return next(self._ledgers, None)


class FakeRippled:
    """The server's state: chain, subscribers, the ledger clock and the test hooks."""

    log = Logger()

    def __init__(
        self,
        chain: Chain,
        clock: IReactorTime,
        source: LedgerSource | None = None,
        *,
        network_id: int | None = None,
        server_info: Mapping[str, Any] | None = None,
        server_state: Mapping[str, Any] | None = None,
        server_definitions: Mapping[str, Any] | None = None,
        verbatim: Mapping[str, list[dict[str, Any]]] | None = None,
    ) -> None:
        self.chain = chain
        self.clock = clock
        self.source = source
        self.network_id = network_id
        self.context = Context(
            chain=chain,
            now=clock.seconds,
            network_id=network_id,
            server_info_template=server_info,
            server_state_template=server_state,
            server_definitions=server_definitions,
            verbatim=dict(verbatim or {}),
            started=clock.seconds(),
        )
        self.connections: set[RippledProtocol] = set()
        self._ledger_subscribers: set[RippledProtocol] = set()
        # test hooks for the relayed streams and forwarding headers (feeds tests)
        self._stream_subscribers: dict[str, set[RippledProtocol]] = {}
        self.handshakes: list[dict[str, str]] = []
        self._refused: dict[str, RpcError] = {}
        self._fail_next = 0
        self._fail_error = KNOWN_ERRORS["tooBusy"]
        self._stalled_until: float | None = None  # inf = until resume()
        self._loop: LoopingCall | None = None
        self.requests_seen = 0

    # --- the ledger clock ---------------------------------------------------

    def validate_next(self) -> ChainLedger | None:
        """Append the source's next ledger and publish ``ledgerClosed``; None if none is left."""
        if self.source is None:
            return None
        ledger = self.source.next_ledger()
        if ledger is None:
            return None
        self.chain.append(ledger)
        if not self.stalled:
            message = self.ledger_closed_message(ledger)
            for protocol in list(self._ledger_subscribers):
                protocol.send_json(message)
        return ledger

    def start(self, interval: float) -> None:
        """Validate one more ledger every ``interval`` seconds (first after one interval)."""
        self._loop = LoopingCall(self.validate_next)
        self._loop.clock = self.clock
        self._loop.start(interval, now=False).addErrback(
            lambda f: self.log.failure("ledger clock stopped", f)
        )

    def stop(self) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        self._loop = None

    # --- test hooks ----------------------------------------------------------

    def drop_all_connections(self) -> None:
        """Cut every client connection at once, as when rippled restarts."""
        for protocol in list(self.connections):
            protocol.dropConnection(abort=True)

    def stall(self, seconds: float | None = None) -> None:
        """Stop answering and publishing, for ``seconds`` or until ``resume()``."""
        self._stalled_until = float("inf") if seconds is None else self.clock.seconds() + seconds

    def resume(self) -> None:
        self._stalled_until = None

    @property
    def stalled(self) -> bool:
        return self._stalled_until is not None and self.clock.seconds() < self._stalled_until

    def refuse(self, command: str, error: str | RpcError = "tooBusy") -> None:
        """Answer every ``command`` request with ``error`` (a token from KNOWN_ERRORS or an RpcError)."""
        self._refused[command] = KNOWN_ERRORS[error] if isinstance(error, str) else error

    def allow(self, command: str) -> None:
        self._refused.pop(command, None)

    def publish(self, stream: str, message: Mapping[str, Any]) -> int:
        """Send ``message`` to the subscribers of ``stream`` (validations, manifests, proposed...)."""
        subscribers = list(self._stream_subscribers.get(stream, ()))
        for protocol in subscribers:
            protocol.send_json(message)
        return len(subscribers)

    def fail_next(self, count: int, error: str | RpcError = "tooBusy") -> None:
        """Answer the next ``count`` requests, whatever they are, with ``error``."""
        self._fail_next = count
        self._fail_error = KNOWN_ERRORS[error] if isinstance(error, str) else error

    # --- answers ---------------------------------------------------------------

    def ledger_closed_message(self, ledger: ChainLedger) -> dict[str, Any]:
        """The ``ledgerClosed`` stream message rippled sends for a validated ledger."""
        return {
            **self._ledger_fields(ledger),
            "txn_count": len(ledger.transactions),
            "type": "ledgerClosed",
            "validated_ledgers": self.context.validated_ledgers(),
        }

    def _ledger_fields(self, ledger: ChainLedger) -> dict[str, Any]:
        fees = self.context.fees(ledger)
        return {
            "fee_base": fees.base,
            "ledger_hash": ledger.hash.hex().upper(),
            "ledger_index": ledger.sequence,
            "ledger_time": ledger.header.close_time,
            "network_id": self.network_id or 0,
            "reserve_base": fees.reserve_base,
            "reserve_inc": fees.reserve_inc,
        }

    def answer(
        self, request: Any, protocol: RippledProtocol | None = None
    ) -> dict[str, Any] | None:
        """rippled's WebSocket answer to one request, or None while stalled."""
        if self.stalled:
            return None
        self.requests_seen += 1
        if not isinstance(request, dict):
            return {
                "error": "jsonInvalid",
                "status": "error",
                "type": "response",
                "request": request,
            }
        command = request.get("command", request.get("method"))
        version = request.get("api_version", 1)
        if isinstance(version, bool) or version not in SUPPORTED_API_VERSIONS:
            return _error_envelope(request, RpcError("invalid_API_version", None, None))
        if (
            not isinstance(command, str)
            or not isinstance(request.get("method", command), str)
            or request.get("method", command) != command
        ):
            return _error_envelope(request, RpcError("missingCommand", None, None))
        try:
            if self._fail_next > 0:
                self._fail_next -= 1
                raise self._fail_error
            if command in self._refused:
                raise self._refused[command]
            if command == "subscribe":
                result = self._subscribe(request, protocol)
            elif command == "unsubscribe":
                result = self._unsubscribe(request, protocol)
            elif command in HANDLERS:
                result = HANDLERS[command](self.context, request)
            else:
                raise RpcError("unknownCmd", 32, "Unknown method.")
        except RpcError as error:
            return _error_envelope(request, error)
        except Exception:
            self.log.failure("fake rippled failed to answer {command}", command=command)
            return _error_envelope(request, KNOWN_ERRORS["internal"])
        return _success_envelope(request, result)

    def _streams(self, request: Mapping[str, Any]) -> list[str]:
        streams = request.get("streams", [])
        if not isinstance(streams, list) or not all(isinstance(s, str) for s in streams):
            raise RpcError("invalidParams", 31, "Invalid parameters.")
        if any(s not in KNOWN_STREAMS for s in streams):
            raise RpcError("malformedStream", 71, "Stream malformed.")
        return streams

    def _subscribe(
        self, request: Mapping[str, Any], protocol: RippledProtocol | None
    ) -> dict[str, Any]:
        streams = self._streams(request)
        result: dict[str, Any] = {}
        if protocol is not None:
            for stream in streams:
                if stream != "ledger":
                    self._stream_subscribers.setdefault(stream, set()).add(protocol)
        if "ledger" in streams:
            if protocol is not None:
                self._ledger_subscribers.add(protocol)
            last = self.chain.last
            if last is not None:
                ledger = self.chain.ledger(last)
                assert ledger is not None
                result = {
                    **self._ledger_fields(ledger),
                    "validated_ledgers": self.context.validated_ledgers(),
                }
        return result

    def _unsubscribe(
        self, request: Mapping[str, Any], protocol: RippledProtocol | None
    ) -> dict[str, Any]:
        streams = self._streams(request)
        if "ledger" in streams and protocol is not None:
            self._ledger_subscribers.discard(protocol)
        for stream in streams:
            self._stream_subscribers.get(stream, set()).discard(protocol)
        return {}

    def connection_made(self, protocol: RippledProtocol) -> None:
        self.connections.add(protocol)

    def connection_lost(self, protocol: RippledProtocol) -> None:
        self.connections.discard(protocol)
        self._ledger_subscribers.discard(protocol)
        for subscribers in self._stream_subscribers.values():
            subscribers.discard(protocol)


def _success_envelope(request: Mapping[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"result": result, "status": "success", "type": "response"}
    return _echo(request, out)


def _error_envelope(request: Mapping[str, Any], error: RpcError) -> dict[str, Any]:
    out: dict[str, Any] = {
        **error.to_json(),
        "request": dict(request),
        "status": "error",
        "type": "response",
    }
    return _echo(request, out)


def _echo(request: Mapping[str, Any], out: dict[str, Any]) -> dict[str, Any]:
    # rippled copies these request fields into the answer's envelope.
    for name in ("id", "api_version"):
        if name in request:
            out[name] = request[name]
    return dict(sorted(out.items()))


class RippledProtocol(WebSocketServerProtocol):
    """One client connection; requests are answered in arrival order."""

    factory: RippledFactory

    def onConnect(self, request: Any) -> None:
        self.factory.server.handshakes.append(dict(request.headers))

    def onOpen(self) -> None:
        self.factory.server.connection_made(self)

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
        self.factory.server.connection_lost(self)

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        try:
            request = json.loads(payload)
        except ValueError:
            self.send_json({"error": "jsonInvalid", "status": "error", "type": "response"})
            return
        answer = self.factory.server.answer(request, self)
        if answer is not None:
            self.send_json(answer)

    def send_json(self, message: Mapping[str, Any]) -> None:
        """Send one message; on a connection already closing it is dropped, as rippled drops it.

        A peer can go away between its last read and its ``onClose``; raising
        there would stop the ledger clock (a LoopingCall) for every other peer.
        """
        if self.state != self.STATE_OPEN:
            return
        self.sendMessage(json.dumps(message, separators=(",", ":")).encode())


class RippledFactory(WebSocketServerFactory):
    protocol = RippledProtocol  # type: ignore[assignment]

    def __init__(self, server: FakeRippled, url: str = "ws://127.0.0.1") -> None:
        super().__init__(url)
        self.server = server
        # rippled's answers (a full ledger_data page) exceed autobahn's defaults; no handshake
        # timer (its batched bucket outlives a connection made just before a test ends).
        self.setProtocolOptions(
            maxFramePayloadSize=0, maxMessagePayloadSize=0, openHandshakeTimeout=0
        )


def replay_server(
    clock: IReactorTime,
    directory: Path = DEFAULT_CORPUS,
    start: int | None = None,
    network_id: int | None = None,
) -> FakeRippled:
    """A FakeRippled replaying a compact corpus: ledgers up to ``start`` validated, the rest to come.

    ``start`` defaults to the corpus's first ledger.
    """
    ledgers = load_ledgers(directory)
    first = ledgers[0].sequence
    start = first if start is None else start
    if not first <= start <= ledgers[-1].sequence:
        raise ValueError(f"--start must be within {first}-{ledgers[-1].sequence}")
    chain = Chain()
    for ledger in ledgers[: start - first + 1]:
        chain.append(ledger)
    return FakeRippled(
        chain,
        clock,
        ReplaySource(ledgers[start - first + 1 :]),
        network_id=network_id,
        server_info=load_json(directory, "server_info.json")["result"],
        server_state=load_json(directory, "server_state.json")["result"],
        server_definitions=load_json(directory, "server_definitions.json.gz"),
        verbatim=load_json(directory, "answers.json.gz"),
    )


def load_ledger_file(path: Path) -> ChainLedger:
    """A rippled-style ledger JSON (header fields, accountState, transactions with metaData)."""
    data = json.loads(path.read_bytes())
    data = data.get("result", data)
    data = data.get("ledger", data)
    header = header_from_json(data)
    state = {
        bytes.fromhex(obj["index"]): encode({k: v for k, v in obj.items() if k != "index"})
        for obj in data.get("accountState", [])
    }
    transactions = []
    for tx in data.get("transactions", []):
        fields = {k: v for k, v in tx.items() if k not in ("hash", "metaData", "meta")}
        blob = encode(fields)
        meta = encode(tx.get("metaData", tx.get("meta")))
        transactions.append((meta_index(meta), transaction_id(blob), blob, meta))
    transactions.sort()
    return ChainLedger(header, tuple(t[1:] for t in transactions), state)


def meta_index(meta: bytes) -> int:
    """A metadata blob's TransactionIndex (its first field)."""
    return int.from_bytes(meta[2:6], "big") if meta[:2] == b"\x20\x1c" else 0


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m clio_twisted.testing.fake_rippled",
        description="A rippled stand-in serving rippled's WebSocket API over real ledgers.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=6006, help="WebSocket port (6006; 0 = any)")
    parser.add_argument(
        "--replay",
        nargs="?",
        const=str(DEFAULT_CORPUS),
        metavar="DIR",
        help="replay a compact recorded corpus (default: the rippled 3.1.1 one shipped here)",
    )
    parser.add_argument(
        "--start", type=int, help="with --replay: the last ledger validated at start (first)"
    )
    parser.add_argument(
        "--ledger",
        type=Path,
        help="a rippled-style full ledger JSON (header, accountState, transactions) to start from",
    )
    parser.add_argument(
        "--forge",
        type=int,
        metavar="COUNT",
        help="forge COUNT successors of the start ledger (--ledger, else mainnet 38129)",
    )
    parser.add_argument("--seed", type=int, default=0, help="with --forge: random seed (0)")
    parser.add_argument(
        "--accounts",
        type=int,
        default=0,
        help="with --forge: extra funded accounts in the start state, for scale (0)",
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=1.0,
        help="seconds between validated ledgers (1.0); 0 validates them all at start",
    )
    parser.add_argument("--network-id", type=int, help="network id to report (none)")
    return parser


class ForgeSource:
    """Up to ``count`` successors from a forge (``clio_twisted.testing.forge.Forge``).

    With a ``clock`` (live forging), each ledger closes at the clock's time, so
    a server following it sees fresh ledgers and publishes them (a ledger from
    2013 is too old to publish); without one the forge's own deterministic
    close times are kept.
    """

    def __init__(self, forger: Any, count: int, clock: IReactorTime | None = None) -> None:
        self._forger = forger
        self._left = count
        self._clock = clock

    def next_ledger(self) -> ChainLedger | None:
        if self._left <= 0:
            return None
        self._left -= 1
        if self._clock is None:
            ledger: ChainLedger = self._forger.next_ledger()
        else:
            now = int(self._clock.seconds()) - RIPPLE_EPOCH_UNIX
            ledger = self._forger.next_ledger(close_time=now)
        return ledger


def _forge_module() -> Any:
    # Imported only when asked for, so replay mode does not depend on the forge.
    return importlib.import_module("clio_twisted.testing.forge")


def build_server(args: argparse.Namespace, clock: IReactorTime) -> FakeRippled:
    """The FakeRippled the command line asks for."""
    if args.replay is not None:
        return replay_server(clock, Path(args.replay), args.start, args.network_id)
    if args.ledger is not None:
        first = load_ledger_file(args.ledger)
    elif args.forge is not None:
        first = _forge_module().load_fixture_ledger()
    else:
        raise SystemExit("one of --replay, --ledger or --forge is required")
    source: LedgerSource | None = None
    if args.forge is not None:
        forger = _forge_module().Forge(first, seed=args.seed, accounts=args.accounts)
        first = forger.start
        # forging live (--interval > 0): ledgers close at the wall clock's time
        source = ForgeSource(forger, args.forge, clock if args.interval > 0 else None)
    chain = Chain()
    chain.append(first)
    return FakeRippled(chain, clock, source, network_id=args.network_id)


def main(argv: list[str] | None = None, reactor: Any = None) -> int:
    args = make_parser().parse_args(argv)
    if reactor is None:
        from twisted.internet import reactor as global_reactor

        reactor = global_reactor
    from twisted.logger import globalLogBeginner, textFileLogObserver

    globalLogBeginner.beginLoggingTo([textFileLogObserver(sys.stderr)], redirectStandardIO=False)
    server = build_server(args, reactor)
    port = reactor.listenTCP(args.port, RippledFactory(server), interface=args.host)
    if args.interval > 0:
        server.start(args.interval)
    else:
        while server.validate_next() is not None:
            pass
    sys.stdout.write(
        f"fake rippled on ws://{args.host}:{port.getHost().port} "
        f"serving {server.context.validated_ledgers()}\n"
    )
    sys.stdout.flush()
    reactor.run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
