"""``python -m benchmarks [--quick] [--only W] [--contenders a,b] [--reps N] [--out FILE]``,
``python -m benchmarks compare A.json B.json``, ``python -m benchmarks crypto`` and
``python -m benchmarks sync [--quick]`` (``pystorage sync`` against ``rclone sync``; also run
after a whole-suite run)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .contenders import CONTENDERS
from .report import compare, render
from .runner import RunOptions, run
from .workloads import workloads

__all__ = ["main"]


def _csv(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (or ``compare``, or ``list``) and print the report."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["compare"]:
        cmp = argparse.ArgumentParser(
            prog="python -m benchmarks compare", description="compare two result files"
        )
        cmp.add_argument("a", type=Path, help="the baseline results JSON")
        cmp.add_argument("b", type=Path, help="the new results JSON")
        ns = cmp.parse_args(argv[1:])
        a = json.loads(ns.a.read_text(encoding="utf-8"))
        b = json.loads(ns.b.read_text(encoding="utf-8"))
        sys.stdout.write(compare(a, b))
        return 0
    if argv[:1] == ["sync"]:
        from .sync_rclone import main as sync_main

        return sync_main(argv[1:])
    if argv[:1] == ["crypto"]:
        from .crypto import crypto_lines

        cry = argparse.ArgumentParser(prog="python -m benchmarks crypto", description="raw encryption speed")
        cry.add_argument("--size", type=int, default=64, help="MiB of data (default 64)")
        print("\n".join(crypto_lines(cry.parse_args(argv[1:]).size)))
        return 0
    if argv[:1] == ["list"]:
        for w in workloads(quick="--quick" in argv):
            print(f"{w.id:<24} {w.title}")
        print()
        for name in CONTENDERS:
            print(name)
        return 0
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="pystorage benchmarks: local servers, each contender x workload in a fresh process.",
        epilog="Also: `python -m benchmarks compare A.json B.json`, `python -m benchmarks list`.",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, 1 repetition (< 3 minutes)")
    parser.add_argument(
        "--only",
        type=_csv,
        default=None,
        help="workloads: comma-separated ids, substrings or globs (s3_*,list)",
    )
    parser.add_argument("--contenders", type=_csv, default=None, help="comma-separated contender names")
    parser.add_argument("--reps", type=int, default=None, help="repetitions (default 3, 1 with --quick)")
    parser.add_argument(
        "--out", default=None, help="results JSON (default benchmarks/results/<timestamp>.json)"
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per sample before it is killed")
    parser.add_argument(
        "--noise-cores", type=float, default=0.25, help="flag a sample when others used more cores than this"
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=None,
        help="seconds the run should stay under: skip a repetition that would not fit (default 1140, "
        "none with --quick; 0: no limit)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    ns = parser.parse_args(argv)
    if ns.reps is not None and ns.reps < 1:
        parser.error("--reps must be at least 1")
    options = RunOptions(
        quick=ns.quick,
        only=ns.only,
        contenders=ns.contenders,
        reps=ns.reps,
        out=ns.out,
        timeout=ns.timeout,
        noise_cores=ns.noise_cores,
        progress=None if ns.quiet else sys.stderr,
        budget=ns.budget,
    )
    try:
        doc = run(options)
    except KeyboardInterrupt:
        print("\ninterrupted: servers stopped", file=sys.stderr)
        return 130
    sys.stdout.write("\n" + render(doc))
    if ns.only is None:
        from .crypto import crypto_lines
        from .sync_rclone import run_sync_benchmark

        sys.stdout.write("\n" + "\n".join(crypto_lines(16 if ns.quick else 64)) + "\n")
        # the sync comparison against rclone (issue 15)
        sys.stdout.write("\n" + run_sync_benchmark(quick=ns.quick))
    return 0


if __name__ == "__main__":
    sys.exit(main())
