"""``crashplan check`` end to end, parse only (--no-map); the map replay has its own tests."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import EXAMPLES, ROOT

BASE = ("--kernel", "7.2", "--arch", "x86_64", "--ram", "16G", "--no-map")


def test_issue_example_text(run_cli):
    rc, out, err = run_cli("check", "crashkernel=256M,cma=1G", *BASE, "--width", "120")
    assert rc == 1 and err == ""
    assert "crashkernel: unrecognized char: ," in out
    assert "NOTHING is reserved: kdump is disabled" in out
    assert "CK102" in out
    assert "fix: crashkernel=256M crashkernel=1G,cma" in out
    assert "6.17+ on x86_64, 6.19+ on ppc64le" in out


def test_issue_example_json(run_cli):
    rc, out, err = run_cli("check", "crashkernel=256M,cma=1G", *BASE, "--format", "json")
    doc = json.loads(out)
    assert rc == 1 and doc["exit_status"] == 1
    assert doc["schema"] == "crashplan/check@1"
    assert doc["parse"]["accepted"] is False and doc["parse"]["errno"] == "-EINVAL"
    assert doc["messages"] == [{"level": "warn", "text": "crashkernel: unrecognized char: ,"}]
    assert doc["reservations"] == [] and doc["reserves"] is False
    (d,) = doc["diagnoses"]
    assert (d["code"], d["fix"]) == ("CK102", "crashkernel=256M crashkernel=1G,cma")


def test_good_parameters_exit_zero(run_cli):
    rc, out, _ = run_cli("check", "crashkernel=512M", *BASE, "--format", "json")
    doc = json.loads(out)
    assert rc == 0 and doc["parse"]["crash_size"] == 512 << 20 and doc["diagnoses"] == []


def test_cma_plan_on_617_is_accepted_with_caveats(run_cli):
    rc, out, _ = run_cli("check", "crashkernel=256M crashkernel=1G,cma", "--kernel", "6.17", "--arch", "amd64",
                         "--ram", "16G", "--no-map", "--format", "json")
    doc = json.loads(out)
    assert rc == 0  # the CMA caveats are information, not a problem
    assert doc["parse"]["cma_size"] == 1 << 30
    assert [d["code"] for d in doc["diagnoses"]] == ["CK210"]


def test_same_line_on_612_disables_kdump(run_cli):
    rc, out, _ = run_cli("check", "crashkernel=256M crashkernel=1G,cma", "--kernel", "6.12", "--arch", "x86_64",
                         "--ram", "16G", "--no-map", "--format", "json")
    doc = json.loads(out)
    assert rc == 1 and doc["reserves"] is False
    assert doc["diagnoses"][0]["fix"] == "crashkernel=1G,cma crashkernel=256M"


def test_usage_errors_exit_2_with_one_line(run_cli):
    rc, out, err = run_cli("check", "crashkernel=256M", "--kernel", "3.10", "--arch", "x86_64", "--ram", "1G",
                           "--no-map")
    assert rc == 2 and "outside the releases crashplan models" in err and "Traceback" not in err
    rc, out, err = run_cli("check", "crashkernel=256M", "--kernel", "6.1", "--arch", "vax", "--ram", "1G", "--no-map")
    assert rc == 2 and "unknown architecture" in err
    rc, out, err = run_cli("check", "crashkernel=256M", "--kernel", "6.1", "--arch", "x86_64", "--ram", "lots",
                           "--no-map")
    assert rc == 2 and "is not a size" in err


def test_subprocess_entry_point_and_help():
    r = subprocess.run([sys.executable, "-m", "crashplan", "check", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "Usage: crashplan check [OPTIONS] [PARAMS]" in r.stdout
    r = subprocess.run([sys.executable, "-m", "crashplan", "check", "crashkernel=auto", "--kernel", "6.12",
                        "--arch", "x86_64", "--ram", "8G", "--no-map"], capture_output=True, text=True)
    assert r.returncode == 1 and "CK106" in r.stdout and r.stderr == ""


def _boot(case_id, arch):
    from conftest import DATA, load_jsonl_gz

    return next(r for r in load_jsonl_gz(DATA / "oracle" / "boot-vectors.jsonl.gz")
                if r["id"] == case_id and r["arch"] == arch)


def test_check_replays_a_boot_log_of_another_boot(tmp_path, run_cli):
    """Plan c-high@7.3 (x86_64) from the boot log of d@7.3: the same machine, other parameters."""
    other, case = _boot("d@7.3", "x86_64"), _boot("c-high@7.3", "x86_64")
    log = tmp_path / "dmesg.txt"
    log.write_text(other["boot_log"], encoding="utf-8")
    rc, out, err = run_cli("check", case["crashkernel"], "--boot-log", str(log), "--format", "json")
    doc = json.loads(out)
    assert (rc, err) == (0, "")
    assert doc["reservations"] == case["reservations"]
    logged = [line.split("] ", 1)[-1] for line in case["kernel_lines"]]
    assert [m["text"] for m in doc["messages"]] == [t for t in logged if t.startswith("crashkernel")]
    assert doc["lost"] == case["kexec_crash_size"]


def test_check_text_shows_layout_log_and_loss(tmp_path, run_cli):
    other = _boot("d@7.3", "x86_64")
    log = tmp_path / "dmesg.txt"
    log.write_text(other["boot_log"], encoding="utf-8")
    rc, out, _ = run_cli("check", "crashkernel=256M crashkernel=1G,cma", "--boot-log", str(log), "--width", "100")
    assert rc == 0
    assert "crashkernel CMA reserved: 1024 MB in 1 ranges" in out
    assert "production loses 256M; keeps using 1G of CMA until a crash" in out
    assert "0x100000000" in out and "CK210" in out


def test_check_on_a_machine_that_cannot_place_it(tmp_path, run_cli):
    other = _boot("a@7.3", "x86_64")
    log = tmp_path / "dmesg.txt"
    log.write_text(other["boot_log"], encoding="utf-8")
    rc, out, _ = run_cli("check", "crashkernel=3G", "--boot-log", str(log), "--format", "json")
    doc = json.loads(out)
    assert rc == 1 and doc["reservations"] == [] and doc["reserves"] is False


def test_unreadable_and_malformed_sources_are_one_line_errors(tmp_path, run_cli):
    rc, out, err = run_cli("check", "crashkernel=256M", "--iomem", str(tmp_path / "missing"))
    assert rc == 2 and err.count("\n") == 1 and "missing" in err and "Traceback" not in err
    bad = tmp_path / "iomem"
    bad.write_text("00000000-00000000 : System RAM\n00000000-00000000 : Kernel code\n", encoding="utf-8")
    rc, out, err = run_cli("check", "crashkernel=256M", "--iomem", str(bad), "--kernel", "6.12", "--arch", "x86_64")
    assert rc == 2 and "without root" in err and str(bad) in err and out == ""
    rc, out, err = run_cli("check", "crashkernel=256M", "--iomem", str(bad), "--boot-log", str(bad))
    assert rc == 2 and "at most one" in err


def test_fallback_machine_is_used_only_when_this_host_cannot_be_read():
    from conftest import DATA
    from crashplan.cli.probe import resolve_machine

    hosts = DATA / "machines" / "hosts"
    example = str(EXAMPLES / "x86_64-server-16g.yaml")
    m = resolve_machine(root=hosts / "x86_64-nonroot", fallback_machine=example)
    assert m.memmap.layout_known and "cannot be read" in m.notes[-1] and example in m.notes[-1]
    m = resolve_machine(root=hosts / "x86_64-root", fallback_machine=example)
    assert "cannot be read" not in " ".join(m.notes)


@pytest.mark.parametrize(("arch", "ok", "too_much"), [
    ("x86_64", "4P", "5P"), ("arm64", "4P", "5P"), ("loongarch64", "256T", "257T"), ("ppc64le", "2P", "3P"),
    ("s390x", "8P", "9P"), ("riscv64", "64P", "65P"),
])
def test_ram_beyond_the_architecture_s_physical_limit_is_an_input_error(run_cli, arch, ok, too_much):
    rc, _, _ = run_cli("check", "crashkernel=256M", "--kernel", "7.2", "--arch", arch, "--ram", ok, "--no-map")
    assert rc in (0, 1)
    rc, out, err = run_cli("check", "crashkernel=256M", "--kernel", "7.2", "--arch", arch, "--ram", too_much, "--no-map")
    assert rc == 2 and out == ""
    assert f"Invalid value for --ram: {too_much} is more RAM than {arch} can address (MAX_PHYSMEM_BITS" in err


def test_ram_limit_in_suggest_and_lint(run_cli, tmp_path):
    rc, _, err = run_cli("suggest", "--machine", str(ROOT / "examples" / "x86_64-server-16g.yaml"), "--ram", "8P")
    assert rc == 2 and "8P is more RAM than x86_64 can address" in err
    (tmp_path / "cmdline").write_text("crashkernel=256M\n", encoding="utf-8")
    rc, _, err = run_cli("lint", "--isolated", "--ram", "16E", str(tmp_path / "cmdline"))
    assert rc == 2 and "16E is more RAM than x86_64 can address" in err
    (tmp_path / ".crashplan.yaml").write_text("arch: [loongarch64]\nram: [1P]\n", encoding="utf-8")
    rc, _, err = run_cli("lint", "--config", str(tmp_path / ".crashplan.yaml"), str(tmp_path / "cmdline"))
    assert rc == 2 and "1P is more RAM than loongarch64 can address" in err


def test_text_at_80_columns_wraps_under_its_sections(run_cli):
    """At 80 columns nothing is cut: the legend wraps onto a second line whole, and the command line,
    however long, continues indented under its heading."""
    long_line = " ".join(f"opt{i}=value{i}" for i in range(30)) + " crashkernel=256M crashkernel=1G,cma"
    rc, out, _ = run_cli("check", long_line, "--machine", str(EXAMPLES / "x86_64-server-16g.yaml"), "--kernel", "7.2",
                         "--width", "80")
    lines = out.splitlines()
    assert all(len(line.rstrip()) <= 80 for line in lines)
    for label in ("█ crashkernel", "█ crashkernel CMA", "─ free RAM"):
        assert any(label in line for line in lines), label
    start = lines.index("Command line") + 1
    section = lines[start:]
    assert len(section) > 3 and all(line.startswith("  ") for line in section if line)
    assert long_line in " ".join(line.strip() for line in section)


def test_problem_line_counts_notes_apart_from_problems():
    from types import SimpleNamespace

    from crashplan.check import problem_line

    def line(*sevs: str) -> str:
        return problem_line(SimpleNamespace(diagnoses=[SimpleNamespace(severity=s) for s in sevs]))  # type: ignore[arg-type]

    assert line("error", "info") == "1 problem: 1 error; 1 note (Diagnosis below)"
    assert line("error", "warning", "info", "info") == "2 problems: 1 error, 1 warning; 2 notes (Diagnosis below)"
    assert line("warning") == "1 problem: 1 warning (Diagnosis below)"
    assert line("info") == "no problems found (1 note below)"
    assert line() == "no problems found"
