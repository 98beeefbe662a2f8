"""``deposit_authorized``: could the source account pay the destination now (DepositAuth, preauth, credentials)?

As rippled: both accounts are checked (present, string, address) before the
ledger; a missing source or destination account in the ledger is
``srcActNotFound``/``dstActNotFound`` with the ledger's fields. ``credentials``
(1 to 8 credential ids) must each exist, be accepted, be unexpired at the
ledger's parent close time, belong to the source and not repeat an
(issuer, type) pair (``badCredentials`` with rippled's message otherwise). A
deposit is authorized when the destination does not require it, pays itself,
preauthorized the source, or preauthorized that exact set of credentials.
"""

from __future__ import annotations

from typing import Any

from attrs import frozen

from clio_twisted.protocol import keylets
from clio_twisted.protocol.addresses import decode_address
from clio_twisted.protocol.codec import decode
from clio_twisted.rpc.account_params import ledger_fields, parse_account
from clio_twisted.rpc.context import Context, Handler, JsonDict
from clio_twisted.rpc.errors import RippledError, RPCError, invalid_params, missing_field
from clio_twisted.rpc.ledger_spec import LedgerSpec, parse_ledger_spec, select_ledger

NAME = "deposit_authorized"
DEPOSIT_AUTH = 0x01000000
ACCEPTED = 0x00010000
MAX_CREDENTIALS = 8
_HEX = frozenset("0123456789abcdefABCDEF")
_NOT_HASHES = "Invalid field 'credentials', not an array of CredentialID(hash256)."


@frozen
class Input:
    source: bytes
    source_text: str
    destination: bytes
    destination_text: str
    ledger: LedgerSpec
    credentials: Any  # the raw field, validated after the accounts are found
    has_credentials: bool


def _account(params: JsonDict, name: str) -> tuple[bytes, str]:
    if name not in params:
        raise missing_field(name)
    value = params[name]
    if not isinstance(value, str):
        raise invalid_params(f"Invalid field '{name}', not a string.")
    account = parse_account(value)
    if account is None:
        raise RPCError(RippledError.actMalformed)
    return account, value


def parse(params: JsonDict, api_version: int) -> Input:
    source, source_text = _account(params, "source_account")
    destination, destination_text = _account(params, "destination_account")
    return Input(
        source,
        source_text,
        destination,
        destination_text,
        parse_ledger_spec(params),
        params.get("credentials"),
        "credentials" in params,
    )


async def _credential_set(
    ctx: Context, inp: Input, header: Any, fields: JsonDict
) -> set[tuple[bytes, bytes]]:
    creds = inp.credentials
    if not isinstance(creds, list) or not creds:
        raise invalid_params(
            "Invalid field 'credentials', not is non-empty array of CredentialID(hash256)."
        )
    if len(creds) > MAX_CREDENTIALS:
        raise invalid_params("Invalid field 'credentials', not array too long.")

    def bad(message: str) -> RPCError:
        return RPCError(RippledError.badCredentials, message, extra=fields)

    pairs: set[tuple[bytes, bytes]] = set()
    for item in creds:
        if not isinstance(item, str) or not 0 < len(item) <= 64 or not _HEX.issuperset(item):
            raise invalid_params(_NOT_HASHES)
        key = int(item, 16).to_bytes(32, "big")
        blob = await ctx.backend.fetch_ledger_object(key, header.sequence)
        cred = decode(blob) if blob is not None else None
        if cred is None or cred.get("LedgerEntryType") != "Credential":
            raise bad("credentials don't exist")
        if not int(cred.get("Flags", 0)) & ACCEPTED:
            raise bad("credentials aren't accepted")
        if "Expiration" in cred and int(cred["Expiration"]) <= header.parent_close_time:
            raise bad("credentials are expired")
        if decode_address(cred["Subject"]) != inp.source:
            raise bad("credentials doesn't belong to the root account")
        pair = (decode_address(cred["Issuer"]), bytes.fromhex(cred["CredentialType"]))
        if pair in pairs:
            raise bad("duplicates in credentials")
        pairs.add(pair)
    return pairs


async def process(ctx: Context, inp: Input) -> JsonDict:
    header = await select_ledger(ctx, inp.ledger)
    fields = ledger_fields(header)
    seq = header.sequence
    backend = ctx.backend
    if await backend.fetch_ledger_object(keylets.account(inp.source), seq) is None:
        raise RPCError(RippledError.srcActNotFound, extra=fields)
    dest_blob = await backend.fetch_ledger_object(keylets.account(inp.destination), seq)
    if dest_blob is None:
        raise RPCError(RippledError.dstActNotFound, extra=fields)
    required = (
        bool(int(decode(dest_blob).get("Flags", 0)) & DEPOSIT_AUTH)
        and inp.source != inp.destination
    )
    pairs = await _credential_set(ctx, inp, header, fields) if inp.has_credentials else set()
    authorized = True
    if required:
        preauth = keylets.deposit_preauth(inp.destination, inp.source)
        authorized = await backend.fetch_ledger_object(preauth, seq) is not None
        if not authorized and inp.has_credentials:
            by_creds = keylets.deposit_preauth_credentials(inp.destination, pairs)
            authorized = await backend.fetch_ledger_object(by_creds, seq) is not None
    out: JsonDict = {
        **fields,
        "source_account": inp.source_text,
        "destination_account": inp.destination_text,
        "deposit_authorized": authorized,
    }
    if inp.has_credentials:
        out["credentials"] = inp.credentials
    return out


HANDLER = Handler(NAME, parse, process)
