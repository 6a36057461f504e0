"""What a person sees first: ``suggest`` and ``check`` answer in their first lines, in CliRunner and in a
real 80-column terminal (tmux); -q, -v/-vv, --color, the fallback machine and the probed apply command."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT

SERVER = ROOT / "examples" / "x86_64-server-16g.yaml"  # 6.12 el10: classic plan only
QEMU = ROOT / "examples" / "x86_64-qemu-4g.yaml"  # 7.3 Debian: classic and CMA plans
MiB = 1 << 20
TMUX = shutil.which("tmux")


def machine_with_cmdline(tmp_path: Path, cmdline: str | None) -> Path:
    """The server example with another command line (or none)."""
    lines = SERVER.read_text().splitlines()
    out = [ln for ln in lines if not ln.startswith("cmdline:")]
    if cmdline is not None:
        out.insert(next(i for i, ln in enumerate(out) if ln.startswith("kernel:")) + 1, f"cmdline: {json.dumps(cmdline)}")
    p = tmp_path / "machine.yaml"
    p.write_text("\n".join(out) + "\n")
    return p


# --- the answer first ----------------------------------------------------------------------------


def test_server_answer_in_the_first_lines(run_cli):
    rc, out, err = run_cli("suggest", "--machine", str(SERVER), "--width", "80")
    assert rc == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "set crashkernel=232M  (classic: production keeps 15.77G of 16G)"
    assert lines[1].startswith("current crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M gives 256M; needs 232M:")
    assert "apply: grubby --update-kernel=ALL --args=crashkernel=232M" in lines[:5]
    assert all(len(line) <= 80 for line in lines if not line.startswith("    "))  # commands are soft-wrapped


@pytest.mark.parametrize("cmdline,verdict,text", [
    ("ro crashkernel=512M-:192M", "too small", "current crashkernel=512M-:192M gives 192M; needs 232M: too small"),
    ("ro crashkernel=210M", "tight", "current crashkernel=210M gives 210M; needs 232M: tight"),
    ("ro crashkernel=240M", "enough", "current crashkernel=240M gives 240M; needs 232M: enough"),
    ("ro crashkernel=2G", "more than needed", "current crashkernel=2G gives 2.25G (2G + 256M low); needs 232M: more than needed"),
    ("ro quiet", "none", "current command line has no crashkernel=: nothing is reserved"),
    ("ro crashkernel=256M,cma=1G", "nothing", "current crashkernel=256M,cma=1G gives nothing: nothing"),
])
def test_the_current_line_is_replayed_and_judged(run_cli, tmp_path, cmdline, verdict, text):
    m = machine_with_cmdline(tmp_path, cmdline)
    rc, out, _ = run_cli("suggest", "--machine", str(m), "--format", "json")
    cur = json.loads(out)["current"]
    assert cur["verdict"] == verdict and cur["source"] == str(m)
    _, out, _ = run_cli("suggest", "--machine", str(m), "--width", "80")
    assert text in out.splitlines()[:3]


def test_no_cmdline_in_the_machine_file(run_cli, tmp_path):
    m = machine_with_cmdline(tmp_path, None)
    _, out, _ = run_cli("suggest", "--machine", str(m), "--format", "json")
    assert json.loads(out)["current"] is None
    _, out, _ = run_cli("suggest", "--machine", str(m), "--width", "80")
    assert out.splitlines()[1] == "current command line not known: nothing to compare with"


def test_a_larger_reservation_can_shrink_now(run_cli, tmp_path):
    m = machine_with_cmdline(tmp_path, "ro crashkernel=1G")
    _, out, _ = run_cli("suggest", "--machine", str(m), "--format", "json")
    sh = json.loads(out)["current"]["live_shrink"]
    assert sh["possible"] and sh["size"] == 232 * MiB and sh["frees"] == 792 * MiB
    assert f"echo {232 * MiB} > /sys/kernel/kexec_crash_size" in sh["commands"]
    _, out, _ = run_cli("suggest", "--machine", str(m), "--width", "80")
    assert "now: the running kernel can give back 792M without a reboot (below)" in out.splitlines()[:5]
    assert "Now, without a reboot" in out
    # smaller than needed: nothing to give back, nothing said
    small = machine_with_cmdline(tmp_path, "ro crashkernel=128M")
    _, out, _ = run_cli("suggest", "--machine", str(small), "--format", "json")
    assert json.loads(out)["current"]["live_shrink"] is None


# --- quiet, verbose, caveats ---------------------------------------------------------------------


def test_quiet_prints_the_parameters_alone(run_cli):
    assert run_cli("suggest", "--machine", str(SERVER), "-q") == (0, "crashkernel=232M\n", "")
    assert run_cli("suggest", "--machine", str(QEMU), "--quiet") == (0, "crashkernel=112M\n", "")


def test_quiet_when_every_plan_is_refused(run_cli):
    rc, out, err = run_cli("suggest", "--no-probe", "--kernel", "6.12", "--arch", "x86_64", "--ram", "64M", "-q")
    assert rc == 1 and out == ""
    assert err == "crashplan: every plan is refused (run without -q for the reasons)\n"


def test_quiet_and_verbose_together_is_a_usage_error(run_cli):
    rc, _, err = run_cli("suggest", "--machine", str(SERVER), "-q", "-v")
    assert rc == 2 and "at most one of -q/--quiet and -v/--verbose" in err


def test_verbose_levels(run_cli):
    _, doc_text, _ = run_cli("suggest", "--machine", str(SERVER), "--format", "json")
    terms = [t for t in json.loads(doc_text)["budget"]["terms"] if t["bytes"] or t["key"] == "initrd_packed"]
    _, plain, _ = run_cli("suggest", "--machine", str(SERVER), "--width", "80")
    _, v, _ = run_cli("suggest", "--machine", str(SERVER), "--width", "80", "-v")
    _, vv, _ = run_cli("suggest", "--machine", str(SERVER), "--width", "80", "-vv")
    assert "Budget (classic plan)" not in plain and "-v: the budget term by term" in plain
    assert "Budget (classic plan)" in v and "Replayed: classic plan (crashkernel=232M)" in v
    assert "Why each term" not in v and "Why each term" in vv
    from crashplan.units import format_size

    for t in terms:  # one line per budget row at 80 columns: label, size and phase together
        assert any(line.startswith(t["label"]) and format_size(t["bytes"]) in line for line in v.splitlines()), t
    assert max(len(line) for line in v.splitlines()) <= 80
    assert "…" not in plain and "…" not in v


def test_cma_caveats_only_with_a_cma_plan(run_cli):
    _, with_cma, _ = run_cli("suggest", "--machine", str(QEMU), "--width", "80")
    assert "or  crashkernel=80M crashkernel=40M,cma" in with_cma.splitlines()[1]
    assert with_cma.count("CMA caveat: ") == 3
    _, refused, _ = run_cli("suggest", "--machine", str(QEMU), "--width", "80", "--kexec", "load")
    assert "cma plan refused: the capture kernel is loaded with kexec_load" in refused
    assert "CMA caveat" not in refused and "10 seconds" not in refused
    _, server, _ = run_cli("suggest", "--machine", str(SERVER), "--width", "80")
    assert "CMA caveat" not in server


def test_color_option(run_cli):
    _, never, _ = run_cli("suggest", "--machine", str(SERVER), "--color", "never")
    _, always, _ = run_cli("suggest", "--machine", str(SERVER), "--color", "always")
    assert "\x1b[" not in never and "\x1b[" in always
    assert always.splitlines()[0].startswith("\x1b[")
    rc, out, _ = run_cli("check", "crashkernel=256M", "--machine", str(SERVER), "--color", "always")
    assert rc == 0 and "\x1b[" in out
    rc, _, err = run_cli("suggest", "--machine", str(SERVER), "--color", "sometimes")
    assert rc == 2 and "sometimes" in err


def test_no_color_environment(monkeypatch):
    from crashplan.output.terminal import use_color

    class Tty:
        def isatty(self) -> bool:
            return True

    assert use_color("auto", Tty(), {}) is True
    assert use_color("auto", Tty(), {"NO_COLOR": "1"}) is False
    assert use_color("auto", Tty(), {"NO_COLOR": ""}) is True  # no-color.org: set and not empty
    assert use_color("always", Tty(), {"NO_COLOR": "1"}) is True

    class Pipe:
        def isatty(self) -> bool:
            return False

    assert use_color("auto", Pipe(), {}) is False
    assert use_color("never", Tty(), {}) is False


# --- check ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("args,first,second", [
    (("crashkernel=256M", "--machine", str(SERVER)),
     "crashkernel=256M reserves 256M at 0x44000000-0x53ffffff (below 4 GiB)", "no problems found (1 note below)"),
    (("crashkernel=512M,high", "--machine", str(SERVER)),
     "crashkernel=512M,high reserves 768M: 512M at 0x482000000, low 256M at 0x44000000", None),
    (("crashkernel=256M crashkernel=1G,cma", "--kernel", "7.2", "--arch", "x86_64", "--ram", "16G", "--no-map"),
     "crashkernel=256M crashkernel=1G,cma reserves 256M + 1G CMA, low memory first (not placed: no memory map)",
     None),
    (("crashkernel=256M,cma=1G", "--kernel", "7.2", "--arch", "x86_64", "--ram", "16G", "--no-map"),
     "crashkernel=256M,cma=1G reserves NOTHING: kdump is disabled", "1 problem: 1 error (Diagnosis below)"),
])
def test_check_answers_first(run_cli, args, first, second):
    _, out, _ = run_cli("check", *args, "--width", "120")
    lines = out.splitlines()
    assert lines[0] == first
    if second is not None:
        assert lines[1] == second


# --- a real 80-column terminal -------------------------------------------------------------------


def run_in_tmux(tmp_path: Path, *args: str) -> list[str]:
    """Run ``crashplan ARGS`` in a detached tmux session 80 columns wide; return the lines as the terminal
    shows them, wrapped lines joined back (capture-pane -J) so that a line too wide shows as one."""
    assert TMUX is not None
    sock = str(tmp_path / "tmux.sock")
    marker = "__crashplan_done__"
    cmd = (f"cd {shlex.quote(str(ROOT))} && {shlex.quote(sys.executable)} -m crashplan "
           + " ".join(shlex.quote(a) for a in args) + f"; echo {marker}; sleep 120")
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "TMUX", "NO_COLOR", "FORCE_COLOR")}
    subprocess.run([TMUX, "-S", sock, "-f", "/dev/null", "new-session", "-d", "-x", "80", "-y", "200",
                    "sh", "-c", cmd], env=env, check=True, timeout=30)
    try:
        deadline = time.monotonic() + 60
        while True:
            text = subprocess.run([TMUX, "-S", sock, "capture-pane", "-p", "-J", "-S", "-", "-E", "-"],
                                  capture_output=True, text=True, check=True, timeout=30).stdout
            if marker in text:
                break
            assert time.monotonic() < deadline, f"crashplan did not finish in tmux:\n{text}"
            time.sleep(0.2)
        width = subprocess.run([TMUX, "-S", sock, "display-message", "-p", "#{pane_width}"],
                               capture_output=True, text=True, check=True, timeout=30).stdout.strip()
        assert width == "80"
    finally:
        subprocess.run([TMUX, "-S", sock, "kill-server"], capture_output=True, timeout=30)
    lines = text.splitlines()
    return lines[:lines.index(marker)]


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed: the real-terminal test runs crashplan inside tmux")
def test_suggest_in_a_real_80_column_terminal(tmp_path):
    lines = run_in_tmux(tmp_path, "suggest", "--machine", "examples/x86_64-server-16g.yaml")
    first5 = lines[:5]
    assert "set crashkernel=232M  (classic: production keeps 15.77G of 16G)" in first5
    assert any(line.startswith("current crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M gives 256M; needs 232M")
               for line in first5)
    assert "apply: grubby --update-kernel=ALL --args=crashkernel=232M" in first5
    too_wide = [line for line in lines if len(line.rstrip()) > 80]
    assert too_wide == []
    assert not any("…" in line for line in lines)


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed: the real-terminal test runs crashplan inside tmux")
def test_suggest_with_a_cma_plan_in_a_real_80_column_terminal(tmp_path):
    lines = run_in_tmux(tmp_path, "suggest", "--machine", "examples/x86_64-qemu-4g.yaml")
    assert lines[:4] == [
        "set crashkernel=112M  (classic: production keeps 3.89G of 4G)",
        "or  crashkernel=80M crashkernel=40M,cma  (CMA: keeps 3.92G, 40M of it CMA)",
        "current crashkernel=256M gives 256M; needs 112M: more than needed",
        "apply: 3 commands (grub-drop-in), under 'To apply'",
    ]
    assert [line for line in lines if len(line.rstrip()) > 80] == []  # the GRUB drop-in included
    assert not any("…" in line for line in lines)


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed: the real-terminal test runs crashplan inside tmux")
def test_suggest_verbose_in_a_real_80_column_terminal(tmp_path):
    lines = run_in_tmux(tmp_path, "suggest", "--machine", "examples/x86_64-server-16g.yaml", "-v")
    assert lines[0] == "set crashkernel=232M  (classic: production keeps 15.77G of 16G)"
    assert [line for line in lines if len(line.rstrip()) > 80] == []
    assert not any("…" in line for line in lines)
    rows = [line for line in lines if line.startswith(("kernel image in memory ", "makedumpfile bitmaps"))]
    assert len(rows) == 2 and all(line.rstrip().endswith(("estimate", "kernel", "input")) for line in rows)


# --- the fallback machine and the probed apply command -------------------------------------------


def _as_unprivileged() -> list[str]:
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root and setpriv (util-linux) is missing: cannot drop to an unprivileged user")
    return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]


@pytest.fixture
def request_cleanup():
    paths: list[Path] = []
    yield paths
    for p in paths:
        shutil.rmtree(p, ignore_errors=True)


def test_fallback_named_first_and_apply_from_the_tools_on_path(tmp_path, request_cleanup):
    """As a user who cannot read /proc/iomem: the README's command plans for the example, names it on the
    first line, and the apply command is chosen from the tools on this PATH (fake grubby, kdumpctl)."""
    if os.geteuid() != 0 and os.access("/proc/iomem", os.R_OK) and "System RAM" in Path("/proc/iomem").read_text() \
            and "00000000-00000000" not in Path("/proc/iomem").read_text():
        pytest.skip("this user reads real addresses in /proc/iomem: no fallback happens")
    import tempfile

    # a directory the unprivileged user can reach (pytest's tmp_path is private to its owner)
    bindir = Path(tempfile.mkdtemp(prefix="crashplan-path-"))
    bindir.chmod(0o755)
    request_cleanup.append(bindir)
    for tool in ("grubby", "kdumpctl"):
        exe = bindir / tool
        exe.write_text("#!/bin/sh\nexit 99\n")  # only its presence is probed: it must never run
        exe.chmod(exe.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    env = {"PATH": str(bindir), "HOME": str(bindir), "COLUMNS": "80", "LANG": "C.UTF-8",
           "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run([*_as_unprivileged(), sys.executable, "-m", "crashplan", "suggest", "--fallback-machine",
                           "examples/x86_64-server-16g.yaml"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "planned for examples/x86_64-server-16g.yaml: this machine's map needs root"
    assert lines[1] == "set crashkernel=232M  (classic: production keeps 15.77G of 16G)"
    assert "apply: grubby --update-kernel=ALL --args=crashkernel=232M" in lines[:5]
    assert not any(line.startswith("current ") for line in lines)  # the example's line is not this machine's
    proc = subprocess.run([*_as_unprivileged(), sys.executable, "-m", "crashplan", "suggest", "--fallback-machine",
                           "examples/x86_64-server-16g.yaml", "--format", "json"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    doc = json.loads(proc.stdout)
    assert doc["fallback_machine"] == "examples/x86_64-server-16g.yaml" and doc["current"] is None
    assert doc["apply"]["classic"]["method"] == "grubby"


def test_probe_host_reads_presence_only(tmp_path, monkeypatch):
    from crashplan.cli.suggest_cmd import _probe_host

    for tool in ("update-grub", "kernel-install", "not-a-boot-tool"):
        exe = tmp_path / tool
        exe.write_text("#!/bin/sh\nexit 99\n")
        exe.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    host = _probe_host()
    assert host["tools"] == frozenset({"update-grub", "kernel-install"})
    assert host["crash_size_file"] == os.path.exists("/sys/kernel/kexec_crash_size")
