"""opendalfs, the OpenDAL-based fsspec filesystem (protocol ``opendal+s3``).

Its releases need Python >= 3.12, so on older interpreters the line is ``n/a``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._fsspec import FsspecContender

__all__ = ["CONTENDER", "OpendalFsspec"]


class OpendalFsspec(FsspecContender):
    """``fsspec.filesystem("opendal+s3", endpoint=, region=, access_key_id=, secret_access_key=)``:
    paths ``bucket/key`` (the URL host is the bucket)."""

    name = "opendalfs"
    label = "opendalfs (opendal+s3)"

    def filesystem(self, cfg: Mapping[str, Any]) -> Any:
        """OpenDAL's s3 config keys."""
        import fsspec
        import opendalfs  # type: ignore[import-not-found,unused-ignore]  # noqa: F401  (registers the protocols)

        self.prefix = f"{cfg['bucket']}/"
        return fsspec.filesystem(
            "opendal+s3",
            endpoint=cfg["endpoint"],
            region=cfg["region"],
            access_key_id=cfg["access_key_id"],
            secret_access_key=cfg["secret_access_key"],
            skip_instance_cache=True,
        )


CONTENDER = OpendalFsspec
