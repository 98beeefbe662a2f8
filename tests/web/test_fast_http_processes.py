"""``server.processes: 2`` as real processes: both listen on the one port, both answer, SIGTERM ends both."""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import time
import urllib.request
from pathlib import Path

from twisted.trial.unittest import SkipTest, SynchronousTestCase

from tests.integration.test_twistd import twistd


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def listening_inodes(port: int) -> set[str]:
    """Inodes of the LISTEN sockets on ``port`` (IPv4)."""
    out = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, inode = fields[1], fields[3], fields[9]
        if state == "0A" and int(local.split(":")[1], 16) == port:
            out.add(inode)
    return out


def socket_inodes(pid: int) -> set[str]:
    out = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            out.add(target[8:-1])
    return out


class ProcessesTests(SynchronousTestCase):
    def setUp(self) -> None:
        if not sys.platform.startswith("linux") or not hasattr(socket, "SO_REUSEPORT"):
            raise SkipTest("needs Linux /proc and SO_REUSEPORT")
        self.tmp = Path(self.mktemp()).resolve()
        self.tmp.mkdir(parents=True)
        self.config = self.tmp / "config.json"
        self.config.write_text(
            json.dumps(
                {
                    "server": {"ip": "127.0.0.1", "port": 0, "processes": 2},
                    "database": {
                        "type": "sqlite",
                        "sqlite": {"path": str(self.tmp / "clio.sqlite3")},
                    },
                    "graceful_period": 2,
                    "log_format": "json",
                }
            )
        )

    def test_two_processes_share_the_port(self) -> None:
        """The worker listens on the first process's port, both answer, and SIGTERM ends both."""
        proc = twistd(self.config)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        assert proc.stdout is not None
        port = 0
        seen = 0
        deadline = time.monotonic() + 30
        lines: list[bytes] = []
        while seen < 2 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if b"clio-twisted listening on" in line:
                seen += 1
                if line.startswith(b"{"):
                    port = int(json.loads(line)["port"])
        self.assertEqual(seen, 2, b"".join(lines).decode(errors="replace"))
        workers = children(proc.pid)
        self.assertEqual(len(workers), 1)
        for worker in workers:
            self.addCleanup(_kill, worker)
        listening = listening_inodes(port)
        self.assertEqual(len(listening), 2)
        self.assertTrue(socket_inodes(proc.pid) & listening)
        self.assertTrue(socket_inodes(workers[0]) & listening)

        for _ in range(20):  # new connections each time: the kernel spreads them
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/", data=b'{"method": "ping"}', method="POST"
            )
            with urllib.request.urlopen(request, timeout=10) as answer:
                self.assertEqual(json.loads(answer.read())["result"]["status"], "success")

        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        deadline = time.monotonic() + 20
        while Path(f"/proc/{workers[0]}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        status = Path(f"/proc/{workers[0]}/stat")
        gone = not status.exists() or status.read_text().split()[2] == "Z"
        self.assertTrue(gone, "the worker outlived the first process")


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
