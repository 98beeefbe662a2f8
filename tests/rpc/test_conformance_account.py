"""The account, book, NFT and AMM handlers against rippled 3.1.1's recorded answers, from the same ledgers.

Every recorded exchange of a method whose handler exists is replayed against
the corpus in an InMemoryBackend, as an admin client (rippled was asked from
localhost, so it applied no limit clamping); the answer must equal rippled's
field for field (the envelope's ``status`` and the error echo ``request`` are
the dispatcher's). Differences kept on purpose are listed in ``KNOWN`` with
the reason (also in docs/conformance.md).
"""

from __future__ import annotations

import gzip
import importlib
import json
from pathlib import Path
from typing import Any

from attrs import evolve

from twisted.trial.unittest import SynchronousTestCase

from tests.rpc.corpus import call, corpus_context

DATA = Path(__file__).parent / "data" / "account"
API_VERSION = "api_version is checked by the envelope, not the handler"

# (method, api_version, label) -> why our answer differs from rippled's on purpose.
# (none: rippled's methods parse ledger_hash/ledger_index as rippled; Clio-only ones are not recorded)
KNOWN: dict[tuple[str, int, str], str] = {}
SKIPPED_LABELS = ("invalid api_version", "params ")


def recorded(method: str) -> list[dict[str, Any]]:
    with gzip.open(DATA / f"{method}.jsonl.gz", "rt") as f:
        return [json.loads(line) for line in f if line.strip()]


def _expected(exchange: dict[str, Any]) -> dict[str, Any]:
    result = dict(exchange["rippled_response"]["result"])
    result.pop("status", None)
    result.pop("request", None)
    return result


def _ours(result: dict[str, Any]) -> dict[str, Any]:
    out = dict(result)
    if out.get("status") == "error":
        out.pop("status")
        out.pop("type", None)
    return out


class _Conformance(SynchronousTestCase):
    method = ""

    def _check(self) -> int:
        handler = importlib.import_module(f"clio_twisted.rpc.handlers.{self.method}").HANDLER
        contexts = {v: evolve(corpus_context(v), is_admin=True) for v in (1, 2)}
        checked = 0
        mismatches = []
        for exchange in recorded(self.method):
            version, label = exchange["api_version"], exchange["label"]
            if (self.method, version, label) in KNOWN or label.startswith(SKIPPED_LABELS):
                continue
            params = dict(exchange["request"]["params"][0])
            params.pop("api_version", None)
            ours = _ours(call(handler, params, version, contexts[version]))
            if ours != _expected(exchange):
                mismatches.append((version, label, ours, _expected(exchange)))
            checked += 1
        if mismatches:
            version, label, ours, theirs = mismatches[0]
            labels = [f"v{m[0]} {m[1]}" for m in mismatches]
            self.assertEqual(
                ours, theirs, f"{len(mismatches)} mismatches {labels}; first: v{version} {label!r}"
            )
        return checked


class AccountInfoTests(_Conformance):
    method = "account_info"

    def test_answers(self) -> None:
        """Every recorded account_info answer and error (v1 and v2, signer lists) equals rippled's."""
        self.assertGreater(self._check(), 90)


class AccountLinesTests(_Conformance):
    method = "account_lines"

    def test_answers(self) -> None:
        """Every recorded account_lines page, filter and error equals rippled's."""
        self.assertGreater(self._check(), 55)


class AccountObjectsTests(_Conformance):
    method = "account_objects"

    def test_answers(self) -> None:
        """Every recorded account_objects page, type filter, NFT page walk and error equals rippled's."""
        self.assertGreater(self._check(), 95)


class BookOffersTests(_Conformance):
    method = "book_offers"

    def test_answers(self) -> None:
        """Every recorded book (funding, quality, taker, domain, limits) and error equals rippled's."""
        self.assertGreater(self._check(), 40)


