"""An in-memory API server for web tests: the real site, fake clock, StringTransport connections."""

from __future__ import annotations

import os
import struct
from typing import Any

import orjson
from attrs import define

from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from clio_twisted.config import ClioConfig, config_from_dict
from clio_twisted.rpc.context import Context
from clio_twisted.rpc.dispatch import Dispatcher
from clio_twisted.rpc.handlers import load_handlers
from clio_twisted.web.admin import AdminPolicy
from clio_twisted.web.dosguard import DosGuard
from clio_twisted.web.inflight import InFlight
from clio_twisted.web.root import ApiSite, RootResource
from clio_twisted.web.websocket import ClioWebSocketFactory
from tests.fakes.backend import InMemoryBackend
from tests.rpc.helpers import NOW


@define
class Server:
    site: ApiSite
    root: RootResource
    dispatcher: Dispatcher
    backend: InMemoryBackend
    clock: Clock
    guard: DosGuard
    inflight: InFlight
    ws_factory: ClioWebSocketFactory
    config: ClioConfig


def make_server(
    raw_config: dict[str, Any] | None = None, backend: InMemoryBackend | None = None
) -> Server:
    config = config_from_dict(raw_config or {})
    clock = Clock()
    clock.advance(NOW)
    backend = backend if backend is not None else InMemoryBackend()
    dispatcher = Dispatcher(
        load_handlers(),
        Context(backend=backend, clock=clock, config=config, started_at=NOW - 5),
    )
    guard = DosGuard(config.dos_guard, clock)
    admin = AdminPolicy(config.server)
    inflight = InFlight()
    ws_factory = ClioWebSocketFactory(
        dispatcher,
        guard,
        admin,
        inflight,
        clock,
        max_message_size=config.server.max_ws_message_size,
    )
    root = RootResource(dispatcher, guard, admin, ws_factory, inflight)
    site = ApiSite(root, guard, config.server.max_request_size, reactor=clock)
    return Server(site, root, dispatcher, backend, clock, guard, inflight, ws_factory, config)


def connect(
    server: Server, ip: str = "127.0.0.1", port: int = 40000
) -> tuple[Any, StringTransport]:
    """Open an HTTP connection from ``ip``: (channel, transport)."""
    address = IPv4Address("TCP", ip, port)
    channel = server.site.buildProtocol(address)
    transport = StringTransport(
        peerAddress=address, hostAddress=IPv4Address("TCP", "127.0.0.1", 51233)
    )
    channel.makeConnection(transport)
    transport.protocol = channel  # as a real TCP transport has; Autobahn takes it over on upgrade
    return channel, transport


def post_bytes(body: bytes, headers: dict[str, str] | None = None, path: str = "/") -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: localhost", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@define
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def parse_response(raw: bytes) -> HttpResponse:
    head, _, rest = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        body = rest[: int(headers["content-length"])]
    elif headers.get("transfer-encoding") == "chunked":
        body = b""
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line, 16)
            if size == 0:
                break
            body += rest[:size]
            rest = rest[size + 2 :]
    else:
        body = rest
    return HttpResponse(status, headers, body)


def request(server: Server, raw: bytes, ip: str = "127.0.0.1") -> HttpResponse:
    """Send one raw HTTP request on a fresh connection and parse the (synchronous) response."""
    channel, transport = connect(server, ip)
    channel.dataReceived(raw)
    return parse_response(transport.value())


def post(
    server: Server, body: bytes, ip: str = "127.0.0.1", headers: dict[str, str] | None = None
) -> HttpResponse:
    channel, transport = connect(server, ip)
    channel.dataReceived(post_bytes(body, headers))
    return parse_response(transport.value())


# -- WebSocket -------------------------------------------------------------------------------

HANDSHAKE = (
    b"GET / HTTP/1.1\r\n"
    b"Host: localhost\r\n"
    b"Upgrade: websocket\r\n"
    b"Connection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Sec-WebSocket-Version: 13\r\n"
)


def client_frame(payload: bytes, opcode: int = 1, fin: bool = True) -> bytes:
    """A masked client frame (text by default)."""
    first = (0x80 if fin else 0) | opcode
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", first, 0x80 | n)
    elif n < 65536:
        header = struct.pack("!BBH", first, 0x80 | 126, n)
    else:
        header = struct.pack("!BBQ", first, 0x80 | 127, n)
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return header + mask + masked


def server_frames(data: bytes) -> list[tuple[int, bytes]]:
    """Decode the unmasked frames a server sent: [(opcode, payload)]."""
    frames = []
    while data:
        first, second = data[0], data[1]
        n = second & 0x7F
        offset = 2
        if n == 126:
            n = struct.unpack("!H", data[2:4])[0]
            offset = 4
        elif n == 127:
            n = struct.unpack("!Q", data[2:10])[0]
            offset = 10
        frames.append((first & 0x0F, data[offset : offset + n]))
        data = data[offset + n :]
    return frames


@define
class WsClient:
    transport: StringTransport
    protocol: Any
    handshake_response: bytes

    def send(self, payload: bytes, opcode: int = 1) -> list[tuple[int, bytes]]:
        """Send one message; return the frames the server sent in reply."""
        self.transport.clear()
        self.protocol.dataReceived(client_frame(payload, opcode))
        return server_frames(self.transport.value())

    def send_text(self, payload: bytes) -> list[bytes]:
        return [p for op, p in self.send(payload) if op == 1]


def ws_connect(server: Server, ip: str = "127.0.0.1", extra_headers: bytes = b"") -> WsClient:
    channel, transport = connect(server, ip)
    channel.dataReceived(HANDSHAKE + extra_headers + b"\r\n")
    response = transport.value()
    protocol = getattr(transport, "protocol", None)
    transport.clear()
    return WsClient(transport, protocol, response)


def rippled_json(value: Any) -> bytes:
    """JSON bytes as rippled writes them (every object's keys in byte order), to compare answers byte for byte."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
