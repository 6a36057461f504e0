"""The source readers: shell and GRUB quoting, expansion, and positions mapped back to the file."""

from __future__ import annotations

import pytest

from crashplan.lint.engine import lint
from crashplan.lint.located import SYNTH, LineIndex, unpack
from crashplan.lint.sources import SourceFile, detect, group_root
from crashplan.lint.sources._grubscript import loader_cmdline, tokenize, expand_args
from crashplan.lint.located import Located
from crashplan.lint.sources import parsers as P


def _pos(text: str, origin: int) -> tuple[int, int]:
    assert origin != SYNTH
    return LineIndex(text).position(unpack(origin)[1])


# ------------------------------------------------------------------------------------------------
# /etc/default/grub: sh semantics


def test_shell_quotes_escapes_and_append() -> None:
    text = (
        "# comment\n"
        "GRUB_CMDLINE_LINUX_DEFAULT='quiet'\n"
        'GRUB_CMDLINE_LINUX="root=/dev/sda1 \\"x\\" a\\\\b $HOME"\n'
        'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX crashkernel=256M" # trailing comment\n'
        "export GRUB_DISABLE_RECOVERY=true\n"
    )
    p = P.parse_grub_default([(0, text)])
    (normal,) = p.cmdlines  # recovery entries are disabled
    # GRUB reads the value again: "x" are GRUB quotes, and the shell's a\b is GRUB's escaped b
    assert normal.text.text == "root=/dev/sda1 x ab crashkernel=256M quiet"
    i = normal.text.text.index("crashkernel=")
    assert _pos(text, normal.text.origins[i]) == (4, 41)
    assert _pos(text, normal.text.origins[0]) == (3, 21)  # root= in the first assignment
    assert {pr.code for pr in p.problems} == {"CK004"}  # $HOME is not set in the file


def test_shell_defaults_and_command_substitution() -> None:
    text = ('A=${UNSET:-crashkernel=128M}\n'
            'GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`\n'
            'GRUB_CMDLINE_LINUX="$A $(echo x) ${A}"\nGRUB_DISABLE_RECOVERY="true"\n')
    p = P.parse_grub_default([(0, text)])
    assert [c.text.text for c in p.cmdlines] == ["crashkernel=128M crashkernel=128M"]
    assert [(pr.code, _pos(text, pr.origin)) for pr in p.problems] == [("CK004", (3, 1))]


def test_line_continuation_and_unterminated_quote() -> None:
    text = 'GRUB_CMDLINE_LINUX="quiet \\\ncrashkernel=256M"\nGRUB_CMDLINE_LINUX_DEFAULT="oops\n'
    p = P.parse_grub_default([(0, text)])
    assert p.cmdlines[0].text.text.startswith("quiet crashkernel=256M")
    assert [(pr.code, _pos(text, pr.origin)) for pr in p.problems] == [("CK002", (3, 28))]


def test_grub_d_files_override_in_order_and_point_at_their_file() -> None:
    files = [
        SourceFile("r/etc/default/grub.d/50-kdump.cfg", 'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX crashkernel=0256M"\n'),
        SourceFile("r/etc/default/grub", 'GRUB_CMDLINE_LINUX="quiet"\nGRUB_DISABLE_RECOVERY=true\n'),
    ]
    rep = lint(files)
    assert [(f.code, f.location.path, f.location.line, f.location.column) for f in rep.findings] == [
        ("CK202", "r/etc/default/grub.d/50-kdump.cfg", 1, 53),
    ]


def test_newline_in_value_cuts_the_linux_line() -> None:
    text = 'GRUB_CMDLINE_LINUX="quiet\ncrashkernel=256M"\nGRUB_DISABLE_RECOVERY=true\n'
    rep = lint([SourceFile("etc/default/grub", text)])
    assert [(f.code, f.location.line, f.location.column) for f in rep.findings] == [
        ("CK116", 1, 1),  # what reaches the kernel: only "quiet"
        ("CK407", 1, 26),
    ]


# ------------------------------------------------------------------------------------------------
# GRUB script and the loader's command line


def test_grub_loader_cmdline_quotes_and_escapes() -> None:
    line = "linux /vmlinuz 'a b' x\\\"y \"c=$v\" $w"
    src = Located.span(0, line, 0, len(line))
    cmd = tokenize(src).commands[0]
    env = {"v": Located.synthetic("1 2"), "w": Located.synthetic("p  q")}
    argv = expand_args(cmd.words[1:], env.get)
    assert [a.text for a in argv] == ["/vmlinuz", "a b", 'x"y', "c=1 2", "p", "q"]
    assert loader_cmdline(argv[1:], boot_image=argv[0]).text == 'BOOT_IMAGE=/vmlinuz "a b" x\\"y "c=1 2" p q'


