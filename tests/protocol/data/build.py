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


def _api_key(key: str) -> bool:
    return key[0].islower() or key in ("DeliverMax", "Amount")


def _api_transactions(corpus: Path) -> list[dict[str, object]]:
    """rippled's rendering of transactions in tx, account_tx and the transaction streams.

    Distinct (form, api_version, hash) only; tx_json and meta as rippled sent them.
    """
    seen: dict[tuple[str, int, str], dict[str, object]] = {}

    def add(form: str, v: int, tx_json: dict[str, object], meta: dict[str, object], h: str) -> None:
        # Only the API-level parts (the rest is the codec's, checked elsewhere):
        # lower-case keys, DeliverMax and Amount.
        seen.setdefault(
            (form, v, h),
            {
                "form": form,
                "api_version": v,
                "hash": h,
                "tx_json": {k: x for k, x in tx_json.items() if _api_key(k)},
                "meta": {k: x for k, x in meta.items() if _api_key(k)},
            },
        )

    for method in ("tx", "account_tx"):
        for line in (corpus / "answers" / f"{method}.jsonl").read_text().splitlines():
            r = json.loads(line)
            res = r["response"].get("result", {})
            v = r["api_version"]
            items = res.get("transactions", []) if method == "account_tx" else [res]
            for it in items:
                if not isinstance(it, dict) or not isinstance(it.get("meta"), dict):
                    continue
                if v == 1:
                    if method == "account_tx":
                        tx_json = it["tx"]
                    else:
                        tx_json = {
                            k: x for k, x in it.items() if k not in ("meta", "status", "validated")
                        }
                else:
                    tx_json = it["tx_json"]
                add("tx", v, tx_json, it["meta"], it.get("hash") or tx_json["hash"])
    for conn, v in (("transactions", 1), ("transactions_v2", 2)):
        for line in (corpus / "streams" / f"{conn}.jsonl").read_text().splitlines():
            m = json.loads(line).get("message")
            if not m or m.get("type") != "transaction":
                continue
            tx_json = m["transaction"] if v == 1 else m["tx_json"]
            add("stream", v, tx_json, m["meta"], m.get("hash") or tx_json["hash"])
    return list(seen.values())


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
    _write("corpus_api_transactions.json.gz", _api_transactions(corpus))
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
    real = []
    for t in json.loads((root / "real-transactions" / "transactions.json").read_text())["records"]:
        keep = {
            k: t[k] for k in ("source", "tx_blob", "tx_json", "tx_fields_dropped_before_encoding")
        }
        if t.get("meta_blob_check") == "ledger-tx-tree-match" and isinstance(
            t.get("meta_json"), dict
        ):
            keep["meta_blob"] = t["meta_blob"]
            keep["meta_json"] = t["meta_json"]
        real.append(keep)
    _write("real_transactions.json.gz", real)
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
