"""The reasons printed under the target lines come from ``docs/performance.md``'s markers
(``benchmarks/reasons.py``): the parser, the rendered lines, and the real document's markers
naming real target ids."""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import Any

from benchmarks.contenders import CONTENDERS, load
from benchmarks.reasons import DOC, explain, parse, slugify, why_line
from benchmarks.reasons import load as load_reasons
from benchmarks.report import render, targets
from benchmarks.workloads import select, workloads

ROOT = Path(__file__).resolve().parent.parent

SAMPLE = """# Performance

## Findings

Markers look like `Targets: a:b — reason: not a marker` (inline code is not one).

### 1. fs: the first one

Targets: fs_small_*:os, fs_list:os — reason: the jail's two `lstat`s per call

```text
Targets: fs_read_bytes:os — reason: inside a fence, not a marker
```

### 2. A later finding (issue 17) — `with code`

Targets: fs_small_delete:os -- reason: superseded by this one
Targets: s3_*:rust-peers — reason:
"""


def test_parse_finds_markers_under_their_headings() -> None:
    reasons = parse(SAMPLE)
    assert [r.patterns for r in reasons] == [("fs_small_*:os", "fs_list:os"), ("fs_small_delete:os",)]
    first, second = reasons
    assert first.reason == "the jail's two `lstat`s per call"
    assert first.finding == "1. fs: the first one" and first.anchor == "1-fs-the-first-one"
    assert first.line == 9
    assert second.finding == "2. A later finding (issue 17) — `with code`"
    assert second.anchor == "2-a-later-finding-issue-17-with-code"
    # the last matching marker wins; a glob matches; an id no marker names has no reason
    assert explain("fs_small_delete:os", reasons) is second
    assert explain("fs_small_write:os", reasons) is first
    assert explain("fs_read_bytes:os", reasons) is None  # only named inside a fence
    assert explain("s3_list:rust-peers", reasons) is None  # a marker without a reason is none


def test_slugify_is_mkdocs_toc() -> None:
    title = "9. fs driver, round 2 (issue 17): the hand-off"
    assert slugify(title) == "9-fs-driver-round-2-issue-17-the-hand-off"
    assert slugify("2. `read()` into bytes: one buffer (fs 0.40× → 1.05×)") == (
        "2-read-into-bytes-one-buffer-fs-040-105"
    )


def test_why_line_only_for_a_miss() -> None:
    reasons = parse(SAMPLE)
    miss = {"id": "fs_list:os", "status": "NOT met", "text": "", "detail": ""}
    assert why_line(miss, reasons) == (
        "why: the jail's two `lstat`s per call [docs/performance.md#1-fs-the-first-one]"
    )
    assert why_line({**miss, "status": "n/a"}, reasons) is not None
    assert why_line({**miss, "status": "met"}, reasons) is None
    assert why_line({**miss, "id": "gcs:sdk"}, reasons) is None


def test_without_the_document_there_are_no_reasons(tmp_path: Path) -> None:
    assert load_reasons(tmp_path / "absent.md") == []
    changed = tmp_path / "performance.md"
    changed.write_text(SAMPLE, encoding="utf-8")
    assert len(load_reasons(changed)) == 2
    changed.write_text("# nothing\n", encoding="utf-8")
    os.utime(changed, (1, 1))  # a new mtime: the cache is not stale
    assert load_reasons(changed) == []


# the real document ----------------------------------------------------------------------------


def _every_target_id() -> set[str]:
    """Every id :func:`targets` can emit for the workloads of ``benchmarks/workloads.py``."""
    ids: set[str] = set()
    contenders = [{"name": n, "family": load(n).family, "role": load(n).role} for n in CONTENDERS]
    for quick in (False, True):
        doc = {"workloads": [w.to_json() for w in workloads(quick)], "contenders": contenders, "summary": []}
        ids |= {t["id"] for t in targets(doc)}
    return ids


def test_the_real_markers_name_real_target_ids() -> None:
    assert DOC == ROOT / "docs" / "performance.md"
    reasons = load_reasons()
    assert len(reasons) >= 10, reasons
    ids = _every_target_id()
    text = DOC.read_text(encoding="utf-8")
    anchors = {slugify(line.lstrip("#").strip()) for line in text.splitlines() if line.startswith("#")}
    for r in reasons:
        assert r.reason and "\n" not in r.reason, r
        assert r.anchor in anchors and r.finding, r
        for pattern in r.patterns:
            assert fnmatch.filter(ids, pattern), f"line {r.line}: {pattern!r} names no target id"
    # the issue 17 families each have a reason for their misses
    for tid in (
        "fs_small_delete:os",
        "fs_list:os",
        "s3_list:rust-peers",
        "gcs:sdk",
    ):
        assert explain(tid, reasons) is not None, tid


def _cell(workload: str, contender: str, thr: float, cpu: float = 1e-4) -> dict[str, Any]:
    return {
        "workload": workload,
        "contender": contender,
        "status": "ok",
        "throughput": {"median": thr, "min": thr, "max": thr},
        "cpu_per_op_s": {"median": cpu, "min": cpu, "max": cpu},
        "rss_growth_bytes": {"median": 0, "min": 0, "max": 0},
        "server_cpu_s": {"median": 0.0, "min": 0.0, "max": 0.0},
    }


def test_a_not_met_line_prints_the_reason_of_its_marker() -> None:
    ids = ["fs_small_delete", "fs_small_read"]
    doc = {
        "workloads": [w.to_json() for w in select(workloads(), ids) if w.id in ids],
        "contenders": [
            {"name": "pystorage_fs", "family": "fs", "role": "pystorage"},
            {"name": "os_fs", "family": "fs", "role": "baseline"},
        ],
        "summary": [
            _cell("fs_small_delete", "pystorage_fs", 500.0),  # 0.50x: NOT met
            _cell("fs_small_delete", "os_fs", 1000.0),
            _cell("fs_small_read", "pystorage_fs", 1000.0),  # 1.00x: met
            _cell("fs_small_read", "os_fs", 1000.0),
        ],
    }
    reason = explain("fs_small_delete:os")
    assert reason is not None
    lines = render(doc).splitlines()
    miss = next(i for i, line in enumerate(lines) if line.startswith("  [NOT met] fs_small_delete"))
    assert lines[miss + 1] == f"            why: {reason.reason} [docs/performance.md#{reason.anchor}]"
    met = next(i for i, line in enumerate(lines) if line.startswith("  [    met] fs_small_read"))
    assert not lines[met + 1].lstrip().startswith("why:")
