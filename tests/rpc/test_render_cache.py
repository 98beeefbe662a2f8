"""render_cache: bounded, keyed by what never changes, and never leaking one answer into another."""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import ensureDeferred
from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.backend.interface import TransactionRecord
from clio_twisted.lru import BoundedLRU
from clio_twisted.protocol.render import render_ledger_entry, render_transaction
from clio_twisted.rpc import render_cache
from clio_twisted.rpc.handlers import account_info, ledger_data
from tests.rpc.corpus import call, corpus_context
from tests.rpc.handlers._helpers import ALICE

PAYMENT = "71D2488787BD596661A8A391D34DB2029494DD5DB6F860A9443FB961F5E73159"


def _record() -> TransactionRecord:
    ctx = corpus_context()
    d = ensureDeferred(ctx.backend.fetch_transaction(bytes.fromhex(PAYMENT)))
    out: list[Any] = []
    d.addBoth(out.append)
    record: TransactionRecord = out[0]
    return record


class BoundedLRUTests(SynchronousTestCase):
    def test_entry_bound_drops_least_recently_used(self) -> None:
        """Over max_entries the least recently used entry goes; a get refreshes an entry."""
        lru: BoundedLRU[str, int] = BoundedLRU(2, 1000)
        lru.put("a", 1, 10)
        lru.put("b", 2, 10)
        self.assertEqual(lru.get("a"), 1)
        lru.put("c", 3, 10)
        self.assertIsNone(lru.get("b"))
        self.assertEqual((lru.get("a"), lru.get("c"), len(lru)), (1, 3, 2))

    def test_byte_bound_and_oversized_values(self) -> None:
        """The byte budget holds; a value costing more than the budget is never kept."""
        lru: BoundedLRU[str, int] = BoundedLRU(100, 25)
        lru.put("a", 1, 10)
        lru.put("b", 2, 10)
        lru.put("c", 3, 10)
        self.assertEqual((lru.get("a"), lru.size), (None, 20))
        lru.put("big", 4, 26)
        self.assertIsNone(lru.get("big"))
        self.assertEqual(lru.size, 20)


class RenderCacheTests(SynchronousTestCase):
    def setUp(self) -> None:
        render_cache.clear_all()

    def test_transaction_rendered_once_and_equal(self) -> None:
        """The kept rendering equals a fresh one, and a repeat is the very same object."""
        record = _record()
        first = render_cache.rendered_transaction(record, 2, "tx", None, True)
        fresh = render_transaction(
            record.transaction,
            record.metadata,
            api_version=2,
            ledger_index=record.ledger_sequence,
            close_time=record.date,
            form="tx",
        )
        self.assertEqual(first, fresh)
        again = render_cache.rendered_transaction(record, 2, "tx", None, True)
        self.assertIs(again[0], first[0])
        self.assertIs(again[1], first[1])
        other = render_cache.rendered_transaction(record, 1, "tx", None, True)
        self.assertIn("hash", other[0])
        self.assertNotIn("hash", first[0])

    def test_other_blob_same_hash_is_not_confused(self) -> None:
        """The key holds the metadata blob: a different blob under the same hash renders anew."""
        record = _record()
        kept = render_cache.rendered_transaction(record, 1, "tx", None, True)
        changed = TransactionRecord(
            record.hash,
            record.ledger_sequence,
            record.transaction_index,
            record.date,
            record.transaction,
            record.metadata[:-1] + b"\xf1",
        )
        self.assertIsNot(
            render_cache.rendered_transaction(changed, 1, "tx", None, True)[1], kept[1]
        )

    def test_delivered_amount_flag_is_part_of_the_key(self) -> None:
        """transaction_entry's rendering (no delivered_amount) does not change tx's."""
        record = _record()
        without = render_cache.rendered_transaction(record, 1, "ledger", None, False)[1]
        with_it = render_cache.rendered_transaction(record, 1, "ledger", None, True)[1]
        self.assertNotIn("delivered_amount", without)
        self.assertIn("delivered_amount", with_it)

    def test_entry_equal_to_fresh_rendering(self) -> None:
        """A kept ledger entry equals render_ledger_entry's and is reused."""
        answer = call(ledger_data.HANDLER, {"limit": 5, "binary": True})
        blob = bytes.fromhex(answer["state"][0]["data"])
        key = bytes.fromhex(answer["state"][0]["index"])
        kept = render_cache.rendered_entry(blob, key)
        self.assertEqual(kept, render_ledger_entry(blob, key))
        self.assertIs(render_cache.rendered_entry(blob, key), kept)


class SharedAnswersTests(SynchronousTestCase):
    """Answers built from kept renderings must not leak a caller's changes into the next answer."""

    def test_account_info_copies_before_adding_fields(self) -> None:
        """Changing one account_info answer leaves the next one as it was."""
        ctx = corpus_context(1)
        params = {"account": ALICE, "signer_lists": True}
        first = call(account_info.HANDLER, params, 1, ctx)
        expected = repr(first)
        first["account_data"]["Balance"] = "0"
        second = call(account_info.HANDLER, params, 1, ctx)
        self.assertEqual(repr(second), expected)
        self.assertNotIn(
            "signer_lists", call(account_info.HANDLER, {"account": ALICE}, 1, ctx)["account_data"]
        )
