"""``cp``, ``mv`` and ``cat``: one object or a tree, between any two targets or to
standard output (streamed, bounded memory; server-side when both ends are the
same operator)."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
from typing import Any

import anyio

from .. import errors
from ..raw.path import normalize_path
from ..types import Entry
from .commands import (
    DEFAULT_CHUNK,
    SMALL_OBJECT,
    Context,
    UsageError,
    _basename,
    _dir_prefix,
    _has_entries,
    _not_found,
    _stat_or_none,
    _stdin_pieces,
    _to_stdout,
    _walk,
)
from .progress import FileProgress, Transfers
from .targets import Target

__all__ = ["cmd_cat", "cmd_cp", "cmd_mv"]

@dataclasses.dataclass(frozen=True)
class _Transfer:
    """How to move bytes: ``--chunk``, ``--concurrent``, ``--jobs``."""

    chunk: int | None
    concurrent: int
    jobs: int

    def read_options(self, size: int | None) -> dict[str, Any]:
        """Ranged, concurrent reads for large objects; one stream otherwise."""
        if size is not None and (self.chunk is not None or (self.concurrent > 1 and size > DEFAULT_CHUNK)):
            return {"chunk": self.chunk or DEFAULT_CHUNK, "concurrent": self.concurrent}
        return {}

    def write_options(self) -> dict[str, Any]:
        """The multipart part size and parts in flight."""
        options: dict[str, Any] = {"concurrent": self.concurrent}
        if self.chunk is not None:
            options["chunk"] = self.chunk
        return options


def _transfer(args: argparse.Namespace) -> _Transfer:
    return _Transfer(chunk=args.chunk, concurrent=args.concurrent, jobs=args.jobs)


async def _copy_object(
    ctx: Context,
    src: Target,
    src_path: str,
    dst: Target,
    dst_path: str,
    size: int | None,
    how: _Transfer,
    progress: FileProgress,
    etag: str | None = None,
) -> int:
    """Copy one object; returns the bytes copied. Streams unless both sides
    share one operator, where the service's own copy is used.

    ``size`` and ``etag``, when a listing gave them, let an object of at most
    :data:`SMALL_OBJECT` bytes be fetched in one request (``if_match`` the
    listed etag, so an object replaced meanwhile by a large one is streamed).
    """
    if src.is_stdio:
        dst_op = ctx.operator(dst)
        async with (
            dst_op.open(dst_path, "wb", progress=progress, **how.write_options()) as writer,
            contextlib.aclosing(_stdin_pieces()) as pieces,
        ):
            async for piece in pieces:
                await writer.write(piece)
            meta = await writer.close()
        return meta.content_length or writer.bytes_written
    src_op = ctx.operator(src)
    if not dst.is_stdio and src.operator_key == dst.operator_key:
        await src_op.copy(src_path, dst_path, progress=progress)
        return size or 0
    if (
        etag is not None
        and size is not None
        and size <= SMALL_OBJECT
        and not dst.is_stdio
        and src_op.capability().read_with_if_match
    ):
        try:
            data = await src_op.read(src_path, if_match=etag, progress=progress)
        except errors.ConditionNotMatch:
            pass  # changed since it was listed: stream it below
        else:
            await ctx.operator(dst).write(dst_path, data, **how.write_options())
            return len(data)
    async with src_op.open(src_path, "rb", progress=progress, **how.read_options(size)) as reader:
        if dst.is_stdio:
            return await _to_stdout(reader.__aiter__())
        dst_op = ctx.operator(dst)
        async with dst_op.open(dst_path, "wb", **how.write_options()) as writer:
            async for piece in reader:
                await writer.write(piece)
            meta = await writer.close()
        return meta.content_length if meta.content_length is not None else writer.bytes_written


def _report(ctx: Context, verb: str, src: str, dst: str, size: int) -> None:
    if ctx.json_output:
        ctx.emit({"op": verb, "src": src, "dst": dst, "size": size})
    elif ctx.verbose:
        ctx.line(f"{verb}: {src} -> {dst} ({size} bytes)")


# --- ls / stat ---------------------------------------------------------------------------------


async def _source_file(ctx: Context, src: Target, hint: str = " (use -r to copy a tree)") -> int | None:
    """Check that ``src`` names a file; returns its size."""
    if src.is_stdio:
        return None
    if src.names_dir:
        raise UsageError(f"{src.display()!r} is a directory{hint}")
    meta = await ctx.operator(src).stat(src.path)
    if meta.is_dir:
        raise UsageError(f"{src.display()!r} is a directory{hint}")
    return meta.content_length


async def _destination_path(ctx: Context, src: Target, dst: Target) -> str:
    """Where a single object goes: into ``dst`` when it names a directory
    (trailing ``/``, the root, or an existing directory), else ``dst`` itself."""
    if dst.is_stdio:
        return ""
    name = "" if src.is_stdio else _basename(normalize_path(src.path))
    if dst.names_dir:
        into = True
    else:
        meta = await _stat_or_none(ctx.operator(dst), dst.path)
        into = meta is not None and meta.is_dir
    if not into:
        return dst.path
    if not name:
        raise UsageError(f"{dst.display()!r} is a directory: name the destination object")
    return _dir_prefix(dst.path) + name


async def _copy_single(ctx: Context, args: argparse.Namespace, *, move: bool) -> int:
    src, dst = ctx.target(args.src), ctx.target(args.dst)
    if move and (src.is_stdio or dst.is_stdio):
        raise UsageError("mv does not take '-'")
    size = await _source_file(ctx, src)
    dst_path = await _destination_path(ctx, src, dst)
    how = _transfer(args)
    same = not src.is_stdio and not dst.is_stdio and src.operator_key == dst.operator_key
    show_bars = ctx.progress and not dst.is_stdio
    with Transfers(enabled=show_bars, single=True) as bars:
        progress = bars.file(_basename(src.path) if not src.is_stdio else "stdin", size)
        if move and same:
            await ctx.operator(src).rename(src.path, dst_path)
            copied = size or 0
        else:
            copied = await _copy_object(ctx, src, src.path, dst, dst_path, size, how, progress)
            if move:
                await ctx.operator(src).delete(src.path)
        progress.done()
    if not dst.is_stdio:
        _report(ctx, "move" if move else "copy", src.display(), dst.display(dst_path), copied)
    return 0


async def _copy_tree(ctx: Context, args: argparse.Namespace, *, move: bool) -> int:
    src, dst = ctx.target(args.src), ctx.target(args.dst)
    if src.is_stdio or dst.is_stdio:
        raise UsageError("'-' cannot be used with -r")
    src_op = ctx.operator(src)
    ctx.operator(dst)  # fail on a bad destination before copying anything
    if not src.names_dir:
        meta = await _stat_or_none(src_op, src.path)
        if meta is not None and not meta.is_dir:  # a file: copy it like without -r
            return await _copy_single(ctx, args, move=move)
    src_prefix, dst_prefix = _dir_prefix(src.path), _dir_prefix(dst.path)
    same = src.operator_key == dst.operator_key
    if same and (dst_prefix.startswith(src_prefix) or src_prefix.startswith(dst_prefix)):
        raise UsageError(f"cannot copy {src.display()!r} into itself or its parent ({dst.display()!r})")
    how = _transfer(args)
    verb = "move" if move else "copy"
    failures: list[BaseException] = []
    dirs: list[str] = []
    found = False
    slots = anyio.Semaphore(how.jobs)

    async def one(entry: Entry, bars: Transfers) -> None:
        try:
            rel = entry.path[len(src_prefix) :]
            dst_path = dst_prefix + rel
            size = entry.metadata.content_length
            progress = bars.file(rel, size)
            if move and same:
                await src_op.rename(entry.path, dst_path)
                copied = size or 0
            else:
                copied = await _copy_object(
                    ctx, src, entry.path, dst, dst_path, size, how, progress, etag=entry.metadata.etag
                )
                if move:
                    await src_op.delete(entry.path)
            progress.done()
            _report(ctx, verb, src.display(entry.path), dst.display(dst_path), copied)
        except Exception as exc:
            if not failures:
                failures.append(exc)
            tg.cancel_scope.cancel()
        finally:
            slots.release()

    with Transfers(enabled=ctx.progress, description="moving" if move else "copying") as bars:
        async with (
            anyio.create_task_group() as tg,
            contextlib.aclosing(_walk(src_op, src_prefix, recursive=True)) as entries,
        ):
            async for entry in entries:
                found = True
                if entry.path.endswith("/"):
                    dirs.append(entry.path)
                    continue
                await slots.acquire()
                tg.start_soon(one, entry, bars)
    if failures:
        raise failures[0]
    if not found and not src.names_dir and not await _has_entries(src_op, src_prefix):
        raise _not_found(src, src.path, "list")
    if move:
        # directories left empty by the move, deepest first (deleting a
        # non-empty directory deletes nothing, so nothing new is lost)
        for directory in sorted(dirs, key=lambda d: d.count("/"), reverse=True):
            await src_op.delete(directory)
        if src_prefix:
            await src_op.delete(src_prefix)
    return 0


async def cmd_cp(ctx: Context, args: argparse.Namespace) -> int:
    """``cp [-r] SRC DST``: copy an object, or with ``-r`` the tree below SRC into DST.

    ``-`` as SRC reads standard input; as DST writes standard output.
    """
    if args.recursive:
        return await _copy_tree(ctx, args, move=False)
    return await _copy_single(ctx, args, move=False)


async def cmd_mv(ctx: Context, args: argparse.Namespace) -> int:
    """``mv [-r] SRC DST``: move an object (or a tree): copy, then delete the source."""
    if args.recursive:
        return await _copy_tree(ctx, args, move=True)
    return await _copy_single(ctx, args, move=True)


async def cmd_cat(ctx: Context, args: argparse.Namespace) -> int:
    """``cat TARGET``: stream an object to standard output."""
    src = ctx.target(args.target)
    if src.is_stdio:
        raise UsageError("cat does not take '-'")
    size = await _source_file(ctx, src, hint="")
    op = ctx.operator(src)
    how = _transfer(args)
    async with op.open(src.path, "rb", **how.read_options(size)) as reader:
        await _to_stdout(reader.__aiter__())
    return 0


# --- rm ---------------------------------------------------------------------------------------------
