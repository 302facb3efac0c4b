"""Argument parsing, the exit codes, and the one-line error report of ``pystorage``.

Exit codes:

* ``0`` — success;
* ``1`` — the operation failed (permission denied, condition not met,
  unsupported by the service, network or server error ...);
* ``2`` — the command line or the configuration is wrong: a bad option, a
  malformed URI, an unknown scheme or profile, an unreadable config file,
  an invalid config key or path;
* ``3`` — the object or directory does not exist;
* ``130`` — interrupted (Ctrl-C); ``141`` — standard output was closed
  (``pystorage cat ... | head``), silently.

Errors are one line on standard error, ``pystorage: error: <Kind>: <message>
(<context>)``; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import anyio

from .. import __version__, errors
from .commands import COMMANDS, Context, UsageError, parse_duration, parse_size
from .copying import cmd_cat, cmd_cp, cmd_mv
from .profiles import ProfileError
from .progress import progress_enabled
from .sync import cmd_check, cmd_sync
from .targets import TargetError

__all__ = [
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_PIPE",
    "EXIT_USAGE",
    "build_parser",
    "main",
]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_INTERRUPTED = 130
EXIT_PIPE = 141

PROG = "pystorage"

#: global options that take a value (needed to find the command before ``bench``'s arguments)
_VALUE_OPTIONS = ("--config", "--retries", "--timeout")

_EPILOG = """\
targets:
  s3://BUCKET/KEY?endpoint=URL&region=R   a URI: the bucket is the root, query parameters are config keys
  gcs://BUCKET/KEY                        (likewise for gcs)
  fs:///ABS/PATH, ./rel/path, /abs/path   a local file or directory
  memory://PATH                           a fresh in-memory store (empty in each process)
  PROFILE:PATH                            a path in a profile of the config file
  -                                       standard input (cp SRC) or output (cp DST)

config file: --config PATH, else $PYSTORAGE_CONFIG, else ~/.config/pystorage/config.toml
exit codes: 0 ok, 1 operation failed, 2 usage or configuration error, 3 not found
"""


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line (exit code 2)."""

    def error(self, message: str) -> NoReturn:
        """Print ``pystorage: error: MESSAGE`` on standard error and exit with code 2."""
        self.exit(EXIT_USAGE, f"{PROG}: error: {message} (see `{self.prog} --help`)\n")


def _loop_options() -> dict[str, Any]:
    """asyncio's options for the command: uvloop when it is installed (the ``cli``
    extra brings it where it builds) unless ``PYSTORAGE_UVLOOP=0``. The CLI is an
    application, so it picks the loop; the library never does."""
    if os.environ.get("PYSTORAGE_UVLOOP", "1") == "0":
        return {}
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return {}
    return {"use_uvloop": True}


def _int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer of at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


