"""One stdlib log record per operation.

:class:`LoggingLayer` logs what each call did, how long it took and how it
ended::

    import logging
    logging.basicConfig(level=logging.DEBUG)
    op = Operator("memory").layer(LoggingLayer())
    await op.write("a.txt", b"hello")
    # DEBUG:pystorage:memory write 'a.txt': ok, 5 bytes in 0.000s

Each record carries its fields in ``extra`` too, for structured handlers:
``pystorage_service``, ``pystorage_operation``, ``pystorage_path``,
``pystorage_target`` (destination of ``copy``/``rename``), ``pystorage_bytes``,
``pystorage_entries`` (items listed, or paths of a ``delete_many``),
``pystorage_duration`` (seconds), ``pystorage_outcome`` (``"ok"``, an
:class:`~pystorage.errors.ErrorKind` value such as ``"NotFound"``,
``"closed"``, ``"aborted"``, ``"cancelled"``, or the class name of a foreign
exception) and ``pystorage_error`` (``str()`` of a pystorage error, else ``None``).

* Successes are logged at ``level``. So are ``NotFound`` and
  ``ConditionNotMatch``: they are outcomes (``exists()`` and conditional
  requests expect them), not failures. Every other failure is logged at
  ``WARNING``.
* A read stream is logged once, when it ends, fails or is closed, with the
  bytes delivered and the time since it was opened; a streamed write when it
  is committed, fails or is aborted, with the bytes written; a listing when it
  ends, fails or is closed, with the number of entries. A stream abandoned
  without being closed is not logged.
* Data is never logged, nor anything but ``str()`` of a pystorage error
  (which carries no secret); a foreign exception is logged by class name only.
  Presigned URLs are not logged.
* When the logger is disabled for both ``level`` and ``WARNING`` the layer
  costs one ``isEnabledFor`` check per call and wraps no stream.

Ordering caveat: outside :class:`~pystorage.layers.RetryLayer` this layer
logs each operation once with its final outcome; inside it, every attempt.
"""

from __future__ import annotations

import dataclasses
import logging

from ..errors import ConditionNotMatch, ConfigInvalid, Error, NotFound
from ..raw.accessor import Accessor
from ..raw.layer import Layer
from ..raw.observe import Observation, ObservingAccessor

__all__ = ["LoggingLayer"]


@dataclasses.dataclass(frozen=True)
class LoggingLayer(Layer):
    """Log one record per operation with the stdlib :mod:`logging` module.

    Args:
        logger: a logger name or a :class:`logging.Logger` (default ``"pystorage"``).
        level: level of successes and of ``NotFound`` / ``ConditionNotMatch``
            outcomes (default ``logging.DEBUG``); other failures use ``WARNING``.

    Raises:
        errors.ConfigInvalid: ``logger`` is not a name or logger, or ``level``
            is not a positive int (the message names the field).
    """

    logger: str | logging.Logger = "pystorage"
    level: int = logging.DEBUG

    def __post_init__(self) -> None:
        if not isinstance(self.logger, (str, logging.Logger)):
            raise ConfigInvalid(
                f"LoggingLayer: logger must be a name or a logging.Logger, got {self.logger!r}"
            )
        if not isinstance(self.level, int) or isinstance(self.level, bool) or self.level <= 0:
            raise ConfigInvalid(f"LoggingLayer: level must be a logging level > 0, got {self.level!r}")

    def layer(self, inner: Accessor) -> Accessor:
        """Wrap ``inner`` in a logging accessor."""
        return _LoggingAccessor(inner, self)


def _level(exc: BaseException | None, level: int) -> tuple[int, str | None]:
    """``(log level, error text)`` of how a call ended."""
    if isinstance(exc, (NotFound, ConditionNotMatch)):
        return level, str(exc)
    if isinstance(exc, Error):
        return logging.WARNING, str(exc)
    if isinstance(exc, Exception):
        return logging.WARNING, None
    return level, None


class _LoggingAccessor(ObservingAccessor):
    def __init__(self, inner: Accessor, config: LoggingLayer) -> None:
        super().__init__(inner)
        logger = config.logger
        self.logger = logger if isinstance(logger, logging.Logger) else logging.getLogger(logger)
        self.level = config.level
        # enabled for ``level`` or for WARNING  <=>  enabled for the higher of the two
        self._any_level = max(config.level, logging.WARNING)

    def _observing(self) -> bool:
        return self.logger.isEnabledFor(self._any_level)

    def _end(self, obs: Observation, exc: BaseException | None, outcome: str) -> None:
        duration = obs.duration
        level, error = _level(exc, self.level)
        if not self.logger.isEnabledFor(level):
            return
        service = self.inner.info().scheme
        operation = str(obs.op)
        where = repr(obs.path) if obs.target is None else f"{obs.path!r} -> {obs.target!r}"
        counts = ""
        if obs.nbytes is not None:
            counts += f", {obs.nbytes} bytes"
        if obs.entries is not None:
            counts += f", {obs.entries} entries"
        self.logger.log(
            level,
            "%s %s %s: %s%s in %.3fs%s",
            service, operation, where, outcome, counts, duration, f": {error}" if error else "",
            extra={
                "pystorage_service": service,
                "pystorage_operation": operation,
                "pystorage_path": obs.path,
                "pystorage_target": obs.target,
                "pystorage_bytes": obs.nbytes,
                "pystorage_entries": obs.entries,
                "pystorage_duration": duration,
                "pystorage_outcome": outcome,
                "pystorage_error": error,
            },
        )
