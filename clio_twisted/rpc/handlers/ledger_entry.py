"""``ledger_entry``: one state object, named by its key or by what identifies it.

Exactly one selector (``Too many fields provided.`` otherwise), parsed as
rippled 3.1.1 parses it: most accept the object's 64-hex key instead of their
object form; errors are ``invalidParams`` (31) with rippled's own token per
field (``malformedAddress``, ``malformedSeq``...) and its message. Without a
selector, API v1 answers the bare ``unknownOption`` beside the ledger, v2
``No ledger_entry params provided.``. The object must exist
(``entryNotFound``) and be of the selector's type (``unexpectedLedgerType``).

Clio's ``include_deleted``: for an object deleted at or before the ledger,
answer its last version with ``deleted_ledger_index``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from attrs import frozen

from clio_twisted.protocol import keylets
from clio_twisted.protocol.addresses import AddressError, decode_address
from clio_twisted.protocol.render import render_ledger_entry
from clio_twisted.rpc.context import Context, Handler, JsonDict
from clio_twisted.rpc.entry_types import BY_NAME, blob_type_code
from clio_twisted.rpc.errors import RippledError, RPCError
from clio_twisted.rpc.ledger_spec import LedgerSpec, parse_ledger_spec, select_ledger
from clio_twisted.rpc.markers import as_bool

NAME = "ledger_entry"
_HEX = frozenset("0123456789abcdefABCDEF")
MAX_CREDENTIAL_TYPE = 64
MAX_CREDENTIALS = 8


def _error(token: str, message: str) -> RPCError:
    return RPCError(RippledError.invalidParams, message, token=token)


def _missing(field: str, token: str = "malformedRequest") -> RPCError:
    return _error(token, f"Missing field '{field}'.")


def _invalid(token: str, field: str, kind: str) -> RPCError:
    return _error(token, f"Invalid field '{field}', not {kind}.")


# -- scalar parsers (rippled's LedgerEntryHelpers) -----------------------------------------


def _hex(value: Any, size: int) -> bytes | None:
    if isinstance(value, str) and len(value) == 2 * size and _HEX.issuperset(value):
        return bytes.fromhex(value)
    return None


def _account(value: Any) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        account = decode_address(value)
    except AddressError:
        return None
    return None if account == bytes(20) else account


def _u32(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= 0xFFFFFFFF else None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        number = int(value)
        return number if number <= 0xFFFFFFFF else None
    return None


def _required(obj: dict[str, Any], field: str) -> Any:
    if field not in obj:
        raise _missing(field)
    return obj[field]


def _req_account(obj: dict[str, Any], field: str, token: str) -> bytes:
    account = _account(_required(obj, field))
    if account is None:
        raise _invalid(token, field, "AccountID")
    return account


def _req_u32(obj: dict[str, Any], field: str, token: str) -> int:
    number = _u32(_required(obj, field))
    if number is None:
        raise _invalid(token, field, "number")
    return number


def _req_blob(obj: dict[str, Any], field: str, max_length: int, token: str) -> bytes:
    value = _required(obj, field)
    blob = None
    if isinstance(value, str) and len(value) % 2 == 0 and _HEX.issuperset(value):
        blob = bytes.fromhex(value)
    if not blob or len(blob) > max_length:
        raise _invalid(token, field, "hex string")
    return blob


def _has_required(
    obj: dict[str, Any], fields: tuple[str, ...], token: str = "malformedRequest"
) -> None:
    for field in fields:
        if obj.get(field) is None:
            raise _missing(field, token)


def _index(value: Any, field: str, kind: str = "hex string") -> bytes:
    key = _hex(value, 32)
    if key is None:
        raise _invalid("malformedRequest", field, kind)
    return key


def _issue(value: Any) -> tuple[bytes, bytes]:
    """rippled's ``issueFromJson``: XRP without issuer, or currency and issuer; ValueError otherwise."""
    if not isinstance(value, dict) or not isinstance(value.get("currency"), str):
        raise ValueError("not an issue")
    code = value["currency"]
    if code == "XRP" or code == "0" * 40:
        if "issuer" in value and value["issuer"] is not None:
            raise ValueError("XRP with issuer")
        return keylets.XRP_CURRENCY, keylets.XRP_ISSUER
    try:
        currency = keylets.currency_code(code)
    except ValueError as e:
        raise ValueError("bad currency") from e
    issuer = _account(value.get("issuer"))
    if issuer is None or currency == keylets.XRP_CURRENCY:
        raise ValueError("bad issuer")
    return currency, issuer


