"""One error catalogue for the whole API: rippled's tokens, codes and messages, and Clio's own.

Handlers raise :class:`RPCError`; the dispatcher turns it into rippled's error
object once, at the edge (``to_json``), for HTTP and WebSocket alike.

The rippled rows were generated once from rippled's ``ErrorCodes.cpp`` table
(3.1.1; shipped to us as ``fixtures/error-codes/rippled-error-codes.json``),
the Clio rows from Clio's ``rpc/Errors.cpp``; a few newer rippled codes that
the table lacks but rippled 3.1.1 and Clio answer with are added by hand at
the end. Members are named by their wire token so handler code reads like the
recorded answers (``RippledError.lgrNotFound``).
"""

from __future__ import annotations

from enum import Enum
from typing import Any

JsonDict = dict[str, Any]


class RippledError(Enum):
    """Every error the API can answer with; value = (error_code, default message, rippled HTTP status)."""

    # -- rippled (ErrorCodes.cpp) -------------------------------------------------------------
    actMalformed = (35, "Account malformed.", None)
    actNotFound = (19, "Account not found.", None)
    alreadyMultisig = (36, "Already multisigned.", None)
    alreadySingleSig = (37, "Already single-signed.", None)
    amendmentBlocked = (14, "Amendment blocked, need upgrade.", 503)
    unlBlocked = (80, "Validator list expired.", 503)
    deprecated = (72, "Use the new API or specify a ledger range.", 400)
    badKeyType = (76, "Bad key type.", 400)
    badFeature = (40, "Feature unknown or invalid.", 500)
    badIssuer = (41, "Issuer account malformed.", 400)
    badMarket = (42, "No such market.", 404)
    badSecret = (43, "Secret does not match account.", 403)
    badSeed = (44, "Disallowed seed.", 403)
    badSyntax = (1, "Syntax error.", 400)
    channelMalformed = (45, "Payment channel is malformed.", 400)
    channelAmtMalformed = (46, "Payment channel amount is malformed.", 400)
    commandMissing = (47, "Missing command entry.", 400)
    dbDeserialization = (77, "Database deserialization error.", 502)
    dstActMalformed = (48, "Destination account is malformed.", 400)
    dstActMissing = (49, "Destination account not provided.", 400)
    dstActNotFound = (50, "Destination account not found.", 404)
    dstAmtMalformed = (51, "Destination amount/currency/issuer is malformed.", 400)
    dstAmtMissing = (52, "Destination amount/currency/issuer is missing.", 400)
    dstIsrMalformed = (53, "Destination issuer is malformed.", 400)
    excessiveLgrRange = (78, "Ledger range exceeds 1000.", 400)
    forbidden = (3, "Bad credentials.", 403)
    highFee = (11, "Current transaction fee exceeds your limit.", 402)
    internal = (73, "Internal error.", 500)
    invalidLgrRange = (79, "Ledger range is invalid.", 400)
    invalidParams = (31, "Invalid parameters.", 400)
    invalidHotWallet = (30, "Invalid hotwallet.", 400)
    issueMalformed = (93, "Issue is malformed.", 400)
    json_rpc = (2, "JSON-RPC transport error.", 500)
    lgrIdxsInvalid = (57, "Ledger indexes invalid.", 400)
    lgrIdxMalformed = (58, "Ledger index malformed.", 400)
    lgrNotFound = (21, "Ledger not found.", 404)
    lgrNotValidated = (22, "Ledger not validated.", 202)
    masterDisabled = (23, "Master key is disabled.", 403)
    notEnabled = (12, "Not enabled in configuration.", 501)
    notImpl = (74, "Not implemented.", 501)
    notReady = (13, "Not ready to handle this request.", 503)
    notSupported = (75, "Operation not supported.", 501)
    noClosed = (15, "Closed ledger is unavailable.", 503)
    noCurrent = (16, "Current ledger is unavailable.", 503)
    notSynced = (18, "Not synced to the network.", 503)
    noEvents = (7, "Current transport does not support events.", 405)
    noNetwork = (17, "Not synced to the network.", 503)
    noPermission = (6, "You don't have permission for this command.", 401)
    noPathRequest = (33, "No pathfinding request in progress.", 404)
    objectNotFound = (92, "The requested object was not found.", 404)
    publicMalformed = (62, "Public key is malformed.", 400)
    sendMaxMalformed = (64, "SendMax amount malformed.", 400)
    signingMalformed = (63, "Signing of transaction is malformed.", 400)
    slowDown = (10, "You are placing too much load on the server.", 429)
    srcActMalformed = (65, "Source account is malformed.", 400)
    srcActMissing = (66, "Source account not provided.", 400)
    srcActNotFound = (67, "Source account not found.", 404)
    srcCurMalformed = (69, "Source currency is malformed.", 400)
    srcIsrMalformed = (70, "Source issuer is malformed.", 400)
    malformedStream = (71, "Stream malformed.", 400)
    tooBusy = (9, "The server is too busy to help you now.", 503)
    txnNotFound = (29, "Transaction not found.", 404)
    unknownCmd = (32, "Unknown method.", 405)
    oracleMalformed = (94, "Oracle request is malformed.", 400)
    badCredentials = (95, "Credentials do not exist, are not accepted, or have expired.", 400)
    # -- rippled codes newer than the table above ---------------------------------------------
    wrongNetwork = (4, "Wrong network.", 400)
    domainMalformed = (97, "Unable to parse domain.", 400)
    entryNotFound = (98, "Entry not found.", 400)
    unexpectedLedgerType = (99, "Unexpected ledger type.", 400)

    # -- Clio (rpc/Errors.cpp); 5004 invalidHotWallet is answered with rippled's 30 -----------
    malformedCurrency = (5000, "Malformed currency.", None)
    malformedRequest = (5001, "Malformed request.", None)
    malformedOwner = (5002, "Malformed owner.", None)
    malformedAddress = (5003, "Malformed address.", None)
    unknownOption = (5005, "Unknown option.", None)
    fieldNotFoundTransaction = (5006, "Missing field.", None)
    malformedDocumentID = (5007, "Malformed oracle_document_id.", None)
    malformedAuthorizedCredentials = (5008, "Malformed authorized credentials.", None)
    invalid_API_version = (6000, "Invalid API version.", None)
    missingCommand = (6001, "Method is not specified or is not a string.", None)
    commandNotString = (6002, "Method is not a string.", None)
    emptyCommand = (6003, "Method is an empty string.", None)
    paramsUnparsable = (6004, "Params must be an array holding exactly one object.", None)
    connectionError = (7000, "Couldn't connect to rippled.", None)
    requestError = (7001, "Error sending request to rippled.", None)
    timeout = (7002, "Request to rippled timed out.", None)
    invalidResponse = (7003, "Rippled returned an invalid response.", None)

    @property
    def token(self) -> str:
        """The ``error`` string on the wire."""
        return self.name

    @property
    def code(self) -> int:
        """The ``error_code`` number on the wire."""
        return int(self.value[0])

    @property
    def message(self) -> str:
        """The default ``error_message``."""
        return str(self.value[1])

    @property
    def http_status(self) -> int | None:
        """rippled's own HTTP status for this error (Clio answers handler errors with 200)."""
        status = self.value[2]
        return None if status is None else int(status)


