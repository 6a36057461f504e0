"""``crashplan snapshot`` end to end, against the fake host trees and saved sources."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DATA, ROOT
from crashplan.cli.probe import probe_host
from crashplan.memmap.machine import dump_machine, load_machine

HOSTS = DATA / "machines" / "hosts"


def test_snapshot_to_stdout(run_cli) -> None:  # type: ignore[no-untyped-def]
    rc, out, err = run_cli("snapshot", "--root", str(HOSTS / "x86_64-root"))
    assert (rc, err) == (0, "")
    assert out == dump_machine(probe_host(HOSTS / "x86_64-root"))
    m = load_machine(out, source="out")
    assert m.kexec_crash_size == 1 << 30
    assert [(s.start, s.end, s.name) for s in m.memmap.crash] == [
        (0x9C000000, 0xDC000000, "Crash kernel"), (0x100000000, 0x140000000, "crashkernel CMA")]
    assert "  kexec_crash_size: 1G\n" in out
    assert "  crash_cma_ranges:\n    - {start: 0x100000000, end: 0x140000000, name: \"crashkernel CMA\"}\n" in out


def test_snapshot_to_a_file_atomically(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "db01.yaml"
    target.write_text("old\n")
    target.chmod(0o600)
    rc, out, err = run_cli("snapshot", "--root", str(HOSTS / "arm64-root"), "-o", str(target))
    assert (rc, out, err) == (0, "", "")
    assert target.read_text() == dump_machine(probe_host(HOSTS / "arm64-root"))
    assert target.stat().st_mode & 0o777 == 0o600  # the mode of the replaced file is kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db01.yaml"]  # no temporary left behind


def test_new_file_gets_the_umask_mode(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    old = os.umask(0o027)
    try:
        rc, _, _ = run_cli("snapshot", "--root", str(HOSTS / "arm64-root"), "-o", str(tmp_path / "new.yaml"))
    finally:
        os.umask(old)
    assert rc == 0 and (tmp_path / "new.yaml").stat().st_mode & 0o777 == 0o640


def test_not_root_writes_the_total_and_warns(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rc, out, err = run_cli("snapshot", "--root", str(HOSTS / "x86_64-nonroot"), "-o", str(tmp_path / "m.yaml"))
    assert (rc, out) == (0, "")
    assert err == ("crashplan: warning: the memory layout is unknown (not root?): the file holds the RAM total "
                   "only\n")
    text = (tmp_path / "m.yaml").read_text()
    assert "memory:\n  source: \"/proc/zoneinfo\"\n  layout: unknown\n" in text
    assert load_machine(text, source="m").ram_size() == 16517664768


def test_nothing_is_written_on_error(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    tree = tmp_path / "tree"
    shutil.copytree(HOSTS / "x86_64-root", tree)
    (tree / "proc" / "iomem").write_text("00100000-bfffffff : System RAM\n  0100 truncated")
    target = tmp_path / "keep.yaml"
    target.write_text("previous snapshot\n")
    rc, out, err = run_cli("snapshot", "--root", str(tree), "-o", str(target))
    assert (rc, out) == (2, "")
    assert err == "crashplan: error: /proc/iomem:2:7: expected '-' after the start address, found ' truncated'\n"
    assert target.read_text() == "previous snapshot\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.yaml", "tree"]


def test_unwritable_destination(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rc, out, err = run_cli("snapshot", "--root", str(HOSTS / "arm64-root"), "-o", str(tmp_path / "no" / "dir.yaml"))
    assert (rc, out) == (2, "")
    assert err == f"crashplan: error: {tmp_path / 'no' / 'dir.yaml'}: cannot write: No such file or directory\n"
    rc, _, err = run_cli("snapshot", "--root", str(HOSTS / "arm64-root"), "-o", str(tmp_path))
    assert rc == 2 and err == f"crashplan: error: {tmp_path}: is a directory, expected a file name\n"


def test_convert_saved_sources(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    capture = DATA / "iomem" / "arm64-jetson-orin.txt"
    rc, out, err = run_cli("snapshot", "--iomem", str(capture), "--arch", "arm64", "--name", "orin")
    assert (rc, err) == (0, "")
    m = load_machine(out, source="out")
    assert (m.name, m.arch, len(m.memmap.nomap)) == ("orin", "arm64", 7)
    # a machine file comes back in canonical form, unchanged
    example = ROOT / "examples" / "x86_64-qemu-4g.yaml"
    rc, out, _ = run_cli("snapshot", "--machine", str(example))
    assert rc == 0 and out == example.read_text()
    # a boot log: its facts travel in the file
    log = sorted((DATA / "bootlogs").glob("x86_64-*.txt"))[0]
    rc, out, err = run_cli("snapshot", "--boot-log", str(log), "-o", str(tmp_path / "b.yaml"))
    assert (rc, err) == (0, "")
    booted = load_machine((tmp_path / "b.yaml").read_text(), source="b")
    assert booted.memmap.ram and booted.boot_facts
    assert dump_machine(booted) == (tmp_path / "b.yaml").read_text()


def test_usage_errors(run_cli) -> None:  # type: ignore[no-untyped-def]
    rc, out, err = run_cli("snapshot", "--iomem", "a", "--boot-log", "b")
    assert rc == 2 and "--iomem and --boot-log cannot be used together" in err
    rc, out, err = run_cli("snapshot", "--iomem", "/nonexistent/iomem")
    assert (rc, out, err) == (2, "", "crashplan: error: /nonexistent/iomem: no such file\n")
    rc, out, err = run_cli("snapshot", "--machine", str(DATA / "iomem" / "s390x-guest-crashkernel.txt"))
    assert rc == 2 and err.endswith("s390x-guest-crashkernel.txt:2:21: invalid YAML: mapping values are not allowed "
                                    "in this context\n")


def test_snapshot_as_a_program(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "crashplan", "snapshot", "--root", str(HOSTS / "x86_64-root"),
                          "-o", str(tmp_path / "m.yaml")], capture_output=True, text=True, cwd=ROOT)
    assert (out.returncode, out.stdout, out.stderr) == (0, "", "")
    assert load_machine((tmp_path / "m.yaml").read_text(), source="m") == probe_host(HOSTS / "x86_64-root")


@pytest.mark.parametrize("tree", ["x86_64-root", "x86_64-nonroot", "arm64-root"])
def test_snapshot_help_and_every_tree(run_cli, tree: str) -> None:  # type: ignore[no-untyped-def]
    rc, out, _ = run_cli("snapshot", "--root", str(HOSTS / tree))
    assert rc == 0 and out.startswith("# crashplan machine file")
    rc, out, _ = run_cli("snapshot", "--help")
    assert rc == 0 and "--output FILE" in out and "--root" not in out
