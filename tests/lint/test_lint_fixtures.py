"""crashplan lint on real boot-loader files (tests/data/lint, see PROVENANCE.md): every finding, exactly.

The profile is the documented default (Linux 6.1, 6.12, 6.17, 7.2 on x86_64 with 2G, 4G, 16G, 64G RAM).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import DATA as TEST_DATA
from conftest import ROOT
from crashplan.cli import main
from crashplan.cli.lint_cmd import read_sources
from crashplan.lint.engine import lint

DATA = TEST_DATA / "lint"

EXPECTED = {
    "arch-default": [("CK116", "etc/default/grub", 7, 1)],
    "arch-systemd-boot": [("CK116", "boot/loader/entries/arch.conf", 4, 1)],
    "centos8-kickstart": [("CK116", "CentOS-8-x86_64-hvm.ks", 29, 1)],
    "debian-kdump": [
        ("CK116", "etc/default/grub", 10, 1),  # the recovery entries: GRUB_CMDLINE_LINUX only
        ("CK406", "etc/default/grub.d/kdump-tools.cfg", 1, 57),  # crashkernel= only in ..._DEFAULT
    ],
    "fedora-default": [("CK116", "etc/default/grub", 6, 1)],
    "fedora15": [("CK116", "boot/grub2/grub.cfg", 47, 2), ("CK116", "boot/grub2/grub.cfg", 59, 2)],
    "fedora19-bls": [("CK116", "boot/loader/entries/6a9857a393724b7a981ebb5b8495b9ea-3.8.0-2.fc19.x86_64.conf", 7, 1)],
    "nord-s390": [("CK116", "etc/zipl.conf", 18, 5)],
    "proxmox-kernel-cmdline": [("CK116", "etc/kernel/cmdline", 1, 1)],
    "redhat72": [("CK116", "boot/grub/menu.lst", 15, 2)],
    "rhel5": [("CK213", "boot/grub/grub.conf", 17, 57), ("CK213", "boot/grub/grub.conf", 22, 58)],
    "rhel6-proc": [],
    "rhel7-efi": [("CK116", "boot/efi/EFI/redhat/grub.cfg", 14, 5), ("CK116", "boot/efi/EFI/redhat/grub.cfg", 28, 5)],
    "rhel7-grub2": [
        ("CK106", "boot/grub2/grub.cfg", 3, 94),
        ("CK106", "boot/grub2/grub.cfg", 7, 99),
        ("CK106", "boot/grub2/grub.cfg", 11, 114),
        ("CK106", "boot/grub2/grub.cfg", 15, 134),
    ],
    "rhel7-proc": [("CK106", "proc/cmdline", 1, 101)],
    "rhel7-s390x": [
        ("CK106", "etc/zipl.conf", 10, 49),
        ("CK106", "etc/zipl.conf", 14, 49),
        ("CK002", "etc/zipl.conf", 18, 16),  # [other]: parameters="… never closed
        ("CK106", "etc/zipl.conf", 18, 49),
    ],
    "rhel8-bls": [("CK106", "boot/loader/entries/rhel-20190428101407-4.18.0-80.1.2.el8_0.x86_64.conf", 5, 49)],
    # the entry says `options $kernelopts`: the finding points into grubenv, where the value is written
    "rhel8-kernelopts": [("CK106", "boot/grub2/grubenv", 3, 48)],
    "rhel8-no-grubenv": [
        ("CK116", "boot/loader/entries/295e1ba1696e4fad9e062f096f92d147-4.18.0-305.el8.x86_64.conf", 5, 1),
        ("CK004", "boot/loader/entries/295e1ba1696e4fad9e062f096f92d147-4.18.0-305.el8.x86_64.conf", 5, 9),
    ],
}

KINDS = {
    "arch-default": {"etc/default/grub": "grub-default"},
    "centos8-kickstart": {"CentOS-8-x86_64-hvm.ks": "kickstart"},
    "rhel8-kernelopts": {"boot/grub2/grubenv": "grubenv",
                         "boot/loader/entries/295e1ba1696e4fad9e062f096f92d147-4.18.0-305.el8.x86_64.conf": "bls"},
    "rhel7-s390x": {"etc/zipl.conf": "zipl"},
    "redhat72": {"boot/grub/menu.lst": "grub-legacy"},
    "rhel6-proc": {"proc/cmdline": "cmdline"},
    "proxmox-kernel-cmdline": {"etc/kernel/cmdline": "kernel-cmdline"},
    "rhel7-efi": {"boot/efi/EFI/redhat/grub.cfg": "grub-cfg"},
    "debian-kdump": {"etc/default/grub": "grub-default", "etc/default/grub.d/kdump-tools.cfg": "grub-default"},
}


def test_every_fixture_directory_has_expectations() -> None:
    cases = sorted(p.name for p in DATA.iterdir() if p.is_dir() and p.name != "schema")
    assert cases == sorted(EXPECTED)


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_fixture_findings(case: str) -> None:
    base = DATA / case
    report = lint(read_sources([str(base)]))
    got = [(f.code, os.path.relpath(f.location.path, base), f.location.line, f.location.column) for f in report.findings]
    assert got == EXPECTED[case]


@pytest.mark.parametrize("case", sorted(KINDS))
def test_fixture_kinds(case: str) -> None:
    base = DATA / case
    report = lint(read_sources([str(base)]))
    kinds = {os.path.relpath(s.path, base): s.kind for s in report.files}
    assert kinds == KINDS[case]


def test_kernelopts_expansion_from_grubenv() -> None:
    """$kernelopts and $tuned_params come from the real RHEL 8 grubenv; BOOT_IMAGE from the linux key."""
    from crashplan.lint.config import LintConfig
    from crashplan.lint.engine import LintRun, default_targets

    files = read_sources([str(DATA / "rhel8-kernelopts")])
    run = LintRun(files, default_targets(LintConfig()), LintConfig())
    run.run()
    (cl,) = [c for c in run.defs.values() if c.kind == "bls"]
    assert cl.text.text == (
        "BOOT_IMAGE=/vmlinuz-4.18.0-305.el8.x86_64 root=/dev/mapper/root_vg-lv_root ro crashkernel=auto "
        "resume=/dev/mapper/root_vg-lv_swap rd.lvm.lv=root_vg/lv_root rd.lvm.lv=root_vg/lv_swap console=tty0 "
        "console=ttyS0,115200 transparent_hugepages=never"
    )


def test_whole_tree_json_output_is_stable_and_never_crashes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "--format", "json", str(DATA)]) == 1
    first = capsys.readouterr().out
    assert main(["lint", "--format", "json", str(DATA)]) == 1
    assert capsys.readouterr().out == first
    doc = json.loads(first)
    assert doc["schema"] == "crashplan/lint@1"
    assert doc["summary"]["files"] == 21
    assert sum(len(v) for v in EXPECTED.values()) == len(doc["findings"])


def test_linting_every_fixture_in_the_repository_prints_no_traceback() -> None:
    """Every file under tests/ (and the repository's examples/) through the CLI, named explicitly."""
    paths = [str(p) for p in sorted((ROOT / "tests").rglob("*")) if p.is_file() and "__pycache__" not in p.parts]
    paths += [str(p) for p in sorted((ROOT / "examples").rglob("*")) if p.is_file()]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for chunk in range(0, len(paths), 400):
        r = subprocess.run([sys.executable, "-m", "crashplan", "lint", "--format", "json", *paths[chunk:chunk + 400]],
                           capture_output=True, text=True, env=env, cwd=ROOT)
        assert "Traceback" not in r.stderr
        assert "internal error" not in r.stderr
        # 2: a binary file named explicitly cannot be read as text; each one is named on stderr
        assert r.returncode in (0, 1, 2), r.stderr
        assert all(": cannot read the file: " in line for line in r.stderr.splitlines()), r.stderr
        assert (r.returncode == 2) == bool(r.stderr)
        json.loads(r.stdout)
