"""Layers: accessors wrapping accessors, applied with ``op.layer(a, b)``.

``op.layer(a, b)`` puts ``a`` outside ``b``: a call goes through ``a``, then
``b``, then the service. A sensible order, outermost first::

    op = Operator("s3", bucket="b").layer(
        LoggingLayer(),               # one record per operation, final outcome
        RetryLayer(),                 # retries temporary errors, resumes reads
        TimeoutLayer(),               # inside retry: a timed-out attempt is retried
        ConcurrentLimitLayer(64),     # tokens held only while a request is in flight
    )

Each layer's module documents its own ordering caveats. ``TracingLayer``
and ``MetricsLayer`` need the ``tracing`` extra (OpenTelemetry),
``EncryptionLayer`` the ``crypto`` extra; each is imported on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .chaos import ChaosLayer
from .concurrent_limit import ConcurrentLimitLayer
from .logging import LoggingLayer
from .retry import RetryLayer
from .sse import ServerSideEncryptionLayer
from .timeout import TimeoutLayer

if TYPE_CHECKING:
    from .encryption import EncryptionLayer
    from .metrics import MetricsLayer
    from .tracing import TracingLayer

__all__ = [
    "ChaosLayer",
    "ConcurrentLimitLayer",
    "EncryptionLayer",
    "LoggingLayer",
    "MetricsLayer",
    "RetryLayer",
    "ServerSideEncryptionLayer",
    "TimeoutLayer",
    "TracingLayer",
]


#: layers needing an optional extra, by name: the module holding each
_OPTIONAL = {"EncryptionLayer": "encryption", "MetricsLayer": "metrics", "TracingLayer": "tracing"}


def __getattr__(name: str) -> Any:
    # these need an optional extra (cryptography, opentelemetry-api): imported on first use
    if name in _OPTIONAL:
        module = importlib.import_module(f".{_OPTIONAL[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
