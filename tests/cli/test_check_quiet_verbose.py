"""``crashplan check -q/-v/-vv``: the same options as suggest, end to end (in-process and in a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT, heavy_imports

SERVER = ROOT / "examples" / "x86_64-server-16g.yaml"
BASE = ("--kernel", "7.2", "--arch", "x86_64", "--ram", "16G", "--no-map")

# (arguments, exit status of the default text output): an accepted line, a rejected one, an accepted one
# with a warning (exit 1 although it reserves), and a replay on a machine file
CASES = [
    (("crashkernel=512M", *BASE), 0),
    (("crashkernel=256M,cma=1G", *BASE), 1),
    (("crashkernel=128M crashkernel=256M", *BASE), 1),
    (("crashkernel=512M", "--machine", str(SERVER)), 0),
]


def _subsequence(small: list[str], big: list[str]) -> bool:
    it = iter(big)
    return all(any(line == b for b in it) for line in small)


@pytest.mark.parametrize(("args", "status"), CASES)
def test_quiet_prints_line_one_and_keeps_the_exit_status(run_cli, args, status):
    rc, full, _ = run_cli("check", *args, "--width", "400", "--color", "never")
    assert rc == status
    rc_q, out, err = run_cli("check", *args, "-q")
    rc_long, out_long, _ = run_cli("check", *args, "--quiet")
    assert (rc_q, rc_long) == (status, status) and err == ""
    assert out == out_long == full.splitlines()[0] + "\n"
    assert "\x1b[" not in out
    _, doc, _ = run_cli("check", *args, "--format", "json")
    assert json.loads(doc)["exit_status"] == status


def test_quiet_answer_lines():
    """The answer line itself, for a rejected and a replayed line (what a script greps)."""
    r = subprocess.run([sys.executable, "-m", "crashplan", "check", "crashkernel=256M,cma=1G", *BASE, "-q"],
                       check=False, capture_output=True, text=True, cwd=ROOT)
    assert (r.returncode, r.stdout, r.stderr) == (1, "crashkernel=256M,cma=1G reserves NOTHING: kdump is disabled\n",
                                                  "")
    r = subprocess.run([sys.executable, "-m", "crashplan", "check", "crashkernel=512M", "--machine", str(SERVER), "-q"],
                       check=False, capture_output=True, text=True, cwd=ROOT)
    assert (r.returncode, r.stdout) == (0, "crashkernel=512M reserves 512M at 0x34000000-0x53ffffff (below 4 GiB)\n")


def test_quiet_with_json_prints_the_whole_document(run_cli):
    """As suggest: --format json wins over -q and -v."""
    args = ("check", "crashkernel=256M,cma=1G", *BASE, "--format", "json")
    rc, doc, _ = run_cli(*args)
    assert run_cli(*args, "-q") == (rc, doc, "")
    assert run_cli(*args, "-vv") == (rc, doc, "")
    assert json.loads(doc)["schema"] == "crashplan/check@1"


def test_quiet_and_verbose_together_is_suggests_usage_error(run_cli):
    rc, out, err = run_cli("check", "crashkernel=512M", *BASE, "-q", "-v")
    rc_s, _, err_s = run_cli("suggest", "--no-probe", "--kernel", "7.2", "--arch", "x86_64", "--ram", "16G",
                             "-q", "-v")
    assert rc == rc_s == 2 and out == ""
    error = [ln for ln in err.splitlines() if ln.startswith("Error:")]
    assert error == ["Error: give at most one of -q/--quiet and -v/--verbose"]
    assert error == [ln for ln in err_s.splitlines() if ln.startswith("Error:")]
    assert "Traceback" not in err


@pytest.mark.parametrize(("args", "status"), CASES)
def test_verbose_adds_to_the_default_and_keeps_the_exit_status(run_cli, args, status):
    runs = [run_cli("check", *args, "--width", "80", *v) for v in ((), ("-v",), ("-vv",))]
    assert [rc for rc, _, _ in runs] == [status] * 3
    plain, v, vv = (out.splitlines() for _, out, _ in runs)
    assert _subsequence(plain, v) and _subsequence(v, vv)  # the default's lines, in order, in both
    assert len(plain) < len(v) < len(vv)
    assert "Why: the switches of Linux" not in "\n".join(v)
    for out in (v, vv):  # at 80 columns no line of -v or -vv output is wider
        assert max(len(line) for line in out) <= 80


def test_verbose_shows_every_token_the_parser_and_the_code_path(run_cli):
    rc, out, _ = run_cli("check", "crashkernel=128M crashkernel=256M", *BASE, "--width", "80", "-v")
    assert rc == 1
    lines = out.splitlines()
    assert "  on the line   crashkernel=128M   (at column 1): not read" in lines
    assert "                crashkernel=256M   (at column 18): read (plain)" in lines
    assert "  parser        7.2: suffixes ,high ,low ,cma; ranges round RAM up to 128M;" in lines
    assert "                numbers saturate on overflow; a missing crashkernel= is -ENOENT" in lines
    assert "  code path     generic: parse_crashkernel() with the pointers the architecture" in lines
    # before 6.0 the range RAM is not rounded, before 7.2 memparse does not saturate, before 6.17 no ,cma
    _, old, _ = run_cli("check", "crashkernel=256M", "--kernel", "5.15", "--arch", "x86_64", "--ram", "16G",
                        "--no-map", "--width", "200", "-v")
    assert ("  parser        5.15: suffixes ,high ,low; ranges use RAM as it is; numbers do not saturate on "
            "overflow; a missing crashkernel= is -EINVAL") in old.splitlines()
    assert "  code path     x86-legacy: reserve_crashkernel() of arch/x86/kernel/setup.c" in old.splitlines()


def test_verbose_on_a_replay_gives_the_low_limit(run_cli):
    _, out, _ = run_cli("check", "crashkernel=512M", "--machine", str(SERVER), "--width", "80", "-v")
    lines = out.splitlines()
    assert "  low limit     4G (0x100000000, CRASH_ADDR_LOW_MAX in the replay)" in lines
    assert "  profile       RHEL 10.0 / CentOS Stream 10, built on 6.12; sets no switch" in lines
    # -v goes before the map: the code path is read next to the size it reserves
    assert lines.index("  crash kernel  512M, automatic (low memory first)") + 1 == next(
        k for k, ln in enumerate(lines) if ln.startswith("  code path"))


def test_very_verbose_names_the_switches_with_their_certainty(run_cli):
    from crashplan.kernel.versions import SWITCHES

    _, out, _ = run_cli("check", "crashkernel=256M", "--kernel", "6.1", "--arch", "x86_64", "--ram", "16G",
                        "--no-map", "--width", "200", "-vv")
    why = out[out.index("Why: the switches of Linux 6.1 on x86_64"):].splitlines()
    assert why[1] == "  code path: x86-legacy"
    assert why[2] == ("    off generic_x86_arm64_riscv (from 6.7): x86, arm64 and riscv use "
                      "reserve_crashkernel_generic()")
    assert why[3] == "        certainty: verified"
    s = SWITCHES["roundup_128m"]
    assert f"    on  roundup_128m (from 6.0): {s.what}" in why
    assert f"        certainty: {s.certainty}" in why
    # a distribution profile that sets a switch against its series says so
    _, rhel, _ = run_cli("check", "crashkernel=1G-4G:192M,4G-:256M", "--kernel", "5.14.0-427.13.1.el9_4.x86_64",
                         "--arch", "x86_64", "--ram", "4G", "--no-map", "--width", "200", "-vv")
    assert f"    on  roundup_128m (from 6.0; set by RHEL 9.4): {s.what}" in rhel.splitlines()
    assert "  profile       RHEL 9.4, built on 5.14; sets roundup_128m on" in rhel.splitlines()


def test_verbose_width_with_a_long_token_and_every_architecture(run_cli):
    """Long values wrap under their column; nothing is cut."""
    long = "crashkernel=" + ",".join(f"{k}G-{k + 1}G:{64 + k}M" for k in range(1, 30))
    for arch in ("x86_64", "arm64", "riscv64", "loongarch64", "ppc64le", "s390x"):
        rc, out, err = run_cli("check", f"{long} crashkernel=1G,cma", "--kernel", "6.1", "--arch", arch, "--ram",
                               "16G", "--no-map", "--width", "80", "-vv")
        assert rc in (0, 1) and err == ""
        assert max(len(line) for line in out.splitlines()) <= 80, arch
        assert "".join(ln.strip() for ln in out.splitlines()).count("29G-30G:93M") >= 2  # the token, whole, twice


def test_quiet_path_imports_no_rich():
    assert heavy_imports("check", "crashkernel=256M", *BASE, "-q") == (0, [])


def test_subprocess_at_80_columns():
    """The installed entry point as a user runs it, COLUMNS=80 and no --width."""
    env = {**os.environ, "COLUMNS": "80", "NO_COLOR": "1"}
    for flag, status in (("-v", 0), ("-vv", 0)):
        r = subprocess.run([sys.executable, "-m", "crashplan", "check", "crashkernel=512M", "--machine", str(SERVER),
                            flag], check=False, capture_output=True, text=True, env=env, cwd=ROOT)
        assert r.returncode == status and r.stderr == ""
        assert max(len(line) for line in r.stdout.splitlines()) <= 80
        assert "code path" in r.stdout
    r = subprocess.run([sys.executable, "-m", "crashplan", "check", "crashkernel=foo", *BASE, "-q", "-vv"],
                       check=False, capture_output=True, text=True, env=env, cwd=ROOT)
    assert r.returncode == 2 and r.stdout == "" and "give at most one of -q/--quiet and -v/--verbose" in r.stderr


# --- crashplan.kernel.explain, the data -vv prints ------------------------------------------------


def test_explain_agrees_with_the_tables_on_every_architecture_and_series():
    """The code path and the pointers explain gives are those the parser uses, for every release modelled."""
    from crashplan.kernel import ARCHES, evaluate
    from crashplan.kernel.explain import PARSER_SWITCHES, decisions
    from crashplan.kernel.features import Flow, flow, pointers
    from crashplan.kernel.versions import SUPPORTED_SERIES, KernelRelease

    seen = set()
    for arch in ARCHES:
        for major, minor in SUPPORTED_SERIES:
            rel = KernelRelease(major, minor)
            decs = {d.topic: d for d in decisions(arch, rel)}
            f = flow(arch, rel)
            assert decs["code path"].answer == str(f), (arch, rel)
            o = evaluate("crashkernel=256M", system_ram=16 << 30, kernel=rel, arch=arch)
            assert o.flow == str(f), (arch, rel)
            if f is Flow.GENERIC:
                hl, cma = pointers(arch, rel)
                assert decs["reads ,high and ,low"].answer.startswith("yes" if hl else "no"), (arch, rel)
                assert decs["reserves ,cma"].answer.startswith("yes" if cma else "no"), (arch, rel)
            else:
                assert "reserves ,cma" not in decs
            assert [s.name for s in decs["parser"].switches] == list(PARSER_SWITCHES)
            for d in decs.values():
                for s in d.switches:
                    assert s.on is (rel.series >= tuple(int(x) for x in s.since.split("."))), (arch, rel, s.name)
            seen.add(f)
    assert seen == set(Flow)  # every code path occurs somewhere in the table


def test_explain_lists_the_conditions_tried_in_order():
    from crashplan.kernel.explain import decisions
    from crashplan.kernel.versions import KernelRelease

    path, parser = decisions("arm64", KernelRelease(5, 15))
    assert parser.topic == "parser" and parser.answer == "5.15 rules"
    assert path.answer == "plain"  # neither generic (6.7) nor the ,high/,low code (5.19) yet
    assert [(s.name, s.on) for s in path.switches] == [("generic_x86_arm64_riscv", False), ("arm64_high_low", False)]
    path, high_low, cma, _ = decisions("riscv64", KernelRelease(7, 3))
    assert path.answer == "generic" and [s.name for s in path.switches] == ["riscv_kdump", "generic_x86_arm64_riscv"]
    assert high_low.answer == "yes" and high_low.switches == ()
    assert cma.answer == "yes" and [s.name for s in cma.switches] == ["cma_arm64_riscv"]
    _, _, cma, _ = decisions("loongarch64", KernelRelease(7, 3))
    assert cma.answer == "no (never on this architecture)"
