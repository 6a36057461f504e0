"""Where a machine comes from: files named on the command line, or this host's /proc and /sys.

This is the only place that reads the running system.  Every probe takes a ``root`` directory
(default ``/``) so tests point it at a fake tree; the parsing itself is done by the pure readers in
:mod:`crashplan.memmap`.

What a probe of the host reads (all optional except ``/proc/iomem``):

===============================================  ===============================================
``/proc/iomem``                                  the memory map (root only; see below)
``/proc/zoneinfo``                               ``present`` pages: the RAM total without root
``/proc/cmdline``                                the boot command line
``/proc/sys/kernel/{osrelease,arch,hostname}``   release, architecture, name
``/sys/kernel/kexec/crash_size``,                current reservation size (≥ 6.19 / older name)
``/sys/kernel/kexec_crash_size``
``/sys/kernel/kexec/crash_cma_ranges``           current CMA crash ranges (≥ 6.19)
``/sys/kernel/debug/swiotlb/io_tlb_nslabs``      swiotlb size (debugfs, root), else ``swiotlb=``
``/proc/cpuinfo``                                memory-encryption hints (x86 flags)
``/sys/devices/system/cpu/online``               CPU count
``/sys/kernel/fadump/enabled``                   powerpc firmware-assisted dump
``/boot/config-<release>``, ``/proc/config.gz``  CONFIG_CMA, CONFIG_KEXEC, CONFIG_KEXEC_FILE, CONFIG_CRASH_DUMP
``/boot/vmlinuz-<release>``, kdump initrds       kdump sizing inputs (sizes from the files)
``/etc/kdump.conf``, ``/etc/default/kdump-tools``,
``/etc/sysconfig/kdump``                         dump level and core collector
===============================================  ===============================================

Without root, ``/proc/iomem`` shows every address as zero.  The probe then takes the RAM total
from ``/proc/zoneinfo`` (the sum of ``present`` pages over all zones is memblock.memory, counted
by ``calculate_node_totalpages``; readable by anyone) and returns a map with
``layout_known=False``: enough to evaluate ``crashkernel=`` parsing (which needs only
``system_ram``), while the simulator must refuse to place anything on it.
"""

from __future__ import annotations

import errno
import gzip
import os
import re
import sys
from dataclasses import replace
from pathlib import Path

from crashplan.errors import InputError
from crashplan.memmap.iomem import addresses_hidden, parse_iomem
from crashplan.memmap.model import Machine, MemoryMap, Span
from crashplan.textlines import split_lines

__all__ = ["read_text", "probe_host", "resolve_machine", "MAX_INPUT_BYTES"]

MAX_INPUT_BYTES = 64 << 20
_SWIOTLB_SLAB = 1 << 11  # IO_TLB_SHIFT
_SWIOTLB_SEGSIZE = 128  # IO_TLB_SEGSIZE: nslabs are rounded up to this


def read_text(path: str, *, limit: int = MAX_INPUT_BYTES) -> str:
    """Read a text file (``-`` = standard input) for a reader.

    Undecodable bytes are kept as surrogates (``surrogateescape``) for the readers to point at;
    missing, unreadable, directory, oversized and binary (NUL bytes) inputs are an
    :class:`InputError` naming the file.
    """
    name = "<stdin>" if path == "-" else path
    try:
        if path == "-":
            data = _read_limited(sys.stdin.buffer, limit + 1)
        else:
            with open(path, "rb", buffering=0) as f:
                data = _read_limited(f, limit + 1)
    except FileNotFoundError:
        raise InputError("no such file", path=name) from None
    except IsADirectoryError:
        raise InputError("is a directory, expected a file", path=name) from None
    except PermissionError:
        raise InputError("permission denied", path=name) from None
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror or e}", path=name) from None
    if len(data) > limit:
        raise InputError(f"larger than {limit >> 20} MiB: not a memory map, boot log or machine file", path=name)
    nul = data.find(b"\0")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise InputError(f"binary data (a NUL byte at offset {nul}): expected a text file", path=name, line=line)
    return data.decode("utf-8", "surrogateescape")


def _read_limited(f, limit: int) -> bytes:  # type: ignore[no-untyped-def]
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


# ---------------------------------------------------------------------------------------------
# the host