class Mainnet38129Tests(SynchronousTestCase):
    """Real mainnet ledger 38129 loaded whole: every account, directory and book checked against its state."""

    sequence = 38129

    def setUp(self) -> None:
        from twisted.internet.defer import Deferred
        from twisted.internet.task import Clock

        from clio_twisted.backend.interface import LedgerObject, LedgerRange, LedgerWrite
        from clio_twisted.protocol import keylets
        from clio_twisted.protocol.codec import decode
        from clio_twisted.rpc.context import Context
        from clio_twisted.testing.forge import load_fixture_ledger
        from tests.fakes.backend import InMemoryBackend

        ledger = load_fixture_ledger(self.sequence)
        backend = InMemoryBackend()
        seq = ledger.sequence
        objects = [LedgerObject(k, b or b"", seq) for k, b in sorted(ledger.changes.items())]
        write = LedgerWrite(
            seq, ledger.header.to_bytes(), ledger.header.hash, objects=objects, is_first=True
        )
        failures: list[Any] = []
        Deferred.fromCoroutine(backend.write_ledger(write)).addErrback(failures.append)
        self.assertEqual(failures, [])
        self.ctx = Context(
            backend=backend, clock=Clock(), ledger_range=LedgerRange(seq, seq), is_admin=True
        )
        self.page = keylets.page
        self.state = {k.hex().upper(): decode(b) for k, b in ledger.changes.items() if b}

    def _call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        handler = importlib.import_module(f"clio_twisted.rpc.handlers.{method}").HANDLER
        return call(handler, params, 1, self.ctx)

    def _owner_dirs(self) -> dict[str, list[str]]:
        """Each owner's directory entries, pages in IndexNext order."""
        owners: dict[str, list[str]] = {}
        for key, obj in self.state.items():
            if (
                obj["LedgerEntryType"] == "DirectoryNode"
                and "Owner" in obj
                and obj["RootIndex"] == key
            ):
                entries, page = [], obj
                while True:
                    entries += page["Indexes"]
                    following = int(page.get("IndexNext", "0"), 16)
                    if not following:
                        break
                    page = self.state[self.page(bytes.fromhex(key), following).hex().upper()]
                owners[obj["Owner"]] = entries
        return owners

    def test_account_info_every_root(self) -> None:
        """account_info of every AccountRoot returns exactly the stored object."""
        roots = [(k, o) for k, o in self.state.items() if o["LedgerEntryType"] == "AccountRoot"]
        self.assertEqual(len(roots), 137)
        for key, obj in roots:
            data = self._call("account_info", {"account": obj["Account"]})["account_data"]
            data.pop("urlgravatar", None)
            self.assertEqual(data, {**obj, "index": key})

    def test_lines_and_objects_follow_directories(self) -> None:
        """account_objects lists exactly each owner directory's entries; account_lines its trust lines."""
        owners = self._owner_dirs()
        self.assertTrue(owners)
        roots = {o["Account"] for o in self.state.values() if o["LedgerEntryType"] == "AccountRoot"}
        for account in roots:
            entries = owners.get(account, [])
            objects = self._call("account_objects", {"account": account, "limit": 400})
            self.assertEqual([o["index"] for o in objects["account_objects"]], entries, account)
            lines = self._call("account_lines", {"account": account, "limit": 400})["lines"]
            states = [
                self.state[e] for e in entries if self.state[e]["LedgerEntryType"] == "RippleState"
            ]
            self.assertEqual(len(lines), len(states), account)
            for line, state in zip(lines, states, strict=True):
                low = state["LowLimit"]["issuer"] == account
                self.assertEqual(
                    line["account"], state["HighLimit" if low else "LowLimit"]["issuer"]
                )
                self.assertEqual(line["currency"], state["Balance"]["currency"])

    def test_books_in_quality_order(self) -> None:
        """Each book lists all its offers best quality first, owner_funds on each owner's first offer."""
        offers = [o for o in self.state.values() if o["LedgerEntryType"] == "Offer"]
        books: dict[str, list[dict[str, Any]]] = {}
        for offer in offers:
            books.setdefault(offer["BookDirectory"][:48], []).append(offer)
        for book in books.values():
            sample = book[0]

            def side(amount: Any) -> dict[str, str]:
                if isinstance(amount, str):
                    return {"currency": "XRP"}
                return {"currency": amount["currency"], "issuer": amount["issuer"]}

            out = self._call(
                "book_offers",
                {"taker_pays": side(sample["TakerPays"]), "taker_gets": side(sample["TakerGets"])},
            )["offers"]
            self.assertEqual(len(out), len(book))
            directories = [o["BookDirectory"] for o in out]
            self.assertEqual(directories, sorted(directories))
            seen: set[str] = set()
            for answer in out:
                self.assertEqual("owner_funds" in answer, answer["Account"] not in seen)
                seen.add(answer["Account"])
                self.assertIn("quality", answer)


