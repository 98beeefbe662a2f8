"""xrpl-py's own clients and request models, unchanged, against the real server.

Two real processes on 127.0.0.1 with ephemeral ports: the fake rippled
replaying the ledgers recorded from rippled 3.1.1 (3-270, modern transaction
types), and ``twistd -n clio`` whose ETL loads ledger 3 into a fresh SQLite
file and follows to 270. Then xrpl-py's ``JsonRpcClient`` and
``AsyncWebsocketClient`` (asyncio, run with asyncio's own loop: no Twisted
reactor in this process) send its request models; every answer must parse,
be ``is_successful()``, and carry the values rippled 3.1.1 answered for the
same request (copied below from the recorded answers).

The two processes are started once for the whole module (their start and the
ETL take a few seconds) and stopped when the test process exits.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from xrpl.asyncio.clients import AsyncWebsocketClient
from xrpl.clients import JsonRpcClient
from xrpl.models import requests as R
from xrpl.models.currencies import XRP, IssuedCurrency
from xrpl.models.requests.get_aggregate_price import Oracle as PriceOracle
from xrpl.models.requests.ledger_entry import Escrow, Offer, Oracle, RippleState
from xrpl.models.response import Response
from xrpl.models.transactions.transaction import Transaction

from twisted.trial.unittest import SynchronousTestCase

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
TWISTD = str(Path(sys.executable).parent / "twistd")
FIRST, LAST = 3, 270

# Accounts and ids of the recorded corpus (MANIFEST.json of the rippled 3.1.1 recording).
GW = "rRtJMZbVx3PM4iXvnH7pR1KYmnyzQXcfm"
HOT = "rPNAKgxRdVTKfWnHQP3wdUCihscrpvMiBQ"
ALICE = "rKRund6F5oRxLkwLkHx49EN1X42yyAH4gq"
BOB = "ra6UF6SEGtsVr4A3giXbQvjjd8FEmNH6Q"
CAROL = "rPmezossNCbrUWcWSL4SDSvV8gZSTDWjUP"
DAVE = "r9Dz7apRsgf9nXnBziWJeCTVnVyHtRbG5R"
HENRY = "r3CJRHXodGzkCU6J7NnRn7W9TZzyr9fFsL"
MALLORY = "rs2gEygEeWGYmv3MX6fbakcU75ijfsdr3B"
OSCAR = "rsndrqk7q6bxrGVVtm5fybXS1G4VJaCUJv"
VICTOR = "r38sXopzFMAxUpRgpiC9tDS5HtLPBdG1Tv"
WALTER = "r31AivdpNHsJ6sYooC2rWtGFQ3Utm6o8PW"
AMM_ACCOUNT = "rpQQPCvmgeikW2DVc9sTW3QZhU9ztARqXd"
AMM_INDEX = "80736E9727163E2A864C49F1261F3B67BE7AB5C32762F4DA4D29D45DCE1784AE"
HASH_270 = "E782CD33D3908099E067BAA9D7835D040C9C1E908E635A0E171BF338654539A8"
HASH_3 = "977C89B42F8242F995DCB22C08D3F5CEA212204115314A252192C0FC54CD18C9"
PAYMENT_L3 = "71D2488787BD596661A8A391D34DB2029494DD5DB6F860A9443FB961F5E73159"
TRUSTSET_L12 = "F258ED907C219FEE281E762DDEBDBC56D08FF69873553FAA2A9873C9FCF96957"
CHANNEL_C1 = "266075EE65569A5B9F629148EA413CD17D3FB0110390F9B6C82824AA337BB3F3"
CHECK_K1 = "4EB28A1024DB07808A8473B885056E18828D2515B703B7BD614780D58938A072"
NFT_H10 = "000909C454073A3970D5F8FEE4CAC0D5C3941041C35E59AE6E5D19A900000010"
NFT_H11 = "0018C35054073A3970D5F8FEE4CAC0D5C3941041C35E59AE8542EAAF00000011"
CREDENTIAL_DAVE = "1B544F1223758C42AEAF09AE0602B21048C8C3E82FFD8F68C0C170DEDD4AC920"
VAULT_V1 = "DF9A5F32F553CB8E6E31D8963E90CD0253F366BF629DB174D9428099518AA8BA"

# Transaction types xrpl-py 5.2 cannot model from rippled's JSON: OracleSet's
# AssetPrice is a UInt64, which rippled (and we) render as a hex string where
# xrpl-py wants an int; LedgerStateFix is not in xrpl-py at all.
XRPL_PY_CANNOT_MODEL = frozenset({"OracleSet", "LedgerStateFix"})
# Fields rippled adds to a v2 tx_json that are not part of the transaction.
API_ONLY_FIELDS = frozenset({"ledger_index", "date", "ctid", "hash", "inLedger"})


def _die_with_parent() -> None:
    """In the child: SIGTERM when the test process dies, even killed (Linux prctl)."""
    if sys.platform == "linux":
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


class _Cluster:
    """The fake rippled and the server, as child processes writing to log files."""

    def __init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="clio-xrpl-clients-"))
        self.procs: list[subprocess.Popen[bytes]] = []
        env = dict(os.environ)
        # twistd finds twisted/plugins/clio_plugin.py in the checkout, not in the editable install
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
        env.pop("NOTIFY_SOCKET", None)
        rippled_port = self._start(
            "rippled",
            # every recorded ledger validated at start; the ETL walks 3..270 as fast as it can
            [PYTHON, "-m", "clio_twisted.testing.fake_rippled", "--replay", "--start", str(LAST)]
            + ["--interval", "0", "--port", "0"],
            env,
            lambda line: (
                line.split("ws://127.0.0.1:", 1)[1].split()[0]
                if "fake rippled on ws://" in line
                else None
            ),
        )
        config = self.tmp / "config.json"
        config.write_text(
            json.dumps(
                {
                    "server": {"ip": "127.0.0.1", "port": 0},
                    "database": {
                        "type": "sqlite",
                        "sqlite": {"path": str(self.tmp / "clio.sqlite3")},
                    },
                    "etl_sources": [{"ip": "127.0.0.1", "ws_port": rippled_port}],
                    "start_sequence": FIRST,
                    "dos_guard": {"whitelist": ["127.0.0.1"]},
                    "graceful_period": 1,
                    "log_format": "json",
                }
            )
        )
        self.port = int(
            self._start(
                "clio",
                [TWISTD, "-n", "--pidfile=", "clio", "--config", str(config)],
                env,
                lambda line: (
                    str(json.loads(line)["port"]) if "clio-twisted listening on" in line else None
                ),
            )
        )
        self.http = f"http://127.0.0.1:{self.port}/"
        self.ws = f"ws://127.0.0.1:{self.port}/"
        self._wait_for_ledger(LAST)

    def _start(
        self, name: str, argv: list[str], env: dict[str, str], ready: Callable[[str], str | None]
    ) -> str:
        log = self.tmp / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                argv, cwd=self.tmp, env=env, stdout=out, stderr=out, preexec_fn=_die_with_parent
            )
        self.procs.append(proc)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for line in log.read_text(errors="replace").splitlines():
                found = ready(line)
                if found:
                    return found
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise AssertionError(f"{name} did not start:\n{log.read_text(errors='replace')[-3000:]}")

    def _wait_for_ledger(self, sequence: int) -> None:
        body = json.dumps({"method": "ledger_range", "params": [{}]}).encode()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            request = urllib.request.Request(self.http, data=body, method="POST")
            with urllib.request.urlopen(request, timeout=5) as f:
                result = json.loads(f.read())["result"]
            if result.get("ledger_index_max") == sequence:
                return
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"the ETL did not reach ledger {sequence}: {result}")

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)


@cache
def cluster() -> _Cluster:
    started = _Cluster()
    atexit.register(started.stop)
    return started


def parse_transaction(entry: dict[str, Any]) -> Transaction:
    """xrpl-py's model of a v2 answer's ``tx_json`` (without the fields rippled adds to it)."""
    fields = {k: v for k, v in entry["tx_json"].items() if k not in API_ONLY_FIELDS}
    return Transaction.from_xrpl(fields)


# -- the requests, and what rippled 3.1.1 answered to each ---------------------------------------

USD = IssuedCurrency(currency="USD", issuer=GW)
EUR = IssuedCurrency(currency="EUR", issuer=GW)


def ledger_requests() -> list[tuple[Any, Callable[[dict[str, Any]], None]]]:
    """Issue 6's methods: (request model, check of the answer's result)."""

    def ledger_validated(r: dict[str, Any]) -> None:
        assert (r["ledger_index"], r["ledger_hash"], r["validated"]) == (LAST, HASH_270, True)
        assert r["ledger"]["ledger_hash"] == HASH_270 and r["ledger"]["closed"] is True

    def ledger_expanded(r: dict[str, Any]) -> None:
        txs = r["ledger"]["transactions"]
        assert r["ledger_index"] == 100 and txs, r
        for tx in txs:  # expanded v2 entries: hash beside tx_json and meta
            if tx["tx_json"]["TransactionType"] not in XRPL_PY_CANNOT_MODEL:
                assert parse_transaction(tx).get_hash() == tx["hash"]

    def ledger_data(r: dict[str, Any]) -> None:
        assert r["ledger_index"] == LAST and len(r["state"]) == 5 and "marker" in r
        assert all("LedgerEntryType" in obj and "index" in obj for obj in r["state"])

    def ledger_data_binary(r: dict[str, Any]) -> None:
        assert len(r["state"]) == 5 and all(set(o) == {"data", "index"} for o in r["state"])

    def node(**expected: Any) -> Callable[[dict[str, Any]], None]:
        def check(r: dict[str, Any]) -> None:
            got = {k: r["node"].get(k) for k in expected}
            assert got == expected, got

        return check

    def tx_payment(r: dict[str, Any]) -> None:
        assert (r["hash"], r["ledger_index"], r["ctid"]) == (PAYMENT_L3, 3, "C000000300020000")
        assert (r["ledger_hash"], r["close_time_iso"]) == (HASH_3, "2026-11-27T01:34:11Z")
        assert r["meta"]["TransactionResult"] == "tesSUCCESS"
        assert parse_transaction(r).get_hash() == PAYMENT_L3

    def account_tx(r: dict[str, Any]) -> None:
        assert (r["ledger_index_min"], r["ledger_index_max"]) == (FIRST, LAST)
        txs = r["transactions"]
        assert len(txs) == 10 and "marker" in r
        assert txs[0]["hash"] == "0357FF5686A7756A51067759EC5C0534EE3EA1D14488FAC5094F37702A83F51E"
        modelled = [t for t in txs if t["tx_json"]["TransactionType"] not in XRPL_PY_CANNOT_MODEL]
        assert len(modelled) >= 8
        for t in modelled:  # xrpl-py re-serialises our tx_json to the very signed bytes
            assert parse_transaction(t).get_hash() == t["hash"], t["hash"]

    def account_tx_forward(r: dict[str, Any]) -> None:
        ledgers = [t["ledger_index"] for t in r["transactions"]]
        assert len(ledgers) == 5 and ledgers == sorted(ledgers), ledgers

    def transaction_entry(r: dict[str, Any]) -> None:
        assert (r["hash"], r["ledger_index"]) == (TRUSTSET_L12, 12)
        assert (
            r["ledger_hash"] == "97B05D595E622ECDD9D67A3FD32FAAB8311CA65D6C2A44B50D6374AB763C2EEA"
        )
        assert r["tx_json"]["TransactionType"] == "TrustSet"

    def server_info(r: dict[str, Any]) -> None:
        info = r["info"]
        assert info["complete_ledgers"] == f"{FIRST}-{LAST}"
        assert (info["validated_ledger"]["seq"], info["validated_ledger"]["hash"]) == (
            LAST,
            HASH_270,
        )

    def ledger_closed(r: dict[str, Any]) -> None:
        assert (r["ledger_index"], r["ledger_hash"]) == (LAST, HASH_270)

    def random(r: dict[str, Any]) -> None:
        assert len(r["random"]) == 64 and int(r["random"], 16) >= 0

    def ping(r: dict[str, Any]) -> None:
        assert r == {}, r

    def fee(r: dict[str, Any]) -> None:  # forwarded to the (fake) rippled
        assert r["drops"]["base_fee"] == "10" and r["ledger_current_index"] == LAST + 1

    return [
        (R.Ledger(ledger_index="validated"), ledger_validated),
        (R.Ledger(ledger_index=100, transactions=True, expand=True), ledger_expanded),
        (R.LedgerData(ledger_index=LAST, limit=5), ledger_data),
        (R.LedgerData(ledger_index=LAST, limit=5, binary=True), ledger_data_binary),
        (
            R.LedgerEntry(index=AMM_INDEX, ledger_index=LAST),
            node(LedgerEntryType="AMM", Account=AMM_ACCOUNT),
        ),
        (
            R.LedgerEntry(account_root=ALICE, ledger_index="validated"),
            node(LedgerEntryType="AccountRoot", Account=ALICE),
        ),
        (
            R.LedgerEntry(offer=Offer(account=CAROL, seq=7), ledger_index=27),
            node(LedgerEntryType="Offer", Account=CAROL, Sequence=7),
        ),
        (
            R.LedgerEntry(ripple_state=RippleState(accounts=[HOT, GW], currency="USD")),
            node(LedgerEntryType="RippleState"),
        ),
        (
            R.LedgerEntry(escrow=Escrow(owner=WALTER, seq=7), ledger_index=37),
            node(LedgerEntryType="Escrow", Account=WALTER),
        ),
        (
            R.LedgerEntry(oracle=Oracle(account=ALICE, oracle_document_id=7), ledger_index=LAST),
            node(LedgerEntryType="Oracle", Owner=ALICE),
        ),
        (
            R.LedgerEntry(payment_channel=CHANNEL_C1, ledger_index=LAST),
            node(LedgerEntryType="PayChannel", Account=WALTER, Destination=CAROL),
        ),
        (R.LedgerEntry(check=CHECK_K1, ledger_index=41), node(LedgerEntryType="Check")),
        (R.Tx(transaction=PAYMENT_L3), tx_payment),
        (R.Tx(ctid="C000000300020000"), tx_payment),
        (R.AccountTx(account=ALICE, limit=10), account_tx),
        (
            R.AccountTx(
                account=GW, ledger_index_min=-1, ledger_index_max=-1, forward=True, limit=5
            ),
            account_tx_forward,
        ),
        (R.TransactionEntry(tx_hash=TRUSTSET_L12, ledger_index=12), transaction_entry),
        (R.ServerInfo(), server_info),
        (R.LedgerClosed(), ledger_closed),
        (R.Random(), random),
        (R.Ping(), ping),
        (R.Fee(), fee),
    ]


def account_requests() -> list[tuple[Any, Callable[[dict[str, Any]], None]]]:
    """Issue 7's methods: (request model, check of the answer's result)."""

    def account_info(r: dict[str, Any]) -> None:
        assert r["account_data"]["Account"] == ALICE and r["ledger_index"] == LAST
        assert r["validated"] is True and "account_flags" in r

    def signer_lists(r: dict[str, Any]) -> None:
        assert r["account_data"]["Account"] == GW and r["signer_lists"] == []

    def account_lines(r: dict[str, Any]) -> None:
        first = r["lines"][0]
        assert (first["account"], first["currency"], first["balance"]) == (
            GW,
            "USD",
            "63151.34878787879",
        )

    def account_objects(r: dict[str, Any]) -> None:
        assert len(r["account_objects"]) == 10 and "marker" in r and r["limit"] == 10

    def account_offers(r: dict[str, Any]) -> None:
        first = r["offers"][0]
        assert (first["seq"], first["taker_pays"], first["quality"]) == (8, "227988000", "1200000")

    def account_channels(r: dict[str, Any]) -> None:
        first = r["channels"][0]
        assert (first["channel_id"], first["balance"], first["amount"]) == (
            CHANNEL_C1,
            "39000000",
            "150000000",
        )

    def account_currencies(r: dict[str, Any]) -> None:
        assert r["receive_currencies"] == ["CLW", "EUR", "USD"]
        assert r["send_currencies"] == [
            "CLW",
            "EUR",
            "USD",
            "03930D02208264E2E40EC1B0C09E4DB96EE197B1",
        ]

    def account_nfts(r: dict[str, Any]) -> None:
        assert len(r["account_nfts"]) == 20
        first = r["account_nfts"][0]
        assert first["NFTokenID"] == (
            "000909C454073A3970D5F8FEE4CAC0D5C3941041C35E59AE0245C1D100000038"
        )
        assert (first["nft_serial"], first["TransferFee"]) == (56, 2500)
        assert r["marker"] == "0008000054073A3970D5F8FEE4CAC0D5C3941041C35E59AE42D72FE100000046"

    def book_offers(r: dict[str, Any]) -> None:
        assert r["ledger_index"] == 31 and r["offers"][0]["Account"] == CAROL

    def gateway_balances(r: dict[str, Any]) -> None:
        assert r["obligations"] == {
            "EUR": "6319.98",
            "USD": "34696.21236575607",
        }  # hot wallets apart
        assert r["balances"][HOT] == [
            {"currency": "USD", "value": "63151.34878787879"},
            {"currency": "EUR", "value": "92685.4"},
        ]

    def noripple_check(r: dict[str, Any]) -> None:
        assert (r["problems"], r["transactions"], r["ledger_hash"]) == ([], [], HASH_270)

    def deposit_authorized(r: dict[str, Any]) -> None:
        assert r["deposit_authorized"] is True and r["ledger_index"] == 36

    def deposit_credentials(r: dict[str, Any]) -> None:
        assert r["deposit_authorized"] is True and r["credentials"] == [CREDENTIAL_DAVE]

    def nft_info(r: dict[str, Any]) -> None:
        assert (r["nft_id"], r["owner"], r["issuer"], r["is_burned"]) == (
            NFT_H11,
            HENRY,
            HENRY,
            False,
        )
        assert (r["transfer_fee"], r["nft_taxon"], r["nft_serial"]) == (50000, 3, 17)

    def sell_offers(r: dict[str, Any]) -> None:
        first = r["offers"][0]
        assert (first["amount"], first["flags"], first["owner"]) == ("30000000", 1, HENRY)

    def buy_offers(r: dict[str, Any]) -> None:
        first = r["offers"][0]
        assert (first["amount"], first["owner"]) == ("1620000", CAROL)

    def nft_history(r: dict[str, Any]) -> None:
        assert r["nft_id"] == NFT_H11 and r["transactions"]
        assert all(t["tx_json"]["TransactionType"].startswith("NFToken") for t in r["transactions"])

    def nfts_by_issuer(r: dict[str, Any]) -> None:
        assert r["issuer"] == HENRY and len(r["nfts"]) == 5 and "marker" in r
        assert all(n["issuer"] == HENRY for n in r["nfts"])

    def amm_info(r: dict[str, Any]) -> None:
        amm = r["amm"]
        assert amm["account"] == AMM_ACCOUNT and amm["amount2"]["currency"] == "USD"
        assert amm["lp_token"]["issuer"] == AMM_ACCOUNT

    def aggregate_price(r: dict[str, Any]) -> None:
        assert (r["median"], r["entire_set"]["mean"], r["entire_set"]["size"]) == (
            "0.749",
            "0.749",
            2,
        )
        assert r["entire_set"]["standard_deviation"] == "0.001414213562373095049"

    def vault_info(r: dict[str, Any]) -> None:
        vault = r["vault"]
        assert (vault["Owner"], vault["AssetsTotal"]) == (OSCAR, "110000000")

    return [
        (R.AccountInfo(account=ALICE), account_info),
        (R.AccountInfo(account=GW, ledger_index=LAST, signer_lists=True), signer_lists),
        (R.AccountLines(account=HOT, ledger_index=LAST), account_lines),
        (R.AccountObjects(account=ALICE, ledger_index=LAST, limit=10), account_objects),
        (R.AccountOffers(account=CAROL, ledger_index=LAST), account_offers),
        (R.AccountChannels(account=WALTER, ledger_index=LAST), account_channels),
        (R.AccountCurrencies(account=OSCAR, ledger_index=LAST), account_currencies),
        (R.AccountNFTs(account=HENRY, ledger_index=LAST, limit=20), account_nfts),
        (R.BookOffers(taker_gets=EUR, taker_pays=USD, ledger_index=31), book_offers),
        (
            R.GatewayBalances(account=GW, ledger_index=LAST, hotwallet=[HOT, ALICE]),
            gateway_balances,
        ),
        (
            R.NoRippleCheck(
                account=GW, role=R.NoRippleCheckRole.GATEWAY, ledger_index=LAST, transactions=True
            ),
            noripple_check,
        ),
        (
            R.DepositAuthorized(source_account=ALICE, destination_account=VICTOR, ledger_index=36),
            deposit_authorized,
        ),
        (
            R.DepositAuthorized(
                source_account=DAVE,
                destination_account=VICTOR,
                ledger_index=LAST,
                credentials=[CREDENTIAL_DAVE],
            ),
            deposit_credentials,
        ),
        (R.NFTInfo(nft_id=NFT_H11), nft_info),
        (R.NFTSellOffers(nft_id=NFT_H11, ledger_index=LAST), sell_offers),
        (R.NFTBuyOffers(nft_id=NFT_H10, ledger_index=55), buy_offers),
        (R.NFTHistory(nft_id=NFT_H11), nft_history),
        (R.NFTsByIssuer(issuer=HENRY, limit=5), nfts_by_issuer),
        (R.AMMInfo(asset=XRP(), asset2=USD), amm_info),
        (R.AMMInfo(amm_account=AMM_ACCOUNT), amm_info),
        (
            R.GetAggregatePrice(
                base_asset="XRP",
                quote_asset="USD",
                oracles=[
                    PriceOracle(account=MALLORY, oracle_document_id=1),
                    PriceOracle(account=ALICE, oracle_document_id=7),
                    PriceOracle(account=BOB, oracle_document_id=3),
                ],
            ),
            aggregate_price,
        ),
        (R.VaultInfo(vault_id=VAULT_V1, ledger_index=LAST), vault_info),
    ]


# -- the tests ----------------------------------------------------------------------------------


class _ClientMixin:
    """Sends each (model, check) with one client; collects every failure before failing."""

    def setUp(self) -> None:
        self.cluster = cluster()

    def send(self, requests: list[Any]) -> list[Response]:
        raise NotImplementedError

    def check_all(self, cases: list[tuple[Any, Callable[[dict[str, Any]], None]]]) -> None:
        responses = self.send([request for request, _ in cases])
        failures = []
        for (request, check), response in zip(cases, responses, strict=True):
            name = type(request).__name__
            if not response.is_successful():
                failures.append(f"{name}: not successful: {response.result}")
                continue
            try:
                check(response.result)
            except (AssertionError, KeyError, IndexError, TypeError) as e:
                failures.append(f"{name}: {type(e).__name__}: {e}\n  {response.result}"[:2000])
        if failures:
            raise AssertionError("\n".join(failures))

    def test_ledger_and_transaction_methods(self) -> None:
        """Ledger, LedgerData, LedgerEntry (8 selectors), Tx, AccountTx, ... succeed with rippled's values."""
        self.check_all(ledger_requests())

    def test_account_book_and_nft_methods(self) -> None:
        """AccountInfo ... AMMInfo, GetAggregatePrice, NFT and vault methods succeed with rippled's values."""
        self.check_all(account_requests())