class _Tree:
    """Files under ``root``; reading never raises, a missing or unreadable file is ``None``."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.is_host = self.root.resolve() == Path("/")

    def path(self, rel: str) -> Path:
        return self.root / rel.lstrip("/")

    def read(self, rel: str, *, limit: int = MAX_INPUT_BYTES) -> str | None:
        try:
            with open(self.path(rel), "rb", buffering=0) as f:
                data = _read_limited(f, limit)
        except OSError:
            return None
        return data.decode("utf-8", "surrogateescape")

    def exists(self, rel: str) -> bool:
        return self.path(rel).exists()

    def size(self, rel: str) -> int | None:
        try:
            return self.path(rel).stat().st_size
        except OSError:
            return None


def read_os_release(root: str | os.PathLike[str] = "/") -> dict[str, str]:
    """``/etc/os-release`` (else ``/usr/lib/os-release``) as a dict; empty when neither is readable."""
    tree = _Tree(root)
    text = tree.read("/etc/os-release") or tree.read("/usr/lib/os-release") or ""
    out: dict[str, str] = {}
    for line in text.splitlines():
        k, sep, v = line.strip().partition("=")
        if sep and k and not k.startswith("#"):
            out[k] = v.strip().strip('"').strip("'")
    return out


def read_calibrate_conf(root: str | os.PathLike[str] = "/") -> dict[str, int]:
    """SUSE's ``/usr/lib/kdump/calibrate.conf`` (``KEY=VALUE`` lines of KiB/bytes); empty when absent."""
    text = _Tree(root).read("/usr/lib/kdump/calibrate.conf") or ""
    out: dict[str, int] = {}
    for line in text.splitlines():
        k, sep, v = line.strip().partition("=")
        v = v.strip().strip('"').strip("'")
        if sep and k and not k.startswith("#") and v.isdigit() and v.isascii():
            out[k.strip()] = int(v)
    return out


def probe_host(
    root: str | os.PathLike[str] = "/",
    *,
    uname: tuple[str, str] | None = None,
    page_size: int | None = None,
) -> Machine:
    """Describe this machine (or the tree under ``root``) as a :class:`Machine`.

    ``uname`` is ``(release, machine)``; by default it comes from ``/proc/sys/kernel/osrelease``
    and ``/proc/sys/kernel/arch`` (``os.uname()`` on the host itself).  ``page_size`` defaults to
    the host's (4096 for a tree that is not ``/``).
    """
    tree = _Tree(root)
    notes: list[str] = []
    release, machine_arch = _uname(tree, uname)
    arch = arch_or_none(machine_arch)
    if page_size is None:
        page_size = os.sysconf("SC_PAGE_SIZE") if tree.is_host else 4096
    cmdline = tree.read("/proc/cmdline")
    if cmdline is not None:
        cmdline = cmdline[:-1] if cmdline.endswith("\n") else cmdline
    zones = _zoneinfo(tree.read("/proc/zoneinfo"))
    present = sum(z.get("present", 0) for z in zones.values()) * page_size if zones else None

    iomem = tree.read("/proc/iomem")
    if iomem is None:
        raise InputError("cannot read the memory map (is this Linux with /proc mounted?)",
                         path=str(tree.path("/proc/iomem")))
    system_ram = None
    if addresses_hidden(iomem):
        if not present:
            raise InputError("all addresses are zero (not root) and /proc/zoneinfo gives no RAM total; "
                             "run as root", path="/proc/iomem", line=1)
        memmap = MemoryMap(ram=(), source="/proc/zoneinfo", layout_known=False)
        system_ram = present
        notes.append("not root: /proc/iomem is zeroed, so the memory layout is unknown; the RAM total is the "
                     "sum of present pages in /proc/zoneinfo. Run as root for a map the simulator can use.")
    else:
        memmap = parse_iomem(iomem, source="/proc/iomem", arch=arch, page_size=page_size)
        if present and present != memmap.system_ram():
            notes.append(f"/proc/zoneinfo counts {present} bytes of present pages, /proc/iomem {memmap.system_ram()} "
                         "(memory hotplug or a firmware quirk)")

    crash_size = _int(tree.read("/sys/kernel/kexec/crash_size"))
    if crash_size is None:
        crash_size = _int(tree.read("/sys/kernel/kexec_crash_size"))
    cma_path = "/sys/kernel/kexec/crash_cma_ranges"
    cma = _cma_ranges(tree.read(cma_path), cma_path)
    if cma and memmap.layout_known:
        memmap = replace(memmap, crash=tuple(sorted(memmap.crash + cma)))

    boot_facts: dict[str, object] = {}
    if arch == "x86_64" and memmap.layout_known:
        # where the boot loader put the initrd (reserved through the crash reservation) is only in the
        # boot log; EFI firmware keeps boot-services memory reserved too (crashplan.placement)
        if tree.exists("/sys/firmware"):
            boot_facts["efi"] = tree.exists("/sys/firmware/efi")
        from crashplan.memmap.bootlog import initrd_from_log

        initrd = initrd_from_log(_kernel_log(tree) or "")
        if initrd is not None:  # else (log not readable, or rotated out) check shows the band
            memmap = replace(memmap, reserved=tuple(sorted(memmap.reserved + (initrd,))))
    swiotlb = _swiotlb(tree, cmdline)
    mem_encrypt = _mem_encrypt(tree, cmdline, arch, notes)
    kaslr = False if cmdline is not None and _has_param(cmdline, "nokaslr") else None
    fadump = None
    if arch == "ppc64le":
        flag = tree.read("/sys/kernel/fadump/enabled") or tree.read("/sys/kernel/fadump_enabled")
        if flag is not None:
            fadump = flag.strip() == "1"
    dma_limit = None
    if arch == "arm64" and zones:
        dma_limit = _zone_end(zones, page_size)
        if dma_limit is not None:
            notes.append("dma_limit is the end of ZONE_DMA (or ZONE_DMA32) in /proc/zoneinfo")

    hostname = (tree.read("/proc/sys/kernel/hostname") or "").strip()
    from crashplan import __version__

    return Machine(
        memmap=memmap,
        name=hostname,
        provenance=f"probed by crashplan {__version__} from {tree.root}" + (f" (kernel {release})" if release else ""),
        arch=arch,
        kernel=release,
        cmdline=cmdline,
        system_ram=system_ram,
        swiotlb_size=swiotlb,
        mem_encrypt=mem_encrypt,
        kaslr=kaslr,
        cpus=_cpu_count(tree.read("/sys/devices/system/cpu/online")),
        page_size=page_size,
        dma_limit=dma_limit,
        fadump=fadump,
        kexec_crash_size=crash_size,
        crash_cma_ranges=cma,
        notes=tuple(notes),
        kdump=_kdump_facts(tree, release, arch, page_size),
        boot_facts=boot_facts,
    )


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


