"""Combine what is known about a machine into the model's inputs, saying where each value came from.

Priority, highest first: command-line overrides, files read (kernel image, initrd, kdump
configuration, kernel config, luksDump), the machine file's ``kdump:`` section and machine facts,
then documented defaults.  Every default taken is listed in ``SizingInputs.assumptions``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from crashplan.sizing.initrd import InitrdInfo
from crashplan.sizing.kconfig import KernelConfig
from crashplan.sizing.kdumpconf import KdumpConfig, MakedumpfileArgs, capture_cpus, parse_makedumpfile_args
from crashplan.sizing.kernel_image import KernelImage
from crashplan.sizing.luks import LuksInfo
from crashplan.sizing.model import SizingInputs
from crashplan.sizing.plans import CmaFacts

TYPE_CHECKING = False  # read by mypy as typing.TYPE_CHECKING
if TYPE_CHECKING:
    from typing import Any, TypeAlias

    from crashplan.memmap.model import Machine

    # A machine file's ``kdump:`` section: YAML values, checked against docs/machine-format.md by
    # crashplan.memmap.machine when the file is read, so typed loosely here.
    _Section: TypeAlias = Mapping[str, Any]

__all__ = ["Overrides", "Sources", "build_inputs", "release_for_rules"]

# kdump-lab's "pad40" initrd, "a distribution-sized kdump initrd": packed and unpacked bytes
ASSUMED_INITRD = (45_481_776, 49_711_148)


@dataclass(frozen=True, slots=True, kw_only=True)
class Overrides:
    """Values given on the command line (None = not given)."""

    arch: str | None = None
    kernel: str | None = None
    ram: int | None = None
    kernel_size: int | None = None
    initrd_size: int | None = None
    initrd_unpacked: int | None = None
    nr_cpus: int | None = None
    dump_level: int | None = None
    collector: str | None = None
    kexec: str | None = None  # "file" or "load"
    luks_memory: int | None = None
    network: bool | None = None
    mem_encrypt: str | None = None
    fadump: bool | None = None
    mlx5: bool | None = None
    smmu: bool | None = None
    capture_append: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Sources:
    """Files read by the command line (None = not read)."""

    kernel_image: KernelImage | None = None
    initrd: InitrdInfo | None = None
    kdump: KdumpConfig | None = None
    kconfig: KernelConfig | None = None
    luks: LuksInfo | None = None


def release_for_rules(release: str) -> tuple[str, str | None]:
    """A release ``crashplan.kernel`` models, and a note when ``release`` had to be clamped."""
    from crashplan.kernel.versions import NEWEST, OLDEST, parse_release

    try:
        parse_release(release)
        return release, None
    except ValueError as e:
        import re

        m = re.match(r"^\s*v?(\d+)\.(\d+)", release)
        if not m:
            raise
        series = (int(m.group(1)), int(m.group(2)))
        use = OLDEST if series < OLDEST else NEWEST if series > NEWEST else None
        if use is None:
            raise ValueError(str(e)) from None
        label = f"{use[0]}.{use[1]}"
        return label, (f"kernel {release} is outside the releases crashplan models: its crashkernel= rules are "
                       f"taken from {label} (distribution backports may differ)")


def _kd(machine: Machine | None) -> _Section:
    kd = getattr(machine, "kdump", None) if machine is not None else None
    return kd or {}


def _sub(kd: _Section, key: str) -> _Section:
    v = kd.get(key)
    return v if isinstance(v, Mapping) else {}


def _config_flag(kd: _Section, kconfig: KernelConfig | None, name: str) -> bool | None:
    if kconfig is not None:
        return kconfig.enabled(name)
    cfg = _sub(kd, "kernel_config")
    v = cfg.get("CONFIG_" + name)
    if v is None:
        return None
    if isinstance(v, bool):
        return v
    return str(v) in ("y", "m")


def _rootfs_cap(cmdline: str | None, release: str) -> tuple[float | int | None, str | None]:
    """``initramfs_options=size=…`` (honoured from 6.18: fs/namespace.c initramfs_options_setup())."""
    if not cmdline or "initramfs_options=" not in cmdline:
        return None, None
    from crashplan.cmdline import split_params
    from crashplan.kernel import parse_release
    from crashplan.kernel.versions import SWITCHES

    value = None
    for p in split_params(cmdline):
        if p.name == "initramfs_options" and p.value:
            value = p.value
    if value is None:
        return None, None
    if not SWITCHES["initramfs_options"].on(parse_release(release)):
        return None, f"initramfs_options= is ignored before Linux 6.18 (the kernel is {release})"
    for opt in value.split(","):
        if opt.startswith("size="):
            s = opt[5:]
            if s.endswith("%"):
                try:
                    return max(1, min(int(s[:-1]), 100)) / 100, None
                except ValueError:
                    return None, f"initramfs_options: cannot read {opt!r}"
            from crashplan.units import parse_size

            try:
                return parse_size(s), None
            except ValueError:
                return None, f"initramfs_options: cannot read {opt!r}"
    return None, None


def build_inputs(
    *,
    machine: Machine | None,
    sources: Sources,
    overrides: Overrides,
) -> tuple[SizingInputs, CmaFacts, str, tuple[str, ...]]:
    """Returns (inputs, CMA facts, release whose rules apply, notes).  Raises ValueError naming what
    is missing (architecture, release, RAM)."""
    kd = _kd(machine)
    notes: list[str] = []
    assumptions: list[str] = []
    arch, release, release_known, rules, ram = _target(machine, sources, overrides, notes)
    kernel_mem, ksrc, kernel_align = _kernel_memory(kd, sources, overrides, arch, notes, assumptions)
    initrd_size, unpacked, features, userspace = _initrd(kd, sources, overrides, notes, assumptions)
    info = sources.initrd

    # the kdump configuration
    cfg = sources.kdump
    if cfg is not None:
        notes.extend(cfg.warnings)
    mdf, user_pages = _collector(kd, cfg, overrides)
    nr_cpus = _capture_cpus(kd, cfg, overrides, machine, assumptions)
    kexec, kexec_reason = _kexec(kd, cfg, overrides)

    network = overrides.network
    if network is None and cfg is not None and cfg.network is not None:
        network = cfg.network
    if network is None and {"network", "nfs", "ssh"} & features:
        network = True
        notes.append("the initrd carries network tools: a network dump is assumed")
    luks_mem = overrides.luks_memory
    if luks_mem is None and sources.luks is not None:
        luks_mem = sources.luks.max_memory
    if luks_mem is None and kd.get("luks_memory") is not None:
        luks_mem = int(kd["luks_memory"])
    luks = luks_mem is not None or "cryptsetup" in features

    plat = _sub(kd, "platform")
    img = sources.kernel_image.effective if sources.kernel_image is not None else None
    page_size = int(plat.get("page_size") or getattr(machine, "page_size", 0) or 0) or 4096
    if img is not None and img.page_size:
        page_size = img.page_size
    elif sources.kconfig is not None and sources.kconfig.page_size:
        page_size = sources.kconfig.page_size
    mlx5 = overrides.mlx5 if overrides.mlx5 is not None else bool(plat.get("mlx5") or "mlx5" in features)
    smmu = overrides.smmu if overrides.smmu is not None else bool(plat.get("smmu"))
    mem_encrypt = overrides.mem_encrypt or getattr(machine, "mem_encrypt", None)
    fadump = overrides.fadump if overrides.fadump is not None else getattr(machine, "fadump", None)
    if fadump is None and cfg is not None:
        fadump = cfg.fadump

    capture = overrides.capture_append or (cfg.capture_append if cfg is not None else None)
    cap, rootfs_tmpfs = _rootfs(capture, rules, sources, notes)

    elfcorehdr = None
    if sources.kconfig is not None:
        phdrs = sources.kconfig.elfcorehdr_phdrs()
        if phdrs is not None:
            elfcorehdr = 64 + phdrs * 56
    cpus = getattr(machine, "cpus", None)
    ranges = len(getattr(getattr(machine, "memmap", None), "ram", ()) or ()) or 16
    switches_root = cfg is not None and cfg.flavour == "kdump-tools"
    inputs = SizingInputs(
        arch=arch, kernel=release, system_ram=int(ram), kernel_mem=kernel_mem, kernel_mem_source=ksrc,
        kernel_align=kernel_align, initrd_size=int(initrd_size), initrd_unpacked=int(unpacked),
        initrd_features=features,
        initrd_switches_root=switches_root, module_bytes=info.module_bytes if info is not None else 0,
        nr_cpus=nr_cpus, num_threads=mdf.num_threads if mdf else 0, split=bool(mdf and mdf.split),
        network=bool(network), luks_memory=luks_mem or 0, luks=luks, mem_encrypt=mem_encrypt, mlx5=mlx5, smmu=smmu,
        page_size=page_size, rootfs_tmpfs=rootfs_tmpfs, rootfs_cap=cap, elfcorehdr=elfcorehdr,
        possible_cpus=cpus, memory_ranges=ranges, userspace=userspace, initrd_assumed=userspace is not None,
        assumptions=tuple(assumptions),
    )
    facts = CmaFacts(
        kexec_mode=kexec, kexec_reason=kexec_reason, user_pages=user_pages, fadump=fadump,
        config_cma=_config_flag(kd, sources.kconfig, "CMA"),
        config_kexec_file=_config_flag(kd, sources.kconfig, "KEXEC_FILE"),
        config_source=sources.kconfig.source if sources.kconfig is not None else (
            "machine file kernel_config" if _sub(kd, "kernel_config") else None),
        kdump_flavour=cfg.flavour if cfg is not None else None, release_known=release_known,
    )
    return inputs, facts, rules, tuple(dict.fromkeys(notes))


def _target(machine: Machine | None, sources: Sources, overrides: Overrides,
            notes: list[str]) -> tuple[str, str, bool, str, int]:
    """(architecture, release, whether the release is known, release whose rules apply, RAM)."""
    arch = overrides.arch or getattr(machine, "arch", None)
    if arch is None and sources.kernel_image is not None:
        arch = sources.kernel_image.effective.arch
    if arch is None:
        raise ValueError("cannot tell the architecture: pass --arch (or a machine file with arch:)")
    from crashplan.kernel import normalize_arch

    arch = normalize_arch(arch)
    release = overrides.kernel or getattr(machine, "kernel", None)
    release_known = release is not None
    if release is None:
        from crashplan.kernel.versions import NEWEST

        release = f"{NEWEST[0]}.{NEWEST[1]}"
        notes.append(f"the kernel release is not known: the crashkernel= rules of {release} are used (pass --kernel)")
    rules, clamp = release_for_rules(release)
    if clamp:
        notes.append(clamp)
    ram = overrides.ram
    if ram is None and machine is not None:
        ram = machine.ram_size() or None
    if not ram:
        raise ValueError("cannot tell the RAM size: pass --ram (e.g. --ram 16G) or a memory map")
    return arch, release, release_known, rules, ram


def _kernel_memory(kd: _Section, sources: Sources, overrides: Overrides, arch: str, notes: list[str],
                   assumptions: list[str]) -> tuple[int | None, str | None, int | None]:
    """The kernel's in-memory size, where that figure comes from, and its alignment."""
    kimg = _sub(kd, "kernel_image")
    kernel_mem = kernel_align = None
    ksrc = None
    img = sources.kernel_image.effective if sources.kernel_image is not None else None
    if overrides.kernel_size is not None:
        kernel_mem, ksrc = overrides.kernel_size, "--kernel-size"
    elif img is not None and img.mem_size:
        kernel_mem = img.mem_size
        ksrc = f"{img.format} {img.mem_size_source}"
        kernel_align = img.align
    elif kimg.get("init_size"):
        kernel_mem = int(kimg["init_size"])
        ksrc = "machine file kernel_image.init_size"
    else:
        what = "the kernel image could not be read" if sources.kernel_image is None else \
            "the kernel image header gives no in-memory size"
        assumptions.append(f"{what}: 64 MiB assumed for the kernel in memory (pass --kernel-image or --kernel-size)")
    if sources.kernel_image is not None:
        notes.extend(sources.kernel_image.notes)
    if kernel_align is None and sources.kconfig is not None and arch == "x86_64":
        kernel_align = sources.kconfig.number("PHYSICAL_ALIGN")
    return kernel_mem, ksrc, kernel_align


