"""Every example machine renders in text and JSON through the real command line."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT

EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def test_there_are_examples():
    assert len(EXAMPLES) >= 6


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
@pytest.mark.parametrize("params", ["crashkernel=256M", "crashkernel=256M crashkernel=1G,cma",
                                    "crashkernel=2G-64G:256M,64G-:512M"])
def test_check_renders_every_example(path, params, run_cli):
    rc, out, err = run_cli("check", params, "--machine", str(path), "--format", "json")
    assert rc in (0, 1) and err == ""
    doc = json.loads(out)
    assert doc["schema"] == "crashplan/check@1"
    assert isinstance(doc["reservations"], list)
    for r in doc["reservations"]:
        assert r["kind"] in ("crashkernel", "crashkernel-low", "cma")
        assert r["end"] - r["start"] == r["size"] > 0
    assert doc["exit_status"] == rc
    rc2, text, err = run_cli("check", params, "--machine", str(path), "--width", "100")
    assert rc2 == rc and err == ""
    assert "What the kernel reads" in text and "Kernel log" in text and "Diagnosis" in text
    if doc["reservations"]:
        assert "production loses" in text
