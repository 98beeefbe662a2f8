"""HTTP and WebSocket request rates: our server beside the ceiling (and any other server), in one run.

What it does:

1. fills a SQLite store with the 268 ledgers recorded from rippled 3.1.1
   (``clio_twisted/testing/data/replay-3.1.1``), and picks the busiest account
   and one of its transactions;
2. starts ``bench/ceiling.py`` (Twisted Protocol + httptools + orjson answering
   a fixed body) and our server (``twistd -n clio``, no ETL, the DOS guard
   whitelisting 127.0.0.1), with ``server.processes`` 1 and then 2;
3. drives each with wrk (Debian's package) at 1, 16 and 64 connections, the
   same requests for everyone: ``account_info`` (the same body again and
   again: the hot path), ``account_info`` with a new ``id`` in every request
   (never the same body: the dispatcher path), ``ledger``, ``tx``,
   ``account_tx`` (limit 20);
4. drives WebSocket ``account_info`` with a multi-process Python client (one
   message in flight per connection);
5. prints req/s, p50 and p99 (ms), and each rate as a ratio of the ceiling
   at the same connection count (the ceiling is measured before and after
   our server, and the mean used: the machine is shared); with ``--repeat N``
   every figure is the median of N runs.

    .venv/bin/python bench/http.py [--duration 5] [--repeat 3] [--compare URL] [--skip-processes]
    .venv/bin/python bench/http.py --message-cost   # per-message cost without the network

The load generator shares the machine's cores with the server: with
``processes: 2`` on a 2-core machine wrk takes part of the second core.

``--compare URL`` runs the same HTTP requests against another server (a Clio
or rippled JSON-RPC URL); note that the account and transaction are from the
recorded corpus, so another network answers them with errors.
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
import base64
import json
import multiprocessing
import os
import re
import select
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
import types
from collections import Counter
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
TWISTD = str(Path(sys.executable).parent / "twistd")
CONNECTIONS = (1, 16, 64)


# -- the store ---------------------------------------------------------------------------------


def fill_store(path: str) -> dict[str, Any]:
    """Write the recorded corpus into a fresh SQLite store; return the request targets."""
    from twisted.internet import task
    from twisted.internet.defer import ensureDeferred

    from clio_twisted.backend.sqlite import SqliteBackend
    from clio_twisted.protocol.addresses import encode_account_id
    from clio_twisted.testing.corpus_writes import corpus_writes
    from clio_twisted.testing.replay import load_ledgers

    targets: dict[str, Any] = {}

    async def fill(reactor: Any) -> None:
        backend = SqliteBackend(reactor, path)
        await backend.start()
        accounts: Counter[bytes] = Counter()
        tx_of: dict[bytes, bytes] = {}
        last = 0
        for write in corpus_writes(load_ledgers()):
            for row in write.account_transactions:
                accounts[row.account] += 1
                tx_of[row.account] = row.hash
            await backend.write_ledger(write)
            last = write.sequence
        account, _ = accounts.most_common(1)[0]
        targets.update(
            account=encode_account_id(account), tx=tx_of[account].hex().upper(), ledger=last
        )
        await backend.stop()
        print(json.dumps(targets), flush=True)

    task.react(lambda reactor: ensureDeferred(fill(reactor)))  # exits the process
    return targets


def fill_in_child(path: str) -> dict[str, Any]:
    """Run :func:`fill_store` in a child process (task.react ends its process)."""
    out = subprocess.run(
        [PYTHON, __file__, "--fill", path], capture_output=True, text=True, check=False, cwd=ROOT
    )
    if out.returncode != 0:
        raise SystemExit(f"filling the store failed:\n{out.stdout}\n{out.stderr}")
    line = [x for x in out.stdout.splitlines() if x.startswith("{")][-1]
    targets: dict[str, Any] = json.loads(line)
    return targets


# -- servers -----------------------------------------------------------------------------------


class Server:
    """A child process serving HTTP; its output is drained (and kept for errors)."""

    def __init__(self, argv: list[str], ready: str, count: int = 1, **kwargs: Any) -> None:
        self.proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT, **kwargs
        )
        self.lines: list[str] = []
        self.port = 0
        seen = 0
        deadline = time.monotonic() + 60
        assert self.proc.stdout is not None
        while seen < count:
            if time.monotonic() > deadline:
                self.stop()
                raise SystemExit("server did not start:\n" + "".join(self.lines[-30:]))
            raw = self.proc.stdout.readline()
            if not raw:
                raise SystemExit("server exited:\n" + "".join(self.lines[-30:]))
            line = raw.decode(errors="replace")
            self.lines.append(line)
            if ready in line:
                seen += 1
                match = re.search(r'"port": (\d+)|listening on (?:[\d.]+:)?(\d+)', line)
                if match and not self.port:
                    self.port = int(match.group(1) or match.group(2))
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            self.lines.append(raw.decode(errors="replace"))
            del self.lines[:-200]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def start_ours(tmp: str, store: str, processes: int) -> Server:
    config = Path(tmp) / f"config-{processes}.json"
    config.write_text(
        json.dumps(
            {
                "server": {"ip": "127.0.0.1", "port": 0, "processes": processes},
                "database": {"type": "sqlite", "sqlite": {"path": store}},
                "etl_sources": [],
                "read_only": True,
                "dos_guard": {"whitelist": ["127.0.0.1"]},
                "log_level": "info",
                "log_format": "json",
            }
        )
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.pop("NOTIFY_SOCKET", None)
    argv = [TWISTD, "-n", "--pidfile=", "clio", "--config", str(config)]
    server = Server(argv, "clio-twisted listening on", count=processes, env=env)
    return server


def start_ceiling() -> Server:
    return Server([PYTHON, str(ROOT / "bench" / "ceiling.py")], "listening on")


# -- load --------------------------------------------------------------------------------------


def wrk_script(tmp: str, body: str, vary_id: bool) -> str:
    path = Path(tmp) / f"req-{abs(hash((body, vary_id)))}.lua"
    if vary_id:
        # a new "id" in every request: the body is never the same twice
        prefix = json.dumps(body[:-1] + ', "id": ')
        path.write_text(
            "local n = 0\n"
            "request = function()\n"
            "  n = n + 1\n"
            f'  return wrk.format("POST", "/", {{["Content-Type"] = "application/json"}}, '
            f'{prefix} .. n .. "}}")\n'
            "end\n"
        )
    else:
        path.write_text(
            'wrk.method = "POST"\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
            f"wrk.body = {json.dumps(body)}\n"
        )
    return str(path)


def to_ms(text: str) -> float:
    value = float(re.match(r"[\d.]+", text).group(0))  # type: ignore[union-attr]
    if text.endswith("us"):
        return value / 1000
    if text.endswith("ms"):
        return value
    if text.endswith("s"):
        return value * 1000
    return value


def median_of(repeat: int, measure: Any, *args: Any) -> dict[str, float]:
    """Run ``measure`` ``repeat`` times; the run with the median rate (the machine is shared)."""
    runs = sorted((measure(*args) for _ in range(max(1, repeat))), key=lambda r: r["rate"])
    result: dict[str, float] = runs[len(runs) // 2]
    return result


def run_wrk(url: str, script: str, connections: int, duration: float) -> dict[str, float]:
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(duration))}s",
            "--latency",
            "-s",
            script,
            url,
        ],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"\s50%\s+(\S+)", out)
    p99 = re.search(r"\s99%\s+(\S+)", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    if not rate or not p50 or not p99:
        raise SystemExit(f"wrk failed:\n{out}")
    return {
        "rate": float(rate.group(1)),
        "p50": to_ms(p50.group(1)),
        "p99": to_ms(p99.group(1)),
        "non2xx": float(bad.group(1)) if bad else 0.0,
        "socket_errors": 1.0 if errors else 0.0,
    }


# -- WebSocket client (bench/api.py uses it too) ---------------------------------------------


def _ws_connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    key = base64.b64encode(os.urandom(16))
    sock.sendall(
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(4096)
    if b" 101 " not in head.split(b"\r\n")[0]:
        raise RuntimeError(head.decode(errors="replace"))
    rest = head.split(b"\r\n\r\n", 1)[1]
    if rest:
        raise RuntimeError("data after the handshake")
    sock.setblocking(False)
    return sock


def _masked_frame(payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x81, 0x80 | n)
    else:
        header = struct.pack("!BBH", 0x81, 0xFE, n)
    return header + b"\0\0\0\0" + payload  # a zero mask leaves the payload as is


def _ws_worker(
    port: int, connections: int, template: str, vary_id: bool, duration: float, out: Any
) -> None:
    """Keep one message in flight per connection for ``duration``; report count and latencies."""
    socks = [_ws_connect(port) for _ in range(connections)]
    by_fd = {s.fileno(): s for s in socks}
    buffers = dict.fromkeys(by_fd, b"")
    sent_at: dict[int, float] = {}
    latencies: list[float] = []
    counter = 0
    fixed = _masked_frame(template.replace("{id}", "1").encode())

    def send(fd: int) -> None:
        nonlocal counter
        counter += 1
        frame = _masked_frame(template.replace("{id}", str(counter)).encode()) if vary_id else fixed
        sent_at[fd] = time.perf_counter()
        by_fd[fd].send(frame)

    poller = select.epoll()
    for fd in by_fd:
        poller.register(fd, select.EPOLLIN)
        send(fd)
    done = 0
    errors = 0
    end = time.perf_counter() + duration
    while time.perf_counter() < end:
        for fd, _ in poller.poll(0.1):
            data = buffers[fd] + by_fd[fd].recv(1 << 20)
            while len(data) >= 2:
                n, offset = data[1] & 0x7F, 2
                if n == 126:
                    if len(data) < 4:
                        break
                    n, offset = struct.unpack("!H", data[2:4])[0], 4
                elif n == 127:
                    if len(data) < 10:
                        break
                    n, offset = struct.unpack("!Q", data[2:10])[0], 10
                if len(data) < offset + n:
                    break
                message = data[offset : offset + n]
                if b'"status":"error"' in message or b'"status": "error"' in message:
                    errors += 1
                data = data[offset + n :]
                latencies.append(time.perf_counter() - sent_at[fd])
                done += 1
                send(fd)
            buffers[fd] = data
    out.put((done, errors, latencies[:: max(1, len(latencies) // 20000)]))
    for s in socks:
        s.close()


def run_ws(
    port: int,
    template: str,
    connections: int,
    duration: float,
    *,
    vary_id: bool = False,
    procs: int | None = None,
) -> dict[str, float]:
    """Drive ``connections`` WebSocket clients in ``procs`` processes (two unless one connection).

    ``template`` is the message; with ``vary_id`` its ``{id}`` takes a new value
    in every message, so no answer can be served from a cache of whole answers.
    Answers with ``"status":"error"`` are counted in ``non2xx``.
    """
    if procs is None:
        procs = 2 if connections > 1 else 1
    queue: Any = multiprocessing.Queue()
    workers = []
    for i in range(procs):
        share = connections // procs + (1 if i < connections % procs else 0)
        p = multiprocessing.Process(
            target=_ws_worker, args=(port, share, template, vary_id, duration, queue)
        )
        p.start()
        workers.append(p)
    total = errors = 0
    latencies: list[float] = []
    for _ in workers:
        done, bad, lat = queue.get(timeout=duration + 60)
        total += done
        errors += bad
        latencies.extend(lat)
    for p in workers:
        p.join()
    latencies.sort()
    return {
        "rate": total / duration,
        "p50": latencies[len(latencies) // 2] * 1000 if latencies else 0.0,
        "p99": latencies[int(len(latencies) * 0.99)] * 1000 if latencies else 0.0,
        "non2xx": float(errors),
        "socket_errors": 0.0,
    }


# -- per-message cost, in process ---------------------------------------------------------------


def message_cost(count: int = 20000) -> None:
    """Microseconds per hot answer with no network: our HTTP front against Autobahn's WebSocket.

    Uses the web tests' in-memory server (fake clock, StringTransport), so what
    is left is parsing, the hot lookup, framing and the DOS guard's counting.
    """
    from tests.rpc.helpers import NOW, store_ledgers
    from tests.web.helpers import client_frame, connect, post_bytes, ws_connect
    from tests.web.test_fast_http import fast

    server = fast({"dos_guard": {"whitelist": ["127.0.0.1"]}}, hot=True)
    store_ledgers(server.backend, 3, 5, NOW - 2)
    hot = server.site.hot  # type: ignore[attr-defined]
    server.ws_factory.hot = hot
    hot.start()
    client = ws_connect(server)
    frame = client_frame(b'{"command": "ledger", "ledger_index": "validated", "id": 3}')
    # The same session as it was before our per-message work: Autobahn's own read and write
    # (with their debug line) and the whitelist decided on every message.
    from autobahn.twisted.websocket import WebSocketServerProtocol

    before = ws_connect(server)
    before.protocol.sendData = types.MethodType(WebSocketServerProtocol.sendData, before.protocol)
    before.protocol._whitelisted = False
    proto, transport = connect(server)
    request = post_bytes(b'{"method": "ledger", "params": [{"ledger_index": "validated"}]}')
    for name, feed, out in (
        ("HTTP", lambda: proto.dataReceived(request), transport),
        ("WebSocket", lambda: client.protocol.dataReceived(frame), client.transport),
        (
            "WebSocket, before",
            lambda: WebSocketServerProtocol.dataReceived(before.protocol, frame),
            before.transport,
        ),
    ):
        feed()
        started = time.perf_counter()
        for _ in range(count):
            out.clear()
            feed()
        took = (time.perf_counter() - started) / count * 1e6
        print(f"hot answer, in process: {name} {took:.1f} us per message")
    print(f"hot hits: {hot.hits}")
    hot.stop()


# -- the run -----------------------------------------------------------------------------------


def requests(targets: dict[str, Any]) -> list[tuple[str, str, bool]]:
    account, tx = targets["account"], targets["tx"]
    info = json.dumps(
        {"method": "account_info", "params": [{"account": account, "ledger_index": "validated"}]}
    )
    return [
        ("account_info", info, False),
        ("account_info (new id each)", info, True),
        (
            "ledger",
            json.dumps({"method": "ledger", "params": [{"ledger_index": "validated"}]}),
            False,
        ),
        ("tx", json.dumps({"method": "tx", "params": [{"transaction": tx}]}), False),
        (
            "account_tx (limit 20)",
            json.dumps({"method": "account_tx", "params": [{"account": account, "limit": 20}]}),
            False,
        ),
    ]


def check_answers(url: str, targets: dict[str, Any]) -> None:
    """One request of each kind, to see they succeed (and to warm the hot path)."""
    import urllib.request

    for name, body, _ in requests(targets):
        req = urllib.request.Request(url, data=body.encode(), method="POST")
        with urllib.request.urlopen(req, timeout=10) as f:
            answer = json.loads(f.read())
        status = answer.get("result", {}).get("status")
        print(f"  check {name}: {status} {answer.get('result', {}).get('error', '')}")


def main() -> None:
    parser = argparse.ArgumentParser(description="HTTP/WS request rates beside the ceiling")
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per figure; the median run is shown"
    )
    parser.add_argument("--compare", help="another server's JSON-RPC URL")
    parser.add_argument("--skip-processes", action="store_true", help="skip processes: 2")
    parser.add_argument(
        "--message-cost",
        action="store_true",
        help="only the in-process cost of one hot answer, HTTP and WebSocket",
    )
    parser.add_argument("--fill", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.message_cost:
        sys.path.insert(0, str(ROOT))
        message_cost()
        return
    if args.fill:
        fill_store(args.fill)  # prints the targets, then ends the process
        return
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    tmp = tempfile.mkdtemp(prefix="clio-bench-http-")
    store = os.path.join(tmp, "clio.sqlite3")
    started = time.monotonic()
    targets = fill_in_child(store)
    print(f"store filled in {time.monotonic() - started:.1f}s: {targets}")
    rows: list[tuple[str, str, int, dict[str, float]]] = []

    def measure_ceiling(label: str) -> None:
        ceiling = start_ceiling()
        try:
            script = wrk_script(tmp, '{"method": "ping"}', False)
            url = f"http://127.0.0.1:{ceiling.port}/"
            for c in CONNECTIONS:
                result = median_of(args.repeat, run_wrk, url, script, c, args.duration)
                rows.append(("ceiling", label, c, result))
        finally:
            ceiling.stop()

    # The ceiling is measured before and after our server; ratios use the mean of the two.
    measure_ceiling("fixed body (before)")

    process_counts = (1,) if args.skip_processes else (1, 2)
    for n in process_counts:
        ours = start_ours(tmp, store, n)
        try:
            url = f"http://127.0.0.1:{ours.port}/"
            print(f"ours, processes={n}, on {url}")
            check_answers(url, targets)
            for name, body, vary in requests(targets):
                if n > 1 and name != "account_info":
                    continue
                script = wrk_script(tmp, body, vary)
                for c in CONNECTIONS:
                    result = median_of(args.repeat, run_wrk, url, script, c, args.duration)
                    rows.append((f"ours p={n}", name, c, result))
            if n == 1:
                info = json.dumps(
                    {"command": "account_info", "account": targets["account"], "id": 1}
                )
                for c in CONNECTIONS:
                    rows.append(
                        (
                            "ours p=1",
                            "WS account_info",
                            c,
                            median_of(args.repeat, run_ws, ours.port, info, c, args.duration),
                        )
                    )
        finally:
            ours.stop()

    if args.compare:
        check_answers(args.compare, targets)
        for name, body, vary in requests(targets):
            script = wrk_script(tmp, body, vary)
            for c in CONNECTIONS:
                result = median_of(args.repeat, run_wrk, args.compare, script, c, args.duration)
                rows.append(("compare", name, c, result))

    measure_ceiling("fixed body (after)")
    ceiling_runs: dict[int, list[float]] = {}
    for who, _, c, r in rows:
        if who == "ceiling":
            ceiling_runs.setdefault(c, []).append(r["rate"])
    ceiling_rate = {c: sum(v) / len(v) for c, v in ceiling_runs.items()}
    one_proc = {(name, c): r["rate"] for who, name, c, r in rows if who == "ours p=1"}
    print()
    print(
        f"{'server':<12} {'request':<28} {'conns':>5} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'/ceiling':>9} {'/p=1':>6}  notes"
    )
    for who, name, c, r in rows:
        ratio = r["rate"] / ceiling_rate[c] if ceiling_rate.get(c) else 0.0
        vs_one = ""
        if who.startswith("ours p=") and who != "ours p=1" and (name, c) in one_proc:
            vs_one = f"{r['rate'] / one_proc[(name, c)]:.2f}"
        notes = []
        if r["non2xx"]:
            notes.append(f"{int(r['non2xx'])} non-2xx")
        if r["socket_errors"]:
            notes.append("socket errors")
        print(
            f"{who:<12} {name:<28} {c:>5} {r['rate']:>10.0f} {r['p50']:>8.2f} {r['p99']:>8.2f} "
            f"{ratio:>9.2f} {vs_one:>6}  {', '.join(notes)}"
        )
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
