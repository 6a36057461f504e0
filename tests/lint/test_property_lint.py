"""Properties of the boot-loader readers and the lint engine (hypothesis, bounded budget; normal run).

The readers never raise: a file they cannot make sense of is a finding, so one bad file never hides
the others.  Every finding points inside the file it names, the report is sorted, and ``--fix``
reaches a fixed point (a second pass finds nothing more to fix).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import DATA
from crashplan.diagnose import Target
from crashplan.lint.engine import lint
from crashplan.lint.fix import fix_files
from crashplan.lint.sources import SourceFile

pytestmark = pytest.mark.property

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LINT_DATA = DATA / "lint"
REAL = [(str(p.relative_to(LINT_DATA)), p.read_bytes().decode("utf-8", "surrogateescape"))
        for p in sorted(LINT_DATA.rglob("*")) if p.is_file() and p.parent.name != "schema" and p.suffix != ".md"]
TARGETS = [Target("6.12", "x86_64", 16 << 30), Target("7.2", "arm64", 4 << 30)]

VALUE = st.sampled_from(["256M", "1G-4G:192M,4G-64G:256M,64G-:512M", "512M,high", "128M,low", "1G,cma", "0100M",
                         "256MB", "auto", "256M@16M", "18446744073709551616", "1G-2G:", "", "\udcff", "1.5G",
                         "256M,HIGH", "2G-:256M@0x", "0x10000000"])
OTHER = st.sampled_from(["ro", "quiet", "rhgb", "root=/dev/sda1", "$kernelopts", "${kernelopts}", "$tuned_params",
                         "console=ttyS0,115200", "fadump=on", "--", "rd.kdump.crashkernel=1G", "nokaslr", "'", '"',
                         "\\", "$(echo x)", "`x`", "#", ";", "crashkernel"])
ARGS = st.lists(st.one_of(VALUE.map("crashkernel=".__add__), OTHER), max_size=6).map(" ".join)
QUOTE = st.sampled_from(['"{}"', "'{}'", "{}", '"{}', '"${{GRUB_CMDLINE_LINUX}} {}"', '"$(echo {})"'])


def _file(kind: str, args: str, args2: str, q: str) -> tuple[str, str]:
    quoted = q.format(args)
    return {
        "grub-default": ("etc/default/grub", f"GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX={quoted}\n"
                         f"GRUB_CMDLINE_LINUX_DEFAULT=\"{args2}\"\n# crashplan: disable=CK201\n"),
        "grub-cfg": ("boot/grub2/grub.cfg", f"set kernelopts=\"{args2}\"\nload_env\nmenuentry 'Linux' {{\n"
                     f"\tlinux /vmlinuz {args}\n\tinitrd /initrd\n}}\nmenuentry 'Linux (rescue)' {{\n"
                     f"\tlinux /vmlinuz $kernelopts\n}}\nblscfg\n"),
        "bls": ("boot/loader/entries/a-6.12.0.conf", f"title Linux\nversion 6.12.0\nlinux /vmlinuz\noptions {args}\n"),
        "grubenv": ("boot/grub2/grubenv", ("# GRUB Environment Block\nkernelopts=" + args + "\n").ljust(1024, "#")),
        "grub-legacy": ("boot/grub/menu.lst", f"default=0\ntitle Linux\n\troot (hd0,0)\n\tkernel /vmlinuz {args}\n"),
        "zipl": ("etc/zipl.conf", f"[defaultboot]\ndefault=linux\n[linux]\n\tparameters={quoted}\n"),
        "kickstart": ("ks.cfg", f"lang en_US\nbootloader --location=mbr --append={quoted}\n"),
        "kernel-cmdline": ("etc/kernel/cmdline", args + "\n"),
        "cmdline": ("proc/cmdline", args + "\n"),
    }[kind]


KIND = st.sampled_from(["grub-default", "grub-cfg", "bls", "grubenv", "grub-legacy", "zipl", "kickstart",
                        "kernel-cmdline", "cmdline"])
GENERATED = st.builds(_file, KIND, ARGS, ARGS, QUOTE)
PIECES = st.sampled_from(["\udcff", "\x00", "\n", "\r", "\t", '"', "'", "\\", "$", "{", "}", "#", ";", " ",
                          "crashkernel=", "menuentry x {", "}", "fi", "if [ x ]; then", "\ufeff", "\\\n"])


def _mutate(f: tuple[str, str], edits: list[tuple[int, str]]) -> tuple[str, str]:
    path, text = f
    for pos, piece in edits:
        i = pos % (len(text) + 1)
        text = text[:i] + piece + text[i:]
    return path, text


FILE = st.one_of(GENERATED, st.sampled_from(REAL),
                 st.tuples(st.one_of(GENERATED, st.sampled_from(REAL)),
                           st.lists(st.tuples(st.integers(0, 1 << 16), PIECES), min_size=1, max_size=4))
                 .map(lambda t: _mutate(*t)),
                 st.tuples(KIND.map(lambda k: _file(k, "", "", "{}")[0]),
                           st.binary(max_size=200).map(lambda b: b.decode("utf-8", "surrogateescape"))))
ROOT = st.sampled_from(["", "host1/", "/srv/img/"])
FILES = st.tuples(ROOT, st.lists(FILE, min_size=1, max_size=4)).map(
    lambda t: [(t[0] + path, text) for path, text in t[1]])
# one text per path, as on a disk: a fix writes a path once, so two sources of one path cannot both be fixed
TREES = st.tuples(ROOT, st.lists(FILE, min_size=1, max_size=4, unique_by=lambda f: f[0])).map(
    lambda t: [(t[0] + path, text) for path, text in t[1]])


def check_report(files: list[tuple[str, str]], report) -> None:  # type: ignore[no-untyped-def]
    lines: dict[str, int] = {}
    for path, text in files:
        lines[path] = max(lines.get(path, 0), text.count("\n") + 1)
    for f in report.findings:
        loc = f.location
        assert f.severity in ("error", "warning", "info")
        assert f.code.startswith("CK") and f.message
        assert loc.line >= 1 and loc.column >= 1, (f.code, loc)
        assert (loc.end_line, loc.end_column) >= (loc.line, loc.column), (f.code, loc)
        if loc.path in lines:
            assert loc.line <= lines[loc.path] + 1, (f.code, loc, lines[loc.path])
    keys = [f.sort_key() for f in report.findings]
    assert keys == sorted(keys)


@SETTINGS
@given(FILES)
@example([("etc/default/grub", 'GRUB_CMDLINE_LINUX="quiet crashkernel=0100\udcb9"\n')])
@example([("boot/grub2/grub.cfg", "menuentry 'x' {\n" * 300 + "linux /v crashkernel=1G\n")])
def test_lint_never_raises_and_points_inside_the_files(files):
    sources = [SourceFile(path, text, explicit=True) for path, text in files]
    report = lint(sources, targets=TARGETS)
    check_report(files, report)
    assert lint(sources, targets=TARGETS).findings == report.findings


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TREES)
def test_fix_reaches_a_fixed_point(files):
    sources = [SourceFile(path, text, explicit=True) for path, text in files]
    first = fix_files(sources, targets=TARGETS)
    check_report(files, first.report)
    assert set(first.texts) <= {path for path, _ in files}
    fixed = [SourceFile(s.path, first.texts.get(s.path, s.text), explicit=True) for s in sources]
    second = fix_files(fixed, targets=TARGETS)
    assert second.applied == 0 and second.texts == {}


def test_an_unreadable_file_is_a_finding_not_an_exception():
    report = lint([SourceFile("etc/default/grub", None, "Permission denied", explicit=True),
                   SourceFile("etc/kernel/cmdline", "crashkernel=256M\n", explicit=True)], targets=TARGETS)
    assert {f.location.path for f in report.findings} >= {"etc/default/grub"}


@pytest.mark.parametrize("path", ["/", "", "."])
def test_a_path_without_a_file_name_is_linted(path):
    """Found by fuzzing: two /etc/default/grub-like files, one named "/", raised IndexError."""
    text = 'GRUB_CMDLINE_LINUX="quiet crashkernel=256M"\n'
    report = lint([SourceFile(path, text, explicit=True), SourceFile("etc/default/grub", text, explicit=True)],
                  targets=TARGETS)
    check_report([(path, text), ("etc/default/grub", text)], report)
