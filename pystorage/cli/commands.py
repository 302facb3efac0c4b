"""The commands of ``pystorage``, each an ``async`` function of a
:class:`Context` and the parsed arguments.

Transfers are streamed: ``op.open(src, "rb")`` feeds ``op.open(dst, "wb")``
piece by piece, so no object is ever held whole in memory. Within one
operator (same service and config), ``cp`` and ``mv`` use the service's own
copy and rename.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import importlib.util
import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import IO, Any

import anyio

from .. import errors
from .._operator import Operator
from ..layers import LoggingLayer, RetryLayer, TimeoutLayer
from ..raw.layer import Layer
from ..raw.path import normalize_path
from ..types import Entry, Metadata
from .profiles import Profile, load_profiles
from .targets import Target, parse_target

__all__ = [
    "COMMANDS",
    "DEFAULT_CHUNK",
    "Context",
    "UsageError",
    "cmd_bench",
    "cmd_ls",
    "cmd_presign",
    "cmd_rm",
    "cmd_stat",
    "metadata_to_json",
    "parse_duration",
    "parse_size",
]

#: ranged-read chunk used for large objects when ``--chunk`` is not given
DEFAULT_CHUNK = 8 * 1024 * 1024

#: bytes read from standard input per piece
STDIN_PIECE = 1024 * 1024

#: listed objects up to this size are fetched with one GET (no HEAD first), guarded by their etag
SMALL_OBJECT = 1024 * 1024

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")
_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "k": 1024,
    "kib": 1024,
    "kb": 1000,
    "m": 1024**2,
    "mib": 1024**2,
    "mb": 1000**2,
    "g": 1024**3,
    "gib": 1024**3,
    "gb": 1000**3,
    "t": 1024**4,
    "tib": 1024**4,
    "tb": 1000**4,
}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$")
_DURATION_UNITS = {"": 1, "s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


class UsageError(Exception):
    """The command line asks for something that makes no sense (exit code 2)."""


def parse_size(text: str) -> int:
    """A byte size: ``"8MiB"``, ``"512k"``, ``"5MB"``, ``"1048576"``.

    ``K``/``KiB``, ``M``/``MiB``, ``G``/``GiB``, ``T``/``TiB`` are powers of
    1024; ``KB``, ``MB``, ``GB``, ``TB`` powers of 1000; case does not matter.

    Raises:
        ValueError: not a size, or not positive.
    """
    match = _SIZE.match(text)
    unit = match.group(2).lower() if match else ""
    if not match or unit not in _SIZE_UNITS:
        raise ValueError(f"invalid size {text!r} (e.g. 8MiB, 512KiB, 5MB, 1048576)")
    value = int(float(match.group(1)) * _SIZE_UNITS[unit])
    if value < 1:
        raise ValueError(f"invalid size {text!r}: must be at least 1 byte")
    return value


def parse_duration(text: str) -> float:
    """A duration in seconds: ``"3600"``, ``"90s"``, ``"15m"``, ``"12h"``, ``"7d"``.

    Raises:
        ValueError: not a duration, or not positive.
    """
    match = _DURATION.match(text.lower())
    if not match or match.group(2) not in _DURATION_UNITS:
        raise ValueError(f"invalid duration {text!r} (e.g. 3600, 90s, 15m, 12h, 7d)")
    value = float(match.group(1)) * _DURATION_UNITS[match.group(2)]
    if value <= 0:
        raise ValueError(f"invalid duration {text!r}: must be positive")
    return value


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def metadata_to_json(meta: Metadata) -> dict[str, Any]:
    """``meta`` as a JSON-able dict (``type``, ``size``, ``last_modified`` in ISO 8601 ...)."""
    return {
        "type": meta.mode.value,
        "size": meta.content_length,
        "last_modified": _iso(meta.last_modified),
        "etag": meta.etag,
        "version": meta.version,
        "content_type": meta.content_type,
        "content_md5": meta.content_md5,
        "cache_control": meta.cache_control,
        "content_disposition": meta.content_disposition,
        "content_encoding": meta.content_encoding,
        "user_metadata": meta.user_metadata,
        "encryption": None if meta.encryption is None else str(meta.encryption),
    }


@dataclasses.dataclass
class Context:
    """What every command shares: output settings, profiles and operators.

    Attributes:
        json_output: ``--json``: machine-readable output, one JSON object per line.
        verbose: ``--verbose``: one line per object transferred or removed.
        progress: draw progress bars (see :func:`~pystorage.cli.progress.progress_enabled`).
        retries: ``--retries``: retries of temporary errors (``RetryLayer``; 0 disables).
        timeout: ``--timeout``: seconds per call and per stream chunk (``TimeoutLayer``), or ``None``.
        debug: ``--debug``: log every operation (``LoggingLayer``) and show tracebacks.
        config_option: ``--config``, or ``None``.
        stdout: where results go (default: ``sys.stdout``).
        stderr: where notes go (default: ``sys.stderr``).
    """

    json_output: bool = False
    verbose: bool = False
    progress: bool = False
    retries: int = 3
    timeout: float | None = None
    debug: bool = False
    config_option: str | None = None
    stdout: IO[str] = dataclasses.field(default_factory=lambda: sys.stdout)
    stderr: IO[str] = dataclasses.field(default_factory=lambda: sys.stderr)
    _profiles: dict[str, Profile] | None = dataclasses.field(default=None, repr=False)
    _operators: dict[Any, Operator] = dataclasses.field(default_factory=dict, repr=False)

    def profiles(self) -> Mapping[str, Profile]:
        """The profiles of the config file, read on first use."""
        if self._profiles is None:
            self._profiles = load_profiles(self.config_option)
        return self._profiles

    def target(self, text: str) -> Target:
        """Resolve a command-line target (see :func:`~pystorage.cli.targets.parse_target`)."""
        return parse_target(text, self.profiles)

    def operator(self, target: Target) -> Operator:
        """The operator of ``target``, shared by targets with the same service and config."""
        if target.is_stdio:
            raise UsageError("'-' (standard input/output) is not valid here")
        key = target.operator_key
        op = self._operators.get(key)
        if op is None:
            config = dict(target.config)
            if target.scheme == "fs":
                # a copy, sync or dump that reported success must survive a power loss:
                # durable commits on local destinations (``?fsync=false`` opts out)
                config.setdefault("fsync", True)
            op = Operator(target.scheme, **config)
            layers: list[Layer] = []
            if self.debug:
                layers.append(LoggingLayer())
            if self.retries > 0:
                layers.append(RetryLayer(max_times=self.retries))
            if self.timeout is not None:
                layers.append(TimeoutLayer(timeout=self.timeout, io_timeout=self.timeout))
            if layers:
                op = op.layer(*layers)
            self._operators[key] = op
        return op

    async def aclose(self) -> None:
        """Close every operator opened."""
        operators, self._operators = list(self._operators.values()), {}
        with anyio.CancelScope(shield=True):
            for op in operators:
                await op.close()

    def emit(self, obj: Mapping[str, Any]) -> None:
        """Print one JSON object on its own line."""
        self.stdout.write(json.dumps(obj, ensure_ascii=False, sort_keys=False) + "\n")

    def line(self, text: str) -> None:
        """Print one line of text output."""
        self.stdout.write(text + "\n")

    def note(self, text: str) -> None:
        """Print a note for the user on standard error."""
        self.stderr.write(f"pystorage: {text}\n")


# --- helpers -------------------------------------------------------------------------------


def _dir_prefix(path: str) -> str:
    """``""`` for the root, else the normalised path ending with ``/``."""
    p = normalize_path(path)
    return "" if p == "/" else p.rstrip("/") + "/"


def _basename(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


@contextlib.asynccontextmanager
async def _closing(entries: AsyncIterator[Entry]) -> AsyncGenerator[AsyncIterator[Entry], None]:
    """Close an operator's listing (an async generator) when done with it."""
    try:
        yield entries
    finally:
        aclose = getattr(entries, "aclose", None)
        if aclose is not None:
            await aclose()


