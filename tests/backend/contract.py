"""The storage contract every IBackend passes: memory, SQLite and Cassandra.

A test case class mixes ``BackendContract`` in and provides:

- ``self.backend``: a started backend over an empty store (set up in ``setUp``);
- ``open_peer(read_only=False)``: another started backend over the *same* store
  (a second server sharing the database);
- ``drive(coroutine)``: runs a test body; synchronous cases return
  ``successResultOf(...)``, real-reactor cases return the Deferred to trial.

Test bodies are ``async def`` decorated with ``@contract``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any

from twisted.internet.defer import Deferred, DeferredList

from clio_twisted.backend.interface import (
    FIRST_KEY,
    NFT,
    AccountTransactionRow,
    IBackend,
    LedgerObject,
    LedgerRange,
    MPTHolderRow,
    NFTTransactionRow,
    TxCursor,
    WriteConflict,
)
from tests.backend.builders import (
    BASE_SEQUENCE,
    Chain,
    account,
    blob,
    delete,
    header,
    key,
    nft_id,
    put,
    transaction,
    tx_hash,
)

S = BASE_SEQUENCE

Body = Callable[[Any], Coroutine[Any, Any, None]]


def contract(body: Body) -> Callable[[Any], Any]:
    """Turn an ``async def test_...`` into a trial test run by the case's ``drive``."""

    @functools.wraps(body)
    def test(self: Any) -> Any:
        return self.drive(body(self))

    del test.__wrapped__  # so trial and inspect see a plain function
    return test


async def _raises(coro: Coroutine[Any, Any, Any], exc_type: type[BaseException]) -> BaseException:
    try:
        await coro
    except exc_type as exc:
        return exc
    raise AssertionError(f"{exc_type.__name__} not raised")


