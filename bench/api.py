"""API request rates: our server beside a bare twisted.web JSON endpoint, HTTP and WebSocket, one run.

What it does:

1. fills a SQLite store with the 268 ledgers recorded from rippled 3.1.1
   (``bench/http.py``'s filler, in a child process) and picks the busiest
   account and one of its transactions;
2. starts, as separate processes, our server (``twistd -n clio``, its
   configured front, no ETL, one process) and the *bare endpoint*: this file
   with ``--bare``, a ``twisted.web`` ``Site`` whose one resource parses the
   JSON body with orjson and answers a fixed JSON result echoing the ``id``,
   and an Autobahn WebSocket server doing the same per message. The bare
   endpoint is what any Twisted JSON API costs on this machine; the ratio to
   it is what our request handling costs on top;
3. drives both with the same load: HTTP with wrk (``-t1``, keep-alive), WebSocket
   with a Python epoll client in a child process (one message in flight per
   connection). Every request carries a new ``id`` (as xrpl-py's clients send
   them), so answers kept for repeated bodies are not what is measured;
   ``account_info`` is also run with one body repeated (the hot path);
4. commands: ``ledger`` (validated, header only), ``tx``, ``account_tx``
   (limit 20), ``ledger_data`` (limit 20), ``account_info`` (validated, read
   from the state cache);
5. prints, per row, the median of ``--repeats`` runs: req/s, p50 and p99 (ms),
   the server's CPU use (a server at ~100% is saturated: the load generator
   is not the bottleneck), and the ratio to the bare endpoint over the same
   transport.

    .venv/bin/python bench/api.py [--quick] [--duration 2] [--repeats 3] [--connections 16]

Defaults take about 1.5 minutes; ``--quick`` (1 run of 1 s each) about 20 s.
Loopback only. Needs wrk (Debian's ``wrk`` package).
"""

# ruff: noqa: E402 (the sys.path fix below must run before the imports)
from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path, and bench/http.py
# would shadow the standard library's http package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse
import functools
import importlib.util
import json
import os
import re
import shutil
import statistics
import tempfile
import time
import urllib.request
from typing import Any

ROOT = _HERE.parent
PYTHON = sys.executable


