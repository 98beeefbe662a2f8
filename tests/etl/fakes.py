"""An in-memory rippled for ETL unit tests: answers the ETL's requests from a Chain of real ledgers."""

from __future__ import annotations

from typing import Any

from clio_twisted.etl.source import RippledError, SourceError
from clio_twisted.testing.chain import Chain

JsonDict = dict[str, Any]


class ChainSource:
    """A LedgerSource over ``chain``: holds ledgers first..``validated``; can drop or lie on demand."""

    def __init__(self, chain: Chain, name: str = "fake", validated: int | None = None) -> None:
        self.name = name
        self.chain = chain
        self.validated = validated if validated is not None else (chain.last or 0)
        self.up = True
        self.requests: list[JsonDict] = []
        self.fail_after: int | None = (
            None  # drop (SourceError) once this many more requests were answered
        )
        self.corrupt_objects = 0  # answer this many ledger_entry requests with a wrong blob

    @property
    def healthy(self) -> bool:
        return self.up

    def has_ledger(self, sequence: int) -> bool:
        first = self.chain.first
        return self.up and first is not None and first <= sequence <= self.validated

    async def request(self, cmd: JsonDict, timeout: float = 30.0) -> JsonDict:
        if not self.up:
            raise SourceError(f"{self.name} not connected")
        if self.fail_after is not None:
            if self.fail_after <= 0:
                self.up = False
                raise SourceError(f"{self.name}: connection closed")
            self.fail_after -= 1
        self.requests.append(cmd)
        seq = cmd.get("ledger_index")
        if not isinstance(seq, int) or not self.has_ledger(seq):
            raise RippledError("lgrNotFound", {"error": "lgrNotFound"})
        ledger = self.chain.ledger(seq)
        assert ledger is not None
        command = cmd["command"]
        if command == "ledger":
            return {
                "ledger": {
                    "closed": True,
                    "ledger_data": ledger.header.to_bytes().hex().upper(),
                    "transactions": [
                        {"tx_blob": tx.hex().upper(), "meta": meta.hex().upper()}
                        for _h, tx, meta in ledger.transactions
                    ],
                },
                "ledger_hash": ledger.hash.hex().upper(),
                "ledger_index": seq,
                "validated": True,
            }
        if command == "ledger_entry":
            key = bytes.fromhex(cmd["index"])
            blob = self.chain.object(key, seq)
            if blob is None:
                raise RippledError("entryNotFound", {"error": "entryNotFound"})
            if self.corrupt_objects > 0:
                self.corrupt_objects -= 1
                blob = blob[:-1] + bytes([blob[-1] ^ 1])
            return {"index": cmd["index"], "ledger_index": seq, "node_binary": blob.hex().upper()}
        if command == "ledger_data":
            marker = bytes.fromhex(cmd["marker"]) if "marker" in cmd else None
            found, nxt = self.chain.page(marker, seq, int(cmd.get("limit", 2048)))
            result: JsonDict = {
                "ledger_index": seq,
                "state": [{"index": k.hex().upper(), "data": b.hex().upper()} for k, b in found],
            }
            if nxt is not None:
                result["marker"] = nxt.hex().upper()
            return result
        raise RippledError("unknownCmd", {"error": "unknownCmd"})


def chain_upto(ledgers: list[Any], upto: int) -> Chain:
    chain = Chain()
    for ledger in ledgers:
        if ledger.sequence > upto:
            break
        chain.append(ledger)
    return chain
