"""The real ``pystorage`` command against local directories (the fs service)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from .conftest import ROOT, RunCli


def make_tree(root: Path) -> dict[str, bytes]:
    """A small tree of files; returns path (relative, ``/``-separated) → content."""
    files = {
        "a.txt": b"alpha\n",
        "empty": b"",
        "sub/b.bin": bytes(range(256)) * 300,
        "sub/deeper/c.txt": b"gamma",
    }
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def read_tree(root: Path) -> dict[str, bytes]:
    """Every file below ``root``: relative path → content."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


# --- ls / stat / cat ---------------------------------------------------------------------------


def test_ls_names_one_level_and_recursive(cli: RunCli) -> None:
    make_tree(cli.cwd / "src")
    top = cli("ls", "src", check=True)
    assert top.out.splitlines() == ["a.txt", "empty", "sub/"]
    deep = cli("ls", "-r", "src/", check=True)
    assert deep.out.splitlines() == ["a.txt", "empty", "sub/", "sub/b.bin", "sub/deeper/", "sub/deeper/c.txt"]
    long = cli("ls", "-l", str(cli.cwd / "src" / "sub"), check=True)
    rows = [line.split() for line in long.out.splitlines()]
    assert rows[0][0] == str(256 * 300) and rows[0][-1] == "b.bin"
    assert rows[1][0] == "-" and rows[1][-1] == "deeper/"


def test_ls_json_is_one_object_per_line(cli: RunCli) -> None:
    files = make_tree(cli.cwd / "src")
    result = cli("ls", "-r", "--json", "src", check=True)
    objects = [json.loads(line) for line in result.out.splitlines()]
    by_path = {o["path"]: o for o in objects}
    assert set(by_path) == set(files) | {"sub/", "sub/deeper/"}
    for rel, data in files.items():
        assert by_path[rel]["type"] == "file"
        assert by_path[rel]["size"] == len(data)
        assert by_path[rel]["uri"] == str(cli.cwd / "src" / rel)
        assert by_path[rel]["last_modified"].endswith("+00:00")
    assert by_path["sub/"]["type"] == "dir"


def test_ls_of_a_file_shows_it_and_of_a_missing_path_fails(cli: RunCli) -> None:
    make_tree(cli.cwd / "src")
    assert cli("ls", "src/a.txt", check=True).out == "a.txt\n"
    missing = cli("ls", "src/nothing-here")
    assert missing.returncode == 3
    assert "NotFound" in missing.one_error_line()
    # an explicit directory that does not exist lists as empty, as on an object store
    assert cli("ls", "src/nothing-here/", check=True).out == ""


def test_stat_text_and_json(cli: RunCli) -> None:
    make_tree(cli.cwd / "src")
    text = cli("stat", "src/sub/b.bin", check=True).out
    assert "type: file\n" in text and f"size: {256 * 300}\n" in text
    assert re.search(r"^etag: .+$", text, re.MULTILINE)
    data = json.loads(cli("--json", "stat", "src/sub/b.bin", check=True).out)
    assert data["size"] == 256 * 300 and data["type"] == "file"
    assert data["uri"] == str(cli.cwd / "src" / "sub" / "b.bin")
    assert json.loads(cli("stat", "--json", "src/sub/", check=True).out)["type"] == "dir"


def test_cat_writes_the_exact_bytes(cli: RunCli) -> None:
    files = make_tree(cli.cwd / "src")
    assert cli("cat", "src/sub/b.bin", check=True).stdout == files["sub/b.bin"]
    assert cli("cat", f"fs://{cli.cwd}/src/a.txt", check=True).stdout == b"alpha\n"
    assert cli("cat", "src/empty", check=True).stdout == b""


# --- cp / mv ---------------------------------------------------------------------------------------


def test_cp_file_to_file_and_into_directories(cli: RunCli) -> None:
    make_tree(cli.cwd / "src")
    (cli.cwd / "into").mkdir()
    cli("cp", "src/sub/b.bin", "copy.bin", check=True)
    cli("cp", "src/a.txt", "into", check=True)  # an existing directory
    cli("cp", "src/a.txt", "fresh/", check=True)  # a trailing slash names a directory
    assert (cli.cwd / "copy.bin").read_bytes() == (cli.cwd / "src/sub/b.bin").read_bytes()
    assert (cli.cwd / "into" / "a.txt").read_bytes() == b"alpha\n"
    assert (cli.cwd / "fresh" / "a.txt").read_bytes() == b"alpha\n"


def test_cp_recursive_copies_the_tree_and_reports_json(cli: RunCli) -> None:
    files = make_tree(cli.cwd / "src")
    result = cli("cp", "-r", "--json", "-j", "2", "src", f"fs://{cli.cwd}/dst", check=True)
    reports = [json.loads(line) for line in result.out.splitlines()]
    assert sorted(r["dst"] for r in reports) == sorted(f"fs://{cli.cwd}/dst/{rel}" for rel in files)
    assert all(r["op"] == "copy" for r in reports)
    assert {r["size"] for r in reports if r["src"].endswith("b.bin")} == {256 * 300}
    assert read_tree(cli.cwd / "dst") == files
    assert read_tree(cli.cwd / "src") == files


