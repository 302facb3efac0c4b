"""Credentials on the wire (anonymous, static token, service-account OAuth), V4 signed
URLs fetched from the emulator and verified with the public key, the shared session,
and the write options that only show in the object resource (ACL, storage class)."""

from __future__ import annotations

import datetime as dt
import hashlib
import urllib.parse
from collections.abc import Callable

import aiohttp
import jwt
import pytest
import yarl
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from pystorage import Operator, PresignedRequest, errors
from pystorage.services.gcs import GcsAccessor
from pystorage.services.gcs.config import DEFAULT_SCOPE
from tests.fixtures.gcs import FakeGcsServer, ServiceAccountKey
from tests.fixtures.gcs_proxy import GcsProxy

pytestmark = pytest.mark.anyio


def _gcs(op: Operator) -> GcsAccessor:
    accessor = op.accessor
    assert isinstance(accessor, GcsAccessor)
    return accessor


async def test_anonymous_requests_carry_no_authorization(
    make_op: Callable[..., Operator], proxy: GcsProxy
) -> None:
    op = make_op()
    await op.write("f", b"x")
    assert await op.read("f") == b"x"
    assert proxy.records and all("Authorization" not in r.headers for r in proxy.records)
    assert proxy.token_requests == []


async def test_static_token(make_op: Callable[..., Operator], proxy: GcsProxy) -> None:
    secret = "ya29.static-token-for-the-test"
    op = make_op(token=secret)
    await op.write("f", b"x")
    with pytest.raises(errors.NotFound) as info:
        await op.read("missing")
    assert proxy.records and all(r.headers.get("Authorization") == f"Bearer {secret}" for r in proxy.records)
    assert proxy.token_requests == []
    for text in (str(info.value), repr(info.value), repr(op), repr(op.accessor)):
        assert secret not in text


async def test_service_account_oauth(
    make_op: Callable[..., Operator], proxy: GcsProxy, gcs_service_account: ServiceAccountKey
) -> None:
    account = gcs_service_account
    op = make_op(credential=account.json)
    await op.write("f", b"x")
    assert await op.read("f") == b"x"
    assert (await op.stat("f")).content_length == 1
    assert [e.path async for e in op.list("/")] == ["f"]
    # one token for all the calls, signed with the account's key
    assert len(proxy.token_requests) == 1
    form = proxy.token_requests[0]
    assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    claims = jwt.decode(
        form["assertion"], account.public_key, algorithms=["RS256"], audience=account.info["token_uri"]
    )
    assert claims["iss"] == account.client_email and claims["scope"] == DEFAULT_SCOPE
    calls = [r for r in proxy.records if r.path != "/token"]
    assert calls and all(r.headers.get("Authorization") == f"Bearer {proxy.access_token}" for r in calls)
    with pytest.raises(errors.NotFound) as info:
        await op.read("missing")
    assert proxy.access_token not in str(info.value)
    # closing forgets the token; the next call gets a new one on a new session
    await op.close()
    await op.stat("f")
    assert len(proxy.token_requests) == 2


async def test_one_shared_session(make_op: Callable[..., Operator]) -> None:
    op = make_op()
    core = _gcs(op).core
    await op.write("a", b"1")
    session = await core.session()
    await op.read("a")
    await op.stat("a")
    assert await core.session() is session
    await op.close()
    assert session.closed
    await op.close()  # twice is fine
    await op.stat("a")
    assert (await core.session()) is not session
    async with make_op() as opened:
        assert not (await _gcs(opened).core.session()).closed


async def test_predefined_acl_and_storage_class(
    make_op: Callable[..., Operator], proxy: GcsProxy, root: str
) -> None:
    op = make_op(predefined_acl="publicRead", default_storage_class="NEARLINE")
    core = _gcs(op).core
    await op.write("one-shot", b"x")
    await op.write("streamed", [b"y" * 300_000] * 4, chunk=256 * 1024)
    await op.create_dir("dir/")
    for name in ("one-shot", "streamed", "dir/"):
        resource = await core.send_json("GET", core.object_url(root + name), params={"projection": "full"})
        assert {"entity": "allUsers", "role": "READER"}.items() <= resource["acl"][0].items(), name
        if name != "streamed":  # fake-gcs-server drops storageClass from resumable uploads
            assert resource["storageClass"] == "NEARLINE", name
    starts = [r for r in proxy.records if r.method == "POST" and r.name is not None]
    assert {r.query.get("uploadType") for r in starts} == {"multipart", "resumable"}
    for start in starts:
        assert start.query.get("predefinedAcl") == "publicRead"
        assert start.resource is not None and start.resource["storageClass"] == "NEARLINE"
    await op.copy("one-shot", "copied")
    rewrite = next(r for r in proxy.records if "rewriteTo" in r.path)
    assert rewrite.query.get("destinationPredefinedAcl") == "publicRead"


