"""The XRPL binary codec, whose JSON is rippled's own.

``decode`` turns a serialized STObject (transaction, metadata, ledger entry)
into the JSON rippled shows for it (no API-added fields such as ``hash`` or
``DeliverMax``; see ``render.py``), and ``encode`` turns that JSON back into
the canonical bytes.  Keys come out in canonical binary order; rippled prints
object keys sorted, so serialise with ``orjson.OPT_SORT_KEYS`` where byte
equality with rippled's text matters.

Speed comes from tables built once per definitions file: a 256-entry list
maps each one-byte field header straight to ``(name, decoder)``, every
decoder is a small closure over precompiled ``struct`` objects, and hot
leaves (addresses, currency codes, IOU values) are cached.  Any malformed
input (truncation, unknown field or type, bad length prefix, bad nesting)
raises ``CodecError`` and nothing else.

Rules where rippled's JSON differs from xrpl-py's are listed in docs/codec.md.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from typing import Any

from clio_twisted.protocol.addresses import AddressError, decode_address, encode_account_id
from clio_twisted.protocol.amounts import (
    NUMBER_MIN_MANTISSA,
    AmountError,
    currency_bytes,
    currency_text,
    iou_value_bytes,
    iou_value_text,
    number_text,
    parse_decimal,
    rescale,
)
from clio_twisted.protocol.definitions import (
    BASE_TEN_UINT64,
    Definitions,
    FieldDef,
    default_definitions,
)

__all__ = [
    "CodecError",
    "Codec",
    "decode",
    "decode_hex",
    "encode",
    "encode_hex",
    "ledger_entry_type",
    "transaction_type",
    "default_codec",
]

_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")
_I32 = struct.Struct(">i")
_I64 = struct.Struct(">q")
_NUMBER = struct.Struct(">qi")
_U8 = struct.Struct(">B")

_OBJECT_END = 0xE1
_ARRAY_END = 0xF1
_MAX_DEPTH = 32
_NO_ACCOUNT = b"\x00" * 19 + b"\x01"
_XRP = bytes(20)
_XRP_MASK = (1 << 62) - 1

Decoder = Callable[[bytes, int], tuple[Any, int]]
Encoder = Callable[[Any], bytes]


class CodecError(ValueError):
    """Bytes or JSON that are not a well-formed XRPL serialized object."""


def _vl_length(data: bytes, pos: int) -> tuple[int, int]:
    b0 = data[pos]
    if b0 <= 192:
        return b0, pos + 1
    if b0 <= 240:
        return 193 + ((b0 - 193) << 8) + data[pos + 1], pos + 2
    if b0 <= 254:
        return 12481 + ((b0 - 241) << 16) + (data[pos + 1] << 8) + data[pos + 2], pos + 3
    raise CodecError("bad length prefix 0xFF")


def vl_prefix(n: int) -> bytes:
    """The variable-length prefix rippled writes before a blob of n bytes."""
    if n <= 192:
        return bytes((n,))
    if n <= 12480:
        n -= 193
        return bytes((193 + (n >> 8), n & 0xFF))
    if n <= 918744:
        n -= 12481
        return bytes((241 + (n >> 16), (n >> 8) & 0xFF, n & 0xFF))
    raise CodecError(f"blob too long: {n} bytes")


def _take(data: bytes, pos: int, n: int) -> bytes:
    end = pos + n
    if end > len(data):
        raise CodecError("truncated")
    return data[pos:end]


def _hex_bytes(value: Any, size: int | None = None) -> bytes:
    if not isinstance(value, str):
        raise CodecError(f"expected a hex string, got {type(value).__name__}")
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise CodecError(f"bad hex: {value[:80]!r}") from None
    if size is not None and len(raw) != size:
        raise CodecError(f"expected {size} bytes of hex, got {len(raw)}")
    return raw


def _account_bytes(value: Any) -> bytes:
    try:
        return decode_address(value)
    except (AddressError, TypeError):
        raise CodecError(f"bad account: {value!r}") from None


# ---------------------------------------------------------------------------
# Leaf decoders (bytes, pos) -> (json, pos)


def _dec_u8(data: bytes, pos: int) -> tuple[Any, int]:
    return data[pos], pos + 1


def _dec_u16(data: bytes, pos: int) -> tuple[Any, int]:
    return _U16.unpack_from(data, pos)[0], pos + 2


def _dec_u32(data: bytes, pos: int) -> tuple[Any, int]:
    return _U32.unpack_from(data, pos)[0], pos + 4


def _dec_i32(data: bytes, pos: int) -> tuple[Any, int]:
    return _I32.unpack_from(data, pos)[0], pos + 4


def _dec_i64(data: bytes, pos: int) -> tuple[Any, int]:
    return str(_I64.unpack_from(data, pos)[0]), pos + 8


def _dec_u64_hex(data: bytes, pos: int) -> tuple[Any, int]:
    # rippled: lower-case hex without leading zeros ("0", "2e9").
    return format(_U64.unpack_from(data, pos)[0], "x"), pos + 8


def _dec_u64_dec(data: bytes, pos: int) -> tuple[Any, int]:
    return str(_U64.unpack_from(data, pos)[0]), pos + 8


def _make_hash_decoder(size: int) -> Decoder:
    layout = struct.Struct(f"{size}s")

    def dec(data: bytes, pos: int) -> tuple[Any, int]:
        return layout.unpack_from(data, pos)[0].hex().upper(), pos + size

    return dec


def _dec_blob(data: bytes, pos: int) -> tuple[Any, int]:
    n, pos = _vl_length(data, pos)
    end = pos + n
    if end > len(data):
        raise CodecError("blob runs past the end")
    return data[pos:end].hex().upper(), end


def _dec_account(data: bytes, pos: int) -> tuple[Any, int]:
    n = data[pos]
    if n != 20:
        if n == 0:
            return "", pos + 1
        raise CodecError(f"account length {n}, not 20")
    end = pos + 21
    if end > len(data):
        raise CodecError("truncated account")
    return encode_account_id(data[pos + 1 : end]), end


def _dec_amount(data: bytes, pos: int) -> tuple[Any, int]:
    b0 = data[pos]
    if b0 & 0x80:
        end = pos + 48
        if end > len(data):
            raise CodecError("truncated IOU amount")
        return {
            "currency": currency_text(data[pos + 8 : pos + 28]),
            "issuer": encode_account_id(data[pos + 28 : end]),
            "value": iou_value_text(data[pos : pos + 8]),
        }, end
    if b0 & 0x20:
        end = pos + 33
        if end > len(data):
            raise CodecError("truncated MPT amount")
        v = _U64.unpack_from(data, pos + 1)[0]
        return {
            "mpt_issuance_id": data[pos + 9 : end].hex().upper(),
            "value": str(v) if b0 & 0x40 or not v else f"-{v}",
        }, end
    v = _U64.unpack_from(data, pos)[0]
    drops = v & _XRP_MASK
    return (str(drops) if b0 & 0x40 or not drops else f"-{drops}"), pos + 8


def _dec_number(data: bytes, pos: int) -> tuple[Any, int]:
    mantissa, exponent = _NUMBER.unpack_from(data, pos)
    return number_text(mantissa, exponent), pos + 12


def _dec_vector256(data: bytes, pos: int) -> tuple[Any, int]:
    n, pos = _vl_length(data, pos)
    end = pos + n
    if n % 32 or end > len(data):
        raise CodecError("bad Vector256 length")
    h = data[pos:end].hex().upper()
    return [h[i : i + 64] for i in range(0, len(h), 64)], end


def _dec_currency(data: bytes, pos: int) -> tuple[Any, int]:
    return currency_text(_take(data, pos, 20)), pos + 20


def _dec_issue(data: bytes, pos: int) -> tuple[Any, int]:
    first = _take(data, pos, 20)
    if first == _XRP:
        return {"currency": "XRP"}, pos + 20
    second = _take(data, pos + 20, 20)
    if second == _NO_ACCOUNT:
        # rippled writes the issuance's sequence little-endian here (a memcpy
        # of the id's big-endian bytes into a host integer, then add32).
        seq = _take(data, pos + 40, 4)[::-1]
        return {"mpt_issuance_id": (seq + first).hex().upper()}, pos + 44
    return {"currency": currency_text(first), "issuer": encode_account_id(second)}, pos + 40


def _dec_bridge(data: bytes, pos: int) -> tuple[Any, int]:
    locking_door, pos = _dec_account(data, pos)
    locking_issue, pos = _dec_issue(data, pos)
    issuing_door, pos = _dec_account(data, pos)
    issuing_issue, pos = _dec_issue(data, pos)
    return {
        "IssuingChainDoor": issuing_door,
        "IssuingChainIssue": issuing_issue,
        "LockingChainDoor": locking_door,
        "LockingChainIssue": locking_issue,
    }, pos


_PATH_ACCOUNT = 0x01
_PATH_CURRENCY = 0x10
_PATH_ISSUER = 0x20
_PATH_MPT = 0x40
_PATH_BOUNDARY = 0xFF
_PATH_END = 0x00


def _dec_pathset(data: bytes, pos: int) -> tuple[Any, int]:
    paths: list[list[dict[str, Any]]] = []
    path: list[dict[str, Any]] = []
    while True:
        kind = data[pos]
        pos += 1
        if kind == _PATH_END or kind == _PATH_BOUNDARY:
            if not path:
                raise CodecError("empty path in path set")
            paths.append(path)
            if kind == _PATH_END:
                return paths, pos
            path = []
            continue
        if kind & ~(_PATH_ACCOUNT | _PATH_CURRENCY | _PATH_ISSUER | _PATH_MPT) or (
            kind & _PATH_CURRENCY and kind & _PATH_MPT
        ):
            raise CodecError(f"bad path element type {kind}")
        elem: dict[str, Any] = {"type": kind}
        if kind & _PATH_ACCOUNT:
            elem["account"] = encode_account_id(_take(data, pos, 20))
            pos += 20
        if kind & _PATH_MPT:
            elem["mpt_issuance_id"] = _take(data, pos, 24).hex().upper()
            pos += 24
        if kind & _PATH_CURRENCY:
            elem["currency"] = currency_text(_take(data, pos, 20))
            pos += 20
        if kind & _PATH_ISSUER:
            elem["issuer"] = encode_account_id(_take(data, pos, 20))
            pos += 20
        path.append(elem)


# ---------------------------------------------------------------------------
# Leaf encoders json -> bytes


def _int_encoder(layout: struct.Struct, names: Mapping[str, int] | None = None) -> Encoder:
    def enc(value: Any) -> bytes:
        if isinstance(value, str) and names is not None:
            try:
                value = names[value]
            except KeyError:
                raise CodecError(f"unknown name {value!r}") from None
        if not isinstance(value, int) or isinstance(value, bool):
            raise CodecError(f"expected an integer, got {value!r}")
        try:
            return layout.pack(value)
        except struct.error:
            raise CodecError(f"integer out of range: {value}") from None

    return enc


def _u64_encoder(base_ten: bool) -> Encoder:
    def enc(value: Any) -> bytes:
        try:
            if isinstance(value, int) and not isinstance(value, bool):
                n = value
            elif isinstance(value, str) and value:
                n = int(value, 10 if base_ten else 16)
            else:
                raise ValueError(value)
            return _U64.pack(n)
        except (ValueError, struct.error):
            raise CodecError(f"bad UInt64 value {value!r}") from None

    return enc


def _hash_encoder(size: int) -> Encoder:
    def enc(value: Any) -> bytes:
        return _hex_bytes(value, size)

    return enc


def _enc_blob(value: Any) -> bytes:
    raw = _hex_bytes(value)
    return vl_prefix(len(raw)) + raw


def _enc_account(value: Any) -> bytes:
    if value == "":
        return b"\x00"
    return b"\x14" + _account_bytes(value)


def _enc_amount(value: Any) -> bytes:
    try:
        if isinstance(value, str):
            negative = value.startswith("-")
            digits = value[1:] if negative else value
            if not digits.isdigit():
                raise CodecError(f"bad XRP amount {value!r}")
            drops = int(digits)
            if drops > _XRP_MASK:
                raise CodecError(f"XRP amount too large {value!r}")
            return _U64.pack(drops | (0 if negative and drops else 1 << 62))
        if not isinstance(value, Mapping):
            raise CodecError(f"bad amount {value!r}")
        if "mpt_issuance_id" in value:
            negative, mantissa, exponent = parse_decimal(value["value"])
            if exponent < 0 or mantissa * 10**exponent > 0x7FFFFFFFFFFFFFFF:
                raise CodecError(f"bad MPT amount {value!r}")
            n = mantissa * 10**exponent
            flag = 0x20 if negative and n else 0x60
            return bytes((flag,)) + _U64.pack(n) + _hex_bytes(value["mpt_issuance_id"], 24)
        return (
            iou_value_bytes(value["value"])
            + currency_bytes(value["currency"])
            + _account_bytes(value["issuer"])
        )
    except (AmountError, KeyError, TypeError) as e:
        raise CodecError(f"bad amount {value!r}: {e}") from None


def _enc_number(value: Any) -> bytes:
    try:
        negative, mantissa, exponent = parse_decimal(str(value))
    except AmountError as e:
        raise CodecError(str(e)) from None
    mantissa, exponent = _normalize_number(mantissa, exponent)
    if mantissa == 0:
        return _NUMBER.pack(0, -(2**31))
    return _NUMBER.pack(-mantissa if negative else mantissa, exponent)


# rippled 3.1's Number keeps a 19-digit mantissa; one above 2**63 - 1 is
# serialized divided by ten (18 digits), see amounts.number_text.
_NUMBER_MAX = 2**63 - 1


def _normalize_number(mantissa: int, exponent: int) -> tuple[int, int]:
    return rescale(mantissa, exponent, NUMBER_MIN_MANTISSA, _NUMBER_MAX)


def _enc_vector256(value: Any) -> bytes:
    if not isinstance(value, list):
        raise CodecError("Vector256 must be a list")
    raw = b"".join(_hex_bytes(h, 32) for h in value)
    return vl_prefix(len(raw)) + raw


def _enc_currency(value: Any) -> bytes:
    try:
        return currency_bytes(value)
    except AmountError as e:
        raise CodecError(str(e)) from None


def _enc_issue(value: Any) -> bytes:
    if not isinstance(value, Mapping):
        raise CodecError(f"bad issue {value!r}")
    if "mpt_issuance_id" in value:
        raw = _hex_bytes(value["mpt_issuance_id"], 24)
        return raw[4:] + _NO_ACCOUNT + raw[3::-1]
    cur = _enc_currency(value.get("currency"))
    if cur == _XRP:
        return cur
    return cur + _account_bytes(value.get("issuer"))


def _enc_bridge(value: Any) -> bytes:
    if not isinstance(value, Mapping):
        raise CodecError("bad XChainBridge")
    try:
        return (
            _enc_account(value["LockingChainDoor"])
            + _enc_issue(value["LockingChainIssue"])
            + _enc_account(value["IssuingChainDoor"])
            + _enc_issue(value["IssuingChainIssue"])
        )
    except KeyError as e:
        raise CodecError(f"XChainBridge lacks {e}") from None


def _enc_pathset(value: Any) -> bytes:
    if not isinstance(value, list) or not value:
        raise CodecError("path set must be a non-empty list")
    out = bytearray()
    for i, path in enumerate(value):
        if i:
            out.append(_PATH_BOUNDARY)
        if not isinstance(path, list) or not path:
            raise CodecError("empty path")
        for elem in path:
            if not isinstance(elem, Mapping):
                raise CodecError("bad path element")
            kind = 0
            if "account" in elem:
                kind |= _PATH_ACCOUNT
            if "currency" in elem:
                kind |= _PATH_CURRENCY
            if "issuer" in elem:
                kind |= _PATH_ISSUER
            if "mpt_issuance_id" in elem:
                kind |= _PATH_MPT
            out.append(kind)
            if kind & _PATH_ACCOUNT:
                out += _account_bytes(elem["account"])
            if kind & _PATH_MPT:
                out += _hex_bytes(elem["mpt_issuance_id"], 24)
            if kind & _PATH_CURRENCY:
                out += _enc_currency(elem["currency"])
            if kind & _PATH_ISSUER:
                out += _account_bytes(elem["issuer"])
    out.append(_PATH_END)
    return bytes(out)


# ---------------------------------------------------------------------------
# The codec: tables built from one Definitions


class Codec:
    """Decoder and encoder tables for one definitions file."""

    def __init__(self, definitions: Definitions) -> None:
        self.definitions = definitions
        d = definitions
        self._tx_type_names = {v: k for k, v in d.transaction_types.items()}
        self._entry_type_names = {v: k for k, v in d.ledger_entry_types.items()}
        self._result_names = {v: k for k, v in d.transaction_results.items()}
        # Header decoding: one-byte headers through a list, longer ones through a dict.
        self._by_byte: list[tuple[str, Decoder, int] | None] = [None] * 256
        self._by_code: dict[int, tuple[str, Decoder, int]] = {}
        self._encoders: dict[str, tuple[int, bytes, Encoder]] = {}
        for f in d.fields.values():
            kind, dec, enc = self._field_codec(f)
            if dec is None:
                continue
            entry = (f.name, dec, kind)
            code = (f.type_code << 8) | f.nth
            self._by_code[code] = entry
            if f.type_code < 16 and f.nth < 16:
                self._by_byte[f.header[0]] = entry
            if enc is not None:
                self._encoders[f.name] = (f.sort_key, f.header, enc)
            elif kind in (1, 2):
                # Object and array fields encode recursively; _OBJECT/_ARRAY mark them.
                marker = _OBJECT if kind == 1 else _ARRAY
                self._encoders[f.name] = (f.sort_key, f.header, marker)

    # kinds: 0 leaf, 1 object, 2 array
    def _field_codec(self, f: FieldDef) -> tuple[int, Decoder | None, Encoder | None]:
        t = f.type_name
        if t == "STObject":
            if f.name == "ObjectEndMarker":
                return 3, _dec_u8, None
            return 1, self._dec_object_field, None
        if t == "STArray":
            if f.name == "ArrayEndMarker":
                return 4, _dec_u8, None
            return 2, self._dec_array_field, None
        if t == "UInt8":
            if f.name == "TransactionResult":
                names = self._result_names
                return (
                    0,
                    _named(_dec_u8, names),
                    _int_encoder(_U8, self.definitions.transaction_results),
                )
            return 0, _dec_u8, _int_encoder(_U8)
        if t == "UInt16":
            if f.name == "TransactionType":
                return (
                    0,
                    _named(_dec_u16, self._tx_type_names),
                    _int_encoder(_U16, self.definitions.transaction_types),
                )
            if f.name == "LedgerEntryType":
                return (
                    0,
                    _named(_dec_u16, self._entry_type_names),
                    _int_encoder(_U16, self.definitions.ledger_entry_types),
                )
            return 0, _dec_u16, _int_encoder(_U16)
        if t == "UInt32":
            if f.name == "PermissionValue":
                perms = self.definitions.permissions
                names = {v: k for k, v in perms.items()}
                return 0, _named(_dec_u32, names), _int_encoder(_U32, perms)
            return 0, _dec_u32, _int_encoder(_U32)
        if t == "Int32":
            return 0, _dec_i32, _int_encoder(_I32)
        if t == "Int64":
            return 0, _dec_i64, _int_encoder(_I64)
        if t == "UInt64":
            if f.name in BASE_TEN_UINT64:
                return 0, _dec_u64_dec, _u64_encoder(True)
            return 0, _dec_u64_hex, _u64_encoder(False)
        size = _HASH_SIZES.get(t)
        if size is not None:
            return 0, _make_hash_decoder(size), _hash_encoder(size)
        leaf = _LEAVES.get(t)
        if leaf is not None:
            return 0, leaf[0], leaf[1]
        return 0, None, None  # a type this codec does not know: field unusable

    # -- decoding ---------------------------------------------------------

    def _read_header(self, data: bytes, pos: int) -> tuple[tuple[str, Decoder, int], int]:
        b = data[pos]
        entry = self._by_byte[b]
        if entry is not None:
            return entry, pos + 1
        t = b >> 4
        n = b & 15
        pos += 1
        if t == 0:
            t = data[pos]
            pos += 1
            if t < 16:
                raise CodecError("non-canonical field header")
        if n == 0:
            n = data[pos]
            pos += 1
            if n < 16:
                raise CodecError("non-canonical field header")
        entry = self._by_code.get((t << 8) | n)
        if entry is None:
            raise CodecError(f"unknown field type {t} code {n}")
        return entry, pos

    def _dec_fields(self, data: bytes, pos: int, depth: int, nested: bool) -> tuple[Any, int]:
        if depth > _MAX_DEPTH:
            raise CodecError("objects nested too deep")
        out: dict[str, Any] = {}
        by_byte = self._by_byte
        end = len(data)
        while pos < end:
            entry = by_byte[data[pos]]
            if entry is None:
                entry, pos = self._read_header(data, pos)
            else:
                pos += 1
            name, dec, kind = entry
            if kind == 0:
                value, pos = dec(data, pos)
            elif kind == 1:
                value, pos = self._dec_fields(data, pos, depth + 1, True)
            elif kind == 2:
                value, pos = self._dec_array(data, pos, depth + 1)
            elif kind == 3 and nested:
                return out, pos
            else:
                raise CodecError(f"misplaced {name}")
            if name in out:
                raise CodecError(f"duplicate field {name}")
            out[name] = value
        if nested:
            raise CodecError("object not terminated")
        return out, pos

    def _dec_array(self, data: bytes, pos: int, depth: int) -> tuple[Any, int]:
        if depth > _MAX_DEPTH:
            raise CodecError("arrays nested too deep")
        out: list[Any] = []
        by_byte = self._by_byte
        while True:
            entry = by_byte[data[pos]]
            if entry is None:
                entry, pos = self._read_header(data, pos)
            else:
                pos += 1
            name, _, kind = entry
            if kind == 4:
                return out, pos
            if kind != 1:
                raise CodecError(f"array element {name} is not an object")
            value, pos = self._dec_fields(data, pos, depth + 1, True)
            out.append({name: value})

    def _dec_object_field(self, data: bytes, pos: int) -> tuple[Any, int]:
        return self._dec_fields(data, pos, 1, True)

    def _dec_array_field(self, data: bytes, pos: int) -> tuple[Any, int]:
        return self._dec_array(data, pos, 1)

    def decode(self, blob: bytes) -> dict[str, Any]:
        """A serialized STObject as rippled's JSON (fields in canonical order)."""
        try:
            out, _ = self._dec_fields(blob, 0, 0, False)
        except CodecError:
            raise
        except (IndexError, struct.error, KeyError, ValueError, TypeError, RecursionError) as e:
            raise CodecError(f"malformed object: {e!r}") from None
        return out

    # -- encoding ---------------------------------------------------------

    def _enc_fields(self, obj: Mapping[str, Any], out: bytearray, depth: int, skip: bool) -> None:
        if depth > _MAX_DEPTH:
            raise CodecError("objects nested too deep")
        if not isinstance(obj, Mapping):
            raise CodecError(f"expected an object, got {type(obj).__name__}")
        encoders = self._encoders
        items = []
        for name, value in obj.items():
            spec = encoders.get(name)
            if spec is None:
                if skip:
                    continue
                raise CodecError(f"unknown or non-serialized field {name!r}")
            items.append((spec[0], spec[1], spec[2], value))
        items.sort(key=_first)
        for _, header, enc, value in items:
            out += header
            if enc is _OBJECT:
                self._enc_fields(value, out, depth + 1, skip)
                out.append(_OBJECT_END)
            elif enc is _ARRAY:
                if not isinstance(value, list):
                    raise CodecError("array field must be a list")
                for elem in value:
                    if not isinstance(elem, Mapping) or len(elem) != 1:
                        raise CodecError("array element must be a one-key object")
                    ((ename, evalue),) = elem.items()
                    espec = encoders.get(ename)
                    if espec is None or espec[2] is not _OBJECT:
                        raise CodecError(f"array element {ename!r} is not an object field")
                    out += espec[1]
                    self._enc_fields(evalue, out, depth + 2, skip)
                    out.append(_OBJECT_END)
                out.append(_ARRAY_END)
            else:
                out += enc(value)

    def encode(self, obj: Mapping[str, Any], *, skip_unknown: bool = False) -> bytes:
        """Canonical bytes of rippled-style JSON.

        Args:
            obj: the object's fields, as ``decode`` returns them (enum names
                or numbers, amounts as strings or objects).
            skip_unknown: drop keys that are not serialized fields (API-added
                ones such as ``hash``, ``DeliverMax``, ``metaData``) instead of
                raising.
        """
        out = bytearray()
        try:
            self._enc_fields(obj, out, 0, skip_unknown)
        except CodecError:
            raise
        except (ValueError, TypeError, KeyError, OverflowError, RecursionError) as e:
            raise CodecError(f"cannot encode: {e!r}") from None
        return bytes(out)