class WarningCode(Enum):
    """Warnings Clio adds to responses; value = (id, message)."""

    CLIO = (
        2001,
        "This is a clio server. clio only serves validated data. If you want to talk to rippled, "
        "include 'ledger_index':'current' in your request",
    )
    OUTDATED = (2002, "This server may be out of date")
    RATE_LIMIT = (2003, "You are about to be rate limited")
    DEPRECATED = (
        2004,
        "Some fields from your request are deprecated. Please check the documentation at "
        "https://xrpl.org/docs/references/http-websocket-apis/ and update your request.",
    )

    def to_json(self) -> JsonDict:
        return {"id": self.value[0], "message": self.value[1]}


class RPCError(Exception):
    """An error answer, raised anywhere below the dispatcher.

    Args:
        error: the catalogue entry.
        message: replaces the catalogue's ``error_message`` (rippled and Clio
            often put a detail such as ``"ledgerNotFound"`` there).
        extra: more top-level fields for the error object (e.g. ``searched_all``).
        token: replaces the ``error`` token while keeping the code (Clio's
            ``transactionNotFound`` with code 29, for instance).
        with_code: False for the errors Clio builds from a bare string, which
            carry only ``error``, ``status`` and ``type`` (no code, no message).
    """

    def __init__(
        self,
        error: RippledError,
        message: str | None = None,
        *,
        extra: JsonDict | None = None,
        token: str | None = None,
        with_code: bool = True,
    ) -> None:
        self.error = error
        self.message = error.message if message is None else message
        self.extra = dict(extra or {})
        self.token = error.token if token is None else token
        self.with_code = with_code
        super().__init__(f"{self.token}: {self.message}")

    def to_json(self) -> JsonDict:
        """The error object, fields in Clio's order (request echo and warnings are added by the caller)."""
        if self.with_code:
            out: JsonDict = {
                "error": self.token,
                "error_code": self.error.code,
                "error_message": self.message,
                "status": "error",
                "type": "response",
            }
        else:
            out = {"error": self.token, "status": "error", "type": "response"}
        out.update(self.extra)
        return out


def invalid_params(message: str) -> RPCError:
    """``invalidParams`` with rippled's detail message (e.g. ``"Missing field 'account'."``)."""
    return RPCError(RippledError.invalidParams, message)


def missing_field(name: str) -> RPCError:
    """rippled's ``Missing field 'x'.``"""
    return RPCError(RippledError.invalidParams, f"Missing field '{name}'.")


def invalid_field(name: str, detail: str | None = None) -> RPCError:
    """rippled's ``Invalid field 'x'.`` or ``Invalid field 'x', not string.``"""
    suffix = f", {detail}" if detail else ""
    return RPCError(RippledError.invalidParams, f"Invalid field '{name}'{suffix}.")
