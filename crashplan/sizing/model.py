"""The sizing model: what a capture kernel needs, term by term, and the sizes that follow.

Every term is a ``Term`` with its size, the phase it belongs to, why it is there and where its
number comes from (read from the inputs, a kernel rule, or an assumption with its citation).  The
model is a function of plain data (``SizingInputs``); it never reads files.

The capture kernel's RAM ``X`` is the crash region minus the elfcorehdr (which the kernel excludes
from the capture kernel's memory map, ``arch/x86/kernel/crash.c:memmap_exclude_ranges()``), plus the
CMA ranges for a CMA plan.  Three constraints must hold; the largest decides:

boot
    the kernel at its in-memory size, the packed initrd (reserved until unpacked,
    ``init/initramfs.c:do_populate_rootfs()``), the unpacked files, the kernel's own allocations
    while it boots, the ``struct page`` array and system hashes sized from ``X``, the free-page
    watermarks, platform extras.
run
    the same without the packed initrd, plus userspace, makedumpfile (``calculate_cyclic_buffer_size``),
    network or LUKS, and makedumpfile's temporary files.
rootfs cap
    the rootfs is tmpfs, mounted in ``init_mount_tree()`` with the default size of half of
    ``totalram_pages()`` *at that moment* (``mm/shmem.c:shmem_default_max_blocks()``): the kernel
    image, the packed initrd and the early memblock allocations are still reserved then.  The
    unpacked files and makedumpfile's files in ``/tmp`` must fit in that half, or unpacking fails
    with "Initramfs unpacking failed: write error".  From 6.18 ``initramfs_options=size=…`` on the
    capture command line sets another cap (``fs/namespace.c:initramfs_options_setup()``).

and the segments must load (``crashplan.sizing.segments``).  A margin of ``MARGIN`` of the
requirement is added and the result rounded up to a clean size (``clean_size``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from crashplan.sizing.segments import Segment, crash_segments, min_region
from crashplan.units import GiB, KiB, MiB

__all__ = [
    "CONSTANTS",
    "MARGIN",
    "Budget",
    "CmaBudget",
    "SizingInputs",
    "Term",
    "classic_budget",
    "clean_size",
    "cma_budget",
]


MARGIN = 0.10  # of the requirement: devices, drivers and kernel updates the inputs do not show
CMA_MARGIN = 0.25  # the CMA part is borrowed memory: a larger margin costs production little

# Named constants, each with the reason for its value (docs/sizing.md has the long form).
CONSTANTS: dict[str, tuple[int, str]] = {
    "kernel_runtime": (16 * MiB, ("the capture kernel's own allocations while it boots and runs (slab caches, "
                       "page tables, sysfs, device probing, block-layer mempools): kdump-utils budgets 16 MiB "
                       "for them (kdumpctl estimate, 'runtime')")),
    "per_cpu": (1 * MiB, ("per capture CPU: per-CPU areas, kthread stacks, per-CPU queues; kdump-utils adds "
                "1 MiB per capture CPU on ppc64le (measured, kdump-lib.sh 0d389855)")),
    "userspace_busybox": (4 * MiB, "a busybox-based dump environment: shell and tools' anonymous memory"),
    "userspace_systemd": (16 * MiB, ("a systemd-based dump environment (dracut): PID 1, udevd, journald and its "
                          "journal in /run")),
    "userspace_unknown": (8 * MiB, ("the initrd's content is unknown: between a busybox (4 MiB) and a systemd "
                          "(16 MiB) environment")),
    "makedumpfile": (1 * MiB, ("makedumpfile's own heap and stack beyond its bitmaps: its peak RSS was 3.3-3.4 MB "
                     "in every kdump-lab run, most of it the program and libraries mapped from the rootfs (counted "
                     "with the unpacked initrd) and the bitmaps (counted below)")),
    "thread_region": (200 * KiB, "makedumpfile THREAD_REGION per --num-threads thread"),
    "tmp_files": (64 * KiB, "makedumpfile's vmcoreinfo copy in $TMPDIR (/tmp, on the rootfs)"),
    "network": (16 * MiB, "a network dump: the NIC driver's rings, the network stack, the NFS/ssh client"),
    "luks_overhead": (20 * MiB, "cryptsetup beyond the keyslot memory: kdump-utils adds 20 MiB (50 MiB on aarch64)"),
    "luks_overhead_arm64": (50 * MiB, "cryptsetup beyond the keyslot memory on aarch64 (kdump-utils)"),
    "swiotlb_bounce": (8 * MiB, ("x86/arm64: with capture RAM above the 32-bit DMA limit the capture kernel "
                       "allocates its SWIOTLB bounce buffer from low memory; it shrinks from 64 MiB to what fits "
                       "(kdump-lab: 'adjusted 32768 -> 4096 slabs', 8 MiB)")),
    "swiotlb_encrypted": (64 * MiB, ("memory-encrypted guests (SEV/TDX/SME) bounce every DMA through SWIOTLB: "
                          "clamp(6% of RAM, 64 MiB, 1 GiB) (arch/x86/mm/mem_encrypt.c); kdump-utils adds 64 MiB")),
    "mlx5_arm64": (150 * MiB, "aarch64 with mlx5_core: kdump-utils adds 150 MiB (200 MiB with 64K pages)"),
    "mlx5_arm64_64k": (200 * MiB, "aarch64 64K pages with mlx5_core (kdump-utils)"),
    "smmu_64k": (384 * MiB, "aarch64 64K pages with an Arm SMMU: command/event/PRI queues (kdump-utils)"),
    "pages_64k": (100 * MiB, ("a 64K-page kernel allocates in 64K units (page tables, slabs, per-file pages): "
                  "kdump-utils adds 100 MiB for aarch64 64K kernels (measured 82 MiB more MemFree used)")),
    "struct_page": (64, "sizeof(struct page) on 64-bit kernels"),
    "hash_per_mib": (232 * 8, ("system hashes (dentry, inode, mount, PID, TCP/UDP) sized from RAM by "
                     "alloc_large_system_hash(): 232 pointers per MiB (SUSE calibrate)")),
}


def _c(name: str) -> int:
    return CONSTANTS[name][0]


@dataclass(frozen=True, slots=True)
class Term:
    key: str
    label: str
    size: int
    phase: str  # "boot", "run", "both", "cap" (counted against the rootfs cap), "load", "low"
    why: str
    source: str  # "input", "kernel", "assumption", "derived"

    def as_dict(self) -> dict[str, object]:
        return {"key": self.key, "label": self.label, "bytes": self.size, "phase": self.phase, "why": self.why,
                "source": self.source}


@dataclass(frozen=True, slots=True, kw_only=True)
class SizingInputs:
    """Plain data the model needs.  Sizes in bytes; None where unknown (an assumption is used)."""

    arch: str
    kernel: str  # release of the capture kernel (normally the production kernel)
    system_ram: int  # the crashed system's RAM (makedumpfile bitmaps)
    kernel_mem: int | None = None  # the kernel's in-memory size (init_size, image_size, PT_LOAD sum)
    kernel_mem_source: str | None = None
    kernel_align: int | None = None
    initrd_size: int | None = None
    initrd_unpacked: int | None = None  # what the files take in the rootfs (tmpfs pages)
    initrd_assumed: bool = False  # the sizes above are an assumption, not read
    initrd_features: frozenset[str] = frozenset()
    initrd_switches_root: bool = False  # the dump runs from the real root (Debian kdump-tools)
    module_bytes: int = 0
    nr_cpus: int = 1  # CPUs of the capture kernel
    num_threads: int = 0
    split: bool = False
    network: bool = False
    luks_memory: int = 0  # the largest keyslot's memory
    luks: bool = False
    mem_encrypt: str | None = None  # "sev", "sme", "tdx"
    mlx5: bool = False
    smmu: bool = False
    page_size: int = 4096
    rootfs_tmpfs: bool = True
    rootfs_cap: float | int | None = None  # fraction of totalram (0.5 default) or bytes (initramfs_options=size=)
    elfcorehdr: int | None = None
    possible_cpus: int | None = None  # the production kernel's possible CPUs (elfcorehdr notes)
    memory_ranges: int = 16  # System RAM ranges (elfcorehdr PT_LOADs)
    capture_cmdline_len: int = 512
    userspace: str | None = None  # "busybox", "systemd", None = from features / unknown
    assumptions: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True, kw_only=True)
class Budget:
    """The classic plan's arithmetic."""

    terms: tuple[Term, ...]
    capture_ram: int  # X, the capture kernel's RAM
    boot: int
    run: int
    cap: int | None  # the rootfs cap constraint (None when the rootfs is not tmpfs)
    load: int  # smallest region the segments load in
    elfcorehdr: int
    required: int  # region size the model needs
    binding: str  # which constraint decided: "boot", "run", "rootfs cap", "load"
    margin: int
    recommended: int  # rounded, with margin
    segments: tuple[Segment, ...]
    assumptions: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "terms": [t.as_dict() for t in self.terms], "capture_ram": self.capture_ram,
            "constraints": {"boot": self.boot, "run": self.run, "rootfs_cap": self.cap, "load": self.load},
            "elfcorehdr": self.elfcorehdr, "required": self.required, "binding": self.binding,
            "margin": self.margin, "recommended": self.recommended,
            "segments": [{"name": s.name, "bytes": s.size, "align": s.align, "estimated": s.estimated}
                         for s in self.segments],
            "assumptions": list(self.assumptions),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class CmaBudget:
    """The CMA plan's arithmetic: a classic part that holds the segments, a CMA part for run time."""

    classic_required: int
    classic: int  # rounded
    cma_required: int
    cma: int  # rounded
    low_needs: int  # room kept in the classic part for low-memory needs (SWIOTLB)
    load: int
    capture_ram: int
    inner: Budget  # the run-time arithmetic over classic + CMA
    terms: tuple[Term, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "classic_required": self.classic_required, "classic": self.classic, "cma_required": self.cma_required,
            "cma": self.cma, "low_needs": self.low_needs, "load": self.load, "capture_ram": self.capture_ram,
            "terms": [t.as_dict() for t in self.terms], "runtime": self.inner.as_dict(),
        }