def test_cp_streams_large_objects_through_memory_chunks(cli: RunCli) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    (cli.cwd / "big.bin").write_bytes(data)
    # a memory:// destination forces the streamed path (another operator than fs)
    cli("cp", "--chunk", "256KiB", "--concurrent", "3", "big.bin", "memory:///big.bin", check=True)
    cli("cp", "--chunk", "1MiB", "--concurrent", "2", "big.bin", "copy.bin", check=True)
    assert (cli.cwd / "copy.bin").read_bytes() == data


def test_cp_from_stdin_and_to_stdout(cli: RunCli) -> None:
    payload = os.urandom(300_000)
    cli("cp", "-", "piped/in.bin", input=payload, check=True)
    assert (cli.cwd / "piped" / "in.bin").read_bytes() == payload
    assert cli("cp", "piped/in.bin", "-", check=True).stdout == payload


def test_cp_of_a_directory_without_r_is_a_usage_error(cli: RunCli) -> None:
    make_tree(cli.cwd / "src")
    result = cli("cp", "src", "dst")
    assert result.returncode == 2
    assert "use -r" in result.one_error_line()
    into_itself = cli("cp", "-r", "src", "src/sub/copy")
    assert into_itself.returncode == 2
    assert "into itself" in into_itself.one_error_line()


def test_mv_file_and_tree(cli: RunCli) -> None:
    files = make_tree(cli.cwd / "src")
    cli("mv", "src/a.txt", "moved.txt", check=True)
    assert (cli.cwd / "moved.txt").read_bytes() == b"alpha\n"
    assert not (cli.cwd / "src" / "a.txt").exists()
    cli("mv", "-r", "src", "dst", check=True)
    del files["a.txt"]
    assert read_tree(cli.cwd / "dst") == files
    assert not (cli.cwd / "src").exists()


def test_mv_between_two_operators_streams_then_deletes(cli: RunCli) -> None:
    files = make_tree(cli.cwd / "src")
    # another root is another operator: bytes are streamed, then the sources deleted
    other = f"fs:///moved?root={cli.cwd / 'elsewhere'}"
    result = cli("mv", "-r", "--json", "src", other, check=True)
    assert {json.loads(line)["op"] for line in result.out.splitlines()} == {"move"}
    assert read_tree(cli.cwd / "elsewhere" / "moved") == files
    assert not (cli.cwd / "src").exists()


# --- rm ----------------------------------------------------------------------------------------------


def test_rm_file_tree_missing_and_force(cli: RunCli) -> None:
    make_tree(cli.cwd / "src")
    cli("rm", "src/a.txt", check=True)
    assert not (cli.cwd / "src" / "a.txt").exists()
    missing = cli("rm", "src/a.txt")
    assert missing.returncode == 3
    assert "NotFound" in missing.one_error_line()
    cli("rm", "-f", "src/a.txt", check=True)
    refused = cli("rm", "src/sub")
    assert refused.returncode == 2 and "use -r" in refused.one_error_line()
    cli("rm", "-r", "-v", "src/sub", check=True)
    assert not (cli.cwd / "src" / "sub").exists()
    assert (cli.cwd / "src" / "empty").exists()


def test_rm_refuses_the_file_system_root(cli: RunCli) -> None:
    for target in ("/", "fs:///"):
        result = cli("rm", "-r", "-f", target)
        assert result.returncode == 2
        assert "root of the file system" in result.one_error_line()


# --- profiles ------------------------------------------------------------------------------------------


def test_profiles_from_pystorage_config_and_config_option(cli: RunCli) -> None:
    data_root = cli.cwd.parent / "profile-root"
    (data_root / "docs").mkdir(parents=True)
    (data_root / "docs" / "x.txt").write_bytes(b"from a profile")
    config = cli.cwd.parent / "profiles.toml"
    config.write_text(
        '[profiles.local]\nservice = "fs"\nroot = "${CLI_DATA_ROOT}"\n'
        '[profiles.other]\ntype = "memory"\n',
        encoding="utf-8",
    )
    env = {"CLI_DATA_ROOT": str(data_root)}
    by_env = cli("cat", "local:docs/x.txt", env={**env, "PYSTORAGE_CONFIG": str(config)}, check=True)
    assert by_env.stdout == b"from a profile"
    by_option = cli("--config", str(config), "ls", "--json", "local:docs/", env=env, check=True)
    assert [json.loads(line)["uri"] for line in by_option.out.splitlines()] == ["local:docs/x.txt"]
    # everything under a profile's root is refused without --force
    refused = cli("--config", str(config), "rm", "-r", "local:", env=env)
    assert refused.returncode == 2 and "without --force" in refused.one_error_line()
    assert (data_root / "docs" / "x.txt").exists()


