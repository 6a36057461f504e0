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
