"""ruff and mypy --strict (configured in pyproject.toml) report nothing on crashplan/, and every
``type: ignore`` left names its code and says why."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

# the whole package: a new module is covered the moment it exists
CLEAN_PATHS = ("crashplan",)

_IGNORE = re.compile(r"#\s*type:\s*ignore\b(?P<codes>\[[^\]]*\])?(?P<rest>.*)$")


def _tool(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed: pip install -e '.[test]' brings it")


def _files(paths: tuple[str, ...]) -> set[Path]:
    out: set[Path] = set()
    for p in paths:
        path = ROOT / p
        out |= set(path.rglob("*.py")) if path.is_dir() else {path}
    return out


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff_reports_nothing() -> None:
    _tool("ruff")
    r = _run("ruff", "check", "--no-cache", "--output-format", "concise", *CLEAN_PATHS)
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_strict_reports_nothing(tmp_path: Path) -> None:
    _tool("mypy")
    r = _run("mypy", "--cache-dir", str(tmp_path / "mypy"), *CLEAN_PATHS)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("Success: no issues found"), r.stdout


def test_every_type_ignore_names_its_code_and_reason() -> None:
    bare = []
    for path in sorted(_files(CLEAN_PATHS)):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            m = _IGNORE.search(line)
            if m and (not m.group("codes") or not re.match(r"\s+#\s*\S", m.group("rest"))):
                bare.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not bare, "a type: ignore needs [code] and a '# why' after it:\n" + "\n".join(bare)


MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 100


def test_modules_and_functions_stay_readable() -> None:
    """No module of crashplan/ over 600 lines and no function over 100, from ``def`` to its last line
    (a command's stack of click option decorators is its option table, not its logic): past that, a
    module holds more than one subject and a function more than one step."""
    import ast

    too_long = []
    for path in sorted((ROOT / "crashplan").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(ROOT)
        if len(text.splitlines()) > MAX_MODULE_LINES:
            too_long.append(f"{rel}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{rel}:{node.lineno} {node.name}(): {length} lines")
    assert too_long == []
