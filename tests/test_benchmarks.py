"""The benchmark harness (``benchmarks/``) keeps working: a tiny fs run end to end.

The run spawns one child process per sample, as ``make bench`` does, on the fs
workloads only (no servers) with tiny sizes, then checks the JSON document,
the table and the target lines, ``compare``, and that failures and missing
contenders become ``error`` / ``n/a`` rather than crashes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks import SCHEMA_VERSION
from benchmarks.child import run_one
from benchmarks.contenders import CONTENDERS, ContenderSpec, unavailable_reason
from benchmarks.report import compare, render, targets
from benchmarks.runner import RunOptions, run
from benchmarks.workloads import MiB, seed_for, select, workloads
from benchmarks.workloads_fsspec import parquet_rows

ROOT = Path(__file__).resolve().parent.parent

TINY = {"fs_big": 4 * MiB, "fs_random_ops": 64, "fs_small": 32, "fs_list": 40}
ONLY = ["fs_read_bytes", "fs_write_stream", "fs_random_4k", "fs_small_delete", "fs_list"]
CONTENDERS_RUN = ["pystorage_fs", "os_fs", "dd_cat", "pystorage_fs_uvloop"]


@pytest.fixture(scope="module")
def fs_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench") / "result.json"
    options = RunOptions(
        only=ONLY, contenders=CONTENDERS_RUN, reps=1, out=str(out), overrides=TINY, progress=None, timeout=60
    )
    doc = run(options)
    assert Path(doc["path"]) == out
    on_disk: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return on_disk


def test_document_has_the_schema(fs_run: dict[str, Any]) -> None:
    doc = fs_run
    assert doc["schema"] == SCHEMA_VERSION
    for key in (
        "created",
        "quick",
        "reps",
        "host",
        "versions",
        "workloads",
        "contenders",
        "samples",
        "summary",
    ):
        assert key in doc, key
    assert [w["id"] for w in doc["workloads"]] == ONLY
    assert {c["name"] for c in doc["contenders"]} == set(CONTENDERS_RUN)
    for w in doc["workloads"]:
        assert w["unit"] in ("MiB/s", "ops/s", "keys/s")


def test_samples_are_measured(fs_run: dict[str, Any]) -> None:
    samples = [s for s in fs_run["samples"] if s["contender"] in ("pystorage_fs", "os_fs")]
    assert len(samples) == 2 * len(ONLY)
    for s in samples:
        assert s["status"] == "ok", s
        assert s["wall_s"] > 0
        assert s["cpu_s"] >= 0 and s["cpu_user_s"] >= 0 and s["cpu_sys_s"] >= 0
        assert s["rss_growth_bytes"] >= 0 and s["peak_rss_bytes"] > 0
        assert isinstance(s["noisy"], bool)
        assert s["ops"] > 0
    reads = [s for s in samples if s["workload"] == "fs_read_bytes"]
    assert all(s["bytes"] == TINY["fs_big"] for s in reads)
    assert all(s["peak_reset"] for s in reads)  # /proc/self/clear_refs works here
    listed = [s for s in samples if s["workload"] == "fs_list"]
    assert all(s["ops"] == TINY["fs_list"] for s in listed)


def test_summary_statuses_and_reasons(fs_run: dict[str, Any]) -> None:
    cells = {(c["workload"], c["contender"]): c for c in fs_run["summary"]}
    assert len(cells) == len(ONLY) * len(CONTENDERS_RUN)
    for wid in ONLY:
        for name in ("pystorage_fs", "os_fs"):
            cell = cells[(wid, name)]
            assert cell["status"] == "ok", cell
            t = cell["throughput"]
            assert 0 < t["min"] <= t["median"] <= t["max"]
    # the limit line runs for whole-file reads and streamed writes, and is n/a with a reason elsewhere
    assert cells[("fs_read_bytes", "dd_cat")]["status"] == "ok"
    assert cells[("fs_write_stream", "dd_cat")]["status"] == "ok"
    na = cells[("fs_list", "dd_cat")]
    assert na["status"] == "n/a" and "dd/cat" in na["reason"]


def test_targets_and_table(fs_run: dict[str, Any]) -> None:
    targets = fs_run["targets"]
    fs_targets = {t["id"]: t for t in targets if t["id"].endswith(":os")}
    assert set(fs_targets) == {f"{w}:os" for w in ONLY}
    assert all(t["status"] in ("met", "NOT met") for t in fs_targets.values())
    assert all(t["status"] in ("met", "NOT met", "n/a") for t in targets)
    assert "fs_write_stream:memory" in {t["id"] for t in targets}
    text = render(fs_run)
    for wid in ONLY:
        assert f"\n{wid} — " in text
    assert "Targets (issues 6, 13, 14, 16 and 17)" in text
    assert "pystorage ×" in text
    assert "fs_random_4k: ≥ 0.9× raw os in a thread" in text
    assert "dd_cat: n/a — the dd/cat line" in text


def test_the_uvloop_row_runs_on_uvloop_and_is_not_the_pystorage_line(fs_run: dict[str, Any]) -> None:
    loops = {(s["contender"], s["event_loop"]) for s in fs_run["samples"] if s.get("status") == "ok"}
    assert ("pystorage_fs_uvloop", "uvloop") in loops and ("pystorage_fs", "asyncio") in loops
    assert ("pystorage_fs_uvloop", "asyncio") not in loops and ("pystorage_fs", "uvloop") not in loops
    cells = {(c["workload"], c["contender"]): c for c in fs_run["summary"]}
    assert cells[("fs_random_4k", "pystorage_fs_uvloop")]["status"] == "ok"
    assert cells[("fs_random_4k", "pystorage_fs_uvloop")]["role"] == "loop"
    skipped = cells[("fs_read_bytes", "pystorage_fs_uvloop")]
    assert skipped["status"] == "n/a" and "per-request workloads only" in skipped["reason"]
    # the fs targets compare pystorage_fs (asyncio) with os
    fs_random = {t["id"]: t for t in fs_run["targets"]}["fs_random_4k:os"]
    ours = cells[("fs_random_4k", "pystorage_fs")]["throughput"]["median"]
    assert fs_random["detail"].startswith(f"pystorage {ours:,.0f} vs os "), fs_random  # > 100 ops/s
    assert " µs/op vs " in fs_random["detail"]  # the CPU of both
    assert "\n  pystorage_fs_uvloop " in render(fs_run)


def test_compare_a_run_with_itself(fs_run: dict[str, Any]) -> None:
    text = compare(fs_run, fs_run)
    assert "fs_read_bytes" in text and "1.00×" in text
    assert "Targets (A → B)" in text


def test_a_failing_sample_is_reported_not_raised(tmp_path: Path) -> None:
    w = select(workloads(overrides=TINY), ["fs_read_bytes"])[0]
    result = run_one(
        {
            "contender": "os_fs",
            "workload": w.to_json(),
            "cfg": {"root": str(tmp_path / "missing"), "server_pids": []},
            "seed": {
                "big_size": MiB,
                "small_count": 0,
                "list_count": 0,
                "fs_big_size": TINY["fs_big"],
                "fs_small_count": 0,
                "fs_list_count": 0,
            },
            "token": "t",
            "timeout": 30,
        }
    )
    assert result["status"] == "error"
    assert "FileNotFoundError" in result["error"]


def test_a_missing_package_makes_a_contender_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        CONTENDERS, "ghost", ContenderSpec("ghost", "os_fs", ("no_such_module_for_pystorage_benchmarks",))
    )
    reason = unavailable_reason("ghost")
    assert reason is not None and "no_such_module_for_pystorage_benchmarks" in reason
    assert unavailable_reason("os_fs") is None
    assert "unknown contender" in str(unavailable_reason("nobody"))


def test_select_and_quick_sizes() -> None:
    full, quick = workloads(), workloads(quick=True)
    assert [w.id for w in full] == [w.id for w in quick]
    by_id = {w.id: w for w in full}
    assert by_id["s3_get_bytes"].size == 256 * MiB
    assert by_id["s3_ranged_64k"].count == 2000 and by_id["s3_ranged_64k"].concurrency == 32
    assert by_id["s3_small_get"].concurrency == 64 and by_id["s3_list"].count == 5000
    assert by_id["fs_read_bytes"].size == 1024 * MiB and by_id["fs_random_4k"].count == 10_000
    assert {w.id for w in select(full, ["s3_put_buffer*"])} == {"s3_put_buffer_c4", "s3_put_buffer_c8"}
    assert {w.family for w in select(full, ["list"])} == {"s3", "gcs", "azblob", "fs"}


@pytest.mark.parametrize("quick", [True, False])
def test_seed_sizes_per_family(quick: bool) -> None:
    """Each family's seed is the largest whole-object read of that family: the fs
    family's (bigger) object never leaks into the object stores' ("fs" is not "fsspec")."""
    every = workloads(quick=quick)
    seed = seed_for(every)

    def whole(families: set[str]) -> int:
        return max(w.size for w in every if w.family in families and w.kind in {"get_bytes", "get_stream"})

    assert seed.big_size == whole({"s3", "gcs", "azblob"})
    assert seed.fs_big_size == whole({"fs"})
    assert seed.fs_big_size > seed.big_size


def test_command_line_lists_workloads() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks", "list"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert "s3_ranged_64k" in out.stdout and "pystorage_fs" in out.stdout


def test_time_budget_skips_repetitions(tmp_path: Path) -> None:
    options = RunOptions(
        only=["fs_small_delete"],
        contenders=["os_fs"],
        reps=3,
        out=str(tmp_path / "r.json"),
        overrides=TINY,
        progress=None,
        budget=0.001,
    )
    doc = run(options)
    assert doc["reps"] == 3 and doc["reps_done"] == 1
    assert "stopped after 1 of 3 repetitions" in doc["budget_note"]
    assert len(doc["samples"]) == 1
    assert "note: stopped after 1 of 3" in render(doc)


# the fsspec family (issue 13): tiny sizes on the rclone S3 server -----------------------

FSSPEC_TINY = {"parquet": 2 * MiB, "fsspec_ranges": 20, "list_keys": 30, "ops": 20}
FSSPEC_IDS = ["fsspec_read_parquet", "fsspec_cat_ranges", "fsspec_find", "fsspec_pipe", "fsspec_cat"]


@pytest.fixture(scope="module")
def fsspec_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The adapter and the pystorage API line (the peers are optional packages of ``bench``)."""
    options = RunOptions(
        only=["fsspec_*"],
        contenders=["pystorage_fsspec", "pystorage_api"],
        reps=1,
        out=str(tmp_path_factory.mktemp("bench") / "fsspec.json"),
        overrides=FSSPEC_TINY,
        progress=None,
        timeout=60,
    )
    return run(options)


