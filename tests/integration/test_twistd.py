"""``twistd -n clio`` as a real process on an ephemeral port: HTTP, WebSocket, a bad config, SIGTERM."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from tests.web.helpers import client_frame, server_frames

ROOT = Path(__file__).resolve().parents[2]
TWISTD = Path(sys.executable).parent / "twistd"


def twistd(config_path: Path, *args: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    # The editable install does not put twisted/plugins/clio_plugin.py on twistd's path; the checkout does.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.pop("NOTIFY_SOCKET", None)
    return subprocess.Popen(
        [str(TWISTD), "-n", "--pidfile=", "clio", "--config", str(config_path), *args],
        cwd=str(config_path.parent),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


class TwistdTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.tmp = Path(self.mktemp()).resolve()
        self.tmp.mkdir(parents=True)
        self.config = self.tmp / "config.json"
        self.config.write_text(
            json.dumps(
                {
                    "server": {"ip": "127.0.0.1", "port": 0},
                    "database": {
                        "type": "sqlite",
                        "sqlite": {"path": str(self.tmp / "clio.sqlite3")},
                    },
                    "graceful_period": 2,
                    "log_format": "json",
                }
            )
        )

    def start(self) -> tuple[subprocess.Popen[bytes], int, list[bytes]]:
        proc = twistd(self.config)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        lines: list[bytes] = []
        deadline = time.monotonic() + 30
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if b"clio-twisted listening on" in line:
                event = json.loads(line)
                return proc, int(event["port"]), lines
        self.fail(f"server did not start: {b''.join(lines).decode(errors='replace')}")

    def test_serves_http_and_websocket_then_stops_on_sigterm(self) -> None:
        """The real server answers JSON-RPC, /health and WebSocket, then exits 0 on SIGTERM."""
        proc, port, lines = self.start()
        base = f"http://127.0.0.1:{port}/"
        req = urllib.request.Request(
            base, data=b'{"method": "ping", "params": [{}]}', method="POST"
        )
        with urllib.request.urlopen(req, timeout=10) as response:
            body = json.loads(response.read())
        self.assertEqual(body["result"], {"status": "success"})
        self.assertEqual(body["warnings"][0]["id"], 2001)

        bad = urllib.request.Request(base, data=b'{"method": ', method="POST")
        with self.assertRaises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(bad, timeout=10)
        self.assertEqual(
            (caught.exception.code, caught.exception.read()),
            (400, b"Unable to parse JSON from the request"),
        )

        with self.assertRaises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(base + "health", timeout=10)
        self.assertEqual(caught.exception.code, 503)

        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            key = base64.b64encode(os.urandom(16))
            sock.sendall(
                b"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
            )
            handshake = b""
            while b"\r\n\r\n" not in handshake:
                handshake += sock.recv(4096)
            self.assertTrue(handshake.startswith(b"HTTP/1.1 101"))
            rest = handshake.split(b"\r\n\r\n", 1)[1]
            sock.sendall(client_frame(b'{"command": "version", "id": 42}'))
            data = rest
            frames: list[tuple[int, bytes]] = []
            while not frames:
                data += sock.recv(65536)
                try:
                    frames = server_frames(data)
                except (IndexError, struct.error):
                    frames = []  # a frame not fully received yet
            reply = json.loads(frames[0][1])
            self.assertEqual(reply["id"], 42)
            self.assertEqual(reply["result"], {"version": {"first": 1, "last": 2, "good": 1}})
            self.assertEqual(reply["status"], "success")

        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
        # twistd re-raises the stop signal on exit so its parent (systemd) sees why it ended
        self.assertIn(proc.returncode, (0, -signal.SIGTERM), out.decode(errors="replace"))
        self.assertIn(b"clio-twisted stopped", out)

    def test_bad_config_exits_1_with_one_line(self) -> None:
        """A config error stops start-up: exit 1, one line naming the key, no traceback."""
        self.config.write_text('{"server": {"port": "high"}}')
        proc = twistd(self.config)
        out, _ = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(
            out.decode(),
            f'clio-twisted: config error: server.port: expected an integer, got "high" (in {self.config})\n',
        )
