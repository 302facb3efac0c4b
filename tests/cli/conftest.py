"""Fixtures of the command-line tests.

``cli`` runs the real command, ``python -m pystorage ...``, in a subprocess
with a clean environment: its own ``HOME`` (so no user config file is read),
no ``PYSTORAGE_CONFIG``, no AWS variables, and the temporary directory as
the working directory. ``moto_s3`` is the session's moto S3 server from
``tests/fixtures/s3.py``.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

__all__ = ["CliResult", "RunCli", "cli"]

ROOT = Path(__file__).resolve().parents[2]

#: environment variables the command must not inherit from the test run
_SCRUB = ("PYSTORAGE_CONFIG", "XDG_CONFIG_HOME", "AWS_PROFILE", "AWS_CONFIG_FILE",
          "AWS_SHARED_CREDENTIALS_FILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
          "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION", "AWS_REGION", "COLUMNS")


@dataclasses.dataclass
class CliResult:
    """What one run of the command did."""

    args: list[str]
    returncode: int
    stdout: bytes
    stderr: str

    @property
    def out(self) -> str:
        """Standard output, decoded."""
        return self.stdout.decode()

    @property
    def stderr_lines(self) -> list[str]:
        """The non-empty lines written on standard error."""
        return [line for line in self.stderr.splitlines() if line.strip()]

    def one_error_line(self) -> str:
        """Assert a failure reported as exactly one ``pystorage: error:`` line; return it."""
        assert self.returncode != 0, f"expected a failure: {self}"
        assert len(self.stderr_lines) == 1, f"expected one line on stderr, got: {self.stderr!r}"
        line = self.stderr_lines[0]
        assert line.startswith("pystorage: error: "), line
        assert "Traceback" not in self.stderr
        return line


class RunCli:
    """Runs ``python -m pystorage`` in ``cwd`` with a clean environment."""

    def __init__(self, cwd: Path, home: Path) -> None:
        self.cwd = cwd
        env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
        env["HOME"] = str(home)
        env["PYTHONPATH"] = str(ROOT)
        env.pop("PYTHONWARNINGS", None)
        self.env = env

    def __call__(
        self,
        *args: str,
        input: bytes | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        timeout: float = 60,
        check: bool = False,
    ) -> CliResult:
        """Run ``pystorage ARGS...``; with ``check=True`` assert exit code 0."""
        argv: Sequence[str] = [sys.executable, "-m", "pystorage", *args]
        proc = subprocess.run(
            argv,
            cwd=cwd or self.cwd,
            env={**self.env, **(env or {})},
            input=input if input is not None else b"",
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        result = CliResult(list(args), proc.returncode, proc.stdout, proc.stderr.decode(errors="replace"))
        if check:
            assert result.returncode == 0, f"pystorage {' '.join(args)} failed: {result.stderr}"
        return result

    def many(self, *commands: Sequence[str], timeout: float = 60) -> list[CliResult]:
        """Run several ``pystorage`` commands at once (no input); results in order."""
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "pystorage", *args],
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for args in commands
        ]
        results = []
        for args, proc in zip(commands, procs, strict=True):
            out, err = proc.communicate(timeout=timeout)
            results.append(CliResult(list(args), proc.returncode, out, err.decode(errors="replace")))
        return results


@pytest.fixture
def cli(tmp_path: Path) -> RunCli:
    """Run the real ``pystorage`` command (working directory: ``tmp_path / "work"``)."""
    work = tmp_path / "work"
    home = tmp_path / "home"
    work.mkdir()
    home.mkdir()
    return RunCli(work, home)
