"""rippled's error answers, as the fake rippled raises them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class RpcError(Exception):
    """A rippled error answer: token, numeric code and message."""

    def __init__(
        self,
        token: str,
        code: int | None,
        message: str | None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(token)
        self.token = token
        self.code = code
        self.message = message
        # Fields rippled puts beside some errors (ledger_hash, ledger_index, validated).
        self.extra = dict(extra or {})

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {**self.extra, "error": self.token}
        if self.code is not None:
            out["error_code"] = self.code
        if self.message is not None:
            out["error_message"] = self.message
        return out


def invalid_params(message: str = "Invalid parameters.") -> RpcError:
    return RpcError("invalidParams", 31, message)


def ledger_not_found() -> RpcError:
    return RpcError("lgrNotFound", 21, "ledgerNotFound")


# The errors a test can ask the server to return by name (``refuse``).
KNOWN_ERRORS = {
    "tooBusy": RpcError("tooBusy", 9, "The server is too busy to help you now."),
    "slowDown": RpcError("slowDown", 10, "You are placing too much load on the server."),
    "notReady": RpcError("notReady", 13, "Not ready to handle this request."),
    "noCurrent": RpcError("noCurrent", 16, "Current ledger is unavailable."),
    "internal": RpcError("internal", 73, "Internal error."),
    "lgrNotFound": ledger_not_found(),
}
