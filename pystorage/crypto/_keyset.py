"""The :class:`Keyset` of client-side encryption: raw keys with ids, or a Tink keyset."""

from __future__ import annotations

import base64
import binascii
import inspect
import json
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

from ..errors import ConfigInvalid
from .streaming import KEY_SIZE, SEGMENT_SIZE_1MB

__all__ = ["TINK_KEY_TYPE", "Keyset"]

#: the Tink key type of ``AES256_GCM_HKDF_*`` streaming AEAD keys
TINK_KEY_TYPE = "type.googleapis.com/google.crypto.tink.AesGcmHkdfStreamingKey"
_SHA256 = 3  # google.crypto.tink.HashType.SHA256
#: the ``format`` of the JSON document :meth:`Keyset.wrap` wraps
_ENVELOPE_FORMAT = "pystorage.keyset.v1"

#: ``wrap(plaintext) -> ciphertext`` / ``unwrap(ciphertext) -> plaintext``, sync or async (a KMS)
Wrapper = Callable[[bytes], "bytes | Awaitable[bytes]"]


def _bad(message: str) -> ConfigInvalid:
    return ConfigInvalid(f"Keyset: {message}")


# --- the two small protobuf messages of a Tink AesGcmHkdfStreamingKey ---------


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise _bad("malformed key data (varint)")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """``(field number, value)`` of a protobuf message (varint and length-delimited fields only)."""
    pos = 0
    while pos < len(data):
        tag, pos = _varint(data, pos)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            yield number, value
        elif wire == 2:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise _bad("malformed key data (length)")
            yield number, data[pos : pos + length]
            pos += length
        else:
            raise _bad(f"malformed key data (wire type {wire})")


def _message(data: bytes, kinds: Mapping[int, type]) -> dict[int, Any]:
    """The fields of a protobuf message whose numbers ``kinds`` names, each kept
    when its wire value is of the named type (``int`` or ``bytes``; the last wins)."""
    found: dict[int, Any] = {}
    for number, value in _fields(data):
        kind = kinds.get(number)
        if kind is not None and isinstance(value, kind):
            found[number] = value
    return found


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, value: int | bytes) -> bytes:
    if isinstance(value, int):
        return _encode_varint(number << 3) + _encode_varint(value)
    return _encode_varint(number << 3 | 2) + _encode_varint(len(value)) + value


def _parse_tink_key(value: bytes) -> tuple[bytes, int]:
    """``(key_value, ciphertext_segment_size)`` of a serialized ``AesGcmHkdfStreamingKey``."""
    outer = _message(value, {1: int, 2: bytes, 3: bytes})
    version, params, key = outer.get(1, 0), outer.get(2, b""), outer.get(3, b"")
    inner = _message(params, {1: int, 2: int, 3: int})
    segment_size, derived, hash_type = (inner.get(number, 0) for number in (1, 2, 3))
    if version != 0:
        raise _bad(f"unsupported AesGcmHkdfStreamingKey version {version}")
    if derived != KEY_SIZE or hash_type != _SHA256 or len(key) != KEY_SIZE:
        raise _bad("only AES256_GCM_HKDF keys (32-byte key, 32-byte derived key, HKDF-SHA256) are supported")
    return key, segment_size


def _tink_key_value(key: bytes, segment_size: int) -> bytes:
    params = _field(1, segment_size) + _field(2, KEY_SIZE) + _field(3, _SHA256)
    return _field(2, params) + _field(3, key)


