"""Rebuild the project's compact copy of the recorded rippled 3.1.1 corpus.

    python -m clio_twisted.testing.compact_corpus SOURCE_DIR [OUT_DIR]

SOURCE_DIR is the recorded corpus (``fixtures/rippled-3.1.1-standalone``:
ledgers/<seq>.json with each ledger's binary answer and full state). OUT_DIR
defaults to ``clio_twisted/testing/data/replay-3.1.1``. The copy keeps only
binary data (headers, tx and meta blobs, the first full state and each
ledger's changes) plus the few recorded JSON answers the fake rippled serves
verbatim; ``checks.json`` records, from the source, each ledger's hash,
account_hash and a digest of its full state, so tests can prove the compact
copy rebuilds every recorded state without reading the source.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from clio_twisted.protocol.hashing import transaction_id
from clio_twisted.protocol.ledger_header import LedgerHeader
from clio_twisted.testing.chain import ChainLedger
from clio_twisted.testing.replay import (
    CHECKS_FILE,
    DEFAULT_CORPUS,
    LEDGERS_FILE,
    encode_corpus,
    load_ledgers,
    state_digest,
)

# Recorded answers replayed verbatim for forwarded commands whose real answer
# needs keys or path finding; stored by method, as (request params, result).
VERBATIM_METHODS = ("channel_authorize", "channel_verify", "ripple_path_find")
# Recorded request/answer pairs kept for the fake's conformance tests.
CONFORMANCE_METHODS = (
    "ledger",
    "ledger_data",
    "ledger_entry",
    "tx",
    "ledger_closed",
    "ledger_current",
)
CONFORMANCE_FILE = "conformance.json.gz"

NOTICE = """\
Recorded rippled 3.1.1 corpus, compacted.

Source: the corpus recorded from a real rippled 3.1.1 (built from XRPLF/rippled,
ISC licence) in standalone mode: ledgers 3-270, their transactions and full
state, and a few of its JSON answers. Everything here is rippled's own output,
re-encoded without change of content: ledgers.bin.gz holds the binary header,
transaction and metadata blobs of each ledger, the first ledger's full state
and each later ledger's changed objects (format in clio_twisted/testing/replay.py).
server_info.json, server_state.json, server_definitions.json.gz,
answers.json.gz and conformance.json.gz (request/answer pairs of ledger,
ledger_data, ledger_entry, tx, ledger_closed, ledger_current) are rippled's
answers as recorded. checks.json is derived
(ledger hashes and state digests computed from the source).

