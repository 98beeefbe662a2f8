"""Many sources behind one ``request``: pick one that holds the ledger, fail over to the next.

Also keeps the network's highest validated sequence (the max any healthy
source announced) and lets the ETL wait for a given sequence to be validated.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from clio_twisted.etl.source import (
    DEFAULT_TIMEOUT,
    JsonDict,
    LedgerSource,
    RippledError,
    SourceError,
)

# rippled errors that are answers about the ledger, not about the source: another
# source would say the same, so they are passed to the caller.
DEFINITIVE_ERRORS = frozenset({"entryNotFound", "objectNotFound", "txnNotFound", "invalidParams"})


class NoSourceAvailable(SourceError):
    """Every source was tried once and none answered."""


class SourcePool:
    """Round-robin over healthy sources, starting at a random one (as Clio's load balancer)."""

    log = Logger()

    def __init__(
        self,
        sources: Sequence[LedgerSource],
        clock: IReactorTime,
        timeout: float = DEFAULT_TIMEOUT,
        rng: random.Random | None = None,
    ) -> None:
        self.sources = list(sources)
        self._clock = clock
        self._timeout = timeout
        self._rng = rng or random.Random()
        self.network_validated = 0
        self._waiters: list[tuple[int, Deferred[None]]] = []

    def on_validated(self, source: object, sequence: int) -> None:
        """A source announced a validated ledger: wake whoever waits for it."""
        if sequence <= self.network_validated:
            return
        self.network_validated = sequence
        ready = [d for seq, d in self._waiters if seq <= sequence]
        self._waiters = [(seq, d) for seq, d in self._waiters if seq > sequence]
        for d in ready:
            d.callback(None)

    def wait_validated(self, sequence: int, timeout: float | None = None) -> Deferred[None]:
        """Fires once some source announced ``sequence`` (or later) as validated."""
        if sequence <= self.network_validated:
            return Deferred.fromCoroutine(_noop())
        d: Deferred[None] = Deferred(lambda d: self._waiters.remove((sequence, d)))
        self._waiters.append((sequence, d))
        if timeout is not None:
            d.addTimeout(timeout, self._clock)
        return d

    def healthy_sources(self) -> list[LedgerSource]:
        return [s for s in self.sources if s.healthy]

    async def request(
        self, cmd: JsonDict, sequence: int | None = None, timeout: float | None = None
    ) -> JsonDict:
        """Ask each suitable source once, from a random start; raise NoSourceAvailable if all fail.

        With ``sequence``, only sources holding that ledger are asked.
        """
        candidates = [
            s
            for s in self.sources
            if (s.has_ledger(sequence) if sequence is not None else s.healthy)
        ]
        if not candidates:
            raise NoSourceAvailable(
                f"no healthy source holds ledger {sequence}"
                if sequence is not None
                else "no healthy source"
            )
        start = self._rng.randrange(len(candidates))
        errors: list[str] = []
        for i in range(len(candidates)):
            source = candidates[(start + i) % len(candidates)]
            try:
                return await source.request(cmd, timeout or self._timeout)
            except RippledError as e:
                if e.error in DEFINITIVE_ERRORS:
                    raise
                errors.append(f"{source.name}: {e.error}")
            except SourceError as e:
                errors.append(str(e))
            self.log.debug(
                "{command} failed on {source}", command=cmd.get("command"), source=source.name
            )
        raise NoSourceAvailable("; ".join(errors))


async def _noop() -> None:
    return None
