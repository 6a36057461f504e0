"""The host's facts, read cheaply: the files :func:`crashplan.cli.probe.probe_host` reads, one reader each.

Every reader takes a :class:`_Tree` (files under a root directory, ``/`` on the host itself) and never
raises for a missing or unreadable file.  They sit on the path of every ``crashplan check`` and
``suggest`` run on this machine, so they avoid what costs a start: pathlib (and the urllib.parse and
ipaddress it imports), gzip, the boot-log reader's patterns, and a regular expression per line or key
where ``str`` methods do (docs/benchmarks.md).
"""

from __future__ import annotations

import errno
import os
import re
from typing import TYPE_CHECKING

from crashplan.errors import InputError
from crashplan.memmap.model import Span
from crashplan.textlines import split_lines

if TYPE_CHECKING:
    from typing import BinaryIO

MAX_INPUT_BYTES = 64 << 20
_SWIOTLB_SLAB = 1 << 11  # IO_TLB_SHIFT
_SWIOTLB_SEGSIZE = 128  # IO_TLB_SEGSIZE: nslabs are rounded up to this

def _read_limited(f: BinaryIO, limit: int) -> bytes:
    """Read up to ``limit`` bytes in 64 KiB steps: sysctl files refuse one huge read (ENOMEM)."""
    chunks = []
    total = 0
    while total < limit:
        chunk = f.read(min(1 << 16, limit - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


class _Tree:
    """Files under ``root``; reading never raises, a missing or unreadable file is ``None``.

    Plain ``os.path`` strings, not pathlib: importing pathlib (and the urllib.parse and ipaddress it
    pulls in) costs a few milliseconds of every ``check`` on this machine's map."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        root = os.fspath(root)
        self.root = root.rstrip("/") or root[:1] or "."  # as pathlib shows it: "/", "t", "/tmp/t"
        self.is_host = os.path.realpath(self.root) == "/"

    def path(self, rel: str) -> str:
        return os.path.join(self.root, rel.lstrip("/"))

    def read(self, rel: str, *, limit: int = MAX_INPUT_BYTES) -> str | None:
        try:
            with open(self.path(rel), "rb", buffering=0) as f:
                data = _read_limited(f, limit)
        except OSError:
            return None
        return data.decode("utf-8", "surrogateescape")

    def exists(self, rel: str) -> bool:
        return os.path.exists(self.path(rel))

    def size(self, rel: str) -> int | None:
        try:
            return os.stat(self.path(rel)).st_size
        except OSError:
            return None


KMSG_LIMIT = 4 << 20  # the kernel's log buffer is at most CONFIG_LOG_BUF_SHIFT=25 (32 MiB); its start suffices


def _kernel_log(tree: _Tree) -> str | None:
    """The kernel's log records from ``/dev/kmsg`` (root, or ``dmesg_restrict=0``), read without blocking;
    under a ``--root`` tree, the file ``dev/kmsg`` as text."""
    if not tree.is_host:
        return tree.read("/dev/kmsg")
    try:
        fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    chunks: list[bytes] = []
    total = 0
    try:
        while total < KMSG_LIMIT:
            try:
                rec = os.read(fd, 8192)  # one record per read
            except BlockingIOError:
                break  # the end of the buffer
            except OSError as e:
                if e.errno == errno.EPIPE:  # records overwritten while reading: go on from the next one
                    continue
                break
            if not rec:
                break
            chunks.append(rec)
            total += len(rec)
    finally:
        os.close(fd)
    return b"".join(chunks).decode("utf-8", "surrogateescape")


_RAMDISK_LINES = (("RAMDISK: [mem ", False), ("Allocated new RAMDISK: [mem ", True))


def _initrd_from_kmsg(text: str) -> Span | None:
    """:func:`crashplan.memmap.bootlog.initrd_from_log` for ``/dev/kmsg`` records, without importing the
    boot-log reader (its ~50 patterns cost more than the rest of the probe).

    A record is ``pri,seq,usec,flags;message`` (``devkmsg_read``, kernel/printk/printk.c) with the
    message's control characters escaped by the kernel, so a ``RAMDISK`` line starts with one of the two
    texts x86 ``reserve_initrd``/``relocate_initrd`` print and needs none of the boot-log cleaning.  Any
    other line that mentions RAMDISK (a ``--root`` tree holding another log format) goes to the boot-log
    reader, whole: both give the same answer (tests/cli/test_probe.py compares them)."""
    if "RAMDISK" not in text:
        return None
    found: Span | None = None
    for raw in text.splitlines():
        if "RAMDISK" not in raw:
            continue
        head, sep, msg = raw.partition(";")
        fields = head.split(",")
        if not (sep and len(fields) >= 4 and 1 <= len(fields[0]) <= 3 and all(x.isdecimal() for x in fields[:3])):
            return _initrd_from_log(text)
        for prefix, page in _RAMDISK_LINES:
            if not msg.startswith(prefix):
                continue
            lo, dash, rest = msg[len(prefix):].partition("-")
            hi, bracket, _ = rest.partition("]")
            lo, hi = lo.removeprefix("0x"), hi.removeprefix("0x")
            if not (dash and bracket and _is_hex(lo) and _is_hex(hi)):
                return _initrd_from_log(text)
            if len(lo) > 16 or len(hi) > 16:
                break
            a, b = int(lo, 16), int(hi, 16) + 1
            if b > a and b <= 1 << 64:
                found = Span(a, -(-b // 4096) * 4096 if page else b, "initrd")
            break
        else:
            return _initrd_from_log(text)
    return found


def _is_hex(s: str) -> bool:
    return bool(s) and s.isascii() and all(c in "0123456789abcdefABCDEF" for c in s)


def _initrd_from_log(text: str) -> Span | None:
    from crashplan.memmap.bootlog import initrd_from_log

    return initrd_from_log(text)


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    text = text.strip()
    return int(text) if text.isdigit() else None


def _zoneinfo(text: str | None) -> dict[str, dict[str, int]]:
    """``{"0/DMA": {"present": …, "spanned": …, "start_pfn": …}, …}`` from ``/proc/zoneinfo``."""
    zones: dict[str, dict[str, int]] = {}
    if not text:
        return zones
    current: dict[str, int] | None = None
    for line in text.splitlines():
        if line.startswith("Node"):
            m = re.match(r"Node\s+(\d+),\s+zone\s+(\S+)", line)
            if m:
                current = zones.setdefault(f"{m.group(1)}/{m.group(2)}", {})
                continue
        if current is None or not line[:1].isspace():
            continue
        # "  present  123" / "  start_pfn:  1": str.split instead of a pattern per line (about 400 lines)
        words = line.split()
        if len(words) == 2 and words[0].removesuffix(":") in _ZONE_KEYS and words[1].isdecimal():
            current[words[0].removesuffix(":")] = int(words[1])
    return zones


_ZONE_KEYS = ("present", "spanned", "start_pfn")


def _zone_end(zones: dict[str, dict[str, int]], page_size: int) -> int | None:
    """The end of ZONE_DMA, else ZONE_DMA32 (arm64's ``arm64_dma_phys_limit``, clamped to RAM)."""
    for zone in ("DMA", "DMA32"):
        ends = [z["start_pfn"] + z["spanned"] for key, z in zones.items()
                if key.split("/")[1] == zone and z.get("spanned") and "start_pfn" in z]
        if ends:
            return max(ends) * page_size
    return None


def _cma_ranges(text: str | None, path: str) -> tuple[Span, ...]:
    """``/sys/kernel/kexec/crash_cma_ranges``: ``"%08llx-%08llx\\n"`` per range, inclusive end."""
    if not text:
        return ()
    out = []
    for n, raw in enumerate(split_lines(text), start=1):
        line = raw.strip()
        if not line:
            continue
        m = re.fullmatch(r"([0-9a-fA-F]{1,16})-([0-9a-fA-F]{1,16})", line)
        if m is None or int(m.group(1), 16) > int(m.group(2), 16):
            raise InputError(f"expected a range like 100000000-10c7fffff, found {line[:40]!a}",
                             path=path, line=n, column=1)
        out.append(Span(int(m.group(1), 16), int(m.group(2), 16) + 1, "crashkernel CMA"))
    return tuple(sorted(out))


def _has_param(cmdline: str, name: str) -> bool:
    from crashplan.cmdline import param_values

    return bool(param_values(cmdline, name))


def _swiotlb(tree: _Tree, cmdline: str | None) -> int | None:
    """The swiotlb size: debugfs when readable, else ``swiotlb=<nslabs>`` (kernel/dma/swiotlb.c
    ``setup_io_tlb_npages``: nslabs rounded up to IO_TLB_SEGSIZE, 2 KiB each), else None (default)."""
    nslabs = _int(tree.read("/sys/kernel/debug/swiotlb/io_tlb_nslabs"))
    if nslabs:
        return nslabs * _SWIOTLB_SLAB
    if cmdline is None:
        return None
    from crashplan.cmdline import param_value

    value = param_value(cmdline, "swiotlb")
    if not value:
        return None
    m = re.match(r"0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*", value)  # simple_strtoul(str, &str, 0)
    if m is None:  # "noforce", "force": the size stays the default
        return None
    token = m.group()
    n = int(token, 16) if token[:2].lower() == "0x" else int(token, 8) if token.startswith("0") else int(token)
    n = -(-n // _SWIOTLB_SEGSIZE) * _SWIOTLB_SEGSIZE
    return n * _SWIOTLB_SLAB if n else None


def _mem_encrypt(tree: _Tree, cmdline: str | None, arch: str | None, notes: list[str]) -> str | None:
    """A hint from the x86 CPU flags of /proc/cpuinfo (guest-side flags only)."""
    if arch != "x86_64":
        return None
    cpuinfo = tree.read("/proc/cpuinfo", limit=1 << 20)
    if not cpuinfo:
        return None
    flags: set[str] = set()
    for line in cpuinfo.splitlines():  # the first "flags<blanks>: …" line
        name, colon, value = line.partition(":")
        if colon and name.startswith("flags") and not name[5:].strip():
            flags = set(value.split())
            break
    guess = None
    if "tdx_guest" in flags:
        guess = "tdx"
    elif "hypervisor" in flags and flags & {"sev", "sev_es", "sev_snp"}:
        guess = "sev"
    elif "sme" in flags and cmdline is not None and "mem_encrypt=on" in cmdline.split():
        guess = "sme"
    if guess:
        notes.append(f"mem_encrypt={guess} guessed from the CPU flags in /proc/cpuinfo")
    return guess


def _cpu_count(text: str | None) -> int | None:
    """``0-3,8-11`` → 8."""
    if not text or not text.strip():
        return None
    count = 0
    for part in text.strip().split(","):
        lo, _, hi = part.partition("-")
        if not lo.isdigit() or (hi and not hi.isdigit()):
            return None
        count += (int(hi) - int(lo) + 1) if hi else 1
    return count or None


def _kdump_facts(tree: _Tree, release: str | None, arch: str | None, page_size: int) -> dict[str, object]:
    """What the sizing code wants to know, as far as it is cheap to find (see docs/machine-format.md)."""
    facts: dict[str, object] = {}
    if release:
        image = f"/boot/vmlinuz-{release}"
        if arch == "arm64" and not tree.exists(image) and tree.exists(f"/boot/Image-{release}"):
            image = f"/boot/Image-{release}"
        if tree.exists(image):
            kimage: dict[str, object] = {"path": image}
            size = tree.size(image)
            if size:
                kimage["image_size"] = size
            init = _image_init_size(tree, image, arch)
            if init:
                kimage["init_size"] = init
            facts["kernel_image"] = kimage
        for initrd in (f"/boot/initramfs-{release}kdump.img", f"/boot/initrd-{release}-kdump",
                       f"/var/lib/kdump/initrd.img-{release}", "/var/lib/kdump/initrd.img"):
            if tree.exists(initrd):
                entry: dict[str, object] = {"path": initrd}
                size = tree.size(initrd)
                if size:
                    entry["size"] = size
                facts["initrd"] = entry
                break
    level, collector = _dump_settings(tree)
    if level is not None:
        facts["dump_level"] = level
    if collector:
        facts["collector"] = collector
    config = _kernel_config(tree, release)
    if config:
        facts["kernel_config"] = config
    platform: dict[str, object] = {"page_size": page_size}
    if tree.exists("/sys/module/mlx5_core"):
        platform["mlx5"] = True
    if arch == "arm64":
        try:
            names = os.listdir(tree.path("/sys/class/iommu"))
        except OSError:
            names = []
        platform["smmu"] = any("smmu" in n for n in names)
    facts["platform"] = platform
    return facts


def _image_init_size(tree: _Tree, image: str, arch: str | None) -> int | None:
    """x86 bzImage ``init_size`` (boot protocol ≥ 2.10, offset 0x260) or arm64 Image ``image_size``
    (offset 16): the memory the kernel needs while it decompresses and starts."""
    try:
        with open(tree.path(image), "rb") as f:
            head = f.read(0x270)
    except OSError:
        return None
    if arch == "x86_64" and len(head) >= 0x264 and head[0x202:0x206] == b"HdrS":
        version = int.from_bytes(head[0x206:0x208], "little")
        if version >= 0x020A:
            return int.from_bytes(head[0x260:0x264], "little") or None
    if arch == "arm64" and len(head) >= 64 and head[56:60] == b"ARM\x64":
        return int.from_bytes(head[16:24], "little") or None
    return None


def _dump_settings(tree: _Tree) -> tuple[int | None, str | None]:
    """makedumpfile's ``-d`` level and the collector line from the distribution's kdump config."""
    collector = None
    text = tree.read("/etc/kdump.conf", limit=1 << 20)  # Fedora/RHEL kdump-utils
    if text:
        for raw in text.splitlines():
            line = raw.strip()
            if line.startswith("core_collector"):
                collector = line[len("core_collector"):].strip() or None
    if collector is None:
        text = tree.read("/etc/default/kdump-tools", limit=1 << 20)  # Debian kdump-tools
        m = re.search(r'^\s*MAKEDUMP_ARGS="([^"]*)"', text, re.MULTILINE) if text else None
        if m:
            collector = "makedumpfile " + m.group(1)
    level = None
    if collector:
        m = re.search(r"(?:^|\s)-d\s*(\d+)", collector)
        if m and int(m.group(1)) <= 31:
            level = int(m.group(1))
    if level is None:
        text = tree.read("/etc/sysconfig/kdump", limit=1 << 20)  # SUSE kdump
        m = re.search(r'^\s*KDUMP_DUMPLEVEL="?(\d+)"?', text, re.MULTILINE) if text else None
        if m and int(m.group(1)) <= 31:
            level = int(m.group(1))
    return level, collector


def _kernel_config(tree: _Tree, release: str | None) -> dict[str, object]:
    text = tree.read(f"/boot/config-{release}") if release else None
    if text is None and tree.exists("/proc/config.gz"):
        text = _gunzip_text(tree.path("/proc/config.gz"), 1 << 22)
    if not text:
        return {}
    config: dict[str, object] = {}
    # CONFIG_KEXEC too: with CONFIG_KEXEC_FILE it tells whether a capture kernel can be loaded at all
    for key in ("CONFIG_CMA", "CONFIG_KEXEC", "CONFIG_KEXEC_FILE", "CONFIG_CRASH_DUMP"):
        if _config_line(text, f"{key}=y"):
            config[key] = True
        elif _config_line(text, f"# {key} is not set"):
            config[key] = False
    return config


def _config_line(text: str, line: str) -> bool:
    """Whether ``text`` has a line that is ``line`` followed by nothing but blanks (a ``.config`` line).

    ``str.find`` over the ~100 KiB of a distribution's config instead of a regular expression per key:
    it is most of what reading the config costs on the way to ``check``."""
    at = text.find(line)
    while at >= 0:
        end = at + len(line)
        nl = text.find("\n", end)
        if (at == 0 or text[at - 1] == "\n") and not (text[end:] if nl < 0 else text[end:nl]).strip():
            return True
        at = text.find(line, end)
    return False


def _gunzip_text(path: str, limit: int) -> str | None:
    """The first ``limit`` characters of a gzip file as text; None when it cannot be read or is truncated.

    zlib rather than the gzip module: the same stream (``wbits=31``: a gzip header and trailer), without
    importing gzip's file machinery on every ``check``."""
    import zlib

    try:
        with open(path, "rb") as f:
            data = f.read()
        z = zlib.decompressobj(31)
        raw = z.decompress(data, limit)
    except (OSError, zlib.error):
        return None
    if not z.eof and len(raw) < limit:  # a truncated stream (gzip.open raises EOFError there)
        return None
    return raw.decode("utf-8", "replace")[:limit]
