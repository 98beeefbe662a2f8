"""``ledger_entry``'s ways of naming an object, turned into its key as rippled does.

An object is named by ``index``, by a typed id (``check``, ``payment_channel``,
...: hex, and the object found must be of that type), by an account
(``account_root``, ``did``), or by the fields its key is made from
(``offer`` {account, seq}, ``ripple_state`` {accounts, currency}, ...).
Errors are rippled 3.1.1's, as recorded. AMM and cross-chain selectors are not
served by this double.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from clio_twisted.protocol import keylets
from clio_twisted.protocol.addresses import decode_address
from clio_twisted.testing._fake_errors import RpcError

_HEX64 = re.compile(r"^[0-9A-Fa-f]{64}$")
_HEX48 = re.compile(r"^[0-9A-Fa-f]{48}$")

# Selectors that take an object id (hex) and the type the object must have.
TYPED_IDS = {
    "index": None,
    "amendments": "Amendments",
    "check": "Check",
    "fee": "FeeSettings",
    "hashes": "LedgerHashes",
    "nft_offer": "NFTokenOffer",
    "nft_page": "NFTokenPage",
    "nunl": "NegativeUNL",
    "payment_channel": "PayChannel",
    "signer_list": "SignerList",
    "amm": "AMM",
    "bridge": "Bridge",
    "xchain_owned_claim_id": "XChainOwnedClaimID",
    "xchain_owned_create_account_claim_id": "XChainOwnedCreateAccountClaimID",
    "delegate": "Delegate",
}

# Selectors whose object form builds the key from fields, with their type.
OBJECT_FORMS: dict[str, str] = {
    "account_root": "AccountRoot",
    "account": "AccountRoot",
    "did": "DID",
    "offer": "Offer",
    "escrow": "Escrow",
    "ticket": "Ticket",
    "ripple_state": "RippleState",
    "state": "RippleState",
    "directory": "DirectoryNode",
    "oracle": "Oracle",
    "permissioned_domain": "PermissionedDomain",
    "vault": "Vault",
    "loan_broker": "LoanBroker",
    "credential": "Credential",
    "deposit_preauth": "DepositPreauth",
    "mptoken": "MPToken",
    "mpt_issuance": "MPTokenIssuance",
}

SELECTORS = frozenset(TYPED_IDS) | frozenset(OBJECT_FORMS)


def _malformed(message: str) -> RpcError:
    return RpcError("malformedRequest", 31, message)


def _missing(name: str) -> RpcError:
    return _malformed(f"Missing field '{name}'.")


def _account(value: Any, name: str, token: str = "malformedAddress") -> bytes:
    if isinstance(value, str):
        try:
            return decode_address(value)
        except ValueError:
            pass
    raise RpcError(token, 31, f"Invalid field '{name}', not AccountID.")


def _field(obj: Mapping[str, Any], name: str) -> Any:
    if name not in obj:
        raise _missing(name)
    return obj[name]


def _number(obj: Mapping[str, Any], name: str, token: str = "malformedSeq") -> int:
    value = _field(obj, name)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0xFFFFFFFF:
        raise RpcError(token, 31, f"Invalid field '{name}', not number.")
    return value


def _owner_seq(owner: str, seq: str, make: Callable[[bytes, int], bytes]) -> Callable[[Any], bytes]:
    def build(obj: Mapping[str, Any]) -> bytes:
        account = _account(_field(obj, owner), owner)
        return make(account, _number(obj, seq))

    return build


def _ripple_state(obj: Mapping[str, Any]) -> bytes:
    accounts = obj.get("accounts")
    if (
        not isinstance(accounts, list)
        or len(accounts) != 2
        or not all(isinstance(a, str) for a in accounts)
    ):
        raise _malformed("Invalid field 'accounts', not length-2 array of Accounts.")
    a, b = (_account(x, "accounts") for x in accounts)
    if a == b:
        raise _malformed("Cannot have a trustline to self.")
    currency = _field(obj, "currency")
    if not isinstance(currency, str):
        raise RpcError("malformedCurrency", 31, "Invalid field 'currency', not currency.")
    return keylets.line(a, b, keylets.currency_code(currency))


def _directory(obj: Mapping[str, Any]) -> bytes:
    if ("owner" in obj) == ("dir_root" in obj):
        raise _malformed("Must have exactly one of `owner` and `dir_root` fields.")
    sub_index = obj.get("sub_index", 0)
    if isinstance(sub_index, bool) or not isinstance(sub_index, int) or sub_index < 0:
        raise _malformed("Invalid field 'sub_index', not number.")
    if "owner" in obj:
        root = keylets.owner_dir(_account(obj["owner"], "owner"))
    else:
        root = _hex_id(obj["dir_root"], "dir_root")
    return keylets.page(root, sub_index)


def _credential(obj: Mapping[str, Any]) -> bytes:
    subject = _account(_field(obj, "subject"), "subject")
    issuer = _account(_field(obj, "issuer"), "issuer")
    kind = _field(obj, "credential_type")
    if not isinstance(kind, str) or not re.match(r"^([0-9A-Fa-f]{2})+$", kind):
        raise _malformed("Invalid field 'credential_type', not hex string.")
    return keylets.credential(subject, issuer, bytes.fromhex(kind))


def _deposit_preauth(obj: Mapping[str, Any]) -> bytes:
    owner = _account(_field(obj, "owner"), "owner")
    if ("authorized" in obj) == ("authorized_credentials" in obj):
        raise _malformed("Must have exactly one of `authorized` and `authorized_credentials`.")
    if "authorized" in obj:
        return keylets.deposit_preauth(owner, _account(obj["authorized"], "authorized"))
    credentials = obj["authorized_credentials"]
    if not isinstance(credentials, list) or not credentials:
        raise _malformed("Invalid field 'authorized_credentials', not array.")
    pairs = []
    for item in credentials:
        if not isinstance(item, dict):
            raise _malformed("Invalid field 'authorized_credentials', not array.")
        kind = _field(item, "credential_type")
        pairs.append((_account(_field(item, "issuer"), "issuer"), bytes.fromhex(kind)))
    return keylets.deposit_preauth_credentials(owner, pairs)


def _mptoken(obj: Mapping[str, Any]) -> bytes:
    issuance = _field(obj, "mpt_issuance_id")
    if not isinstance(issuance, str) or not _HEX48.match(issuance):
        raise _malformed("Invalid field 'mpt_issuance_id', not Hash192.")
    return keylets.mptoken(bytes.fromhex(issuance), _account(_field(obj, "account"), "account"))


_OBJECT_BUILDERS: dict[str, Callable[[Any], bytes]] = {
    "offer": _owner_seq("account", "seq", keylets.offer),
    "escrow": _owner_seq("owner", "seq", keylets.escrow),
    "ticket": _owner_seq("account", "ticket_seq", keylets.ticket),
    "permissioned_domain": _owner_seq("account", "seq", keylets.permissioned_domain),
    "vault": _owner_seq("owner", "seq", keylets.vault),
    "loan_broker": _owner_seq("owner", "seq", keylets.loan_broker),
    "ripple_state": _ripple_state,
    "state": _ripple_state,
    "directory": _directory,
    "credential": _credential,
    "deposit_preauth": _deposit_preauth,
    "mptoken": _mptoken,
}


def _oracle(obj: Mapping[str, Any]) -> bytes:
    account = _account(_field(obj, "account"), "account")
    return keylets.oracle(account, _number(obj, "oracle_document_id", "malformedDocumentID"))


_OBJECT_BUILDERS["oracle"] = _oracle


def _hex_id(value: Any, name: str) -> bytes:
    if not isinstance(value, str) or not _HEX64.match(value):
        raise _malformed(f"Invalid field '{name}', not hex string.")
    return bytes.fromhex(value)


def entry_key(params: Mapping[str, Any], api_version: int) -> tuple[bytes, str | None]:
    """The key a ledger_entry request names and the type its object must have."""
    chosen = [name for name in params if name in SELECTORS]
    if len(chosen) > 1:
        raise RpcError("invalidParams", 31, "Too many fields provided.")
    if not chosen:
        if api_version < 2:
            raise RpcError("unknownOption", None, None)
        raise RpcError("invalidParams", 31, "No ledger_entry params provided.")
    name = chosen[0]
    value = params[name]
    if name in ("account_root", "account"):
        return keylets.account(_account(value, name)), "AccountRoot"
    if name == "did":
        return keylets.did(_account(value, name)), "DID"
    if name == "mpt_issuance":
        if not isinstance(value, str) or not _HEX48.match(value):
            raise RpcError("malformedMPTokenIssuance", 31, f"Invalid field '{name}', not Hash192.")
        return keylets.mpt_issuance(bytes.fromhex(value)), "MPTokenIssuance"
    expected = TYPED_IDS.get(name, OBJECT_FORMS.get(name))
    if isinstance(value, str):
        return _hex_id(value, name), expected
    builder = _OBJECT_BUILDERS.get(name)
    if builder is None or not isinstance(value, dict):
        kind = "hex string or object" if builder is not None else "hex string"
        raise _malformed(f"Invalid field '{name}', not {kind}.")
    return builder(value), expected
