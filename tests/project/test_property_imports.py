"""The JSON paths of lint, suggest and check never import rich or yaml, whatever input they read.

Each command runs in a fresh interpreter (``crashplan.cli.main`` in a subprocess) and reports which
heavy modules ended up in ``sys.modules``.  Modules are asserted, never timings (benchmarks/run.py
measures the time).  A machine file is YAML and a lint configuration may be, so those load yaml on
purpose and are checked the other way round.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import DATA, ROOT, heavy_imports

pytestmark = pytest.mark.property

def probe(*args: str, cwd: Path) -> tuple[int, list[str]]:
    return heavy_imports(*args, cwd=cwd, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(cwd)})


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """Real boot-loader fixtures copied where no .crashplan.yaml is found above them."""
    for case in ("rhel8-kernelopts", "debian-kdump", "fedora15"):
        shutil.copytree(DATA / "lint" / case, tmp_path / case)
    return tmp_path


@pytest.mark.parametrize("fmt", ["json", "sarif", "github"])
def test_lint_machine_formats_import_neither_rich_nor_yaml(tree, fmt):
    one = tree / "debian-kdump" / "etc" / "default" / "grub"
    for target in (one, tree):
        rc, heavy = probe("lint", "--format", fmt, str(target), cwd=tree)
        assert rc in (0, 1)
        assert heavy == [], (fmt, target)


def test_lint_fix_with_json_output_imports_neither(tree):
    rc, heavy = probe("lint", "--fix", "--format", "json", str(tree), cwd=tree)
    assert rc in (0, 1) and heavy == []


def test_lint_text_output_does_use_rich(tree):
    rc, heavy = probe("lint", str(tree / "fedora15"), cwd=tree)
    assert rc in (0, 1) and "rich" in heavy


def test_a_yaml_lint_configuration_loads_yaml(tree):
    (tree / ".crashplan.yaml").write_text("ignore: [CK2]\n", encoding="utf-8")
    rc, heavy = probe("lint", "--format", "json", str(tree / "fedora15"), cwd=tree)
    assert rc in (0, 1) and heavy == ["yaml"]


@pytest.mark.parametrize("extra", [
    (),
    ("--portable",),
    ("--iomem", str(DATA / "iomem" / "x86_64-qemu-vangen.txt")),
    ("--boot-log", str(DATA / "bootlogs" / "x86_64-6.12-dmesg.txt")),
])
def test_suggest_json_imports_neither_rich_nor_yaml(tmp_path, extra):
    rc, heavy = probe("suggest", "--no-probe", "--kernel", "6.12", "--arch", "x86_64", "--ram", "16G",
                      "--format", "json", *extra, cwd=tmp_path)
    assert rc in (0, 1)
    assert heavy == [], extra


def test_suggest_text_output_does_use_rich(tmp_path):
    rc, heavy = probe("suggest", "--no-probe", "--kernel", "6.12", "--arch", "x86_64", "--ram", "16G",
                      cwd=tmp_path)
    assert rc in (0, 1) and "rich" in heavy


def test_a_machine_file_loads_yaml_and_nothing_else(tmp_path):
    rc, heavy = probe("suggest", "--no-probe", "--machine", str(ROOT / "examples" / "x86_64-qemu-4g.yaml"),
                      "--format", "json", cwd=tmp_path)
    assert rc in (0, 1) and heavy == ["yaml"]


@pytest.mark.parametrize("source", [
    ("--iomem", str(DATA / "iomem" / "x86_64-laptop-crashkernel.txt"), "--kernel", "6.12", "--arch", "x86_64"),
    ("--boot-log", str(DATA / "bootlogs" / "arm64-7.3-dmesg.txt")),
])
def test_check_json_with_a_memory_map_imports_neither_rich_nor_yaml(tmp_path, source):
    rc, heavy = probe("check", "crashkernel=512M", *source, "--format", "json", cwd=tmp_path)
    assert rc in (0, 1)
    assert heavy == []