def test_grub_cfg_conditions_functions_and_kernelopts_fallback() -> None:
    text = (
        "if [ -s $prefix/grubenv ]; then\n  load_env\nfi\n"
        "function load_video {\n  linux /never\n}\n"
        'if [ -z "${kernelopts}" ]; then\n  set kernelopts="root=/dev/x ro crashkernel=512M"\nfi\n'
        "menuentry 'F (6.8)' {\n\tlinux /vmlinuz-6.8 $kernelopts\n}\n"
    )
    p = P.parse_grub_cfg(0, text, None)
    assert [c.text.text for c in p.cmdlines] == ["BOOT_IMAGE=/vmlinuz-6.8 root=/dev/x ro crashkernel=512M"]
    env = {"kernelopts": Located.synthetic("crashkernel=1G")}
    p = P.parse_grub_cfg(0, text, env)
    assert [c.text.text for c in p.cmdlines] == ["BOOT_IMAGE=/vmlinuz-6.8 crashkernel=1G"]


def test_bls_systemd_boot_is_literal_and_grub_flavour_expands() -> None:
    sd = "title A\nlinux /vmlinuz\noptions root=/dev/sda1\noptions  crashkernel=256M\n"
    (c,) = P.parse_bls(0, "loader/entries/a.conf", sd, None, have_env=False).cmdlines
    assert c.text.text == "root=/dev/sda1 crashkernel=256M"
    g = "title A\nlinux /vmlinuz\noptions $kernelopts 'a b'\ngrub_users $grub_users\n"
    p = P.parse_bls(0, "loader/entries/a.conf", g, {"kernelopts": Located.synthetic("crashkernel=1G")}, have_env=True)
    assert p.cmdlines[0].text.text == 'BOOT_IMAGE=/vmlinuz crashkernel=1G "a b"'


def test_grubenv_escapes() -> None:
    text = "# GRUB Environment Block\nkernelopts=a\\\\b c\\nd\n####\n"
    p = P.parse_grubenv(0, text)
    assert p.env["kernelopts"].text == "a\\b c\nd"


def test_kernel_cmdline_whitespace_runs_become_one_space() -> None:
    text = "root=/dev/sda1\tquiet\n\ncrashkernel=256M  \n"
    (c,) = P.parse_kernel_cmdline(0, text).cmdlines
    assert c.text.text == "root=/dev/sda1 quiet crashkernel=256M"
    assert _pos(text, c.text.origins[c.text.text.index("crash")]) == (3, 1)


def test_raw_cmdline_keeps_tabs_for_the_kernel() -> None:
    rep = lint([SourceFile("-", "quiet crashkernel=256M\tnosmt\n", kind="cmdline")])
    assert [(f.code, f.location.line, f.location.column) for f in rep.findings] == [("CK105", 1, 23)]


def test_legacy_and_zipl_and_kickstart() -> None:
    legacy = "title Linux (recovery mode)\n\tkernel --no-mem-option /vmlinuz ro single\ntitle Linux\n\tkernel /vmlinuz ro crashkernel=256M\n"
    cls = P.parse_legacy(0, legacy).cmdlines
    assert [(c.role, c.text.text) for c in cls] == [("recovery", "ro single"), ("normal", "ro crashkernel=256M")]
    zipl = "[defaultboot]\ndefault=linux\n[linux]\n parameters = 'root=/dev/dasda crashkernel=196M'\n"
    (z,) = P.parse_zipl(0, zipl).cmdlines
    assert (z.text.text, z.text.ctx[0]) == ("root=/dev/dasda crashkernel=196M", "s")
    ks = 'bootloader --location=mbr --append="crashkernel=auto rhgb"\nbootloader --append crashkernel=1G\n'
    assert [c.text.text for c in P.parse_kickstart(0, ks).cmdlines] == ["crashkernel=auto rhgb", "crashkernel=1G"]


@pytest.mark.parametrize(("path", "text", "kind"), [
    ("etc/default/grub", "", "grub-default"),
    ("x/etc/default/grub.d/kdump-tools.cfg", "", "grub-default"),
    ("boot/grub2/grub.cfg", "", "grub-cfg"),
    ("boot/grub/menu.lst", "", "grub-legacy"),
    ("boot/grub/grub.conf", "", "grub-legacy"),
    ("boot/loader/entries/x.conf", "", "bls"),
    ("boot/grub2/grubenv", "", "grubenv"),
    ("etc/kernel/cmdline", "", "kernel-cmdline"),
    ("proc/cmdline", "", "cmdline"),
    ("etc/zipl.conf", "", "zipl"),
    ("efi/loader/loader.conf", "timeout 3\n", None),
    ("anything.txt", 'GRUB_CMDLINE_LINUX="x"\n', "grub-default"),
    ("anything.cfg", "set timeout=5\nmenuentry 'x' {\n linux /v\n}\n", "grub-cfg"),
    ("a.ks", "bootloader --append=\"x\"\n", "kickstart"),
    ("captured", "BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro\n", "cmdline"),
    ("README.md", "# hello\n\nworld\n", None),
])
def test_detect(path: str, text: str, kind: str | None) -> None:
    assert detect(path, text) == kind


@pytest.mark.parametrize(("path", "root"), [
    ("srv/etc/default/grub", "srv"),
    ("/boot/grub2/grub.cfg", "/"),
    ("boot/loader/entries/a.conf", ""),
    ("fixtures/grub.cfg", None),
])
def test_group_root(path: str, root: str | None) -> None:
    assert group_root(path) == root
