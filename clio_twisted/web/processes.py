"""``server.processes: N``: N processes answer on one port; only the first one runs the ETL (the single writer).

Why processes: one Python process is one core's worth of answers; the API is
read-only on the store, so more readers scale it. Each process binds its own
listening socket to the same address with ``SO_REUSEPORT`` (the kernel spreads
new connections across them) and keeps its own hot-answer cache; all read the
one store. The first process is the twistd one: it runs the whole service
(ETL included) and starts the N-1 others
(``python -m clio_twisted.web.processes --config PATH --port P``), which run
as read-only servers: their ETL never writes, it follows the store (keeping
their state cache and publishing streams from stored data) and keeps the
connections to rippled that forwarding needs. A worker
leaves when its standard input closes, so none outlives the first process;
stopping the first process stops them (SIGTERM, then SIGKILL after a grace
period).

Limits: the DOS guard's budgets are per process (a client spreading over N
connections may get up to N times the budget); subscriptions are served by
whichever process holds the WebSocket.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
from collections.abc import Sequence
from typing import Any

from attrs import evolve
from zope.interface import implementer

from twisted.internet.defer import Deferred, DeferredList, succeed
from twisted.internet.endpoints import serverFromString
from twisted.internet.interfaces import (
    IListeningPort,
    IProtocolFactory,
    IStreamServerEndpoint,
)
from twisted.internet.protocol import Protocol
from twisted.logger import Logger
from twisted.python.failure import Failure

from clio_twisted.config import ClioConfig

STOP_GRACE_SECONDS = 15.0


@implementer(IStreamServerEndpoint)
class ReusePortEndpoint:
    """A TCP listening endpoint bound with ``SO_REUSEPORT``, so several processes share the port."""

    def __init__(self, reactor: Any, port: int, interface: str = "", backlog: int = 1024) -> None:
        self._reactor = reactor
        self._port = port
        self._interface = interface
        self._backlog = backlog

    def listen(self, protocolFactory: IProtocolFactory) -> Deferred[IListeningPort]:  # noqa: N803
        family = socket.AF_INET6 if ":" in self._interface else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((self._interface, self._port))
            sock.listen(self._backlog)
            sock.setblocking(False)
            port: IListeningPort = self._reactor.adoptStreamPort(
                sock.fileno(), family, protocolFactory
            )
        finally:
            sock.close()  # the reactor holds its own duplicate
        return succeed(port)


class _WorkerProcess(Protocol):
    """The first process's view of one worker: its exit, and the pipe that keeps it alive."""

    log = Logger()

    def __init__(self, index: int) -> None:
        self.index = index
        self.ended: Deferred[None] = Deferred()
        self.transport: Any = None

    def makeConnection(self, transport: Any) -> None:
        self.transport = transport

    def childDataReceived(self, fd: int, data: bytes) -> None:
        pass

    def childConnectionLost(self, fd: int) -> None:
        pass

    def processExited(self, reason: Failure) -> None:
        pass

    def processEnded(self, reason: Failure) -> None:
        self.log.info("API worker {index} ended: {reason}", index=self.index, reason=reason.value)
        if not self.ended.called:
            self.ended.callback(None)


@implementer(IListeningPort)
class _PortGroup:
    """This process's listening port plus the workers: stopping it stops them all."""

    def __init__(self, reactor: Any, port: IListeningPort, workers: list[_WorkerProcess]) -> None:
        self._reactor = reactor
        self._port = port
        self.workers = workers

    def startListening(self) -> None:
        self._port.startListening()

    def getHost(self) -> Any:
        return self._port.getHost()

    def stopListening(self) -> Deferred[None]:
        waits = []
        for worker in self.workers:
            if not worker.ended.called:
                try:
                    worker.transport.signalProcess("TERM")
                except Exception:  # already gone
                    pass
                waits.append(worker.ended)
        killer = self._reactor.callLater(STOP_GRACE_SECONDS, self._kill)
        stopped: Deferred[Any] = Deferred.fromCoroutine(_stop(self._port))
        done = DeferredList([stopped, *waits], consumeErrors=True)

        def finished(_: object) -> None:
            if killer.active():
                killer.cancel()

        done.addCallback(finished)
        return done  # type: ignore[return-value]

    def _kill(self) -> None:
        for worker in self.workers:
            if not worker.ended.called:
                try:
                    worker.transport.signalProcess("KILL")
                except Exception:
                    pass


