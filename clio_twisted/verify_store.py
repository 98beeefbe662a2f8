"""``clio-twisted verify``: check that the store still holds a valid ledger chain.

Clio's users meet corrupted stores (``corruption_detected``, broken successor
chains) and have no tool to find where the damage is. Everything a validated
ledger holds is pinned by hashes in its header, so the store can be checked
against itself, with no rippled:

- every header in the stored range parses, carries its own sequence, is found
  again by its hash, and names the previous ledger's hash as its parent;
- each ledger's transactions rebuild its ``transaction_hash`` (a SHAMap of
  ``(tx id, tx, meta)``), and each transaction's id is the hash of its blob;
- for one chosen ledger (the newest by default) the whole stored state,
  paged through the backend, rebuilds the header's ``account_hash``. With
  ``all_states`` every later ledger's state is checked too, by applying each
  ledger's diff to the same SHAMap (only the changed paths are rehashed).

Everything goes through ``IBackend``, so SQLite and Cassandra are checked the
same way. Problems are collected, not raised: one run reports every mismatch.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import IO, Any

import attrs
from attrs import define, field, frozen

from twisted.internet.defer import Deferred

from clio_twisted.backend.interface import IBackend, LedgerRange
from clio_twisted.protocol.hashing import transaction_id
from clio_twisted.protocol.ledger_header import HeaderError, LedgerHeader
from clio_twisted.protocol.shamap import SHAMap, transaction_tree_hash

# How many state objects to ask for per page when rebuilding a state.
PAGE_SIZE = 2048


@frozen
class Mismatch:
    """One thing the store holds that its hashes contradict.

    ``kind`` is one of: ``missing_header``, ``bad_header``, ``sequence``,
    ``hash_index``, ``parent_hash``, ``transaction_id``, ``transaction_hash``,
    ``account_hash``.
    """

    sequence: int
    kind: str
    expected: str = ""
    found: str = ""
    detail: str = ""

    def describe(self) -> str:
        text = f"ledger {self.sequence}: {self.kind}"
        if self.expected or self.found:
            text += f" expected {self.expected or '-'} found {self.found or '-'}"
        if self.detail:
            text += f" ({self.detail})"
        return text


@define
class VerifyReport:
    """What a run checked and what it found."""

    ledger_range: LedgerRange | None = None
    ledgers_checked: int = 0
    transactions_checked: int = 0
    states_checked: list[int] = field(factory=list)
    state_objects: int = 0
    mismatches: list[Mismatch] = field(factory=list)

    @property
    def ok(self) -> bool:
        return self.ledger_range is not None and not self.mismatches

    def summary(self) -> str:
        """A few human-readable lines, mismatches first."""
        if self.ledger_range is None:
            return "verify: the store is empty"
        lines = [m.describe() for m in self.mismatches]
        rng = self.ledger_range
        states = ", ".join(str(s) for s in self.states_checked[:3])
        if len(self.states_checked) > 3:
            states += f", ... ({len(self.states_checked)} ledgers)"
        lines.append(
            f"verify: range {rng.min_sequence}-{rng.max_sequence}: "
            f"{self.ledgers_checked} headers, {self.transactions_checked} transactions, "
            f"state of {states or 'no ledger'} ({self.state_objects} objects): "
            + ("OK" if self.ok else f"{len(self.mismatches)} mismatches")
        )
        return "\n".join(lines)


def _hex(value: bytes) -> str:
    return value.hex().upper()


async def verify_store(
    backend: IBackend,
    *,
    min_sequence: int | None = None,
    max_sequence: int | None = None,
    transactions: bool = True,
    state_sequence: int | None = None,
    state: bool = True,
    all_states: bool = False,
    page_size: int = PAGE_SIZE,
    progress: Callable[[str], None] | None = None,
) -> VerifyReport:
    """Walk the stored chain and recompute hashes; see the module docstring.

    Args:
        backend: a started backend.
        min_sequence, max_sequence: limit the walk (clamped to the stored range).
        transactions: also rebuild every walked ledger's transaction tree.
        state_sequence: the ledger whose state is rebuilt (default: the newest walked).
        state: rebuild a state at all.
        all_states: rebuild the state of ``state_sequence`` and of every later
            walked ledger, applying diffs.
        page_size: objects per ``fetch_ledger_page`` call.
        progress: called with a line now and then (the CLI prints it).
    """
    report = VerifyReport(ledger_range=await backend.fetch_ledger_range())
    rng = report.ledger_range
    if rng is None:
        return report
    first = max(rng.min_sequence, min_sequence if min_sequence is not None else rng.min_sequence)
    last = min(rng.max_sequence, max_sequence if max_sequence is not None else rng.max_sequence)
    headers: dict[int, LedgerHeader] = {}
    previous: LedgerHeader | None = None
    for seq in range(first, last + 1):
        header = await _check_header(backend, seq, previous, report)
        if header is not None:
            headers[seq] = header
            if transactions:
                await _check_transactions(backend, header, report)
        previous = header
        report.ledgers_checked += 1
        if progress is not None and report.ledgers_checked % 1000 == 0:
            progress(f"checked {report.ledgers_checked} ledgers (at {seq})")

    if state and first <= last:
        target = last if state_sequence is None else state_sequence
        if not first <= target <= last:
            report.mismatches.append(
                Mismatch(target, "missing_header", detail=f"not in the walked range {first}-{last}")
            )
        elif target in headers:
            await _check_states(
                backend,
                headers,
                target,
                last if all_states else target,
                page_size,
                report,
                progress,
            )
    return report


async def _check_header(
    backend: IBackend, seq: int, previous: LedgerHeader | None, report: VerifyReport
) -> LedgerHeader | None:
    blob = await backend.fetch_ledger_by_sequence(seq)
    if blob is None:
        report.mismatches.append(Mismatch(seq, "missing_header"))
        return None
    try:
        header = LedgerHeader.from_bytes(blob)
    except HeaderError as e:
        report.mismatches.append(Mismatch(seq, "bad_header", detail=str(e)))
        return None
    if header.sequence != seq:
        report.mismatches.append(Mismatch(seq, "sequence", str(seq), str(header.sequence)))
    ledger_hash = header.hash
    if await backend.fetch_ledger_by_hash(ledger_hash) != blob:
        report.mismatches.append(
            Mismatch(seq, "hash_index", detail=f"no header stored under {_hex(ledger_hash)}")
        )
    if previous is not None and header.parent_hash != previous.hash:
        report.mismatches.append(
            Mismatch(seq, "parent_hash", _hex(previous.hash), _hex(header.parent_hash))
        )
    return header


async def _check_transactions(
    backend: IBackend, header: LedgerHeader, report: VerifyReport
) -> None:
    seq = header.sequence
    records = await backend.fetch_ledger_transactions(seq)
    for record in records:
        actual = transaction_id(record.transaction)
        if actual != record.hash:
            report.mismatches.append(
                Mismatch(seq, "transaction_id", _hex(record.hash), _hex(actual))
            )
    report.transactions_checked += len(records)
    root = transaction_tree_hash((r.hash, r.transaction, r.metadata) for r in records)
    if root != header.transaction_hash:
        report.mismatches.append(
            Mismatch(
                seq,
                "transaction_hash",
                _hex(header.transaction_hash),
                _hex(root),
                f"{len(records)} transactions stored",
            )
        )


async def _check_states(
    backend: IBackend,
    headers: dict[int, LedgerHeader],
    start: int,
    end: int,
    page_size: int,
    report: VerifyReport,
    progress: Callable[[str], None] | None,
) -> None:
    tree = SHAMap()
    cursor: bytes | None = None
    while True:
        page = await backend.fetch_ledger_page(cursor, start, page_size)
        for obj in page.objects:
            tree.set(obj.key, obj.blob)
        if progress is not None and page.objects:
            progress(f"state of {start}: {len(tree)} objects read")
        if page.cursor is None:
            break
        cursor = page.cursor
    report.state_objects = len(tree)
    _compare_state(tree, headers[start], report)
    for seq in range(start + 1, end + 1):
        # The diff is applied even where the header is missing, so later states stay right.
        for obj in await backend.fetch_ledger_diff(seq):
            if obj.blob:
                tree.set(obj.key, obj.blob)
            else:
                tree.delete(obj.key)
        if seq in headers:
            _compare_state(tree, headers[seq], report)


def _compare_state(tree: SHAMap, header: LedgerHeader, report: VerifyReport) -> None:
    report.states_checked.append(header.sequence)
    root = tree.root_hash()
    if root != header.account_hash:
        report.mismatches.append(
            Mismatch(
                header.sequence,
                "account_hash",
                _hex(header.account_hash),
                _hex(root),
                f"{len(tree)} objects stored",
            )
        )


# -- the ``clio-twisted verify`` subcommand ------------------------------------------------


def add_verify_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Registers ``verify`` on the CLI's subparsers (cli.COMMANDS lists this)."""
    p = sub.add_parser(
        "verify",
        help="check the stored ledgers against their own hashes (read-only), and exit",
    )
    p.add_argument("--config", "-c", help="the JSON config file (default: as twistd clio)")
    p.add_argument("--ledger", type=int, help="rebuild the state of this ledger (default: newest)")
    p.add_argument("--from", dest="first", type=int, help="first ledger to walk")
    p.add_argument("--to", dest="last", type=int, help="last ledger to walk")
    p.add_argument(
        "--all-states",
        action="store_true",
        help="also check the state of every ledger after --ledger, by applying diffs",
    )
    p.add_argument("--no-state", action="store_true", help="do not rebuild any state")
    p.add_argument(
        "--no-transactions", action="store_true", help="do not rebuild transaction trees"
    )
    p.set_defaults(run=run_verify)