def _initrd(kd: _Section, sources: Sources, overrides: Overrides, notes: list[str],
            assumptions: list[str]) -> tuple[int, int, frozenset[str], str | None]:
    """(packed size, unpacked size, features, assumed userspace) of the kdump initrd."""
    ird = _sub(kd, "initrd")
    info = sources.initrd
    initrd_size = overrides.initrd_size
    if initrd_size is None:
        initrd_size = info.size if info is not None else ird.get("size")
    unpacked = overrides.initrd_unpacked
    if unpacked is None:
        if info is not None and info.tmpfs_bytes is not None:
            unpacked = info.tmpfs_bytes
        elif ird.get("unpacked_size") is not None:
            unpacked = int(ird["unpacked_size"])
    features: frozenset[str] = info.features if info is not None else frozenset()
    userspace = None
    if initrd_size is None:
        initrd_size, unpacked, userspace = (*ASSUMED_INITRD, "systemd")
        assumptions.append(f"no kdump initrd known: a distribution-sized one is assumed ({initrd_size >> 20} MiB "
                           f"packed, {unpacked >> 20} MiB unpacked, systemd-based: kdump-lab's 'pad40' initrd); "
                           "pass --initrd, or --initrd-size and --initrd-unpacked")
    elif unpacked is None:
        why = info.describe_unpacked() if info is not None else "not given"
        unpacked = 3 * int(initrd_size)
        assumptions.append(f"the initrd's unpacked size is unknown ({why}): 3 x its packed size assumed, a "
                           "typical ratio for gzip, zstd and xz initrds (pass --initrd-unpacked)")
    if info is not None:
        notes.extend(info.notes)
        if info.error:
            notes.append(f"the initrd is unreadable for the kernel: \"{info.error}\"")
    return int(initrd_size), int(unpacked), features, userspace