# -- presign ----------------------------------------------------------------------------------------


def _verify_v4(request: PresignedRequest, account: ServiceAccountKey) -> dict[str, str]:
    """Rebuild the V4 string to sign from the URL (Google's documented steps) and check
    the signature with the account's public key. Returns the query parameters."""
    parts = urllib.parse.urlsplit(request.url)
    params = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    signature = bytes.fromhex(params.pop("X-Goog-Signature"))
    email, date, location, service, kind = params["X-Goog-Credential"].split("/")
    assert (email, location, service, kind) == (account.client_email, "auto", "storage", "goog4_request")
    assert params["X-Goog-Algorithm"] == "GOOG4-RSA-SHA256"
    assert params["X-Goog-Date"].startswith(date)
    headers = {"host": parts.netloc, **{k.lower(): v for k, v in request.headers.items()}}
    assert params["X-Goog-SignedHeaders"] == ";".join(sorted(headers))

    def enc(value: str) -> str:
        return urllib.parse.quote(value, safe="-_.~")

    canonical = "\n".join(
        [
            request.method,
            parts.path,
            "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(params.items())),
            "".join(f"{k}:{v}\n" for k, v in sorted(headers.items())),
            params["X-Goog-SignedHeaders"],
            "UNSIGNED-PAYLOAD",
        ]
    )
    to_sign = "\n".join(
        [
            "GOOG4-RSA-SHA256",
            params["X-Goog-Date"],
            f"{date}/auto/storage/goog4_request",
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )
    account.public_key.verify(signature, to_sign.encode(), padding.PKCS1v15(), hashes.SHA256())
    return params


async def test_presigned_urls_work_on_the_emulator_and_verify(
    make_op: Callable[..., Operator],
    gcs_server: FakeGcsServer,
    gcs_service_account: ServiceAccountKey,
    root: str,
) -> None:
    account = gcs_service_account
    op = make_op(credential=account.json, endpoint=gcs_server.url)
    name = "dir/a file+plus~é"
    await op.write(name, b"presigned body")
    read = await op.presign_read(name, 600)
    stat = await op.presign_stat(name, dt.timedelta(minutes=5))
    write = await op.presign_write(name, 60)
    assert (read.method, stat.method, write.method) == ("GET", "HEAD", "PUT")
    prefix = f"{gcs_server.url}/{gcs_server.bucket}/{urllib.parse.quote(root + name, safe='/~')}?"
    for request, expire in ((read, "600"), (stat, "300"), (write, "60")):
        assert request.url.startswith(prefix)
        assert _verify_v4(request, account)["X-Goog-Expires"] == expire
    # fake-gcs-server serves path-style URLs (it does not check signatures, so the
    # verification above is what proves them)
    async with aiohttp.ClientSession() as session:
        async with session.get(yarl.URL(read.url, encoded=True)) as answer:
            assert answer.status == 200
            assert await answer.read() == b"presigned body"
        async with session.head(yarl.URL(stat.url, encoded=True)) as answer:
            assert answer.status == 200
            assert answer.headers["Content-Length"] == str(len(b"presigned body"))


async def test_presign_signature_breaks_when_tampered(
    make_op: Callable[..., Operator], gcs_service_account: ServiceAccountKey
) -> None:
    op = make_op(credential=gcs_service_account.json)
    request = await op.presign_read("f", 60)
    tampered = PresignedRequest(request.method, request.url.replace("/f?", "/g?"), request.headers)
    with pytest.raises(InvalidSignature):
        _verify_v4(tampered, gcs_service_account)


async def test_presign_expiry_limits(
    make_op: Callable[..., Operator], gcs_service_account: ServiceAccountKey
) -> None:
    op = make_op(credential=gcs_service_account.json)
    assert (await op.presign_read("f", dt.timedelta(days=7))).url
    with pytest.raises(errors.ConfigInvalid, match="7 days"):
        await op.presign_read("f", dt.timedelta(days=7, seconds=1))


async def test_presign_needs_a_private_key(make_op: Callable[..., Operator]) -> None:
    op = make_op(token="ya29.no-key")
    with pytest.raises(errors.Unsupported):
        await op.presign_read("f", 60)