def _first(item: tuple[int, bytes, Encoder, Any]) -> int:
    return item[0]


def _named(dec: Decoder, names: Mapping[int, str]) -> Decoder:
    def named(data: bytes, pos: int) -> tuple[Any, int]:
        v, pos = dec(data, pos)
        return names.get(v, v), pos

    return named


def _object_marker(value: Any) -> bytes:  # pragma: no cover - identity marker only
    raise AssertionError


def _array_marker(value: Any) -> bytes:  # pragma: no cover - identity marker only
    raise AssertionError


_OBJECT: Encoder = _object_marker
_ARRAY: Encoder = _array_marker

_HASH_SIZES = {
    "Hash128": 16,
    "Hash160": 20,
    "Hash192": 24,
    "Hash256": 32,
    "UInt96": 12,
    "Hash384": 48,
    "Hash512": 64,
    "UInt384": 48,
    "UInt512": 64,
}

_LEAVES: dict[str, tuple[Decoder, Encoder]] = {
    "Amount": (_dec_amount, _enc_amount),
    "Blob": (_dec_blob, _enc_blob),
    "AccountID": (_dec_account, _enc_account),
    "Number": (_dec_number, _enc_number),
    "Vector256": (_dec_vector256, _enc_vector256),
    "PathSet": (_dec_pathset, _enc_pathset),
    "Issue": (_dec_issue, _enc_issue),
    "XChainBridge": (_dec_bridge, _enc_bridge),
    "Currency": (_dec_currency, _enc_currency),
}