def _uname(tree: _Tree, uname: tuple[str, str] | None) -> tuple[str | None, str | None]:
    if uname is not None:
        return uname
    release = (tree.read("/proc/sys/kernel/osrelease") or "").strip() or None
    machine = (tree.read("/proc/sys/kernel/arch") or "").strip() or None
    if tree.is_host:
        u = os.uname()
        release = release or u.release
        machine = machine or u.machine
    return release, machine


def arch_or_none(name: str | None) -> str | None:
    """The canonical architecture for ``name`` (uname -m, Debian or kernel spelling); None when unknown."""
    if not name:
        return None
    from crashplan.kernel.arch import normalize_arch

    try:
        return normalize_arch(name)
    except ValueError:
        return None


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
        m = re.match(r"Node\s+(\d+),\s+zone\s+(\S+)", line)
        if m:
            current = zones.setdefault(f"{m.group(1)}/{m.group(2)}", {})
            continue
        if current is None:
            continue
        m = re.match(r"\s+(present|spanned|start_pfn):?\s+(\d+)\s*$", line)
        if m:
            current[m.group(1)] = int(m.group(2))
    return zones


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
    for n, line in enumerate(split_lines(text), start=1):
        line = line.strip()
        if not line:
            continue
        m = re.fullmatch(r"([0-9a-fA-F]{1,16})-([0-9a-fA-F]{1,16})", line)
        if m is None or int(m.group(1), 16) > int(m.group(2), 16):
            raise InputError(f"expected a range like 100000000-10c7fffff, found {ascii(line[:40])}",
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
    m = re.search(r"^flags\s*:(.*)$", cpuinfo, re.M)
    flags = set(m.group(1).split()) if m else set()
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
                       f"/var/lib/kdump/initrd.img-{release}", f"/var/lib/kdump/initrd.img"):
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
        for line in text.splitlines():
            line = line.strip()
            if line.startswith("core_collector"):
                collector = line[len("core_collector"):].strip() or None
    if collector is None:
        text = tree.read("/etc/default/kdump-tools", limit=1 << 20)  # Debian kdump-tools
        m = re.search(r'^\s*MAKEDUMP_ARGS="([^"]*)"', text or "", re.M)
        if m:
            collector = "makedumpfile " + m.group(1)
    level = None
    if collector:
        m = re.search(r"(?:^|\s)-d\s*(\d+)", collector)
        if m and int(m.group(1)) <= 31:
            level = int(m.group(1))
    if level is None:
        text = tree.read("/etc/sysconfig/kdump", limit=1 << 20)  # SUSE kdump
        m = re.search(r'^\s*KDUMP_DUMPLEVEL="?(\d+)"?', text or "", re.M)
        if m and int(m.group(1)) <= 31:
            level = int(m.group(1))
    return level, collector


