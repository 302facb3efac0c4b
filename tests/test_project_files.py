"""The project's own files: README, LICENSE, CI entry point, pyproject, docs.

These keep the promises the README makes (``make test``, ``make bench``), keep
the licence complete, and keep the generated capability matrix in step with
the code.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import pystorage

ROOT = Path(__file__).resolve().parent.parent

#: pages whose Python snippets must at least compile (others' pages are theirs to check)
OWN_PAGES = [
    ROOT / "README.md",
    ROOT / "docs" / "index.md",
    *sorted((ROOT / "docs" / "guide").glob("*.md")),
]

_FENCE = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _python_blocks(page: Path) -> list[str]:
    return _FENCE.findall(page.read_text(encoding="utf-8"))


def _pyproject_license() -> object:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib.loads(text)["project"].get("license")
    match = re.search(r'^license\s*=\s*"([^"]*)"', text, re.MULTILINE)  # Python 3.10: the one line we need
    return match.group(1) if match else None


def test_readme_documents_the_make_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in ("make test", "make bench", "make lint", "make docs"):
        assert command in readme, f"README.md does not mention `{command}`"
    assert "pip install pystorage" in readme
    assert "Apache" in readme


def test_makefile_defines_the_documented_targets() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([A-Za-z][\w.-]*)\s*:(?!=)", makefile, re.MULTILINE))
    assert {"test", "bench", "lint", "docs", "clean"} <= targets
    assert "$(VENV)/.installed: pyproject.toml" in makefile


def test_license_is_the_full_apache_2_text() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in text
    assert "END OF TERMS AND CONDITIONS" in text
    assert "APPENDIX: How to apply the Apache License to your work." in text
    # all nine sections of the terms
    for number, title in enumerate(
        ["Definitions", "Grant of Copyright License", "Grant of Patent License", "Redistribution",
         "Submission of Contributions", "Trademarks", "Disclaimer of Warranty",
         "Limitation of Liability", "Accepting Warranty or Additional Liability"],
        start=1,
    ):
        assert f"{number}. {title}." in text, f"LICENSE lacks section {number}"


def test_pyproject_license_is_apache() -> None:
    assert _pyproject_license() == "Apache-2.0"


def test_ci_runs_lint_and_the_test_suite() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert script.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in script
    commands = [line.strip() for line in script.splitlines() if line.strip().startswith("make ")]
    assert commands == ["make lint", "make test"]


@pytest.mark.parametrize("page", OWN_PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_doc_snippets_compile(page: Path) -> None:
    blocks = _python_blocks(page)
    assert blocks, f"{page.name} has no python snippet"
    for block in blocks:
        # snippets may use top-level `await`, as in a notebook or an async REPL
        compile(block, str(page), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)


def test_capability_matrix_is_up_to_date(tmp_path: Path) -> None:
    fresh = tmp_path / "capabilities.md"
    result = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "gen_capabilities.py"), "--output", str(fresh)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "skipping" not in result.stderr, f"a registered service could not be built:\n{result.stderr}"
    committed = (ROOT / "docs" / "capabilities.md").read_text(encoding="utf-8")
    assert committed == fresh.read_text(encoding="utf-8"), (
        "docs/capabilities.md is out of date: run `make docs` (or `python docs/gen_capabilities.py`)"
    )


def test_capability_matrix_covers_every_field_and_service() -> None:
    from pystorage.services import SERVICES
    from pystorage.types import Capability

    committed = (ROOT / "docs" / "capabilities.md").read_text(encoding="utf-8")
    header = next(line for line in committed.splitlines() if line.startswith("| capability |"))
    assert [cell.strip().strip("`") for cell in header.strip("|").split("|")][1:] == list(SERVICES)
    for name in Capability.__dataclass_fields__:
        assert f"| `{name}` |" in committed


def _run_snippet(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )


@pytest.mark.skipif(not hasattr(pystorage, "Operator"), reason="pystorage.Operator is not written yet")
def test_readme_quickstart_runs(tmp_path: Path) -> None:
    quickstart = _python_blocks(ROOT / "README.md")[0]
    assert '"/tmp/pystorage-demo"' in quickstart
    code = quickstart.replace('"/tmp/pystorage-demo"', repr(str(tmp_path / "pystorage-demo")))
    result = _run_snippet(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["b'World'", "hello/world.txt", "b'World!'"]


@pytest.mark.skipif(not hasattr(pystorage, "Operator"), reason="pystorage.Operator is not written yet")
def test_readme_blocking_snippet_runs() -> None:
    snippet = next(b for b in _python_blocks(ROOT / "README.md") if ".blocking()" in b)
    result = _run_snippet(snippet)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["['greeting.txt']"]
