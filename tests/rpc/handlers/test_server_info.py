"""server_info: fields from the store and clock, sections contributed by providers, admin hiding."""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred
from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.rpc.context import Context, JsonDict
from clio_twisted.rpc.dispatch import Dispatcher
from tests.rpc.helpers import LOCAL, NOW, REMOTE, make_dispatcher, store_ledgers


class EtlSection:
    async def server_info(self, ctx: Context) -> JsonDict:
        section: JsonDict = {"validated_ledger": {"base_fee_xrp": 1e-05}, "load_factor": 2}
        if ctx.is_admin:
            section["etl"] = {"is_writer": True}
        return section


class ServerInfoTests(SynchronousTestCase):
    def info(self, dispatcher: Dispatcher, caller: Any = LOCAL) -> JsonDict:
        outcome = self.successResultOf(
            Deferred.fromCoroutine(dispatcher.execute("server_info", {}, 1, caller))
        )
        assert outcome.result is not None
        return outcome.result

    def test_before_any_ledger(self) -> None:
        """Before any ledger: complete_ledgers 'empty', time, uptime and version; validated true."""
        dispatcher, _, _ = make_dispatcher()
        result = self.info(dispatcher)
        self.assertEqual(
            result,
            {
                "info": {
                    "complete_ledgers": "empty",
                    "load_factor": 1,
                    "time": "2026-Nov-27 02:00:00.000000 UTC",
                    "uptime": 5,
                    "clio_version": "clio-twisted-0.1.0",
                },
                "validated": True,
            },
        )

    def test_with_ledgers_and_sections(self) -> None:
        """With ledgers: range and validated_ledger; sections merge (objects one level deep), admin-only hidden."""
        dispatcher, backend, _ = make_dispatcher(info_sections=(EtlSection(),))
        headers = store_ledgers(backend, 3, 270, NOW - 7)
        info = self.info(dispatcher)["info"]
        self.assertEqual(info["complete_ledgers"], "3-270")
        self.assertEqual(info["load_factor"], 2)
        self.assertEqual(
            info["validated_ledger"],
            {"age": 7, "hash": headers[-1].hash.hex().upper(), "seq": 270, "base_fee_xrp": 1e-05},
        )
        self.assertEqual(info["etl"], {"is_writer": True})
        self.assertNotIn("etl", self.info(dispatcher, REMOTE)["info"])

    def test_fees_from_the_ledger(self) -> None:
        """validated_ledger has the ledger's fee and reserves in XRP, as Clio's recorded answer (1E-5, 1E1, 2E0)."""
        from clio_twisted.rpc.handlers import load_handlers
        from tests.rpc.corpus import corpus_context

        dispatcher = Dispatcher(load_handlers(), corpus_context())
        ledger = self.info(dispatcher)["info"]["validated_ledger"]
        self.assertEqual(ledger["seq"], 270)
        self.assertEqual(
            (ledger["base_fee_xrp"], ledger["reserve_base_xrp"], ledger["reserve_inc_xrp"]),
            (1e-05, 10.0, 2.0),
        )