_positive_int = _int_at_least(1)
_non_negative_int = _int_at_least(0)


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_common(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """Options accepted before and after the command. On subcommands their
    defaults are suppressed, so a value given before the command survives."""

    def default(value: Any) -> Any:
        return value if top else argparse.SUPPRESS

    group = parser.add_argument_group("common options")
    group.add_argument("--config", metavar="PATH", default=default(None),
                       help="the profiles file (default: $PYSTORAGE_CONFIG, "
                            "else ~/.config/pystorage/config.toml)")
    group.add_argument("--json", action="store_true", default=default(False),
                       help="machine-readable output: one JSON object per line")
    group.add_argument("-q", "--quiet", action="store_true", default=default(False),
                       help="no progress bars")
    group.add_argument("-v", "--verbose", action="store_true", default=default(False),
                       help="one line per object copied, moved or removed")
    group.add_argument("--debug", action="store_true", default=default(False),
                       help="log every operation and print tracebacks")
    group.add_argument("--retries", type=_non_negative_int, metavar="N", default=default(3),
                       help="retries of temporary errors (default 3; 0 disables)")
    group.add_argument("--timeout", type=_duration, metavar="SECONDS", default=default(None),
                       help="deadline per call and per stream chunk (default: none)")


def _add_transfer(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--chunk", type=_size, metavar="SIZE", default=None,
                        help="part size of uploads and ranged reads, e.g. 8MiB "
                             "(default: the service's part size; ranged reads of 8MiB above 8MiB)")
    parser.add_argument("--concurrent", type=_positive_int, metavar="N", default=4,
                        help="parts or ranges of one object in flight (default 4)")
    parser.add_argument("-j", "--jobs", type=_positive_int, metavar="N", default=8,
                        help="objects transferred at once with -r (default 8)")


def _add_filters_and_compare(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checksum", action="store_true",
                        help="compare by MD5 (reported checksums where both sides have one, else hashed)")
    parser.add_argument("--size-only", action="store_true", help="compare by size alone")
    parser.add_argument("--compare", choices=("size_mtime", "size", "checksum", "etag"), default=None,
                        help="how objects on both sides are judged the same (default size_mtime)")
    parser.add_argument("--include", action="append", metavar="GLOB",
                        help="only paths matching GLOB (rclone-like; repeatable)")
    parser.add_argument("--exclude", action="append", metavar="GLOB",
                        help="leave out paths matching GLOB (repeatable; excludes win)")
    parser.add_argument("-j", "--jobs", type=_positive_int, metavar="N", default=8,
                        help="objects compared or transferred at once (default 8)")


def _add_sync_commands(command: Any) -> None:
    sync = command("sync", "make DST hold what SRC holds: copy what is missing or differs "
                           "(--delete: also remove what SRC lacks)")
    _add_filters_and_compare(sync)
    sync.add_argument("--delete", action="store_true",
                      help="delete destination objects the source lacks (after all copies succeeded)")
    sync.add_argument("-n", "--dry-run", action="store_true",
                      help="report what would be done, change nothing")
    sync.add_argument("--journal", metavar="PATH", default=None,
                      help="a local SQLite file recording progress: a killed run started again resumes")
    sync.add_argument("--bwlimit", type=_size, metavar="SIZE", default=None,
                      help="bytes per second read from the source for the whole job, e.g. 10MiB")
    sync.add_argument("--chunk", type=_size, metavar="SIZE", default=None,
                      help="part size of uploads, e.g. 16MiB (default 8MiB, or the service's minimum)")
    sync.add_argument("--concurrent", type=_positive_int, metavar="N", default=4,
                      help="parts of one object in flight (default 4)")
    sync.add_argument("src", metavar="SRC")
    sync.add_argument("dst", metavar="DST")

    chk = command("check", "compare two trees: objects missing on either side or differing (exit 1 if any)")
    _add_filters_and_compare(chk)
    chk.add_argument("src", metavar="SRC")
    chk.add_argument("dst", metavar="DST")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``pystorage`` (all commands)."""
    parser = _Parser(
        prog=PROG,
        description="Copy, list and inspect objects on any service pystorage supports.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    _add_common(parser, top=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    def command(name: str, help_text: str, **kwargs: Any) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text, **kwargs)
        if kwargs.get("add_help", True):
            _add_common(sub, top=False)
        return sub

    ls = command("ls", "list a directory (or show one object)")
    ls.add_argument("-r", "--recursive", action="store_true", help="list every level below")
    ls.add_argument("-l", "--long", action="store_true", help="show size and modification time")
    ls.add_argument("target", metavar="TARGET")

    stat = command("stat", "show an object's metadata")
    stat.add_argument("target", metavar="TARGET")

    cat = command("cat", "write an object to standard output")
    _add_transfer(cat)
    cat.add_argument("target", metavar="TARGET")

    for name, help_text in (
        ("cp", "copy an object, or a tree with -r (the contents of SRC go into DST)"),
        ("mv", "move an object, or a tree with -r (copy, then delete the source)"),
    ):
        sub = command(name, help_text)
        sub.add_argument("-r", "--recursive", action="store_true", help="copy everything below SRC into DST")
        _add_transfer(sub)
        sub.add_argument("src", metavar="SRC")
        sub.add_argument("dst", metavar="DST")

    rm = command("rm", "delete objects, or everything below a prefix with -r")
    rm.add_argument("-r", "--recursive", action="store_true", help="delete everything below each target")
    rm.add_argument("-f", "--force", action="store_true",
                    help="no error for missing targets; allow removing everything in a bucket or profile")
    rm.add_argument("targets", metavar="TARGET", nargs="+")

    presign = command("presign", "print a URL anyone can use until it expires")
    presign.add_argument("--method", choices=("read", "write", "stat"), default="read",
                         help="GET (read, the default), PUT (write) or HEAD (stat)")
    presign.add_argument("--expire", type=_duration, metavar="DURATION", default=3600.0,
                         help="validity: seconds, or 90s, 15m, 12h, 7d (default 1h)")
    presign.add_argument("target", metavar="TARGET")

    _add_sync_commands(command)

    command("bench", "run the benchmark suite: python -m benchmarks [ARGS...]", add_help=False)
    return parser


def _split_bench(argv: list[str]) -> tuple[list[str], list[str]]:
    """Split ``[global options] bench ARGS...`` so that ARGS reach the suite verbatim."""
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        i += 2 if argv[i] in _VALUE_OPTIONS else 1
    if i < len(argv) and argv[i] == "bench":
        return argv[: i + 1], argv[i + 1 :]
    return argv, []


def _leaf(exc: BaseException) -> BaseException:
    """The first meaningful exception inside (nested) exception groups."""
    group: Any = exc
    while isinstance(getattr(group, "exceptions", None), (list, tuple)) and group.exceptions:
        members: list[BaseException] = list(group.exceptions)  # an (anyio) exception group
        inner = [e for e in members if not isinstance(e, anyio.get_cancelled_exc_class())]
        group = (inner or members)[0]
    leaf: BaseException = group
    return leaf


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _exit_code(exc: BaseException) -> tuple[int, str | None]:
    """The exit code and the message (``None``: print nothing) for ``exc``."""
    if isinstance(exc, (UsageError, TargetError, ProfileError)):
        return EXIT_USAGE, str(exc)
    if isinstance(exc, errors.NotFound):
        return EXIT_NOT_FOUND, str(exc)
    if isinstance(exc, (errors.ConfigInvalid, errors.InvalidPath)):
        return EXIT_USAGE, str(exc)
    if isinstance(exc, errors.Error):
        return EXIT_ERROR, str(exc)
    if isinstance(exc, BrokenPipeError):
        return EXIT_PIPE, None
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED, "interrupted"
    if isinstance(exc, OSError):
        return EXIT_ERROR, f"{type(exc).__name__}: {exc}"
    return EXIT_ERROR, f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)"


def _silence_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the interpreter's
    final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``pystorage`` with ``argv`` (default: ``sys.argv[1:]``); returns the exit code.

    The console script and ``python -m pystorage`` call this and exit with
    its result.
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    args_list, bench_args = _split_bench(args_list)
    parser = build_parser()
    args = parser.parse_args(args_list)
    args.bench_args = bench_args
    ctx = Context(
        json_output=args.json,
        verbose=args.verbose,
        progress=progress_enabled(quiet=args.quiet, json_output=args.json),
        retries=args.retries,
        timeout=args.timeout,
        debug=args.debug,
        config_option=args.config,
    )
    if args.debug:
        logging.basicConfig(level=logging.WARNING, format="%(name)s: %(levelname)s: %(message)s")
        logging.getLogger("pystorage").setLevel(logging.DEBUG)
    commands = {**COMMANDS, "cp": cmd_cp, "mv": cmd_mv, "cat": cmd_cat, "sync": cmd_sync, "check": cmd_check}
    command = commands[args.command]

    async def run() -> int:
        try:
            code: int = await command(ctx, args)
        finally:
            await ctx.aclose()
        return code

    try:
        if args.command == "bench":
            return int(command(ctx, args))
        return anyio.run(run, backend="asyncio", backend_options=_loop_options())
    except BaseException as raised:
        if isinstance(raised, SystemExit):
            raise
        exc = _leaf(raised)
        code, message = _exit_code(exc)
        if args.debug:
            traceback.print_exception(raised)
        if code == EXIT_PIPE:
            _silence_stdout()
        if message is not None:
            try:
                sys.stdout.flush()
            except (OSError, ValueError):
                _silence_stdout()
            sys.stderr.write(f"{PROG}: error: {_one_line(message)}\n")
        return code