Rebuild with: python -m clio_twisted.testing.compact_corpus SOURCE_DIR
Licence of the data: ISC (rippled's output), as the source corpus.
"""


def _transaction_index(meta: bytes) -> int:
    # Metadata is an STObject whose first field is sfTransactionIndex (UInt32, nth 28).
    if meta[:2] != b"\x20\x1c":
        raise ValueError("metadata does not start with TransactionIndex")
    return int.from_bytes(meta[2:6], "big")


def _ledger_files(source: Path) -> list[Path]:
    return sorted((source / "ledgers").glob("*.json"), key=lambda p: int(p.stem))


def _state(record: dict[str, Any]) -> dict[bytes, bytes]:
    if record.get("state_error"):
        raise ValueError(f"ledger {record['ledger_index']}: state incomplete")
    return {bytes.fromhex(o["index"]): bytes.fromhex(o["data"]) for o in record["state"]}


def source_ledgers(source: Path, checks: dict[str, Any]) -> Iterator[ChainLedger]:
    """The recorded ledgers as ChainLedgers, filling ``checks`` from the source as it goes."""
    previous: dict[bytes, bytes] | None = None
    for path in _ledger_files(source):
        record = json.loads(path.read_bytes())
        binary = record["ledger_binary"]["result"]["ledger"]
        header = LedgerHeader.from_bytes(bytes.fromhex(binary["ledger_data"]))
        if header.hash.hex().upper() != record["ledger_hash"]:
            raise ValueError(f"{path}: header does not hash to the recorded ledger_hash")
        transactions = []
        for tx in binary.get("transactions", []):
            blob, meta = bytes.fromhex(tx["tx_blob"]), bytes.fromhex(tx["meta"])
            transactions.append((_transaction_index(meta), transaction_id(blob), blob, meta))
        transactions.sort()
        state = _state(record)
        if previous is None:
            changes: dict[bytes, bytes | None] = dict(state)
        else:
            changes = {k: v for k, v in state.items() if previous.get(k) != v}
            changes.update({k: None for k in previous if k not in state})
        checks[str(header.sequence)] = {
            "ledger_hash": record["ledger_hash"],
            "account_hash": record["account_hash"],
            "state_count": len(state),
            "state_digest": state_digest(state),
        }
        previous = state
        yield ChainLedger(header, tuple(t[1:] for t in transactions), changes)


def _verbatim_answers(source: Path) -> dict[str, list[dict[str, Any]]]:
    answers: dict[str, list[dict[str, Any]]] = {}
    for method in VERBATIM_METHODS:
        path = source / "answers" / f"{method}.jsonl"
        for line in path.read_text().splitlines():
            record = json.loads(line)
            answers.setdefault(method, []).append(
                {"params": record["request"]["params"][0], "result": record["response"]["result"]}
            )
    return answers


def _conformance(source: Path) -> list[dict[str, Any]]:
    cases = []
    for method in CONFORMANCE_METHODS:
        for line in (source / "answers" / f"{method}.jsonl").read_text().splitlines():
            record = json.loads(line)
            params = dict(record["request"]["params"][0])
            cases.append(
                {
                    "label": record["label"],
                    "method": method,
                    "params": params,
                    "result": record["response"]["result"],
                }
            )
    return cases


def _write_gzip_json(path: Path, value: Any) -> None:
    # mtime=0 keeps the output byte-identical from one rebuild to the next.
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
        f.write(json.dumps(value, sort_keys=True, separators=(",", ":")).encode())


def build(source: Path, out: Path) -> int:
    """Write the compact corpus from ``source`` into ``out``; returns the ledger count."""
    out.mkdir(parents=True, exist_ok=True)
    checks: dict[str, Any] = {}
    data = encode_corpus(source_ledgers(source, checks))
    (out / LEDGERS_FILE).write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    count = len(checks)
    lines = ",\n".join(
        f"{json.dumps(k)}: {json.dumps(checks[k], sort_keys=True)}" for k in sorted(checks, key=int)
    )
    (out / CHECKS_FILE).write_text("{\n" + lines + "\n}\n")
    for name in ("server_info.json", "server_state.json"):
        (out / name).write_bytes((source / name).read_bytes())
    _write_gzip_json(
        out / "server_definitions.json.gz",
        json.loads((source / "server_definitions.json").read_bytes()),
    )
    _write_gzip_json(out / "answers.json.gz", _verbatim_answers(source))
    _write_gzip_json(out / CONFORMANCE_FILE, _conformance(source))
    (out / "NOTICE").write_text(NOTICE)
    return count


def verify(out: Path, checks: dict[str, Any]) -> None:
    """Replay the compact copy and check every ledger's hash and full state against ``checks``."""
    state: dict[bytes, bytes] = {}
    ledgers = load_ledgers(out)
    if len(ledgers) != len(checks):
        raise ValueError(f"{len(ledgers)} ledgers in the copy, {len(checks)} in the source")
    for ledger in ledgers:
        for key, blob in ledger.changes.items():
            if blob is None:
                del state[key]
            else:
                state[key] = blob
        expected = checks[str(ledger.sequence)]
        if ledger.hash.hex().upper() != expected["ledger_hash"]:
            raise ValueError(f"ledger {ledger.sequence}: hash differs")
        if state_digest(state) != expected["state_digest"]:
            raise ValueError(f"ledger {ledger.sequence}: state differs")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="the recorded corpus directory")
    parser.add_argument("out", type=Path, nargs="?", default=DEFAULT_CORPUS)
    args = parser.parse_args(argv)
    count = build(args.source, args.out)
    verify(args.out, json.loads((args.out / CHECKS_FILE).read_text()))
    size = sum(p.stat().st_size for p in args.out.iterdir())
    sys.stdout.write(f"{count} ledgers written to {args.out} ({size} bytes), verified\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
