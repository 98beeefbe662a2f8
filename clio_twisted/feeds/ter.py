"""``engine_result_message`` of the results a validated transaction can carry (tes and tec).

Only ``tesSUCCESS`` and the ``tec`` claimed-fee results reach a validated
ledger, so only they appear in the transaction streams. The texts are
rippled's wire strings (its TER table); the numeric codes come from the
shipped definitions' ``TRANSACTION_RESULTS``.
"""

from __future__ import annotations

from clio_twisted.protocol.definitions import default_definitions

MESSAGES: dict[str, str] = {
    "tesSUCCESS": "The transaction was applied. Only final in a validated ledger.",
    "tecAMM_BALANCE": "AMM has invalid balance.",
    "tecAMM_INVALID_TOKENS": "AMM invalid LP tokens.",
    "tecAMM_FAILED": "AMM transaction failed.",
    "tecAMM_EMPTY": "AMM is in empty state.",
    "tecAMM_NOT_EMPTY": "AMM is not in empty state.",
    "tecAMM_ACCOUNT": "This operation is not allowed on an AMM Account.",
    "tecCLAIM": "Fee claimed. Sequence used. No action.",
    "tecDIR_FULL": "Can not add entry to full directory.",
    "tecFAILED_PROCESSING": "Failed to correctly process transaction.",
    "tecINSUF_RESERVE_LINE": "Insufficient reserve to add trust line.",
    "tecINSUF_RESERVE_OFFER": "Insufficient reserve to create offer.",
    "tecNO_DST": "Destination does not exist. Send XRP to create it.",
    "tecNO_DST_INSUF_XRP": "Destination does not exist. Too little XRP sent to create it.",
    "tecNO_LINE_INSUF_RESERVE": "No such line. Too little reserve to create it.",
    "tecNO_LINE_REDUNDANT": "Can't set non-existent line to default.",
    "tecPATH_DRY": "Path could not send partial amount.",
    "tecPATH_PARTIAL": "Path could not send full amount.",
    "tecNO_ALTERNATIVE_KEY": (
        "The operation would remove the ability to sign transactions with the account."
    ),
    "tecNO_REGULAR_KEY": "Regular key is not set.",
    "tecOVERSIZE": "Object exceeded serialization limits.",
    "tecUNFUNDED": "Not enough XRP to satisfy the reserve requirement.",
    "tecUNFUNDED_ADD": "DEPRECATED.",
    "tecUNFUNDED_AMM": "Insufficient balance to fund AMM.",
    "tecUNFUNDED_OFFER": "Insufficient balance to fund created offer.",
    "tecUNFUNDED_PAYMENT": "Insufficient XRP balance to send.",
    "tecOWNERS": "Non-zero owner count.",
    "tecNO_ISSUER": "Issuer account does not exist.",
    "tecNO_AUTH": "Not authorized to hold asset.",
    "tecNO_LINE": "No such line.",
    "tecINSUFF_FEE": "Insufficient balance to pay fee.",
    "tecFROZEN": "Asset is frozen.",
    "tecNO_TARGET": "Target account does not exist.",
    "tecNO_PERMISSION": "No permission to perform requested operation.",
    "tecNO_ENTRY": "No matching entry found.",
    "tecINSUFFICIENT_RESERVE": "Insufficient reserve to complete requested operation.",
    "tecNEED_MASTER_KEY": "The operation requires the use of the Master Key.",
    "tecDST_TAG_NEEDED": "A destination tag is required.",
    "tecINTERNAL": "An internal error has occurred during processing.",
    "tecCRYPTOCONDITION_ERROR": "Malformed, invalid, or mismatched conditional or fulfillment.",
    "tecINVARIANT_FAILED": "One or more invariants for the transaction were not satisfied.",
    "tecEXPIRED": "Expiration time is passed.",
    "tecDUPLICATE": "Ledger object already exists.",
    "tecKILLED": "No funds transferred and no offer created.",
    "tecHAS_OBLIGATIONS": "The account cannot be deleted since it has obligations.",
    "tecTOO_SOON": "It is too early to attempt the requested operation. Please wait.",
    "tecMAX_SEQUENCE_REACHED": "The maximum sequence number was reached.",
    "tecNO_SUITABLE_NFTOKEN_PAGE": "A suitable NFToken page could not be located.",
    "tecNFTOKEN_BUY_SELL_MISMATCH": "The 'Buy' and 'Sell' NFToken offers are mismatched.",
    "tecNFTOKEN_OFFER_TYPE_MISMATCH": "The type of NFToken offer is incorrect.",
    "tecCANT_ACCEPT_OWN_NFTOKEN_OFFER": "An NFToken offer cannot be claimed by its owner.",
    "tecINSUFFICIENT_FUNDS": "Not enough funds available to complete requested transaction.",
    "tecOBJECT_NOT_FOUND": "A requested object could not be located.",
    "tecINSUFFICIENT_PAYMENT": "The payment is not sufficient.",
    "tecINCOMPLETE": "Some work was completed, but more submissions required to finish.",
    "tecXCHAIN_BAD_TRANSFER_ISSUE": "Bad xchain transfer issue.",
    "tecXCHAIN_NO_CLAIM_ID": "No such xchain claim id.",
    "tecXCHAIN_BAD_CLAIM_ID": "Bad xchain claim id.",
    "tecXCHAIN_CLAIM_NO_QUORUM": "Quorum was not reached on the xchain claim.",
    "tecXCHAIN_PROOF_UNKNOWN_KEY": "Unknown key for the xchain proof.",
    "tecXCHAIN_CREATE_ACCOUNT_NONXRP_ISSUE": "Only XRP may be used for xchain create account.",
    "tecXCHAIN_WRONG_CHAIN": "XChain Transaction was submitted to the wrong chain.",
    "tecXCHAIN_REWARD_MISMATCH": (
        "The reward amount must match the reward specified in the xchain bridge."
    ),
    "tecXCHAIN_NO_SIGNERS_LIST": "The account did not have a signers list.",
    "tecXCHAIN_SENDING_ACCOUNT_MISMATCH": (
        "The sending account did not match the expected sending account."
    ),
    "tecXCHAIN_INSUFF_CREATE_AMOUNT": "Insufficient amount to create an account.",
    "tecXCHAIN_ACCOUNT_CREATE_PAST": "The account create count has already passed.",
    "tecXCHAIN_ACCOUNT_CREATE_TOO_MANY": (
        "There are too many pending account create transactions to submit a new one."
    ),
    "tecXCHAIN_PAYMENT_FAILED": "Failed to transfer funds in a xchain transaction.",
    "tecXCHAIN_SELF_COMMIT": "Account cannot commit funds to itself.",
    "tecXCHAIN_BAD_PUBLIC_KEY_ACCOUNT_PAIR": "Bad public key account pair in an xchain transaction.",
    "tecXCHAIN_CREATE_ACCOUNT_DISABLED": "This bridge does not support account creation.",
    "tecEMPTY_DID": "The DID object did not have a URI or DIDDocument field.",
    "tecINVALID_UPDATE_TIME": "The Oracle object has invalid LastUpdateTime field.",
    "tecTOKEN_PAIR_NOT_FOUND": "Token pair is not found in Oracle object.",
    "tecARRAY_EMPTY": "Array is empty.",
    "tecARRAY_TOO_LARGE": "Array is too large.",
    "tecLOCKED": "Fund is locked.",
    "tecBAD_CREDENTIALS": "Bad credentials.",
    "tecWRONG_ASSET": "Wrong asset given.",
    "tecLIMIT_EXCEEDED": "Limit exceeded.",
    "tecPSEUDO_ACCOUNT": "This operation is not allowed against a pseudo-account.",
    "tecPRECISION_LOSS": "The amounts used by the transaction cannot interact.",
}


def engine_result(token: str) -> tuple[int, str]:
    """(engine_result_code, engine_result_message) of a result token; unknown ones get an empty text."""
    code = default_definitions().transaction_results.get(token, 0)
    return code, MESSAGES.get(token, "")
