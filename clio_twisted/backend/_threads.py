"""A thread pool a backend owns, for the calls that block (sqlite3, driver connect/prepare).

The reactor thread only ever awaits a Deferred; the blocking function runs on
one of the pool's threads and its result comes back via ``callFromThread``
(as ``deferToThreadPool`` does). The pool is started by the backend's
``start()`` and stopped by its ``stop()``, so nothing is left running when the
service stops. Tests pass a pool and reactor that run the call at once.

Stopping is where the danger is: a backend closes its connections on the way
out, and a pool thread still inside a call would then use a closed connection
(sqlite3 can crash the process on that). So :meth:`ThreadRunner.close` first
refuses new work, then waits, without blocking the reactor, until every call
already handed to the pool has *returned on its thread* (a caller that gave up,
e.g. a cancelled request, does not count as finished), and only then runs the
backend's last call and stops the pool.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorFromThreads
from twisted.python.threadpool import ThreadPool

T = TypeVar("T")


class PoolLike(Protocol):
    """What deferToThreadPool and our lifecycle need from a thread pool."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def callInThreadWithCallback(
        self, onResult: Callable[[bool, Any], object], func: Callable[..., Any], *args: Any
    ) -> None: ...


class WorkInFlight:
    """Counts work started and not yet finished; refuses new work once closing; says when idle.

    Used on the reactor thread only.
    """

    def __init__(self, what: str = "the backend") -> None:
        self.count = 0
        self.closing = False
        self._what = what
        self._idle: list[Deferred[None]] = []

    def begin(self) -> None:
        """Count one more piece of work, or raise when closing."""
        if self.closing:
            raise RuntimeError(f"{self._what} is stopping")
        self.count += 1

    def end(self) -> None:
        """One piece of work finished."""
        self.count -= 1
        if self.count == 0:
            waiters, self._idle = self._idle, []
            for d in waiters:
                d.callback(None)

    def close(self) -> Deferred[None]:
        """Refuse new work; fires once the work already started has finished."""
        self.closing = True
        d: Deferred[None] = Deferred()
        if self.count == 0:
            d.callback(None)
        else:
            self._idle.append(d)
        return d


class ThreadRunner:
    """Runs blocking callables off the reactor thread on a pool this object starts and stops."""

    def __init__(
        self,
        reactor: IReactorFromThreads,
        name: str,
        max_threads: int = 4,
        pool: PoolLike | None = None,
    ) -> None:
        self._reactor = reactor
        self._pool: PoolLike = pool if pool is not None else ThreadPool(1, max_threads, name)
        self._running = False
        self._work = WorkInFlight()

    def start(self) -> None:
        if not self._running:
            self._pool.start()
            self._running = True
            self._work = WorkInFlight()

    def stop(self) -> None:
        """Stop the pool at once (start-up failures; :meth:`close` is the graceful way)."""
        if self._running:
            self._running = False
            self._pool.stop()

    @property
    def running(self) -> bool:
        return self._running

    @property
    def in_flight(self) -> int:
        """Calls handed to the pool that have not returned on their thread yet."""
        return self._work.count

    async def run(self, func: Callable[..., T], *args: Any) -> T:
        if not self._running:
            raise RuntimeError("the backend is not started")
        self._work.begin()
        result: T = await self._call(func, *args)
        return result

    async def close(self, last: Callable[[], object] | None = None) -> None:
        """Refuse new calls, wait for the calls in flight, run ``last`` on the pool, stop the pool."""
        if not self._running:
            return
        try:
            await self._work.close()
            if last is not None:
                self._work.count += 1  # counted like any call, though new calls are refused
                await self._call(last)
        finally:
            self.stop()

    def _call(self, func: Callable[..., Any], *args: Any) -> Deferred[Any]:
        """Hand ``func`` to the pool (already counted); the count drops when it returns there."""
        d: Deferred[Any] = Deferred()

        def finished(ok: bool, value: Any) -> None:
            self._work.end()
            if d.called:  # the caller cancelled; the thread's result has nowhere to go
                return
            d.callback(value) if ok else d.errback(value)

        def on_result(ok: bool, value: Any) -> None:
            self._reactor.callFromThread(finished, ok, value)

        try:
            self._pool.callInThreadWithCallback(on_result, func, *args)
        except BaseException:
            self._work.end()
            raise
        return d
