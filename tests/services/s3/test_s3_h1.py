"""The h1 transport (:mod:`pystorage.raw.h1`) against real sockets, and the s3
``http_transport`` key.

The pool is tested against a scripted HTTP/1.1 server on 127.0.0.1 (a real
TCP server whose answers each test writes byte for byte: chunked bodies,
truncated bodies, stalls, early closes); the S3 driver on it runs the whole
driver suite with ``PYSTORAGE_TEST_S3_TRANSPORT=h1`` and the behaviour suite
as ``s3-rclone-h1``.
"""

from __future__ import annotations

import asyncio
import datetime
import gc
import hashlib
import ipaddress
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from pystorage import Operator
from pystorage.errors import ConfigInvalid
from pystorage.raw.h1 import HIGH_WATER, H1ConnectionError, H1PayloadError, H1Pool, H1Timeout, proxy_for
from pystorage.raw.http import HttpLimits
from pystorage.services import build_accessor
from pystorage.services.s3 import S3Accessor
from pystorage.services.s3.config import S3Config
from pystorage.services.s3.http import S3Http
from tests.conftest import make_random_root
from tests.fixtures.s3 import S3Server

Answer = Callable[[str, dict[str, str], bytes, asyncio.StreamWriter], Awaitable[bool]]


class Scripted:
    """An HTTP/1.1 server answering each request with ``answer(method, headers,
    body, writer)`` (which returns whether to keep the connection open)."""

    def __init__(self, answer: Answer, *, read_body: bool = True) -> None:
        self.answer = answer
        self.read_body = read_body
        self.connections = 0
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self, ssl_context: ssl.SSLContext | None = None) -> Scripted:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=ssl_context)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    break
                lines = head.decode().split("\r\n")
                method, target, _ = lines[0].split(" ")
                headers = {}
                for line in lines[1:]:
                    if line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                body = b""
                if self.read_body:
                    body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests.append((method, target, headers, body))
                if not await self.answer(method, headers, body, writer):
                    break
        finally:
            writer.close()


def pool_of(server: Scripted, **limits: Any) -> H1Pool:
    settings: dict[str, Any] = {
        "connect_timeout": 5.0,
        "read_timeout": 5.0,
        "pool_timeout": 5.0,
        "pool_size": 8,
        **limits,
    }
    return H1Pool("http", "127.0.0.1", server.port, **settings)


def host(server: Scripted) -> dict[str, str]:
    return {"host": f"127.0.0.1:{server.port}"}


