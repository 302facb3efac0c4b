"""Layers: accessors wrapping accessors, applied with ``op.layer(a, b)``.

``op.layer(a, b)`` puts ``a`` outside ``b``: a call goes through ``a``, then
``b``, then the service. A sensible order, outermost first::

    op = Operator("s3", bucket="b").layer(
        LoggingLayer(),               # one record per operation, final outcome
        RetryLayer(),                 # retries temporary errors, resumes reads
        TimeoutLayer(),               # inside retry: a timed-out attempt is retried
        ConcurrentLimitLayer(64),     # tokens held only while a request is in flight
    )

Each layer's module documents its own ordering caveats.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .chaos import ChaosLayer
from .concurrent_limit import ConcurrentLimitLayer
from .logging import LoggingLayer
from .retry import RetryLayer
from .sse import ServerSideEncryptionLayer
from .timeout import TimeoutLayer

if TYPE_CHECKING:
    from .encryption import EncryptionLayer

__all__ = [
    "ChaosLayer",
    "ConcurrentLimitLayer",
    "EncryptionLayer",
    "LoggingLayer",
    "RetryLayer",
    "ServerSideEncryptionLayer",
    "TimeoutLayer",
]


def __getattr__(name: str) -> Any:
    # EncryptionLayer needs the "crypto" extra (cryptography): imported on first use
    if name == "EncryptionLayer":
        from .encryption import EncryptionLayer

        return EncryptionLayer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
