"""The ceiling: the least a Twisted server can do per JSON request on this machine.

A plain Twisted ``Protocol`` parses HTTP/1.1 with httptools (keep-alive,
pipelining) and answers every request with one fixed JSON body serialised by
orjson, doing no other work. ``bench/http.py`` measures our server against it:
whatever our server costs above this is ours, not the reactor's.

    .venv/bin/python bench/ceiling.py [--port 0] [--host 127.0.0.1]

Prints ``listening on PORT`` once ready.
"""

# ruff: noqa: E402 (the sys.path fix below must run before the imports)
from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path, and this file
# (bench/http.py) would shadow the standard library's http package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse
from typing import Any

import httptools
import orjson

from twisted.internet.protocol import Factory, Protocol

BODY = {"result": {"status": "success", "ceiling": True, "ledger_index": 270}}


class CeilingProtocol(Protocol):
    def __init__(self) -> None:
        self._parser = httptools.HttpRequestParser(self)
        self._body: list[bytes] = []

    def dataReceived(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.write(  # type: ignore[union-attr]
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            self.transport.loseConnection()  # type: ignore[union-attr]

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        self._body = []
        data = orjson.dumps(BODY)
        self.transport.write(  # type: ignore[union-attr]
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
            % (len(data), data)
        )
        if not self._parser.should_keep_alive():
            self.transport.loseConnection()  # type: ignore[union-attr]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    from twisted.internet import reactor

    r: Any = reactor
    port = r.listenTCP(args.port, Factory.forProtocol(CeilingProtocol), interface=args.host)
    print(f"listening on {port.getHost().port}", flush=True)
    sys.stdout.flush()
    r.run()


if __name__ == "__main__":
    main()
