"""The recorded rippled 3.1.1 corpus (ledgers 3-270) loaded into an InMemoryBackend.

Handler tests answer from the very ledgers rippled answered from, so their
output can be compared with rippled's recorded answers field for field. The
rows derived from transactions (account and NFT history, NFT states, MPT
holders) come from the ETL's own extraction, as in production. Loading decodes
every transaction once, so the filled store is built once per test process and
shared (tests only read it).
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path
from typing import Any

from twisted.internet.defer import Deferred, ensureDeferred

from clio_twisted.testing.corpus_writes import corpus_writes
from clio_twisted.testing.replay import load_ledgers
from tests.fakes.backend import InMemoryBackend, MemoryStore

DATA = Path(__file__).parent / "data"
FIRST, LAST = 3, 270


@cache
def _store() -> MemoryStore:
    backend = InMemoryBackend()
    d: Deferred[None] = ensureDeferred(_fill(backend))
    failures: list[Any] = []
    d.addErrback(failures.append)
    if failures:
        failures[0].raiseException()
    return backend.store


async def _fill(backend: InMemoryBackend) -> None:
    for write in corpus_writes(load_ledgers()):
        await backend.write_ledger(write)


def corpus_backend() -> InMemoryBackend:
    """A read-only backend over the whole corpus (ledgers 3-270)."""
    return InMemoryBackend(store=_store(), read_only=True)


def recorded(method: str) -> list[dict[str, Any]]:
    """The recorded exchanges for ``method`` kept in tests/rpc/data (rippled's and Clio's answers)."""
    with gzip.open(DATA / f"{method}.jsonl.gz", "rt") as f:
        return [json.loads(line) for line in f if line.strip()]


def corpus_context(api_version: int = 1, network_id: int | None = 0) -> Any:
    """A handler Context over the corpus, as the dispatcher builds one (range read once)."""
    from twisted.internet.task import Clock

    from clio_twisted.backend.interface import LedgerRange
    from clio_twisted.rpc.context import Context

    backend = corpus_backend()
    del network_id  # the corpus's rippled ran with network id 0, the default
    return Context(
        backend=backend,
        clock=Clock(),
        api_version=api_version,
        ledger_range=LedgerRange(FIRST, LAST),
    )


def call(
    handler: Any, params: dict[str, Any], api_version: int = 1, ctx: Any = None
) -> dict[str, Any]:
    """Run a handler's parse and process synchronously; return its result or its error object.

    Errors come back as the dict ``RPCError.to_json()`` makes, so tests compare
    answers and errors the same way.
    """
    from clio_twisted.rpc.errors import RPCError

    if ctx is None:
        ctx = corpus_context(api_version)
    try:
        inp = handler.parse(params, api_version)
        d: Deferred[dict[str, Any]] = ensureDeferred(handler.process(ctx, inp))
    except RPCError as e:
        return e.to_json()
    results: list[Any] = []
    d.addBoth(results.append)
    (result,) = results
    if hasattr(result, "check") and result.check(RPCError):
        error: dict[str, Any] = result.value.to_json()
        return error
    if hasattr(result, "raiseException"):
        result.raiseException()
    out: dict[str, Any] = result
    return out
