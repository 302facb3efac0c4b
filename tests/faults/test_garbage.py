"""Garbage answers and hostile ``Retry-After`` values, through the fault proxy.

* a 2xx HTML page where XML/JSON was expected (a captive portal) and a
  truncated XML/JSON document are temporary :class:`~pystorage.errors.Unexpected`
  errors (never a raw ``ParseError``/``JSONDecodeError``, never an empty listing
  or a silent success), which ``RetryLayer`` retries to the right answer;
* ``Retry-After: 86400`` is honoured only up to the RetryLayer's ``max_delay``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import pytest

from pystorage import Operator, errors
from pystorage.layers import RetryLayer
from tests.conftest import make_random_root
from tests.fixtures.fault_proxy import Action, Answer, FaultTarget, HtmlPage, Truncate, When

#: the longest a call may take here
BOUND = 5.0


@pytest.fixture
def anyio_backend() -> str:
    """aiobotocore and gcloud-aio are asyncio-only."""
    return "asyncio"



@pytest.fixture
def root() -> str:
    """A fresh root for this test."""
    return make_random_root("garbage")


@pytest.fixture
async def make_op(target: FaultTarget, root: str) -> AsyncIterator[Callable[..., Operator]]:
    """``make_op(**config)``: an operator through the proxy; closed afterwards."""
    made: list[Operator] = []

    def make(**overrides: Any) -> Operator:
        op = Operator(target.scheme, **target.config(root, **overrides))
        made.append(op)
        return op

    yield make
    for op in made:
        await op.close()


def _retrying(op: Operator, max_delay: float = 0.05) -> Operator:
    return op.layer(RetryLayer(max_times=2, min_delay=0.01, max_delay=max_delay, jitter=False))


def _listing(target: FaultTarget) -> When:
    if target.scheme == "gcs":
        return When(method="GET", query={"prefix": None})
    return When(method="GET", query={"list-type": "2"})


def _head(target: FaultTarget, key: str) -> When:
    if target.scheme == "gcs":
        return When(method="GET", path=f"/o/{key}", predicate=lambda r: "alt" not in r.query)
    return When(method="HEAD", path=f"/{key}")


async def _names(op: Operator) -> list[str]:
    return [e.path async for e in op.list("/")]


def _assert_temporary_unexpected(exc: BaseException) -> None:
    assert type(exc) is errors.Unexpected, repr(exc)
    assert exc.temporary
    assert "malformed" in str(exc) or "HTML" in str(exc), str(exc)


@pytest.mark.parametrize("action", [HtmlPage(), Truncate(keep=60)], ids=["html", "truncated"])
@pytest.mark.anyio
async def test_a_garbage_listing_is_a_temporary_error_never_an_empty_one(
    target: FaultTarget, make_op: Callable[..., Operator], action: Action
) -> None:
    op = make_op()
    for name in ("a", "b"):
        await op.write(name, b"x")
    target.proxy.inject(action, _listing(target))
    with pytest.raises(errors.Error) as info:
        await _names(op)
    _assert_temporary_unexpected(info.value)
    target.proxy.inject(action, _listing(target))
    assert await _names(_retrying(op)) == ["a", "b"]


@pytest.mark.anyio
async def test_an_html_page_answering_stat_is_a_temporary_error(
    target: FaultTarget, root: str, make_op: Callable[..., Operator]
) -> None:
    op = make_op()
    await op.write("k", b"12345")
    target.proxy.inject(HtmlPage(), _head(target, f"{root}k"))
    with pytest.raises(errors.Error) as info:
        await op.stat("k")
    _assert_temporary_unexpected(info.value)
    target.proxy.inject(HtmlPage(), _head(target, f"{root}k"))
    assert (await _retrying(op).stat("k")).content_length == 5


@pytest.mark.anyio
async def test_an_html_object_is_still_an_object(make_op: Callable[..., Operator]) -> None:
    op = make_op()
    page = b"<!DOCTYPE html><html><body>mine</body></html>"
    await op.write("index.html", page, content_type="text/html")
    assert await op.read("index.html") == page
    assert (await op.stat("index.html")).content_type == "text/html"


@pytest.mark.parametrize("action", [HtmlPage(), Truncate(keep=40)], ids=["html", "truncated"])
@pytest.mark.parametrize("lean_http", [True, False], ids=["lean", "botocore"])
@pytest.mark.anyio
async def test_s3_garbage_on_both_request_paths(
    faulty_moto: FaultTarget, root: str, lean_http: bool, action: Action
) -> None:
    async with Operator("s3", **faulty_moto.config(root, lean_http=lean_http)) as op:
        await op.write("k", b"x")
        faulty_moto.proxy.inject(action, When(method="GET", query={"list-type": "2"}))
        with pytest.raises(errors.Error) as info:
            await _names(op)
        # (botocore turns some malformed 200 answers into a 500 InternalError itself)
        assert type(info.value) is errors.Unexpected and info.value.temporary, repr(info.value)
        # CompleteMultipartUpload answered 200 with garbage: not a silent success
        faulty_moto.proxy.inject(action, When(method="POST", query={"uploadId": None}))
        parts = [bytes([i]) * (5 * 1024 * 1024) for i in range(2)]
        with pytest.raises(errors.Error) as info:
            await op.write("big", parts, chunk=5 * 1024 * 1024)
        # (botocore itself turns a malformed 200 answer to Complete into a 500 InternalError)
        assert type(info.value) is errors.Unexpected and info.value.temporary, repr(info.value)
        if isinstance(action, HtmlPage):  # not forwarded: nothing was completed
            assert not await op.exists("big")


@pytest.mark.anyio
async def test_gcs_truncated_json_on_stat_is_a_temporary_error(
    faulty_gcs: FaultTarget, root: str
) -> None:
    async with Operator("gcs", **faulty_gcs.config(root)) as op:
        await op.write("k", b"x")
        faulty_gcs.proxy.inject(Truncate(keep=30), _head(faulty_gcs, f"{root}k"))
        with pytest.raises(errors.Error) as info:
            await op.stat("k")
        _assert_temporary_unexpected(info.value)


@pytest.mark.anyio
async def test_retry_after_is_capped_at_max_delay(
    target: FaultTarget, root: str, make_op: Callable[..., Operator]
) -> None:
    op = make_op()
    await op.write("k", b"payload")
    when = When(method="GET", path=f"{root}k") if target.scheme == "s3" else When(query={"alt": "media"})
    answer = (
        Answer.s3_error(503, "SlowDown", headers={"Retry-After": "86400"})
        if target.scheme == "s3"
        else Answer.gcs_error(429, headers={"Retry-After": "86400"})
    )
    fault = target.proxy.inject(answer, when)
    started = time.monotonic()
    with anyio.fail_after(BOUND):  # uncapped, the retry would sleep for a day
        assert await _retrying(op, max_delay=0.2).read("k") == b"payload"
    assert time.monotonic() - started < BOUND
    assert fault.hits == 1