def clean_size(n: int) -> int:
    """Round up to a size people write: 8M steps below 256M, 16M below 1G, 64M below 4G, 256M above."""
    if n <= 256 * MiB:
        step = 8 * MiB
    elif n <= GiB:
        step = 16 * MiB
    elif n <= 4 * GiB:
        step = 64 * MiB
    else:
        step = 256 * MiB
    return max(step, -(-n // step) * step)


def _fmt(n: int) -> str:
    from crashplan.units import format_size

    return format_size(n)


def _min_free_kbytes(ram: int) -> int:
    """mm/page_alloc.c calculate_min_free_kbytes(): sqrt(lowmem_kbytes * 16), clamped to [128, 262144]."""
    kb = ram // KiB
    return min(max(math.isqrt(kb * 16), 128), 262144)


def _elfcorehdr(i: SizingInputs) -> int:
    if i.elfcorehdr is not None:
        return i.elfcorehdr
    # crash_prepare_elf64_headers(): an Elf64_Ehdr, a PT_NOTE per possible CPU, one for vmcoreinfo,
    # the kernel text mapping and one PT_LOAD per memory range (56 bytes each)
    cpus = i.possible_cpus or 64
    return 64 + (cpus + 2 + i.memory_ranges) * 56


def _userspace(i: SizingInputs) -> tuple[int, str, str]:
    kind = i.userspace
    if kind is None:
        if "systemd" in i.initrd_features or i.initrd_switches_root:
            kind = "systemd"
        elif "busybox" in i.initrd_features:
            kind = "busybox"
    key = {"systemd": "userspace_systemd", "busybox": "userspace_busybox"}.get(kind or "", "userspace_unknown")
    label = {"systemd": "userspace (systemd)", "busybox": "userspace (busybox)"}.get(kind or "", "userspace")
    return _c(key), label, CONSTANTS[key][1]


def _cyclic_buffer(i: SizingInputs) -> int:
    """makedumpfile.c calculate_cyclic_buffer_size(): min(60% of free, 4 MiB, both bitmaps)."""
    max_mapnr = i.system_ram // i.page_size
    bitmaps = max_mapnr * 2 // 8
    return min(4 * MiB, bitmaps)


def _terms(i: SizingInputs, x: int, *, cma: bool = False, swiotlb_low: bool = False) -> list[Term]:
    """All terms for a capture kernel with ``x`` bytes of RAM."""
    t: list[Term] = []
    kmem = i.kernel_mem if i.kernel_mem is not None else 64 * MiB
    ksrc = i.kernel_mem_source or "assumed 64 MiB (a distribution x86_64 kernel's init_size is 55-64 MiB)"
    t.append(Term("kernel", "kernel image in memory", kmem, "both",
                  f"kexec_file_load loads the kernel at its in-memory size ({ksrc}); it stays resident",
                  "input" if i.kernel_mem is not None else "assumption"))
    isize = i.initrd_size or 0
    t.append(Term("initrd_packed", "initrd (packed)", isize, "boot",
                  "the initrd segment stays reserved until the rootfs is unpacked, then is freed",
                  "input" if i.initrd_size is not None and not i.initrd_assumed else "assumption"))
    unpacked = i.initrd_unpacked if i.initrd_unpacked is not None else (isize * 3 if isize else 0)
    src = "input" if i.initrd_unpacked is not None else "assumption"
    t.append(Term("initrd_unpacked", "initrd unpacked (rootfs)", unpacked, "boot" if i.initrd_switches_root else "both",
                  "the files live in the rootfs (tmpfs) for as long as the dump runs from it"
                  if not i.initrd_switches_root else
                  "the files live in the rootfs until the initramfs switches to the real root",
                  "assumption" if i.initrd_assumed else src))
    memmap = x * _c("struct_page") // i.page_size
    t.append(Term("memmap", "struct page array", memmap, "both",
                  f"64 bytes per {i.page_size // KiB} KiB page of the capture kernel's RAM", "kernel"))
    hashes = (x // MiB) * _c("hash_per_mib")
    t.append(Term("hashes", "system hashes", hashes, "both", CONSTANTS["hash_per_mib"][1], "assumption"))
    t.append(Term("kernel_runtime", "kernel allocations", _c("kernel_runtime"), "both",
                  CONSTANTS["kernel_runtime"][1], "assumption"))
    cpus = max(1, i.nr_cpus)
    t.append(Term("per_cpu", f"per-CPU ({cpus} capture CPU{'s' if cpus != 1 else ''})", cpus * _c("per_cpu"), "both",
                  CONSTANTS["per_cpu"][1], "assumption"))
    wm = _min_free_kbytes(x) * KiB * 3 // 2
    t.append(Term("watermarks", "free-page watermarks", wm, "both",
                  "the page allocator keeps min_free_kbytes (sqrt(16 x RAM in KiB)) free and reclaims up to the "
                  "high watermark, 1.5 x min", "kernel"))
    if i.module_bytes:
        t.append(Term("modules", "kernel modules", i.module_bytes, "both",
                      "modules in the initrd, loaded in the capture kernel (size as stored)", "input"))
    us, ulabel, uwhy = _userspace(i)
    t.append(Term("userspace", ulabel, us, "run", uwhy, "assumption"))
    cyc = _cyclic_buffer(i)
    threads = i.num_threads * _c("thread_region")
    t.append(Term("makedumpfile", "makedumpfile", _c("makedumpfile"), "run", CONSTANTS["makedumpfile"][1],
                  "assumption"))
    t.append(Term("bitmaps", "makedumpfile bitmaps (cyclic buffer)", cyc + threads, "run",
                  f"calculate_cyclic_buffer_size(): min(4 MiB, 2 bits per page of the crashed system's "
                  f"{_fmt(i.system_ram)})" + (f" + {i.num_threads} x THREAD_REGION" if threads else ""),
                  "kernel"))
    t.append(Term("tmp_files", "files in /tmp", _c("tmp_files"), "run", CONSTANTS["tmp_files"][1], "assumption"))
    if i.network:
        t.append(Term("network", "network dump", _c("network"), "run", CONSTANTS["network"][1], "assumption"))
    if i.luks or i.luks_memory:
        over = _c("luks_overhead_arm64") if i.arch == "arm64" else _c("luks_overhead")
        t.append(Term("luks", "LUKS unlock", i.luks_memory + over, "run",
                      f"the largest keyslot's argon2 memory ({i.luks_memory // MiB} MiB) plus cryptsetup "
                      f"({over // MiB} MiB, kdump-utils)", "input" if i.luks_memory else "assumption"))
    if i.mem_encrypt:
        t.append(Term("swiotlb", f"SWIOTLB ({i.mem_encrypt.upper()})", _c("swiotlb_encrypted"), "both",
                      CONSTANTS["swiotlb_encrypted"][1], "kernel"))
    elif swiotlb_low:
        t.append(Term("swiotlb", "SWIOTLB bounce buffer (low memory)", _c("swiotlb_bounce"), "low",
                      CONSTANTS["swiotlb_bounce"][1], "kernel"))
    big = i.page_size == 65536
    if big:
        t.append(Term("pages_64k", "64K pages", _c("pages_64k"), "both", CONSTANTS["pages_64k"][1], "assumption"))
    if i.arch == "arm64":
        if i.mlx5:
            key = "mlx5_arm64_64k" if big else "mlx5_arm64"
            t.append(Term("mlx5", "mlx5_core", _c(key), "both", CONSTANTS[key][1], "assumption"))
        if i.smmu and big:
            t.append(Term("smmu", "Arm SMMU queues", _c("smmu_64k"), "both", CONSTANTS["smmu_64k"][1], "assumption"))
    del cma
    return t


def _constraints(i: SizingInputs, terms: list[Term]) -> tuple[int, int, int | None]:
    by = {t.key: t.size for t in terms}
    both = sum(t.size for t in terms if t.phase == "both")
    boot = both + by.get("initrd_packed", 0)
    if i.initrd_switches_root:
        boot += by.get("initrd_unpacked", 0)
    run = both + sum(t.size for t in terms if t.phase == "run")
    cap: int | None = None
    if i.rootfs_tmpfs:
        # reserved when the rootfs is mounted: kernel, packed initrd, memmap, hashes (memblock)
        reserved = by["kernel"] + by.get("initrd_packed", 0) + by["memmap"] + by["hashes"]
        content = by.get("initrd_unpacked", 0) + by.get("tmp_files", 0)
        c = i.rootfs_cap if i.rootfs_cap is not None else 0.5
        if isinstance(c, float):
            cap = reserved + math.ceil(content / c)
        else:
            cap = reserved + content if content <= c else 1 << 62
    return boot, run, cap


def _solve(i: SizingInputs, extra_low: int = 0, *,
           swiotlb_low: bool = False) -> tuple[list[Term], int, int, int, int | None]:
    """Find X with X = max(boot, run, cap)(X): the terms grow slowly with X, a few rounds converge."""
    x = 128 * MiB
    for _ in range(20):
        terms = _terms(i, x, swiotlb_low=swiotlb_low)
        boot, run, cap = _constraints(i, terms)
        need = max(boot, run, cap or 0) + extra_low
        if abs(need - x) < 4 * KiB:
            x = need
            break
        x = need
    terms = _terms(i, x, swiotlb_low=swiotlb_low)
    boot, run, cap = _constraints(i, terms)
    return terms, x, boot, run, cap


def _segments(i: SizingInputs) -> tuple[Segment, ...]:
    kmem = i.kernel_mem if i.kernel_mem is not None else 64 * MiB
    return crash_segments(i.arch, kernel=kmem, kernel_align=i.kernel_align, initrd=i.initrd_size or 0,
                          elfcorehdr=_elfcorehdr(i), cmdline_len=i.capture_cmdline_len)


def classic_budget(i: SizingInputs) -> Budget:
    """Size a classic ``crashkernel=X``: the capture kernel lives in the crash region alone."""
    terms, x, boot, run, cap = _solve(i)
    segs = _segments(i)
    load = min_region(segs)
    elf = next(s.size for s in segs if s.name == "elfcorehdr")
    options = {"boot": boot + elf, "run": run + elf, "load": load}
    if cap is not None:
        options["rootfs cap"] = cap + elf
    binding = max(options, key=lambda k: options[k])
    required = options[binding]
    margin = math.ceil(required * MARGIN)
    recommended = clean_size(required + margin)
    return Budget(
        terms=tuple(terms), capture_ram=x, boot=boot, run=run, cap=cap, load=load, elfcorehdr=elf,
        required=required, binding=binding, margin=margin, recommended=recommended, segments=segs,
        assumptions=i.assumptions,
    )


def cma_budget(i: SizingInputs, *, cma_above_dma_limit: bool) -> CmaBudget:
    """Size ``crashkernel=A crashkernel=B,cma``.

    The classic part A holds the kexec segments (they are placed in ``crashk_res`` only) and the
    capture kernel's low-memory needs: its SWIOTLB bounce buffer when the CMA ranges lie above the
    32-bit DMA limit (x86, arm64).  Every other allocation of the capture kernel comes from the CMA
    ranges, which its memory map shows as RAM; the CMA part B is the run-time need with margin.
    """
    segs = _segments(i)
    load = min_region(segs)
    elf = next(s.size for s in segs if s.name == "elfcorehdr")
    low = 0
    low_terms: list[Term] = []
    if i.mem_encrypt:
        low = _c("swiotlb_encrypted")
        low_terms.append(Term("swiotlb", f"SWIOTLB ({i.mem_encrypt.upper()})", low, "low",
                              CONSTANTS["swiotlb_encrypted"][1], "kernel"))
    elif cma_above_dma_limit and i.arch in ("x86_64", "arm64", "riscv64"):
        low = _c("swiotlb_bounce")
        low_terms.append(Term("swiotlb", "SWIOTLB bounce buffer (low memory)", low, "low",
                              CONSTANTS["swiotlb_bounce"][1], "kernel"))
    classic_required = load + low
    classic = clean_size(classic_required)
    # the run-time arithmetic with the capture kernel's RAM = classic part + CMA
    j = replace(i, mem_encrypt=None) if i.mem_encrypt else i
    terms, x, boot, run, cap = _solve(j)
    need = max(boot, run, cap or 0)
    usable_classic = classic - elf - low
    cma_required = max(need - usable_classic, 0)
    cma = clean_size(max(math.ceil(cma_required * (1 + CMA_MARGIN)), 32 * MiB))
    inner = Budget(
        terms=tuple(terms), capture_ram=x, boot=boot, run=run, cap=cap, load=load, elfcorehdr=elf,
        required=need, binding=max((("boot", boot), ("run", run), ("rootfs cap", cap or 0)), key=lambda kv: kv[1])[0],
        margin=cma - cma_required, recommended=cma, segments=segs, assumptions=i.assumptions,
    )
    load_terms = [Term("segments", "kexec segments", load, "load",
                       "the smallest crash region kexec_file_load places every segment in (kernel at its "
                       "alignment, initrd, purgatory, boot params, elfcorehdr)", "kernel")]
    return CmaBudget(
        classic_required=classic_required, classic=classic, cma_required=cma_required, cma=cma, low_needs=low,
        load=load, capture_ram=usable_classic + cma, inner=inner, terms=tuple(load_terms + low_terms),
    )