def _collector(kd: _Section, cfg: KdumpConfig | None,
               overrides: Overrides) -> tuple[MakedumpfileArgs | None, tuple[bool, str] | None]:
    """The dump collector's makedumpfile arguments, and whether it keeps user pages (CMA)."""
    mdf: MakedumpfileArgs | None = cfg.makedumpfile if cfg is not None else None
    coll_name = cfg.collector if cfg is not None else None
    coll_text = overrides.collector or (kd.get("collector") if cfg is None or cfg.collector is None else None)
    if coll_text:
        words = str(coll_text).split()
        prog = words[0].rsplit("/", 1)[-1] if words else ""
        if prog == "makedumpfile":
            mdf = parse_makedumpfile_args(str(coll_text), path="--collector" if overrides.collector else None)
            coll_name = "makedumpfile"
        else:
            coll_name, mdf = prog or None, None
    level = overrides.dump_level
    if level is None and kd.get("dump_level") is not None and (mdf is None or not mdf.dump_levels):
        level = int(kd["dump_level"])
    if level is not None:
        mdf = MakedumpfileArgs(dump_levels=(level,)) if mdf is None else _with_level(mdf, level)
        coll_name = coll_name or "makedumpfile"
    user_pages = None
    if coll_name is not None or mdf is not None:
        user_pages = KdumpConfig(collector=coll_name, makedumpfile=mdf).keeps_user_pages()
    return mdf, user_pages


