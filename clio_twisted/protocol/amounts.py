"""Amount values and currency codes, written and read exactly as rippled does.

IOU values are a 54-bit mantissa and an exponent; rippled prints them in plain
decimal when the exponent lies in [-25, -5] (or is 0) and otherwise as
``<mantissa>e<exponent>`` with the stored, unstripped mantissa (so one
quadrillion-th of a unit reads ``1000000000000000e-30``).  ``Number`` (the
STNumber type used by vaults and loans) follows the same rule.
Currency codes are three ASCII characters when the 160 bits are in the
standard form and the characters are allowed, else 40 hex digits.
"""

from __future__ import annotations

import re
import struct
from functools import lru_cache

# IOU amount layout: bit 63 "not XRP", bit 62 "positive", 8 bits exponent+97, 54 bits mantissa.
_NOT_XRP = 1 << 63
_POSITIVE = 1 << 62
MANTISSA_MASK = (1 << 54) - 1
MIN_MANTISSA = 10**15
MAX_MANTISSA = 10**16 - 1
MIN_EXPONENT = -96
MAX_EXPONENT = 80
_U64 = struct.Struct(">Q")

_ISO_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789<>(){}[]|?!@#$%^&*"
)
_ZERO12 = bytes(12)
_ZERO5 = bytes(5)
XRP_CURRENCY = bytes(20)
_DECIMAL = re.compile(r"^([-+]?)(\d*)(?:\.(\d*))?(?:[eE]([-+]?\d+))?$")


class AmountError(ValueError):
    """A value that cannot be an XRPL amount, number or currency code."""


def decimal_text(negative: bool, mantissa: int, exponent: int) -> str:
    """rippled's STAmount/Number text for mantissa * 10**exponent."""
    if mantissa == 0:
        return "0"
    sign = "-" if negative else ""
    if exponent != 0 and (exponent < -25 or exponent > -5):
        return f"{sign}{mantissa}e{exponent}"
    return _plain(negative, mantissa, exponent)


# rippled 3.1's Number: a 19-digit mantissa (range log 18).  A mantissa above
# 2**63 - 1 does not fit the signed 64-bit field, so it is written divided by ten.
NUMBER_MIN_MANTISSA = 10**18
NUMBER_MAX_MANTISSA = 10**19 - 1
_NUMBER_LOG = 18


def number_text(mantissa: int, exponent: int) -> str:
    """rippled's ``to_string(Number)`` of a serialized Number (mantissa, exponent).

    The mantissa is first brought to 19 digits as rippled does on reading;
    exponents outside [-28, -8] (other than 0) print as ``<mantissa>e<exp>``
    with the mantissa's trailing zeros removed, others in plain decimal.
    """
    if mantissa == 0:
        return "0"
    negative = mantissa < 0
    m = -mantissa if negative else mantissa
    while m < NUMBER_MIN_MANTISSA:
        m *= 10
        exponent -= 1
    if exponent != 0 and (exponent < -(_NUMBER_LOG + 10) or exponent > -(_NUMBER_LOG - 10)):
        while m % 10 == 0:
            m //= 10
            exponent += 1
        return f"{'-' if negative else ''}{m}e{exponent}"
    return _plain(negative, m, exponent)


def _plain(negative: bool, mantissa: int, exponent: int) -> str:
    """mantissa * 10**exponent in plain decimal, without trailing fractional zeros."""
    sign = "-" if negative else ""
    if exponent >= 0:
        return f"{sign}{mantissa * 10**exponent}"
    digits = str(mantissa)
    point = len(digits) + exponent
    if point > 0:
        whole, frac = digits[:point], digits[point:]
    else:
        whole, frac = "0", "0" * (-point) + digits
    frac = frac.rstrip("0")
    return f"{sign}{whole}.{frac}" if frac else f"{sign}{whole}"


@lru_cache(maxsize=16384)
def iou_value_text(raw: bytes) -> str:
    """The ``value`` string of the 8 amount bytes of an IOU amount."""
    (v,) = _U64.unpack(raw)
    mantissa = v & MANTISSA_MASK
    if mantissa == 0:
        return "0"
    exponent = ((v >> 54) & 0xFF) - 97
    return decimal_text(not v & _POSITIVE, mantissa, exponent)


def parse_decimal(text: str) -> tuple[bool, int, int]:
    """Split a decimal string (``"-1.5"``, ``"1e-81"``) into sign, integer mantissa and exponent."""
    if not isinstance(text, str):
        raise AmountError(f"amount value must be a string, not {type(text).__name__}")
    m = _DECIMAL.match(text)
    if m is None or not (m.group(2) or m.group(3)):
        raise AmountError(f"not a decimal number: {text!r}")
    sign, whole, frac, exp = m.groups()
    frac = frac or ""
    mantissa = int((whole or "") + frac or "0")
    exponent = int(exp or 0) - len(frac)
    return sign == "-", mantissa, exponent


def rescale(mantissa: int, exponent: int, low: int, high: int) -> tuple[int, int]:
    """Scale a non-negative mantissa into [low, high], truncating extra digits; zero is (0, 0).

    IOU amounts and rippled's Number differ only in the bounds.
    """
    if mantissa == 0:
        return 0, 0
    while mantissa < low:
        mantissa *= 10
        exponent -= 1
    while mantissa > high:
        mantissa //= 10
        exponent += 1
    return mantissa, exponent


def normalize(mantissa: int, exponent: int) -> tuple[int, int]:
    """Scale to a 16-digit mantissa as rippled's canonical form (truncating extra digits)."""
    return rescale(mantissa, exponent, MIN_MANTISSA, MAX_MANTISSA)


def iou_value_bytes(text: str) -> bytes:
    """The 8 amount bytes of an IOU ``value`` string."""
    negative, mantissa, exponent = parse_decimal(text)
    mantissa, exponent = normalize(mantissa, exponent)
    if mantissa == 0:
        return _U64.pack(_NOT_XRP)
    if exponent > MAX_EXPONENT:
        raise AmountError(f"IOU value too large: {text!r}")
    if exponent < MIN_EXPONENT:
        return _U64.pack(_NOT_XRP)  # rippled rounds tiny values to zero
    v = _NOT_XRP | ((exponent + 97) << 54) | mantissa
    if not negative:
        v |= _POSITIVE
    return _U64.pack(v)


@lru_cache(maxsize=4096)
def currency_text(raw: bytes) -> str:
    """rippled's ``to_string(Currency)``: ``XRP``, a three-letter code, or 40 hex digits."""
    if raw == XRP_CURRENCY:
        return "XRP"
    if raw[:12] == _ZERO12 and raw[15:] == _ZERO5:
        iso = raw[12:15].decode("latin-1")
        if iso != "XRP" and all(c in _ISO_CHARS for c in iso):
            return iso
    return raw.hex().upper()


@lru_cache(maxsize=4096)
def currency_bytes(text: str) -> bytes:
    """The 20 bytes of a currency code as written in JSON."""
    if not isinstance(text, str):
        raise AmountError("currency must be a string")
    if text == "XRP":
        return XRP_CURRENCY
    if len(text) == 3 and all(c in _ISO_CHARS for c in text):
        return _ZERO12 + text.encode("ascii") + _ZERO5
    if len(text) == 40:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    raise AmountError(f"bad currency code: {text!r}")
