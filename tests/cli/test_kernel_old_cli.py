"""Releases before 5.15 through the commands a user runs: accepted, and with their own behaviour."""

from __future__ import annotations

import json

import pytest

from conftest import DATA, load_jsonl_gz

BOOTS = {b["id"]: b for b in load_jsonl_gz(DATA / "boots" / "qemu-boots-5.10.jsonl.gz") if b["arch"] == "x86_64"}


@pytest.mark.parametrize("release", ["4.14.355-1.amzn2.x86_64", "4.18.0-553.el8_10.x86_64", "4.19.0-27-amd64",
                                     "5.4.0-200-generic", "5.10.0-35-amd64", "5.10.236-228.935.amzn2.x86_64",
                                     "4.20", "5.0", "5.14"])
def test_releases_from_4_14_are_no_usage_error(run_cli, release):
    rc, out, err = run_cli("check", "crashkernel=256M", "--kernel", release, "--arch", "x86_64", "--ram", "8G",
                           "--no-map", "--format", "json")
    assert rc in (0, 1), err
    assert json.loads(out)["kernel"]["release"] == release


def test_before_5_2_x86_says_where_it_searches(run_cli):
    rc, out, _ = run_cli("check", "crashkernel=1G", "--kernel", "4.19", "--arch", "x86_64", "--ram", "4G", "--no-map")
    assert rc == 0 and "automatic (below 896M only)" in out
    rc, out, _ = run_cli("check", "crashkernel=1G", "--kernel", "5.4", "--arch", "x86_64", "--ram", "4G", "--no-map")
    assert "automatic (low memory first)" in out


def test_a_real_2g_machine_planned_as_5_1_and_as_5_10(run_cli, tmp_path):
    """The same 5.10 boot log, replayed as 5.1 (nothing: 1G does not fit below 896 MiB, and there is
    no fallback) and as its own 5.10 (below 4 GiB, where the kernel put it)."""
    boot = BOOTS["m2G-1536M@5.10"]
    log = tmp_path / "dmesg.txt"
    log.write_text(boot["boot_log"], encoding="utf-8")
    rc, out, _ = run_cli("check", "crashkernel=1G", "--boot-log", str(log), "--kernel", "5.1", "--format", "json")
    doc = json.loads(out)
    assert rc == 1 and doc["reservations"] == []
    assert [d["code"] for d in doc["diagnoses"]][:1] == ["CK301"]
    assert [m["text"] for m in doc["messages"]] == ["crashkernel reservation failed - No suitable area found."]
    rc, out, _ = run_cli("check", "crashkernel=1G", "--boot-log", str(log), "--format", "json")
    doc = json.loads(out)
    assert doc["reservations"][0]["end"] <= 1 << 32 and doc["reservations"][0]["size"] == 1 << 30