# -- selectors ------------------------------------------------------------------------------

Parser = Callable[[Any, str, dict[str, Any]], bytes]


def _by_index(value: Any, field: str, params: dict[str, Any]) -> bytes:
    return _index(value, field)


def _object_or_index(build: Callable[[dict[str, Any]], bytes]) -> Parser:
    def parse(value: Any, field: str, params: dict[str, Any]) -> bytes:
        if isinstance(value, dict):
            return build(value)
        kind = "hex string" if isinstance(value, str) else "hex string or object"
        return _index(value, field, kind)

    return parse


def _account_root(value: Any, field: str, params: dict[str, Any]) -> bytes:
    account = _account(value)
    if account is None:
        raise _invalid("malformedAddress", field, "AccountID")
    return keylets.account(account)


def _did(value: Any, field: str, params: dict[str, Any]) -> bytes:
    account = _account(value)
    if account is None:
        raise _invalid("malformedAddress", field, "AccountID")
    return keylets.did(account)


def _mpt_issuance(value: Any, field: str, params: dict[str, Any]) -> bytes:
    issuance = _hex(value, 24)
    if issuance is None:
        raise _invalid("malformedMPTokenIssuance", field, "Hash192")
    return keylets.mpt_issuance(issuance)


def _amm(obj: dict[str, Any]) -> bytes:
    _has_required(obj, ("asset", "asset2"))
    try:
        return keylets.amm(_issue(obj["asset"]), _issue(obj["asset2"]))
    except ValueError:
        raise _error("malformedRequest", "") from None


def _credential(obj: dict[str, Any]) -> bytes:
    subject = _req_account(obj, "subject", "malformedRequest")
    issuer = _req_account(obj, "issuer", "malformedRequest")
    cred_type = _req_blob(obj, "credential_type", MAX_CREDENTIAL_TYPE, "malformedRequest")
    return keylets.credential(subject, issuer, cred_type)


def _deposit_preauth(obj: dict[str, Any]) -> bytes:
    if ("authorized" in obj) == ("authorized_credentials" in obj):
        raise _error(
            "malformedRequest",
            "Must have exactly one of `authorized` and `authorized_credentials`.",
        )
    owner = _req_account(obj, "owner", "malformedOwner")
    if "authorized" in obj:
        authorized = _account(obj["authorized"])
        if authorized is None:
            raise _invalid("malformedAuthorized", "authorized", "Account")
        return keylets.deposit_preauth(owner, authorized)
    token = "malformedAuthorizedCredentials"
    entries = obj["authorized_credentials"]
    if not isinstance(entries, list):
        raise _invalid(token, "authorized_credentials", "array")
    credentials = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise _invalid(token, "authorized_credentials", "array")
        _has_required(entry, ("issuer", "credential_type"), token)
        issuer = _req_account(entry, "issuer", token)
        credentials.append(
            (issuer, _req_blob(entry, "credential_type", MAX_CREDENTIAL_TYPE, token))
        )
    if (
        not credentials
        or len(credentials) > MAX_CREDENTIALS
        or len(set(credentials)) != len(credentials)
    ):
        raise _invalid(
            token,
            "authorized_credentials",
            "array" if len(set(credentials)) != len(credentials) else "Array",
        )
    return keylets.deposit_preauth_credentials(owner, credentials)


