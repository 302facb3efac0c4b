"""The S3 limit line: ``curl`` fetching a presigned URL to ``/dev/null`` (GET workloads only).

The URL is presigned by botocore in this process (pure computation, no
request); curl's own CPU is counted (it is a reaped child of the measured
process), and its peak RSS is reported instead of the process's growth.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from . import Contender

__all__ = ["CONTENDER", "CurlS3", "run_tool"]

_GET_ONLY = "the curl line measures GETs only"


async def run_tool(argv: list[str]) -> str:
    """Run a command-line tool, raising on a non-zero exit; return its stdout."""
    import anyio

    result = await anyio.run_process(argv, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{argv[0]} exited with {result.returncode}: {result.stderr.decode()[-500:]}")
    return result.stdout.decode()


class CurlS3(Contender):
    """``curl -sS -f -o /dev/null <presigned GET URL>``."""

    name = "curl"
    family = "s3"
    role = "limit"
    label = "curl on a presigned URL (limit line)"
    unsupported: ClassVar[Mapping[str, str]] = {
        "get_range": _GET_ONLY + " of whole objects (one process per request would measure process start-up)",
        "put": _GET_ONLY,
        "put_buffer": _GET_ONLY,
        "put_stream": _GET_ONLY,
        "delete": _GET_ONLY,
        "list": _GET_ONLY,
        "small_get": _GET_ONLY + " of big objects (a process per small object measures process start-up)",
    }

    def __init__(self) -> None:
        self.client: Any = None
        self.bucket = ""

    async def setup(self, cfg: Mapping[str, Any]) -> None:
        """A botocore client used only to presign."""
        import botocore.session  # type: ignore[import-untyped,unused-ignore]
        from botocore.config import Config  # type: ignore[import-untyped,unused-ignore]

        self.bucket = cfg["bucket"]
        self.client = botocore.session.get_session().create_client(
            "s3",
            endpoint_url=cfg["endpoint"],
            region_name=cfg["region"],
            aws_access_key_id=cfg["access_key_id"],
            aws_secret_access_key=cfg["secret_access_key"],
            config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"),
        )

    async def _fetch(self, key: str) -> int:
        url = self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=3600
        )
        out = await run_tool(["curl", "-sS", "-f", "-o", "/dev/null", "-w", "%{size_download}", url])
        return int(out.strip() or 0)

    async def get(self, key: str) -> int:
        """One curl to ``/dev/null``."""
        return await self._fetch(key)

    async def get_stream(self, key: str, chunk: int) -> int:
        """The same as ``get`` (curl always streams)."""
        return await self._fetch(key)

    async def close(self) -> None:
        """Close the presigning client."""
        if self.client is not None:
            self.client.close()


CONTENDER = CurlS3
