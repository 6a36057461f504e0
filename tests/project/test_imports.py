"""The JSON paths never import rich or yaml (cold start policed without timing it)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import heavy_imports

def test_importing_crashplan_imports_nothing_heavy():
    r = subprocess.run([sys.executable, "-c", "import sys, crashplan, crashplan.cli, crashplan.kernel; "
                        "print(sorted({m.split('.')[0] for m in sys.modules} & {'rich', 'yaml', 'click'}))"],
                       capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "['click']"


def test_core_modules_import_neither_click_nor_rich_nor_yaml():
    for mod in ("crashplan.kernel", "crashplan.diagnose", "crashplan.check", "crashplan.cmdline", "crashplan.units",
                "crashplan.readiness"):
        r = subprocess.run([sys.executable, "-c", f"import sys, {mod}; "
                            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('rich', 'yaml', 'click')))"],
                           capture_output=True, text=True, check=True)
        assert r.stdout.strip() == "[]", mod


@pytest.mark.parametrize("args", [
    ("check", "crashkernel=256M,cma=1G", "--kernel", "7.2", "--arch", "x86_64", "--ram", "16G", "--no-map",
     "--format", "json"),
    ("check", "crashkernel=256M crashkernel=1G,cma", "--kernel", "6.17", "--arch", "x86_64", "--ram", "4G",
     "--no-map", "--format", "json"),
])
def test_json_paths_import_neither_rich_nor_yaml(args):
    rc, heavy = heavy_imports(*args)
    assert rc in (0, 1)
    assert heavy == []


def test_text_output_does_use_rich():
    rc, heavy = heavy_imports("check", "crashkernel=256M", "--kernel", "7.2", "--arch", "x86_64", "--ram", "16G",
                          "--no-map")
    assert rc == 0 and "rich" in heavy