def test_profile_config_errors_are_one_line_and_exit_code_2(cli: RunCli) -> None:
    config = cli.cwd.parent / "profiles.toml"
    config.write_text('[profiles.local]\nservice = "fs"\nroot = "${CLI_UNSET_VARIABLE}"\n', encoding="utf-8")
    (cli.cwd.parent / "broken.toml").write_text("[profiles.x\n", encoding="utf-8")
    results = cli.many(
        ["--config", str(config), "ls", "local:"],
        ["--config", str(cli.cwd / "no-such.toml"), "ls", "local:"],
        ["--config", str(cli.cwd.parent / "broken.toml"), "ls", "x:"],
        ["--config", str(config), "ls", "other:"],
    )
    expected = ["CLI_UNSET_VARIABLE is not set", "does not exist", "invalid TOML", "unknown profile 'other'"]
    for text, result in zip(expected, results, strict=True):
        assert result.returncode == 2, result
        assert text in result.one_error_line()


# --- errors, exit codes ----------------------------------------------------------------------------


#: a bad target of each kind → what its error line says
BAD_URIS = {
    "nosuchscheme://bucket/key": "unknown scheme 'nosuchscheme'",
    "s3:///key-without-bucket": "no bucket",
    "s3://bucket/key?region=a&region=b": "given twice",
    "fs://host/path": "absolute path",
    "memory:///x?no_such_key=1": "no_such_key",
}


def test_a_bad_uri_is_one_line_and_exit_code_2(cli: RunCli) -> None:
    results = cli.many(*(["ls", uri] for uri in BAD_URIS))
    for (uri, expected), result in zip(BAD_URIS.items(), results, strict=True):
        assert result.returncode == 2, (uri, result)
        assert expected in result.one_error_line(), uri


def test_an_unknown_profile_is_one_line_and_exit_code_2(cli: RunCli) -> None:
    result = cli("cat", "nobody:some/key")
    assert result.returncode == 2
    line = result.one_error_line()
    assert "unknown profile 'nobody'" in line
    # the escape for a local file whose name looks like a profile reference
    (cli.cwd / "nobody:file").write_bytes(b"local")
    assert cli("cat", "./nobody:file", check=True).stdout == b"local"


def test_a_missing_object_is_one_line_and_exit_code_3(cli: RunCli) -> None:
    commands = [["cat", "missing.bin"], ["stat", "missing.bin"], ["cp", "missing.bin", "elsewhere.bin"]]
    for result in cli.many(*commands):
        assert result.returncode == 3, result
        line = result.one_error_line()
        assert line.startswith("pystorage: error: NotFound: ")
        assert "missing.bin" in line
    assert not (cli.cwd / "elsewhere.bin").exists()


def test_debug_prints_the_traceback(cli: RunCli) -> None:
    result = cli("--debug", "cat", "missing.bin")
    assert result.returncode == 3
    assert "Traceback" in result.stderr
    assert result.stderr_lines[-1].startswith("pystorage: error: NotFound")


def test_usage_errors_are_one_line_and_exit_code_2(cli: RunCli) -> None:
    commands = [["ls", "--bogus", "."], ["cp", "--chunk", "8XB", "a", "b"], ["frobnicate"], []]
    for result in cli.many(*commands):
        assert result.returncode == 2, result
        result.one_error_line()


def test_unsupported_operation_is_exit_code_1(cli: RunCli) -> None:
    (cli.cwd / "f").write_bytes(b"x")
    result = cli("presign", "f")
    assert result.returncode == 1
    assert "Unsupported" in result.one_error_line()


def test_global_options_work_before_and_after_the_command(cli: RunCli) -> None:
    (cli.cwd / "f").write_bytes(b"xyz")
    before = json.loads(cli("--json", "stat", "f", check=True).out)
    after = json.loads(cli("stat", "f", "--json", check=True).out)
    assert before["size"] == after["size"] == 3
    assert cli("--version", check=True).out.startswith("pystorage ")


def test_bench_without_the_suite_is_one_clear_line(cli: RunCli, tmp_path: Path) -> None:
    # only the package on the path, not the source checkout holding ``benchmarks/``
    only_package = tmp_path / "only-package"
    only_package.mkdir()
    (only_package / "pystorage").symlink_to(ROOT / "pystorage", target_is_directory=True)
    result = cli("bench", "--quick", env={"PYTHONPATH": str(only_package)})
    assert result.returncode == 2
    assert "benchmark suite is not importable" in result.one_error_line()


def test_bench_passes_its_arguments_to_the_suite(cli: RunCli) -> None:
    # from a source checkout, ``bench ARGS`` is ``python -m benchmarks ARGS`` (here: its help)
    result = cli("--quiet", "bench", "--help", cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "--quick" in result.out