async def _stop(port: IListeningPort) -> None:
    result = port.stopListening()
    if isinstance(result, Deferred):
        await result


@implementer(IStreamServerEndpoint)
class ProcessesEndpoint:
    """Listen here with ``SO_REUSEPORT``, then start ``count - 1`` worker processes on the same port.

    Args:
        reactor: needs ``adoptStreamPort`` and ``spawnProcess``.
        config: the server's config; workers read the same file (``config.source_path``).
        count: processes in all, this one included.
        executable: the Python that runs the workers.
    """

    log = Logger()

    def __init__(
        self,
        reactor: Any,
        config: ClioConfig,
        count: int,
        executable: str = sys.executable,
    ) -> None:
        if config.source_path is None:
            raise ValueError("server.processes > 1 needs the config read from a file")
        self._reactor = reactor
        self._config = config
        self._count = count
        self._executable = executable

    def listen(self, protocolFactory: IProtocolFactory) -> Deferred[IListeningPort]:  # noqa: N803
        server = self._config.server
        d = ReusePortEndpoint(self._reactor, server.port, server.ip).listen(protocolFactory)
        return d.addCallback(self._spawn)

    def _spawn(self, port: IListeningPort) -> IListeningPort:
        actual = port.getHost().port  # type: ignore[attr-defined]
        workers = []
        for index in range(1, self._count):
            worker = _WorkerProcess(index)
            self._reactor.spawnProcess(
                worker,
                self._executable,
                worker_argv(self._executable, self._config.source_path or "", actual, index),
                env=dict(os.environ),
                childFDs={0: "w", 1: 1, 2: 2},
            )
            workers.append(worker)
        self.log.info(
            "started {n} API worker processes on port {port}", n=len(workers), port=actual
        )
        return _PortGroup(self._reactor, port, workers)


def worker_argv(executable: str, config_path: str, port: int, index: int) -> list[str]:
    return [
        executable,
        "-m",
        "clio_twisted.web.processes",
        "--config",
        config_path,
        "--port",
        str(port),
        "--index",
        str(index),
    ]


def api_endpoint(config: ClioConfig, reactor: Any) -> IStreamServerEndpoint:
    """Where the API listens: one ordinary port, or ``server.processes`` processes on one port."""
    if config.server.processes > 1:
        return ProcessesEndpoint(reactor, config, config.server.processes)
    return serverFromString(reactor, config.server.listen)


# -- the worker process ------------------------------------------------------------------------


class _ParentWatch(Protocol):
    """Stops the worker when the first process goes away (our stdin closes)."""

    def __init__(self, reactor: Any) -> None:
        self._reactor = reactor

    def connectionLost(self, reason: Failure = Failure(ConnectionError())) -> None:  # noqa: B008
        if self._reactor.running:
            self._reactor.stop()


def worker_main(argv: Sequence[str] | None = None) -> None:
    """Run one worker on ``--port`` of the config's address: the whole server, read-only."""
    parser = argparse.ArgumentParser(description="clio-twisted API worker process")
    parser.add_argument("--config", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--index", type=int, default=1)
    args = parser.parse_args(argv)

    from twisted.internet import reactor
    from twisted.internet.stdio import StandardIO
    from twisted.logger import globalLogBeginner, textFileLogObserver

    from clio_twisted.config import load_config
    from clio_twisted.tap import build_service

    config = load_config(args.config)
    config = evolve(
        config, read_only=True, server=evolve(config.server, port=args.port, processes=1)
    )
    globalLogBeginner.beginLoggingTo([textFileLogObserver(sys.stderr)])
    service = build_service(
        config,
        reactor,
        endpoint=ReusePortEndpoint(reactor, args.port, config.server.ip),
        install_log_observer=False,
    )
    r: Any = reactor
    stdio: Any = StandardIO  # the POSIX one (mypy sees the Windows signature)
    stdio(_ParentWatch(r), stdout=os.open(os.devnull, os.O_WRONLY), reactor=r)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # ^C at a terminal is for the first process
    r.callWhenRunning(service.startService)
    r.addSystemEventTrigger("before", "shutdown", service.stopService)
    r.run()


if __name__ == "__main__":
    worker_main()
