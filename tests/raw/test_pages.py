"""The one pagination loop (``pystorage/raw/pages.py``)."""

from __future__ import annotations

import pytest

from pystorage.raw.pages import next_token, paginate


def test_next_token_needs_truncation_and_a_token() -> None:
    assert next_token(True, "t") == "t"
    assert next_token(False, "t") is None
    assert next_token(True, "") is None  # a server claiming more without a marker cannot loop
    assert next_token(True, None) is None


@pytest.mark.anyio
async def test_paginate_asks_with_each_token_until_there_is_none() -> None:
    asked: list[str | None] = []

    async def fetch(token: str | None) -> tuple[list[int], str | None]:
        asked.append(token)
        number = 0 if token is None else int(token)
        return [number], (str(number + 1) if number < 2 else None)

    assert [page async for page in paginate(fetch)] == [[0], [1], [2]]
    assert asked == [None, "1", "2"]


@pytest.mark.anyio
async def test_an_abandoned_listing_asks_no_further_page() -> None:
    asked: list[int | None] = []

    async def fetch(token: int | None) -> tuple[str, int | None]:
        asked.append(token)
        return "page", (token or 0) + 1

    pages = paginate(fetch, first=5)
    assert await pages.__anext__() == "page"
    await pages.aclose()
    assert asked == [5]