def test_fsspec_workloads_run_and_are_checked(fsspec_run: dict[str, Any]) -> None:
    doc = fsspec_run
    assert [w["id"] for w in doc["workloads"]] == FSSPEC_IDS
    assert doc["servers"]["fsspec"].startswith("rclone serve s3")
    cells = {(s["workload"], s["contender"]): s for s in doc["summary"]}
    for wid in FSSPEC_IDS:
        assert cells[(wid, "pystorage_fsspec")]["status"] == "ok", cells[(wid, "pystorage_fsspec")]
    assert cells[("fsspec_read_parquet", "pystorage_api")]["status"] == "ok"
    assert cells[("fsspec_find", "pystorage_api")]["status"] == "n/a"
    samples = {(s["workload"], s["contender"]): s for s in doc["samples"]}
    assert samples[("fsspec_find", "pystorage_fsspec")]["ops"] == 30
    assert samples[("fsspec_read_parquet", "pystorage_fsspec")]["bytes"] == parquet_rows(2 * MiB) * 4 * 8
    assert samples[("fsspec_cat_ranges", "pystorage_fsspec")]["bytes"] == 20 * 64 * 1024
    assert samples[("fsspec_cat", "pystorage_fsspec")]["bytes"] == 20 * 4096
    by_id = {t["id"]: t for t in doc["targets"]}
    assert by_id["fsspec_read_parquet:fsspec-api"]["status"] in ("met", "NOT met")
    assert by_id["fsspec_pipe:fsspec-peers"]["status"] == "n/a"  # no peer ran
    text = render(doc)
    assert "fsspec_read_parquet — pandas read_parquet of a 2 MiB Parquet file" in text
    assert "adapter ≥ 0.9× the same read through pystorage's API" in text


