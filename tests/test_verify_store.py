"""verify_store over the 268 real ledgers recorded from rippled 3.1.1, intact and tampered with."""

from __future__ import annotations

from functools import cache
from typing import Any

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.utils import getProcessOutputAndValue
from twisted.trial.unittest import SynchronousTestCase, TestCase

from clio_twisted.backend.interface import (
    LedgerObject,
    LedgerPage,
    LedgerWrite,
    TransactionRecord,
)
from clio_twisted.backend.sqlite import SqliteBackend
from clio_twisted.protocol.ledger_header import LedgerHeader
from clio_twisted.testing.replay import load_ledgers
from clio_twisted.verify_store import VerifyReport, verify_store
from tests.fakes.backend import InMemoryBackend, MemoryStore

FIRST, LAST = 3, 270


async def _fill(backend: Any) -> None:
    for position, ledger in enumerate(load_ledgers()):
        header = ledger.header
        await backend.write_ledger(
            LedgerWrite(
                sequence=header.sequence,
                header=header.to_bytes(),
                ledger_hash=header.hash,
                objects=[
                    LedgerObject(key, blob or b"", header.sequence)
                    for key, blob in sorted(ledger.changes.items())
                ],
                transactions=[
                    TransactionRecord(tx_hash, header.sequence, index, header.close_time, tx, meta)
                    for index, (tx_hash, tx, meta) in enumerate(ledger.transactions)
                ],
                is_first=position == 0,
            )
        )


@cache
def _store() -> MemoryStore:
    backend = InMemoryBackend()
    Deferred.fromCoroutine(_fill(backend))  # the in-memory backend never waits
    return backend.store


class _Tampered:
    """The real backend, with some answers replaced (what a corrupted store would say)."""

    def __init__(self, inner: InMemoryBackend, **overrides: Any) -> None:
        self._inner = inner
        self._overrides = overrides

    def __getattr__(self, name: str) -> Any:
        if name in self._overrides:
            return self._overrides[name]
        return getattr(self._inner, name)


class VerifyStoreTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.backend = InMemoryBackend(store=_store(), read_only=True)

    def verify(self, backend: Any = None, **kwargs: Any) -> VerifyReport:
        return self.successResultOf(
            Deferred.fromCoroutine(verify_store(backend or self.backend, **kwargs))
        )

    def kinds(self, report: VerifyReport) -> list[tuple[int, str]]:
        return [(m.sequence, m.kind) for m in report.mismatches]

    def test_intact_store_verifies(self) -> None:
        """Every header, transaction tree and the newest state of the real chain check out."""
        report = self.verify()
        self.assertEqual(report.mismatches, [])
        self.assertTrue(report.ok)
        self.assertEqual(report.ledgers_checked, LAST - FIRST + 1)
        self.assertGreater(report.transactions_checked, 700)
        self.assertEqual(report.states_checked, [LAST])
        self.assertGreater(report.state_objects, 100)
        self.assertIn("OK", report.summary())

    def test_every_state_by_diffs(self) -> None:
        """With all_states, the state of every ledger from the chosen one on is checked."""
        report = self.verify(state_sequence=FIRST, all_states=True, transactions=False, page_size=7)
        self.assertEqual(report.mismatches, [])
        self.assertEqual(report.states_checked, list(range(FIRST, LAST + 1)))

    def test_empty_store(self) -> None:
        """An empty store is reported as such, and is not OK."""
        report = self.verify(InMemoryBackend())
        self.assertFalse(report.ok)
        self.assertEqual(report.summary(), "verify: the store is empty")

    def test_corrupted_state_object(self) -> None:
        """One altered object blob makes the state's account_hash mismatch."""
        real_page = self.backend.fetch_ledger_page

        async def page(cursor: bytes | None, sequence: int, limit: int) -> LedgerPage:
            result = await real_page(cursor, sequence, limit)
            if cursor is None:
                first = result.objects[0]
                bad = LedgerObject(first.key, first.blob[:-1] + b"\x00", first.sequence)
                return LedgerPage([bad, *result.objects[1:]], result.cursor)
            return result

        report = self.verify(_Tampered(self.backend, fetch_ledger_page=page), transactions=False)
        self.assertEqual(self.kinds(report), [(LAST, "account_hash")])
        self.assertIn("ledger 270: account_hash expected", report.summary())

    def test_lost_object_in_a_diff(self) -> None:
        """A diff missing one change shows from that ledger on when walking every state."""
        real_diff = self.backend.fetch_ledger_diff

        async def diff(sequence: int) -> list[LedgerObject]:
            objects = await real_diff(sequence)
            return objects[1:] if sequence == 200 else objects

        report = self.verify(
            _Tampered(self.backend, fetch_ledger_diff=diff),
            min_sequence=190,
            max_sequence=210,
            state_sequence=190,
            all_states=True,
            transactions=False,
        )
        self.assertEqual(report.ledgers_checked, 21)
        bad = {seq for seq, kind in self.kinds(report) if kind == "account_hash"}
        self.assertIn(200, bad)
        self.assertFalse(bad & set(range(190, 200)))

    def test_tampered_transaction(self) -> None:
        """A transaction blob that no longer hashes to its id breaks its ledger's tree."""
        real = self.backend.fetch_ledger_transactions

        async def transactions(sequence: int) -> list[TransactionRecord]:
            records = await real(sequence)
            if sequence == 100 and records:
                r = records[0]
                records[0] = TransactionRecord(
                    r.hash,
                    r.ledger_sequence,
                    r.transaction_index,
                    r.date,
                    r.transaction + b"\x00",
                    r.metadata,
                )
            return records

        # Find a ledger with transactions so the test cannot pass vacuously.
        self.assertTrue(self.successResultOf(Deferred.fromCoroutine(real(100))))
        report = self.verify(
            _Tampered(self.backend, fetch_ledger_transactions=transactions), state=False
        )
        self.assertEqual(self.kinds(report), [(100, "transaction_id"), (100, "transaction_hash")])

    def test_broken_chain(self) -> None:
        """A missing header and a header with a wrong parent are each reported."""
        real = self.backend.fetch_ledger_by_sequence

        async def by_sequence(sequence: int) -> bytes | None:
            blob = await real(sequence)
            if sequence == 50:
                return None
            if sequence == 60 and blob is not None:
                header = LedgerHeader.from_bytes(blob)
                forged = LedgerHeader(
                    header.sequence,
                    header.total_drops,
                    b"\x11" * 32,
                    header.transaction_hash,
                    header.account_hash,
                    header.parent_close_time,
                    header.close_time,
                    header.close_time_resolution,
                    header.close_flags,
                )
                return forged.to_bytes()
            return blob

        report = self.verify(
            _Tampered(self.backend, fetch_ledger_by_sequence=by_sequence), state=False
        )
        self.assertEqual(
            self.kinds(report),
            [(50, "missing_header"), (60, "hash_index"), (60, "parent_hash"), (61, "parent_hash")],
        )

    def test_state_ledger_outside_the_walk(self) -> None:
        """Asking for the state of a ledger outside the walked range is reported, not ignored."""
        report = self.verify(max_sequence=10, state_sequence=20, transactions=False)
        self.assertEqual(self.kinds(report), [(20, "missing_header")])