def _kernel_config(tree: _Tree, release: str | None) -> dict[str, object]:
    text = tree.read(f"/boot/config-{release}") if release else None
    if text is None and tree.exists("/proc/config.gz"):
        try:
            with gzip.open(tree.path("/proc/config.gz"), "rt", encoding="utf-8", errors="replace") as f:
                text = f.read(1 << 22)
        except (OSError, EOFError):
            text = None
    if not text:
        return {}
    config: dict[str, object] = {}
    # CONFIG_KEXEC too: with CONFIG_KEXEC_FILE it tells whether a capture kernel can be loaded at all
    for key in ("CONFIG_CMA", "CONFIG_KEXEC", "CONFIG_KEXEC_FILE", "CONFIG_CRASH_DUMP"):
        if re.search(rf"^{key}=y\s*$", text, re.M):
            config[key] = True
        elif re.search(rf"^# {key} is not set\s*$", text, re.M):
            config[key] = False
    return config


# ---------------------------------------------------------------------------------------------
# choosing the source


def resolve_machine(
    *,
    iomem: str | None = None,
    boot_log: str | None = None,
    machine: str | None = None,
    arch: str | None = None,
    root: str | os.PathLike[str] = "/",
    fallback_machine: str | None = None,
) -> Machine:
    """The machine the options name: ``--iomem FILE``, ``--boot-log FILE``, ``--machine FILE``
    (at most one; ``-`` reads standard input), or, with none, this host (:func:`probe_host`).

    ``fallback_machine`` (``--fallback-machine FILE``) is used instead of this host when no source is
    given and this host's memory layout cannot be read (not root); its notes say so.

    ``arch`` fills in the architecture a memory map or boot log does not state (it decides how
    arm64 NOMAP entries are read); a machine file's own ``arch`` wins.
    """
    import click

    given = [(flag, value) for flag, value in (("--iomem", iomem), ("--boot-log", boot_log),
                                               ("--machine", machine)) if value is not None]
    if len(given) > 1:
        raise click.UsageError(f"{given[0][0]} and {given[1][0]} cannot be used together: give one source "
                               "(--iomem, --boot-log or --machine)")
    canonical = None
    if arch is not None:
        from crashplan.kernel.arch import normalize_arch

        try:
            canonical = normalize_arch(arch)
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="--arch") from None
    if not given:
        found = probe_host(root)
        if fallback_machine is not None and not found.memmap.layout_known:
            from crashplan.memmap.machine import load_machine

            fb = load_machine(read_text(fallback_machine), source=fallback_machine)
            why = (f"this machine's memory map cannot be read (run as root); using {fallback_machine} instead")
            return replace(fb, notes=tuple(fb.notes) + (why,))
        return found if canonical is None or found.arch is not None else replace(found, arch=canonical)
    flag, path = given[0]
    name = "<stdin>" if path == "-" else path
    text = read_text(path)
    if flag == "--machine":
        from crashplan.memmap.machine import load_machine

        found = load_machine(text, source=name)
        return found if found.arch is not None or canonical is None else replace(found, arch=canonical)
    if flag == "--iomem":
        memmap = parse_iomem(text, source=name, arch=canonical)
        return Machine(memmap=memmap, name=os.path.basename(path) if path != "-" else "",
                       provenance=f"/proc/iomem copy {name}", arch=canonical)
    from crashplan.memmap.bootlog import parse_boot_log

    found = parse_boot_log(text, source=name)
    return found if found.arch is not None or canonical is None else replace(found, arch=canonical)
