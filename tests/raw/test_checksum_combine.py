"""crc32c_combine: the CRC32C of a concatenation from the parts' CRC32Cs."""

from __future__ import annotations

import random

import pytest

from pystorage.raw.checksum import _crc32c, crc32c_combine


@pytest.mark.parametrize(
    "sizes", [(0, 0), (0, 7), (7, 0), (1, 1), (1000, 3), (12_345, 100_000), (3, 1 << 20)]
)
def test_combine_equals_the_crc_of_the_concatenation(sizes: tuple[int, int]) -> None:
    rng = random.Random(sum(sizes))
    a, b = rng.randbytes(sizes[0]), rng.randbytes(sizes[1])
    assert crc32c_combine(_crc32c(a, 0), _crc32c(b, 0), len(b)) == _crc32c(a + b, 0)


def test_a_different_second_part_gives_a_different_crc() -> None:
    a, b = b"first part", b"second"
    assert crc32c_combine(_crc32c(a, 0), _crc32c(b"sec0nd", 0), len(b)) != _crc32c(a + b, 0)