class Mainnet40000Tests(Mainnet38129Tests):
    """The same checks on real mainnet ledger 40000."""

    sequence = 40000


class AccountOffersTests(_Conformance):
    method = "account_offers"

    def test_answers(self) -> None:
        """Every recorded account_offers page and error equals rippled's."""
        self.assertGreater(self._check(), 15)


class AccountChannelsTests(_Conformance):
    method = "account_channels"

    def test_answers(self) -> None:
        """Every recorded account_channels page, destination filter and error equals rippled's."""
        self.assertGreater(self._check(), 18)


class AccountCurrenciesTests(_Conformance):
    method = "account_currencies"

    def test_answers(self) -> None:
        """Every recorded account_currencies answer and error equals rippled's."""
        self.assertGreater(self._check(), 10)


class AccountNftsTests(_Conformance):
    method = "account_nfts"

    def test_answers(self) -> None:
        """Every recorded account_nfts page, limit and error equals rippled's."""
        self.assertGreater(self._check(), 20)


class NftOffersTests(SynchronousTestCase):
    def test_buy(self) -> None:
        """Every recorded nft_buy_offers page and error equals rippled's."""
        case = _Conformance()
        case.method = "nft_buy_offers"
        self.assertGreater(case._check(), 15)

    def test_sell(self) -> None:
        """Every recorded nft_sell_offers answer and error equals rippled's."""
        case = _Conformance()
        case.method = "nft_sell_offers"
        self.assertGreater(case._check(), 10)


class GatewayBalancesTests(_Conformance):
    method = "gateway_balances"

    def test_answers(self) -> None:
        """Every recorded gateway_balances answer (hot wallets, assets, v1/v2 errors) equals rippled's."""
        self.assertGreater(self._check(), 9)


class DepositAuthorizedTests(_Conformance):
    method = "deposit_authorized"

    def test_answers(self) -> None:
        """Every recorded deposit_authorized answer (credentials included) and error equals rippled's."""
        self.assertGreater(self._check(), 10)


class NorippleCheckTests(_Conformance):
    method = "noripple_check"

    def test_answers(self) -> None:
        """Every recorded noripple_check answer (both roles, with transactions) and error equals rippled's."""
        self.assertGreater(self._check(), 15)


class AmmInfoTests(_Conformance):
    method = "amm_info"

    def test_answers(self) -> None:
        """Every recorded amm_info answer (by assets, by account, LP view, auction slot) and error equals rippled's."""
        self.assertGreater(self._check(), 20)


class VaultInfoTests(_Conformance):
    method = "vault_info"

    def test_answers(self) -> None:
        """Every recorded vault_info answer (by id, by owner and sequence) and error equals rippled's."""
        self.assertEqual(self._check(), 6)


class GetAggregatePriceTests(_Conformance):
    method = "get_aggregate_price"

    def test_answers(self) -> None:
        """Every recorded get_aggregate_price answer (trim, time threshold) and error equals rippled's."""
        self.assertGreater(self._check(), 12)
