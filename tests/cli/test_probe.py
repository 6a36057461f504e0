"""Probing a host (fake trees under tests/data/machines/hosts) and choosing the machine source."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import click
import pytest
from conftest import DATA, ROOT

from crashplan.cli.probe import _swiotlb, _Tree, probe_host, read_text, resolve_machine
from crashplan.errors import InputError
from crashplan.memmap.iomem import parse_iomem
from crashplan.memmap.machine import dump_machine, load_machine
from crashplan.memmap.model import Span

HOSTS = DATA / "machines" / "hosts"
RELEASE = "6.19.3-200.fc43.x86_64"


def test_x86_root_tree() -> None:
    m = probe_host(HOSTS / "x86_64-root")
    assert (m.name, m.arch, m.kernel, m.cpus, m.page_size) == ("db01.example.com", "x86_64", RELEASE, 16, 4096)
    assert m.cmdline == (f"BOOT_IMAGE=(hd0,gpt2)/vmlinuz-{RELEASE} root=UUID=0b7c4f2e-1d2a-4f7e-9a51-3c2f8e6d9a10 ro "
                         "crashkernel=1G crashkernel=1G,cma swiotlb=65536 nokaslr quiet")
    capture = parse_iomem((DATA / "iomem" / "x86_64-laptop-crashkernel.txt").read_text(), arch="x86_64")
    assert m.memmap.ram == capture.ram and m.memmap.reserved == capture.reserved
    cma = Span(0x100000000, 0x140000000, "crashkernel CMA")
    assert m.crash_cma_ranges == (cma,)
    assert m.memmap.crash == (Span(0x9C000000, 0xDC000000, "Crash kernel"), cma)
    assert m.memmap.layout_known and m.system_ram is None
    assert m.ram_size() == capture.system_ram()
    assert m.kexec_crash_size == 1 << 30
    assert m.swiotlb_size == 65536 * 2048  # swiotlb=65536 slabs of 2 KiB
    assert (m.mem_encrypt, m.kaslr, m.fadump, m.dma_limit) == ("sev", False, None, None)
    assert m.notes == ("mem_encrypt=sev guessed from the CPU flags in /proc/cpuinfo",)
    assert m.kdump == {
        "kernel_image": {"path": f"/boot/vmlinuz-{RELEASE}", "image_size": 1024, "init_size": 65331200},
        "initrd": {"path": f"/boot/initramfs-{RELEASE}kdump.img", "size": 3002},
        "dump_level": 31,
        "collector": "makedumpfile -l --message-level 7 -d 31",
        "kernel_config": {"CONFIG_CMA": True, "CONFIG_KEXEC_FILE": True, "CONFIG_CRASH_DUMP": True},
        "platform": {"page_size": 4096, "mlx5": True},
    }
    assert m.provenance.startswith("probed by crashplan ")
    assert load_machine(dump_machine(m), source="x") == m


def test_x86_tree_read_without_root_keeps_the_ram_total() -> None:
    m = probe_host(HOSTS / "x86_64-nonroot")
    root = probe_host(HOSTS / "x86_64-root")
    assert not m.memmap.layout_known and m.memmap.ram == () and m.memmap.source == "/proc/zoneinfo"
    # present pages of /proc/zoneinfo = memblock.memory = what the root reader sums from /proc/iomem
    assert m.system_ram == m.ram_size() == root.ram_size() == 16517664768
    assert m.notes[0].startswith("not root: /proc/iomem is zeroed")
    assert m.crash_cma_ranges == () and m.kexec_crash_size == 1 << 30
    assert load_machine(dump_machine(m), source="x") == m


def test_arm64_tree_nomap_dma_limit_and_platform() -> None:
    m = probe_host(HOSTS / "arm64-root")
    assert (m.arch, m.kernel, m.cpus, m.kexec_crash_size) == ("arm64", "5.15.148-tegra", 12, 0)
    assert len(m.memmap.nomap) == 7
    assert m.dma_limit == 4 << 30
    assert m.kdump["kernel_image"] == {"path": "/boot/Image-5.15.148-tegra", "image_size": 512,
                                       "init_size": 48 << 20}
    assert (m.kdump["dump_level"], m.kdump["collector"]) == (31, "makedumpfile -c -d 31")
    assert m.kdump["platform"] == {"page_size": 4096, "smmu": True}
    assert "dma_limit is the end of ZONE_DMA (or ZONE_DMA32) in /proc/zoneinfo" in m.notes


def test_uname_and_page_size_can_be_injected() -> None:
    m = probe_host(HOSTS / "arm64-root", uname=("6.12.0-1-arm64", "arm64"), page_size=65536)
    assert (m.kernel, m.arch, m.page_size) == ("6.12.0-1-arm64", "arm64", 65536)
    assert m.memmap.ram[0] == Span(0x80000000, 0xFFFE0000, "System RAM")  # 64K-aligned already
    assert m.kdump["platform"]["page_size"] == 65536


def test_missing_iomem_and_no_ram_total(tmp_path: Path) -> None:
    with pytest.raises(InputError) as e:
        probe_host(tmp_path)
    assert e.value.path == str(tmp_path / "proc" / "iomem") and "cannot read the memory map" in e.value.message
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "iomem").write_text("00000000-00000000 : System RAM\n00000000-00000000 : Reserved\n")
    with pytest.raises(InputError) as e:
        probe_host(tmp_path)
    assert (e.value.path, e.value.line) == ("/proc/iomem", 1) and "run as root" in e.value.message


def test_broken_cma_ranges_file_is_named(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(HOSTS / "x86_64-root", tmp_path / "t")
    (tmp_path / "t/sys/kernel/kexec/crash_cma_ranges").write_text("100000000-13fffffff\nbogus\n")
    with pytest.raises(InputError) as e:
        probe_host(tmp_path / "t")
    assert (e.value.path, e.value.line, e.value.column) == ("/sys/kernel/kexec/crash_cma_ranges", 2, 1)


def test_zoneinfo_mismatch_is_noted(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(HOSTS / "x86_64-root", tmp_path / "t")
    z = tmp_path / "t/proc/zoneinfo"
    z.write_text(z.read_text().replace("present  3072768", "present  3080960"))  # 32 MiB hot-added
    notes = probe_host(tmp_path / "t").notes
    assert notes[0] == ("/proc/zoneinfo counts 16551219200 bytes of present pages, /proc/iomem 16517664768 "
                        "(memory hotplug or a firmware quirk)")


@pytest.mark.parametrize(
    ("cmdline", "size"),
    [
        ("swiotlb=65536", 128 << 20),
        ("swiotlb=1000", 1024 * 2048),  # rounded up to 128 slabs
        ("swiotlb=0x8000,force", 64 << 20),
        ("swiotlb=010", 128 * 2048),  # simple_strtoul base 0: octal
        ("swiotlb=noforce", None),
        ("swiotlb=0", None),
        ("quiet", None),
        ("swiotlb=1024 swiotlb=2048", 4 << 20),  # the last one wins
    ],
)
def test_swiotlb_from_the_command_line(cmdline: str, size: int | None, tmp_path: Path) -> None:
    assert _swiotlb(_Tree(tmp_path), cmdline) == size


def test_the_real_host_can_be_probed() -> None:
    """On the machine running the tests: whatever it is, the probe gives a machine or one InputError."""
    try:
        m = probe_host()
    except InputError as e:
        assert e.path
    else:
        assert m.ram_size() > 0
        assert load_machine(dump_machine(m), source="host") == m


# --- read_text ------------------------------------------------------------------------------------


def test_read_text_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file") as e:
        read_text(str(tmp_path / "nope"))
    assert e.value.path == str(tmp_path / "nope")
    with pytest.raises(InputError, match="is a directory"):
        read_text(str(tmp_path))
    blob = tmp_path / "blob"
    blob.write_bytes(b"line one\nline two\x00\x01\x02")
    with pytest.raises(InputError) as e:
        read_text(str(blob))
    assert (e.value.line, e.value.message) == (2, "binary data (a NUL byte at offset 17): expected a text file")
    big = tmp_path / "big"
    big.write_bytes(b"x" * 2048)
    with pytest.raises(InputError, match="larger than"):
        read_text(str(big), limit=1024)
    if hasattr(__import__("os"), "geteuid") and __import__("os").geteuid() != 0:
        locked = tmp_path / "locked"
        locked.write_text("x")
        locked.chmod(0)
        with pytest.raises(InputError, match="permission denied"):
            read_text(str(locked))


def test_read_text_keeps_undecodable_bytes_for_the_reader(tmp_path: Path) -> None:
    f = tmp_path / "latin1"
    f.write_bytes(b"00100000-bfffffff : System RAM\n00000000-00000fff : R\xe9served\n")
    t = read_text(str(f))
    with pytest.raises(InputError) as e:
        parse_iomem(t, source=str(f))
    assert (e.value.line, e.value.column) == (2, 22) and "not UTF-8" in e.value.message


def test_read_text_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"hello\n")))
    assert read_text("-") == "hello\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"a\x00")))
    with pytest.raises(InputError) as e:
        read_text("-")
    assert e.value.path == "<stdin>"


def test_read_text_reads_sysctl_files() -> None:
    """/proc/sys files refuse one huge read() with ENOMEM; the reader goes in small steps."""
    if Path("/proc/sys/kernel/osrelease").exists():
        assert read_text("/proc/sys/kernel/osrelease").strip()


# --- resolve_machine -------------------------------------------------------------------------------


def test_resolve_machine_sources() -> None:
    capture = str(DATA / "iomem" / "arm64-xring-phone.txt")
    m = resolve_machine(iomem=capture, arch="aarch64")
    assert m.arch == "arm64" and len(m.memmap.nomap) == 12 and m.memmap.source == capture
    assert resolve_machine(iomem=capture).memmap.nomap == ()  # without an arch, NOMAP cannot be told
    ex = ROOT / "examples" / "arm64-rpi4-4g.yaml"
    assert resolve_machine(machine=str(ex), arch="x86_64").arch == "arm64"  # the file's own arch wins
    host = resolve_machine(root=HOSTS / "x86_64-root")
    assert host.name == "db01.example.com"
    log = sorted((DATA / "bootlogs").glob("x86_64-*.txt"))[0]
    booted = resolve_machine(boot_log=str(log))
    assert booted.memmap.ram and booted.arch == "x86_64"


def test_resolve_machine_usage_errors() -> None:
    with pytest.raises(click.UsageError, match="--iomem and --machine cannot be used together"):
        resolve_machine(iomem="a", machine="b")
    with pytest.raises(click.BadParameter, match="unknown architecture"):
        resolve_machine(iomem="a", arch="vax")
    with pytest.raises(InputError, match="no such file"):
        resolve_machine(machine="/nonexistent/machine.yaml")


# ---------------------------------------------------------------------------------------------
# the cheap readers of the check path agree with the general ones they stand in for

_KMSG_CASES = [
    "",
    "6,1,0,-;Linux version 6.19.3\n",
    "6,77,0,-;RAMDISK: [mem 0xe0000000-0xe5ffffff]\n",
    "6,77,0,-;RAMDISK: [mem 0x3ff00000-0x3fffffff]\n6,78,1,-;Allocated new RAMDISK: [mem 0x2f000000-0x2f0fb0ff]\n",
    "6,77,0,-;RAMDISK: [mem e0000000-e5ffffff]\n",  # no 0x
    "6,77,0,-;RAMDISK: [mem 0xe5ffffff-0xe0000000]\n",  # upside down
    "6,77,0,-;RAMDISK: [mem 0x" + "f" * 17 + "-0x1]\n",  # more than 64 bits
    "6,77,0,-;RAMDISK: [mem 0xfffffffffffff000-0xffffffffffffffff]\n",
    "6,77,0,-;RAMDISK: [mem 0xzz-0x1]\n",
    "6,77,0,-;RAMDISK: incomplete write (-28 != 4096)\n",
    "6,77,0,-,caller=T0;RAMDISK: [mem 0x1000-0x1fff] \n",
    "6,77,0,-;RAMDISK: [mem 0x1000-0x1fff]\x1b[0m\n",
    "6,77,0,-;RAMDISK: [mem 0x1000\x1b[0m-0x1fff]\n",
    "6,77,0,-;<6>RAMDISK: [mem 0x1000-0x1fff]\n",
    "1234,77,0,-;RAMDISK: [mem 0x1000-0x1fff]\n",
    "6,x,0,-;RAMDISK: [mem 0x1000-0x1fff]\n",
    "[    0.000000] RAMDISK: [mem 0x3ff00000-0x3fffffff]\n",  # another log format under a --root tree
    "6,77,0,-;RAMDISK: [mem 0x1000-0x1fff]\n[    0.1] Allocated new RAMDISK: [mem 0x5000-0x5fff]\n",
    "6,77,0,-;RAMDISK: [mem 0x1000-0x1fff]\n SUBSYSTEM=RAMDISK\n",
]


@pytest.mark.parametrize("text", _KMSG_CASES)
def test_kmsg_initrd_matches_the_boot_log_reader(text: str) -> None:
    from crashplan.cli.hostfacts import _initrd_from_kmsg
    from crashplan.memmap.bootlog import initrd_from_log

    assert _initrd_from_kmsg(text) == initrd_from_log(text)


def test_kmsg_initrd_does_not_import_the_boot_log_reader() -> None:
    import subprocess

    code = ("import sys; from crashplan.cli.hostfacts import _initrd_from_kmsg as f; "
            "s = f('6,1,0,-;x\\n6,77,0,-;RAMDISK: [mem 0xe0000000-0xe5ffffff]\\n'); "
            "print(hex(s.start), hex(s.end), 'crashplan.memmap.bootlog' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert r.stdout.split() == ["0xe0000000", "0xe6000000", "False"]


@pytest.mark.parametrize("line, expected", [
    ("CONFIG_KEXEC=y", True), ("CONFIG_KEXEC=y  ", True), ("CONFIG_KEXEC=y\r", True), ("CONFIG_KEXEC=yes", False),
    ("#CONFIG_KEXEC=y", False), (" CONFIG_KEXEC=y", False), ("CONFIG_KEXEC=m", False),
])
def test_config_line_reads_as_the_pattern_did(line: str, expected: bool) -> None:
    import re

    from crashplan.cli.hostfacts import _config_line

    for text in (line, f"A=1\n{line}", f"{line}\nB=2", f"A=1\n{line}\nCONFIG_KEXEC=y2\n"):
        by_pattern = re.search(r"^CONFIG_KEXEC=y\s*$", text, re.MULTILINE) is not None
        assert _config_line(text, "CONFIG_KEXEC=y") is by_pattern
    assert _config_line(line, "CONFIG_KEXEC=y") is expected


def test_gunzipped_config_whole_limited_and_truncated(tmp_path: Path) -> None:
    import gzip

    from crashplan.cli.hostfacts import _gunzip_text

    text = "".join(f"CONFIG_OPTION_{n}=y\n" for n in range(5000))
    p = tmp_path / "config.gz"
    p.write_bytes(gzip.compress(text.encode()))
    assert _gunzip_text(str(p), 1 << 22) == text
    assert _gunzip_text(str(p), 100) == text[:100]
    p.write_bytes(gzip.compress(text.encode())[:200])
    assert _gunzip_text(str(p), 1 << 22) is None
    p.write_bytes(b"not gzip")
    assert _gunzip_text(str(p), 1 << 22) is None
    assert _gunzip_text(str(tmp_path / "missing.gz"), 1 << 22) is None


def _zoneinfo_by_pattern(text: str) -> dict[str, dict[str, int]]:
    """The reading of /proc/zoneinfo the probe's str.split loop replaced, for comparison."""
    import re

    zones: dict[str, dict[str, int]] = {}
    current: dict[str, int] | None = None
    for line in text.splitlines():
        m = re.match(r"Node\s+(\d+),\s+zone\s+(\S+)", line)
        if m:
            current = zones.setdefault(f"{m.group(1)}/{m.group(2)}", {})
            continue
        m = re.match(r"\s+(present|spanned|start_pfn):?\s+(\d+)\s*$", line) if current is not None else None
        if m and current is not None:
            current[m.group(1)] = int(m.group(2))
    return zones


def test_zoneinfo_reads_as_the_pattern_did() -> None:
    from crashplan.cli.hostfacts import _zoneinfo

    texts = [p.read_text() for p in HOSTS.glob("*/proc/zoneinfo")]
    texts.append("Node 0, zone   Normal\n  present: 5\n  present :5\n  spanned  7 \n  start_pfn:\t9\n"
                 "  present 1 2\nNode 1, zone DMA\nNode 1\n  present 3\npresent 4\n")
    if Path("/proc/zoneinfo").exists():
        texts.append(Path("/proc/zoneinfo").read_text())
    assert len(texts) > 2
    for text in texts:
        assert _zoneinfo(text) == _zoneinfo_by_pattern(text)
