"""crashplan.output.terminal: the one place that decides width and colour and builds rich Consoles."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from conftest import ROOT
from crashplan.output.terminal import Terminal, make_console, use_color


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_from_options_resolves_color_once() -> None:
    tty = _Tty()
    assert Terminal.from_options("auto", stream=tty, environ={}).color is True
    assert Terminal.from_options("auto", stream=tty, environ={"NO_COLOR": "1"}).color is False
    assert Terminal.from_options("auto", stream=io.StringIO(), environ={}).color is False
    # -o FILE (or a format other than text): auto means no colour, even on a terminal
    assert Terminal.from_options("auto", stream=tty, environ={}, to_file=True).color is False
    assert Terminal.from_options("always", stream=io.StringIO(), environ={"NO_COLOR": "1"}, to_file=True).color
    assert not Terminal.from_options("never", stream=tty, environ={}).color
    assert Terminal.from_options("never", 57).width == 57


def test_use_color_survives_a_stream_without_isatty() -> None:
    class Bare:
        pass

    assert use_color("auto", Bare(), {}) is False  # type: ignore[arg-type]  # duck-typed stream on purpose
    closed = io.StringIO()
    closed.close()  # isatty() raises ValueError
    assert use_color("auto", closed, {}) is False


def test_console_width_color_and_plain_text() -> None:
    on = Terminal(color=True, width=33).console(io.StringIO())
    assert on.width == 33 and on.color_system == "standard" and on.is_terminal
    off = Terminal(color=False).console(io.StringIO(), default_width=71)
    assert off.width == 71 and off.color_system is None
    # no markup, no emoji, no highlighting: a message prints as written
    out = Terminal(color=True, width=80).capture(lambda con: con.print("[bold]x[/bold] :smile: 0x10 'q'"))
    assert out == "[bold]x[/bold] :smile: 0x10 'q'\n"


def test_capture_wraps_unless_soft_wrap() -> None:
    words = " ".join(["word"] * 30)
    hard = Terminal(width=40).capture(lambda con: con.print(words))
    soft = Terminal(width=40).capture(lambda con: con.print(words), soft_wrap=True)
    assert max(len(line) for line in hard.splitlines()) <= 40 and hard.count("\n") > 1
    assert soft == words + "\n"


def test_console_width_follows_columns_when_not_told(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "91")
    assert Terminal().console(io.StringIO()).width == 91
    assert Terminal(width=60).console(io.StringIO()).width == 60


def test_columns_for_plain_text_renderers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "150")
    assert Terminal().columns() == 150
    assert Terminal().columns(hi=100) == 100  # status: never wider than 100
    assert Terminal(width=55).columns(hi=100) == 55  # --width wins
    monkeypatch.setenv("COLUMNS", "12")
    assert Terminal().columns(lo=20) == 20  # lint's progress line
    # fleet: the terminal's width only on a terminal, else 80
    assert Terminal(stream=io.StringIO()).columns(lo=40, hi=100, tty_only=True) == 80
    assert Terminal(stream=_Tty()).columns(lo=40, hi=100, tty_only=True) == 40


def test_style_colours_only_when_on() -> None:
    assert Terminal(color=False).style("FAIL", fg="red", bold=True) == "FAIL"
    assert Terminal(color=True).style("FAIL", fg="red", bold=True) == "\x1b[31m\x1b[1mFAIL\x1b[0m"


def test_make_console_is_the_terminal_shorthand() -> None:
    buf = io.StringIO()
    con = make_console(width=44, color="always", file=buf)
    con.print("hi")
    assert con.width == 44 and buf.getvalue() == "hi\n" and con.color_system == "standard"


@pytest.mark.parametrize("pkg", ["crashplan/output", "crashplan/lint"])
def test_only_the_terminal_builds_a_console(pkg: str) -> None:
    built = [f"{p.relative_to(ROOT)}:{n}" for p in sorted((ROOT / pkg).rglob("*.py"))
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if re.search(r"\bConsole\(", line) and p.name != "terminal.py"]
    assert not built, built


def test_the_terminal_module_imports_no_rich() -> None:
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-c", ("import sys, crashplan.output.terminal as t; "
                        "t.Terminal.from_options('always', 80).columns(); t.Terminal(color=True).style('x'); "
                        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'rich'))")],
                       capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"


def test_machine_formats_never_import_the_terminal(tmp_path: Path) -> None:
    """lint's json/sarif/github output carries no colour: neither rich nor the terminal module is imported."""
    import subprocess
    import sys

    grub = tmp_path / "etc" / "default" / "grub"
    grub.parent.mkdir(parents=True)
    grub.write_text('GRUB_CMDLINE_LINUX="crashkernel=256M,hihg"\n', encoding="utf-8")
    probe = ("import io, sys, contextlib\n"
             "from crashplan.cli import main\n"
             "with contextlib.redirect_stdout(io.StringIO()):\n"
             "    rc = main(sys.argv[1:])\n"
             "print(rc, sorted(m for m in sys.modules if m.startswith(('rich', 'crashplan.output'))))\n")
    for fmt in ("json", "sarif", "github"):
        r = subprocess.run([sys.executable, "-c", probe, "lint", "--isolated", "--color", "always", "--format", fmt,
                            str(grub)], capture_output=True, text=True, check=True)
        assert r.stdout.strip() == "1 []", (fmt, r.stdout, r.stderr)
    r = subprocess.run([sys.executable, "-c", probe, "lint", "--isolated", "--format", "text", str(grub)],
                       capture_output=True, text=True, check=True)
    assert "'crashplan.output.terminal'" in r.stdout and "'rich'" in r.stdout


def test_stderr_console_is_rich_on_stderr() -> None:
    import sys

    con = Terminal.stderr_console()
    assert con.stderr and con.file is sys.stderr
