"""The obstore peer of the azblob family: ``obstore.store.AzureStore`` (Rust object_store)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .obstore_s3 import ObstoreS3

__all__ = ["CONTENDER", "ObstoreAzblob"]


class ObstoreAzblob(ObstoreS3):
    """``AzureStore`` with the same ``*_async`` calls as :class:`ObstoreS3`, plus ranged
    reads (``get_range_async``: Azurite answers ranges with 206)."""

    name = "obstore_azblob"
    family = "azblob"
    role = "peer"
    label = "obstore AzureStore (async functions)"
    unsupported: Mapping[str, str] = {}  # type: ignore[misc]

    async def setup(self, cfg: Mapping[str, Any]) -> None:
        """Build the store against the emulator endpoint (plain HTTP allowed)."""
        import obstore
        from obstore.store import AzureStore

        self.obs = obstore
        self.store: Any = AzureStore(
            cfg["container"],
            config={
                "account_name": cfg["account_name"],
                "account_key": cfg["account_key"],
                "endpoint": cfg["endpoint"],
            },
            client_options={"allow_http": True},
        )

    async def get_range(self, key: str, offset: int, size: int) -> int:
        """``get_range_async(store, key, start=, length=)``."""
        data = await self.obs.get_range_async(self.store, key, start=offset, length=size)
        return len(data)


CONTENDER = ObstoreAzblob