BackendFactory = Callable[[Any, Any], IBackend]


async def verify_main(
    reactor: Any,
    config: Any,
    args: argparse.Namespace,
    out: IO[str],
    err: IO[str],
    backend_factory: BackendFactory,
) -> int:
    """Open the configured store read-only, verify it, print the report; the exit code.

    0: every check passed; 1: mismatches (or an empty store); 2: the store cannot be opened.
    """
    backend = backend_factory(attrs.evolve(config, read_only=True), reactor)
    try:
        await backend.start()
    except Exception as e:
        err.write(f"clio-twisted: cannot open the store: {type(e).__name__}: {e}\n")
        await backend.stop()  # threads it started must not keep the process alive
        return 2
    try:
        report = await verify_store(
            backend,
            min_sequence=args.first,
            max_sequence=args.last,
            transactions=not args.no_transactions,
            state_sequence=args.ledger,
            state=not args.no_state,
            all_states=args.all_states,
            progress=lambda line: print(f"verify: {line}", file=err),
        )
    finally:
        await backend.stop()
    out.write(report.summary() + "\n")
    return 0 if report.ok else 1


def run_verify(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """The CLI entry: runs :func:`verify_main` on the global reactor."""
    from twisted.internet import reactor

    from clio_twisted.config import ConfigError, default_config_path, load_config
    from clio_twisted.tap import default_backend_factory

    try:
        config = load_config(args.config or default_config_path())
    except ConfigError as e:
        err.write(f"clio-twisted: config error: {e}\n")
        return 2
    codes: list[int] = []

    async def main() -> None:
        try:
            codes.append(
                await verify_main(reactor, config, args, out, err, default_backend_factory)
            )
        finally:
            reactor.stop()

    reactor.callWhenRunning(
        lambda: Deferred.fromCoroutine(main()).addErrback(
            lambda f: err.write(f"clio-twisted: verify failed: {f.getTraceback()}\n")
        )
    )
    reactor.run()
    return codes[0] if codes else 2
