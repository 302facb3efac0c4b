"""``bwlimit``: one byte budget shared by every transfer of a job."""

from __future__ import annotations

import anyio

__all__ = ["Bandwidth"]


class Bandwidth:
    """Limits the bytes per second read from the source, across all transfers.

    Each caller reserves its bytes before moving them and sleeps until the
    budget reaches its reservation, so the long-run rate is at most
    ``rate`` bytes per second whatever the number of concurrent transfers
    (a piece starts at most ``burst`` seconds early).

    Args:
        rate: bytes per second (at least 1).
        burst: seconds of budget that may be spent at once (default 0.25).

    Raises:
        ValueError: ``rate`` below 1.
    """

    def __init__(self, rate: int, *, burst: float = 0.25) -> None:
        if not isinstance(rate, int) or isinstance(rate, bool) or rate < 1:
            raise ValueError(f"bwlimit must be an int >= 1 (bytes per second), got {rate!r}")
        self.rate = rate
        self._burst = burst
        self._next: float | None = None

    async def __call__(self, size: int) -> None:
        """Reserve ``size`` bytes; returns when they may be moved."""
        if size <= 0:
            return
        now = anyio.current_time()
        start = now - self._burst if self._next is None else max(self._next, now - self._burst)
        self._next = start + size / self.rate
        delay = start - now
        if delay > 0:
            await anyio.sleep(delay)
