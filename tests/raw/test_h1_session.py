"""``pystorage.raw.session.H1Session``: the aiohttp-shaped adapter over the h1 pools that
gcs and azblob send on (``http_transport="h1"``), against a real local aiohttp server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import yarl
from aiohttp import web

from pystorage.errors import ConfigInvalid
from pystorage.raw.h1_answer import H1Response
from pystorage.raw.http import BoundedBody, HttpLimits
from pystorage.raw.session import H1Session, LazySession, check_http_transport


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def echo() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """A server answering every request with its body; what it received, in order."""
    seen: list[dict[str, Any]] = []

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        seen.append(
            {
                "method": request.method,
                "path": request.path_qs,
                "headers": dict(request.headers),
                "body": body,
            }
        )
        return web.Response(body=body or b"empty", status=201 if request.method == "POST" else 200)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}", seen
    await runner.cleanup()


def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.anyio
async def test_requests_go_out_on_a_pool_with_aiohttps_request_shape(
    echo: tuple[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_proxy(monkeypatch)
    origin, seen = echo
    session = H1Session(HttpLimits())
    url = yarl.URL(f"{origin}/o/a%2Fb?alt=media&x=1", encoded=True)
    response = await session.request("GET", url, headers={"Authorization": "Bearer t"}, allow_redirects=False)
    assert isinstance(response, H1Response)
    assert (response.status, response.reason, await response.read()) == (200, "OK", b"empty")
    response.release()
    assert seen[-1]["path"] == "/o/a%2Fb?alt=media&x=1"
    assert seen[-1]["headers"]["Host"] == origin.removeprefix("http://")
    assert seen[-1]["headers"]["Authorization"] == "Bearer t"
    # bytes: Content-Length and aiohttp's default Content-Type
    response = await session.request("PUT", f"{origin}/p", data=b"abc", allow_redirects=False)
    assert await response.read() == b"abc"
    assert response.content_length == 3
    response.release()
    assert seen[-1]["headers"]["Content-Length"] == "3"
    assert seen[-1]["headers"]["Content-Type"] == "application/octet-stream"
    # a framed BoundedBody (a multipart upload) arrives whole, small or large
    for size in (10, 300_000):
        payload = bytes(range(256)) * (size // 256 + 1)
        body = BoundedBody(
            memoryview(payload), 65536, 5.0, content_type="multipart/related", head=b"<h>", tail=b"<t>"
        )
        response = await session.request("POST", f"{origin}/u", data=body, allow_redirects=False)
        assert response.status == 201
        assert await response.read() == b"<h>" + payload + b"<t>"
        response.release()
        assert seen[-1]["headers"]["Content-Type"] == "multipart/related"
        assert seen[-1]["headers"]["Content-Length"] == str(len(payload) + 6)
    # a bodiless POST says Content-Length: 0
    response = await session.request("POST", f"{origin}/e", allow_redirects=False)
    response.release()
    assert seen[-1]["headers"]["Content-Length"] == "0"
    assert len(session._pools) == 1  # one origin, one pool
    await session.close()
    assert session.closed


@pytest.mark.anyio
async def test_skipped_content_type_is_not_sent(echo: tuple[str, list[dict[str, Any]]]) -> None:
    origin, seen = echo
    session = H1Session(HttpLimits(), skip_auto_headers=("Accept-Encoding", "Content-Type"))
    response = await session.request("PUT", f"{origin}/p", data=memoryview(b"xyz"), allow_redirects=False)
    response.release()
    assert "Content-Type" not in seen[-1]["headers"]
    await session.close()


@pytest.mark.anyio
async def test_proxies_redirects_and_streams_go_out_on_aiohttp(
    echo: tuple[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_proxy(monkeypatch)
    origin, _ = echo
    session = H1Session(HttpLimits())
    response = await session.request("GET", f"{origin}/r")  # allow_redirects defaults to True, as aiohttp's
    assert isinstance(response, aiohttp.ClientResponse)
    response.release()

    async def stream() -> AsyncIterator[bytes]:
        yield b"s1"
        yield b"s2"

    response = await session.request("PUT", f"{origin}/s", data=stream(), allow_redirects=False)
    assert isinstance(response, aiohttp.ClientResponse)
    assert await response.read() == b"s1s2"
    response.release()
    assert session.post.__self__ is session.fallback()  # what gcloud-aio's token refresh calls
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    monkeypatch.setenv("NO_PROXY", "")
    other = H1Session(HttpLimits())
    assert other._pool(yarl.URL(f"{origin}/x")) is None  # a proxy is named: aiohttp's, which honours it
    await session.close()
    await other.close()
    assert session.fallback().closed is False  # a new one on demand after close
    await session.fallback().close()


@pytest.mark.anyio
async def test_lazy_session_picks_the_transport(echo: tuple[str, list[dict[str, Any]]]) -> None:
    origin, _ = echo
    h1 = LazySession(HttpLimits(), transport="h1")
    assert isinstance(h1.get(), H1Session) and h1.transport == "h1"
    plain = LazySession(HttpLimits(), transport="aiohttp")
    assert isinstance(plain.get(), aiohttp.ClientSession)
    opened = h1.get()
    response = await opened.request("GET", f"{origin}/k", allow_redirects=False)
    response.release()
    await h1.close()
    await plain.close()
    assert opened.closed
    with pytest.raises(ValueError):
        LazySession(HttpLimits(), transport="h2")
    with pytest.raises(ConfigInvalid, match="http_transport"):
        check_http_transport("gcs", "h2")


def test_gcs_and_azblob_default_to_h1() -> None:
    from pystorage.services.azblob.config import AzblobConfig
    from pystorage.services.gcs.config import GcsConfig
    from pystorage.services.gcs.core import GcsCore

    config = GcsConfig(bucket="b", endpoint="http://127.0.0.1:1", disable_config_load=True)
    assert config.http_transport == "h1"
    assert GcsCore(config)._http.transport == "h1"
    assert AzblobConfig(container="box", account_name="a").http_transport == "h1"
    with pytest.raises(ConfigInvalid, match="http_transport"):
        AzblobConfig(container="box", account_name="a", http_transport="h2")
