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

import os
import sys

from crashplan.cli.hostfacts import (
    MAX_INPUT_BYTES,
    _cma_ranges,
    _cpu_count,
    _has_param,
    _initrd_from_kmsg,
    _int,
    _kdump_facts,
    _kernel_log,
    _mem_encrypt,
    _read_limited,
    _swiotlb,
    _Tree,
    _zone_end,
    _zoneinfo,
)
from crashplan.errors import InputError
from crashplan.memmap.iomem import addresses_hidden, parse_iomem
from crashplan.memmap.model import Machine, MemoryMap

# _cma_ranges and _read_limited: crashplan status (cli/status_cmd.py) reads those files too
__all__ = ["MAX_INPUT_BYTES", "_cma_ranges", "_read_limited", "probe_host", "read_text", "resolve_machine"]



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


# ---------------------------------------------------------------------------------------------
# the host


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
        cmdline = cmdline.removesuffix("\n")
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
        memmap = memmap.replace(crash=tuple(sorted(memmap.crash + cma)))

    boot_facts: dict[str, object] = {}
    if arch == "x86_64" and memmap.layout_known:
        # where the boot loader put the initrd (reserved through the crash reservation) is only in the
        # boot log; EFI firmware keeps boot-services memory reserved too (crashplan.placement)
        if tree.exists("/sys/firmware"):
            boot_facts["efi"] = tree.exists("/sys/firmware/efi")
        initrd = _initrd_from_kmsg(_kernel_log(tree) or "")
        if initrd is not None:  # else (log not readable, or rotated out) check shows the band
            memmap = memmap.replace(reserved=tuple(sorted((*memmap.reserved, initrd))))
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
            return fb.replace(notes=(*fb.notes, why))
        return found if canonical is None or found.arch is not None else found.replace(arch=canonical)
    flag, path = given[0]
    name = "<stdin>" if path == "-" else path
    text = read_text(path)
    if flag == "--machine":
        from crashplan.memmap.machine import load_machine

        found = load_machine(text, source=name)
        return found if found.arch is not None or canonical is None else found.replace(arch=canonical)
    if flag == "--iomem":
        memmap = parse_iomem(text, source=name, arch=canonical)
        return Machine(memmap=memmap, name=os.path.basename(path) if path != "-" else "",
                       provenance=f"/proc/iomem copy {name}", arch=canonical)
    from crashplan.memmap.bootlog import parse_boot_log

    found = parse_boot_log(text, source=name)
    return found if found.arch is not None or canonical is None else found.replace(arch=canonical)
