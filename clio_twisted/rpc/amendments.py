"""The amendments this server knows, as rippled 3.1.1 lists them in ``feature``.

Generated once from rippled 3.1.1's own ``feature`` answer (recorded in the
team's fixtures): every amendment rippled registers as supported, including
the obsolete ones it will never vote for. rippled omits amendments it does
not support (Batch, PermissionDelegation...), so ``feature`` answers
``badFeature`` for them, as rippled does. An amendment's id is
SHA512Half(name).
"""

from __future__ import annotations

from functools import cache

from clio_twisted.protocol.hashing import sha512_half

# (name, supported, obsolete)
AMENDMENTS: tuple[tuple[str, bool, bool], ...] = (
    ("AMM", True, False),
    ("AMMClawback", True, False),
    ("CheckCashMakesTrustLine", True, False),
    ("Checks", True, False),
    ("Clawback", True, False),
    ("Credentials", True, False),
    ("CryptoConditions", True, True),
    ("CryptoConditionsSuite", True, True),
    ("DID", True, False),
    ("DeepFreeze", True, False),
    ("DeletableAccounts", True, False),
    ("DepositAuth", True, False),
    ("DepositPreauth", True, False),
    ("DisallowIncoming", True, False),
    ("DynamicNFT", True, False),
    ("EnforceInvariants", True, True),
    ("Escrow", True, True),
    ("ExpandedSignerList", True, False),
    ("FeeEscalation", True, True),
    ("Flow", True, False),
    ("FlowCross", True, True),
    ("FlowSortStrands", True, False),
    ("HardenedValidations", True, False),
    ("ImmediateOfferKilled", True, False),
    ("LendingProtocol", True, False),
    ("MPTokensV1", True, False),
    ("MultiSign", True, True),
    ("MultiSignReserve", True, False),
    ("NFTokenMintOffer", True, False),
    ("NegativeUNL", True, False),
    ("NonFungibleTokensV1", True, True),
    ("NonFungibleTokensV1_1", True, False),
    ("PayChan", True, True),
    ("PermissionedDEX", True, False),
    ("PermissionedDomains", True, False),
    ("PriceOracle", True, False),
    ("RequireFullyCanonicalSig", True, False),
    ("SingleAssetVault", True, False),
    ("SortedDirectories", True, True),
    ("TickSize", True, True),
    ("TicketBatch", True, False),
    ("TokenEscrow", True, False),
    ("TrustSetAuth", True, True),
    ("XChainBridge", True, False),
    ("XRPFees", True, False),
    ("fix1201", True, True),
    ("fix1368", True, True),
    ("fix1373", True, True),
    ("fix1512", True, True),
    ("fix1513", True, False),
    ("fix1515", True, False),
    ("fix1523", True, True),
    ("fix1528", True, True),
    ("fix1543", True, False),
    ("fix1571", True, False),
    ("fix1578", True, False),
    ("fix1623", True, False),
    ("fix1781", True, False),
    ("fixAMMClawbackRounding", True, False),
    ("fixAMMOverflowOffer", True, False),
    ("fixAMMv1_1", True, False),
    ("fixAMMv1_2", True, False),
    ("fixAMMv1_3", True, False),
    ("fixAmendmentMajorityCalc", True, False),
    ("fixCheckThreading", True, False),
    ("fixDirectoryLimit", True, False),
    ("fixDisallowIncomingV1", True, False),
    ("fixEmptyDID", True, False),
    ("fixEnforceNFTokenTrustline", True, False),
    ("fixEnforceNFTokenTrustlineV2", True, False),
    ("fixFillOrKill", True, False),
    ("fixFrozenLPTokenTransfer", True, False),
    ("fixIncludeKeyletFields", True, False),
    ("fixInnerObjTemplate", True, False),
    ("fixInnerObjTemplate2", True, False),
    ("fixInvalidTxFlags", True, False),
    ("fixMPTDeliveredAmount", True, False),
    ("fixMasterKeyAsRegularKey", True, False),
    ("fixNFTokenDirV1", True, True),
    ("fixNFTokenNegOffer", True, True),
    ("fixNFTokenPageLinks", True, False),
    ("fixNFTokenRemint", True, False),
    ("fixNFTokenReserve", True, False),
    ("fixNonFungibleTokensV1_2", True, False),
    ("fixPayChanCancelAfter", True, False),
    ("fixPayChanRecipientOwnerDir", True, False),
    ("fixPreviousTxnID", True, False),
    ("fixPriceOracleOrder", True, False),
    ("fixQualityUpperBound", True, False),
    ("fixReducedOffersV1", True, False),
    ("fixReducedOffersV2", True, False),
    ("fixRemoveNFTokenAutoTrustLine", True, False),
    ("fixRmSmallIncreasedQOffers", True, False),
    ("fixSTAmountCanonicalize", True, False),
    ("fixTakerDryOfferRemoval", True, False),
    ("fixTokenEscrowV1", True, False),
    ("fixTrustLinesToSelf", True, False),
    ("fixUniversalNumber", True, False),
    ("fixXChainRewardRounding", True, False),
)


def amendment_id(name: str) -> bytes:
    return sha512_half(name.encode("ascii"))


@cache
def by_id() -> dict[bytes, tuple[str, bool]]:
    """Amendment id -> (name, supported)."""
    return {amendment_id(name): (name, supported) for name, supported, _obsolete in AMENDMENTS}


@cache
def by_name() -> dict[str, bytes]:
    return {name: amendment_id(name) for name, _supported, _obsolete in AMENDMENTS}
