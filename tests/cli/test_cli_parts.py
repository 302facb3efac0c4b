"""The command line's parts, in process: targets, profiles, sizes, progress bars."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest

from pystorage.cli.commands import parse_duration, parse_size
from pystorage.cli.profiles import (
    Profile,
    ProfileError,
    expand_env,
    find_config,
    load_profiles,
    parse_profiles,
)
from pystorage.cli.progress import FILE_BAR_MIN, Transfers, progress_enabled
from pystorage.cli.targets import Target, TargetError, parse_target

from .conftest import ROOT, RunCli

PROFILES = {
    "backup": Profile("backup", "memory", {"root": "/dumps/"}, "test.toml"),
    "secret": Profile("secret", "memory", {"name": "${PART_SECRET}"}, "test.toml"),
}


def resolve(text: str) -> Target:
    return parse_target(text, lambda: PROFILES)


# --- targets -----------------------------------------------------------------------------------


def test_memory_uri_and_fs_uri() -> None:
    mem = resolve("memory:///a/b.txt?name=x")
    assert (mem.kind, mem.scheme, dict(mem.config), mem.path) == ("uri", "memory", {"name": "x"}, "a/b.txt")
    assert mem.display() == "memory://a/b.txt"
    fs = resolve("fs:///srv/data/")
    assert (fs.scheme, dict(fs.config), fs.path, fs.names_dir) == ("fs", {"root": "/"}, "srv/data/", True)
    assert fs.display("srv/x") == "fs:///srv/x"


def test_adlfs_uris_name_azblob_targets() -> None:
    t = resolve("abfs://box@acct.dfs.core.windows.net/dir/f.txt")
    assert (t.scheme, t.path) == ("azblob", "dir/f.txt")
    assert dict(t.config) == {
        "container": "box",
        "account_name": "acct",
        "endpoint": "https://acct.blob.core.windows.net",
    }
    assert t.display("dir/g") == "abfs://box@acct.dfs.core.windows.net/dir/g"
    az = resolve("az://box/dir/")
    assert (az.scheme, dict(az.config), az.path) == ("azblob", {"container": "box"}, "dir/")


def test_local_paths_are_absolute_under_the_fs_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    rel = resolve("sub/file.txt")
    assert (rel.kind, rel.scheme, dict(rel.config)) == ("local", "fs", {"root": "/"})
    assert rel.path == str(tmp_path / "sub" / "file.txt").lstrip("/")
    assert rel.display() == str(tmp_path / "sub" / "file.txt")
    assert resolve("sub/").path.endswith("/sub/")
    assert resolve("./odd:name").path.endswith("/odd:name")
    assert resolve("/").path == "" and resolve("/").names_dir
    # local paths and fs URIs share one operator
    assert rel.operator_key == resolve("fs:///x").operator_key


def test_profile_targets_and_their_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    target = resolve("backup:2024/db.sql")
    assert (target.kind, target.scheme, dict(target.config), target.path) == (
        "profile",
        "memory",
        {"root": "/dumps/"},
        "2024/db.sql",
    )
    assert target.display() == "backup:2024/db.sql"
    assert resolve("backup:").names_dir
    with pytest.raises(TargetError, match=r"unknown profile 'nope'.*backup, secret"):
        resolve("nope:x")
    monkeypatch.delenv("PART_SECRET", raising=False)
    with pytest.raises(TargetError, match="PART_SECRET is not set"):
        resolve("secret:x")
    monkeypatch.setenv("PART_SECRET", "hunter2")
    assert resolve("secret:x").config == {"name": "hunter2"}


def test_stdio_target() -> None:
    target = resolve("-")
    assert target.is_stdio and target.display() == "-"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty target"),
        ("nope://x", "unknown scheme"),
        ("memory://x?a=1&a=2", "given twice"),
        ("memory://x?=&&", "malformed query"),
        ("fs://host/x", "absolute path"),
    ],
)
def test_bad_targets(text: str, message: str) -> None:
    with pytest.raises(TargetError, match=message):
        resolve(text)


def test_bad_uri_messages_leave_the_query_out() -> None:
    with pytest.raises(TargetError) as info:
        resolve("memory://x?secret=hunter2&secret=hunter2")
    assert "hunter2" not in str(info.value)
    assert "memory://x?..." in str(info.value)


# --- profiles ---------------------------------------------------------------------------------------


def test_expand_env() -> None:
    env = {"A": "1", "B_2": "two"}
    assert expand_env("${A}-${B_2}", env, where="w") == "1-two"
    assert expand_env("cost $5, literal $${A}", env, where="w") == "cost $5, literal ${A}"
    with pytest.raises(ProfileError, match="w: environment variable C is not set"):
        expand_env("${C}", env, where="w")
    with pytest.raises(ProfileError, match="invalid environment reference"):
        expand_env("${not valid}", env, where="w")


def test_parse_profiles_shapes() -> None:
    profiles = parse_profiles(
        {"profiles": {"a": {"service": "s3", "bucket": "b"}, "b.c": {"type": "fs", "root": "/x"}}}, source="f"
    )
    assert profiles["a"].service == "s3" and profiles["a"].config({}) == {"bucket": "b"}
    assert profiles["b.c"].service == "fs"
    bad: list[tuple[dict[str, object], str]] = [
        ({"other": {}}, "unknown top-level key 'other'"),
        ({"profiles": {"a": {"bucket": "b"}}}, "'service'.* is required"),
        ({"profiles": {"a": {"service": "s3", "type": "s3"}}}, "not both"),
        ({"profiles": {"9a": {"service": "s3"}}}, "invalid name"),
        ({"profiles": {"a": "s3"}}, "must be a table"),
    ]
    for data, message in bad:
        with pytest.raises(ProfileError, match=message):
            parse_profiles(data, source="f")


def test_profile_repr_hides_values() -> None:
    profile = Profile("p", "s3", {"secret_access_key": "hunter2"}, "f")
    assert "hunter2" not in repr(profile) and "secret_access_key" in repr(profile)


def test_config_file_precedence(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "PYSTORAGE_CONFIG": str(tmp_path / "env.toml")}
    assert find_config("opt.toml", env) == (Path("opt.toml"), True)
    assert find_config(None, env) == (tmp_path / "env.toml", True)
    del env["PYSTORAGE_CONFIG"]
    assert find_config(None, env) == (tmp_path / "xdg" / "pystorage" / "config.toml", False)
    assert load_profiles(None, env) == {}  # the default file may be missing
    default = tmp_path / "xdg" / "pystorage" / "config.toml"
    default.parent.mkdir(parents=True)
    default.write_text('[profiles.m]\nservice = "memory"\n', encoding="utf-8")
    assert list(load_profiles(None, env)) == ["m"]
    with pytest.raises(ProfileError, match="does not exist"):
        load_profiles(str(tmp_path / "missing.toml"), env)


# --- sizes and durations -------------------------------------------------------------------------------


def test_parse_size() -> None:
    assert parse_size("8MiB") == parse_size("8m") == 8 * 1024 * 1024
    assert parse_size("5MB") == 5_000_000
    assert parse_size("1.5KiB") == 1536
    assert parse_size("4096") == 4096
    for bad in ("", "8XB", "-1", "0", "MiB"):
        with pytest.raises(ValueError):
            parse_size(bad)


def test_parse_duration() -> None:
    assert parse_duration("90") == 90
    assert parse_duration("15m") == 900
    assert parse_duration("12h") == 43200
    assert parse_duration("7d") == 7 * 86400
    for bad in ("", "1w", "0", "-5s"):
        with pytest.raises(ValueError):
            parse_duration(bad)


# --- progress -------------------------------------------------------------------------------------------


def test_progress_is_off_without_a_terminal_or_when_asked() -> None:
    pipe = io.StringIO()
    assert not progress_enabled(quiet=False, json_output=False, streams=(pipe,))
    assert not progress_enabled(quiet=True, json_output=False, streams=())
    assert not progress_enabled(quiet=False, json_output=True, streams=())
    disabled = Transfers(enabled=False)
    with disabled:
        file = disabled.file("x", 10)
        file(10, 10)
        file.done()
    assert disabled.bars is None


def test_progress_bars_draw_per_large_file_and_overall() -> None:
    rich_console = pytest.importorskip("rich.console", reason="rich (the `cli` extra) is not installed")
    Console = rich_console.Console

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    with Transfers(enabled=True, console=console) as bars:
        small = bars.file("small.txt", 10)
        large = bars.file("large.bin", FILE_BAR_MIN)
        assert [t.description for t in bars.bars.tasks][1:] == ["large.bin"]  # no bar for small files
        small(10, 10)
        large(FILE_BAR_MIN // 2, FILE_BAR_MIN)
        assert bars.bars.tasks[0].completed == 10 + FILE_BAR_MIN // 2
        large(FILE_BAR_MIN, FILE_BAR_MIN)
        small.done()
        large.done()
        assert [t.description for t in bars.bars.tasks] == ["copying (2 files done)"]
    assert "copying (2 files done)" in out.getvalue()


@pytest.mark.skipif(not hasattr(os, "openpty") or sys.platform == "win32", reason="needs a pseudo-terminal")
def test_cp_draws_a_bar_on_a_terminal_and_not_with_quiet(cli: RunCli) -> None:
    import subprocess

    pytest.importorskip("rich", reason="rich (the `cli` extra) is not installed")

    (cli.cwd / "big.bin").write_bytes(os.urandom(2 * 1024 * 1024))

    def run_on_tty(*args: str) -> bytes:
        leader, follower = os.openpty()
        proc = subprocess.Popen(
            [sys.executable, "-m", "pystorage", *args],
            cwd=cli.cwd,
            env={**cli.env, "TERM": "xterm", "COLUMNS": "120", "PYTHONPATH": str(ROOT)},
            stdin=subprocess.DEVNULL,
            stdout=follower,
            stderr=follower,
        )
        os.close(follower)
        output = b""
        while True:
            try:
                piece = os.read(leader, 65536)
            except OSError:  # the follower side closed
                break
            if not piece:
                break
            output += piece
        os.close(leader)
        assert proc.wait(timeout=60) == 0, output
        return output

    drawn = run_on_tty("cp", "big.bin", "memory:///big.bin")
    assert b"big.bin" in drawn and b"2.0/2.0 MiB" in drawn
    assert run_on_tty("cp", "--quiet", "big.bin", "memory:///big.bin") == b""
