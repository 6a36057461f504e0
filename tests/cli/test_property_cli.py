"""Hostile input through the command line: never an internal error (exit 3), never a traceback.

Files hold anything (binary, invalid UTF-8, NULs); ``crashplan check --iomem/--boot-log/--machine`` must
answer with a result or one ``crashplan: error: FILE:LINE…`` line (exit 2), ``crashplan lint`` with a
report (exit 0/1) in every format, also when stdout encodes strictly (any UTF-8 locale but C/POSIX).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import DATA, ROOT
from crashplan.cli import main

pytestmark = pytest.mark.property

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

SEED_IOMEM = (DATA / "iomem" / "x86_64-qemu-vangen.txt").read_bytes()
PIECES = st.sampled_from([b"\xff", b"\x00", b"\xc3", b"\xed\xa0\x80", b"\n", b"\r", b" : ", b"System RAM", b"-",
                          b"crashkernel=", b"0100", b"256M", b"\t", b"  ", b"ffffffffffffffffff", b"[mem 0x1-0x0]",
                          b"schema: crashplan/machine@1\n", b"memory:\n  ram:\n", b"&a ", b"*a", b"{", b"["])
HOSTILE = st.one_of(st.binary(max_size=300), st.lists(PIECES, max_size=30).map(b"".join),
                    st.tuples(st.integers(0, len(SEED_IOMEM)), st.lists(PIECES, max_size=3).map(b"".join))
                    .map(lambda t: SEED_IOMEM[:t[0]] + t[1] + SEED_IOMEM[t[0]:]))


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


def _write(data: bytes, name: str) -> str:
    d = tempfile.mkdtemp(prefix="crashplan-prop-")
    p = os.path.join(d, name)
    with open(p, "wb") as fh:
        fh.write(data)
    return p


@SETTINGS
@given(data=HOSTILE, flag=st.sampled_from(["--iomem", "--boot-log", "--machine"]),
       fmt=st.sampled_from(["json", "text"]))
@example(data=b"x\xff", flag="--boot-log", fmt="json")
def test_check_reads_any_file_without_an_internal_error(capsys, data, flag, fmt):
    path = _write(data, "input.txt")
    rc, out, err = _run(capsys, "check", "crashkernel=256M", flag, path, "--kernel", "7.2", "--arch", "x86_64",
                        "--format", fmt)
    assert rc in (0, 1, 2), err
    if rc == 2:
        assert err.startswith(f"crashplan: error: {path}") and err.count("\n") == 1, err
        assert out == ""
    elif fmt == "json":
        assert json.loads(out)["replayed"] in (True, False)


@SETTINGS
@given(data=HOSTILE, name=st.sampled_from(["grub", "grub.cfg", "cmdline", "abc.conf", "grubenv", "zipl.conf"]),
       fmt=st.sampled_from(["json", "sarif", "github", "text"]))
def test_lint_reports_on_any_file(capsys, data, name, fmt):
    sub = {"grub": "etc/default", "abc.conf": "boot/loader/entries", "grubenv": "boot/grub2",
           "grub.cfg": "boot/grub2"}.get(name, "etc")
    d = tempfile.mkdtemp(prefix="crashplan-prop-")
    os.makedirs(os.path.join(d, sub))
    path = os.path.join(d, sub, name)
    with open(path, "wb") as fh:
        fh.write(data)
    rc, out, err = _run(capsys, "lint", "--format", fmt, path)
    assert rc in (0, 1, 2), err
    # 2 only for a binary file (a NUL byte): it cannot be read as text, and stderr says so in one line
    assert (rc == 2) == (b"\0" in data), err
    if rc == 2:
        assert err == f"crashplan: error: {path}: cannot read the file: binary content (a NUL byte): not a text file\n"
    if fmt in ("json", "sarif"):
        json.loads(out)


UNDECODABLE = b"GRUB_CMDLINE_LINUX=\"quiet crashkernel=0100\xb9 crashkernel=256M\xff\"\n"


def _strict(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8:strict", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "crashplan", *args], input=stdin, capture_output=True, env=env,
                          check=False)


@pytest.mark.parametrize("fmt", ["json", "sarif", "github", "text"])
def test_lint_of_undecodable_bytes_under_a_strict_locale(tmp_path, fmt):
    """Found by fuzzing: the report quoting an undecodable byte failed the strict UTF-8 stdout (exit 3)."""
    grub = tmp_path / "etc" / "default" / "grub"
    grub.parent.mkdir(parents=True)
    grub.write_bytes(UNDECODABLE)
    r = _strict("lint", "--format", fmt, str(grub))
    assert (r.returncode, r.stderr) == (1, b"")
    if fmt == "json":
        messages = [f["message"] for f in json.loads(r.stdout)["findings"]]
        assert any("\udcff" in m for m in messages)  # the escape \udcff in the document


def test_lint_stdin_with_undecodable_bytes_under_a_strict_locale():
    """Found by fuzzing: stdin was decoded with the locale's strict error handler (exit 3)."""
    r = _strict("lint", "--format", "json", "-", stdin=b"quiet crashkernel=256M\xff\n")
    assert (r.returncode, r.stderr) == (1, b"")
    assert json.loads(r.stdout)["files"][0]["path"] == "-"


