"""``crashplan fleet plan`` / ``fleet check`` end to end: real machine files, real suggest output."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from conftest import ROOT, drain_pty

EXAMPLES = ROOT / "examples"
X86 = sorted(str(p) for p in EXAMPLES.glob("x86_64-*.yaml"))
ALL = sorted(str(p) for p in EXAMPLES.glob("*.yaml"))  # every architecture
SCHEMA_FILE = ROOT / "crashplan" / "data" / "schemas" / "fleet.json"
# the two x86_64 examples no line can serve: a kernel without kexec, and a snapshot taken without root
NO_KDUMP = "x86_64-microvm-24g"
UNPLACED = "x86_64-nonroot-snapshot"


def _validate(doc: dict) -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(doc)


@pytest.fixture(scope="module")
def x86_plan():
    from crashplan.cli import main

    buf = io.StringIO()
    import contextlib

    with contextlib.redirect_stdout(buf):
        rc = main(["fleet", "plan", *X86, "--format", "json"])
    return rc, json.loads(buf.getvalue())


def test_plan_gives_one_line_and_sets_apart_the_machines_it_cannot_judge(x86_plan):
    rc, doc = x86_plan
    _validate(doc)
    assert doc["schema"] == "crashplan/fleet@1" and doc["command"] == "plan"
    line = doc["cmdline"]
    assert isinstance(line, str) and line.startswith("crashkernel=") and len(line.split()) == 1
    # the micro-VM cannot run kdump, the non-root snapshot has no layout: not failures of the line
    assert rc == 0 and doc["exit_status"] == 0 and doc["ok"] is True and doc["strict"] is False
    assert doc["not_judged"] == [NO_KDUMP, UNPLACED]
    assert doc["plan"]["unserved"] == [] and doc["causes"] == {}
    assert doc["totals"]["failed"] == 0 and doc["totals"]["not_judged"] == 2 and doc["totals"]["ok"] == len(X86) - 2
    # each keeps its own verdict
    by = {m["name"]: m for m in doc["machines"]}
    assert (by[NO_KDUMP]["status"], by[NO_KDUMP]["ok"]) == ("no-kdump", False)
    assert "CONFIG_CRASH_DUMP" in by[NO_KDUMP]["reason"]
    assert (by[UNPLACED]["status"], by[UNPLACED]["ok"]) == ("unplaced", False)
    assert "layout is unknown" in by[UNPLACED]["reason"]
    served = [m for m in doc["machines"] if m["name"] not in (NO_KDUMP, UNPLACED)]
    assert len(served) == len(X86) - 2 and all(m["ok"] and m["reserves"] for m in served)


def test_check_of_the_planned_line_over_the_same_files_exits_0_and_1_with_strict(run_cli, x86_plan):
    line = x86_plan[1]["cmdline"]
    rc, out, err = run_cli("fleet", "check", line, *X86, "--format", "json")
    assert rc == 0, out + err
    doc = json.loads(out)
    _validate(doc)
    assert doc["cmdline"] == line and doc["ok"] is True and doc["exit_status"] == 0 and doc["causes"] == {}
    assert doc["not_judged"] == [NO_KDUMP, UNPLACED] and doc["totals"]["failed"] == 0
    status = {m["name"]: (m["status"], m["ok"]) for m in doc["machines"]}
    assert status.pop(NO_KDUMP) == ("no-kdump", False) and status.pop(UNPLACED) == ("unplaced", False)
    assert set(status.values()) == {("ok", True)}
    # --strict: the same two are failures, named by cause
    rc, out, _ = run_cli("fleet", "check", line, *X86, "--strict", "--format", "json")
    doc = json.loads(out)
    _validate(doc)
    assert rc == 1 and doc["exit_status"] == 1 and doc["ok"] is False and doc["strict"] is True
    assert doc["causes"] == {"no-kdump": [NO_KDUMP], "unplaced": [UNPLACED]}
    assert doc["not_judged"] == [NO_KDUMP, UNPLACED] and doc["totals"]["failed"] == 2
    rc, out, _ = run_cli("fleet", "check", line, *X86, "--strict", "--width", "80")
    assert rc == 1 and out.splitlines()[1] == f"FAIL: 2 of {len(X86)} machines not served."
    failures = out[out.index("Failures, by cause"):]
    assert f"{NO_KDUMP}: " in failures and f"{UNPLACED}: " in failures and "Not judged" not in out
    # with the two left out, --strict passes too
    rc, out, err = run_cli("fleet", "check", line, *X86, "--exclude", NO_KDUMP, "--exclude", UNPLACED, "--strict",
                           "--format", "json")
    assert rc == 0, out + err
    doc = json.loads(out)
    assert doc["not_judged"] == [] and {m["status"] for m in doc["machines"]} == {"ok", "excluded"}


def test_text_lists_the_machines_not_judged_after_the_failures(run_cli, x86_plan):
    line = x86_plan[1]["cmdline"]
    rc, out, _ = run_cli("fleet", "check", line, *X86, "--width", "80")
    lines = out.splitlines()
    assert rc == 0 and lines[0] == line
    assert lines[1] == f"OK: all {len(X86) - 2} judged machines reserve what their kdump needs; 2 not judged (below)."
    section = out[out.index("\nNot judged, by cause\n"):out.index("\nGroups (")]
    assert "1 cannot run kdump at all [no-kdump]" in section and f"    {NO_KDUMP}: " in section
    assert "[unplaced]" in section and f"    {UNPLACED}: " in section
    assert "Failures, by cause" not in out and max(len(x) for x in lines) <= 80
    # a line too small for one judged machine: the failure first, the machines not judged after it
    rc, out, _ = run_cli("fleet", "check", "crashkernel=2G-4G:128M,4G-8G:112M,8G-:232M", *X86, "--width", "80")
    assert rc == 1 and out.splitlines()[1] == f"FAIL: 1 of {len(X86) - 2} judged machines not served; 2 not judged (below)."
    assert out.index("Failures, by cause") < out.index("Not judged, by cause") < out.index("Groups (")
    # plan: the headline, and the command that checks the line needs no --exclude
    rc, out, _ = run_cli("fleet", "plan", *X86, "--width", "80")
    assert rc == 0 and out.splitlines()[1].startswith(f"Serves all {len(X86) - 2} judged machines; 2 not judged (below)")
    check_cmd = out[out.index("Check it:"):out.index("Not judged, by cause")]
    assert "--exclude" not in check_cmd and "--strict" not in check_cmd
    rc, out, _ = run_cli("fleet", "plan", *X86, "--width", "80", "--strict")
    assert rc == 1 and out.splitlines()[1].startswith(f"Serves {len(X86) - 2} of {len(X86)} machines; 2 cannot be")
    check_cmd = out[out.index("Check it"):out.index("Not served, by cause")]
    assert f"--exclude {NO_KDUMP}" in check_cmd and "--strict" in check_cmd


def test_plan_with_strict_names_them_and_with_the_excludes_exits_0(run_cli, x86_plan):
    rc, out, err = run_cli("fleet", "plan", *X86, "--strict", "--format", "json")
    doc = json.loads(out)
    _validate(doc)
    assert rc == 1 and doc["exit_status"] == 1 and doc["cmdline"] == x86_plan[1]["cmdline"]
    assert {u["name"]: u["status"] for u in doc["plan"]["unserved"]} == {NO_KDUMP: "no-kdump", UNPLACED: "unplaced"}
    rc, out, err = run_cli("fleet", "plan", *X86, "--exclude", NO_KDUMP, "--exclude", "*nonroot*", "--strict",
                           "--format", "json")
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["cmdline"] == x86_plan[1]["cmdline"] and doc["plan"]["unserved"] == [] and doc["not_judged"] == []


def test_planned_size_covers_what_suggest_says_each_machine_needs(run_cli, x86_plan):
    doc = x86_plan[1]
    by_name = {m["name"]: m for m in doc["machines"]}
    checked = 0
    for path in X86:
        rc, out, err = run_cli("suggest", "--machine", path, "--format", "json")
        assert rc in (0, 1), err
        sug = json.loads(out)
        classic = next(p for p in sug["plans"] if p["name"] == "classic")
        name = Path(path).stem
        m = by_name[name]
        if m["status"] == "no-kdump":
            continue
        need = classic["sizes"]["crashkernel"]
        assert m["needed"] == need, name  # fleet's need is suggest's, not a copy of the model
        assert m["size"] >= need, name
        checked += 1
    assert checked == len(X86) - 1


def test_plan_and_check_json_validate_against_the_shipped_schema(run_cli, tmp_path):
    rc, out, _ = run_cli("fleet", "plan", *ALL, "--format", "json")
    doc = json.loads(out)
    _validate(doc)
    assert doc["plan"]["cma"] is not None
    rc, out, _ = run_cli("fleet", "check", "crashkernel=64M", *X86, "--format", "json")
    doc = json.loads(out)
    _validate(doc)
    assert rc == 1 and "too-small" in doc["causes"]


def test_csv_has_one_row_per_machine(run_cli):
    rc, out, _ = run_cli("fleet", "check", "crashkernel=2G-4G:256M", *X86, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["file"] for r in rows] == X86
    from crashplan.fleet.render import CSV_COLUMNS

    assert tuple(rows[0].keys()) == CSV_COLUMNS
    vm = next(r for r in rows if r["name"] == "x86_64-vm-2g")
    assert vm["ok"] == "true" and int(vm["size"]) == 256 << 20
    server = next(r for r in rows if r["name"] == "x86_64-server-16g")
    assert server["status"] == "reserves-nothing" and server["reserves"] == "false"
    assert "zero bytes" in server["reason"]
    assert rc == 1


def test_causes_reserve_nothing_too_small_and_placement(run_cli):
    rc, out, _ = run_cli("fleet", "check", "crashkernel=1G@0x1000000", str(EXAMPLES / "x86_64-server-16g.yaml"),
                         "--format", "json")
    doc = json.loads(out)
    assert rc == 1 and doc["causes"] == {"placement-failed": ["x86_64-server-16g"]}
    assert "cannot be placed" in doc["machines"][0]["reason"]
    rc, out, _ = run_cli("fleet", "check", "crashkernel=96M", str(EXAMPLES / "x86_64-server-16g.yaml"),
                         "--format", "json")
    m = json.loads(out)["machines"][0]
    assert rc == 1 and m["status"] == "too-small" and m["size"] == 96 << 20 and m["size"] < m["needed"]


def _bad_fleet(tmp_path: Path) -> Path:
    d = tmp_path / "fleet"
    (d / "rack1").mkdir(parents=True)
    for name in ("x86_64-vm-2g", "x86_64-qemu-4g"):
        shutil.copy(EXAMPLES / f"{name}.yaml", d / "rack1" / f"{name}.yaml")
    shutil.copy(EXAMPLES / "x86_64-server-16g.yaml", d / "server.yml")
    (d / "garbled.yaml").write_text("schema: crashplan/machine@1\nname: x\nmemory:\n  ram: [ {start: 1\n")
    (d / "other-schema.yaml").write_text("schema: crashplan/check@1\nname: y\n")
    (d / "binary.yaml").write_bytes(b"schema: crashplan/machine@1\n\x00\x01")
    (d / "notes.txt").write_text("not a machine file, not read\n")
    return d


def test_bad_snapshots_are_reported_with_position_and_the_rest_is_checked(run_cli, tmp_path):
    d = _bad_fleet(tmp_path)
    rc, out, err = run_cli("fleet", "check", "crashkernel=256M", str(d), str(tmp_path / "missing.yaml"),
                           "--format", "json")
    assert rc == 2
    doc = json.loads(out)
    _validate(doc)
    errors = {Path(e["file"]).name: e for e in doc["errors"]}
    assert set(errors) == {"garbled.yaml", "other-schema.yaml", "binary.yaml", "missing.yaml"}
    assert errors["garbled.yaml"]["line"] is not None and errors["garbled.yaml"]["column"] is not None
    assert errors["other-schema.yaml"]["line"] == 1 and "crashplan/check@1" in errors["other-schema.yaml"]["message"]
    assert "no such file" in errors["missing.yaml"]["message"]
    # the good ones were still checked
    assert sorted(m["name"] for m in doc["machines"]) == ["x86_64-qemu-4g", "x86_64-server-16g", "x86_64-vm-2g"]
    assert all(m["ok"] for m in doc["machines"])
    # each error is on stderr with its position
    for e in doc["errors"]:
        if e["line"] is not None:
            assert f"{e['file']}:{e['line']}:" in err
    # text: the same, in the report
    rc, out, _ = run_cli("fleet", "check", "crashkernel=256M", str(d))
    assert rc == 2 and "could not be read" in out and "garbled.yaml:" in out
    # plan: same exit status, the line still planned from the good ones
    rc, out, _ = run_cli("fleet", "plan", str(d), "--format", "json")
    assert rc == 2 and json.loads(out)["cmdline"]


def test_check_fails_and_bad_snapshot_gives_2_not_1(run_cli, tmp_path):
    d = _bad_fleet(tmp_path)
    rc, out, _ = run_cli("fleet", "check", "crashkernel=64M", str(d), "--format", "json")
    doc = json.loads(out)
    assert rc == 2 and doc["exit_status"] == 2 and doc["totals"]["failed"] == 3


def test_usage_errors(run_cli, tmp_path):
    rc, _, err = run_cli("fleet", "check", "crashkernel=256M")
    assert rc == 2
    rc, _, err = run_cli("fleet", "check", "root=/dev/sda", str(EXAMPLES / "x86_64-vm-2g.yaml"))
    assert rc == 2 and "crashkernel=" in err
    (tmp_path / "empty").mkdir()
    rc, _, err = run_cli("fleet", "plan", str(tmp_path / "empty"))
    assert rc == 2 and "no machine files" in err
    out = tmp_path / "r.json"
    rc, _, err = run_cli("fleet", "plan", str(tmp_path / "empty"), "-o", str(out))
    assert rc == 2 and not out.exists()


def test_output_file_is_written_atomically_with_the_report(run_cli, tmp_path):
    target = tmp_path / "plan.json"
    target.write_text("old")
    rc, out, _ = run_cli("fleet", "plan", *X86, "--format", "json", "-o", str(target))
    assert out == ""
    doc = json.loads(target.read_text())
    assert doc["schema"] == "crashplan/fleet@1" and rc == doc["exit_status"]
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]  # no temporary file left


def test_check_rejects_a_repeated_machine_pointing_to_fleet_check(run_cli):
    rc, out, err = run_cli("check", "crashkernel=256M", "--machine", str(EXAMPLES / "x86_64-vm-2g.yaml"),
                           "--machine", str(EXAMPLES / "x86_64-qemu-4g.yaml"))
    assert rc == 2 and out == ""
    assert "--machine given 2 times" in err and "crashplan fleet check" in err
    rc, out, _ = run_cli("check", "crashkernel=256M", "--machine", str(EXAMPLES / "x86_64-vm-2g.yaml"),
                         "--format", "json")
    assert rc == 0 and json.loads(out)["reserves"] is True


def test_text_report_reads_at_80_columns(run_cli):
    rc, out, _ = run_cli("fleet", "plan", *ALL, "--width", "80")
    lines = out.splitlines()
    assert lines[0].startswith("crashkernel=")  # the answer first
    assert max(len(x) for x in lines) <= 80
    assert "Groups (architecture, kernel, RAM band)" in out
    rc, out, _ = run_cli("fleet", "check", "crashkernel=128M", *X86, "--width", "80")
    assert out.splitlines()[1].startswith("FAIL:") and max(len(x) for x in out.splitlines()) <= 80


def test_parallel_check_gives_the_same_report_as_one_process(run_cli, tmp_path):
    d = tmp_path / "many"
    d.mkdir()
    for i in range(40):
        src = EXAMPLES / X86[i % len(X86)]
        text = src.read_text().replace(f'name: "{src.stem}"', f'name: "host-{i:03d}"')
        (d / f"host-{i:03d}.yaml").write_text(text)
    # machines named null and ~ (the reader reads no name): each named after its own file
    for i, nm in ((42, "null"), (43, "~")):
        src = (EXAMPLES / "x86_64-vm-2g.yaml").read_text()
        (d / f"host-{i:03d}.yaml").write_text(src.replace('name: "x86_64-vm-2g"', f"name: {nm}"))
    # two copies of a garbled file that differ only in their name: each reported on its own
    for i in (40, 41):
        (d / f"host-{i:03d}.yaml").write_text(f'schema: crashplan/machine@1\nname: "host-{i:03d}"\nmemory: [\n')
    runs = [run_cli("fleet", "check", "crashkernel=256M", str(d), "--format", "json", "--jobs", j,
                    "--exclude", "host-00[0-4]") for j in ("1", "2")]
    assert runs[0][0] == runs[1][0] == 2
    assert json.loads(runs[0][1]) == json.loads(runs[1][1])
    doc = json.loads(runs[0][1])
    assert [m["name"] for m in doc["machines"]] == [f"host-{i:03d}" for i in range(40)] + ["host-042", "host-043"]
    assert [m["status"] for m in doc["machines"][:5]] == ["excluded"] * 5
    assert [Path(e["file"]).name for e in doc["errors"]] == ["host-040.yaml", "host-041.yaml"]
    assert [e["line"] for e in doc["errors"]] == [4, 4]  # the end of the document, in each file


def test_progress_only_on_a_terminal_and_never_on_stdout():
    env = dict(os.environ, COLUMNS="80")
    args = [sys.executable, "-m", "crashplan", "fleet", "check", "crashkernel=256M", *X86, "--format", "json"]
    r = subprocess.run(args, capture_output=True, text=True, env=env)
    assert r.returncode == 0 and r.stderr == ""  # 256M serves every machine judged
    json.loads(r.stdout)
    r = subprocess.run([*args, "--progress"], capture_output=True, text=True, env=env)
    json.loads(r.stdout)  # stdout stays a clean document


def test_fleet_json_path_does_not_import_rich():
    probe = ("import io, sys, contextlib\nfrom crashplan.cli import main\nout = io.StringIO()\n"
             "with contextlib.redirect_stdout(out):\n    rc = main(sys.argv[1:])\n"
             "print(rc, sorted(m for m in sys.modules if m.split('.')[0] == 'rich'))")
    r = subprocess.run([sys.executable, "-c", probe, "fleet", "check", "crashkernel=256M", *X86, "--format", "json"],
                       capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "0 []"


def test_plan_without_cma_and_with_one_range(run_cli):
    rc, out, _ = run_cli("fleet", "plan", *X86, "--no-cma", "--max-ranges", "1", "--format", "json",
                         "--exclude", NO_KDUMP, "--exclude", UNPLACED)
    doc = json.loads(out)
    _validate(doc)
    assert rc == 0 and doc["plan"]["cma"] is None
    assert doc["cmdline"] == "crashkernel=232M"  # one size: the largest need of the fleet
    assert all(m["size"] >= m["needed"] for m in doc["machines"] if m["status"] == "ok")


def test_check_of_a_cma_line_uses_each_kernels_rules(run_cli):
    rc, out, _ = run_cli("fleet", "check", "crashkernel=232M crashkernel=120M,cma", *X86, "--format", "json")
    doc = json.loads(out)
    _validate(doc)
    by = {m["name"]: m for m in doc["machines"]}
    # 6.19 and 7.3 reserve ,cma: the need is suggest's CMA plan (classic part and CMA part)
    for name in ("x86_64-laptop-16g", "x86_64-qemu-4g"):
        m = by[name]
        assert m["ok"] and m["cma"] == 120 << 20 and m["cma_needed"] is not None and m["cma"] >= m["cma_needed"]
    # 6.12 does not know ,cma: the trailing token breaks the whole crashkernel= setting
    for name in ("x86_64-server-16g", "x86_64-vm-2g", "x86_64-host-1t"):
        assert by[name]["status"] == "reserves-nothing" and "unrecognized char" in by[name]["reason"]
    assert rc == 1


def test_text_on_an_80_column_terminal():
    """stdout on a real terminal (a pty sized 80×24): the width is the terminal's and colour is on."""
    import fcntl
    import pty
    import re
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    env["TERM"] = "xterm"
    p = subprocess.Popen([sys.executable, "-m", "crashplan", "fleet", "plan", *X86, "--no-progress"],
                         stdout=slave, stderr=subprocess.DEVNULL, env=env)
    os.close(slave)
    seen = drain_pty(master)
    os.close(master)
    assert p.wait(timeout=120) == 0  # two machines cannot be judged: not failures
    text = seen.decode()
    assert "\x1b[" in text  # colour on a terminal
    plain = re.sub(r"\x1b\[[0-9;]*m", "", text).replace("\r\n", "\n")
    assert plain.splitlines()[0].startswith("crashkernel=")
    assert max(len(line) for line in plain.splitlines()) <= 80