def _directory(obj: dict[str, Any]) -> bytes:
    sub_index = obj.get("sub_index", 0)
    if "sub_index" in obj and (
        isinstance(sub_index, bool) or not isinstance(sub_index, int) or sub_index < 0
    ):
        raise _invalid("malformedRequest", "sub_index", "integer")
    if ("owner" in obj) == ("dir_root" in obj):
        raise _error("malformedRequest", "Must have exactly one of `owner` and `dir_root` fields.")
    if "dir_root" in obj:
        root = _hex(obj["dir_root"], 32)
        if root is None:
            raise _invalid("malformedDirRoot", "dir_root", "hash")
        return keylets.page(root, sub_index)
    owner = _account(obj["owner"])
    if owner is None:
        raise _invalid("malformedAddress", "owner", "Account")
    return keylets.page(keylets.owner_dir(owner), sub_index)


def _owner_seq(
    key: Callable[[bytes, int], bytes],
    account_field: str,
    acct_token: str,
    seq_field: str,
    seq_token: str,
) -> Callable[[dict[str, Any]], bytes]:
    def build(obj: dict[str, Any]) -> bytes:
        account = _req_account(obj, account_field, acct_token)
        return key(account, _req_u32(obj, seq_field, seq_token))

    return build


def _mptoken(obj: dict[str, Any]) -> bytes:
    value = _required(obj, "mpt_issuance_id")
    issuance = _hex(value, 24)
    if issuance is None:
        raise _invalid("malformedMPTIssuanceID", "mpt_issuance_id", "Hash192")
    account = _req_account(obj, "account", "malformedAccount")
    return keylets.mptoken(issuance, account)


def _ripple_state(obj: dict[str, Any]) -> bytes:
    _has_required(obj, ("currency", "accounts"))
    accounts = obj["accounts"]
    if not isinstance(accounts, list) or len(accounts) != 2:
        raise _invalid("malformedRequest", "accounts", "length-2 array of Accounts")
    first, second = _account(accounts[0]), _account(accounts[1])
    if first is None or second is None:
        raise _invalid("malformedAddress", "accounts", "array of Accounts")
    if first == second:
        raise _error("malformedRequest", "Cannot have a trustline to self.")
    code = obj["currency"]
    try:
        if not isinstance(code, str) or code == "":
            raise ValueError(code)
        currency = keylets.currency_code(code)
    except (ValueError, UnicodeEncodeError):
        raise _invalid("malformedCurrency", "currency", "Currency") from None
    return keylets.line(first, second, currency)


def _delegate(obj: dict[str, Any]) -> bytes:
    account = _req_account(obj, "account", "malformedAddress")
    return keylets.delegate(account, _req_account(obj, "authorize", "malformedAddress"))


def _loan(obj: dict[str, Any]) -> bytes:
    broker = _hex(_required(obj, "loan_broker_id"), 32)
    if broker is None:
        raise _invalid("malformedLoanBrokerID", "loan_broker_id", "Hash256")
    return keylets.loan(broker, _req_u32(obj, "loan_seq", "malformedRequest"))


def _bridge_fields(
    obj: dict[str, Any],
) -> tuple[bytes, tuple[bytes, bytes], bytes, tuple[bytes, bytes]]:
    _has_required(
        obj, ("IssuingChainDoor", "LockingChainDoor", "IssuingChainIssue", "LockingChainIssue")
    )
    locking_door = _req_account(obj, "LockingChainDoor", "malformedLockingChainDoor")
    issuing_door = _req_account(obj, "IssuingChainDoor", "malformedIssuingChainDoor")
    issues = []
    for field in ("LockingChainIssue", "IssuingChainIssue"):
        try:
            issues.append(_issue(obj[field]))
        except ValueError:
            raise _invalid("malformedIssue", field, "Issue") from None
    return locking_door, issues[0], issuing_door, issues[1]