def test_a_server_is_warmed_once_per_reading_workload(
    fsspec_run: dict[str, Any], fs_run: dict[str, Any]
) -> None:
    # one untimed pass by the first contender before the workloads that read the seed (not pipe's
    # writes), kept apart from the samples; the fs family has no server to warm
    warm = fsspec_run["warmups"]
    assert [w["workload"] for w in warm] == [i for i in FSSPEC_IDS if i != "fsspec_pipe"]
    assert {(w["contender"], w["rep"], w["status"]) for w in warm} == {("pystorage_fsspec", 0, "ok")}
    assert all(w["ops"] > 0 for w in warm)
    cells = [(s["workload"], s["contender"]) for s in fsspec_run["samples"]]
    assert len(set(cells)) == len(cells)  # one repetition: one sample per cell, no warm-up among them
    assert fs_run["warmups"] == []


def test_fsspec_targets_against_the_best_peer() -> None:
    def cell(workload: str, contender: str, thr: float) -> dict[str, Any]:
        return {"workload": workload, "contender": contender, "status": "ok", "throughput": {"median": thr}}

    doc = {
        "workloads": [w.to_json() for w in select(workloads(), ["fsspec_find", "fsspec_read_parquet"])],
        "contenders": [
            {"name": "pystorage_fsspec", "family": "fsspec", "role": "pystorage"},
            {"name": "pystorage_api", "family": "fsspec", "role": "sdk"},
            {"name": "s3fs_fsspec", "family": "fsspec", "role": "peer"},
            {"name": "obstore_fsspec", "family": "fsspec", "role": "peer"},
        ],
        "summary": [
            cell("fsspec_find", "pystorage_fsspec", 100.0),
            cell("fsspec_find", "s3fs_fsspec", 50.0),
            cell("fsspec_find", "obstore_fsspec", 120.0),
            cell("fsspec_read_parquet", "pystorage_fsspec", 95.0),
            cell("fsspec_read_parquet", "pystorage_api", 100.0),
            cell("fsspec_read_parquet", "s3fs_fsspec", 90.0),
            {"workload": "fsspec_read_parquet", "contender": "obstore_fsspec", "status": "error"},
        ],
    }
    by_id = {t["id"]: t for t in targets(doc)}
    assert by_id["fsspec_find:fsspec-peers"]["status"] == "NOT met"
    assert "obstore_fsspec 120" in by_id["fsspec_find:fsspec-peers"]["detail"]
    assert by_id["fsspec_read_parquet:fsspec-peers"]["status"] == "met"
    assert "no figure: obstore_fsspec" in by_id["fsspec_read_parquet:fsspec-peers"]["detail"]
    assert by_id["fsspec_read_parquet:fsspec-api"]["status"] == "met"  # 0.95x >= 0.9x