def fixed(status: int, body: bytes, *, extra: bytes = b"") -> Answer:
    async def answer(method: str, headers: dict[str, str], sent: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(
            b"HTTP/1.1 %d X\r\nContent-Length: %d\r\n%s\r\n" % (status, len(body), extra)
            + (b"" if method == "HEAD" else body)
        )
        await writer.drain()
        return True

    return answer


@pytest.fixture
async def started() -> AsyncIterator[list[Scripted]]:
    servers: list[Scripted] = []
    yield servers
    for server in servers:
        await server.stop()


async def serve(started: list[Scripted], answer: Answer, **options: Any) -> Scripted:
    server = await Scripted(answer, **options).start()
    started.append(server)
    return server


# the pool -------------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_keep_alive_reuses_one_connection(started: list[Scripted]) -> None:
    server = await serve(started, fixed(200, b"hello"))
    pool = pool_of(server)
    for _ in range(5):
        response = await pool.request("GET", "/k", host(server))
        assert response.status == 200
        assert response.headers["content-length"] == "5"
        assert await response.read() == b"hello"
        response.release()
    assert server.connections == 1
    assert [r[0:2] for r in server.requests] == [("GET", "/k")] * 5
    assert server.requests[0][2]["host"] == f"127.0.0.1:{server.port}"
    await pool.close()


@pytest.mark.anyio
async def test_chunked_body_in_pieces(started: list[Scripted]) -> None:
    async def chunked(
        method: str, headers: dict[str, str], body: bytes, writer: asyncio.StreamWriter
    ) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for piece in (b"abc", b"defgh", b"ij"):
            writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            await writer.drain()
            await asyncio.sleep(0.01)
        writer.write(b"0\r\n\r\n")
        return True

    server = await serve(started, chunked)
    pool = pool_of(server)
    response = await pool.request("GET", "/", host(server))
    got = []
    while piece := await response.content.read(4):
        assert len(piece) <= 4
        got.append(piece)
    assert b"".join(got) == b"abcdefghij"
    assert response.content.at_eof()
    response.release()
    again = await pool.request("GET", "/", host(server))
    assert await again.read() == b"abcdefghij"
    again.release()
    assert server.connections == 1
    await pool.close()


@pytest.mark.anyio
async def test_body_delimited_by_close(started: list[Scripted]) -> None:
    async def until_close(
        method: str, headers: dict[str, str], body: bytes, writer: asyncio.StreamWriter
    ) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it")
        await writer.drain()
        return False

    server = await serve(started, until_close)
    pool = pool_of(server)
    response = await pool.request("GET", "/", host(server))
    assert await response.read() == b"all of it"
    response.release()
    await pool.request("GET", "/", host(server))  # a new connection: the first one was closed
    assert server.connections == 2
    await pool.close()


@pytest.mark.anyio
async def test_truncated_body_is_a_payload_error(started: list[Scripted]) -> None:
    async def short(method: str, headers: dict[str, str], body: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this")
        await writer.drain()
        return False

    server = await serve(started, short)
    pool = pool_of(server)
    response = await pool.request("GET", "/", host(server))
    with pytest.raises(H1PayloadError):
        await response.read()
    response.release()
    response = await pool.request("GET", "/", host(server))
    assert await response.content.read(100) == b"only this"
    with pytest.raises(H1PayloadError):
        await response.content.read(100)
    response.close()
    assert server.connections == 2
    await pool.close()


@pytest.mark.anyio
async def test_close_before_answer_is_a_connection_error(started: list[Scripted]) -> None:
    async def hang_up(
        method: str, headers: dict[str, str], body: bytes, writer: asyncio.StreamWriter
    ) -> bool:
        return False

    server = await serve(started, hang_up)
    pool = pool_of(server)
    with pytest.raises(H1ConnectionError, match="before answering"):
        await pool.request("DELETE", "/k", host(server))
    assert len(server.requests) == 1  # never resent
    await pool.close()


@pytest.mark.anyio
async def test_not_http_is_a_connection_error(started: list[Scripted]) -> None:
    async def garbage(
        method: str, headers: dict[str, str], body: bytes, writer: asyncio.StreamWriter
    ) -> bool:
        writer.write(b"SSH-2.0-OpenSSH\r\n\r\n")
        await writer.drain()
        return True

    server = await serve(started, garbage)
    pool = pool_of(server)
    with pytest.raises(H1ConnectionError, match="not valid HTTP"):
        await pool.request("GET", "/", host(server))
    await pool.close()


@pytest.mark.anyio
async def test_read_timeout_on_head_and_on_body(started: list[Scripted]) -> None:
    async def stall(method: str, headers: dict[str, str], body: bytes, writer: asyncio.StreamWriter) -> bool:
        if method == "GET":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
            await writer.drain()
        await asyncio.sleep(3)
        return False

    server = await serve(started, stall)
    pool = pool_of(server, read_timeout=0.3)
    started_at = time.monotonic()
    with pytest.raises(H1Timeout):
        await pool.request("HEAD", "/", host(server))
    assert time.monotonic() - started_at < 2
    response = await pool.request("GET", "/", host(server))
    assert await response.content.read(10) == b"abc"
    started_at = time.monotonic()
    with pytest.raises(H1Timeout):
        await response.content.read(10)
    assert time.monotonic() - started_at < 2
    response.close()
    await pool.close()


@pytest.mark.anyio
async def test_a_slow_moving_body_never_times_out(started: list[Scripted]) -> None:
    async def trickle(
        method: str, headers: dict[str, str], body: bytes, writer: asyncio.StreamWriter
    ) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n")
        for _ in range(8):
            await asyncio.sleep(0.1)
            writer.write(b"x")
            await writer.drain()
        return True

    server = await serve(started, trickle)
    pool = pool_of(server, read_timeout=0.25)
    response = await pool.request("GET", "/", host(server))
    assert await response.read() == b"x" * 8  # 0.8 s in all, never 0.25 s without a byte
    response.release()
    await pool.close()


@pytest.mark.anyio
async def test_pool_is_bounded_and_waits_for_a_free_connection(started: list[Scripted]) -> None:
    server = await serve(started, fixed(200, b"ok"))
    pool = pool_of(server, pool_size=1, pool_timeout=0.3)
    first = await pool.request("GET", "/", host(server))
    with pytest.raises(H1Timeout, match="pool_timeout"):
        await pool.request("GET", "/", host(server))
    waiting = asyncio.ensure_future(pool.request("GET", "/", host(server)))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    assert await first.read() == b"ok"
    first.release()
    second = await waiting
    assert await second.read() == b"ok"
    second.release()
    assert server.connections == 1
    await pool.close()


@pytest.mark.anyio
async def test_a_dropped_answer_frees_its_connection(started: list[Scripted]) -> None:
    server = await serve(started, fixed(200, b"ok"))
    pool = pool_of(server, pool_size=1, pool_timeout=0.5)
    response = await pool.request("GET", "/", host(server))
    assert response.status == 200
    del response
    gc.collect()
    again = await pool.request("GET", "/", host(server))
    assert await again.read() == b"ok"
    again.release()
    await pool.close()


@pytest.mark.anyio
async def test_cancelled_request_frees_its_slot(started: list[Scripted]) -> None:
    async def slow(method: str, headers: dict[str, str], body: bytes, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(0.5)
        return await fixed(200, b"ok")(method, headers, body, writer)

    server = await serve(started, slow)
    pool = pool_of(server, pool_size=1, pool_timeout=2)
    task = asyncio.ensure_future(pool.request("GET", "/", host(server)))
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    response = await pool.request("GET", "/", host(server))
    assert await response.read() == b"ok"
    response.release()
    assert server.connections == 2  # the cancelled exchange's connection was dropped
    await pool.close()


@pytest.mark.anyio
async def test_streamed_read_keeps_memory_bounded(started: list[Scripted]) -> None:
    size = 16 * 1024 * 1024
    block = hashlib.sha256(b"seed").digest() * (size // 32)

    async def big(method: str, headers: dict[str, str], body: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
        writer.write(block)
        await writer.drain()
        return True

    server = await serve(started, big)
    pool = pool_of(server)
    response = await pool.request("GET", "/", host(server))
    await asyncio.sleep(0.5)  # the server sends as fast as it can; nobody reads
    buffered = response._body.size
    assert response._body.paused
    assert HIGH_WATER <= buffered <= HIGH_WATER + 1024 * 1024
    digest, total = hashlib.sha256(), 0
    while piece := await response.content.read(1024 * 1024):
        digest.update(piece)
        total += len(piece)
        assert response._body.size <= HIGH_WATER + 1024 * 1024
    assert total == size
    assert digest.digest() == hashlib.sha256(block).digest()
    response.release()
    await pool.close()


@pytest.mark.anyio
async def test_head_answer_has_no_body_and_keeps_the_connection(started: list[Scripted]) -> None:
    server = await serve(started, fixed(200, b"x" * 100, extra=b'ETag: "e"\r\n'))
    pool = pool_of(server)
    response = await pool.request("HEAD", "/", host(server))
    assert response.headers["etag"] == '"e"'
    assert response.headers["Content-Length"] == "100"
    assert await response.read() == b""
    response.release()
    response = await pool.request("GET", "/", host(server))
    assert await response.read() == b"x" * 100
    response.release()
    assert server.connections == 1
    await pool.close()


@pytest.mark.anyio
async def test_interim_answer_is_skipped(started: list[Scripted]) -> None:
    async def interim(
        method: str, headers: dict[str, str], body: bytes, writer: asyncio.StreamWriter
    ) -> bool:
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(0.01)
        writer.write(b"HTTP/1.1 204 No Content\r\nX-Id: 1\r\n\r\n")
        return True

    server = await serve(started, interim)
    pool = pool_of(server)
    response = await pool.request("DELETE", "/k", host(server))
    assert response.status == 204
    assert response.headers["x-id"] == "1"
    response.release()
    response = await pool.request("DELETE", "/k", host(server))
    assert response.status == 204
    response.release()
    assert server.connections == 1
    await pool.close()


@pytest.mark.anyio
async def test_header_injection_is_refused(started: list[Scripted]) -> None:
    server = await serve(started, fixed(200, b""))
    pool = pool_of(server)
    with pytest.raises(ValueError):
        await pool.request("PUT", "/k", {**host(server), "x-amz-meta-a": "b\r\nx-evil: 1"})
    with pytest.raises(ValueError):
        await pool.request("GET", "/k HTTP/1.1\r\nx: y", host(server))
    assert server.requests == []
    await pool.close()


@pytest.mark.anyio
async def test_large_request_body_arrives_whole(started: list[Scripted]) -> None:
    server = await serve(started, fixed(200, b""))
    pool = pool_of(server)
    body = bytes(range(256)) * (5 * 4096 + 7)  # over 5 MiB, not a multiple of the piece size
    sent = {**host(server), "content-length": str(len(body))}
    response = await pool.request("PUT", "/k", sent, memoryview(body))
    assert response.status == 200
    response.release()
    assert server.requests[0][3] == body
    await pool.close()


@pytest.mark.anyio
async def test_upload_to_a_server_that_stops_reading_times_out(started: list[Scripted]) -> None:
    async def never(method: str, headers: dict[str, str], body: bytes, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(5)
        return False

    server = await serve(started, never, read_body=False)
    pool = pool_of(server, read_timeout=0.3)
    body = memoryview(bytes(64 * 1024 * 1024))
    started_at = time.monotonic()
    with pytest.raises(H1Timeout, match="request body"):
        await pool.request("PUT", "/k", {**host(server), "content-length": str(len(body))}, body)
    assert time.monotonic() - started_at < 3
    await pool.close()


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@pytest.mark.anyio
async def test_tls(started: list[Scripted], tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    server = await Scripted(fixed(200, b"secret")).start(server_context)
    started.append(server)
    trusting = ssl.create_default_context(cafile=str(cert))
    settings: dict[str, Any] = {"connect_timeout": 5.0, "read_timeout": 5.0, "pool_timeout": 5.0}
    pool = H1Pool("https", "127.0.0.1", server.port, pool_size=2, ssl_context=trusting, **settings)
    for _ in range(2):
        response = await pool.request("GET", "/", host(server))
        assert await response.read() == b"secret"
        response.release()
    assert server.connections == 1
    await pool.close()
    untrusting = H1Pool("https", "127.0.0.1", server.port, pool_size=2, **settings)
    with pytest.raises(H1ConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
        await untrusting.request("GET", "/", host(server))
    await untrusting.close()


# the s3 key ----------------------------------------------------------------------------------------
def test_http_transport_is_checked() -> None:
    with pytest.raises(ConfigInvalid, match="http_transport"):
        Operator("s3", bucket="b", http_transport="h2")


def _s3http(endpoint: str, transport: str) -> S3Http:
    return S3Http(
        endpoint=endpoint,
        bucket="b",
        region="us-east-1",
        virtual_host=False,
        credentials=None,
        limits=HttpLimits(),
        transport=transport,
    )


def test_h1_falls_back_to_aiohttp_behind_a_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert _s3http("https://s3.example.com", "h1").transport == "h1"
    assert _s3http("https://s3.example.com", "aiohttp").transport == "aiohttp"
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.com:3128")
    assert proxy_for("https://s3.example.com/b") == "http://proxy.example.com:3128"
    assert _s3http("https://s3.example.com", "h1").transport == "aiohttp"
    assert _s3http("http://s3.example.com", "h1").transport == "h1"  # no proxy for http
    monkeypatch.setenv("NO_PROXY", "s3.example.com")
    assert _s3http("https://s3.example.com", "h1").transport == "h1"
    assert _s3http("https://user:pw@s3.example.com", "h1").transport == "aiohttp"


def test_h1_is_the_default_transport() -> None:
    assert S3Config(bucket="b").http_transport == "h1"
    assert _s3http("http://127.0.0.1:9000", "aiohttp").transport == "aiohttp"
    assert (
        S3Http(
            endpoint="http://127.0.0.1:9000",
            bucket="b",
            region="us-east-1",
            virtual_host=False,
            credentials=None,
            limits=HttpLimits(),
        ).transport
        == "h1"
    )


@pytest.mark.anyio
async def test_s3_on_h1_round_trip(rclone_s3: S3Server) -> None:
    config = rclone_s3.config(make_random_root("h1"), http_transport="h1")
    accessor = build_accessor("s3", config)
    assert isinstance(accessor, S3Accessor)
    assert (await accessor.core.http()).transport == "h1"
    await accessor.close()
    op = Operator("s3", **config)
    async with op:
        await op.write("a/x.bin", b"0123456789" * 30_000)
        assert (await op.stat("a/x.bin")).content_length == 300_000
        assert await op.read("a/x.bin", offset=5, size=10) == b"5678901234"
        assert await op.read("a/x.bin") == b"0123456789" * 30_000
        assert [e.path async for e in op.list("a/")] == ["a/x.bin"]
        await op.delete("a/x.bin")
        assert not await op.exists("a/x.bin")
