"""Clio's DOS guard: per-IP request, byte and connection budgets, cleared every sweep.

State per IP: connections open now (kept across sweeps), and bytes sent and
requests made since the last sweep (cleared every ``sweep_interval``). An IP
is over budget when bytes > ``max_fetches``, requests > ``max_requests`` or
connections > ``max_connections``. What the transports do then (as Clio):

- WebSocket upgrade over budget: HTTP 429 ``Too many requests``;
- HTTP POST over budget: 503 with a ``slowDown`` JSON body;
- WebSocket message over budget: a ``slowDown`` error message, connection kept;
- any response whose bytes push the IP over budget still goes out, with
  ``"warning": "load"`` and warning 2003.

Whitelisted addresses (IPs or CIDR networks) skip every check. The sweep runs
on the injected clock (``start``/``stop``), so tests drive it with ``task.Clock``.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from typing import Any

from attrs import define, field

from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from clio_twisted.config import DosGuardConfig
from clio_twisted.rpc.envelope import dumps
from clio_twisted.rpc.errors import WarningCode
from clio_twisted.web.admin import client_address


@define
class _Usage:
    bytes_sent: int = 0
    requests: int = 0


@define
class DosGuard:
    """The per-IP budgets; one instance shared by every connection of the server."""

    config: DosGuardConfig
    clock: IReactorTime
    _usage: dict[str, _Usage] = field(factory=dict)
    _connections: Counter[str] = field(factory=Counter)
    _networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = field(factory=list)
    _sweeper: LoopingCall | None = None
    log = Logger()

    def __attrs_post_init__(self) -> None:
        self._networks = [ipaddress.ip_network(w, strict=False) for w in self.config.whitelist]

    def is_whitelisted(self, ip: str) -> bool:
        if not self._networks:
            return False
        address = client_address(ip)
        if address is None:
            return False
        return any(address in network for network in self._networks)

    def is_ok(self, ip: str) -> bool:
        """Whether ``ip`` is within every budget."""
        if self.is_whitelisted(ip):
            return True
        usage = self._usage.get(ip)
        if usage is not None and (
            usage.bytes_sent > self.config.max_fetches or usage.requests > self.config.max_requests
        ):
            self.log.warn(  # noqa: G010 (twisted Logger)
                "DOS guard: {ip} over its rate limit ({bytes} bytes, {requests} requests)",
                ip=ip,
                bytes=usage.bytes_sent,
                requests=usage.requests,
            )
            return False
        if self._connections.get(ip, 0) > self.config.max_connections:
            self.log.warn(  # noqa: G010 (twisted Logger)
                "DOS guard: {ip} has {count} connections", ip=ip, count=self._connections[ip]
            )
            return False
        return True

    def increment(self, ip: str) -> None:
        """A connection from ``ip`` opened."""
        if not self.is_whitelisted(ip):
            self._connections[ip] += 1

    def decrement(self, ip: str) -> None:
        """A connection from ``ip`` closed."""
        if self.is_whitelisted(ip) or self._connections.get(ip, 0) <= 0:
            return
        self._connections[ip] -= 1
        if self._connections[ip] == 0:
            del self._connections[ip]

    def connections(self, ip: str) -> int:
        return self._connections.get(ip, 0)

    def add(self, ip: str, num_bytes: int) -> bool:
        """Count a response's bytes; False when ``ip`` is now over budget."""
        if self.is_whitelisted(ip):
            return True
        self._usage.setdefault(ip, _Usage()).bytes_sent += num_bytes
        return self.is_ok(ip)

    def request(self, ip: str) -> bool:
        """Count a request; False when ``ip`` is now over budget (answer ``slowDown``)."""
        if self.is_whitelisted(ip):
            return True
        self._usage.setdefault(ip, _Usage()).requests += 1
        return self.is_ok(ip)

    def clear(self) -> None:
        """The sweep: forget bytes and requests (connections stay)."""
        self._usage.clear()

    def start(self) -> None:
        if self._sweeper is None:
            self._sweeper = LoopingCall(self.clear)
            self._sweeper.clock = self.clock
            self._sweeper.start(self.config.sweep_interval, now=False)

    def stop(self) -> None:
        if self._sweeper is not None and self._sweeper.running:
            self._sweeper.stop()
        self._sweeper = None


def charge_response(guard: DosGuard, ip: str, body: dict[str, Any]) -> bytes:
    """Serialise a JSON answer and count its bytes; over budget, add Clio's ``load`` warnings."""
    data = dumps(body)
    if guard.add(ip, len(data)):
        return data
    body = dict(body)
    body["warning"] = "load"
    warnings = body.get("warnings")
    rate_limit = WarningCode.RATE_LIMIT.to_json()
    body["warnings"] = [*warnings, rate_limit] if isinstance(warnings, list) else [rate_limit]
    return dumps(body)
