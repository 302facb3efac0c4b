"""The terminal report: one table per workload, the target lines of issues 6, 13, 14, 16 and 17
(a miss with the reason recorded in docs/performance.md, :mod:`benchmarks.reasons`), and ``compare``.

Columns of a workload's table:

- throughput (MiB/s, ops/s or keys/s): median over the repetitions, with the
  min–max; ``~`` marks a cell with at least one noisy sample;
- CPU: client CPU (user+sys of the contender's process and its reaped
  children) per operation (µs) or per GiB moved (s);
- peak RSS: growth of the process's peak RSS during the timed phase (``-``
  for a limit line: the tool runs in its own process, whose peak the kernel
  only reports mixed with the forked interpreter's);
- server CPU: CPU seconds the server (rclone, fake-gcs-server) used during the
  timed phase; other: CPU seconds used by the rest of the machine;
- pystorage ×: pystorage's throughput divided by this contender's (above 1:
  pystorage is faster) and, in brackets, pystorage's CPU per unit divided by
  this contender's (below 1: pystorage is cheaper).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .reasons import why_line
from .workloads import MiB

__all__ = ["compare", "render", "targets"]

_PER_REQUEST_TARGET = ("ranged", "small_put", "small_get", "small_delete", "list")
_TRANSFERS = ("get_bytes", "get_stream", "put_buffer", "put_stream")
_RUST_PEERS = ("opendal_s3", "obstore_s3")
#: issue 17: GCS workloads against the SDK and, where it runs, OpenDAL's GCS service
_GCS_PEERS = ("gcloud_aio_gcs", "opendal_gcs")
#: issue 14: azblob per-request workloads against these (the SDK and the Rust-backed peers)
_AZBLOB_PEERS = ("azure_blob_aio", "obstore_azblob", "opendal_azblob")
#: the bars of the per-request targets: (contender, factor, label)
_S3_BARS = (*((p, 1.0, p) for p in _RUST_PEERS), ("aiobotocore_s3", 3.0, "3×aiobotocore"))
_AZBLOB_BARS = tuple((p, 1.0, p) for p in _AZBLOB_PEERS)
_RUST_BARS = tuple((p, 1.0, p) for p in _RUST_PEERS)
_GCS_BARS = tuple((p, 1.0, p) for p in _GCS_PEERS)
#: issue 17: per-request S3 throughput and client CPU per request against the best Rust peer
_ISSUE17_THROUGHPUT = 1.1
_ISSUE17_CPU = 0.8
#: issue 16: per family, the EncryptionLayer contenders of large transfers and of ranged reads
_ENCRYPTED = {
    "s3": (("pystorage_s3_enc",), ("pystorage_s3_enc", "pystorage_s3_enc4k")),
    "fs": (("pystorage_fs_enc",), ("pystorage_fs_enc",)),
}
#: issue 16: the least throughput with the layer, relative to without it
_ENC_TRANSFER_RATIO = 0.9
_ENC_RANGED_RATIO = 0.8
#: the heading of the target lines
TARGETS_HEADING = "Targets (issues 6, 13, 14, 16 and 17)"


def _cells(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(s["workload"], s["contender"]): s for s in doc.get("summary", [])}


def _ok(cell: dict[str, Any] | None) -> bool:
    return cell is not None and cell.get("status") == "ok"


def _thr(cell: dict[str, Any]) -> float:
    return float(cell["throughput"]["median"])


def _cpu_unit(cell: dict[str, Any]) -> float | None:
    stats = cell.get("cpu_per_op_s") or cell.get("cpu_per_gib_s")
    return None if stats is None else float(stats["median"])


def _num(x: float) -> str:
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def _mib(n: float) -> str:
    return f"{n / MiB:,.0f} MiB" if n >= 10 * MiB else f"{n / MiB:.1f} MiB"


def _pystorage_of(doc: dict[str, Any], family: str) -> str | None:
    for c in doc.get("contenders", []):
        if c["family"] == family and c["role"] == "pystorage":
            return str(c["name"])
    return None


def _role_names(doc: dict[str, Any], family: str, roles: Iterable[str]) -> list[str]:
    wanted = set(roles)
    return [
        str(c["name"]) for c in doc.get("contenders", []) if c["family"] == family and c["role"] in wanted
    ]


def _table(rows: list[list[str]], indent: str = "  ") -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for r in rows:
        parts = [r[0].ljust(widths[0])] + [r[i].rjust(widths[i]) for i in range(1, len(r) - 1)] + [r[-1]]
        out.append(indent + "  ".join(parts).rstrip())
    return out


def render(doc: dict[str, Any]) -> str:
    """The whole report (tables, then targets) as text."""
    cells = _cells(doc)
    names = [c["name"] for c in doc.get("contenders", [])]
    lines: list[str] = []
    mode = "quick" if doc.get("quick") else "full"
    lines.append(
        f"pystorage benchmarks ({mode}, {doc.get('reps_done', doc.get('reps'))} rep(s), "
        f"{doc.get('created', '?')}, {_elapsed(doc)}"
        f"{doc.get('host', {}).get('cpus', '?')} CPUs, load {_load(doc)})"
    )
    for family, server in (doc.get("servers") or {}).items():
        lines.append(f"  {family}: {server}")
    if doc.get("budget_note"):
        lines.append(f"  note: {doc['budget_note']}")
    noisy_total = 0
    for w in doc.get("workloads", []):
        wid = w["id"]
        present = [n for n in names if (wid, n) in cells]
        if not present:
            continue
        py = _pystorage_of(doc, w["family"])
        py_cell = cells.get((wid, py)) if py else None
        per_request = w["unit"] != "MiB/s"
        lines.append("")
        lines.append(f"{wid} — {w['title']}")
        header = [
            "contender",
            w["unit"],
            "(min–max)",
            "CPU/op" if per_request else "CPU/GiB",
            "peak RSS",
            "srv CPU",
            "other",
            "pystorage ×",
        ]
        rows = [header]
        notes: list[str] = []
        for n in present:
            cell = cells[(wid, n)]
            if not _ok(cell):
                rows.append([n, cell["status"], "", "", "", "", "", ""])
                notes.append(f"{n}: {cell['status']} — {_first_line(cell.get('reason'))}")
                continue
            t = cell["throughput"]
            mark = "~" if cell.get("noisy_samples") else ""
            noisy_total += int(cell.get("noisy_samples") or 0)
            cpu = _cpu_unit(cell) or 0.0
            if per_request:
                cpu_text = f"{cpu * 1e6:,.0f} µs" if cpu >= 10e-6 else f"{cpu * 1e6:.1f} µs"
            else:
                cpu_text = f"{cpu:.2f} s"
            rss = cell["rss_growth_bytes"]["median"]
            rss_text = "-" if cell.get("rss_is_child_peak") else "+" + _mib(rss)
            other = cell.get("other_cpu_s")
            ratio = ""
            if n != py and _ok(py_cell):
                assert py_cell is not None
                r = _thr(py_cell) / _thr(cell) if _thr(cell) else float("inf")
                py_cpu, cpu_here = _cpu_unit(py_cell), _cpu_unit(cell)
                cpu_ratio = f" (cpu {py_cpu / cpu_here:.2f}×)" if py_cpu and cpu_here else ""
                ratio = f"{r:.2f}×{cpu_ratio}"
            elif n == py:
                ratio = "—"
            rows.append(
                [
                    n,
                    mark + _num(t["median"]),
                    f"({_num(t['min'])}–{_num(t['max'])})",
                    cpu_text,
                    rss_text,
                    f"{cell['server_cpu_s']['median']:.2f} s",
                    f"{other['median']:.2f} s" if other else "?",
                    ratio,
                ]
            )
            if cell.get("reason"):
                notes.append(f"{n}: {_first_line(cell['reason'])}")
        lines.extend(_table(rows))
        lines.extend(f"    {note}" for note in notes)
    lines.append("")
    if noisy_total:
        lines.append(
            f"~ {noisy_total} sample(s) ran while other processes used more than "
            f"{doc.get('noise_cores', 0.25)} core(s): compare those figures with care."
        )
    lines.append(
        "CPU: client process (+ its tools); peak RSS: growth during the timed phase ('-': a tool's process); "
        "srv CPU: the server's; other: the rest of the machine's."
    )
    lines.append("")
    lines.append(TARGETS_HEADING)
    for t in doc.get("targets") or targets(doc):
        lines.append(f"  [{t['status']:>7}] {t['text']}: {t['detail']}")
        lines.extend(f"            {why}" for why in [why_line(t)] if why)
    if doc.get("path"):
        lines.append("")
        lines.append(f"results: {doc['path']}")
    return "\n".join(lines) + "\n"


def _first_line(text: object, limit: int = 200) -> str:
    line = str(text).strip().splitlines()[0] if str(text).strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _elapsed(doc: dict[str, Any]) -> str:
    elapsed = doc.get("elapsed_s")
    return f"took {elapsed / 60:.1f} min, " if isinstance(elapsed, (int, float)) else ""


def _load(doc: dict[str, Any]) -> str:
    start = doc.get("host", {}).get("loadavg_start")
    end = doc.get("host", {}).get("loadavg_end")
    if not start:
        return "?"
    return f"{start[0]:.2f}" + (f"→{end[0]:.2f}" if end else "")


def _target(tid: str, text: str, status: str, detail: str) -> dict[str, str]:
    return {"id": tid, "text": text, "status": status, "detail": detail}


def targets(doc: dict[str, Any]) -> list[dict[str, str]]:
    """Every target line of issues 6, 13, 14, 16 and 17 that the run has figures for: ``status``
    is ``"met"``, ``"NOT met"`` or ``"n/a"`` (a figure is missing; ``detail`` says which)."""
    cells = _cells(doc)
    ws = {w["id"]: w for w in doc.get("workloads", [])}
    out: list[dict[str, str]] = []

    def cell(wid: str, name: str | None) -> dict[str, Any] | None:
        c = cells.get((wid, name)) if name else None
        return c if _ok(c) else None

    def why_missing(wid: str, name: str | None) -> str:
        c = cells.get((wid, name)) if name else None
        if c is None:
            return f"{name or 'pystorage'} was not run"
        return f"{name} {c['status']}: {_first_line(c.get('reason'), 120)}"

    # per-request S3 workloads: >= best of opendal/obstore and >= 3x aiobotocore (issue 6);
    # >= 1.1x the best of opendal/obstore with <= 0.8x the best one's CPU per request (issue 17)
    out.extend(
        _best_of_targets(doc, ws, cell, why_missing, "s3", _S3_BARS, "opendal/obstore and ≥ 3× aiobotocore")
    )
    out.extend(
        _best_of_targets(
            doc,
            ws,
            cell,
            why_missing,
            "s3",
            _RUST_BARS,
            "opendal/obstore",
            tag="rust-peers",
            factor=_ISSUE17_THROUGHPUT,
            cpu_factor=_ISSUE17_CPU,
        )
    )
    py = _pystorage_of(doc, "s3")

    # large transfers: wall >= 0.95x curl (issue 6: GETs; issue 17: PUTs too, where a curl
    # line exists); CPU per GiB <= the best peer's
    for wid, w in ws.items():
        if w["family"] != "s3" or w["kind"] not in _TRANSFERS:
            continue
        pc = cell(wid, py)
        text = f"{wid}: throughput ≥ 0.95× the curl line"
        curl = cell(wid, "curl")
        if pc is None or curl is None:
            out.append(_target(f"{wid}:curl", text, "n/a", why_missing(wid, py if pc is None else "curl")))
        else:
            r = _thr(pc) / _thr(curl)
            out.append(
                _target(
                    f"{wid}:curl",
                    text,
                    "met" if r >= 0.95 else "NOT met",
                    f"pystorage {_num(_thr(pc))} vs curl {_num(_thr(curl))} MiB/s ({r:.2f}×)",
                )
            )
        text = f"{wid}: client CPU per GiB ≤ the best peer's"
        peers = [(n, cell(wid, n)) for n in _role_names(doc, "s3", ["peer"])]
        have = [(n, _cpu_unit(c)) for n, c in peers if c is not None and _cpu_unit(c) is not None]
        if pc is None or not have:
            out.append(
                _target(f"{wid}:cpu", text, "n/a", why_missing(wid, py) if pc is None else "no peer figure")
            )
        else:
            best_name, best = min(have, key=lambda x: x[1] or 0.0)
            mine = _cpu_unit(pc) or 0.0
            out.append(
                _target(
                    f"{wid}:cpu",
                    text,
                    "met" if best is not None and mine <= best else "NOT met",
                    f"pystorage {mine:.2f} s/GiB vs {best_name} {best:.2f} s/GiB",
                )
            )

    # memory bounds, every family
    for wid, w in ws.items():
        pyf = _pystorage_of(doc, w["family"])
        if w["kind"] == "get_bytes":
            bound, rule = 1.1 * w["size"], f"≤ 1.1 × {_mib(w['size'])}"
        elif w["kind"] == "put_buffer":
            bound = w["concurrency"] * w["chunk"]
            rule = f"≤ {w['concurrency']} parts × {_mib(w['chunk'])}"
        elif w["kind"] == "put_stream":
            bound = w["chunk"] * (w["concurrency"] + 2) + 32 * MiB
            rule = f"≤ {_mib(w['chunk'])} × ({w['concurrency']} + 2) + 32 MiB"
        else:
            continue
        text = f"{wid}: peak RSS growth {rule}"
        pc = cell(wid, pyf)
        if pc is None:
            out.append(_target(f"{wid}:memory", text, "n/a", why_missing(wid, pyf)))
            continue
        growth = float(pc["rss_growth_bytes"]["max"])
        out.append(
            _target(
                f"{wid}:memory",
                text,
                "met" if growth <= bound else "NOT met",
                f"pystorage +{growth / MiB:.1f} MiB (worst sample) vs bound {bound / MiB:.1f} MiB",
            )
        )

    # fs: >= 0.9x raw os on every fs workload
    pyfs = _pystorage_of(doc, "fs")
    for wid, w in ws.items():
        if w["family"] != "fs":
            continue
        text = f"{wid}: ≥ 0.9× raw os in a thread"
        pc, oc = cell(wid, pyfs), cell(wid, "os_fs")
        if pc is None or oc is None:
            out.append(_target(f"{wid}:os", text, "n/a", why_missing(wid, pyfs if pc is None else "os_fs")))
            continue
        r = _thr(pc) / _thr(oc)
        per_request = w["unit"] != "MiB/s"
        detail = (
            f"pystorage {_num(_thr(pc))} vs os {_num(_thr(oc))} {w['unit']} ({r:.2f}×); "
            f"CPU {_cpu_text(pc, per_request)} vs {_cpu_text(oc, per_request)}"
        )
        out.append(_target(f"{wid}:os", text, "met" if r >= 0.9 else "NOT met", detail))

    out.extend(_fsspec_targets(doc, ws, cell, why_missing))
    out.extend(_best_of_targets(doc, ws, cell, why_missing, "azblob", _AZBLOB_BARS, "/".join(_AZBLOB_PEERS)))
    # issue 17: every GCS workload >= gcloud-aio-storage and >= OpenDAL's GCS service where it runs
    out.extend(
        _best_of_targets(
            doc,
            ws,
            cell,
            why_missing,
            "gcs",
            _GCS_BARS,
            "/".join(_GCS_PEERS),
            kinds=(*_TRANSFERS, *_PER_REQUEST_TARGET),
            tag="gcs-peers",
        )
    )
    out.extend(_encryption_targets(doc, ws, cell, why_missing))

    # DESIGN.md: less than 10% overhead over the service's own SDK (object stores)
    sdks = (("s3", "aiobotocore_s3"), ("gcs", "gcloud_aio_gcs"), ("azblob", "azure_blob_aio"))
    for family, sdk_name in sdks:
        pyf = _pystorage_of(doc, family)
        fws = [wid for wid, w in ws.items() if w["family"] == family]
        if not fws:
            continue
        text = f"{family}: ≥ 0.9× {sdk_name} on every workload (DESIGN.md: < 10% overhead)"
        ratios, missing = [], []
        for wid in fws:
            pc, sc = cell(wid, pyf), cell(wid, sdk_name)
            if pc is None or sc is None:
                if cells.get((wid, sdk_name), {}).get("status") != "n/a" or pc is None:
                    missing.append(wid)
                continue
            ratios.append((wid, _thr(pc) / _thr(sc)))
        if not ratios:
            out.append(_target(f"{family}:sdk", text, "n/a", f"no pair of figures ({', '.join(missing)})"))
            continue
        misses = [f"{wid} {r:.2f}×" for wid, r in ratios if r < 0.9]
        worst = min(ratios, key=lambda x: x[1])
        detail = f"worst {worst[0]} {worst[1]:.2f}×" + (
            f"; below 0.9×: {', '.join(misses)}" if misses else ""
        )
        if missing:
            detail += f"; no figure for {', '.join(missing)}"
        out.append(_target(f"{family}:sdk", text, "NOT met" if misses else "met", detail))
    return out


def _fsspec_targets(
    doc: dict[str, Any],
    ws: dict[str, dict[str, Any]],
    cell: Callable[[str, str | None], dict[str, Any] | None],
    why_missing: Callable[[str, str | None], str],
) -> list[dict[str, str]]:
    """Issue 13: the adapter ≥ the best peer filesystem on every fsspec workload, and its
    Parquet read ≥ 0.9× the same read through pystorage's own API."""
    out: list[dict[str, str]] = []
    py = _pystorage_of(doc, "fsspec")
    peers = _role_names(doc, "fsspec", ["peer"])
    for wid, w in ws.items():
        if w["family"] != "fsspec":
            continue
        text = f"{wid}: pystorage adapter ≥ the best fsspec peer"
        pc = cell(wid, py)
        have = [(n, _thr(c)) for n in peers if (c := cell(wid, n)) is not None]
        absent = [n for n in peers if cell(wid, n) is None]
        if pc is None or not have:
            why = why_missing(wid, py) if pc is None else "no peer figure"
            out.append(_target(f"{wid}:fsspec-peers", text, "n/a", why))
        else:
            best_name, best = max(have, key=lambda x: x[1])
            detail = (
                f"pystorage {_num(_thr(pc))} vs {best_name} {_num(best)} {w['unit']} ({_thr(pc) / best:.2f}×)"
            )
            if absent:
                detail += f"; no figure: {', '.join(absent)}"
            out.append(_target(f"{wid}:fsspec-peers", text, "met" if _thr(pc) >= best else "NOT met", detail))
        if w["kind"] != "fsspec_parquet":
            continue
        text = f"{wid}: adapter ≥ 0.9× the same read through pystorage's API"
        api = cell(wid, "pystorage_api")
        if pc is None or api is None:
            missing = why_missing(wid, py if pc is None else "pystorage_api")
            out.append(_target(f"{wid}:fsspec-api", text, "n/a", missing))
            continue
        r = _thr(pc) / _thr(api)
        detail = f"adapter {_num(_thr(pc))} vs API {_num(_thr(api))} MiB/s ({r:.2f}×)"
        out.append(_target(f"{wid}:fsspec-api", text, "met" if r >= 0.9 else "NOT met", detail))
    return out