async def _walk(op: Operator, prefix: str, recursive: bool) -> AsyncGenerator[Entry, None]:
    """Entries below ``prefix`` (``""`` = root), recursively if asked, even on
    services without recursive listing."""
    start = prefix or "/"
    if not recursive or op.capability().list_with_recursive:
        async with _closing(op.list(start, recursive=recursive)) as entries:
            async for entry in entries:
                yield entry
        return
    pending = [start]
    while pending:
        directory = pending.pop()
        async with _closing(op.list(directory)) as entries:
            async for entry in entries:
                yield entry
                if entry.path.endswith("/"):
                    pending.append(entry.path)


async def _stat_or_none(op: Operator, path: str) -> Metadata | None:
    try:
        return await op.stat(path)
    except errors.NotFound:
        return None


async def _has_entries(op: Operator, prefix: str) -> bool:
    async with contextlib.aclosing(_walk(op, prefix, recursive=False)) as entries:
        async for _ in entries:
            return True
    return False


def _not_found(target: Target, path: str, operation: str) -> errors.NotFound:
    return errors.NotFound(
        "no such object or directory", operation=operation, path=path or "/", service=target.scheme
    )


async def _stdin_pieces() -> AsyncGenerator[bytes, None]:
    stdin = sys.stdin.buffer
    while True:
        piece = await anyio.to_thread.run_sync(stdin.read, STDIN_PIECE)
        if not piece:
            return
        yield piece