def test_lint_output_file_with_undecodable_bytes(tmp_path):
    """Found by fuzzing: ``-o FILE`` was written with the strict UTF-8 encoder (exit 3 in every locale)."""
    src = tmp_path / "cmdline"
    src.write_bytes(b"crashkernel=256M\xff\n")
    out = tmp_path / "report.json"
    r = _strict("lint", "--format", "json", "-o", str(out), str(src))
    assert (r.returncode, r.stderr) == (1, b"")
    assert json.loads(out.read_text(encoding="utf-8"))["findings"]


def _limited(*args: str) -> subprocess.CompletedProcess[bytes]:
    """crashplan in a subprocess limited to 1 GiB of address space (a runaway allocation fails fast)."""
    import resource

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "crashplan", *args], capture_output=True, env=env, check=False,
                          preexec_fn=limit, timeout=120)


def test_check_reads_the_parameters_the_kernel_keeps_of_a_huge_command_line(tmp_path):
    """Found by fuzzing: without PARAMS, check tokenised the machine's whole command line; 17,000
    'crashkernel=' without spaces made every token run to the end of the line (MemoryError, exit 3)."""
    lines = (DATA / "bootlogs" / "x86_64-6.12-dmesg.txt").read_text(encoding="utf-8").splitlines()
    lines = [ln + " " + "crashkernel=" * 17_000 if "Command line:" in ln else ln for ln in lines]
    log = tmp_path / "dmesg.txt"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = _limited("check", "--boot-log", str(log), "--format", "json")
    assert (r.returncode, r.stderr) == (1, b"")
    doc = json.loads(r.stdout)
    assert len(doc["params"].encode()) < 2048 and doc["params"].startswith("crashkernel=512M,high crashkernel=")


def test_check_text_with_undecodable_bytes_under_a_strict_locale(tmp_path):
    """Found by fuzzing: rich wrote the lone surrogate of an undecodable byte to a strict UTF-8 stdout (exit 3)."""
    r = _strict("check", "crashkernel=010\udcff".encode("utf-8", "surrogateescape").decode("utf-8", "surrogateescape"),
                "--kernel", "7.2", "--arch", "x86_64", "--ram", "16G", "--no-map")
    assert (r.returncode, r.stderr) == (1, b"")
    assert b"crashkernel=010\\udcff" in r.stdout


def test_usage_error_quoting_undecodable_bytes_on_a_strict_stderr(tmp_path):
    """Found by fuzzing: a boot log whose kernel release held an undecodable byte made the usage error
    that quotes it raise UnicodeEncodeError out of ``main()`` when stderr encodes strictly (an
    interpreter's own stderr escapes, but ``main()`` promises never to raise whatever it writes to)."""
    import contextlib
    import io

    from crashplan.cli import main

    log = tmp_path / "dmesg.txt"
    log.write_bytes(b"[    0.000000] Linux version 3.10.0-1160.el7.x86\x95_64 (builder@host) #1 SMP\n"
                    b"[    0.000000] BIOS-e820: [mem 0x0000000000000000-0x000000007fffffff] usable\n")
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", newline="\n")
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = main(["check", "crashkernel=256M", "--boot-log", str(log), "--format", "json"])
    err.flush()
    text = err.buffer.getvalue().decode("utf-8")
    assert rc == 2, text
    assert text.strip().splitlines()[-1].startswith("Error: the kernel release of ")
    assert "3.10.0-1160.el7.x86\\udc95_64" in text