def test_fsspec_quick_sizes_and_opendalfs_reason() -> None:
    full = {w.id: w for w in workloads()}
    quick = {w.id: w for w in workloads(quick=True)}
    assert full["fsspec_read_parquet"].size == 256 * MiB and quick["fsspec_read_parquet"].size == 64 * MiB
    assert "(--quick sizes)" in quick["fsspec_read_parquet"].title
    assert full["fsspec_cat_ranges"].count == 200 and full["fsspec_find"].count == 5000
    assert full["fsspec_pipe"].count == 2000 and full["fsspec_cat"].size == 4096
    reason = unavailable_reason("opendalfs")
    assert reason is None or "Python >= 3.12" in reason


# target lines of issues 14 (azblob) and 16 (EncryptionLayer), on synthetic documents -------


def _cell(workload: str, contender: str, thr: float, cpu: float | None = None) -> dict[str, Any]:
    """A summary cell as the runner writes it, with what the table and the targets read."""
    c: dict[str, Any] = {
        "workload": workload,
        "contender": contender,
        "status": "ok",
        "throughput": {"median": thr, "min": thr, "max": thr},
        "rss_growth_bytes": {"median": 0, "max": 0},
        "server_cpu_s": {"median": 0.0},
    }
    if cpu is not None:
        unit = "cpu_per_op_s" if workload.endswith(("ranged_64k", "random_4k")) else "cpu_per_gib_s"
        c[unit] = {"median": cpu}
    return c


