"""The documentation site: every public name has a reference entry and a
docstring, and ``mkdocs build --strict`` passes (when mkdocs is installed).

The reference page (``docs/reference.md``) is made of mkdocstrings ``:::``
directives. A public name is covered by a directive naming it, or naming a
module that renders it (``::: pystorage.errors`` covers every name of
``pystorage.errors.__all__``).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import itertools
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import pystorage

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "reference.md"

#: public modules whose ``__all__`` names are public API too
PUBLIC_MODULES = ("pystorage", "pystorage.errors", "pystorage.sse", "pystorage.layers")

_DIRECTIVE = re.compile(r"^:::\s+([\w.]+)\s*$", re.MULTILINE)


def directives() -> set[str]:
    """The identifiers of the ``:::`` directives of the reference page."""
    return set(_DIRECTIVE.findall(REFERENCE.read_text(encoding="utf-8")))


def public_names() -> list[tuple[str, str]]:
    """``(module, name)`` for every name in the ``__all__`` of the public modules."""
    pairs = []
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        pairs.extend((module_name, name) for name in module.__all__)
    return pairs


def test_reference_page_has_directives_that_resolve() -> None:
    found = directives()
    assert found, "docs/reference.md has no ::: directive"
    for identifier in sorted(found):
        module_name, _, attribute = identifier.rpartition(".")
        try:
            importlib.import_module(identifier)
            continue
        except ImportError:
            pass
        module = importlib.import_module(module_name)
        assert hasattr(module, attribute), f"::: {identifier} names nothing"


@pytest.mark.parametrize(("module_name", "name"), public_names(), ids=lambda v: str(v))
def test_public_name_has_a_reference_entry(module_name: str, name: str) -> None:
    found = directives()
    qualified = f"{module_name}.{name}"
    covered = qualified in found or module_name in found
    if not covered and inspect.ismodule(getattr(importlib.import_module(module_name), name)):
        covered = qualified in found
    assert covered, f"{qualified} is public but docs/reference.md has no `::: {qualified}` (nor its module)"


def _attribute_docstring(name: str) -> str | None:
    """The docstring under a module-level assignment ``name = ...`` in the package
    (how mkdocstrings documents type aliases and constants)."""
    for path in sorted((ROOT / "pystorage").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        body = tree.body
        for statement, following in itertools.pairwise(body):
            targets: list[ast.expr] = []
            if isinstance(statement, ast.Assign):
                targets = statement.targets
            elif isinstance(statement, ast.AnnAssign):
                targets = [statement.target]
            if not any(isinstance(t, ast.Name) and t.id == name for t in targets):
                continue
            if (
                isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
            ):
                return following.value.value
    return None


def _own_docstring(obj: object) -> str | None:
    if inspect.isclass(obj):
        doc = obj.__dict__.get("__doc__")
        # a dataclass without a docstring gets its signature as __doc__
        if isinstance(doc, str) and doc.startswith(f"{obj.__name__}("):
            return None
        return doc if isinstance(doc, str) else None
    doc = getattr(obj, "__doc__", None)
    return doc if isinstance(doc, str) else None


def _members_without_docstrings(cls: type) -> list[str]:
    """Public methods and properties defined by ``cls`` itself without a docstring."""
    missing = []
    for attr, value in vars(cls).items():
        if attr.startswith("_"):
            continue
        func = value.fget if isinstance(value, property) else getattr(value, "__func__", value)
        if (inspect.isfunction(func) or isinstance(value, property)) and not (func.__doc__ or "").strip():
            missing.append(attr)
    return missing


@pytest.mark.parametrize(("module_name", "name"), public_names(), ids=lambda v: str(v))
def test_public_name_has_a_docstring(module_name: str, name: str) -> None:
    module: ModuleType = importlib.import_module(module_name)
    obj = getattr(module, name)
    qualified = f"{module_name}.{name}"
    if inspect.isclass(obj) or inspect.isfunction(obj) or inspect.ismodule(obj):
        doc = _own_docstring(obj)
    else:  # a type alias or constant: documented by a string right under its assignment
        doc = _attribute_docstring(name)
    assert doc and doc.strip(), f"{qualified} has no docstring"
    if inspect.isclass(obj):
        missing = _members_without_docstrings(obj)
        assert not missing, f"{qualified} has public members without a docstring: {missing}"


def test_reference_page_is_in_the_nav() -> None:
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for page in ("reference.md", "cli.md"):
        assert re.search(rf":\s*{re.escape(page)}\s*$", config, re.MULTILINE), f"{page} is not in the nav"


def _mkdocs_missing() -> str | None:
    for module in ("mkdocs", "mkdocstrings", "mkdocstrings_handlers.python", "material"):
        if importlib.util.find_spec(module.split(".")[0]) is None:
            return f"{module.split('.')[0]} is not installed (pip install -e '.[docs]')"
    return None


@pytest.mark.skipif(_mkdocs_missing() is not None, reason=str(_mkdocs_missing()))
def test_mkdocs_builds_strict_without_warnings(tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNING" not in output, output
    reference = (site / "reference" / "index.html").read_text(encoding="utf-8")
    for module_name, name in public_names():
        if module_name == "pystorage" and inspect.ismodule(getattr(pystorage, name)):
            continue
        assert f'id="{module_name}.{name}"' in reference, f"{module_name}.{name} is not rendered"
    assert (site / "cli" / "index.html").is_file()