class JsonRpcClientTests(_ClientMixin, SynchronousTestCase):
    def send(self, requests: list[Any]) -> list[Response]:
        client = JsonRpcClient(self.cluster.http)
        return [client.request(request) for request in requests]

    def test_xrpl_py_helpers_read_our_answers(self) -> None:
        """xrpl-py's own helpers (latest validated ledger, balance, account root) parse our answers."""
        from xrpl.account import does_account_exist, get_account_root, get_balance
        from xrpl.ledger import get_latest_validated_ledger_sequence

        client = JsonRpcClient(self.cluster.http)
        self.assertEqual(get_latest_validated_ledger_sequence(client), LAST)
        root = get_account_root(ALICE, client)
        self.assertEqual(root["Account"], ALICE)
        self.assertEqual(get_balance(ALICE, client), int(root["Balance"]))
        self.assertTrue(does_account_exist(GW, client))
        self.assertFalse(does_account_exist("rs1DUUekbFymvBXw1p3bxXR1DZPiH8itwR", client))

    def test_errors_parse_as_rippled_errors(self) -> None:
        """An unknown account is an unsuccessful Response whose result carries rippled's error."""
        client = JsonRpcClient(self.cluster.http)
        response = client.request(R.AccountInfo(account="rs1DUUekbFymvBXw1p3bxXR1DZPiH8itwR"))
        self.assertFalse(response.is_successful())
        self.assertEqual(
            (response.result["error"], response.result["error_code"]), ("actNotFound", 19)
        )


class WebSocketClientTests(_ClientMixin, SynchronousTestCase):
    def send(self, requests: list[Any]) -> list[Response]:
        async def go() -> list[Response]:
            async with AsyncWebsocketClient(self.cluster.ws) as client:
                # all in flight at once: answers are matched to requests by id
                return list(await asyncio.gather(*(client.request(r) for r in requests)))

        return asyncio.run(go())

    def test_errors_parse_as_rippled_errors(self) -> None:
        """Over WebSocket too, an error is an unsuccessful Response with rippled's error fields."""
        (response,) = self.send([R.Tx(transaction="00" * 32)])
        self.assertFalse(response.is_successful())
        self.assertEqual(response.result["error"], "txnNotFound")