def _na(workload: str, contender: str) -> dict[str, Any]:
    return {"workload": workload, "contender": contender, "status": "n/a", "reason": "not measured"}


def _contenders(*specs: tuple[str, str, str]) -> list[dict[str, str]]:
    return [{"name": n, "family": f, "role": r} for n, f, r in specs]


def test_azblob_per_request_targets_against_the_best_peer() -> None:
    ids = ["azblob_small_put", "azblob_small_get", "azblob_small_delete", "azblob_ranged_64k", "azblob_list"]
    doc = {
        "workloads": [w.to_json() for w in select(workloads(), [*ids, "azblob_get_bytes"])],
        "contenders": _contenders(
            ("pystorage_azblob", "azblob", "pystorage"),
            ("azure_blob_aio", "azblob", "sdk"),
            ("opendal_azblob", "azblob", "peer"),
            ("obstore_azblob", "azblob", "peer"),
        ),
        "summary": [
            # met: 300 >= max(100, 250, 290)
            _cell("azblob_small_put", "pystorage_azblob", 300.0),
            _cell("azblob_small_put", "azure_blob_aio", 100.0),
            _cell("azblob_small_put", "obstore_azblob", 250.0),
            _cell("azblob_small_put", "opendal_azblob", 290.0),
            # NOT met: obstore is faster
            _cell("azblob_small_get", "pystorage_azblob", 300.0),
            _cell("azblob_small_get", "azure_blob_aio", 100.0),
            _cell("azblob_small_get", "obstore_azblob", 301.0),
            _cell("azblob_small_get", "opendal_azblob", 200.0),
            # an n/a peer is skipped: met against the others
            _cell("azblob_small_delete", "pystorage_azblob", 300.0),
            _cell("azblob_small_delete", "azure_blob_aio", 100.0),
            _na("azblob_small_delete", "obstore_azblob"),
            _cell("azblob_small_delete", "opendal_azblob", 299.0),
            # no peer figure at all: n/a
            _cell("azblob_ranged_64k", "pystorage_azblob", 300.0),
            _na("azblob_ranged_64k", "azure_blob_aio"),
            # pystorage failed: n/a
            {"workload": "azblob_list", "contender": "pystorage_azblob", "status": "error", "reason": "boom"},
            _cell("azblob_list", "azure_blob_aio", 100.0),
            _cell("azblob_get_bytes", "pystorage_azblob", 300.0),
        ],
    }
    by_id = {t["id"]: t for t in targets(doc)}
    assert by_id["azblob_small_put:per-request"]["status"] == "met"
    assert "opendal_azblob 290" in by_id["azblob_small_put:per-request"]["detail"]
    assert by_id["azblob_small_get:per-request"]["status"] == "NOT met"
    assert "(1.00×)" in by_id["azblob_small_get:per-request"]["detail"]  # 300 / 301, rounded
    assert by_id["azblob_small_delete:per-request"]["status"] == "met"
    assert "no figure: obstore_azblob" in by_id["azblob_small_delete:per-request"]["detail"]
    assert by_id["azblob_ranged_64k:per-request"]["status"] == "n/a"
    assert by_id["azblob_list:per-request"]["status"] == "n/a"
    assert "boom" in by_id["azblob_list:per-request"]["detail"]
    assert "azblob_get_bytes:per-request" not in by_id  # a transfer, not a per-request workload
    assert (
        "best of azure_blob_aio/obstore_azblob/opendal_azblob"
        in by_id["azblob_small_put:per-request"]["text"]
    )
    text = render({**doc, "targets": list(by_id.values())})
    assert "Targets (issues 6, 13, 14, 16 and 17)" in text
    assert "[NOT met] azblob_small_get: ops/s ≥ best of" in text


