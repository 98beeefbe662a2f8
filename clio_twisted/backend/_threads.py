"""A thread pool a backend owns, for the calls that block (sqlite3, driver connect/prepare).

The reactor thread only ever awaits a Deferred; the blocking function runs on
one of the pool's threads and its result comes back via ``callFromThread``
(that is what ``deferToThreadPool`` does). The pool is started by the backend's
``start()`` and stopped by its ``stop()``, so nothing is left running when the
service stops. Tests pass a pool and reactor that run the call at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from twisted.internet.interfaces import IReactorFromThreads
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

T = TypeVar("T")


class PoolLike(Protocol):
    """What deferToThreadPool and our lifecycle need from a thread pool."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def callInThreadWithCallback(
        self, onResult: Callable[[bool, Any], object], func: Callable[..., Any], *args: Any
    ) -> None: ...


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

    def start(self) -> None:
        if not self._running:
            self._pool.start()
            self._running = True

    def stop(self) -> None:
        if self._running:
            self._running = False
            self._pool.stop()

    @property
    def running(self) -> bool:
        return self._running

    async def run(self, func: Callable[..., T], *args: Any) -> T:
        if not self._running:
            raise RuntimeError("the backend is not started")
        result: T = await deferToThreadPool(self._reactor, self._pool, func, *args)  # type: ignore[arg-type]
        return result