def _best_of_targets(
    doc: dict[str, Any],
    ws: dict[str, dict[str, Any]],
    cell: Callable[[str, str | None], dict[str, Any] | None],
    why_missing: Callable[[str, str | None], str],
    family: str,
    bars: tuple[tuple[str, float, str], ...],
    against: str,
    *,
    kinds: tuple[str, ...] = _PER_REQUEST_TARGET,
    tag: str = "per-request",
    factor: float = 1.0,
    cpu_factor: float | None = None,
) -> list[dict[str, str]]:
    """pystorage ≥ ``factor`` × the best of ``bars`` (contender, factor, label) on every
    workload of ``family`` whose kind is in ``kinds`` (a contender without a figure is
    skipped and named); with ``cpu_factor``, also client CPU per unit ≤ ``cpu_factor`` ×
    the lowest of theirs, both figures in the detail. Issue 6 (s3) and 14 (azblob): the
    per-request workloads at 1×; issue 17: s3 per-request at 1.1× with 0.8× the CPU, and
    every gcs workload at 1×."""
    out: list[dict[str, str]] = []
    py = _pystorage_of(doc, family)
    times = f"{factor:g}× the " if factor != 1.0 else ""
    for wid, w in ws.items():
        if w["family"] != family or w["kind"] not in kinds:
            continue
        per_request = w["unit"] != "MiB/s"
        text = f"{wid}: {w['unit']} ≥ {times}best of {against}"
        if cpu_factor is not None:
            text += f", client CPU per {'request' if per_request else 'GiB'} ≤ {cpu_factor:g}× the best's"
        tid = f"{wid}:{tag}"
        pc = cell(wid, py)
        if pc is None:
            out.append(_target(tid, text, "n/a", why_missing(wid, py)))
            continue
        have = [(label, f * _thr(c), c) for n, f, label in bars if (c := cell(wid, n)) is not None]
        if not have:
            names = ", ".join(n for n, _, _ in bars)
            out.append(_target(tid, text, "n/a", f"no figure from {names}"))
            continue
        best = max(thr for _, thr, _ in have)
        need = factor * best
        ratio = _thr(pc) / best if best else float("inf")
        detail = (
            f"pystorage {_num(_thr(pc))} vs "
            + ", ".join(f"{label} {_num(thr)}" for label, thr, _ in have)
            + f" ({ratio:.2f}×{f', need {factor:.2f}×' if factor != 1.0 else ''})"
        )
        met = _thr(pc) >= need
        if cpu_factor is not None:
            mine = _cpu_unit(pc)
            theirs = [(label, cpu, c) for label, _, c in have if (cpu := _cpu_unit(c))]
            if mine is None or not theirs:
                out.append(_target(tid, text, "n/a", detail + "; no CPU figure"))
                continue
            cpu_label, cpu_best, cpu_cell = min(theirs, key=lambda x: x[1])
            detail += (
                f"; CPU {_cpu_text(pc, per_request)} vs {cpu_label} {_cpu_text(cpu_cell, per_request)} "
                f"({mine / cpu_best:.2f}×, need ≤ {cpu_factor:.2f}×)"
            )
            met = met and mine <= cpu_factor * cpu_best
        absent = [n for n, _, _ in bars if cell(wid, n) is None]
        if absent:
            detail += f"; no figure: {', '.join(absent)}"
        out.append(_target(tid, text, "met" if met else "NOT met", detail))
    return out