def _capture_cpus(kd: _Section, cfg: KdumpConfig | None, overrides: Overrides, machine: Machine | None,
                  assumptions: list[str]) -> int:
    """How many CPUs the capture kernel brings up."""
    nr_cpus = overrides.nr_cpus
    if nr_cpus is None:
        nr_cpus = capture_cpus(overrides.capture_append)
    if nr_cpus is None and cfg is not None and cfg.nr_cpus is not None:
        nr_cpus = cfg.nr_cpus
    if nr_cpus is None and kd.get("nr_cpus") is not None:
        nr_cpus = int(kd["nr_cpus"])
    if nr_cpus == 0:
        nr_cpus = getattr(machine, "cpus", None) or 1
    if nr_cpus is None:
        nr_cpus = 1
        assumptions.append("capture CPUs unknown: nr_cpus=1 assumed (Fedora, Debian and SUSE defaults)")
    return nr_cpus


def _kexec(kd: _Section, cfg: KdumpConfig | None, overrides: Overrides) -> tuple[str | None, str | None]:
    """kexec_load or kexec_file_load, and why crashplan thinks so."""
    kexec = overrides.kexec
    kexec_reason = None
    if kexec is not None:
        kexec_reason = f"--kexec {kexec}"
    elif cfg is not None and cfg.kexec_mode is not None:
        kexec, kexec_reason = cfg.kexec_mode, cfg.kexec_reason
    elif kd.get("kexec_file_load") is not None:
        kexec = "file" if kd["kexec_file_load"] else "load"
        kexec_reason = "machine file kexec_file_load: " + ("true" if kd["kexec_file_load"] else "false")
    return kexec, kexec_reason


def _rootfs(capture: str | None, rules: str, sources: Sources, notes: list[str]) -> tuple[float | int | None, bool]:
    """The capture rootfs: its size cap (initramfs_options=) and whether it is tmpfs."""
    cap, cap_note = _rootfs_cap(capture, rules)
    if cap_note:
        notes.append(cap_note)
    rootfs_tmpfs = True
    if sources.kconfig is not None and sources.kconfig.enabled("TMPFS") is False:
        rootfs_tmpfs = False
        notes.append("the kernel has no CONFIG_TMPFS: the rootfs is ramfs, which has no size cap")
    return cap, rootfs_tmpfs


def _with_level(m: MakedumpfileArgs, level: int) -> MakedumpfileArgs:
    from dataclasses import replace

    return replace(m, dump_levels=(level,))