def test_encryption_targets_on_s3_and_fs() -> None:
    ids = ["s3_get_bytes", "s3_put_stream_c4", "s3_ranged_64k", "fs_read_bytes", "fs_write_buffer",
           "fs_random_4k", "s3_small_put"]  # fmt: skip
    doc = {
        "workloads": [w.to_json() for w in select(workloads(), [f"{i}" for i in ids]) if w.id in ids],
        "contenders": _contenders(
            ("pystorage_s3", "s3", "pystorage"),
            ("pystorage_s3_enc", "s3", "layer"),
            ("pystorage_s3_enc4k", "s3", "layer"),
            ("pystorage_fs", "fs", "pystorage"),
            ("pystorage_fs_enc", "fs", "layer"),
        ),
        "summary": [
            # 0.92x: met, CPU per GiB of both shown
            _cell("s3_get_bytes", "pystorage_s3", 100.0, cpu=1.0),
            _cell("s3_get_bytes", "pystorage_s3_enc", 92.0, cpu=1.5),
            _na("s3_get_bytes", "pystorage_s3_enc4k"),
            # 0.85x: NOT met (the transfer bar is 0.9x)
            _cell("s3_put_stream_c4", "pystorage_s3", 100.0, cpu=1.0),
            _cell("s3_put_stream_c4", "pystorage_s3_enc", 85.0, cpu=1.2),
            # ranged: the best of the two segment sizes, 0.85x >= 0.8x
            _cell("s3_ranged_64k", "pystorage_s3", 1000.0, cpu=100e-6),
            _cell("s3_ranged_64k", "pystorage_s3_enc", 300.0, cpu=200e-6),
            _cell("s3_ranged_64k", "pystorage_s3_enc4k", 850.0, cpu=130e-6),
            # fs: 0.95x met; 0.8x write NOT met; ranged 0.79x NOT met
            _cell("fs_read_bytes", "pystorage_fs", 1000.0, cpu=0.5),
            _cell("fs_read_bytes", "pystorage_fs_enc", 950.0, cpu=0.9),
            _cell("fs_write_buffer", "pystorage_fs", 1000.0, cpu=0.5),
            _cell("fs_write_buffer", "pystorage_fs_enc", 800.0, cpu=0.9),
            _cell("fs_random_4k", "pystorage_fs", 1000.0, cpu=50e-6),
            _cell("fs_random_4k", "pystorage_fs_enc", 790.0, cpu=70e-6),
            _cell("s3_small_put", "pystorage_s3", 1000.0),
            _cell("s3_small_put", "pystorage_s3_enc", 900.0),
        ],
    }
    by_id = {t["id"]: t for t in targets(doc)}
    get = by_id["s3_get_bytes:encryption"]
    assert get["status"] == "met"
    assert "0.9×" in get["text"] and "pystorage_s3_enc" in get["text"]
    assert "(0.92×)" in get["detail"] and "1.50 s/GiB vs 1.00 s/GiB (1.50×)" in get["detail"]
    assert by_id["s3_put_stream_c4:encryption"]["status"] == "NOT met"
    ranged = by_id["s3_ranged_64k:encryption"]
    assert ranged["status"] == "met"
    assert "0.8×" in ranged["text"] and "pystorage_s3_enc/pystorage_s3_enc4k" in ranged["text"]
    assert ranged["detail"].startswith("pystorage_s3_enc4k 850 vs pystorage_s3 1,000 ops/s (0.85×)")
    assert "130 µs/op vs 100 µs/op" in ranged["detail"] and "also pystorage_s3_enc 300" in ranged["detail"]
    assert by_id["fs_read_bytes:encryption"]["status"] == "met"
    assert by_id["fs_write_buffer:encryption"]["status"] == "NOT met"
    assert by_id["fs_random_4k:encryption"]["status"] == "NOT met"
    assert "s3_small_put:encryption" not in by_id  # small requests have no encryption target


