"""The recorded rippled 3.1.1 stream messages (tests/feeds/data) and a session that collects what we send."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"


def recorded_stream(name: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(the subscribe request, every message received in order) of one recorded connection."""
    sent: dict[str, Any] = {}
    messages: list[dict[str, Any]] = []
    with gzip.open(DATA / f"{name}.jsonl.gz", "rt") as f:
        for line in f:
            row = json.loads(line)
            if "sent" in row and not sent:
                sent = row["sent"]
            elif "message" in row:
                messages.append(row["message"])
    return sent, messages


class FakeSession:
    """A subscriber that keeps every stream message, decoded."""

    def __init__(self) -> None:
        self.raw: list[bytes] = []

    def send_stream(self, data: bytes) -> None:
        self.raw.append(data)

    @property
    def messages(self) -> list[dict[str, Any]]:
        return [json.loads(d) for d in self.raw]