async def _to_stdout(pieces: AsyncIterator[bytes]) -> int:
    out = sys.stdout.buffer
    total = 0
    async for piece in pieces:
        await anyio.to_thread.run_sync(out.write, piece)
        total += len(piece)
    await anyio.to_thread.run_sync(out.flush)
    return total


def _entry_line(ctx: Context, shown: str, meta: Metadata, long: bool) -> None:
    if not long:
        ctx.line(shown)
        return
    size = "-" if meta.is_dir or meta.content_length is None else str(meta.content_length)
    when = meta.last_modified.strftime("%Y-%m-%d %H:%M:%S") if meta.last_modified else "-"
    ctx.line(f"{size:>14}  {when:<19}  {shown}")


async def cmd_ls(ctx: Context, args: argparse.Namespace) -> int:
    """``ls [-r] [-l] TARGET``: list a directory (or show one file).

    Text output: one path per line, relative to the listed directory
    (directories end with ``/``); ``-l`` adds size and modification time.
    ``--json``: one object per line with ``path``, ``key`` (relative to the
    operator's root), ``uri``, ``type``, ``size``, ``last_modified``, ``etag``.
    """
    target = ctx.target(args.target)
    op = ctx.operator(target)

    def show(entry_path: str, rel: str, meta: Metadata) -> None:
        if ctx.json_output:
            ctx.emit(
                {
                    "path": rel,
                    "key": entry_path,
                    "uri": target.display(entry_path),
                    "type": meta.mode.value,
                    "size": meta.content_length,
                    "last_modified": _iso(meta.last_modified),
                    "etag": meta.etag,
                }
            )
        else:
            _entry_line(ctx, rel, meta, args.long)

    meta: Metadata | None = None
    if not target.names_dir:
        meta = await _stat_or_none(op, target.path)
        if meta is not None and not meta.is_dir:
            path = normalize_path(target.path)
            show(path, _basename(path), meta)
            return 0
    prefix = _dir_prefix(target.path)
    found = False
    async with contextlib.aclosing(_walk(op, prefix, args.recursive)) as entries:
        async for entry in entries:
            found = True
            show(entry.path, entry.path[len(prefix) :], entry.metadata)
    if not found and meta is None and not target.names_dir:
        raise _not_found(target, target.path, "list")
    return 0


async def cmd_stat(ctx: Context, args: argparse.Namespace) -> int:
    """``stat TARGET``: print an object's metadata (``key: value`` lines, or one JSON object)."""
    target = ctx.target(args.target)
    meta = await ctx.operator(target).stat(target.path)
    fields = metadata_to_json(meta)
    if ctx.json_output:
        ctx.emit({"uri": target.display(), **fields})
        return 0
    ctx.line(f"uri: {target.display()}")
    for key, value in fields.items():
        if value is None:
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in sorted(value.items()))
        ctx.line(f"{key}: {value}")
    return 0


