"""One contender × one workload, measured in this (fresh) process, on the contender's
event loop (asyncio, or uvloop for the ``"loop"`` rows).

``python -m benchmarks.child '<json>'`` (or ``-`` to read the JSON from stdin)
prints one line ``BENCH-RESULT {...}`` on stdout. The JSON argument holds the
contender name, the workload, the family's settings (endpoint, bucket,
credentials, server PIDs or fs root), the seed sizes, a unique token and a
timeout.

The timed phase is bracketed by:

- ``time.perf_counter()`` → wall seconds;
- ``resource.getrusage`` (``RUSAGE_SELF`` + ``RUSAGE_CHILDREN``, µs
  resolution) → user + system CPU of this process (all its threads, Rust
  runtimes included) plus that of reaped children (curl, dd, cat);
- ``/proc/self/clear_refs`` ← ``5`` just before (resets the kernel's peak RSS
  to the current RSS), then ``VmHWM`` from ``/proc/self/status`` after: the
  peak RSS growth is ``VmHWM − VmRSS at the reset``;
- ``/proc/stat`` (all CPUs' busy time) and ``/proc/<server>/stat`` (the
  servers' CPU): the CPU used by *other* processes during the phase is
  machine busy − ours − the servers'.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import resource
import sys
import time
import traceback
from dataclasses import dataclass
from typing import Any

import anyio

from .contenders import Contender, load, unavailable_reason
from .servers import Seed
from .workloads import Workload, check, cleanup, measure, prepare, verify_written, warm_up

__all__ = ["MARKER", "main", "run_one"]

#: the prefix of the result line on stdout
MARKER = "BENCH-RESULT "

_TICK = os.sysconf("SC_CLK_TCK")


def _status_bytes(field: str) -> int | None:
    """A ``/proc/self/status`` memory field (``VmRSS``, ``VmHWM``) in bytes."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark of this process (``VmHWM``) to the current RSS."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _machine_busy() -> float | None:
    """Seconds of CPU all processors spent not idle since boot (``/proc/stat``)."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = f.readline().split()
    except OSError:
        return None
    # cpu user nice system idle iowait irq softirq steal guest guest_nice
    values = [int(v) for v in fields[1:9]]
    busy = values[0] + values[1] + values[2] + values[5] + values[6] + values[7]
    return busy / _TICK


def _pid_cpu(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


@dataclass
class _Mark:
    wall: float
    user: float
    system: float
    children: float
    busy: float | None
    servers: float


def _mark(server_pids: list[int]) -> _Mark:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return _Mark(
        wall=time.perf_counter(),
        user=own.ru_utime,
        system=own.ru_stime,
        children=kids.ru_utime + kids.ru_stime,
        busy=_machine_busy(),
        servers=sum(_pid_cpu(p) for p in server_pids),
    )


#: fast clients that write and delete the untimed objects (a delete workload's
#: objects, a small-PUT workload's clean-up), first one installed wins
HELPERS = {
    "s3": ("obstore_s3", "opendal_s3"),
    "gcs": ("gcloud_aio_gcs",),
    "azblob": ("obstore_azblob", "azure_blob_aio"),
}


async def _helper(w: Workload, name: str, cfg: dict[str, Any]) -> Contender | None:
    """A fast client for the untimed writes and deletes of ``w`` (``None``: use the contender)."""
    if w.kind not in ("small_put", "small_delete"):
        return None
    for candidate in HELPERS.get(w.family, ()):
        if candidate == name or unavailable_reason(candidate) is not None:
            continue
        helper = load(candidate)()
        try:
            await helper.setup(cfg)
        except Exception:  # fall back to the contender itself
            continue
        return helper
    return None


async def _run(args: dict[str, Any]) -> dict[str, Any]:
    name: str = args["contender"]
    w = Workload(**{k: v for k, v in args["workload"].items() if k != "unit"})
    cfg: dict[str, Any] = args["cfg"]
    seed = Seed(**args["seed"])
    token: str = args["token"]
    server_pids = [int(p) for p in cfg.get("server_pids", [])]
    noise_cores = float(args.get("noise_cores", 0.25))

    contender: Contender = load(name)()
    loop = type(asyncio.get_running_loop()).__module__.split(".")[0]  # "asyncio" or "uvloop"
    if loop != contender.event_loop:
        raise RuntimeError(f"{name} should run on {contender.event_loop}, the child runs {loop}")
    await contender.setup(cfg)
    helper = await _helper(w, name, cfg)
    try:
        prepared = await prepare(contender, w, token, seed, helper)
        try:
            await warm_up(contender, w)
            gc.collect()
            rss0_start = _status_bytes("VmRSS") or 0
            peak_reset = _reset_peak()
            rss0 = _status_bytes("VmRSS") or rss0_start
            before = _mark(server_pids)
            ops, nbytes = await measure(contender, w, prepared)
            after = _mark(server_pids)
            hwm = _status_bytes("VmHWM") or 0
            children_maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
            wrong = check(w, prepared, ops, nbytes) or await verify_written(contender, w, prepared)
        finally:
            await cleanup(contender, w, prepared, cfg, token, helper)
    finally:
        if helper is not None:
            await helper.close()
        await contender.close()

    wall = after.wall - before.wall
    user = after.user - before.user
    system = after.system - before.system
    children = after.children - before.children
    cpu = user + system + children
    server_cpu = after.servers - before.servers
    busy = None if before.busy is None or after.busy is None else after.busy - before.busy
    other = None if busy is None else max(0.0, busy - cpu - server_cpu)
    # /proc/stat counts in clock ticks: allow two ticks of quantisation before calling a sample noisy
    noisy = other is not None and other > noise_cores * wall + 2 / _TICK
    result: dict[str, Any] = {
        "status": "error" if wrong else "ok",
        "error": wrong,
        "wall_s": wall,
        "cpu_s": cpu,
        "cpu_user_s": user,
        "cpu_sys_s": system,
        "children_cpu_s": children,
        "rss_at_reset_bytes": rss0,
        "peak_rss_bytes": hwm,
        "rss_growth_bytes": max(0, hwm - (rss0 if peak_reset else rss0_start)),
        "peak_reset": peak_reset,
        "children_maxrss_bytes": children_maxrss,
        "server_cpu_s": server_cpu,
        "machine_busy_s": busy,
        "other_cpu_s": other,
        "noisy": noisy,
        "ops": ops,
        "bytes": nbytes,
        "event_loop": loop,
    }
    return result


def _unwrap(exc: BaseException) -> BaseException:
    """The single exception inside (nested) exception groups, else ``exc`` itself."""
    while isinstance(getattr(exc, "exceptions", None), tuple) and len(exc.exceptions) == 1:  # type: ignore[attr-defined]
        exc = exc.exceptions[0]  # type: ignore[attr-defined]
    return exc


def run_one(args: dict[str, Any]) -> dict[str, Any]:
    """Run one measurement as described by ``args``; never raises (errors become ``status``)."""
    timeout = float(args.get("timeout", 600))

    async def main() -> dict[str, Any]:
        with anyio.fail_after(timeout):
            return await _run(args)

    try:
        try:
            uvloop = load(args["contender"]).event_loop == "uvloop"
            return anyio.run(main, backend="asyncio", backend_options={"use_uvloop": uvloop})
        except BaseException as group:
            raise _unwrap(group) from None
    except NotImplementedError as exc:
        return {"status": "n/a", "error": str(exc) or "not supported"}
    except TimeoutError:
        return {"status": "error", "error": f"timed out after {timeout:.0f} s"}
    except Exception as exc:  # reported, never raised
        tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
        detail = f"{type(exc).__name__}: {exc}"
        return {"status": "error", "error": detail[:600], "traceback": "".join(tb)[-3000:]}


def main(argv: list[str] | None = None) -> int:
    """Entry point: parse the JSON argument, run, print the ``BENCH-RESULT`` line."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m benchmarks.child '<json>' | -", file=sys.stderr)
        return 2
    raw = sys.stdin.read() if argv[0] == "-" else argv[0]
    result = run_one(json.loads(raw))
    sys.stdout.write("\n" + MARKER + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
