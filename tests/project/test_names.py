"""Every class name in crashplan/ is defined in one module only, public or private.

Two classes with one name are either one concept defined twice (define it once and import it) or two
concepts sharing a word (name each for what it is: ``PlacementFinding`` and ``SourceProblem``, not two
``Problem``).  Classes nested in a function or another class count too.  There is no allowlist.
"""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "crashplan"


def class_definitions(package: Path) -> dict[str, list[str]]:
    """Each class name defined under ``package`` and where: ``path:line`` (relative to the package's parent)."""
    where: dict[str, list[str]] = {}
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        rel = path.relative_to(package.parent).as_posix()
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                where.setdefault(node.name, []).append(f"{rel}:{node.lineno}")
    return where


def duplicates(package: Path) -> dict[str, list[str]]:
    """The class names defined in more than one module, with every place each is defined."""
    out = {}
    for name, places in class_definitions(package).items():
        modules = {p.rpartition(":")[0] for p in places}
        if len(modules) > 1:
            out[name] = places
    return out


def test_no_class_name_is_defined_in_two_modules() -> None:
    found = duplicates(PACKAGE)
    report = "\n".join(f"{name}: {', '.join(places)}" for name, places in sorted(found.items()))
    assert not found, "class names defined in more than one module of crashplan/:\n" + report


def test_the_walk_sees_the_package() -> None:
    defs = class_definitions(PACKAGE)
    # a few classes the walk must find, nested ones included (lint/config.py defines _Fields in a function)
    assert [p.rpartition(":")[0] for p in defs["PlacementFinding"]] == ["crashplan/simulate/model.py"]
    assert [p.rpartition(":")[0] for p in defs["SourceProblem"]] == ["crashplan/lint/sources/__init__.py"]
    assert [p.rpartition(":")[0] for p in defs["_Fields"]] == ["crashplan/lint/config.py"]
    assert len(defs) > 100


def test_a_duplicate_is_reported_with_both_places(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("class Problem:\n    pass\n\n\nclass Only:\n    pass\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    class _Reader:\n        pass\n\n\nclass Problem:\n    pass\n")
    (pkg / "sub" / "c.py").write_text("class _Reader:\n    pass\n")
    # the same name twice in one module is one module's business, not a duplicate across modules
    (pkg / "d.py").write_text("class Twice:\n    pass\n\n\nclass Twice:  # noqa\n    pass\n")
    assert duplicates(pkg) == {
        "Problem": ["pkg/a.py:1", "pkg/sub/b.py:6"],
        "_Reader": ["pkg/sub/b.py:2", "pkg/sub/c.py:1"],
    }