class VerifyCommandTests(TestCase):
    """``clio-twisted verify`` as a real process over a real SQLite store."""

    timeout = 60

    async def test_verify_command_on_sqlite(self) -> None:
        """The CLI exits 0 on the intact store, and 1 naming account_hash once an object is altered."""
        import os
        import sqlite3
        import sys

        directory = os.path.abspath(self.mktemp())
        os.makedirs(directory)
        db = os.path.join(directory, "clio.sqlite3")
        backend = SqliteBackend(reactor, db)
        await backend.start()
        try:
            await _fill(backend)
        finally:
            await backend.stop()
        config = os.path.join(directory, "config.json")
        with open(config, "w") as f:
            f.write(
                '{"database": {"type": "sqlite", "sqlite": {"path": "%s"}},'
                ' "server": {"ip": "127.0.0.1", "port": 51299}}' % db
            )

        async def run(*extra: str) -> tuple[str, str, int]:
            out, err, code = await getProcessOutputAndValue(
                sys.executable,
                ["-m", "clio_twisted.cli", "verify", "--config", config, *extra],
                env=dict(os.environ),
                path=os.getcwd(),
                reactor=reactor,
            )
            return out.decode(), err.decode(), code

        out, err, code = await run()
        self.assertEqual(code, 0, out + err)
        self.assertIn("verify: range 3-270: 268 headers", out)
        self.assertTrue(out.rstrip().endswith("OK"), out)

        with sqlite3.connect(db) as conn:
            key, seq, blob = conn.execute(
                "SELECT key, sequence, blob FROM objects WHERE length(blob) > 0"
                " ORDER BY sequence DESC LIMIT 1"
            ).fetchone()
            conn.execute(
                "UPDATE objects SET blob = ? WHERE key = ? AND sequence = ?",
                (blob[:-1] + bytes([blob[-1] ^ 1]), key, seq),
            )
        out, err, code = await run("--no-transactions")
        self.assertEqual(code, 1, out + err)
        self.assertIn("ledger 270: account_hash expected", out)
