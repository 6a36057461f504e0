"""The commands read alike: Examples in every --help, the same metavars and -o/--output, 80 columns,
shell completion through the lazy group (run in a real bash), and a man page built from the commands."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from conftest import ROOT
from crashplan.cli import COMMANDS, cli

ENV = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "80"}


def _command(name: str) -> click.Command:
    cmd = cli.get_command(click.Context(cli), name)
    assert cmd is not None
    return cmd


def _help(*args: str) -> str:
    r = subprocess.run([sys.executable, "-m", "crashplan", *args, "--help"], capture_output=True, text=True, env=ENV)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.mark.parametrize("name", ["", *sorted(COMMANDS)])
def test_every_help_has_examples_and_fits_80_columns(name: str) -> None:
    out = _help(*([name] if name else []))
    assert "Examples:" in out
    examples = out.split("Examples:", 1)[1]
    lines = [ln.strip() for ln in examples.splitlines() if "crashplan " in ln]
    assert len(lines) >= 3
    for ln in lines:
        if name:
            assert re.search(rf"crashplan {name}\b", ln), ln
    too_long = [ln for ln in out.splitlines() if len(ln) > 80]
    assert not too_long, too_long


def test_shared_options_have_the_same_names_and_metavars() -> None:
    ctx = click.Context(cli)
    seen: dict[str, set[str]] = {}
    for name in COMMANDS:
        cmd = _command(name)
        for p in cmd.params:
            if isinstance(p, click.Option) and p.metavar:
                for opt in p.opts:
                    seen.setdefault(opt, set()).add(p.metavar)
    assert seen["--kernel"] == {"RELEASE"} and seen["--arch"] == {"ARCH"} and seen["--ram"] == {"SIZE"}
    assert seen["--output"] == {"FILE"} and seen["-o"] == {"FILE"}
    for name in ("check", "suggest", "lint", "rules", "snapshot"):
        opts = {o for p in _command(name).params for o in getattr(p, "opts", [])}
        assert {"-o", "--output"} <= opts, name
    for name in ("lint", "rules"):
        assert "--color" in {o for p in _command(name).params for o in getattr(p, "opts", [])}
    assert ctx  # the group itself


@pytest.mark.parametrize("name", ["check", "suggest"])
def test_output_option_writes_the_same_document_atomically(run_cli, tmp_path: Path, name: str) -> None:
    args = (["check", "crashkernel=256M", "--kernel", "7.2", "--arch", "x86_64", "--ram", "16G", "--no-map"]
            if name == "check" else ["suggest", "--machine", str(ROOT / "examples" / "x86_64-vm-2g.yaml")])
    rc1, out, _ = run_cli(*args, "--format", "json")
    target = tmp_path / "out.json"
    rc2, out2, _ = run_cli(*args, "--format", "json", "-o", str(target))
    assert rc1 == rc2 and out2 == ""
    assert json.loads(target.read_text(encoding="utf-8")) == json.loads(out)
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]  # no temporary file left


def test_output_option_writes_nothing_when_the_command_fails(run_cli, tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    rc, _, err = run_cli("check", "crashkernel=256M", "--machine", str(tmp_path / "missing.yaml"), "-o", str(target))
    assert rc == 2 and not target.exists()


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completion_works_through_the_lazy_group(tmp_path: Path) -> None:
    # the console script as installed: `crashplan` on PATH
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = bindir / "crashplan"
    exe.write_text(f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(ROOT)!r})\n"
                   "from crashplan.cli import main\nraise SystemExit(main())\n", encoding="utf-8")
    exe.chmod(0o755)
    script = (
        'eval "$(_CRASHPLAN_COMPLETE=bash_source crashplan)"\n'
        "complete -p crashplan\n"
        "COMPREPLY=(); COMP_WORDS=(crashplan li); COMP_CWORD=1; _crashplan_completion crashplan; echo \"1:${COMPREPLY[*]}\"\n"
        "COMPREPLY=(); COMP_WORDS=(crashplan lint --form); COMP_CWORD=2; _crashplan_completion crashplan; echo \"2:${COMPREPLY[*]}\"\n"
        "COMPREPLY=(); COMP_WORDS=(crashplan lint --format ''); COMP_CWORD=3; _crashplan_completion crashplan; echo \"3:${COMPREPLY[*]}\"\n"
    )
    env = {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}"}
    r = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], capture_output=True, text=True, env=env,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert "complete -o nosort -F _crashplan_completion crashplan" in r.stdout
    assert "1:lint" in r.stdout
    assert "2:--format" in r.stdout
    assert "3:auto text json sarif github" in r.stdout


def test_man_page_builds_and_lists_every_command(tmp_path: Path) -> None:
    out = tmp_path / "crashplan.1"
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "make_man.py"), "--date", "2026-01-01", "-o", str(out)],
                       capture_output=True, text=True, env=ENV)
    assert r.returncode == 0, r.stderr
    roff = out.read_text(encoding="utf-8")
    assert roff.startswith('.TH CRASHPLAN 1 "2026-01-01"') and roff.isascii()
    for name in COMMANDS:
        assert f".SS crashplan {name}" in roff
        cmd = _command(name)
        for p in cmd.params:
            if isinstance(p, click.Option) and not p.hidden:
                assert p.opts[-1].replace("-", "\\-") in roff, (name, p.opts)
    assert "_CRASHPLAN_COMPLETE=bash_source" in roff and ".SH EXIT STATUS" in roff
    if shutil.which("groff"):
        g = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", str(out)], capture_output=True, text=True)
        assert g.returncode == 0 and g.stderr == "", g.stderr
    if shutil.which("man"):
        m = subprocess.run(["man", "-l", str(out)], capture_output=True, text=True, env={**os.environ, "MANWIDTH": "80"})
        assert m.returncode == 0 and "crashplan lint" in m.stdout
        assert max(len(ln) for ln in m.stdout.splitlines()) <= 80


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
def test_lint_in_a_real_80_column_terminal(tmp_path: Path) -> None:
    """tmux at 80 columns: the progress line is erased, the report is what is left, and --help shows examples."""
    import time

    for i in range(200):
        d = tmp_path / "tree" / f"m{i}" / "etc" / "kernel"
        d.mkdir(parents=True)
        (d / "cmdline").write_text("root=/dev/sda1 crashkenel=256M\n" if i == 7 else "crashkernel=256M\n",
                                   encoding="utf-8")
    sock = str(tmp_path / "tmux.sock")
    done = tmp_path / "done"
    cmd = (f"cd {tmp_path} && CRASHPLAN_PROGRESS_INTERVAL=0 PYTHONPATH={ROOT} {sys.executable} -m crashplan lint "
           f"--isolated tree; echo rc=$? > {done}; sleep 30")
    subprocess.run(["tmux", "-S", sock, "new-session", "-d", "-x", "80", "-y", "50", cmd], check=True)
    try:
        for _ in range(300):
            if done.exists():
                break
            time.sleep(0.1)
        time.sleep(0.3)
        screen = subprocess.run(["tmux", "-S", sock, "capture-pane", "-p", "-J"], capture_output=True, text=True,
                                check=True).stdout
    finally:
        subprocess.run(["tmux", "-S", sock, "kill-server"], capture_output=True)
    assert done.read_text().strip() == "rc=1"
    assert "files scanned" not in screen  # the progress line was erased
    assert "tree/m7/etc/kernel/cmdline:1:16: CK121 [error]" in screen
    assert "1 error in 200 files checked" in screen


def test_console_script_runs_main_and_exits_with_its_status():
    """``crashplan`` and ``python -m crashplan`` run :func:`crashplan.cli.run`: main's status and output,
    with the startup objects frozen out of the collector's walks (a cold-start saving, docs/benchmarks.md);
    main() itself, which tests and library callers call many times in one process, leaves gc alone."""
    import tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts == {"crashplan": "crashplan.cli:run"}
    r = subprocess.run([sys.executable, "-m", "crashplan", "check", "crashkernel=auto", "--kernel", "7.2", "--arch",
                        "x86_64", "--ram", "16G", "--no-map", "--format", "json"], capture_output=True, text=True)
    assert r.returncode == 1 and json.loads(r.stdout)["reserves"] is False, r.stderr
    probe = ("import gc, sys, io, contextlib; from crashplan.cli import main, run\n"
             "with contextlib.redirect_stdout(io.StringIO()): rc = main(['--version'])\n"
             "print(rc, gc.get_freeze_count()); sys.stdout.flush()\n"
             "import atexit; atexit.register(lambda: print(gc.get_freeze_count() > 0))\n"
             "sys.argv = ['crashplan', 'rules', '--format', 'json']\n"
             "with contextlib.redirect_stdout(io.StringIO()): run()\n")
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.split() == ["0", "0", "True"], (r.stdout, r.stderr)
