"""Request counts, bytes, errors by kind and latency histograms, as OpenTelemetry metrics.

:class:`MetricsLayer` needs the ``tracing`` extra (``pip install
"pystorage[tracing]"``, which installs ``opentelemetry-api``); the metrics go
to whatever meter provider the application configured (OTLP, or Prometheus
through ``opentelemetry-exporter-prometheus``)::

    from pystorage.layers import MetricsLayer, RetryLayer

    op = Operator("s3", bucket="b").layer(MetricsLayer(), RetryLayer())

Instruments (meter ``"pystorage"``), each with the attributes
``pystorage.service`` (``"s3"`` ...) and ``pystorage.operation`` (``"read"``,
``"write"``, ``"delete_many"`` ...):

=================================  =========  ====  ==============================================
``pystorage.operations``           counter    1     operations finished, by ``pystorage.outcome``
``pystorage.errors``               counter    1     failures, by ``error.type`` (``"NotFound"``,
                                                    ``"RateLimited"``, a foreign class name ...)
``pystorage.operation.duration``   histogram  s     latency, by ``pystorage.outcome``
``pystorage.bytes``                counter    By    bytes read (``read``) and written (``write``,
                                                    ``write_once``, ``write_part``)
=================================  =========  ====  ==============================================

* A one-shot call is measured when it returns; a read or write stream from
  its opening request to its end (so ``read`` latency includes the transfer);
  a listing until it ends or is closed. Streams closed before their end count
  with outcome ``"closed"`` (``"aborted"`` for an aborted writer), not as errors.
* ``NotFound`` and ``ConditionNotMatch`` are counted under ``pystorage.errors``
  like any failure: filter them by ``error.type`` where they are expected.
* No attribute carries a path, data or secret: the attributes have few
  distinct values, as metrics backends need.

Why OpenTelemetry rather than ``prometheus-client``: one optional dependency
shared with :class:`~pystorage.layers.TracingLayer`; no process-global
registry (each application chooses its provider and exporters, and two
operators never collide on a metric name); push (OTLP) and pull
(Prometheus) alike; and an in-memory reader for tests.

Ordering caveat: outside :class:`~pystorage.layers.RetryLayer` each operation
is counted once with its final outcome; inside it, every attempt.
"""

from __future__ import annotations

import dataclasses

from ..raw.accessor import Accessor
from ..raw.layer import Layer
from ..raw.observe import Observation, ObservingAccessor
from ..raw.ops import Operation

try:
    from opentelemetry import metrics
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError('MetricsLayer needs the "tracing" extra: pip install "pystorage[tracing]"') from exc

__all__ = ["MetricsLayer"]

#: the operations whose bytes are counted: bytes received or sent, once
_MOVES_BYTES = frozenset({Operation.READ, Operation.WRITE, Operation.WRITE_ONCE, Operation.WRITE_PART})
#: how a stream may end without failing
_NOT_ERRORS = frozenset({"ok", "closed", "aborted"})


@dataclasses.dataclass(frozen=True)
class MetricsLayer(Layer):
    """Record OpenTelemetry metrics per service and operation (see the module docs).

    Args:
        meter_provider: where metrics go (default ``None``: the global provider
            set with ``opentelemetry.metrics.set_meter_provider``).
    """

    meter_provider: metrics.MeterProvider | None = None

    def layer(self, inner: Accessor) -> Accessor:
        """Wrap ``inner`` in an accessor recording metrics."""
        return _MetricsAccessor(inner, self)


class _MetricsAccessor(ObservingAccessor):
    def __init__(self, inner: Accessor, config: MetricsLayer) -> None:
        super().__init__(inner)
        # with the global provider, a proxy that follows a provider set later
        meter = metrics.get_meter("pystorage", meter_provider=config.meter_provider)
        self._operations = meter.create_counter(
            "pystorage.operations", unit="1", description="Storage operations finished"
        )
        self._errors = meter.create_counter(
            "pystorage.errors", unit="1", description="Storage operations failed, by error type"
        )
        self._duration = meter.create_histogram(
            "pystorage.operation.duration", unit="s", description="Duration of storage operations"
        )
        self._bytes = meter.create_counter(
            "pystorage.bytes", unit="By", description="Bytes read from or written to storage"
        )

    def _end(self, obs: Observation, exc: BaseException | None, outcome: str) -> None:
        attributes = {"pystorage.service": self.inner.info().scheme, "pystorage.operation": str(obs.op)}
        if obs.nbytes and obs.op in _MOVES_BYTES:
            self._bytes.add(obs.nbytes, attributes)
        if outcome not in _NOT_ERRORS:
            self._errors.add(1, {**attributes, "error.type": outcome})
        attributes["pystorage.outcome"] = outcome
        self._operations.add(1, attributes)
        self._duration.record(obs.duration, attributes)
