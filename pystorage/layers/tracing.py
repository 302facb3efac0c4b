"""One OpenTelemetry span per operation.

:class:`TracingLayer` needs the ``tracing`` extra (``pip install
"pystorage[tracing]"``, which installs ``opentelemetry-api``); spans go to
whatever tracer provider the application configured::

    from pystorage.layers import RetryLayer, TracingLayer

    op = Operator("s3", bucket="b").layer(TracingLayer(), RetryLayer())
    await op.read("a.txt")   # one CLIENT span "s3 read", child of the current span

Each span is named ``"<service> <operation>"`` (``"s3 read"``, ``"fs
create_multipart"``: few distinct names, as OpenTelemetry asks) and carries:

==========================  =======================================================
``pystorage.service``       the scheme (``"s3"``, ``"gcs"``, ``"memory"`` ...)
``pystorage.operation``     the operation (``"read"``, ``"write"``, ``"delete_many"`` ...)
``pystorage.path``          the path, relative to the operator's root (unless ``paths=False``)
``pystorage.target``        the destination of ``copy`` / ``rename`` (unless ``paths=False``)
``pystorage.bytes``         bytes delivered (reads), written (writes), sent (parts)
``pystorage.entries``       entries listed, or paths of a ``delete_many``
``pystorage.outcome``       ``"ok"``, an error kind (``"NotFound"``), ``"closed"``, ``"aborted"`` ...
``error.type``              the error kind or exception class, on failure (OpenTelemetry semconv)
==========================  =======================================================

* A one-shot call's span covers the call; a read or write stream's span
  starts with its opening request and ends when the stream ends, fails, is
  closed or aborted; a listing's span covers its pages until it ends or is closed.
* Failures set the span status to ``ERROR`` with ``str()`` of the pystorage
  error (which carries no secret) or only the class name of a foreign
  exception. ``NotFound`` and ``ConditionNotMatch`` are outcomes, not
  failures (``exists()`` and conditional requests expect them): their status stays unset.
* Never in a span: data, keys, credentials, presigned URLs, metadata values.
* The span is current while the call (or a stream's opening request) runs,
  so the HTTP client's own spans, if it is instrumented, are its children.

Ordering caveat: outside :class:`~pystorage.layers.RetryLayer` one span covers
each operation with its final outcome; inside it, one span per attempt.
"""

from __future__ import annotations

import contextlib
import dataclasses

from ..errors import ConditionNotMatch, ConfigInvalid, Error, NotFound
from ..raw.accessor import Accessor
from ..raw.layer import Layer
from ..raw.observe import Observation, ObservingAccessor

try:
    from opentelemetry import trace
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError('TracingLayer needs the "tracing" extra: pip install "pystorage[tracing]"') from exc

__all__ = ["TracingLayer"]


@dataclasses.dataclass(frozen=True)
class TracingLayer(Layer):
    """Record one OpenTelemetry span per operation (see the module docs).

    Args:
        tracer_provider: where spans go (default ``None``: the global provider
            set with ``opentelemetry.trace.set_tracer_provider``).
        paths: record ``pystorage.path`` / ``pystorage.target`` (default
            ``True``); turn off where object names are themselves sensitive.

    Raises:
        errors.ConfigInvalid: ``paths`` is not a bool.
    """

    tracer_provider: trace.TracerProvider | None = None
    paths: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.paths, bool):
            raise ConfigInvalid(f"TracingLayer: paths must be a bool, got {self.paths!r}")

    def layer(self, inner: Accessor) -> Accessor:
        """Wrap ``inner`` in an accessor recording spans."""
        return _TracingAccessor(inner, self)


class _TracingAccessor(ObservingAccessor):
    def __init__(self, inner: Accessor, config: TracingLayer) -> None:
        super().__init__(inner)
        self._paths = config.paths
        # with the global provider, a proxy that follows a provider set later
        self._tracer = trace.get_tracer("pystorage", tracer_provider=config.tracer_provider)

    def _begin(self, obs: Observation) -> None:
        service = self.inner.info().scheme
        attributes: dict[str, str] = {
            "pystorage.service": service,
            "pystorage.operation": str(obs.op),
        }
        if self._paths:
            attributes["pystorage.path"] = obs.path
            if obs.target is not None:
                attributes["pystorage.target"] = obs.target
        obs.handle = self._tracer.start_span(
            f"{service} {obs.op}", kind=trace.SpanKind.CLIENT, attributes=attributes
        )

    def _scope(self, obs: Observation) -> contextlib.AbstractContextManager[object]:
        span: trace.Span = obs.handle
        return trace.use_span(span, record_exception=False, set_status_on_exception=False)

    def _end(self, obs: Observation, exc: BaseException | None, outcome: str) -> None:
        span: trace.Span = obs.handle
        if obs.nbytes is not None:
            span.set_attribute("pystorage.bytes", obs.nbytes)
        if obs.entries is not None:
            span.set_attribute("pystorage.entries", obs.entries)
        span.set_attribute("pystorage.outcome", outcome)
        if exc is not None and not isinstance(exc, (NotFound, ConditionNotMatch, GeneratorExit)):
            span.set_attribute("error.type", outcome)
            description = str(exc) if isinstance(exc, Error) else type(exc).__name__
            span.set_status(trace.Status(trace.StatusCode.ERROR, description))
        span.end()
