"""Generate ``docs/capabilities.md``: the capability matrix of every registered service.

The matrix is built from the code, so the docs cannot drift from it: for each
scheme in :data:`pystorage.services.SERVICES` an operator is built from a
minimal example config (no I/O happens) and its
:class:`~pystorage.types.Capability` becomes one column. A scheme that cannot
be built (its extra is not installed, say) is reported on stderr and left out.

Usage::

    python docs/gen_capabilities.py                 # (re)write docs/capabilities.md
    python docs/gen_capabilities.py --output x.md   # write elsewhere
    python docs/gen_capabilities.py --check         # exit 1 if docs/capabilities.md is stale

``make docs`` runs it before ``mkdocs build``; ``tests/test_project_files.py``
fails when the committed file differs from what this script writes.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # document the source tree this script lives in
    sys.path.insert(0, str(ROOT))

from pystorage.services import SERVICES, build_accessor  # noqa: E402
from pystorage.types import Capability  # noqa: E402

__all__ = ["DEFAULT_OUTPUT", "collect", "example_config", "main", "render"]

#: where the matrix is written by default
DEFAULT_OUTPUT = ROOT / "docs" / "capabilities.md"

#: shown in the page instead of the temporary directory the fs column is built with
_TEMP_ROOT_PLACEHOLDER = "<a temporary directory>"

_UNITS = ("KiB", "MiB", "GiB", "TiB", "PiB")


def example_config(scheme: str, temp_dir: str) -> dict[str, Any]:
    """The minimal config the matrix builds ``scheme`` with.

    Args:
        scheme: a key of :data:`pystorage.services.SERVICES`.
        temp_dir: an existing empty directory, used as the fs root.

    Returns:
        Config keyword arguments; ``{}`` for a scheme this script does not know.
        Object stores point at a closed loopback port: building does no I/O.
    """
    configs: dict[str, dict[str, Any]] = {
        "memory": {},
        "fs": {"root": temp_dir},
        "s3": {"bucket": "example", "region": "us-east-1", "endpoint": "http://127.0.0.1:9"},
        "gcs": {"bucket": "example", "endpoint": "http://127.0.0.1:9", "disable_config_load": True},
        "azblob": {"container": "example", "endpoint": "http://127.0.0.1:9/devstoreaccount1"},
    }
    return dict(configs.get(scheme, {}))


def _capability_of(scheme: str, config: Mapping[str, Any]) -> Capability:
    """The capability of an operator built from ``config``; falls back to the bare
    accessor while :class:`pystorage.Operator` does not exist."""
    operator_cls: Any = getattr(importlib.import_module("pystorage"), "Operator", None)
    if operator_cls is not None:
        capability = operator_cls(scheme, **config).capability()
    else:
        capability = build_accessor(scheme, config).info().capability
    if not isinstance(capability, Capability):
        raise TypeError(f"{scheme}: capability() returned {type(capability).__name__}, not Capability")
    return capability


def collect() -> tuple[dict[str, Capability], dict[str, str]]:
    """Build every registered scheme from its example config.

    Returns:
        ``(capabilities, skipped)``: the capability of each scheme that could be
        built, in registry order, and for each one that could not, why.
    """
    capabilities: dict[str, Capability] = {}
    skipped: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="pystorage-capabilities-") as temp_dir:
        for scheme in SERVICES:
            try:
                capabilities[scheme] = _capability_of(scheme, example_config(scheme, temp_dir))
            except Exception as exc:  # report and go on: one broken service must not hide the rest
                skipped[scheme] = f"{type(exc).__name__}: {exc}"
    return capabilities, skipped


def _is_byte_size(field_name: str) -> bool:
    """Whether an integer capability field counts bytes (``write_multi_min_size`` ...)
    rather than items (``write_multi_max_parts``, ``delete_max_size``)."""
    return field_name.startswith("write_") and field_name.endswith("_size")


def _format_value(field_name: str, value: object) -> str:
    """One cell: ✓ / ✗ for flags, a size or a count for limits, — for "no limit"."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, int) and _is_byte_size(field_name):
        amount, unit = value, "B"
        for next_unit in _UNITS:
            if amount < 1024 or amount % 1024:
                break
            amount, unit = amount // 1024, next_unit
        return f"{amount:,} {unit}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def render(capabilities: Mapping[str, Capability]) -> str:
    """The Markdown page for ``capabilities`` (scheme → capability), deterministic.

    Rows are the fields of :class:`~pystorage.types.Capability` in declaration
    order; columns are the schemes in the order given.
    """
    schemes = list(capabilities)
    lines = [
        "# Capability matrix",
        "",
        "<!-- Generated by docs/gen_capabilities.py from the code: do not edit by hand.",
        "     Regenerate with `make docs` or `python docs/gen_capabilities.py`. -->",
        "",
        "What each service can do, as `op.capability()` reports it for the configuration below.",
        "An operation or option marked ✗ raises `errors.Unsupported` before any request is sent;",
        "— means no limit. Field names follow OpenDAL's; see [Concepts](guide/concepts.md#capabilities).",
        "",
        "[Client-side encryption](guide/client-side-encryption.md) (`EncryptionLayer`) works on every",
        "service below; through it `write_can_append`, `write_can_multi`, `multipart` and `presign_*`",
        "are ✗ (and `copy`/`rename` too with `bind_path=True`), the rest is the service's.",
        "",
        "| capability | " + " | ".join(f"`{s}`" for s in schemes) + " |",
        "|---|" + "".join(":-:|" for _ in schemes),
    ]
    for field in dataclasses.fields(Capability):
        cells = [_format_value(field.name, getattr(capabilities[s], field.name)) for s in schemes]
        lines.append(f"| `{field.name}` | " + " | ".join(cells) + " |")
    lines += ["", "Configuration each column was built with:", ""]
    for scheme in schemes:
        config = example_config(scheme, _TEMP_ROOT_PLACEHOLDER)
        args = "".join(f", {key}={value!r}" for key, value in config.items())
        lines.append(f"- `{scheme}`: `Operator({scheme!r}{args})`")
    lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point; returns the exit status.

    Args:
        argv: arguments without the program name (default: ``sys.argv[1:]``).
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                        help="file to write (default: docs/capabilities.md)")
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if the output file is not up to date")
    args = parser.parse_args(argv)

    capabilities, skipped = collect()
    for scheme, reason in skipped.items():
        print(f"gen_capabilities: skipping {scheme!r}: {reason}", file=sys.stderr)
    text = render(capabilities)
    output: Path = args.output
    if args.check:
        current = output.read_text(encoding="utf-8") if output.exists() else ""
        if current != text:
            print(f"gen_capabilities: {output} is out of date; run `make docs`", file=sys.stderr)
            return 1
        return 0
    output.write_text(text, encoding="utf-8")
    print(f"gen_capabilities: wrote {output} ({', '.join(capabilities) or 'no services'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