def _bridge(value: Any, field: str, params: dict[str, Any]) -> bytes:
    if isinstance(value, str):
        return _index(value, field)
    if not isinstance(value, dict):
        raise _missing("LockingChainDoor")
    locking_door, locking_issue, issuing_door, issuing_issue = _bridge_fields(value)
    account = _req_account(params, "bridge_account", "malformedBridgeAccount")
    if account == locking_door:
        return keylets.bridge(locking_door, locking_issue[0])
    if account == issuing_door:
        return keylets.bridge(issuing_door, issuing_issue[0])
    raise _error("malformedRequest", "")


def _claim_id(
    key: Callable[..., bytes], field: str, token: str
) -> Callable[[dict[str, Any]], bytes]:
    def build(obj: dict[str, Any]) -> bytes:
        locking_door, locking_issue, issuing_door, issuing_issue = _bridge_fields(obj)
        sequence = _req_u32(obj, field, token)
        return key(locking_door, locking_issue, issuing_door, issuing_issue, sequence)

    return build


def _permissioned_domain(value: Any, field: str, params: dict[str, Any]) -> bytes:
    if isinstance(value, str):
        return _index(value, field)
    if not isinstance(value, dict):
        raise _invalid("malformedRequest", field, "hex string or object")
    build = _owner_seq(
        keylets.permissioned_domain, "account", "malformedAddress", "seq", "malformedRequest"
    )
    return build(value)


@frozen
class Selector:
    field: str
    parse: Parser
    entry_type: str | None  # canonical LedgerEntryType the object must have; None for ``index``


def _s(field: str, parse: Parser, entry_type: str | None) -> Selector:
    return Selector(field, parse, entry_type)


# rippled's table: the RPC name of every ledger entry type, then index, account_root, ripple_state.
SELECTORS: tuple[Selector, ...] = (
    _s("nft_offer", _by_index, "NFTokenOffer"),
    _s("check", _by_index, "Check"),
    _s("did", _did, "DID"),
    _s("nunl", _by_index, "NegativeUNL"),
    _s("nft_page", _by_index, "NFTokenPage"),
    _s("signer_list", _by_index, "SignerList"),
    _s(
        "ticket",
        _object_or_index(
            _owner_seq(
                keylets.ticket, "account", "malformedAddress", "ticket_seq", "malformedRequest"
            )
        ),
        "Ticket",
    ),
    _s("account", _account_root, "AccountRoot"),
    _s("directory", _object_or_index(_directory), "DirectoryNode"),
    _s("amendments", _by_index, "Amendments"),
    _s("hashes", _by_index, "LedgerHashes"),
    _s("bridge", _bridge, "Bridge"),
    _s(
        "offer",
        _object_or_index(
            _owner_seq(keylets.offer, "account", "malformedAddress", "seq", "malformedRequest")
        ),
        "Offer",
    ),
    _s("deposit_preauth", _object_or_index(_deposit_preauth), "DepositPreauth"),
    _s(
        "xchain_owned_claim_id",
        _object_or_index(
            _claim_id(
                keylets.xchain_claim_id, "xchain_owned_claim_id", "malformedXChainOwnedClaimID"
            )
        ),
        "XChainOwnedClaimID",
    ),
    _s("state", _object_or_index(_ripple_state), "RippleState"),
    _s("fee", _by_index, "FeeSettings"),
    _s(
        "xchain_owned_create_account_claim_id",
        _object_or_index(
            _claim_id(
                keylets.xchain_create_account_claim_id,
                "xchain_owned_create_account_claim_id",
                "malformedXChainOwnedCreateAccountClaimID",
            )
        ),
        "XChainOwnedCreateAccountClaimID",
    ),
    _s(
        "escrow",
        _object_or_index(
            _owner_seq(keylets.escrow, "owner", "malformedOwner", "seq", "malformedSeq")
        ),
        "Escrow",
    ),
    _s("payment_channel", _by_index, "PayChannel"),
    _s("amm", _object_or_index(_amm), "AMM"),
    _s("mpt_issuance", _mpt_issuance, "MPTokenIssuance"),
    _s("mptoken", _object_or_index(_mptoken), "MPToken"),
    _s(
        "oracle",
        _object_or_index(
            _owner_seq(
                keylets.oracle,
                "account",
                "malformedAccount",
                "oracle_document_id",
                "malformedDocumentID",
            )
        ),
        "Oracle",
    ),
    _s("credential", _object_or_index(_credential), "Credential"),
    _s("permissioned_domain", _permissioned_domain, "PermissionedDomain"),
    _s("delegate", _object_or_index(_delegate), "Delegate"),
    _s(
        "vault",
        _object_or_index(
            _owner_seq(keylets.vault, "owner", "malformedOwner", "seq", "malformedRequest")
        ),
        "Vault",
    ),
    _s(
        "loan_broker",
        _object_or_index(
            _owner_seq(keylets.loan_broker, "owner", "malformedOwner", "seq", "malformedRequest")
        ),
        "LoanBroker",
    ),
    _s("loan", _object_or_index(_loan), "Loan"),
    _s("index", _by_index, None),
    _s("account_root", _account_root, "AccountRoot"),
    _s("ripple_state", _object_or_index(_ripple_state), "RippleState"),
)


