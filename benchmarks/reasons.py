"""Why a target is not met: the reasons recorded in ``docs/performance.md``, printed under the
target lines (issue 17: each miss with its profile and the measured reason).

A finding names the targets it explains with a marker line of its own (a paragraph by itself)::

    Targets: fs_small_write:os, fs_small_delete:os — reason: <one line>

The line starts with ``Targets:``; the patterns are comma-separated ``fnmatch`` globs over the
target ids of :func:`benchmarks.report.targets` (``fs_small_read:os``, ``s3_*:rust-peers``,
``gcs:sdk``); `` — reason: `` (an em dash, or ``--``) separates them from the reason. The finding
is the nearest heading above the marker. Lines inside fenced code blocks are not markers. When
several markers match one id the last one in the document wins: a later finding supersedes an
earlier one. The reasons are read from the file each time the report is rendered, so the report
and the document never disagree; without the file (an installed copy) the target lines print
alone.
"""

from __future__ import annotations

import fnmatch
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DOC", "Reason", "explain", "load", "parse", "slugify", "why_line"]

#: the document the reasons are read from (next to the package, in a checkout)
DOC = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
_MARKER = re.compile(r"^Targets:\s*(?P<ids>.+?)\s+(?:—|--)\s+reason:\s*(?P<reason>\S.*?)\s*$")
_HEADING = re.compile(r"^(#{1,6})\s+(?P<title>.+?)\s*#*\s*$")


@dataclass(frozen=True)
class Reason:
    """One marker line of the document.

    Attributes:
        patterns: the target-id globs it names.
        reason: the one-line reason.
        finding: the title of the heading above it (``"9. fs driver, round 2 ..."``).
        anchor: that heading's anchor (as MkDocs' ``toc`` makes it).
        line: the marker's line number (1-based).
    """

    patterns: tuple[str, ...]
    reason: str
    finding: str
    anchor: str
    line: int

    def matches(self, target_id: str) -> bool:
        """Whether one of the patterns matches ``target_id``."""
        return any(fnmatch.fnmatchcase(target_id, p) for p in self.patterns)


def slugify(title: str) -> str:
    """The anchor MkDocs' ``toc`` extension gives a heading (Python-Markdown's ``slugify``)."""
    text = re.sub(r"[`*_]", "", title)  # the rendered text: markup gone, code kept
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def parse(text: str) -> list[Reason]:
    """Every marker of ``text`` (a Markdown document), in document order."""
    out: list[Reason] = []
    finding = anchor = ""
    fence: str | None = None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if fence is not None:
            if stripped.startswith(fence):
                fence = None
            continue
        if stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
            continue
        heading = _HEADING.match(line)
        if heading:
            finding = heading["title"]
            anchor = slugify(finding)
            continue
        marker = _MARKER.match(line)
        if marker:
            patterns = tuple(p.strip() for p in marker["ids"].split(",") if p.strip())
            out.append(Reason(patterns, marker["reason"], finding, anchor, number))
    return out


_CACHE: dict[Path, tuple[float, list[Reason]]] = {}


def load(path: Path | None = None) -> list[Reason]:
    """The markers of ``path`` (default :data:`DOC`); none if the file is absent or unreadable."""
    path = DOC if path is None else path
    try:
        mtime = path.stat().st_mtime
        cached = _CACHE.get(path)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        reasons = parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return []
    _CACHE[path] = (mtime, reasons)
    return reasons


def explain(target_id: str, reasons: list[Reason] | None = None) -> Reason | None:
    """The marker that explains ``target_id`` (the last matching one), or ``None``."""
    for r in reversed(load() if reasons is None else reasons):
        if r.matches(target_id):
            return r
    return None


def why_line(target: dict[str, str], reasons: list[Reason] | None = None) -> str | None:
    """``why: <reason> [docs/performance.md#<anchor>]`` for a target that is not met (or
    ``n/a``) and has a marker; ``None`` otherwise."""
    if target.get("status") == "met":
        return None
    r = explain(target["id"], reasons)
    if r is None:
        return None
    where = f"docs/performance.md#{r.anchor}" if r.anchor else f"docs/performance.md line {r.line}"
    return f"why: {r.reason} [{where}]"
