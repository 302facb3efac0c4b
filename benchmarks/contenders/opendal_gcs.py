"""The OpenDAL GCS peer: ``opendal.AsyncOperator("gcs", ...)`` on fake-gcs-server (Rust core)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from .opendal_s3 import OpendalS3

__all__ = ["CONTENDER", "OpendalGcs"]


class OpendalGcs(OpendalS3):
    """``AsyncOperator("gcs")`` with the same calls as :class:`OpendalS3`.

    Built with ``allow_anonymous`` (the emulator takes no credentials),
    ``disable_vm_metadata`` and ``disable_config_load`` so that it never looks
    for credentials elsewhere.

    Its chunked writes (``write(chunk=)``, ``open("wb", chunk=)``) are GCS's XML
    API multipart upload (``POST /bucket/key?uploads``), which fake-gcs-server
    does not serve (it answers 400 "invalid uploadType"): those workloads are
    not run.
    """

    name = "opendal_gcs"
    family = "gcs"
    role = "peer"
    label = "opendal.AsyncOperator('gcs')"
    unsupported: ClassVar[Mapping[str, str]] = {
        kind: "opendal's chunked GCS write is the XML API multipart upload, which fake-gcs-server"
        " refuses (400 invalid uploadType)"
        for kind in ("put_buffer", "put_stream")
    }

    async def setup(self, cfg: Mapping[str, Any]) -> None:
        """Build the operator (anonymous; no config file or VM metadata lookups)."""
        import opendal

        self.op = opendal.AsyncOperator(
            "gcs",
            bucket=cfg["bucket"],
            endpoint=cfg["endpoint"],
            allow_anonymous="true",
            disable_vm_metadata="true",
            disable_config_load="true",
        )


CONTENDER = OpendalGcs
