"""What the ETL is doing, for logs, ``server_info`` and ``/health``.

One mutable object the ETL updates as it goes and the web layer reads: the
phase (loading, following as writer, reading, stopped with a reason), the
initial load's progress with rate and ETA, the last committed ledger, and
the sources' health.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any

from attrs import define, field


class Phase(str, Enum):
    STARTING = "starting"
    LOADING = "loading"  # initial load of an empty store
    WRITING = "writing"  # following the network and committing ledgers
    READING = "reading"  # another server writes; we follow the store
    FINISHED = "finished"  # finish_sequence reached
    FAILED = "failed"  # stopped writing: see ``error``


# server_info's etl section keeps what Clio has no field for under this key (in the
# section and in each source), so no field Clio adds later can clash with ours.
EXTRAS = "clio_twisted"
CLIO_SOURCE_KEYS = frozenset(
    {"validated_range", "is_connected", "ip", "ws_port", "grpc_port", "last_msg_age_seconds"}
)


def clio_source(raw: Mapping[str, Any]) -> dict[str, Any]:
    """One ``etl_sources[]`` entry as Clio writes it: every value a string.

    ``is_connected`` is ``"1"``/``"0"``; ``grpc_port`` is empty (we follow
    over WebSocket only); ``last_msg_age_seconds`` is whole seconds, absent
    until a message came. Other keys of ``raw`` go under :data:`EXTRAS`.
    """
    connected = raw.get("is_connected")
    out: dict[str, Any] = {
        "validated_range": str(raw.get("validated_range") or ""),
        "is_connected": "1" if connected is True or connected in (1, "1") else "0",
        "ip": str(raw.get("ip", "")),
        "ws_port": str(raw.get("ws_port", "")),
        "grpc_port": str(raw.get("grpc_port") or ""),
    }
    age = raw.get("last_msg_age_seconds")
    if age is not None:
        out["last_msg_age_seconds"] = str(int(max(0.0, float(age))))
    extras = {k: v for k, v in raw.items() if k not in CLIO_SOURCE_KEYS}
    if extras:
        out[EXTRAS] = extras
    return out


@define
class LoadProgress:
    """The initial load: objects stored so far and the share of the key space covered."""

    sequence: int = 0
    objects: int = 0
    fraction: float = 0.0  # of the key space walked, 0..1
    started: float = 0.0
    updated: float = 0.0

    def rate(self) -> float:
        elapsed = self.updated - self.started
        return self.objects / elapsed if elapsed > 0 else 0.0

    def eta_seconds(self) -> float | None:
        elapsed = self.updated - self.started
        if self.fraction <= 0 or elapsed <= 0:
            return None
        return max(0.0, elapsed * (1 - self.fraction) / self.fraction)

    def to_json(self) -> dict[str, Any]:
        eta = self.eta_seconds()
        return {
            "ledger_index": self.sequence,
            "objects": self.objects,
            "percent": round(100 * self.fraction, 1),
            "objects_per_second": round(self.rate(), 1),
            "eta_seconds": None if eta is None else round(eta, 1),
        }


@define
class EtlStatus:
    """Shared, read by server_info and /health."""

    read_only: bool = False
    phase: Phase = Phase.STARTING
    is_writer: bool = False
    error: str | None = None
    amendment_blocked: bool = False
    load: LoadProgress | None = None
    last_committed: int | None = None
    last_commit_time: float | None = None
    state_map_bytes: int = 0
    verify_state: bool = True
    sources: Callable[[], list[dict[str, Any]]] = field(default=lambda: [])
    cache: Callable[[], dict[str, Any]] | None = None

    @property
    def ready(self) -> bool:
        """Serving data: something committed and not loading."""
        return self.last_committed is not None and self.phase is not Phase.LOADING

    def server_info(self, now: float) -> dict[str, Any]:
        """The admin ``etl`` section of server_info: Clio's keys with Clio's types, then ours.

        Clio writes ``is_writer``/``read_only`` as 0/1 numbers and
        ``last_publish_age_seconds`` (whole seconds, only once something was
        published) as a string; each source as :func:`clio_source`. What Clio
        does not have (phase, initial load, state map size, error) is under
        :data:`EXTRAS`, a key Clio will not use.
        """
        info: dict[str, Any] = {
            "etl_sources": [clio_source(s) for s in self.sources()],
            "is_writer": int(self.is_writer),
            "read_only": int(self.read_only),
        }
        if self.last_commit_time is not None:
            info["last_publish_age_seconds"] = str(int(max(0.0, now - self.last_commit_time)))
        extras: dict[str, Any] = {"phase": self.phase.value}
        if self.load is not None and self.phase is Phase.LOADING:
            extras["initial_load"] = self.load.to_json()
        if self.verify_state:
            extras["state_map_bytes"] = self.state_map_bytes
        if self.error is not None:
            extras["error"] = self.error
        info[EXTRAS] = extras
        return info

    def health(self) -> tuple[bool, dict[str, Any]]:
        """(healthy, body) for ``/health``: unhealthy while loading, failed, or with nothing stored."""
        body: dict[str, Any] = {"phase": self.phase.value, "ready": self.ready}
        if self.phase is Phase.LOADING and self.load is not None:
            body["initial_load"] = self.load.to_json()
        if self.error is not None:
            body["error"] = self.error
        if self.last_committed is not None:
            body["ledger_index"] = self.last_committed
        return self.ready and self.phase is not Phase.FAILED, body