# --- cat / cp / mv -------------------------------------------------------------------------------


def _is_filesystem_root(target: Target, prefix: str) -> bool:
    if prefix:
        return False
    root = str(target.config.get("root", "/"))
    return target.scheme == "fs" and os.path.abspath(root) == "/"


async def cmd_rm(ctx: Context, args: argparse.Namespace) -> int:
    """``rm [-r] [-f] TARGET...``: delete objects (``-r``: everything below a prefix).

    Without ``-f`` a missing target is an error (exit code 3).
    """
    targets = [ctx.target(text) for text in args.targets]
    for target in targets:
        if target.is_stdio:
            raise UsageError("rm does not take '-'")
    for target in targets:
        op = ctx.operator(target)
        if args.recursive:
            prefix = _dir_prefix(target.path)
            if _is_filesystem_root(target, prefix):
                raise UsageError("refusing to remove the root of the file system")
            if not prefix and not args.force:
                raise UsageError(f"refusing to remove everything in {target.display()!r} without --force")
            if not args.force:
                exists = (not target.names_dir and await _stat_or_none(op, target.path) is not None) or (
                    await _has_entries(op, prefix)
                )
                if not exists:
                    raise _not_found(target, target.path, "remove_all")
            await op.remove_all(target.path if prefix else "/")
        else:
            if target.names_dir:
                raise UsageError(f"{target.display()!r} is a directory (use -r)")
            if not args.force:
                meta = await op.stat(target.path)
                if meta.is_dir:
                    raise UsageError(f"{target.display()!r} is a directory (use -r)")
            await op.delete(target.path)
        if ctx.json_output:
            ctx.emit({"op": "remove", "uri": target.display(), "recursive": bool(args.recursive)})
        elif ctx.verbose:
            ctx.line(f"removed: {target.display()}")
    return 0


# --- presign / bench ------------------------------------------------------------------------------


async def cmd_presign(ctx: Context, args: argparse.Namespace) -> int:
    """``presign [--method read|write|stat] [--expire DURATION] TARGET``: print a signed URL.

    Text output is the URL alone (headers the request needs are noted on
    standard error); ``--json`` prints ``method``, ``url``, ``headers``,
    ``expires_in``.
    """
    target = ctx.target(args.target)
    op = ctx.operator(target)
    presign: Callable[[str, float], Awaitable[Any]] = {
        "read": op.presign_read,
        "write": op.presign_write,
        "stat": op.presign_stat,
    }[args.method]
    request = await presign(target.path, args.expire)
    if ctx.json_output:
        ctx.emit(
            {
                "method": request.method,
                "url": request.url,
                "headers": dict(request.headers),
                "expires_in": args.expire,
            }
        )
        return 0
    ctx.line(request.url)
    for name, value in request.headers.items():
        ctx.note(f"the request must send the header {name}: {value}")
    return 0


def cmd_bench(ctx: Context, args: argparse.Namespace) -> int:
    """``bench [ARGS...]``: run ``python -m benchmarks ARGS...`` (from a source checkout)."""
    in_checkout = (Path.cwd() / "benchmarks" / "__main__.py").is_file()  # `python -m` adds the cwd
    if not in_checkout and importlib.util.find_spec("benchmarks") is None:
        raise UsageError(
            "the benchmark suite is not importable: run `pystorage bench` from a pystorage source "
            "checkout (benchmarks/ is not part of the installed package)"
        )
    return subprocess.call([sys.executable, "-m", "benchmarks", *args.bench_args])


#: command name -> implementation (``bench`` is synchronous)
COMMANDS: dict[str, Callable[[Context, argparse.Namespace], Any]] = {
    "ls": cmd_ls,
    "stat": cmd_stat,
    "rm": cmd_rm,
    "presign": cmd_presign,
    "bench": cmd_bench,
}
