"""Keyset: raw keys, Tink JSON, envelope wrapping; keys never shown."""

from __future__ import annotations

import base64
import json
import pickle

import pytest

from pystorage.crypto import Keyset
from pystorage.crypto.streaming import SEGMENT_SIZE_4KB
from pystorage.errors import ConfigInvalid

KEY_A = bytes(range(32))
KEY_B = bytes(range(100, 132))


def test_from_keys_primary_first() -> None:
    ks = Keyset.from_keys({"1": KEY_A, "2": KEY_B}, primary="2")
    assert ks.primary == "2"
    assert ks.ids == ("2", "1")
    assert ks.keys() == (KEY_B, KEY_A)
    assert ks.key("1") == KEY_A
    assert ks.segment_size is None
    assert ks.with_primary("1").ids == ("1", "2")


@pytest.mark.parametrize(
    ("keys", "primary"),
    [
        ({}, "1"),
        ({"1": b"short"}, "1"),
        ({"1": KEY_A + b"x"}, "1"),
        ({"1": "x" * 32}, "1"),
        ({"": KEY_A}, ""),
        ({"1": KEY_A}, "2"),
    ],
)
def test_from_keys_rejects(keys: dict[str, bytes], primary: str) -> None:
    with pytest.raises(ConfigInvalid):
        Keyset.from_keys(keys, primary=primary)


def test_keys_never_in_repr_or_errors() -> None:
    ks = Keyset.from_keys({"1": KEY_A, "2": KEY_B}, primary="1")
    text = repr(ks) + str(ks)
    for key in (KEY_A, KEY_B):
        for form in (repr(key), key.hex(), base64.b64encode(key).decode()):
            assert form not in text
    with pytest.raises(ConfigInvalid) as info:
        Keyset.from_keys({"1": KEY_A[:31]}, primary="1")
    assert KEY_A[:31].hex() not in str(info.value) and repr(KEY_A[:31]) not in str(info.value)


def test_tink_json_round_trip() -> None:
    ks = Keyset.from_keys({"7": KEY_A, "9": KEY_B}, primary="9")
    text = ks.to_tink_json(segment_size=SEGMENT_SIZE_4KB)
    doc = json.loads(text)
    assert doc["primaryKeyId"] == 9
    assert {k["outputPrefixType"] for k in doc["key"]} == {"RAW"}
    back = Keyset.from_tink_json(text)
    assert back.primary == "9" and back.segment_size == SEGMENT_SIZE_4KB
    assert back.key("7") == KEY_A and back.key("9") == KEY_B


def test_tink_json_needs_numeric_ids() -> None:
    with pytest.raises(ConfigInvalid):
        Keyset.from_keys({"alpha": KEY_A}, primary="alpha").to_tink_json()


def _doc(**changes: object) -> str:
    doc = json.loads(Keyset.from_keys({"5": KEY_A}, primary="5").to_tink_json())
    entry = doc["key"][0]
    for name, value in changes.items():
        if name in ("primaryKeyId",):
            doc[name] = value
        elif name in ("typeUrl", "value"):
            entry["keyData"][name] = value
        else:
            entry[name] = value
    return json.dumps(doc)


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "{}",
        _doc(typeUrl="type.googleapis.com/google.crypto.tink.AesCtrHmacStreamingKey"),
        _doc(value="!!!"),
        _doc(value=base64.b64encode(b"\x1a\x05short").decode()),
        _doc(status="DISABLED"),
        _doc(primaryKeyId=6),
        _doc(outputPrefixType="TINK"),
    ],
    ids=[
        "garbage",
        "empty",
        "other-type",
        "bad-base64",
        "short-key",
        "disabled-primary",
        "no-primary",
        "prefix",
    ],
)
def test_tink_json_rejects(text: str) -> None:
    with pytest.raises(ConfigInvalid):
        Keyset.from_tink_json(text)


def test_tink_json_rejects_mixed_segment_sizes() -> None:
    a = json.loads(Keyset.from_keys({"1": KEY_A}, primary="1").to_tink_json(segment_size=4096))
    b = json.loads(Keyset.from_keys({"2": KEY_B}, primary="2").to_tink_json(segment_size=1 << 20))
    a["key"].extend(b["key"])
    with pytest.raises(ConfigInvalid, match="segment sizes"):
        Keyset.from_tink_json(json.dumps(a))


