"""A WebSocket connection's bounded send queue: slow subscribers are cut off, memory stays flat.

The queue registers as the transport's streaming producer: while the kernel
and Twisted's write buffer keep up, messages go straight out; once Twisted
pauses us (its buffer is over its high-water mark), messages wait here, and
when more than ``limit`` wait, the client is too slow: it is disconnected with
a log line, as Clio does over ``server.ws_max_sending_queue_size``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from zope.interface import implementer

from twisted.internet.interfaces import IPushProducer
from twisted.logger import Logger


@implementer(IPushProducer)
class SendQueue:
    """Messages for one connection, in order, at most ``limit`` waiting.

    Args:
        send: writes one message now (Autobahn's ``sendMessage``).
        drop: closes the connection (abort: a slow reader gets no close handshake).
        limit: how many messages may wait while the transport is paused.
        name: the peer, for the log line.
    """

    log = Logger()

    def __init__(
        self, send: Callable[[bytes], None], drop: Callable[[], None], limit: int, name: str = ""
    ) -> None:
        self._send = send
        self._drop = drop
        self.limit = limit
        self.name = name
        self._waiting: deque[bytes] = deque()
        self.paused = False
        self.closed = False

    def attach(self, transport: Any) -> None:
        """Become ``transport``'s producer (replacing the HTTP channel that upgraded to WebSocket)."""
        if transport is None or not hasattr(transport, "registerProducer"):
            return
        if getattr(transport, "producer", None) is not None:
            transport.unregisterProducer()
        transport.registerProducer(self, True)

    def __len__(self) -> int:
        return len(self._waiting)

    def push(self, data: bytes) -> None:
        """Send ``data`` now, or queue it; over the limit, disconnect the slow client."""
        if self.closed:
            return
        if not self.paused and not self._waiting:
            self._send(data)
            return
        if len(self._waiting) >= self.limit:
            self.log.warn(  # noqa: G010 (twisted Logger)
                "WebSocket client {peer} too slow: {count} messages waiting; disconnecting",
                peer=self.name,
                count=len(self._waiting),
            )
            self.stopProducing()
            self._drop()
            return
        self._waiting.append(data)

    # -- IPushProducer -----------------------------------------------------------------------

    def pauseProducing(self) -> None:  # noqa: N802
        self.paused = True

    def resumeProducing(self) -> None:  # noqa: N802
        self.paused = False
        while self._waiting and not self.paused and not self.closed:
            self._send(self._waiting.popleft())

    def stopProducing(self) -> None:  # noqa: N802
        self.closed = True
        self._waiting.clear()
