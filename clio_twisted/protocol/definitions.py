"""Field, type and enum codes of the XRPL binary format, read from rippled's own table.

The table is the answer rippled gives to ``server_definitions`` (the one of
rippled 3.1.1 ships in ``data/server_definitions.json``); dropping in a newer
answer teaches the codec new fields without code changes, as long as their
types are known.  Everything the codec needs per field (its header bytes, its
sort key for canonical order) is computed once here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from attrs import frozen

# Fields whose UInt64 value rippled renders in base ten (``sMD_BaseTen``), not
# hex.  The server_definitions answer does not carry this flag, so it lives here.
BASE_TEN_UINT64 = frozenset({"MaximumAmount", "OutstandingAmount", "MPTAmount", "LockedAmount"})


# Granular delegation permissions (rippled's permissions.macro); a PermissionValue
# is one of these or a transaction type code plus one.
GRANULAR_PERMISSIONS = {
    "TrustlineAuthorize": 65537,
    "TrustlineFreeze": 65538,
    "TrustlineUnfreeze": 65539,
    "AccountDomainSet": 65540,
    "AccountEmailHashSet": 65541,
    "AccountMessageKeySet": 65542,
    "AccountTransferRateSet": 65543,
    "AccountTickSizeSet": 65544,
    "PaymentMint": 65545,
    "PaymentBurn": 65546,
    "MPTokenIssuanceLock": 65547,
    "MPTokenIssuanceUnlock": 65548,
}


class DefinitionsError(ValueError):
    """A definitions file that is not in rippled's ``server_definitions`` format."""


def field_header(type_code: int, nth: int) -> bytes:
    """The one to three bytes that name a field in a serialized object."""
    if type_code < 16:
        if nth < 16:
            return bytes((type_code << 4 | nth,))
        return bytes((type_code << 4, nth))
    if nth < 16:
        return bytes((nth, type_code))
    return bytes((0, type_code, nth))


@frozen
class FieldDef:
    """One serialized field: its name, type and the codes that place it."""

    name: str
    type_name: str
    type_code: int
    nth: int
    is_vl: bool
    is_signing: bool

    @property
    def header(self) -> bytes:
        return field_header(self.type_code, self.nth)

    @property
    def sort_key(self) -> int:
        """Canonical order: by type code, then field code (rippled's ``fieldCode``)."""
        return (self.type_code << 16) | self.nth


@frozen
class Definitions:
    """The whole table: serialized fields and the enum name maps."""

    fields: Mapping[str, FieldDef]
    types: Mapping[str, int]
    transaction_types: Mapping[str, int]
    ledger_entry_types: Mapping[str, int]
    transaction_results: Mapping[str, int]
    hash: str | None

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Definitions:
        """Build from a ``server_definitions`` answer (with or without its ``result`` wrapper)."""
        if "result" in doc and isinstance(doc["result"], Mapping):
            doc = doc["result"]
        try:
            types = {str(k): int(v) for k, v in doc["TYPES"].items()}
            fields: dict[str, FieldDef] = {}
            for name, info in doc["FIELDS"]:
                if not info.get("isSerialized") or info["nth"] < 1 or info["nth"] > 255:
                    continue
                type_code = types[info["type"]]
                if type_code < 1 or type_code > 255:
                    continue
                fields[name] = FieldDef(
                    name=name,
                    type_name=info["type"],
                    type_code=type_code,
                    nth=int(info["nth"]),
                    is_vl=bool(info["isVLEncoded"]),
                    is_signing=bool(info["isSigningField"]),
                )
            return cls(
                fields=fields,
                types=types,
                transaction_types=dict(doc["TRANSACTION_TYPES"]),
                ledger_entry_types=dict(doc["LEDGER_ENTRY_TYPES"]),
                transaction_results=dict(doc["TRANSACTION_RESULTS"]),
                hash=doc.get("hash"),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise DefinitionsError(f"not a server_definitions answer: {e!r}") from e

    @property
    def permissions(self) -> dict[str, int]:
        """PermissionValue names: every transaction type (code + 1) and the granular ones."""
        out = {k: v + 1 for k, v in self.transaction_types.items() if v >= 0}
        out.update(GRANULAR_PERMISSIONS)
        return out

    @classmethod
    def from_file(cls, path: str | Path) -> Definitions:
        with open(path, "rb") as f:
            return cls.from_json(json.load(f))


@cache
def default_definitions() -> Definitions:
    """The definitions shipped with the package (rippled 3.1.1)."""
    text = (
        resources.files("clio_twisted.protocol")
        .joinpath("data/server_definitions.json")
        .read_bytes()
    )
    return Definitions.from_json(json.loads(text))
