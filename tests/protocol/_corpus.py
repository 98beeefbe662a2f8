"""Loads the compact copies of real data in tests/protocol/data (once per process)."""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"

# Fields rippled's API adds to a transaction or its metadata (not in the binary).
API_TX_FIELDS = frozenset(
    {"hash", "DeliverMax", "metaData", "meta", "date", "ledger_index", "inLedger", "ctid"}
)
API_META_FIELDS = frozenset(
    {"delivered_amount", "nftoken_id", "nftoken_ids", "offer_id", "mpt_issuance_id"}
)


def _load(name: str) -> Any:
    with gzip.open(DATA / name, "rb") as f:
        return json.loads(f.read())


@cache
def corpus_transactions() -> list[dict[str, Any]]:
    """795 transactions of the rippled 3.1.1 corpus: blobs and rippled's v1/v2 JSON."""
    return _load("corpus_transactions.json.gz")  # type: ignore[no-any-return]


@cache
def corpus_state() -> dict[str, Any]:
    """Distinct state blobs of the corpus, and rippled's JSON of 673 of them."""
    return _load("corpus_state.json.gz")  # type: ignore[no-any-return]


@cache
def corpus_api_transactions() -> list[dict[str, Any]]:
    """rippled's API-level fields of transactions in tx/account_tx answers and streams."""
    return _load("corpus_api_transactions.json.gz")  # type: ignore[no-any-return]


def api_key(key: str) -> bool:
    """Keys of tx/meta JSON that belong to the API rendering (or that it moves)."""
    return key[0].islower() or key in ("DeliverMax", "Amount")


@cache
def other_blobs() -> list[str]:
    """Real blobs from the other fixtures (xrpl.js, xrpl-py, xrpl4j, go-xrpl, mainnet pages)."""
    return _load("other_blobs.json.gz")  # type: ignore[no-any-return]


@cache
def real_transactions() -> list[dict[str, Any]]:
    """241 real transactions of ~60 types from public projects: byte-exact blobs and recorded JSON."""
    return _load("real_transactions.json.gz")  # type: ignore[no-any-return]


@cache
def mainnet_json_transactions() -> list[dict[str, Any]]:
    """Transactions of two 2024 mainnet ledgers as rippled's JSON (no blobs)."""
    return _load("mainnet_json_transactions.json.gz")  # type: ignore[no-any-return]


def diff(mine: Any, theirs: Any, path: str = "") -> list[str]:
    """Field-for-field differences, as readable paths (empty when equal)."""
    if isinstance(mine, dict) and isinstance(theirs, dict):
        out = []
        for k in sorted(set(mine) | set(theirs)):
            if k not in mine:
                out.append(f"{path}/{k}: missing")
            elif k not in theirs:
                out.append(f"{path}/{k}: extra")
            else:
                out += diff(mine[k], theirs[k], f"{path}/{k}")
        return out
    if isinstance(mine, list) and isinstance(theirs, list) and len(mine) == len(theirs):
        out = []
        for i, (a, b) in enumerate(zip(mine, theirs, strict=True)):
            out += diff(a, b, f"{path}[{i}]")
        return out
    return (
        [] if mine == theirs and type(mine) is type(theirs) else [f"{path}: {mine!r} != {theirs!r}"]
    )