_default: Codec | None = None


def default_codec() -> Codec:
    """The codec for the shipped definitions (built once)."""
    global _default
    if _default is None:
        _default = Codec(default_definitions())
    return _default


def decode(blob: bytes) -> dict[str, Any]:
    """A serialized STObject (transaction, metadata, ledger entry) as rippled's JSON."""
    return default_codec().decode(blob)


def decode_hex(hex_blob: str) -> dict[str, Any]:
    try:
        blob = bytes.fromhex(hex_blob)
    except (ValueError, TypeError):
        raise CodecError("not a hex string") from None
    return default_codec().decode(blob)


def encode(obj: Mapping[str, Any], *, skip_unknown: bool = False) -> bytes:
    """The canonical bytes of rippled-style JSON (the inverse of ``decode``)."""
    return default_codec().encode(obj, skip_unknown=skip_unknown)


def encode_hex(obj: Mapping[str, Any], *, skip_unknown: bool = False) -> str:
    return encode(obj, skip_unknown=skip_unknown).hex().upper()


def ledger_entry_type(blob: bytes) -> str | None:
    """The ``LedgerEntryType`` of a ledger-entry blob without decoding it.

    Canonical order puts LedgerEntryType (UInt16 code 1, header 0x11) first.
    Returns None when the blob does not start with it.
    """
    if len(blob) < 3 or blob[0] != 0x11:
        return None
    return default_codec()._entry_type_names.get((blob[1] << 8) | blob[2])


def transaction_type(blob: bytes) -> str | None:
    """The ``TransactionType`` of a transaction blob (header 0x12, first in canonical order)."""
    if len(blob) < 3 or blob[0] != 0x12:
        return None
    return default_codec()._tx_type_names.get((blob[1] << 8) | blob[2])