def test_disabled_keys_are_skipped() -> None:
    doc = json.loads(Keyset.from_keys({"1": KEY_A, "2": KEY_B}, primary="1").to_tink_json())
    doc["key"][1]["status"] = "DISABLED"
    assert Keyset.from_tink_json(json.dumps(doc)).ids == ("1",)


def _xor(data: bytes) -> bytes:
    return bytes(b ^ 0x5A for b in data)


@pytest.mark.anyio
async def test_envelope_wrap_unwrap_sync_and_async() -> None:
    ks = Keyset.from_keys({"1": KEY_A, "2": KEY_B}, primary="2")

    async def async_xor(data: bytes) -> bytes:
        return _xor(data)

    for wrap in (_xor, async_xor):
        wrapped = await ks.wrap(wrap)
        assert KEY_A not in wrapped and base64.b64encode(KEY_A) not in wrapped
        back = await Keyset.unwrap(wrapped, wrap)
        assert (back.ids, back.primary, back.keys()) == (ks.ids, ks.primary, ks.keys())


@pytest.mark.anyio
@pytest.mark.parametrize("declared", [None, SEGMENT_SIZE_4KB])
async def test_wrap_round_trip_keeps_everything(declared: int | None) -> None:
    """Ids of any form (not only Tink's numbers, "007" stays "007"), keys,
    primary, and the declared segment size — none for raw keys — come back."""
    ks = Keyset({"a": KEY_A, "007": KEY_B}, "007", declared)  # raw keys when declared is None
    back = await Keyset.unwrap(await ks.wrap(_xor), _xor)
    assert back == ks
    assert back.segment_size == declared
    assert (back.ids, back.primary, back.key("a")) == (("007", "a"), "007", KEY_A)


@pytest.mark.anyio
async def test_wrap_can_declare_a_segment_size() -> None:
    ks = Keyset.from_keys({"a": KEY_A}, primary="a")
    back = await Keyset.unwrap(await ks.wrap(_xor, segment_size=SEGMENT_SIZE_4KB), _xor)
    assert back.segment_size == SEGMENT_SIZE_4KB and back.key("a") == KEY_A


@pytest.mark.anyio
async def test_unwrap_reads_a_wrapped_tink_json_keyset() -> None:
    text = Keyset.from_keys({"3": KEY_A}, primary="3").to_tink_json(segment_size=SEGMENT_SIZE_4KB)
    back = await Keyset.unwrap(_xor(text.encode()), _xor)
    assert (back.ids, back.key("3"), back.segment_size) == (("3",), KEY_A, SEGMENT_SIZE_4KB)


def _envelope(**changes: object) -> bytes:
    doc: dict[str, object] = {
        "format": "pystorage.keyset.v1",
        "primary": "a",
        "segment_size": None,
        "keys": [{"id": "a", "key": base64.b64encode(KEY_A).decode()}],
    }
    doc.update(changes)
    return json.dumps(doc).encode()


@pytest.mark.anyio
@pytest.mark.parametrize(
    "plain",
    [
        b"not json",
        b"[1, 2]",
        _envelope(primary="b"),
        _envelope(keys=[{"id": "a", "key": "!!!"}]),
        _envelope(keys=[{"id": "a", "key": base64.b64encode(KEY_A[:16]).decode()}]),
        _envelope(keys=[{"id": 5, "key": base64.b64encode(KEY_A).decode()}]),
        _envelope(keys=[]),
        _envelope(segment_size=10),
        _envelope(segment_size="4096"),
        _envelope(segment_size=True),
    ],
    ids=[
        "garbage",
        "list",
        "no-primary",
        "bad-base64",
        "short-key",
        "int-id",
        "no-keys",
        "tiny-segment",
        "str-segment",
        "bool-segment",
    ],
)
async def test_unwrap_rejects(plain: bytes) -> None:
    with pytest.raises(ConfigInvalid) as info:
        await Keyset.unwrap(plain, lambda data: data)
    assert KEY_A.hex() not in str(info.value)


@pytest.mark.anyio
async def test_unwrap_must_return_bytes() -> None:
    with pytest.raises(TypeError):
        await Keyset.unwrap(b"x", lambda data: "text")


def test_pickle_round_trip() -> None:
    ks = Keyset.from_keys({"1": KEY_A}, primary="1")
    assert pickle.loads(pickle.dumps(ks)) == ks
