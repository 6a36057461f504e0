"""Debian 11's 5.10 kernels, booted under qemu: ``crashplan check --boot-log`` gives what they reserved.

The boots are ``tests/data/boots/qemu-boots-5.10.jsonl.gz`` (PROVENANCE.md there). tests/simulate/test_boots.py
plans every one of them in-process, from every log and /proc/iomem of the same machine; here each case goes
through the command a user runs, on a real file, as the log of another boot of the same machine, and the
kernel's own log lines must come out word for word.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import pytest

from conftest import DATA, load_jsonl_gz

BOOTS = load_jsonl_gz(DATA / "boots" / "qemu-boots-5.10.jsonl.gz")
X86 = [b for b in BOOTS if b["arch"] == "x86_64"]


def _other(case: dict) -> dict:
    """Another boot of the same machine configuration (only crashkernel= differs)."""
    return next(b for b in BOOTS if b["config_key"] == case["config_key"] and b is not case)


def test_the_5_10_boots_cover_the_cases_that_matter():
    assert len(X86) >= 14
    assert {b["kernel_package"].split("_")[0] for b in X86} == {"linux-image-5.10.0-46-amd64-unsigned"}
    assert all(b["kernel"].startswith("5.10.") for b in BOOTS)
    ck = " ".join(b["crashkernel"] for b in X86)
    for what in (",high", ",low", "@", "-4G:", "crashkernel=256M"):
        assert what in ck, what
    kinds = Counter(r["kind"] for b in X86 for r in b["reservations"])
    assert kinds["crashkernel"] >= 10 and kinds["crashkernel-low"] >= 2
    assert any(not b["reservations"] for b in X86)  # a size that fits nowhere: nothing reserved
    assert {b["qemu"]["mem"] for b in X86} >= {"1G", "2G", "5G"}


def test_the_arm64_5_10_boots_show_the_pre_5_15_arm64_rules():
    arm = {b["id"]: b for b in BOOTS if b["arch"] == "arm64"}
    assert len(arm) >= 15
    # ,high is not read before 5.19: a ,high-only line reserves nothing
    assert arm["m5G-512M-high@5.10"]["reservations"] == []
    # an @offset that is not 2 MiB-aligned: 5.10's own check and message
    odd = arm["m2G-at1G-odd@5.10"]
    assert odd["reservations"] == []
    assert any("cannot reserve crashkernel: base address is not 2MB aligned" in x for x in odd["kernel_lines"])
    # 3G does not fit below 4 GiB and arm64 has no fallback before 6.2
    assert arm["m5G-3G@5.10"]["reservations"] == []


@pytest.mark.parametrize("case", BOOTS, ids=[f"{b['arch']}:{b['id']}" for b in BOOTS])
def test_check_boot_log_replays_the_boot(case, run_cli, tmp_path):
    other = _other(case)
    log = tmp_path / "dmesg.txt"
    log.write_text(other["boot_log"], encoding="utf-8")
    rc, out, err = run_cli("check", case["crashkernel"], "--boot-log", str(log), "--format", "json")
    assert "Traceback" not in err
    doc = json.loads(out)
    assert doc["kernel"]["series"] == "5.10"
    got = [{k: r[k] for k in ("kind", "start", "end", "size")} for r in doc["reservations"]]
    assert got == [{k: r[k] for k in ("kind", "start", "end", "size")} for r in case["reservations"]]
    # exit 1 when nothing is reserved; a reservation may still exit 1 for a warning (e.g. a quarter of RAM)
    assert rc == 1 if not case["reservations"] else rc in (0, 1)


def test_one_case_end_to_end_in_a_subprocess(tmp_path):
    case = next(b for b in X86 if b["crashkernel"] == "crashkernel=1G,high crashkernel=64M,low")
    log = tmp_path / "dmesg.txt"
    log.write_text(_other(case)["boot_log"], encoding="utf-8")
    p = subprocess.run([sys.executable, "-m", "crashplan", "check", case["crashkernel"], "--boot-log", str(log),
                        "--format", "json"], capture_output=True, text=True, check=False)
    doc = json.loads(p.stdout)
    lines = [m["text"] for m in doc["messages"]]
    # the kernel's own two lines, from 5.10's reserve_crashkernel_low() and reserve_crashkernel()
    theirs = [s.split("] ", 1)[1] for s in case["kernel_lines"] if "for crashkernel (" in s]
    assert lines == theirs
    assert "(low RAM limit: 4096MB)" in lines[0]
