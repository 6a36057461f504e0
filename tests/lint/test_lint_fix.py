"""`crashplan lint --fix` / `--diff`: byte-exact edits, kept modes, atomic replacement that survives SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import DATA, ROOT
from crashplan.cli import main
from crashplan.lint.config import LintConfig
from crashplan.lint.fix import fix_files
from crashplan.lint.sources import SourceFile

PROFILE = ["--isolated", "--kernel", "6.17", "--kernel", "7.2", "--ram", "16G"]

GRUB = (
    "# If you change this file, run 'update-grub' afterwards\n"
    "GRUB_DEFAULT=0\n"
    "GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`\n"
    'GRUB_CMDLINE_LINUX_DEFAULT="quiet splash"\n'
    "GRUB_CMDLINE_LINUX='root=/dev/sda1 crashkernel=256M,cma=1G'   # reserved for kdump\n"
    '#GRUB_DISABLE_RECOVERY="true"\n'
)
GRUB_FIXED = GRUB.replace("crashkernel=256M,cma=1G'", "crashkernel=256M crashkernel=1G,cma'")


def _grub(tmp_path: Path, text: str = GRUB, mode: int = 0o640) -> Path:
    f = tmp_path / "etc" / "default" / "grub"
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_bytes(text.encode())
    f.chmod(mode)
    return f


def test_fix_edits_only_the_token_and_keeps_the_mode(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    f = _grub(tmp_path)
    rc = main(["lint", *PROFILE, "--fix", "--format", "json", str(tmp_path)])
    doc = json.loads(capsys.readouterr().out)
    assert f.read_bytes() == GRUB_FIXED.encode()
    assert stat.S_IMODE(f.stat().st_mode) == 0o640
    assert doc["summary"]["fixed"] == 1
    assert [x["code"] for x in doc["findings"]] == ["CK210"]  # the CMA caveats remain (info)
    assert rc == 0
    assert sorted(p.name for p in f.parent.iterdir()) == ["grub"]  # no temporary file left


def test_diff_prints_and_writes_nothing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    f = _grub(tmp_path)
    rc = main(["lint", *PROFILE, "--diff", str(f)])
    out = capsys.readouterr().out
    assert rc == 1
    assert f.read_bytes() == GRUB.encode()
    assert out == (
        f"--- a/{f}\n+++ b/{f}\n@@ -2,5 +2,5 @@\n"
        " GRUB_DEFAULT=0\n"
        " GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`\n"
        ' GRUB_CMDLINE_LINUX_DEFAULT="quiet splash"\n'
        "-GRUB_CMDLINE_LINUX='root=/dev/sda1 crashkernel=256M,cma=1G'   # reserved for kdump\n"
        "+GRUB_CMDLINE_LINUX='root=/dev/sda1 crashkernel=256M crashkernel=1G,cma'   # reserved for kdump\n"
        ' #GRUB_DISABLE_RECOVERY="true"\n'
    )
    assert main(["lint", *PROFILE, "--diff", str(tmp_path / "etc" / "default")]) == 1
    capsys.readouterr()
    f.write_bytes(GRUB_FIXED.encode())
    assert main(["lint", *PROFILE, "--diff", str(f)]) == 0
    assert capsys.readouterr().out == ""


def test_fix_keeps_a_symlink(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    real = tmp_path / "boot" / "grub2" / "grub.cfg"
    real.parent.mkdir(parents=True)
    real.write_text("menuentry 'L' {\n\tlinux /vmlinuz ro \"crashkernel=128M\" crashkernel=256M\n}\n", encoding="utf-8")
    link = tmp_path / "etc" / "grub2.cfg"
    link.parent.mkdir()
    link.symlink_to(real)
    main(["lint", *PROFILE, "--fix", "--format", "json", str(link)])
    capsys.readouterr()
    assert link.is_symlink()
    # GRUB drops the quotes, so the first token is a plain duplicate: removed with its blank
    assert real.read_text(encoding="utf-8") == "menuentry 'L' {\n\tlinux /vmlinuz ro crashkernel=256M\n}\n"


def test_fixes_in_bls_kernel_cmdline_and_zipl(tmp_path: Path) -> None:
    files = [
        SourceFile("a/boot/loader/entries/x.conf", "title X\nlinux /vmlinuz\noptions root=/dev/sda1 crashkernel=0x1E crashkernel=256M,cma=1G\n"),
        SourceFile("b/etc/kernel/cmdline", "root=/dev/sda1\ncrashkernel=128M  crashkernel=256M\n"),
        SourceFile("c/etc/zipl.conf", '[linux]\nparameters="root=/dev/dasda crashkernel=196M crashkernel=256M"\n'),
    ]
    res = fix_files(files, config=LintConfig(kernels=("6.17", "7.2"), rams=("16G",)))
    assert res.texts == {
        "a/boot/loader/entries/x.conf": "title X\nlinux /vmlinuz\noptions root=/dev/sda1 crashkernel=256M crashkernel=1G,cma\n",
        "b/etc/kernel/cmdline": "root=/dev/sda1\ncrashkernel=256M\n",
        "c/etc/zipl.conf": '[linux]\nparameters="root=/dev/dasda crashkernel=256M"\n',
    }
    assert res.applied == 4  # CK102 and CK201 in the BLS entry, CK201 in the others


def test_no_fix_when_the_text_comes_from_a_variable_used_twice(tmp_path: Path) -> None:
    text = ('K="crashkernel=128M"\nGRUB_CMDLINE_LINUX="$K crashkernel=256M"\n'
            'GRUB_CMDLINE_LINUX_DEFAULT="$K"\nGRUB_DISABLE_RECOVERY=true\n')
    res = fix_files([SourceFile("etc/default/grub", text)], config=LintConfig(kernels=("7.2",), rams=("16G",)))
    # the normal entries read crashkernel=128M crashkernel=256M crashkernel=128M: removing the first would
    # edit K, which the last one uses too
    assert res.texts == {} or "crashkernel=256M" in res.texts["etc/default/grub"]


def test_no_fix_that_breaks_the_recovery_entries(tmp_path: Path) -> None:
    text = 'GRUB_CMDLINE_LINUX="crashkernel=256M"\nGRUB_CMDLINE_LINUX_DEFAULT="crashkernel=512M"\n'
    res = fix_files([SourceFile("etc/default/grub", text)], config=LintConfig(kernels=("7.2",), rams=("16G",)))
    # removing the ignored crashkernel=256M from GRUB_CMDLINE_LINUX would leave recovery entries without any
    assert res.texts == {}
    assert [f.code for f in res.report.findings] == ["CK201"]


def test_fix_survives_sigkill_before_the_rename(tmp_path: Path) -> None:
    f = _grub(tmp_path)
    signal_file = tmp_path / "paused"
    env = dict(os.environ, PYTHONPATH=str(ROOT), CRASHPLAN_FIX_PAUSE_BEFORE_REPLACE=str(signal_file))
    err = (tmp_path / "stderr").open("w", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "crashplan", "lint", *PROFILE, "--fix", str(f)], env=env,
                            stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 60
        while not signal_file.exists() or not signal_file.read_text(encoding="utf-8").endswith("\n"):
            assert proc.poll() is None, (tmp_path / "stderr").read_text(encoding="utf-8")
            assert time.monotonic() < deadline
            time.sleep(0.02)
        tmp = Path(signal_file.read_text(encoding="utf-8").strip())
        assert tmp.parent == f.parent
        assert tmp.read_bytes() == GRUB_FIXED.encode()  # the new file is complete and synced, not yet renamed
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        err.close()
    assert proc.returncode == -signal.SIGKILL
    assert f.read_bytes() == GRUB.encode()  # the old file, intact
    assert stat.S_IMODE(f.stat().st_mode) == 0o640
    # a later run completes the fix (the leftover temporary file is not a boot-loader file)
    r = subprocess.run([sys.executable, "-m", "crashplan", "lint", *PROFILE, "--fix", str(f)],
                       env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert f.read_bytes() == GRUB_FIXED.encode()


def test_grubenv_keeps_its_block_size() -> None:
    env = "# GRUB Environment Block\nkernelopts=root=/dev/sda1 crashkernel=256M,cma=1G\n"
    env += "#" * (1024 - len(env))
    files = [SourceFile("boot/grub2/grubenv", env),
             SourceFile("boot/loader/entries/a.conf", "title A\nlinux /vmlinuz\noptions $kernelopts\n")]
    res = fix_files(files, config=LintConfig(kernels=("6.17",), rams=("16G",)))
    new = res.texts["boot/grub2/grubenv"]
    assert new.startswith("# GRUB Environment Block\nkernelopts=root=/dev/sda1 crashkernel=256M crashkernel=1G,cma\n###")
    assert len(new) == 1024
    tight = "# GRUB Environment Block\nkernelopts=root=/dev/sda1 crashkernel=256M,cma=1G\n"  # no padding left
    res = fix_files([SourceFile("boot/grub2/grubenv", tight)], config=LintConfig(kernels=("6.17",), rams=("16G",)))
    assert res.texts == {}
    assert [f.code for f in res.report.findings] == ["CK102"]


def test_a_fix_that_cannot_be_made_is_not_announced(run_cli, tmp_path) -> None:
    # removing crashkernel=256M from GRUB_CMDLINE_LINUX would leave the recovery entries without one:
    # --fix refuses, so the plain run must not mark CK201 as fixable either
    p = tmp_path / "etc" / "default" / "grub"
    p.parent.mkdir(parents=True)
    text = 'GRUB_CMDLINE_LINUX="crashkernel=256M"\nGRUB_CMDLINE_LINUX_DEFAULT="quiet crashkernel=512M"\n'
    p.write_text(text, encoding="utf-8")
    rc, out, _ = run_cli("lint", "--isolated", "--format", "json", str(p))
    (f,) = [f for f in json.loads(out)["findings"] if f["code"] == "CK201"]
    assert f["fix"] is None
    rc, out, _ = run_cli("lint", "--isolated", "--format", "text", str(p))
    assert "CK201" in out and "[*]" not in out and "--fix" not in out
    run_cli("lint", "--isolated", "--fix", str(p))
    assert p.read_text(encoding="utf-8") == text


@pytest.mark.parametrize("case", sorted(p.name for p in (DATA / "lint").iterdir()
                                        if p.is_dir() and p.name != "schema"))
def test_every_announced_fix_is_made(run_cli, tmp_path, case) -> None:
    import shutil

    src = DATA / "lint" / case
    dst = tmp_path / case
    shutil.copytree(src, dst)
    rc, out, _ = run_cli("lint", "--isolated", "--fix", "--format", "json", str(dst))
    # after --fix, nothing is still announced as fixable: every announced fix was made
    assert all(f["fix"] is None for f in json.loads(out)["findings"]), case


def test_fix_joins_crashkernel_and_its_value_across_the_file_s_blank(run_cli, tmp_path) -> None:
    p = tmp_path / "etc" / "default" / "grub"
    p.parent.mkdir(parents=True)
    p.write_text('GRUB_CMDLINE_LINUX="quiet crashkernel  256M"\n# crashkenel=1G in a comment stays\n',
                 encoding="utf-8")
    rc, out, _ = run_cli("lint", "--isolated", "--fix", str(p))
    assert rc == 0, out
    assert p.read_text(encoding="utf-8") == ('GRUB_CMDLINE_LINUX="quiet crashkernel=256M"\n'
                                              "# crashkenel=1G in a comment stays\n")
