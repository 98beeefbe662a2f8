"""Tests for the compact copy of the recorded rippled 3.1.1 corpus."""

from __future__ import annotations

import gzip
import json

from twisted.trial.unittest import SkipTest, SynchronousTestCase

from clio_twisted.protocol.hashing import transaction_id
from clio_twisted.testing.replay import (
    CHECKS_FILE,
    DEFAULT_CORPUS,
    CorpusError,
    encode_corpus,
    load_chain,
    load_ledgers,
    read_corpus,
    state_digest,
)

_LEDGERS = load_ledgers()


def _states() -> dict[int, dict[bytes, bytes]]:
    """Every ledger's full state, rebuilt from the first state and the changes."""
    state: dict[bytes, bytes] = {}
    states = {}
    for ledger in _LEDGERS:
        for key, blob in ledger.changes.items():
            if blob is None:
                del state[key]
            else:
                state[key] = blob
        states[ledger.sequence] = dict(state)
    return states


class CompactCorpusTests(SynchronousTestCase):
    def test_range(self) -> None:
        """The copy holds the 268 recorded ledgers 3-270, consecutive."""
        self.assertEqual([lg.sequence for lg in _LEDGERS], list(range(3, 271)))

    def test_hash_chain(self) -> None:
        """Each header names its predecessor's hash, and hashes as rippled recorded."""
        checks = json.loads((DEFAULT_CORPUS / CHECKS_FILE).read_text())
        for previous, ledger in zip(_LEDGERS, _LEDGERS[1:], strict=False):
            self.assertEqual(ledger.header.parent_hash, previous.hash)
        for ledger in _LEDGERS:
            self.assertEqual(ledger.hash.hex().upper(), checks[str(ledger.sequence)]["ledger_hash"])

    def test_states_reproduce_recorded(self) -> None:
        """Rebuilt states equal the recorded full states (digest and count) at every ledger."""
        checks = json.loads((DEFAULT_CORPUS / CHECKS_FILE).read_text())
        for sequence, state in _states().items():
            expected = checks[str(sequence)]
            self.assertEqual(len(state), expected["state_count"], sequence)
            self.assertEqual(state_digest(state), expected["state_digest"], sequence)

    def test_tree_hashes_via_shamap(self) -> None:
        """Every rebuilt state hashes to the header's account_hash, every tx set to its transaction_hash."""
        try:
            from clio_twisted.protocol.shamap import SHAMap, transaction_tree_hash
        except ImportError as e:
            raise SkipTest("clio_twisted.protocol.shamap not available") from e
        tree = SHAMap()
        for ledger in _LEDGERS:
            for key, blob in ledger.changes.items():
                if blob is None:
                    tree.delete(key)
                else:
                    tree.set(key, blob)
            self.assertEqual(tree.root_hash(), ledger.header.account_hash, ledger.sequence)
            self.assertEqual(
                transaction_tree_hash(ledger.transactions),
                ledger.header.transaction_hash,
                ledger.sequence,
            )

    def test_transactions_in_index_order(self) -> None:
        """Transactions are kept in TransactionIndex order, named by their hash."""
        count = 0
        for ledger in _LEDGERS:
            for index, (tx_hash, tx, meta) in enumerate(ledger.transactions):
                self.assertEqual(tx_hash, transaction_id(tx))
                self.assertEqual(int.from_bytes(meta[2:6], "big"), index)
                count += 1
        self.assertGreater(count, 700)

    def test_chain_serves_history(self) -> None:
        """A Chain loaded from the copy answers objects as of any ledger."""
        chain = load_chain()
        states = _states()
        self.assertEqual((chain.first, chain.last), (3, 270))
        for sequence in (3, 31, 150, 270):
            items, marker = chain.page(None, sequence, 100000)
            self.assertIsNone(marker)
            self.assertEqual(dict(items), states[sequence])

    def test_load_chain_upto(self) -> None:
        """load_chain can stop at a given ledger."""
        self.assertEqual(load_chain(upto=10).last, 10)

    def test_round_trip(self) -> None:
        """Encoding then decoding gives back the same ledgers, deletions included."""
        ledgers = _LEDGERS[:30]
        again = list(read_corpus(encode_corpus(ledgers)))
        self.assertEqual(again, ledgers)
        self.assertTrue(any(None in lg.changes.values() for lg in ledgers[1:] + _LEDGERS))

    def test_truncated_or_foreign_data_refused(self) -> None:
        """A truncated stream or one without the magic raises CorpusError."""
        data = encode_corpus(_LEDGERS[:3])
        with self.assertRaises(CorpusError):
            list(read_corpus(data[:-5]))
        with self.assertRaises(CorpusError):
            list(read_corpus(b"something else" + data))

    def test_recorded_answers_kept(self) -> None:
        """server_info and the verbatim answers are kept beside the ledgers."""
        info = json.loads((DEFAULT_CORPUS / "server_info.json").read_text())
        self.assertEqual(info["result"]["info"]["build_version"], "3.1.1")
        with gzip.open(DEFAULT_CORPUS / "answers.json.gz") as f:
            answers = json.load(f)
        self.assertIn("ripple_path_find", answers)