@frozen
class Input:
    ledger: LedgerSpec
    key: bytes | None  # None: no selector given
    entry_type: str | None
    binary: bool
    include_deleted: bool


def parse(params: JsonDict, api_version: int) -> Input:
    present = [s for s in SELECTORS if s.field in params]
    if len(present) > 1:
        raise RPCError(RippledError.invalidParams, "Too many fields provided.")
    spec = parse_ledger_spec(params)
    binary = as_bool(params.get("binary", False))
    include_deleted = as_bool(params.get("include_deleted", False))
    if not present:
        if api_version > 1:
            raise RPCError(RippledError.invalidParams, "No ledger_entry params provided.")
        return Input(spec, None, None, binary, include_deleted)
    (selector,) = present
    key = selector.parse(params[selector.field], selector.field, params)
    return Input(spec, key, selector.entry_type, binary, include_deleted)


async def process(ctx: Context, inp: Input) -> JsonDict:
    header = await select_ledger(ctx, inp.ledger)
    ledger = {
        "ledger_hash": header.hash.hex().upper(),
        "ledger_index": header.sequence,
        "validated": True,
    }
    if inp.key is None:
        raise RPCError(
            RippledError.unknownOption, token="unknownOption", extra=ledger, with_code=False
        )
    if inp.key == bytes(32):
        raise RPCError(RippledError.entryNotFound)
    blob = await ctx.backend.fetch_ledger_object(inp.key, header.sequence)
    deleted_at = None
    if blob is None and inp.include_deleted:
        version = await ctx.backend.fetch_ledger_object_version(inp.key, header.sequence)
        if version is not None and not version.blob and version.sequence > 0:
            previous = await ctx.backend.fetch_ledger_object_version(inp.key, version.sequence - 1)
            if previous is not None and previous.blob:
                blob, deleted_at = previous.blob, version.sequence
    if blob is None:
        raise RPCError(RippledError.entryNotFound)
    if inp.entry_type is not None and blob_type_code(blob) != BY_NAME[inp.entry_type].code:
        raise RPCError(RippledError.unexpectedLedgerType)
    out: JsonDict = {"index": inp.key.hex().upper(), **ledger}
    if inp.binary:
        out["node_binary"] = blob.hex().upper()
    else:
        out["node"] = render_ledger_entry(blob, inp.key)
    if deleted_at is not None:
        out["deleted_ledger_index"] = deleted_at
    return out


HANDLER = Handler(NAME, parse, process)
