"""``pystorage sync`` and ``pystorage check`` on local trees: summaries,
``--json``, ``--dry-run``, ``--delete``, filters, ``--checksum`` and exit codes."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .conftest import RunCli


def make(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


FILES = {
    "a.txt": b"a",
    "sub/b.log": b"bb",
    "sub/deeper/c.txt": b"ccc",
    "cache/x.bin": b"xxxx",
    "empty": b"",
    "ünï ☃.txt": b"snow",
}


def test_sync_then_check_json_and_text(cli: RunCli) -> None:
    make(cli.cwd / "src", FILES)
    result = cli("--json", "sync", "src/", "dst/", check=True)
    lines = [json.loads(line) for line in result.out.splitlines()]
    summary = lines[-1]
    assert summary["op"] == "sync" and summary["ok"] and summary["copied"] == len(FILES)
    assert sorted(r["path"] for r in lines[:-1] if r["op"] == "copy") == sorted(FILES)
    assert tree(cli.cwd / "dst") == FILES

    checked = cli("check", "src", "dst", check=True)
    assert checked.out.splitlines()[-1] == f"{len(FILES)} matched, 0 differences, 0 failed"

    again = cli("sync", "src", "dst", check=True)
    assert again.out.startswith(f"0 copied, {len(FILES)} skipped, 0 deleted, 0 failed")


def test_dry_run_delete_and_filters(cli: RunCli) -> None:
    make(cli.cwd / "src", FILES)
    cli("sync", "src", "dst", check=True)
    os.remove(cli.cwd / "src" / "a.txt")
    (cli.cwd / "src" / "new.txt").write_bytes(b"new")

    differ = cli("check", "src", "dst")
    assert differ.returncode == 1
    assert "missing on destination: new.txt" in differ.out
    assert "missing on source: a.txt" in differ.out

    dry = cli("-v", "sync", "--delete", "--dry-run", "src", "dst", check=True)
    assert "would copy: new.txt" in dry.out and "would delete: a.txt" in dry.out
    assert dry.out.splitlines()[-1].startswith("dry run: 1 copied")
    assert tree(cli.cwd / "dst") == FILES  # unchanged

    # --exclude: an excluded path is neither copied nor deleted
    (cli.cwd / "src" / "cache" / "y.bin").write_bytes(b"y")
    os.remove(cli.cwd / "src" / "cache" / "x.bin")
    cli("sync", "--delete", "--exclude", "cache/", "src", "dst", check=True)
    expected = {k: v for k, v in FILES.items() if k != "a.txt"} | {"new.txt": b"new"}
    assert tree(cli.cwd / "dst") == expected  # cache/x.bin kept, cache/y.bin not copied

    # --include: only *.txt, anywhere
    only = cli("--json", "sync", "--include", "*.txt", "src", "txt-only", check=True)
    assert json.loads(only.out.splitlines()[-1])["copied"] == 3
    assert sorted(tree(cli.cwd / "txt-only")) == ["new.txt", "sub/deeper/c.txt", "ünï ☃.txt"]


def test_checksum_flag_catches_same_size_same_mtime(cli: RunCli) -> None:
    make(cli.cwd / "src", {"f.bin": b"0123456789"})
    cli("sync", "src", "dst", check=True)
    target = cli.cwd / "dst" / "f.bin"
    st = target.stat()
    target.write_bytes(b"9876543210")
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert cli("check", "src", "dst").returncode == 0
    by_sum = cli("--json", "check", "--checksum", "src", "dst")
    assert by_sum.returncode == 1 and json.loads(by_sum.out)["differ"] == ["f.bin"]
    assert cli("sync", "src", "dst", check=True).out.startswith("0 copied")
    assert cli("sync", "--checksum", "src", "dst", check=True).out.startswith("1 copied")
    assert target.read_bytes() == b"0123456789"


def test_usage_errors_are_one_line(cli: RunCli) -> None:
    make(cli.cwd / "src", FILES)
    both = cli("sync", "--checksum", "--size-only", "src", "dst")
    assert both.returncode == 2 and "one of --checksum" in both.one_error_line()
    stdio = cli("sync", "-", "dst")
    assert stdio.returncode == 2 and "not '-'" in stdio.one_error_line()
    overlap = cli("sync", "src", "src/inner")
    assert overlap.returncode == 2 and "overlap" in overlap.one_error_line()
    a_file = cli("check", "src/a.txt", "dst")
    assert a_file.returncode == 2 and "is a file" in a_file.one_error_line()
    empty = cli("sync", "--delete", "missing-dir", "src")
    assert empty.returncode == 3 and "refusing to delete" in empty.one_error_line()
    assert tree(cli.cwd / "src") == FILES


def test_job_progress_counts_and_draws() -> None:
    from pystorage.cli.sync import JobProgress
    from pystorage.transfer import Event

    with JobProgress(enabled=True, label="syncing") as bars:
        bars.bytes(10, 100)
        for action in ("copy", "copy", "skip", "delete", "fail"):
            bars.event(Event(action, "p"))  # type: ignore[arg-type]
        bars.bytes(100, 100)
    assert (bars.copied, bars.skipped, bars.deleted, bars.failed) == (2, 1, 1, 1)
    assert "2 copied, 1 skipped, 1 deleted, 1 failed" in bars._describe()
    with JobProgress(enabled=False, label="x") as off:
        off.bytes(1, None)
        off.event(Event("copy", "p"))
    assert off.copied == 1