def _cpu_text(c: dict[str, Any], per_request: bool) -> str:
    cpu = _cpu_unit(c)
    if cpu is None:
        return "?"
    return f"{cpu * 1e6:,.0f} µs/op" if per_request else f"{cpu:.2f} s/GiB"


def _encryption_targets(
    doc: dict[str, Any],
    ws: dict[str, dict[str, Any]],
    cell: Callable[[str, str | None], dict[str, Any] | None],
    why_missing: Callable[[str, str | None], str],
) -> list[dict[str, str]]:
    """Issue 16: through ``EncryptionLayer``, large transfers ≥ 0.9× and ranged reads
    ≥ 0.8× (the best segment size) of the same workload without it, on S3 and fs,
    with the client CPU of both in the detail."""
    out: list[dict[str, str]] = []
    for wid, w in ws.items():
        layered = _ENCRYPTED.get(w["family"])
        if layered is None or w["kind"] not in (*_TRANSFERS, "ranged"):
            continue
        ranged = w["kind"] == "ranged"
        names, ratio = (layered[1], _ENC_RANGED_RATIO) if ranged else (layered[0], _ENC_TRANSFER_RATIO)
        best_of = f"the best of {'/'.join(names)}" if len(names) > 1 else names[0]
        text = f"{wid}: with EncryptionLayer ({best_of}) ≥ {ratio}× without it"
        py = _pystorage_of(doc, w["family"])
        pc = cell(wid, py)
        have = [(n, c) for n in names if (c := cell(wid, n)) is not None]
        if pc is None or not have:
            why = why_missing(wid, py) if pc is None else "; ".join(why_missing(wid, n) for n in names)
            out.append(_target(f"{wid}:encryption", text, "n/a", why))
            continue
        best_name, best = max(have, key=lambda x: _thr(x[1]))
        r = _thr(best) / _thr(pc)
        detail = (
            f"{best_name} {_num(_thr(best))} vs {py} {_num(_thr(pc))} {w['unit']} ({r:.2f}×); "
            f"CPU {_cpu_text(best, ranged)} vs {_cpu_text(pc, ranged)}"
        )
        mine, plain = _cpu_unit(best), _cpu_unit(pc)
        if mine and plain:
            detail += f" ({mine / plain:.2f}×)"
        others = [f"{n} {_num(_thr(c))}" for n, c in have if n != best_name]
        if others:
            detail += f"; also {', '.join(others)}"
        out.append(_target(f"{wid}:encryption", text, "met" if r >= ratio else "NOT met", detail))
    return out


