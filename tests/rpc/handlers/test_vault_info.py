"""vault_info: both ways of naming a vault, its shares, and every malformed combination."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.rpc.handlers.vault_info import HANDLER
from tests.rpc.corpus import call

VAULT = "DF9A5F32F553CB8E6E31D8963E90CD0253F366BF629DB174D9428099518AA8BA"
OSCAR = "rsndrqk7q6bxrGVVtm5fybXS1G4VJaCUJv"


class VaultInfoTests(SynchronousTestCase):
    def test_by_id_equals_by_owner(self) -> None:
        """The vault by id and by owner+seq is the same, with its shares issuance."""
        by_id = call(HANDLER, {"vault_id": VAULT})
        self.assertEqual(by_id, call(HANDLER, {"owner": OSCAR, "seq": 11}))
        self.assertEqual(by_id["vault"]["shares"]["LedgerEntryType"], "MPTokenIssuance")

    def test_malformed(self) -> None:
        """Both selectors, neither, bad id or seq: malformedRequest with code 31; a bad owner code 35."""
        for params in (
            {},
            {"vault_id": "zz"},
            {"vault_id": VAULT, "seq": 11},
            {"owner": OSCAR, "seq": -1},
            {"owner": OSCAR, "seq": 0},
            {"owner": OSCAR},
        ):
            out = call(HANDLER, {"ledger_index": 270, **params})
            self.assertEqual(
                (out["error"], out["error_code"], out["ledger_index"]),
                ("malformedRequest", 31, 270),
                params,
            )

        for owner in ("bad", True):
            out = call(HANDLER, {"ledger_index": 270, "owner": owner, "seq": 1})
            self.assertEqual(
                (out["error"], out["error_code"], out["error_message"], out["ledger_index"]),
                ("malformedRequest", 35, "Account malformed.", 270),
            )

    def test_not_found(self) -> None:
        """An absent vault is entryNotFound."""
        self.assertEqual(call(HANDLER, {"owner": OSCAR, "seq": 12})["error"], "entryNotFound")
