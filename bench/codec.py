"""Codec speed beside xrpl-py's, on the same real blobs, in one run.

For state objects, transactions and metadata of the recorded rippled 3.1.1
corpus (tests/protocol/data), times decode (bytes -> JSON) and encode (JSON ->
bytes) of this codec and of xrpl-py's binarycodec (which works on hex strings,
so it is given hex: its own best case), and prints objects/s, MB/s (of binary)
and the ratios.  Each figure is the median of several repeats.

Usage: python bench/codec.py [--repeats N] [--quick]
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xrpl.core import binarycodec  # noqa: E402

from clio_twisted.protocol import codec  # noqa: E402
from clio_twisted.protocol.addresses import decode_address, encode_account_id  # noqa: E402
from clio_twisted.protocol.amounts import (  # noqa: E402
    currency_bytes,
    currency_text,
    iou_value_text,
)

DATA = ROOT / "tests" / "protocol" / "data"


def _load(name: str) -> Any:
    with gzip.open(DATA / name, "rb") as f:
        return json.loads(f.read())


def _clear_caches() -> None:
    """Empty this codec's leaf caches (addresses, currency codes, IOU values)."""
    for fn in (encode_account_id, decode_address, currency_text, currency_bytes, iou_value_text):
        fn.cache_clear()


def _time(
    fn: Callable[[Any], Any], items: Sequence[Any], repeats: int, cold: bool = False
) -> float:
    """Median seconds for one pass over items (cold: caches emptied before each pass)."""
    runs = []
    for _ in range(repeats):
        if cold:
            _clear_caches()
        start = time.perf_counter()
        for item in items:
            fn(item)
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="a quarter of the inputs")
    parser.add_argument(
        "--cold", action="store_true", help="empty our caches before every pass (worst case)"
    )
    args = parser.parse_args()

    txs = _load("corpus_transactions.json.gz")
    state = _load("corpus_state.json.gz")["blobs"]
    sets = {
        "state objects": [bytes.fromhex(h) for _, h in state],
        "transactions": [bytes.fromhex(t["tx_blob"]) for t in txs],
        "metadata": [bytes.fromhex(t["meta"]) for t in txs],
    }
    if args.quick:
        sets = {k: v[: len(v) // 4] for k, v in sets.items()}

    print("caches:", "emptied before each pass" if args.cold else "warm (as in a server)")
    print(
        f"{'set':<14} {'op':<7} {'n':>6} {'ours obj/s':>11} {'ours MB/s':>10}"
        f" {'xrpl-py obj/s':>14} {'xrpl-py MB/s':>13} {'ratio':>7}"
    )
    for name, blobs in sets.items():
        hexes = [b.hex().upper() for b in blobs]
        ours_json = [codec.decode(b) for b in blobs]
        theirs_json = [binarycodec.decode(h) for h in hexes]
        size_mb = sum(map(len, blobs)) / 1e6
        for op, ours_fn, ours_in, theirs_fn, theirs_in in (
            ("decode", codec.decode, blobs, binarycodec.decode, hexes),
            ("encode", codec.encode, ours_json, binarycodec.encode, theirs_json),
        ):
            ours = _time(ours_fn, ours_in, args.repeats, cold=args.cold)
            theirs = _time(theirs_fn, theirs_in, max(1, args.repeats // 2))
            n = len(blobs)
            print(
                f"{name:<14} {op:<7} {n:>6} {n / ours:>11,.0f} {size_mb / ours:>10.2f}"
                f" {n / theirs:>14,.0f} {size_mb / theirs:>13.2f} {theirs / ours:>6.1f}x"
            )


if __name__ == "__main__":
    main()