def test_encryption_targets_without_the_layer_contenders_are_na() -> None:
    doc = {
        "workloads": [w.to_json() for w in select(workloads(), ["s3_get_bytes", "s3_ranged_64k"])],
        "contenders": _contenders(("pystorage_s3", "s3", "pystorage"), ("pystorage_s3_enc4k", "s3", "layer")),
        "summary": [
            _cell("s3_get_bytes", "pystorage_s3", 100.0, cpu=1.0),
            _na("s3_get_bytes", "pystorage_s3_enc4k"),
            _cell("s3_ranged_64k", "pystorage_s3", 100.0, cpu=1.0),
            _cell("s3_ranged_64k", "pystorage_s3_enc4k", 79.0, cpu=1.0),
        ],
    }
    by_id = {t["id"]: t for t in targets(doc)}
    assert by_id["s3_get_bytes:encryption"]["status"] == "n/a"
    assert "pystorage_s3_enc was not run" in by_id["s3_get_bytes:encryption"]["detail"]
    assert by_id["s3_ranged_64k:encryption"]["status"] == "NOT met"  # 0.79x, the 1 MiB line absent


# target lines of issue 17, on synthetic documents ---------------------------------------------


def test_issue17_s3_per_request_targets_need_1_1x_and_0_8x_the_cpu() -> None:
    ids = ["s3_small_get", "s3_small_put", "s3_list", "s3_small_delete"]
    doc = {
        "workloads": [w.to_json() for w in select(workloads(), ids) if w.id in ids],
        "contenders": _contenders(
            ("pystorage_s3", "s3", "pystorage"),
            ("pystorage_s3_uvloop", "s3", "loop"),
            ("opendal_s3", "s3", "peer"),
            ("obstore_s3", "s3", "peer"),
        ),
        "summary": [
            # met: 1,200 >= 1.1 x 1,000 and 70 µs <= 0.8 x 90 µs
            _cell("s3_small_get", "pystorage_s3", 1200.0, cpu=70e-6),
            _cell("s3_small_get", "opendal_s3", 1000.0, cpu=100e-6),
            _cell("s3_small_get", "obstore_s3", 900.0, cpu=90e-6),
            # the uvloop row is faster and cheaper still, but it is not a peer
            _cell("s3_small_get", "pystorage_s3_uvloop", 5000.0, cpu=1e-6),
            # NOT met: fast enough, but 80 µs > 72 µs
            _cell("s3_small_put", "pystorage_s3", 1200.0, cpu=80e-6),
            _cell("s3_small_put", "opendal_s3", 1000.0, cpu=100e-6),
            _cell("s3_small_put", "obstore_s3", 900.0, cpu=90e-6),
            # NOT met: cheap enough, but 1.05x < 1.1x (issue 6's line is met)
            _cell("s3_list", "pystorage_s3", 1050.0, cpu=10e-6),
            _cell("s3_list", "opendal_s3", 1000.0, cpu=100e-6),
            _na("s3_list", "obstore_s3"),
            # a peer without a CPU figure: n/a, the throughput figures still shown
            _cell("s3_small_delete", "pystorage_s3", 1200.0, cpu=10e-6),
            _cell("s3_small_delete", "opendal_s3", 1000.0),
        ],
    }
    by_id = {t["id"]: t for t in targets(doc)}
    get = by_id["s3_small_get:rust-peers"]
    assert get["status"] == "met", get
    assert get["text"] == (
        "s3_small_get: ops/s ≥ 1.1× the best of opendal/obstore, client CPU per request ≤ 0.8× the best's"
    )
    assert get["detail"] == (
        "pystorage 1,200 vs opendal_s3 1,000, obstore_s3 900 (1.20×, need 1.10×); "
        "CPU 70 µs/op vs obstore_s3 90 µs/op (0.78×, need ≤ 0.80×)"
    )
    assert by_id["s3_small_put:rust-peers"]["status"] == "NOT met"
    assert "(0.89×, need ≤ 0.80×)" in by_id["s3_small_put:rust-peers"]["detail"]
    listing = by_id["s3_list:rust-peers"]
    assert listing["status"] == "NOT met" and "(1.05×, need 1.10×)" in listing["detail"]
    assert "no figure: obstore_s3" in listing["detail"]
    assert by_id["s3_list:per-request"]["status"] == "met"  # issue 6's line is kept
    assert by_id["s3_small_delete:rust-peers"]["status"] == "n/a"
    assert "no CPU figure" in by_id["s3_small_delete:rust-peers"]["detail"]


