"""A thread pool and reactor that run "threaded" calls at once, on the test's thread.

``deferToThreadPool`` hands the call to the pool and the result back through
``reactor.callFromThread``; with these two it all happens synchronously, so a
backend built on a thread pool can be tested with ``successResultOf``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet.task import Clock
from twisted.python.failure import Failure


class ImmediateThreadPool:
    def __init__(self) -> None:
        self.started = False
        self.calls = 0

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.started = False

    def callInThreadWithCallback(
        self, onResult: Callable[[bool, Any], object], func: Callable[..., Any], *args: Any
    ) -> None:
        assert self.started, "call on a pool that is not running"
        self.calls += 1
        try:
            result = func(*args)
        except BaseException:
            onResult(False, Failure())
        else:
            onResult(True, result)


class ImmediateReactor(Clock):
    """A Clock whose callFromThread runs the call at once."""

    def callFromThread(self, f: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        f(*args, **kwargs)