class Keyset:
    """Keys of client-side encryption: one primary encrypts, every key decrypts.

    Build one with :meth:`from_keys` (32-byte keys by id) or
    :meth:`from_tink_json` (a Tink cleartext JSON keyset of
    ``AES256_GCM_HKDF_*`` keys). Keys never appear in ``repr`` or errors.

    Attributes:
        primary: the id of the key new objects are encrypted with.
        ids: every key id, the primary first.
        segment_size: the ciphertext segment size the keys declare (Tink
            keysets), or ``None`` for raw keys.
    """

    __slots__ = ("_keys", "primary", "segment_size")

    def __init__(self, keys: Mapping[str, bytes], primary: str, segment_size: int | None = None) -> None:
        if not isinstance(keys, Mapping) or not keys:
            raise _bad("needs at least one key")
        clean: dict[str, bytes] = {}
        for key_id, key in keys.items():
            if not isinstance(key_id, str) or not key_id:
                raise _bad(f"key ids must be non-empty str, got {type(key_id).__name__}")
            if not isinstance(key, (bytes, bytearray)) or len(key) != KEY_SIZE:
                raise _bad(f"key {key_id!r} must be {KEY_SIZE} bytes")
            clean[key_id] = bytes(key)
        if primary not in clean:
            raise _bad(f"primary {primary!r} is not one of the key ids")
        # the primary first: it is the likeliest to decrypt new objects
        self._keys = {primary: clean[primary], **{k: v for k, v in clean.items() if k != primary}}
        self.primary = primary
        self.segment_size = segment_size

    @classmethod
    def from_keys(cls, keys: Mapping[str, bytes], *, primary: str) -> Keyset:
        """A keyset of raw 32-byte keys by id.

        Raises:
            ConfigInvalid: no key, a key not 32 bytes, or ``primary`` not an id.
        """
        return cls(keys, primary)

    @classmethod
    def from_tink_json(cls, text: str | bytes) -> Keyset:
        """A keyset from Tink's cleartext JSON format (``cleartext_keyset_handle.write``
        with a ``JsonKeysetWriter``). Only ``ENABLED`` keys are kept; they must
        all be ``AES256_GCM_HKDF_*`` keys of one segment size.

        Raises:
            ConfigInvalid: malformed JSON, another key type, mixed segment sizes,
                or a primary that is not an enabled key.
        """
        try:
            doc = json.loads(text)
            primary = str(int(doc["primaryKeyId"]))
            entries = doc["key"]
        except (ValueError, KeyError, TypeError):
            raise _bad("not a Tink JSON keyset") from None
        keys: dict[str, bytes] = {}
        sizes: set[int] = set()
        for entry in entries:
            try:
                if entry.get("status") != "ENABLED":
                    continue
                data = entry["keyData"]
                key_id = str(int(entry["keyId"]))
                type_url = data["typeUrl"]
                value = base64.b64decode(data["value"], validate=True)
            except (KeyError, TypeError, ValueError, AttributeError, binascii.Error):
                raise _bad("not a Tink JSON keyset") from None
            if type_url != TINK_KEY_TYPE:
                raise _bad(f"unsupported key type {type_url!r} (expected {TINK_KEY_TYPE})")
            if entry.get("outputPrefixType", "RAW") != "RAW":
                raise _bad("streaming AEAD keys have outputPrefixType RAW")
            key, segment_size = _parse_tink_key(value)
            keys[key_id] = key
            sizes.add(segment_size)
        if len(sizes) > 1:
            raise _bad(f"keys of different segment sizes {sorted(sizes)} cannot share one layer")
        if primary not in keys:
            raise _bad("the primary key is missing or not enabled")
        return cls(keys, primary, sizes.pop())

    def to_tink_json(self, *, segment_size: int | None = None) -> str:
        """This keyset in Tink's cleartext JSON format, for Tink in any language
        (``cleartext_keyset_handle.read(tink.JsonKeysetReader(text))``).
        Key ids must be decimal numbers below 2**32 (Tink's key ids).

        Warning:
            The result holds the keys in clear: store it only wrapped (:meth:`wrap`).
        """
        size = segment_size or self.segment_size or SEGMENT_SIZE_1MB
        entries = []
        for key_id, key in self._keys.items():
            if not key_id.isdecimal() or int(key_id) >= 2**32:
                raise _bad(
                    f"Tink key ids are numbers below 2**32, not {key_id!r} (Keyset.wrap takes any ids)"
                )
            entries.append(
                {
                    "keyData": {
                        "typeUrl": TINK_KEY_TYPE,
                        "value": base64.b64encode(_tink_key_value(key, size)).decode(),
                        "keyMaterialType": "SYMMETRIC",
                    },
                    "status": "ENABLED",
                    "keyId": int(key_id),
                    "outputPrefixType": "RAW",
                }
            )
        return json.dumps({"primaryKeyId": int(self.primary), "key": entries})

    def _envelope_json(self, segment_size: int | None) -> str:
        """The plaintext :meth:`wrap` wraps: every id, key, the primary and the
        declared segment size (``None`` stays ``None``), in pystorage's own JSON."""
        return json.dumps(
            {
                "format": _ENVELOPE_FORMAT,
                "primary": self.primary,
                "segment_size": segment_size or self.segment_size,
                "keys": [{"id": k, "key": base64.b64encode(v).decode()} for k, v in self._keys.items()],
            }
        )

    @classmethod
    def _from_envelope_json(cls, text: bytes) -> Keyset:
        """The keyset of :meth:`_envelope_json`, or of a Tink cleartext JSON
        keyset (one wrapped by other tools, with the KMS)."""
        try:
            doc = json.loads(text)
        except ValueError:
            raise _bad("the unwrapped data is not a wrapped keyset") from None
        if not isinstance(doc, dict) or doc.get("format") != _ENVELOPE_FORMAT:
            return cls.from_tink_json(text)
        try:
            primary = doc["primary"]
            size = doc["segment_size"]
            keys = {entry["id"]: base64.b64decode(entry["key"], validate=True) for entry in doc["keys"]}
        except (KeyError, TypeError, ValueError, binascii.Error):
            raise _bad("malformed wrapped keyset") from None
        valid = isinstance(size, int) and not isinstance(size, bool) and 1024 <= size < 2**31
        if size is not None and not valid:
            raise _bad(f"malformed wrapped keyset (segment_size {size!r})")
        return cls(keys, primary, size)

    async def wrap(self, wrap: Wrapper, *, segment_size: int | None = None) -> bytes:
        """Envelope encryption: ``wrap`` (sync or async, e.g. a KMS encrypt call)
        applied to a JSON document of this keyset. The result can be stored as
        an object and read back with :meth:`unwrap`, which gives back this keyset
        exactly: its ids (any ids, not only Tink's numeric ones), keys, primary,
        and its declared segment size, or none for raw keys (``segment_size``
        declares one). To hand the keyset to Tink, use :meth:`to_tink_json`."""
        return await _call(wrap, self._envelope_json(segment_size).encode())

    @classmethod
    async def unwrap(cls, data: bytes, unwrap: Wrapper) -> Keyset:
        """The keyset :meth:`wrap` produced, with ``unwrap`` (sync or async, e.g.
        a KMS decrypt call). A wrapped Tink JSON keyset is read too.

        Raises:
            ConfigInvalid: the unwrapped bytes are not a wrapped keyset.
        """
        return cls._from_envelope_json(await _call(unwrap, bytes(data)))

    def with_primary(self, primary: str) -> Keyset:
        """The same keys with another primary (key rotation)."""
        return Keyset(self._keys, primary, self.segment_size)

    @property
    def ids(self) -> tuple[str, ...]:
        """Every key id, the primary first."""
        return tuple(self._keys)

    def key(self, key_id: str) -> bytes:
        """The key of ``key_id`` (for the encryption layer)."""
        return self._keys[key_id]

    def keys(self) -> tuple[bytes, ...]:
        """Every key, the primary first (for the encryption layer)."""
        return tuple(self._keys.values())

    def __repr__(self) -> str:
        return f"Keyset(ids={list(self._keys)!r}, primary={self.primary!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Keyset):
            return NotImplemented
        return (self._keys, self.primary, self.segment_size) == (
            other._keys,
            other.primary,
            other.segment_size,
        )

    def __hash__(self) -> int:
        return hash((tuple(self._keys), self.primary))

    def __getstate__(self) -> dict[str, Any]:
        return {"keys": self._keys, "primary": self.primary, "segment_size": self.segment_size}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._keys = state["keys"]
        self.primary = state["primary"]
        self.segment_size = state["segment_size"]


async def _call(func: Wrapper, data: bytes) -> bytes:
    result: Any = func(data)
    if inspect.isawaitable(result):
        result = await result
    if not isinstance(result, (bytes, bytearray)):
        raise TypeError(f"wrap/unwrap must return bytes, got {type(result).__name__}")
    return bytes(result)
