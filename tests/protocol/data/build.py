"""Rebuild the compact test data in this folder from /work/shared/fixtures (run by hand, not by tests).

Usage: python tests/protocol/data/build.py /work/shared/fixtures
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

HERE = Path(__file__).parent


def _write(name: str, doc: object) -> None:
    raw = json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()
    with gzip.GzipFile(HERE / name, "wb", mtime=0, compresslevel=9) as f:
        f.write(raw)
    print(name, len(raw), (HERE / name).stat().st_size)


def main(root: Path) -> None:
    corpus = root / "rippled-3.1.1-standalone"
    txs = []
    state: dict[str, str] = {}
    for path in sorted((corpus / "ledgers").glob("*.json"), key=lambda p: int(p.stem)):
        d = json.loads(path.read_text())
        binary = d["ledger_binary"]["result"]["ledger"]["transactions"]
        v1 = d["ledger_json"]["result"]["ledger"]["transactions"]
        v2 = d["ledger_json_v2"]["result"]["ledger"]["transactions"]
        for b, j1, j2 in zip(binary, v1, v2, strict=True):
            txs.append(
                {
                    "ledger_index": d["ledger_index"],
                    "ledger_hash": d["ledger_hash"],
                    "close_time": d["ledger_json"]["result"]["ledger"]["close_time"],
                    "tx_blob": b["tx_blob"],
                    "meta": b["meta"],
                    "v1": j1,
                    "v2": j2,
                }
            )
        for s in d["state"]:
            state.setdefault(s["data"], s["index"])
    _write("corpus_transactions.json.gz", txs)
    # Distinct state object blobs of all 268 ledgers, and rippled's JSON of the
    # objects its answers show (ledger_data, ledger_entry, account_objects).
    objects = []
    for method in ("ledger_data", "ledger_entry", "account_objects"):
        for line in (corpus / "answers" / f"{method}.jsonl").read_text().splitlines():
            res = json.loads(line)["response"].get("result", {})
            seq = res.get("ledger_index")
            found = []
            if method == "ledger_data":
                found = [
                    o
                    for o in res.get("state", [])
                    if isinstance(o, dict) and "LedgerEntryType" in o
                ]
            elif method == "ledger_entry" and isinstance(res.get("node"), dict):
                found = (
                    [dict(res["node"], index=res["index"])]
                    if "index" not in res["node"]
                    else [res["node"]]
                )
            elif method == "account_objects":
                found = res.get("account_objects", [])
            for o in found:
                objects.append({"ledger_index": int(seq), "json": o})
    by_seq: dict[int, dict[str, str]] = {}
    for o in objects:
        seq = o["ledger_index"]
        if seq not in by_seq:
            d = json.loads((corpus / "ledgers" / f"{seq}.json").read_text())
            by_seq[seq] = {s["index"]: s["data"] for s in d["state"]}
        o["data"] = by_seq[seq][o["json"]["index"]]
    _write(
        "corpus_state.json.gz",
        {"blobs": [[i, b] for b, i in state.items()], "objects": objects},
    )
    # Other real blobs: round trip only (their JSON is other software's).
    other: list[str] = []
    fx = json.loads((root / "codec" / "codec-fixtures.json").read_text())
    for group in ("accountState", "transactions"):
        other += [e["binary"] for e in fx[group]]
    extras = json.loads((root / "codec" / "codec-fixtures-extras.json").read_text())
    for entries in extras["extra_transactions"].values():
        other += [e["binary"] for e in entries if "binary" in e]
    other += [
        v["hex"]
        for v in json.loads((root / "codec" / "modern-ledger-entries.json").read_text())["vectors"]
    ]
    for t in json.loads((root / "real-transactions" / "transactions.json").read_text())["records"]:
        other.append(t["tx_blob"])
        if t.get("meta_blob_check") == "ledger-tx-tree-match":
            other.append(t["meta_blob"])
    page = json.loads((root / "ledgers" / "mainnet-35257519-ledger-data-page.json").read_text())
    other += [e["binary"] for e in page["entries"]]
    # Two 2024 mainnet ledgers as rippled's JSON (no blobs): JSON -> bytes -> JSON.
    mainnet = []
    for name in ("mainnet-90150378-transactions.json", "mainnet-90156059-transactions.json"):
        mainnet += json.loads((root / "ledgers" / name).read_text())["ledger"]["transactions"]
    _write("mainnet_json_transactions.json.gz", mainnet)
    _write("other_blobs.json.gz", sorted({b.upper() for b in other if b}))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
