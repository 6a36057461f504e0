"""The tests mirror crashplan/ (docs/testing.md), so a module's tests are found next to its name.

A test module dropped flat into tests/ fails here unless crashplan/ has a module of that name."""

from __future__ import annotations

from collections import Counter

from conftest import ROOT

TESTS = ROOT / "tests"
PACKAGE = ROOT / "crashplan"
# the directories of tests/ that mirror no package: repository-wide checks, and the test data
OWN = ("project", "data")


def _rel(path):
    return path.relative_to(TESTS)


def _test_dirs():
    return sorted(d for d in TESTS.rglob("*") if d.is_dir() and d.name != "__pycache__"
                  and _rel(d).parts[0] not in OWN)


def test_each_test_directory_mirrors_a_crashplan_package():
    strays = [str(_rel(d)) for d in _test_dirs() if not (PACKAGE / _rel(d) / "__init__.py").is_file()]
    assert not strays, f"tests/<dir> must mirror crashplan/<dir> or be one of {OWN}: {strays}"


def test_a_test_module_at_the_top_tests_a_module_at_the_top_of_crashplan():
    strays = []
    for p in sorted(TESTS.glob("*.py")):
        if p.name == "conftest.py":
            continue
        name = p.stem.removeprefix("test_").removeprefix("property_")
        if not p.name.startswith("test_") or not (PACKAGE / f"{name}.py").is_file():
            strays.append(p.name)
    assert not strays, ("tests/test_<name>.py is for crashplan/<name>.py; put the others in the directory of "
                        f"their package, tests/cli/ or tests/project/: {strays}")


def test_module_basenames_are_unique_and_no_directory_is_a_package():
    # not packages, so pytest imports every test module by its basename alone, and ``from conftest
    # import ROOT`` must find the one conftest.py at the top
    files = [p for p in TESTS.rglob("*.py") if _rel(p).parts[0] != "data"]
    assert not [str(_rel(p)) for p in files if p.name == "__init__.py"]
    twice = [name for name, n in Counter(p.name for p in files).items() if n > 1]
    assert not twice, f"a second module of the same name: {twice}"