class BackendContract:
    """Shared cases; ``self`` is also a trial test case."""

    backend: IBackend

    # provided by the concrete case
    def open_peer(self, read_only: bool = False) -> IBackend:
        raise NotImplementedError

    def drive(self, coro: Coroutine[Any, Any, None]) -> Any:
        raise NotImplementedError

    # helpers ---------------------------------------------------------------------------

    async def load(self, chain: Chain, *ledgers: list[LedgerObject]) -> None:
        for objects in ledgers:
            await self.backend.write_ledger(chain.ledger(objects))

    async def walk(self, sequence: int, backend: IBackend | None = None) -> list[bytes]:
        b = backend or self.backend
        keys: list[bytes] = []
        cursor: bytes | None = FIRST_KEY
        while True:
            assert cursor is not None
            cursor = await b.fetch_successor_key(cursor, sequence)
            if cursor is None:
                return keys
            keys.append(cursor)

    async def all_pages(self, sequence: int, limit: int) -> list[list[bytes]]:
        pages: list[list[bytes]] = []
        cursor: bytes | None = None
        while True:
            page = await self.backend.fetch_ledger_page(cursor, sequence, limit)
            pages.append([o.key for o in page.objects])
            if page.cursor is None:
                return pages
            cursor = page.cursor

    # -- empty store -------------------------------------------------------------------

    @contract
    async def test_empty_store(self) -> None:
        """An empty store has no range and answers every read with nothing."""
        b = self.backend
        self.assertIsNone(await b.fetch_ledger_range())
        self.assertIsNone(await b.fetch_ledger_by_sequence(S))
        self.assertIsNone(await b.fetch_ledger_by_hash(bytes(32)))
        self.assertIsNone(await b.fetch_ledger_object(key(1), S))
        self.assertIsNone(await b.fetch_ledger_object_version(key(1), S))
        self.assertIsNone(await b.fetch_transaction(tx_hash(1)))
        self.assertEqual(await b.fetch_ledger_transaction_hashes(S), [])
        self.assertEqual(await b.fetch_ledger_diff(S), [])
        page = await b.fetch_account_transactions(account(1), 10, False, None, 0, 2**32 - 1)
        self.assertEqual((page.transactions, page.cursor), ([], None))
        self.assertIsNone(await b.fetch_nft(nft_id(account(1), 1, 1), S))
        self.assertEqual(await b.fetch_mpt_holders(bytes(24), 10, None, S), ([], None))
        self.assertFalse(b.is_too_busy())

    # -- ledgers and range -------------------------------------------------------------

    @contract
    async def test_first_ledger_sets_range_and_header(self) -> None:
        """The first ledger makes a one-ledger range; its header is found by sequence and hash."""
        chain = Chain()
        write = chain.ledger([put(1)])
        await self.backend.write_ledger(write)
        self.assertEqual(await self.backend.fetch_ledger_range(), LedgerRange(S, S))
        self.assertEqual(await self.backend.fetch_ledger_by_sequence(S), write.header)
        self.assertEqual(await self.backend.fetch_ledger_by_hash(write.ledger_hash), write.header)
        self.assertIsNone(await self.backend.fetch_ledger_by_hash(bytes(32)))
        self.assertIsNone(await self.backend.fetch_ledger_by_sequence(S + 1))
        self.assertIsNone(await self.backend.fetch_ledger_by_sequence(S - 1))

    @contract
    async def test_range_grows_by_max(self) -> None:
        """Each committed ledger advances the max; the min stays at the first ledger."""
        chain = Chain()
        await self.load(chain, [put(1)], [put(2)], [put(3)])
        self.assertEqual(await self.backend.fetch_ledger_range(), LedgerRange(S, S + 2))
        for seq in range(S, S + 3):
            self.assertEqual(await self.backend.fetch_ledger_by_sequence(seq), header(seq))

    @contract
    async def test_initial_state_written_before_commit(self) -> None:
        """State written with write_state_objects becomes readable once the first ledger commits."""
        await self.backend.write_state_objects(
            S, [LedgerObject(key(n), blob(n), S) for n in range(5)]
        )
        self.assertIsNone(await self.backend.fetch_ledger_range())
        chain = Chain()
        write = chain.ledger([put(n) for n in range(5)])
        await self.backend.write_ledger(write)
        self.assertEqual(await self.backend.fetch_ledger_object(key(3), S), blob(3))
        self.assertEqual(await self.walk(S), sorted(key(n) for n in range(5)))

    # -- state versions ----------------------------------------------------------------

    @contract
    async def test_object_versions(self) -> None:
        """An object read as of a ledger is the newest version at or before it."""
        chain = Chain()
        await self.load(chain, [put(1, 0), put(2, 0)], [put(1, 1)], [], [put(1, 2)])
        b = self.backend
        self.assertEqual(await b.fetch_ledger_object(key(1), S), blob(1, 0))
        self.assertEqual(await b.fetch_ledger_object(key(1), S + 1), blob(1, 1))
        self.assertEqual(await b.fetch_ledger_object(key(1), S + 2), blob(1, 1))
        self.assertEqual(await b.fetch_ledger_object(key(1), S + 3), blob(1, 2))
        self.assertEqual(await b.fetch_ledger_object(key(2), S + 3), blob(2, 0))
        self.assertIsNone(await b.fetch_ledger_object(key(1), S - 1))
        version = await b.fetch_ledger_object_version(key(1), S + 2)
        self.assertEqual(version, LedgerObject(key(1), blob(1, 1), S + 1))

    @contract
    async def test_deletion_is_a_version(self) -> None:
        """A deleted object is gone from its deletion on, visible before, and its version shows b''."""
        chain = Chain()
        await self.load(chain, [put(1), put(2)], [delete(1)], [put(2, 1)])
        b = self.backend
        self.assertEqual(await b.fetch_ledger_object(key(1), S), blob(1))
        self.assertIsNone(await b.fetch_ledger_object(key(1), S + 1))
        self.assertIsNone(await b.fetch_ledger_object(key(1), S + 2))
        self.assertEqual(
            await b.fetch_ledger_object_version(key(1), S + 2), LedgerObject(key(1), b"", S + 1)
        )

    @contract
    async def test_recreated_after_deletion(self) -> None:
        """An object deleted and created again is live again from its re-creation."""
        chain = Chain()
        await self.load(chain, [put(1), put(2)], [delete(1)], [put(1, 7)])
        self.assertEqual(await self.backend.fetch_ledger_object(key(1), S + 2), blob(1, 7))
        self.assertEqual(await self.walk(S + 1), [key(2)])
        self.assertEqual(await self.walk(S + 2), sorted([key(1), key(2)]))

    @contract
    async def test_fetch_many_objects_keeps_order(self) -> None:
        """fetch_ledger_objects answers in the order asked, None where missing or deleted."""
        chain = Chain()
        await self.load(chain, [put(1), put(2), put(3)], [delete(2)])
        got = await self.backend.fetch_ledger_objects([key(3), key(2), key(9), key(1)], S + 1)
        self.assertEqual(got, [blob(3), None, None, blob(1)])
        self.assertEqual(await self.backend.fetch_ledger_objects([], S), [])

    # -- ordered traversal -------------------------------------------------------------

    @contract
    async def test_successor_walk_across_deletions(self) -> None:
        """Walking successors from FIRST_KEY lists exactly the live keys in order, at every ledger."""
        chain = Chain()
        await self.load(
            chain,
            [put(n) for n in range(12)],
            [delete(3), delete(4), delete(5), put(20)],
            [delete(20), put(4, 1), delete(0)],
            [delete(n) for n in range(6, 12)],
        )
        for seq in range(S, S + 4):
            self.assertEqual(await self.walk(seq), chain.live_at(seq), f"at {seq}")

    @contract
    async def test_successor_of_any_key(self) -> None:
        """The successor of a deleted or never-stored key is the next live key after it."""
        chain = Chain()
        await self.load(chain, [put(n) for n in range(8)], [delete(2)])
        live = chain.live_at(S + 1)
        for probe in [key(2), key(99), key(100), bytes(31) + b"\x01", b"\x80" + bytes(31)]:
            after = [k for k in live if k > probe]
            expected = after[0] if after else None
            self.assertEqual(await self.backend.fetch_successor_key(probe, S + 1), expected)

    @contract
    async def test_successor_past_last(self) -> None:
        """The last live key has no successor."""
        chain = Chain()
        await self.load(chain, [put(1), put(2)])
        last = max(key(1), key(2))
        self.assertIsNone(await self.backend.fetch_successor_key(last, S))
        self.assertIsNone(await self.backend.fetch_successor_key(b"\xff" * 32, S))

    @contract
    async def test_ledger_pages(self) -> None:
        """Pages chain through their cursors to every live object, in key order, with blobs."""
        chain = Chain()
        await self.load(chain, [put(n) for n in range(25)], [delete(n) for n in range(0, 25, 3)])
        for seq in (S, S + 1):
            pages = await self.all_pages(seq, 7)
            self.assertEqual([k for p in pages for k in p], chain.live_at(seq))
            self.assertTrue(all(len(p) == 7 for p in pages[:-1]))
        page = await self.backend.fetch_ledger_page(None, S + 1, 3)
        self.assertEqual(
            [o.blob for o in page.objects], [chain.history[S + 1][o.key] for o in page.objects]
        )

    @contract
    async def test_ledger_page_exact_fit_and_cursor(self) -> None:
        """A page that takes the last object has no cursor; a cursor resumes strictly after it."""
        chain = Chain()
        await self.load(chain, [put(n) for n in range(4)])
        live = chain.live_at(S)
        whole = await self.backend.fetch_ledger_page(None, S, 4)
        self.assertEqual(([o.key for o in whole.objects], whole.cursor), (live, None))
        rest = await self.backend.fetch_ledger_page(live[1], S, 10)
        self.assertEqual([o.key for o in rest.objects], live[2:])
        self.assertIsNone(rest.cursor)

    @contract
    async def test_ledger_page_from_a_deleted_key(self) -> None:
        """A cursor that is no longer live (or never was) resumes at the next live key."""
        chain = Chain()
        await self.load(chain, [put(n) for n in range(10)], [delete(4), delete(5)])
        live = chain.live_at(S + 1)
        for gone in (key(4), key(5), key(77)):
            page = await self.backend.fetch_ledger_page(gone, S + 1, 100)
            self.assertEqual([o.key for o in page.objects], [k for k in live if k > gone])
            self.assertIsNone(page.cursor)
        page = await self.backend.fetch_ledger_page(None, S, 1000)
        self.assertEqual(([o.key for o in page.objects], page.cursor), (chain.live_at(S), None))

    @contract
    async def test_ledger_diff(self) -> None:
        """The diff of a ledger lists its created, modified and deleted objects in key order."""
        chain = Chain()
        await self.load(chain, [put(1), put(2), put(3)], [put(2, 1), delete(3), put(4)], [])
        diff = await self.backend.fetch_ledger_diff(S + 1)
        expected = sorted(
            [
                LedgerObject(key(2), blob(2, 1), S + 1),
                LedgerObject(key(3), b"", S + 1),
                LedgerObject(key(4), blob(4), S + 1),
            ],
            key=lambda o: o.key,
        )
        self.assertEqual(diff, expected)
        self.assertEqual(await self.backend.fetch_ledger_diff(S + 2), [])

    # -- transactions ------------------------------------------------------------------

    async def _ledger_with_transactions(self, chain: Chain, first_tx: int, count: int) -> None:
        seq = chain.next_sequence
        txs = [transaction(first_tx + i, seq, i) for i in range(count)]
        rows = [AccountTransactionRow(account(1), seq, i, t.hash) for i, t in enumerate(txs)]
        rows += [
            AccountTransactionRow(account(2), seq, i, t.hash) for i, t in enumerate(txs) if i % 2
        ]
        await self.backend.write_ledger(
            chain.ledger(
                [put(first_tx)], transactions=list(reversed(txs)), account_transactions=rows
            )
        )

    @contract
    async def test_transactions_by_hash_and_ledger(self) -> None:
        """Transactions are found by hash, and a ledger's are listed in TransactionIndex order."""
        chain = Chain()
        await self._ledger_with_transactions(chain, 0, 4)
        await self._ledger_with_transactions(chain, 10, 2)
        b = self.backend
        self.assertEqual(await b.fetch_transaction(tx_hash(2)), transaction(2, S, 2))
        self.assertEqual(await b.fetch_transaction(tx_hash(11)), transaction(11, S + 1, 1))
        self.assertIsNone(await b.fetch_transaction(tx_hash(99)))
        self.assertEqual(
            await b.fetch_transactions([tx_hash(10), tx_hash(99), tx_hash(0)]),
            [transaction(10, S + 1, 0), None, transaction(0, S, 0)],
        )
        self.assertEqual(await b.fetch_ledger_transaction_hashes(S), [tx_hash(i) for i in range(4)])
        self.assertEqual(
            await b.fetch_ledger_transactions(S + 1),
            [transaction(10, S + 1, 0), transaction(11, S + 1, 1)],
        )
        self.assertEqual(await b.fetch_ledger_transactions(S + 5), [])

    async def _history(self) -> Chain:
        chain = Chain()
        await self._ledger_with_transactions(chain, 0, 3)  # S: 0,1,2
        await self._ledger_with_transactions(chain, 10, 0)  # S+1: none
        await self._ledger_with_transactions(chain, 20, 4)  # S+2: 20..23
        await self._ledger_with_transactions(chain, 30, 2)  # S+3: 30,31
        return chain

    EVERYTHING = [
        (S, 0, 0), (S, 1, 1), (S, 2, 2), (S + 2, 0, 20), (S + 2, 1, 21),
        (S + 2, 2, 22), (S + 2, 3, 23), (S + 3, 0, 30), (S + 3, 1, 31),
    ]  # fmt: skip

    async def _collect(self, forward: bool, limit: int, lo: int, hi: int) -> list[list[int]]:
        pages: list[list[int]] = []
        cursor: TxCursor | None = None
        while True:
            page = await self.backend.fetch_account_transactions(
                account(1), limit, forward, cursor, lo, hi
            )
            pages.append([int.from_bytes(t.transaction[3:], "big") for t in page.transactions])
            self.assertLessEqual(len(page.transactions), limit)
            if page.cursor is None:
                return pages
            cursor = page.cursor

    @contract
    async def test_account_tx_backward_paging(self) -> None:
        """Backward history is newest first; pages chained by cursor give every row once."""
        await self._history()
        pages = await self._collect(False, 2, 0, 2**32 - 1)
        self.assertEqual([n for p in pages for n in p], [r[2] for r in reversed(self.EVERYTHING)])
        self.assertEqual(pages[0], [31, 30])

    @contract
    async def test_account_tx_forward_paging(self) -> None:
        """Forward history is oldest first; pages chained by cursor give every row once."""
        await self._history()
        pages = await self._collect(True, 4, 0, 2**32 - 1)
        self.assertEqual(pages, [[0, 1, 2, 20], [21, 22, 23, 30], [31]])

    @contract
    async def test_account_tx_cursor_is_first_row_not_returned(self) -> None:
        """The cursor names the next row, and passing it back starts the next page with that row."""
        await self._history()
        page = await self.backend.fetch_account_transactions(
            account(1), 3, False, None, 0, 2**32 - 1
        )
        self.assertEqual(page.cursor, TxCursor(S + 2, 2))
        again = await self.backend.fetch_account_transactions(
            account(1), 1, False, page.cursor, 0, 2**32 - 1
        )
        self.assertEqual(again.transactions[0].hash, tx_hash(22))
        forward = await self.backend.fetch_account_transactions(
            account(1), 2, True, TxCursor(S + 1, 0), 0, 2**32 - 1
        )
        self.assertEqual([t.hash for t in forward.transactions], [tx_hash(20), tx_hash(21)])
        self.assertEqual(forward.cursor, TxCursor(S + 2, 2))

    @contract
    async def test_account_tx_exact_page_has_no_cursor(self) -> None:
        """A page that takes the last row of the walk has no cursor."""
        await self._history()
        page = await self.backend.fetch_account_transactions(
            account(1), 9, True, None, 0, 2**32 - 1
        )
        self.assertEqual((len(page.transactions), page.cursor), (9, None))

    @contract
    async def test_account_tx_ledger_bounds(self) -> None:
        """Only rows within [min_sequence, max_sequence] are returned, both ways."""
        await self._history()
        self.assertEqual(await self._collect(True, 10, S + 1, S + 2), [[20, 21, 22, 23]])
        self.assertEqual(await self._collect(False, 3, S + 2, S + 3), [[31, 30, 23], [22, 21, 20]])
        self.assertEqual(await self._collect(False, 3, S + 1, S + 1), [[]])

    @contract
    async def test_account_tx_other_account(self) -> None:
        """Each account sees only its own rows."""
        await self._history()
        page = await self.backend.fetch_account_transactions(
            account(2), 10, True, None, 0, 2**32 - 1
        )
        self.assertEqual([t.hash for t in page.transactions], [tx_hash(n) for n in (1, 21, 23, 31)])
        page = await self.backend.fetch_account_transactions(
            account(3), 10, True, None, 0, 2**32 - 1
        )
        self.assertEqual(page.transactions, [])

    # -- NFTs --------------------------------------------------------------------------

    @contract
    async def test_nft_state_over_time(self) -> None:
        """An NFT's owner, burn flag and URI are answered as of each ledger."""
        token = nft_id(account(1), 5, 0)
        chain = Chain()
        await self.backend.write_ledger(chain.ledger([put(1)]))
        await self.backend.write_ledger(
            chain.ledger([put(2)], nfts=[NFT(token, S + 1, account(1), False, b"ipfs://x")])
        )
        await self.backend.write_ledger(
            chain.ledger([put(3)], nfts=[NFT(token, S + 2, account(2), False)])
        )
        await self.backend.write_ledger(
            chain.ledger([put(4)], nfts=[NFT(token, S + 3, account(2), True)])
        )
        b = self.backend
        self.assertIsNone(await b.fetch_nft(token, S))
        self.assertEqual(
            await b.fetch_nft(token, S + 1), NFT(token, S + 1, account(1), False, b"ipfs://x")
        )
        self.assertEqual(
            await b.fetch_nft(token, S + 2), NFT(token, S + 2, account(2), False, b"ipfs://x")
        )
        self.assertEqual(
            await b.fetch_nft(token, S + 3), NFT(token, S + 3, account(2), True, b"ipfs://x")
        )

    @contract
    async def test_nft_history_paging(self) -> None:
        """NFT history pages like account history, both ways."""
        token = nft_id(account(1), 0, 0)
        chain = Chain()
        for i in range(5):
            seq = chain.next_sequence
            tx = transaction(i, seq, 0)
            await self.backend.write_ledger(
                chain.ledger(
                    [put(i)],
                    transactions=[tx],
                    nft_transactions=[NFTTransactionRow(token, seq, 0, tx.hash)],
                    nfts=[NFT(token, seq, account(1), False, b"u" if i == 0 else None)],
                )
            )
        page = await self.backend.fetch_nft_transactions(token, 2, False, None, 0, 2**32 - 1)
        self.assertEqual([t.hash for t in page.transactions], [tx_hash(4), tx_hash(3)])
        self.assertEqual(page.cursor, TxCursor(S + 2, 0))
        page = await self.backend.fetch_nft_transactions(token, 2, False, page.cursor, 0, 2**32 - 1)
        self.assertEqual([t.hash for t in page.transactions], [tx_hash(2), tx_hash(1)])
        page = await self.backend.fetch_nft_transactions(
            token, 10, True, TxCursor(S + 3, 0), 0, 2**32 - 1
        )
        self.assertEqual(
            ([t.hash for t in page.transactions], page.cursor), ([tx_hash(3), tx_hash(4)], None)
        )

    @contract
    async def test_nfts_by_issuer(self) -> None:
        """NFTs of an issuer come ordered by (taxon, id), filtered by taxon, paged by id cursor."""
        issuer = account(7)
        tokens = [nft_id(issuer, taxon, seq) for seq, taxon in enumerate([3, 1, 3, 2, 1, 3])]
        other = nft_id(account(8), 1, 0)
        chain = Chain()
        await self.backend.write_ledger(
            chain.ledger(
                [put(1)], nfts=[NFT(t, S, account(9), False, b"u") for t in [*tokens[:5], other]]
            )
        )
        await self.backend.write_ledger(
            chain.ledger([put(2)], nfts=[NFT(tokens[5], S + 1, issuer, False)])
        )
        ordered = sorted(tokens, key=lambda t: ([3, 1, 3, 2, 1, 3][tokens.index(t)], t))
        b = self.backend
        seen: list[bytes] = []
        cursor: bytes | None = None
        while True:
            page = await b.fetch_nfts_by_issuer(issuer, None, 2, cursor, S + 1)
            seen += [n.token_id for n in page.nfts]
            if page.cursor is None:
                break
            cursor = page.cursor
        self.assertEqual(seen, ordered)
        page = await b.fetch_nfts_by_issuer(issuer, 3, 10, None, S + 1)
        self.assertEqual([n.token_id for n in page.nfts], sorted([tokens[0], tokens[2], tokens[5]]))
        self.assertIsNone(page.cursor)
        page = await b.fetch_nfts_by_issuer(issuer, 3, 10, None, S)
        self.assertEqual([n.token_id for n in page.nfts], sorted([tokens[0], tokens[2]]))
        self.assertEqual(page.nfts[0].owner, account(9))
        page = await b.fetch_nfts_by_issuer(account(99), None, 10, None, S + 1)
        self.assertEqual((page.nfts, page.cursor), ([], None))

    # -- MPTs --------------------------------------------------------------------------

    @contract
    async def test_mpt_holders(self) -> None:
        """Holders of an issuance are listed by holder as of a ledger, paged, deletions excluded."""
        issuance = b"\x00\x00\x00\x01" + account(1)
        holders = sorted(account(n) for n in range(10, 15))
        rows = [MPTHolderRow(issuance, h, S, key(100 + i)) for i, h in enumerate(holders)]
        chain = Chain()
        await self.backend.write_ledger(
            chain.ledger([put(100 + i) for i in range(5)], mpt_holders=rows)
        )
        late = MPTHolderRow(issuance, b"\x00" * 20, S + 1, key(200))
        await self.backend.write_ledger(chain.ledger([delete(102), put(200)], mpt_holders=[late]))
        b = self.backend
        keys, cursor = await b.fetch_mpt_holders(issuance, 10, None, S)
        self.assertEqual((keys, cursor), ([key(100 + i) for i in range(5)], None))
        keys, cursor = await b.fetch_mpt_holders(issuance, 2, None, S + 1)
        self.assertEqual(keys, [key(200), key(100)])
        self.assertEqual(cursor, holders[0])
        keys, cursor = await b.fetch_mpt_holders(issuance, 2, cursor, S + 1)
        self.assertEqual((keys, cursor), ([key(101), key(103)], holders[3]))
        keys, cursor = await b.fetch_mpt_holders(issuance, 2, cursor, S + 1)
        self.assertEqual((keys, cursor), ([key(104)], None))

    # -- the writer fence --------------------------------------------------------------

    @contract
    async def test_fence_rejects_gaps_and_old_ledgers(self) -> None:
        """A ledger that does not follow the max is a WriteConflict and changes nothing visible."""
        chain = Chain()
        await self.load(chain, [put(1)], [put(2)])
        skipped = Chain(S + 3).ledger([put(3)])
        await _raises(self.backend.write_ledger(_not_first(skipped)), WriteConflict)
        old = Chain(S).ledger([put(4)], variant=1)
        await _raises(self.backend.write_ledger(_not_first(old)), WriteConflict)
        self.assertEqual(await self.backend.fetch_ledger_range(), LedgerRange(S, S + 1))
        self.assertIsNone(await self.backend.fetch_ledger_by_sequence(S + 3))
        self.assertEqual(await self.backend.fetch_ledger_by_sequence(S), header(S))

    @contract
    async def test_first_ledger_only_into_empty_store(self) -> None:
        """is_first into a non-empty store, and a non-first ledger into an empty one, conflict."""
        await _raises(
            self.backend.write_ledger(_not_first(Chain().ledger([put(1)]))), WriteConflict
        )
        self.assertIsNone(await self.backend.fetch_ledger_range())
        chain = Chain()
        await self.load(chain, [put(1)])
        await _raises(self.backend.write_ledger(Chain(S + 1).ledger([put(2)])), WriteConflict)
        self.assertEqual(await self.backend.fetch_ledger_range(), LedgerRange(S, S))

    @contract
    async def test_idempotent_rewrite_of_max(self) -> None:
        """Rewriting the max with the same hash succeeds and changes nothing; another hash conflicts."""
        chain = Chain()
        await self.load(chain, [put(1)])
        tx = transaction(1, S + 1, 0)
        write = chain.ledger(
            [put(2)],
            transactions=[tx],
            account_transactions=[AccountTransactionRow(account(1), S + 1, 0, tx.hash)],
        )
        await self.backend.write_ledger(write)
        await self.backend.write_ledger(write)
        self.assertEqual(await self.backend.fetch_ledger_range(), LedgerRange(S, S + 1))
        page = await self.backend.fetch_account_transactions(
            account(1), 10, True, None, 0, 2**32 - 1
        )
        self.assertEqual([t.hash for t in page.transactions], [tx.hash])
        fork = Chain(S + 1).ledger([put(2)], variant=1)
        await _raises(self.backend.write_ledger(_not_first(fork)), WriteConflict)
        self.assertEqual(await self.backend.fetch_ledger_by_sequence(S + 1), write.header)

    @contract
    async def test_two_writers_one_conflicts(self) -> None:
        """Two servers on one store: the second to commit the same sequence gets WriteConflict."""
        chain = Chain()
        await self.load(chain, [put(1)])
        peer = self.open_peer()
        mine = chain.ledger([put(2)])
        theirs = _not_first(Chain(S + 1).ledger([put(3)], variant=5))
        await self.backend.write_ledger(mine)
        await _raises(peer.write_ledger(theirs), WriteConflict)
        self.assertEqual(await peer.fetch_ledger_range(), LedgerRange(S, S + 1))
        self.assertEqual(await peer.fetch_ledger_object(key(2), S + 1), blob(2))
        self.assertEqual(await peer.fetch_ledger_by_sequence(S + 1), mine.header)

    @contract
    async def test_concurrent_writers_exactly_one_wins(self) -> None:
        """Two writers racing for the same next sequence: exactly one commits."""
        chain = Chain()
        await self.load(chain, [put(1)])
        peer = self.open_peer()
        a = _not_first(Chain(S + 1).ledger([put(2)], variant=1))
        b = _not_first(Chain(S + 1).ledger([put(3)], variant=2))
        results = await DeferredList(
            [
                Deferred.fromCoroutine(self.backend.write_ledger(a)),
                Deferred.fromCoroutine(peer.write_ledger(b)),
            ],
            consumeErrors=True,
        )
        outcomes = [ok for ok, _ in results]
        self.assertEqual(sorted(outcomes), [False, True])
        failure = next(r for ok, r in results if not ok)
        failure.trap(WriteConflict)
        winner = a if outcomes[0] else b
        self.assertEqual(await self.backend.fetch_ledger_by_sequence(S + 1), winner.header)
        self.assertEqual(await self.backend.fetch_ledger_range(), LedgerRange(S, S + 1))

    @contract
    async def test_peer_takes_over_after_writer_stops(self) -> None:
        """When the writer stops, another server continues the chain."""
        chain = Chain()
        await self.load(chain, [put(1)])
        peer = self.open_peer()
        await self.backend.stop()
        await peer.write_ledger(chain.ledger([put(2)]))
        self.assertEqual(await peer.fetch_ledger_range(), LedgerRange(S, S + 1))

    @contract
    async def test_read_only_backend_does_not_write(self) -> None:
        """A read-only server reads the shared store and refuses to write."""
        chain = Chain()
        await self.load(chain, [put(1)])
        reader = self.open_peer(read_only=True)
        self.assertEqual(await reader.fetch_ledger_object(key(1), S), blob(1))
        await _raises(reader.write_ledger(chain.ledger([put(2)])), WriteConflict)
        self.assertEqual(await reader.fetch_ledger_range(), LedgerRange(S, S))


def _not_first(write: Any) -> Any:
    """The same write, as a follow-on ledger rather than the first of a store."""
    from attrs import evolve

    return evolve(write, is_first=False)
