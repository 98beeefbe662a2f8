"""server_info sections Clio adds beside its own fields: the state ``cache`` and rippled's figures.

Both are ``info_sections`` providers (:class:`clio_twisted.rpc.context.InfoSection`),
merged into ``info`` by the server_info handler, for every client (Clio shows
them to all; only ``etl`` and ``counters`` are admin-only).

- :class:`CacheInfo`: the ETL's state cache, with exactly Clio's six keys.
- :class:`RippledInfo`: ``load_factor``, ``validation_quorum``, ``network_id``
  and ``rippled_version`` (rippled's ``build_version``) copied from the
  followed rippled's own ``server_info``, asked through the forwarder as Clio
  does (so ``forwarding.cache_timeout`` applies). The answer never waits on
  rippled longer than one forwarding deadline; when no source answers in time
  the fields are left out, as Clio leaves them out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from clio_twisted.rpc.context import Context, JsonDict

CACHE_KEYS = ("size", "is_enabled", "is_full", "latest_ledger_seq", "object_hit_rate")
# rippled's server_info field -> the name Clio gives it
RIPPLED_FIELDS = (
    ("load_factor", "load_factor"),
    ("validation_quorum", "validation_quorum"),
    ("build_version", "rippled_version"),
    ("network_id", "network_id"),
)


class CacheInfo:
    """server_info's ``cache``: ``cache()`` returns the ETL's current StateCache (None: no ETL)."""

    def __init__(self, cache: Callable[[], Any]) -> None:
        self._cache = cache

    async def server_info(self, ctx: Context) -> JsonDict:
        cache = self._cache()
        if cache is None:
            return {}
        full: JsonDict = cache.to_json()
        section = {key: full[key] for key in CACHE_KEYS}
        # Successors are read from the cache only once it is full, and then always found
        # there: every successor lookup the cache is asked is a hit (Clio: 1 when unasked).
        section["successor_hit_rate"] = 1.0
        return {"cache": section}


class RippledInfo:
    """rippled's ``load_factor``/``validation_quorum``/``network_id``/``build_version``, via forwarding."""

    log = Logger()

    def __init__(self, forwarder: Any, deadline: float | None = None) -> None:
        self._forwarder = forwarder
        # one forwarding deadline for the whole look-up (the forwarder's own is per source)
        self._deadline = deadline if deadline is not None else forwarder.request_timeout

    async def server_info(self, ctx: Context) -> JsonDict:
        asking: Deferred[JsonDict] = Deferred.fromCoroutine(
            self._forwarder.forward(ctx, "server_info", {})
        )
        asking.addTimeout(self._deadline, cast(IReactorTime, ctx.clock))
        try:
            answer = await asking
        except (CancelledError, TimeoutError):
            return {}
        except Exception as e:  # no source, connection errors: Clio omits the fields
            self.log.debug("rippled's server_info unavailable: {why}", why=str(e))
            return {}
        result = answer.get("result") if isinstance(answer, dict) else None
        if not isinstance(result, dict) or "error" in result or "error" in answer:
            return {}
        info = result.get("info")
        if not isinstance(info, dict):
            return {}
        return {ours: info[theirs] for theirs, ours in RIPPLED_FIELDS if theirs in info}
