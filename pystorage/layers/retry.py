"""Retry temporary failures with exponential backoff; resume broken reads.

:class:`RetryLayer` is the only retrier in pystorage (drivers switch their
SDK's own retries off, so attempts do not multiply)::

    op = Operator("s3", bucket="b").layer(
        RetryLayer(max_times=4, min_delay=0.5),   # outside ...
        TimeoutLayer(timeout=30.0),                # ... so a timed-out attempt is retried
        LoggingLayer(),                            # inside: one record per attempt
    )

What is retried:

* only :class:`~pystorage.errors.Error` with ``temporary=True`` (rate limits,
  5xx, dropped connections, timeouts); anything else is raised at once;
* ``max_times=3`` means up to 3 retries after the first attempt (4 attempts);
  when the last attempt fails, a copy of the error is raised: same class,
  fields, cause and traceback, but persistent (``temporary=False``) and with
  a message saying how many attempts were made (the error caught is left
  intact, and chained as the copy's ``__context__``);
* the delay before retry ``n`` (0-based) is ``min(max_delay, min_delay *
  factor ** n)``; with ``jitter`` it is drawn uniformly from ``[delay / 2,
  delay]``. When the error carries ``retry_after`` (``Retry-After`` on
  :class:`~pystorage.errors.RateLimited` and some 503s) the layer sleeps
  ``max(delay, min(retry_after, max_delay))``: the service's request is
  honoured up to ``max_delay``, never beyond (a ``Retry-After: 86400`` from a
  misbehaving proxy must not park a call for a day);
* every one-shot call is retried whole: ``stat``, ``create_dir``, ``read`` (the
  opening request), ``write`` (opening the writer only), ``write_once``,
  ``initiate_multipart``, ``write_part`` (the failed part alone, with the same
  bytes), ``complete_multipart``, ``abort_multipart``, ``delete``,
  ``delete_batch``, ``copy``, ``rename``, ``presign``;
* **read streams resume**: when a stream fails (or ends before its announced
  size) after delivering ``n`` bytes, it is closed and reopened at
  ``op.shifted(n)``, so the caller receives exactly the object's bytes, with
  no duplicates and no gaps (a reader's ``read_rest`` fast path is kept and
  resumed the same way). When the caller pinned neither ``if_match`` nor
  ``version`` and the service supports ``read_with_if_match``, the reopened
  request carries ``if_match=<etag of the first response>``: if the object was
  replaced meanwhile the read fails with ``ConditionNotMatch`` instead of
  splicing two versions; where the service cannot take ``if_match``, a
  reopened response whose etag differs from the first raises
  ``ConditionNotMatch`` all the same. A stream may break many times as long as it makes
  progress: ``max_times`` bounds the consecutive failures without a byte
  delivered in between (the opening included), and the backoff restarts
  from ``min_delay`` after progress. A long download that drops now and then
  completes; a stream that cannot deliver gives up like any call;
* **listings resume** after the last page yielded: the listing is reopened
  with ``start_after`` set to its last path (when the service supports
  ``list_with_start_after``; otherwise from the start) and entries not after
  it are skipped, relying on the lexicographic order of the accessor
  contract. Listings of versions, ``list_parts`` and
  ``list_multipart_uploads`` are retried only until their first page or item;
* bytes written through a streamed :class:`~pystorage.raw.accessor.RawWriter`
  are never retried: a stream cannot be replayed.

Ordering caveats:

* put :class:`~pystorage.layers.TimeoutLayer` **inside** (after) this layer,
  otherwise the deadline covers all attempts and their sleeps together, and a
  timed-out attempt is not retried;
* a :class:`~pystorage.layers.LoggingLayer` inside this layer logs every
  attempt, outside it logs each operation once;
* :class:`~pystorage.layers.ChaosLayer` belongs inside this layer (that is
  what it is for).

* **lost answers are reconciled**: a conditional ``write_once``
  (``if_not_exists``, ``if_match``, ``if_none_match``) that fails with
  ``ConditionNotMatch`` on a retry, after an attempt whose answer was lost,
  succeeds if the object at the path is now exactly the bytes sent
  (compared by MD5 with the service's ``content_md5`` or single-part ETag);
  on the first attempt a ``ConditionNotMatch`` is always a conflict. (The
  s3 driver reconciles a Complete answered ``NoSuchUpload`` itself.)

Warning:
    Retrying ``rename`` or ``initiate_multipart`` is not idempotent
    everywhere: a retry after a lost response may report ``NotFound`` (the
    first attempt succeeded) or leave an extra pending upload (billed until
    aborted; see ``abort_multipart_uploads``).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import logging
import random
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TypeVar

import anyio

from ..errors import ConditionNotMatch, ConfigInvalid, Error, Unexpected
from ..raw.accessor import Accessor, Buffer, RawReader
from ..raw.layer import Call, Layer, LayeredAccessor
from ..raw.ops import Operation, OpList, OpRead, OpStat, OpWrite
from ..raw.tasks import aclose_iterator
from ..types import Entry, Metadata, Part, UploadInfo

__all__ = ["RetryLayer"]

T = TypeVar("T")

_log = logging.getLogger("pystorage.retry")


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _given_up(err: Error, attempts: int) -> Error:
    """A persistent copy of ``err`` saying how many attempts were made; ``err`` is left intact."""
    copy = type(err)(
        f"{err.message} (gave up after {attempts} attempts)",
        operation=err.operation,
        path=err.path,
        service=err.service,
        temporary=False,
        retry_after=err.retry_after,
    )
    copy.__cause__ = err.__cause__
    copy.__context__ = err
    return copy.with_traceback(err.__traceback__)


@dataclasses.dataclass(frozen=True)
class RetryLayer(Layer):
    """Retry temporary errors with exponential backoff, resuming broken reads.

    Args:
        max_times: retries after the first attempt (default 3, i.e. up to 4
            attempts); ``0`` disables retrying but still marks errors persistent.
        min_delay: seconds before the first retry (default 1.0).
        max_delay: cap on every delay, in seconds (default 60.0), a
            ``retry_after`` sent by the service included.
        factor: growth of the delay between retries (default 2.0, >= 1).
        jitter: draw each delay uniformly from ``[delay / 2, delay]`` so that
            many clients do not retry in lockstep (default ``True``).

    Raises:
        errors.ConfigInvalid: a value is out of range (the message names it).
    """

    max_times: int = 3
    min_delay: float = 1.0
    max_delay: float = 60.0
    factor: float = 2.0
    jitter: bool = True

    def __post_init__(self) -> None:
        def bad(field: str, expected: str) -> ConfigInvalid:
            return ConfigInvalid(
                f"RetryLayer: {field} must be {expected}, got {getattr(self, field)!r}"
            )

        if not isinstance(self.max_times, int) or isinstance(self.max_times, bool) or self.max_times < 0:
            raise bad("max_times", "an int >= 0")
        if not _is_number(self.min_delay) or not self.min_delay >= 0:
            raise bad("min_delay", "a number >= 0")
        if not _is_number(self.max_delay) or not self.max_delay >= self.min_delay:
            raise bad("max_delay", "a number >= min_delay")
        if not _is_number(self.factor) or not self.factor >= 1:
            raise bad("factor", "a number >= 1")
        if not isinstance(self.jitter, bool):
            raise bad("jitter", "a bool")

    def layer(self, inner: Accessor) -> Accessor:
        """Wrap ``inner`` in a retrying accessor."""
        return _RetryAccessor(inner, self)


class _RetryAccessor(LayeredAccessor):
    def __init__(self, inner: Accessor, config: RetryLayer) -> None:
        super().__init__(inner)
        self.config = config
        self._random = random.Random()

    # policy ------------------------------------------------------------------
    def delay(self, retry: int, err: Error) -> float:
        """Seconds to sleep before retry number ``retry`` (0-based) after ``err``."""
        config = self.config
        try:
            delay = min(config.max_delay, config.min_delay * config.factor**retry)
        except OverflowError:
            delay = config.max_delay
        if config.jitter and delay > 0:
            delay = self._random.uniform(delay / 2, delay)
        if err.retry_after is not None:
            # honour the service's Retry-After, but never beyond max_delay
            delay = max(delay, min(err.retry_after, config.max_delay))
        return delay

    async def backoff(self, retry: int, err: Error, op: Operation, path: str) -> None:
        """Sleep before retry ``retry``, or raise a persistent copy of ``err``
        when the retries are used up. ``err`` must be temporary."""
        if retry >= self.config.max_times:
            raise _given_up(err, retry + 1)
        delay = self.delay(retry, err)
        if _log.isEnabledFor(logging.DEBUG):
            _log.debug(
                "retrying %s %r in %.3fs (retry %d of %d) after: %s",
                op, path, delay, retry + 1, self.config.max_times, err,
            )
        await anyio.sleep(delay)

    async def attempts(self, op: Operation, path: str, fn: Call[T]) -> tuple[T, int]:
        """Await ``fn()`` until it succeeds, fails for good or retries run
        out; the result and how many retries it took."""
        retry = 0
        while True:
            try:
                return await fn(), retry
            except Error as err:
                if not err.temporary:
                    raise
                await self.backoff(retry, err, op, path)
                retry += 1

    async def _call(self, op: Operation, path: str, fn: Call[T]) -> T:
        return (await self.attempts(op, path, fn))[0]

    # calls with semantics of their own ---------------------------------------
    async def write_once(self, path: str, data: Buffer, op: OpWrite) -> Metadata:
        attempts = 0

        async def attempt() -> Metadata:
            nonlocal attempts
            attempts += 1
            try:
                return await self.inner.write_once(path, data, op)
            except ConditionNotMatch:
                # a conditional PUT re-sent after a lost answer finds its own
                # first attempt in place: success, if the object is our bytes
                if attempts == 1 or not (op.if_not_exists or op.if_match or op.if_none_match):
                    raise
                meta = await self._written(path, data, op)
                if meta is None:
                    raise
                return meta

        return await self._call(Operation.WRITE_ONCE, path, Call(attempt).about(nbytes=len(data)))

    async def _written(self, path: str, data: Buffer, op: OpWrite) -> Metadata | None:
        """The object's metadata if what is at ``path`` now is ``data``
        (compared by MD5: the ``content_md5`` or single-part ETag the service reports)."""
        try:
            meta = await self.inner.stat(path, OpStat(sse=op.sse))
        except Error:
            return None
        if meta.content_length != len(memoryview(data).cast("B")):
            return None
        digest = hashlib.md5(data, usedforsecurity=False).digest()
        if meta.content_md5 is not None:
            return meta if meta.content_md5 == base64.b64encode(digest).decode() else None
        if meta.etag is not None and meta.etag.strip('"').lower() == digest.hex():
            return meta
        return None

    async def read(self, path: str, op: OpRead) -> RawReader:
        first, retries = await self.attempts(Operation.READ, path, Call(self.inner.read, path, op))
        return _RetryReader(self, path, op, first, retries)

    def list_pages(self, path: str, op: OpList) -> AsyncIterator[Sequence[Entry]]:
        if op.versions:
            return self._listing(Operation.LIST, path, lambda: self.inner.list_pages(path, op))
        last: list[str] = []  # the last path handed over, once there is one
        resume = self.inner.info().capability.list_with_start_after

        def reopen() -> AsyncIterator[Sequence[Entry]]:
            after = last[-1] if last else None
            current = dataclasses.replace(op, start_after=after) if after and resume else op
            return _pages_after(self.inner.list_pages(path, current), after, last)

        return self._listing(Operation.LIST, path, reopen, resumable=True)

    def list_parts(self, path: str, upload_id: str) -> AsyncIterator[Part]:
        return self._listing(Operation.LIST_PARTS, path, lambda: self.inner.list_parts(path, upload_id))

    def list_multipart_uploads(self, prefix: str) -> AsyncIterator[UploadInfo]:
        return self._listing(
            Operation.LIST_MULTIPART_UPLOADS, prefix, lambda: self.inner.list_multipart_uploads(prefix)
        )

    async def _listing(
        self, op: Operation, path: str, make: Callable[[], AsyncIterator[T]], *, resumable: bool = False
    ) -> AsyncIterator[T]:
        """The items of ``make()``, made again after a temporary failure:
        before the first item only, or at any point if ``resumable`` (then
        ``make`` resumes after what was handed over)."""
        retry = 0
        while True:
            started = False
            try:
                it = make()
                try:
                    async for item in it:
                        started = True
                        yield item
                finally:
                    await aclose_iterator(it)
                return
            except Error as err:
                if (started and not resumable) or not err.temporary:
                    raise
                await self.backoff(retry, err, op, path)
                retry += 1


async def _pages_after(
    pages: AsyncIterator[Sequence[Entry]], after: str | None, last: list[str]
) -> AsyncIterator[Sequence[Entry]]:
    """The pages without the entries up to ``after`` (handed over before the
    listing broke; the accessor contract orders listings), noting in ``last``
    the last path handed over. Closes ``pages``."""
    try:
        async for page in pages:
            if after is not None:
                page = [entry for entry in page if entry.path > after]
                if not page:
                    continue
                after = None  # the rest of the listing is new, in order
            if page:
                last[:] = (page[-1].path,)
            yield page
    finally:
        await aclose_iterator(pages)


class _RetryReader(RawReader):
    """Delivers one ranged read, reopening it after the bytes already
    delivered when the underlying stream fails with a temporary error.
    ``_retries`` counts the failures since the last byte delivered."""

    def __init__(
        self, accessor: _RetryAccessor, path: str, op: OpRead, first: RawReader, retries: int
    ) -> None:
        self._accessor = accessor
        self._path = path
        self._op = op
        self._reader: RawReader | None = first
        self._retries = retries
        self._delivered = 0
        self._done = False
        self.size = first.size
        self.metadata = first.metadata
        if first.read_rest is not None:
            self.read_rest = self._read_rest
        etag = first.metadata.etag if first.metadata is not None else None
        self._etag = etag
        self._pin: str | None = None
        if (
            etag
            and op.if_match is None
            and op.version is None
            and accessor.inner.info().capability.read_with_if_match
        ):
            self._pin = etag

    async def read(self) -> bytes:
        return await self._next(whole=False)

    async def _read_rest(self) -> bytes:
        """The rest of the range: the streams' ``read_rest`` where they have
        it, resumed like :meth:`read` after a failure."""
        pieces = []
        while piece := await self._next(whole=True):
            pieces.append(piece)
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    async def _next(self, whole: bool) -> bytes:
        """The next piece (``whole``: all the stream has left, if it can say)."""
        while True:
            if self._done:
                return b""
            reader = self._reader
            try:
                if reader is None:
                    reader = self._reader = await self._reopen()
                rest = reader.read_rest if whole else None
                data = await (rest() if rest is not None else reader.read())
            except Error as err:
                if not err.temporary:
                    raise
                await self._drop()
                if self.size is not None and self._delivered >= self.size:
                    self._done = True  # every byte was delivered; nothing to resume
                    return b""
                await self._accessor.backoff(self._retries, err, Operation.READ, self._path)
                self._retries += 1
                continue
            if data:
                self._delivered += len(data)
                self._retries = 0  # progress: the next failure starts a fresh budget
                return data
            if self.size is not None and self._delivered < self.size:
                short = Unexpected(
                    f"the stream ended after {self._delivered} of {self.size} bytes",
                    operation=str(Operation.READ), path=self._path, service=self._accessor.info().scheme,
                    temporary=True,
                )
                await self._drop()
                await self._accessor.backoff(self._retries, short, Operation.READ, self._path)
                self._retries += 1
                continue
            self._done = True
            await self._drop()
            return b""

    async def _reopen(self) -> RawReader:
        op = self._op.shifted(self._delivered)
        if self._pin is not None:
            op = dataclasses.replace(op, if_match=self._pin)
        reader = await self._accessor.inner.read(self._path, op)
        etag = reader.metadata.etag if reader.metadata is not None else None
        if self._etag and etag and etag != self._etag:
            # the service could not be asked to pin the etag; refuse to splice
            await reader.aclose()
            raise ConditionNotMatch(
                "the object changed while it was being read (etag differs on resumption)",
                operation=str(Operation.READ), path=self._path, service=self._accessor.info().scheme,
            )
        return reader

    async def _drop(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            try:
                await reader.aclose()
            except Error:
                pass  # the stream is broken already; closing it is best effort

    async def aclose(self) -> None:
        self._done = True
        reader, self._reader = self._reader, None
        if reader is not None:
            await reader.aclose()