def test_issue17_gcs_targets_on_every_workload_and_curl_puts() -> None:
    ids = ["gcs_small_get", "gcs_get_bytes", "gcs_put_stream_c4", "gcs_list", "s3_put_buffer_c4"]
    doc = {
        "workloads": [w.to_json() for w in select(workloads(), ids) if w.id in ids],
        "contenders": _contenders(
            ("pystorage_gcs", "gcs", "pystorage"),
            ("gcloud_aio_gcs", "gcs", "sdk"),
            ("opendal_gcs", "gcs", "peer"),
            ("pystorage_s3", "s3", "pystorage"),
            ("curl", "s3", "limit"),
        ),
        "summary": [
            _cell("gcs_small_get", "pystorage_gcs", 100.0),
            _cell("gcs_small_get", "gcloud_aio_gcs", 90.0),
            _na("gcs_small_get", "opendal_gcs"),
            # a transfer is a GCS workload too; opendal's GCS faster: NOT met
            _cell("gcs_get_bytes", "pystorage_gcs", 100.0),
            _cell("gcs_get_bytes", "gcloud_aio_gcs", 90.0),
            _cell("gcs_get_bytes", "opendal_gcs", 120.0),
            _cell("gcs_put_stream_c4", "pystorage_gcs", 100.0),
            _na("gcs_put_stream_c4", "gcloud_aio_gcs"),
            _cell("gcs_list", "pystorage_gcs", 80.0),
            _cell("gcs_list", "gcloud_aio_gcs", 100.0),
            _cell("s3_put_buffer_c4", "pystorage_s3", 100.0, cpu=1.0),
            {**_na("s3_put_buffer_c4", "curl"), "reason": "the curl line measures GETs only"},
        ],
    }
    by_id = {t["id"]: t for t in targets(doc)}
    small = by_id["gcs_small_get:gcs-peers"]
    assert small["status"] == "met"
    assert small["text"] == "gcs_small_get: ops/s ≥ best of gcloud_aio_gcs/opendal_gcs"
    assert small["detail"] == "pystorage 100 vs gcloud_aio_gcs 90.0 (1.11×); no figure: opendal_gcs"
    assert by_id["gcs_get_bytes:gcs-peers"]["status"] == "NOT met"
    assert "opendal_gcs 120 (0.83×)" in by_id["gcs_get_bytes:gcs-peers"]["detail"]
    assert by_id["gcs_put_stream_c4:gcs-peers"]["status"] == "n/a"
    assert by_id["gcs_list:gcs-peers"]["status"] == "NOT met"
    curl = by_id["s3_put_buffer_c4:curl"]
    assert curl["status"] == "n/a" and "measures GETs only" in curl["detail"]
