"""Forge speed and memory at scale: 200-transaction ledgers over a 100,000-account state.

Builds a forge from mainnet 38129 plus ``--accounts`` extra funded accounts,
times the setup (the synthetic start ledger and its state tree), then forges
``--ledgers`` ledgers of ``--txs`` transactions each and prints ledgers/s,
transactions/s, and memory: the peak RSS of the process and the Python heap
the forge holds (tracemalloc, when ``--tracemalloc`` is given; it slows the
run by ~2x, so timing and heap are measured in separate runs by default).

Usage: python bench/forge.py [--accounts 100000] [--txs 200] [--ledgers 50] [--tracemalloc]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clio_twisted.testing.forge import Forge, load_fixture_ledger  # noqa: E402


def _rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--txs", type=int, default=200)
    parser.add_argument("--ledgers", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also measure the Python heap (slower)"
    )
    args = parser.parse_args(argv)

    if args.tracemalloc:
        tracemalloc.start()
    rss_before = _rss_mb()
    start = load_fixture_ledger()
    t0 = time.perf_counter()
    forge = Forge(start, seed=args.seed, accounts=args.accounts, txs_per_ledger=args.txs)
    setup = time.perf_counter() - t0
    rss_setup = _rss_mb()
    heap_setup = tracemalloc.get_traced_memory()[0] if args.tracemalloc else 0

    t0 = time.perf_counter()
    changes = 0
    for ledger in forge.ledgers(args.ledgers):
        changes += len(ledger.changes)
    elapsed = time.perf_counter() - t0
    rss_end = _rss_mb()

    print(
        f"state: {forge.state_size:,} objects ({args.accounts:,} extra accounts), seed {args.seed}"
    )
    print(f"setup (start ledger + state tree): {setup:.2f} s")
    print(
        f"forged {args.ledgers} ledgers x {args.txs} tx in {elapsed:.2f} s: "
        f"{args.ledgers / elapsed:.2f} ledgers/s, {args.ledgers * args.txs / elapsed:,.0f} tx/s, "
        f"{changes / args.ledgers:.0f} changed objects/ledger"
    )
    print(
        f"peak RSS: {rss_before:.0f} MB before, {rss_setup:.0f} MB after setup, {rss_end:.0f} MB at end"
    )
    if args.tracemalloc:
        heap_now, heap_peak = tracemalloc.get_traced_memory()
        mb = 1024 * 1024
        print(
            f"python heap: {heap_setup / mb:.0f} MB after setup, {heap_now / mb:.0f} MB at end, "
            f"{heap_peak / mb:.0f} MB peak"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
