#!/usr/bin/env python3
"""Build the crashplan(1) man page from the click command tree (standard library + click only).

    python3 tools/make_man.py                 # roff on stdout
    python3 tools/make_man.py -o crashplan.1  # written atomically
    man -l crashplan.1

Every command registered in ``crashplan.cli.COMMANDS`` gets a section with its usage, description,
options (as ``--help`` shows them) and examples (``crashplan.cli.examples``); then exit status, shell
completion, files and the JSON schemas.  Hidden options and commands are left out.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import click  # noqa: E402

from crashplan import __version__  # noqa: E402
from crashplan.cli import cli  # noqa: E402
from crashplan.cli.examples import EXAMPLES  # noqa: E402


def esc(text: str) -> str:
    """Text for roff: backslashes doubled, a leading dot or quote protected, dashes literal."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    text = "".join(c if ord(c) < 128 else f"\\[u{ord(c):04X}]" for c in text)  # groff's named Unicode glyphs
    lines = []
    for line in text.split("\n"):
        if line.startswith((".", "'")):
            line = "\\&" + line
        lines.append(line)
    return "\n".join(lines)


def _paragraphs(help_text: str) -> list[str]:
    text = help_text.replace("\b\n", "")
    return [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]


def _options(cmd: click.Command, ctx: click.Context) -> list[tuple[str, str]]:
    rows = []
    for p in cmd.get_params(ctx):
        if not isinstance(p, click.Option):
            continue  # arguments are in the usage line
        rec = p.get_help_record(ctx)
        if rec is not None:
            rows.append(rec)
    return rows


def _command(name: str, cmd: click.Command, parent: click.Context) -> list[str]:
    ctx = click.Context(cmd, info_name=name, parent=parent)
    out = [f".SS {esc('crashplan ' + name)}", f".B {esc('crashplan ' + name)}",
           esc(" ".join(cmd.collect_usage_pieces(ctx))), ".PP"]
    for para in _paragraphs(cmd.help or ""):
        out += [esc(para), ".PP"]
    for opts, text in _options(cmd, ctx):
        out += [".TP", f".B {esc(opts)}", esc(" ".join(text.split()))]
    rows = EXAMPLES.get(name, ())
    if rows:
        out += [".PP", "Examples:"]
        for line, what in rows:
            out += [".PP", ".nf", f"\\fB{esc(line)}\\fR", ".fi", ".RS 4", esc(what), ".RE"]
    return out


def build(date: str | None = None) -> str:
    """The whole man page as roff text."""
    date = date or datetime.date.today().isoformat()
    root = click.Context(cli, info_name="crashplan")
    names = [n for n in cli.list_commands(root) if (c := cli.get_command(root, n)) is not None and not c.hidden]
    out = [
        f'.TH CRASHPLAN 1 "{date}" "crashplan {esc(__version__)}" "User Commands"',
        ".SH NAME",
        "crashplan \\- size, check and lint Linux kdump crashkernel= reservations exactly as the kernel does",
        ".SH SYNOPSIS",
        ".B crashplan",
        "[\\fB\\-\\-version\\fR] [\\fB\\-h\\fR] \\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGS\\fR]",
        ".SH DESCRIPTION",
        esc(" ".join((cli.help or "").split())),
        ".PP",
        "Commands: " + ", ".join(f"\\fB{esc(n)}\\fR" for n in names) + ".",
        ".SH COMMANDS",
    ]
    for n in names:
        cmd = cli.get_command(root, n)
        assert cmd is not None
        out += _command(n, cmd, root)
    out += [
        ".SH EXIT STATUS",
        ".TP", ".B 0", "fine",
        ".TP", ".B 1", "the kernel would reserve nothing, or a problem was found (lint: findings at or above "
        "\\-\\-fail\\-level)",
        ".TP", ".B 2", "usage or input error: a bad option, a missing, unreadable or malformed file (one line names "
        "the file, the position and what was expected)",
        ".TP", ".B 3", "internal error (a bug; \\-\\-traceback shows it)",
        ".SH SHELL COMPLETION",
        "Add to ~/.bashrc (zsh: zsh_source, fish: fish_source):",
        ".PP", ".RS 4", ".nf", 'eval "$(_CRASHPLAN_COMPLETE=bash_source crashplan)"', ".fi", ".RE",
        ".SH JSON OUTPUT",
        "Every \\fB\\-\\-format json\\fR document carries \\fB\"schema\": \"crashplan/NAME@1\"\\fR; its JSON Schema is "
        "installed with the package as crashplan/data/schemas/NAME.json.",
        ".SH ENVIRONMENT",
        ".TP", ".B NO_COLOR", "no colour in text output (\\-\\-color always overrides it)",
        ".TP", ".B GITHUB_ACTIONS", "lint \\-\\-format auto prints GitHub workflow annotations when it is true",
        ".SH SEE ALSO",
        "kdumpctl(8), kdump\\-config(8), makedumpfile(8), kexec(8); the documentation in docs/ of the source tree.",
    ]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Build the crashplan(1) man page from the click commands.")
    ap.add_argument("-o", "--output", metavar="FILE", help="write here (atomically) instead of stdout")
    ap.add_argument("--date", help="the date in the page footer (default: today); fixed for reproducible builds")
    args = ap.parse_args(argv)
    text = build(args.date or os.environ.get("SOURCE_DATE_EPOCH") and datetime.datetime.fromtimestamp(
        int(os.environ["SOURCE_DATE_EPOCH"]), datetime.timezone.utc).date().isoformat())
    if not args.output:
        sys.stdout.write(text)
        return 0
    d = os.path.dirname(os.path.abspath(args.output))
    fd, tmp = tempfile.mkstemp(prefix=".crashplan.1.", dir=d)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