def _bench_http() -> Any:
    """bench/http.py as a module: its store filler, server launchers and wrk driver."""
    spec = importlib.util.spec_from_file_location("bench_http", _HERE / "http.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- the bare endpoint (this file with --bare) ---------------------------------------------------

BARE_RESULT = {"status": "success", "bare": True, "ledger_index": 270}


def serve_bare() -> None:
    """twisted.web on one port, Autobahn WebSocket on another: parse JSON, answer a fixed result."""
    import orjson

    from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
    from twisted.internet import reactor
    from twisted.web.resource import Resource
    from twisted.web.server import Site

    class JsonResource(Resource):
        isLeaf = True

        def render_POST(self, request: Any) -> bytes:
            body = orjson.loads(request.content.read())
            request.setHeader(b"content-type", b"application/json")
            return orjson.dumps({"result": BARE_RESULT, "id": body.get("id")})

    class JsonWebSocket(WebSocketServerProtocol):
        def onMessage(self, payload: bytes, isBinary: bool) -> None:  # noqa: N802 (Autobahn's name)
            message = orjson.loads(payload)
            self.sendMessage(
                orjson.dumps(
                    {
                        "result": BARE_RESULT,
                        "id": message.get("id"),
                        "status": "success",
                        "type": "response",
                    }
                )
            )

    r: Any = reactor
    http = r.listenTCP(0, Site(JsonResource()), interface="127.0.0.1")
    factory = WebSocketServerFactory("ws://127.0.0.1")
    factory.protocol = JsonWebSocket
    ws = r.listenTCP(0, factory, interface="127.0.0.1")
    print(f"listening on {http.getHost().port} ws {ws.getHost().port}", flush=True)
    r.run()


# -- measuring ---------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(pid: int, run: Any) -> dict[str, float]:
    """Run one load; add the server's CPU use over its wall time (1.0 = one core busy)."""
    cpu, wall = cpu_seconds(pid), time.monotonic()
    result: dict[str, float] = run()
    result["cpu"] = (cpu_seconds(pid) - cpu) / (time.monotonic() - wall)
    return result


def load(
    transport: str, where: Any, body: str, vary: bool, args: Any, bench_http: Any, tmp: str
) -> dict[str, float]:
    """One run of the load generator against one server: wrk for HTTP, our client for WS."""
    if transport == "HTTP":
        script = bench_http.wrk_script(tmp, body, vary)
        result: dict[str, float] = bench_http.run_wrk(
            where, script, args.connections, args.duration
        )
        return result
    result = bench_http.run_ws(
        where, body, args.connections, args.duration, vary_id=vary, procs=args.ws_procs
    )
    return result


def commands(targets: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(name, params) of each measured command."""
    account, tx = targets["account"], targets["tx"]
    return [
        ("ledger", {"ledger_index": "validated"}),
        ("tx", {"transaction": tx}),
        ("account_tx", {"account": account, "limit": 20}),
        ("ledger_data", {"ledger_index": "validated", "limit": 20}),
        ("account_info", {"account": account, "ledger_index": "validated"}),
    ]


def http_body(method: str, params: dict[str, Any]) -> str:
    return json.dumps({"method": method, "params": [params]})


def ws_template(method: str, params: dict[str, Any]) -> str:
    """A WebSocket request with an ``{id}`` placeholder."""
    return json.dumps({"command": method, **params, "id": 0}).replace('"id": 0', '"id": {id}')


def check(url: str, body: str) -> None:
    request = urllib.request.Request(url, data=body.encode(), method="POST")
    with urllib.request.urlopen(request, timeout=10) as f:
        answer = json.loads(f.read())
    if answer.get("result", {}).get("status") != "success":
        raise SystemExit(f"{body} was answered {json.dumps(answer)[:500]}")


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(
        description="API request rates (ledger, tx, account_tx, ledger_data, account_info) "
        "beside a bare twisted.web JSON endpoint, over HTTP and WebSocket"
    )
    parser.add_argument("--quick", action="store_true", help="one run of 1 s per row (~20 s)")
    parser.add_argument("--duration", type=float, default=2.0, help="seconds per run (2)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per row; medians (3)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections (16)")
    parser.add_argument("--ws-procs", type=int, default=1, help="WebSocket client processes (1)")
    parser.add_argument("--bare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare:
        serve_bare()
        return
    if args.quick:
        args.duration, args.repeats = 1.0, 1
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    bench_http = _bench_http()
    tmp = tempfile.mkdtemp(prefix="clio-bench-api-")
    store = os.path.join(tmp, "clio.sqlite3")
    started = time.monotonic()
    targets = bench_http.fill_in_child(store)
    print(f"store filled in {time.monotonic() - started:.1f}s: {targets}", flush=True)

    bare = bench_http.Server([PYTHON, str(Path(__file__).resolve()), "--bare"], "listening on")
    ours = bench_http.start_ours(tmp, store, 1)
    try:
        bare_ws = int(re.search(r" ws (\d+)", "".join(bare.lines)).group(1))  # type: ignore[union-attr]
        ours_url = f"http://127.0.0.1:{ours.port}/"
        bare_url = f"http://127.0.0.1:{bare.port}/"
        cmds = commands(targets)
        for name, params in cmds:
            check(ours_url, http_body(name, params))
        # rows: (label, transport, server, url or port, body or template, vary_id)
        rows: list[tuple[str, str, Any, Any, str, bool]] = [
            ("bare twisted.web", "HTTP", bare, bare_url, http_body("ping", {}), True),
            ("bare autobahn", "WS", bare, bare_ws, ws_template("ping", {}), True),
        ]
        for name, params in cmds:
            rows.append((name, "HTTP", ours, ours_url, http_body(name, params), True))
        for name, params in cmds:
            rows.append((name, "WS", ours, ours.port, ws_template(name, params), True))
        info = dict(cmds)["account_info"]
        rows.append(
            (
                "account_info same body",
                "HTTP",
                ours,
                ours_url,
                http_body("account_info", info),
                False,
            )
        )
        rows.append(
            (
                "account_info same body",
                "WS",
                ours,
                ours.port,
                ws_template("account_info", info),
                False,
            )
        )

        results: dict[tuple[str, str], list[dict[str, float]]] = {}
        for repeat in range(args.repeats):
            print(f"run {repeat + 1}/{args.repeats}", flush=True)
            for label, transport, server, where, body, vary in rows:
                run = functools.partial(load, transport, where, body, vary, args, bench_http, tmp)
                results.setdefault((label, transport), []).append(measured(server.proc.pid, run))
    finally:
        ours.stop()
        bare.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    medians = {key: median_of(runs) for key, runs in results.items()}
    base = {
        "HTTP": medians[("bare twisted.web", "HTTP")]["rate"],
        "WS": medians[("bare autobahn", "WS")]["rate"],
    }
    print()
    print(
        f"{args.connections} connections, median of {args.repeats} x {args.duration:g}s; "
        "ratio = req/s / the bare endpoint's over the same transport"
    )
    print(
        f"{'request':<24} {'via':<5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'srv cpu':>8} {'ratio':>6}  notes"
    )
    for (label, transport), r in medians.items():
        notes = []
        if label.startswith("bare") and r["cpu"] < 0.9:
            notes.append("not saturated: the client limits it, ratios below are upper bounds")
        if r["non2xx"]:
            notes.append(f"{int(r['non2xx'])} not successful")
        if r["socket_errors"]:
            notes.append("socket errors")
        print(
            f"{label:<24} {transport:<5} {r['rate']:>9.0f} {r['p50']:>8.2f} {r['p99']:>8.2f} "
            f"{r['cpu'] * 100:>7.0f}% {r['rate'] / base[transport]:>6.2f}  {', '.join(notes)}"
        )


if __name__ == "__main__":
    main()