def compare(a: dict[str, Any], b: dict[str, Any]) -> str:
    """Side-by-side medians of two result documents (B relative to A), and their target lines."""
    ca, cb = _cells(a), _cells(b)
    ws = {w["id"]: w for w in a.get("workloads", []) + b.get("workloads", [])}
    rows = [["workload", "contender", "A", "B", "B/A", "CPU B/A", "RSS A", "RSS B"]]
    for key in sorted(set(ca) | set(cb), key=lambda k: (list(ws).index(k[0]) if k[0] in ws else 0, k[1])):
        x, y = ca.get(key), cb.get(key)
        unit = ws.get(key[0], {}).get("unit", "")
        if not (_ok(x) or _ok(y)):
            continue
        ta = f"{_num(_thr(x))} {unit}" if x and _ok(x) else (x or {}).get("status", "-")
        tb = f"{_num(_thr(y))} {unit}" if y and _ok(y) else (y or {}).get("status", "-")
        ratio = cpu = ""
        if x and y and _ok(x) and _ok(y) and _thr(x):
            ratio = f"{_thr(y) / _thr(x):.2f}×"
            ux, uy = _cpu_unit(x), _cpu_unit(y)
            cpu = f"{uy / ux:.2f}×" if ux and uy else ""
        rss_a = _mib(x["rss_growth_bytes"]["median"]) if x and _ok(x) else ""
        rss_b = _mib(y["rss_growth_bytes"]["median"]) if y and _ok(y) else ""
        rows.append([key[0], key[1], ta, tb, ratio, cpu, rss_a, rss_b])
    lines = [f"A: {a.get('created', '?')} ({'quick' if a.get('quick') else 'full'})"]
    lines.append(f"B: {b.get('created', '?')} ({'quick' if b.get('quick') else 'full'})")
    if a.get("quick") != b.get("quick"):
        lines.append("warning: one run is --quick and the other is not; sizes differ")
    lines.append("")
    lines.extend(_table(rows))
    ta_map = {t["id"]: t for t in a.get("targets") or targets(a)}
    tb_map = {t["id"]: t for t in b.get("targets") or targets(b)}
    lines.append("")
    lines.append("Targets (A → B)")
    for tid in list(dict.fromkeys([*ta_map, *tb_map])):
        x_t, y_t = ta_map.get(tid), tb_map.get(tid)
        text = (y_t or x_t or {}).get("text", tid)
        sa = x_t["status"] if x_t else "-"
        sb = y_t["status"] if y_t else "-"
        lines.append(f"  {sa:>7} → {sb:<7} {text}")
    return "\n".join(lines) + "\n"
