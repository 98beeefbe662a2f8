"""Shared test helpers for the RPC layer: a dispatcher over an InMemoryBackend on a fake clock."""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock

from clio_twisted.backend.interface import LedgerWrite
from clio_twisted.config import ClioConfig
from clio_twisted.protocol.ledger_header import RIPPLE_EPOCH_UNIX, LedgerHeader
from clio_twisted.rpc.context import Context
from clio_twisted.rpc.dispatch import Caller, Dispatcher
from clio_twisted.rpc.handlers import load_handlers
from tests.fakes.backend import InMemoryBackend

# A fixed "now": 2026-11-27 02:00:00 UTC.
NOW = 1_795_744_800.0


def make_header(sequence: int, close_time_unix: float) -> LedgerHeader:
    return LedgerHeader(
        sequence=sequence,
        total_drops=99_999_999_999_000_000,
        parent_hash=bytes([sequence % 256]) * 32,
        transaction_hash=bytes(32),
        account_hash=bytes([1]) * 32,
        parent_close_time=int(close_time_unix - RIPPLE_EPOCH_UNIX) - 4,
        close_time=int(close_time_unix - RIPPLE_EPOCH_UNIX),
        close_time_resolution=10,
        close_flags=0,
    )


def store_ledgers(
    backend: InMemoryBackend, first: int, last: int, newest_close: float
) -> list[LedgerHeader]:
    """Commit headers ``first..last`` (no state); the last closes at ``newest_close``."""
    headers = []
    for seq in range(first, last + 1):
        header = make_header(seq, newest_close - 4 * (last - seq))
        headers.append(header)
        result = Deferred.fromCoroutine(
            backend.write_ledger(
                LedgerWrite(
                    sequence=seq,
                    header=header.to_bytes(),
                    ledger_hash=header.hash,
                    is_first=seq == first,
                )
            )
        )
        failures: list[Any] = []
        result.addErrback(failures.append)
        assert not failures, failures
    return headers


def make_dispatcher(
    backend: InMemoryBackend | None = None,
    clock: Clock | None = None,
    config: ClioConfig | None = None,
    **providers: Any,
) -> tuple[Dispatcher, InMemoryBackend, Clock]:
    backend = backend if backend is not None else InMemoryBackend()
    if clock is None:
        clock = Clock()
        clock.advance(NOW)
    context = Context(
        backend=backend,
        clock=clock,
        config=config or ClioConfig(),
        started_at=clock.seconds() - 5,
        **providers,
    )
    return Dispatcher(load_handlers(), context), backend, clock


LOCAL = Caller(ip="127.0.0.1", is_admin=True)
REMOTE = Caller(ip="203.0.113.7", is_admin=False)
