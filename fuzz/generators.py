"""Structure-aware generators: random but well-formed-ish inputs for every format crashplan reads.

Each generator takes a ``random.Random`` and returns text.  They aim at the places where readers go
wrong: numbers at and past 2^64, touching/overlapping/unsorted ranges, deep nesting, odd
indentation, every prefix a log line can carry, quoting and escapes, and (for ``hostile_*``) sizes
and shapes meant to exhaust time or memory.
"""

from __future__ import annotations

import random

from fuzz.mutate import INTERESTING_NUMBERS

__all__ = [
    "gen_cmdline", "gen_crashkernel_value", "gen_ram", "gen_iomem", "gen_boot_log", "gen_machine_yaml",
    "gen_lint_files", "gen_memory_layout", "hostile_text", "RELEASES", "ARCH_NAMES", "LINT_PATHS",
]

RELEASES = ("5.15", "5.19", "6.1", "6.1.176", "6.2", "6.6", "6.7", "6.11", "6.12", "6.12.107", "6.12.0-55.el10.x86_64",
            "6.15", "6.17", "6.19", "7.1", "7.2", "7.2.8", "7.3", "4.18.0-553.el8_10.x86_64",
            "5.14.0-427.13.1.el9_4.x86_64", "6.8.0-31-generic", "6.1.0-57-amd64")
ARCH_NAMES = ("x86_64", "amd64", "arm64", "aarch64", "riscv64", "loongarch64", "ppc64le", "ppc64el", "s390x", "arm",
              "mips")
CANON_ARCHES = ("x86_64", "arm64", "riscv64", "loongarch64", "ppc64le", "s390x")

_UNITS = ("", "K", "M", "G", "T", "P", "E", "k", "m", "g", "MB", "MiB", "B", "Z", "x")
_SIZES = ("64M", "128M", "192M", "256M", "384M", "512M", "768M", "1G", "2G", "4G", "16M", "0", "0M", "1", "auto",
          "0x10000000", "010M", "1E", "16E", "17E", "18446744073709551615", "18446744073709551616", "0x", "M", "")
_RAM_BOUNDS = ("0", "1G", "2G", "4G", "8G", "16G", "64G", "1T", "512M", "1536M", "2000M", "3G", "0x100000000")


def _size(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.45:
        return rng.choice(_SIZES)
    if r < 0.75:
        return str(rng.choice((1, 2, 3, 8, 64, 96, 128, 160, 192, 256, 384, 512, 640, 1024, 4096))) + rng.choice(_UNITS)
    if r < 0.9:
        return rng.choice(INTERESTING_NUMBERS) + rng.choice(("", "M", "G", "E"))
    return hex(rng.getrandbits(rng.choice((8, 20, 32, 40, 64, 65, 70))))


def gen_crashkernel_value(rng: random.Random) -> str:
    """The value of one crashkernel= parameter: simple, ranges, suffixed, with offsets; sometimes broken."""
    kind = rng.randrange(6)
    if kind == 0:
        v = _size(rng)
    elif kind == 1:
        v = _size(rng) + "@" + rng.choice(("16M", "0", "64M", "0x1000000", "4G", "1M", "3M", "", "0x", "-1"))
    elif kind == 2:
        v = _size(rng) + rng.choice((",high", ",low", ",cma", ",HIGH", ",", ",high,low", ",lowx", ",cma@1G"))
    else:
        ranges = []
        lo = 0
        for _ in range(rng.randrange(1, 5)):
            hi_choice = rng.choice(_RAM_BOUNDS + ("",))
            sep = rng.choice(("-", "-", "-", "--", ""))
            ranges.append(f"{rng.choice((str(lo) + 'M', rng.choice(_RAM_BOUNDS), ''))}{sep}{hi_choice}:{_size(rng)}")
            lo += rng.randrange(0, 4096)
        v = ",".join(ranges)
        if rng.random() < 0.3:
            v += "@" + _size(rng)
        if rng.random() < 0.1:
            v += rng.choice((",high", ",cma", ":", ",", "@"))
    if rng.random() < 0.05:
        v = '"' + v + rng.choice(('"', ""))
    return v


_OTHER_PARAMS = ("BOOT_IMAGE=/vmlinuz-6.12.0", "root=/dev/mapper/rhel-root", "ro", "rw", "quiet", "rhgb",
                 "console=ttyS0,115200", "nokaslr", "fadump=on", "fadump=off", "swiotlb=65536", "swiotlb=force",
                 "mem=4G", "memmap=1G$4G", "cma=256M", "kdump.crashkernel=512M", "rd.kdump.crashkernel=1G",
                 "xcrashkernel=1G", "crashkernel", "crashkernel=", '"crashkernel=256M"', "--", "init=/bin/sh",
                 "systemd.unit=rescue.target", "fadump=nocma", "kaslr", "mem_encrypt=on", "iommu=pt")


def gen_cmdline(rng: random.Random) -> str:
    """A kernel command line with zero or more crashkernel= parameters among others."""
    parts = []
    for _ in range(rng.randrange(0, 7)):
        if rng.random() < 0.55:
            parts.append("crashkernel=" + gen_crashkernel_value(rng))
        else:
            parts.append(rng.choice(_OTHER_PARAMS))
    seps = (" ", " ", " ", "  ", "\t", "\n", " \t")
    out = ""
    for p in parts:
        out += p + rng.choice(seps)
    if rng.random() < 0.1:
        out = "crashkernel=" + "1G-2G:" * rng.randrange(1, 400) + "256M"
    return out.rstrip() if rng.random() < 0.8 else out


def gen_ram(rng: random.Random) -> int:
    r = rng.random()
    if r < 0.5:
        return rng.choice((1, 2, 3, 4, 8, 16, 24, 32, 64, 128, 512, 1024, 4096)) << 30
    if r < 0.7:
        return rng.choice((0, 1, (1 << 64) - 1, 1 << 63, (4 << 30) - 1, (4 << 30) + 1, 1 << 20, 4095 << 20))
    return rng.getrandbits(rng.choice((20, 30, 34, 40, 48, 64)))


# ---------------------------------------------------------------------------------------------
# memory layouts (used for iomem text and machine files)
# ---------------------------------------------------------------------------------------------


def gen_memory_layout(rng: random.Random, *, page: int = 4096) -> dict[str, list[tuple[int, int, str]]]:
    """RAM banks (sorted, disjoint), reserved spans inside them, other ranges between them."""
    ram: list[tuple[int, int, str]] = []
    cur = rng.choice((0, 0x1000, 0x100000, 0x40000000, 0x80000000, 0x800000000))
    for _ in range(rng.randrange(1, 6)):
        size = rng.choice((1 << 20, 16 << 20, 256 << 20, 1 << 30, 2 << 30, 3 << 30, 16 << 30, 64 << 30))
        size += rng.choice((0, 0, 0, page, -page, 0x1234, 0x9FC00 - size if size > 0x9FC00 else 0))
        if size <= 0:
            size = page
        ram.append((cur, cur + size, "System RAM"))
        cur += size + rng.choice((0, 0, page, 1 << 20, 0x20000000, 1 << 32, 0x123000))
    reserved = []
    for _ in range(rng.randrange(0, 6)):
        a, b, _n = rng.choice(ram)
        s = a + rng.randrange(0, max(1, (b - a) // page)) * page
        e = min(b, s + rng.choice((page, 1 << 20, 16 << 20, 64 << 20)))
        reserved.append((s, e, rng.choice(("Kernel code", "Kernel data", "Kernel bss", "reserved", "initrd",
                                           "NODE_DATA(0)", "ACPI Tables", "Crash kernel"))))
    other = []
    for a, b, _n in ram[:-1]:
        if rng.random() < 0.4:
            other.append((b, b + page, rng.choice(("Reserved", "PCI Bus 0000:00", "ACPI Non-volatile Storage"))))
    return {"ram": ram, "reserved": sorted(reserved), "other": other}


_IOMEM_NAMES = ("System RAM", "System RAM", "System RAM", "Reserved", "reserved", "Kernel code", "Kernel rodata",
                "Kernel data", "Kernel bss", "Crash kernel", "ACPI Tables", "ACPI Non-volatile Storage",
                "PCI Bus 0000:00", "PCI ECAM 0000 [bus 00-ff]", "pnp 00:00", "System ROM", "Video ROM",
                "RAM buffer", "System RAM (kmem)", "Unknown E820 type", "namespace0.0", "persistent memory",
                "efifb", "", ":", " : ", "0000:00:02.0", "IOAPIC 0", "HPET 0", "Local APIC", "vmbus_0",
                "Kernel code ", "crash kernel", "Crash kernel low", "System RAM ")


def _hex(n: int, rng: random.Random) -> str:
    w = rng.choice((8, 8, 8, 16, 0, 1, 20))
    s = f"{n & ((1 << 80) - 1):0{w}x}" if n >= 0 else "-" + f"{-n:x}"
    return s.upper() if rng.random() < 0.05 else s


def gen_iomem(rng: random.Random) -> str:
    """A /proc/iomem text: usually a plausible tree, sometimes an adversarial one."""
    lines: list[str] = []
    mode = rng.random()
    if mode < 0.6:
        layout = gen_memory_layout(rng)
        entries = [(a, b, n, 0) for a, b, n in layout["ram"]] + [(a, b, n, 0) for a, b, n in layout["other"]]
        entries.sort()
        for a, b, n, d in entries:
            lines.append(f"{_hex(a, rng)}-{_hex(b - 1, rng)} : {n}")
            if n == "System RAM":
                for ra, rb, rn in layout["reserved"]:
                    if a <= ra and rb <= b:
                        lines.append(f"  {_hex(ra, rng)}-{_hex(rb - 1, rng)} : {rn}")
                        if rng.random() < 0.2:
                            lines.append(f"    {_hex(ra, rng)}-{_hex(ra + 0xFFF, rng)} : {rng.choice(_IOMEM_NAMES)}")
        if rng.random() < 0.1:
            lines.insert(0, "00000000-00000fff : Reserved")
    else:
        depth = 0
        for _ in range(rng.randrange(1, 40)):
            depth = max(0, min(depth + rng.choice((-2, -1, 0, 0, 1, 1, 2)), 12))
            a = rng.choice((0, rng.getrandbits(rng.choice((12, 32, 40, 64, 65, 68))), (1 << 64) - 1, 1 << 64))
            b = a + rng.choice((0, -1, 0xFFF, 1 << 30, rng.getrandbits(64)))
            sep = rng.choice((" : ", " : ", " :", ":", " - ", " :  ", " : \t"))
            dash = rng.choice(("-", "-", "-", "--", " - ", ""))
            lines.append("  " * depth + rng.choice(("", "", " ", "\t")) * (rng.random() < 0.1)
                         + f"{_hex(a, rng)}{dash}{_hex(b, rng)}{sep}{rng.choice(_IOMEM_NAMES)}")
    if rng.random() < 0.05:
        lines = ["00000000-00000000 : " + ln.split(" : ", 1)[-1] for ln in lines]
    eol = rng.choice(("\n", "\n", "\n", "\r\n"))
    return eol.join(lines) + (eol if rng.random() < 0.9 else "")


# ---------------------------------------------------------------------------------------------
# boot logs
# ---------------------------------------------------------------------------------------------

_PREFIXES = ("[    0.000000] ", "[    0.000000] ", "", "<6>", "<4>[    0.012345] ", "kernel: ",
             "Nov 29 21:14:01 host kernel: ", "2026-11-29T21:14:01.123456+00:00 host kernel: ",
             "[Sun Nov 29 21:14:01 2026] ", "kern  :info  : [    0.000000] ", "[    0.000000] [    T0] ",
             "[    0.000000][    T0] ", "\x1b[32m[    0.000000]\x1b[0m ", "\r[    0.000000] ", "[  1.2] host kernel: ")
_E820_TYPES = ("usable", "reserved", "ACPI data", "ACPI NVS", "unusable", "persistent (type 12)", "type 13",
               "soft reserved", "System RAM", "device reserved", "", "usable usable", "Reserved")


def _mem(rng: random.Random, a: int, b: int) -> str:
    fa = rng.choice(("0x{:016x}", "0x{:016x}", "0x{:x}", "{:x}", "0x{:016X}"))
    return f"[mem {fa.format(max(a, 0))}-{fa.format(max(b, 0))}]"


def gen_boot_log(rng: random.Random) -> str:
    """A kernel boot log: the lines crashplan reads, in a plausible order, with any prefix style."""
    arch = rng.choice(("x86_64", "arm64", "riscv64", "loongarch64", "ppc64le", "s390x"))
    rel = rng.choice(RELEASES)
    layout = gen_memory_layout(rng)
    out: list[str] = []
    cmd = gen_cmdline(rng).replace("\n", " ")
    out.append(f"Linux version {rel} (builder@host) (gcc (GCC) 13.2.1) #1 SMP PREEMPT_DYNAMIC "
               + rng.choice(("", "aarch64 ", "x86_64 ", "riscv ")) + "Thu Nov 26 2026")
    if arch == "x86_64":
        out.append(f"Command line: {cmd}")
        out.append(rng.choice(("BIOS-provided physical RAM map:", "user-defined physical RAM map:")))
        for a, b, _n in layout["ram"]:
            out.append(f"{rng.choice(('BIOS-e820', 'BIOS-e820', 'user', 'modified'))}: {_mem(rng, a, b - 1)} "
                       f"{rng.choice(_E820_TYPES[:2]) if rng.random() < 0.2 else 'usable'}")
        for a, b, n in layout["other"]:
            out.append(f"BIOS-e820: {_mem(rng, a, b - 1)} {rng.choice(_E820_TYPES)}")
        if rng.random() < 0.3:
            a, b, _n = rng.choice(layout["ram"])
            out.append(f"e820: update {_mem(rng, a, a + 0xFFF)} usable ==> reserved")
        if rng.random() < 0.2:
            a, b, _n = rng.choice(layout["ram"])
            out.append(f"e820: remove {_mem(rng, a, a + 0xFFF)} usable")
        if rng.random() < 0.3:
            out.append(f"[gap 0x{rng.getrandbits(32):x}-0x{rng.getrandbits(33):x}]")
    else:
        if rng.random() < 0.5:
            out.append("Machine model: " + rng.choice(("linux,dummy-virt", "Raspberry Pi 4 Model B", "QEMU")))
        if rng.random() < 0.4:
            for i, (a, b, _n) in enumerate(layout["ram"]):
                out.append(f"efi: mem{i:02d}: [{rng.choice(('Conventional', 'Reserved', 'Runtime Data', 'ACPI Reclaim'))}"
                           f"|   |  |  |  |  |  |  |  |  |   |WB|WT|WC|UC] range=[0x{a:016x}-0x{b - 1:016x}] "
                           f"({(b - a) >> 20}MB)")
    out.append("Zone ranges:")
    out.append(f"  {rng.choice(('DMA', 'DMA32'))}    {_mem(rng, 0, rng.choice((0xFFFFFF, 0xFFFFFFFF, 0x3FFFFFFF)))}")
    out.append(f"  Normal   {rng.choice(('empty', _mem(rng, 1 << 32, layout['ram'][-1][1] - 1)))}")
    if rng.random() < 0.85:
        out.append("Early memory node ranges")
        for a, b, _n in layout["ram"]:
            out.append(f"  node   {rng.choice((0, 0, 1, 99999999999))}: {_mem(rng, a, b - 1)}")
    if rng.random() < 0.5:
        a, b, _n = rng.choice(layout["ram"])
        out.append(f"RAMDISK: {_mem(rng, a + (1 << 20), a + (9 << 20) - 1)}")
    if rng.random() < 0.5:
        a, b, _n = layout["ram"][-1]
        out.append(rng.choice(("NODE_DATA(0) allocated ", "NUMA: NODE_DATA ")) + _mem(rng, b - 0x2D000, b - 1))
    if rng.random() < 0.3:
        out.append(f"ACPI: Reserving FACP table memory at {_mem(rng, 0x7FFE0000, 0x7FFE00F3)}")
    if rng.random() < 0.4:
        out.append(f"cma: Reserved {rng.choice((16, 32, 64, 256, 0, 99999999999999999999))} MiB at "
                   f"0x{rng.getrandbits(36):016x}" + rng.choice(("", " on node -1", " on node 0")))
    if rng.random() < 0.3:
        out.append(f"software IO TLB: mapped {_mem(rng, 0xBBFDF000, 0xBFFDEFFF)} ({rng.choice((64, 0, 1024))}MB)")
    if rng.random() < 0.2:
        out.append(f"SWIOTLB bounce buffer size adjusted to {rng.choice((64, 245, 1024))}MB")
    if rng.random() < 0.2:
        out.append("Memory Encryption Features active: " + rng.choice(("AMD SEV SEV-ES", "Intel TDX", "AMD SME", "")))
    if rng.random() < 0.3:
        out.append(rng.choice(("KASLR disabled on command line", "KASLR enabled")))
    if rng.random() < 0.3:
        out.append(f"memblock_reserve: [0x{rng.getrandbits(32):016x}-0x{rng.getrandbits(33):016x}] "
                   + rng.choice(("setup_arch+0x1a2/0xd80", "", "memblock_alloc_range_nid+0xde/0x150")))
    if rng.random() < 0.4:
        a = rng.getrandbits(34) & ~0xFFFFF
        out.append(rng.choice((
            f"crashkernel reserved: 0x{a:016x} - 0x{a + (256 << 20):016x} (256 MB)",
            f"Reserving 256MB of memory at {a >> 20}MB for crashkernel (System RAM: 4095MB)",
            f"crashkernel low memory reserved: 0x{a:08x} - 0x{a + (128 << 20):08x} (128 MB)",
            "crashkernel CMA reserved: 512 MB in 1 ranges",
            "cannot allocate crashkernel (size:0x10000000)",
        )))
    if rng.random() < 0.7:
        out.append(f"Kernel command line: {cmd}")
    if rng.random() < 0.6:
        out.append(f"Memory: {rng.getrandbits(22)}K/{rng.getrandbits(23)}K available ({rng.getrandbits(15)}K kernel "
                   f"code, {rng.getrandbits(12)}K rwdata, {rng.getrandbits(14)}K rodata, {rng.getrandbits(12)}K init, "
                   f"{rng.getrandbits(13)}K bss, {rng.getrandbits(18)}K reserved, 0K cma-reserved)")
    if rng.random() < 0.2:
        out.append(f"Freeing initrd memory: {rng.getrandbits(16)}K")
    if rng.random() < 0.3:
        rng.shuffle(out)
    style = rng.random()
    lines = []
    for i, ln in enumerate(out):
        pre = rng.choice(_PREFIXES) if style < 0.3 else _PREFIXES[0]
        if pre.startswith("[    0.0000"):
            pre = f"[{i * 0.0001234:12.6f}] "
        lines.append(pre + ln)
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# machine files (YAML)
# ---------------------------------------------------------------------------------------------


def _ysize(n: int, rng: random.Random) -> str:
    r = rng.random()
    if r < 0.4:
        return hex(n)
    if r < 0.7:
        return str(n)
    for unit, shift in (("G", 30), ("M", 20), ("K", 10)):
        if n and n % (1 << shift) == 0:
            return f"{n >> shift}{unit}"
    return str(n)


def gen_machine_yaml(rng: random.Random) -> str:
    """A machine file: mostly valid (schema crashplan/machine@1), with typed mistakes and YAML variety."""
    layout = gen_memory_layout(rng)
    w = []
    if rng.random() < 0.95:
        w.append(rng.choice(("schema: crashplan/machine@1", "schema: crashplan/machine@1",
                             "schema: 'crashplan/machine@1'", "schema: crashplan/machine@2", "schema: 1",
                             "schema: crashplan/machine@01")))
    if rng.random() < 0.7:
        w.append("name: " + rng.choice(("test", "x" * 300, '"quoted\\u00e9"', "[a, b]", "", "null", "~")))
    if rng.random() < 0.7:
        w.append(f"arch: {rng.choice(ARCH_NAMES + ('vax', '', '1'))}")
    if rng.random() < 0.7:
        w.append(f"kernel: {rng.choice(RELEASES + ('banana', '6', '99.99'))}")
    if rng.random() < 0.5:
        w.append(f"cmdline: {gen_cmdline(rng).replace(chr(10), ' ')!r}")
    if rng.random() < 0.3:
        w.append(f"system_ram: {rng.choice((_ysize(sum(b - a for a, b, _ in layout['ram']), rng), '-1', '1.5G', 'lots', str(1 << 70)))}")
    for key, choices in (("page_size", ("4096", "65536", "4K", "3000", "0", "16K")), ("cpus", ("1", "64", "-1", "0", "1e3")),
                         ("swiotlb_size", ("64M", "0", "1G", "0x4000000")), ("mem_encrypt", ("sev", "tdx", "sme", "none", "null")),
                         ("kaslr", ("true", "false", "yes", "null", "1")), ("dma_limit", ("0x100000000", "4G", "0")),
                         ("fadump", ("false", "true"))):
        if rng.random() < 0.25:
            w.append(f"{key}: {rng.choice(choices)}")
    if rng.random() < 0.95:
        w.append("memory:")
        if rng.random() < 0.3:
            w.append(f"  source: {rng.choice(('/proc/iomem', 'boot log', '<stdin>'))}")
        if rng.random() < 0.05:
            w.append("  layout: " + rng.choice(("unknown", "known", "maybe")))
        flow = rng.random() < 0.5
        for kind in ("ram", "reserved", "nomap", "other", "crash"):
            spans = {"ram": layout["ram"], "reserved": layout["reserved"], "other": layout["other"]}.get(kind, [])
            if kind in ("nomap", "crash") and rng.random() < 0.8:
                continue
            if kind != "ram" and not spans and rng.random() < 0.5:
                continue
            w.append(f"  {kind}:")
            for a, b, n in spans:
                if rng.random() < 0.1:
                    a, b = b, a
                if flow:
                    tail = f", end: {_ysize(b, rng)}" if rng.random() < 0.85 else f", size: {_ysize(b - a, rng)}"
                    name = f", name: {n!r}" if rng.random() < 0.5 else ""
                    w.append(f"    - {{start: {_ysize(a, rng)}{tail}{name}}}")
                else:
                    w.append(f"    - start: {_ysize(a, rng)}")
                    w.append(f"      end: {_ysize(b, rng)}")
                    if rng.random() < 0.5:
                        w.append(f"      name: {n}")
    if rng.random() < 0.2:
        w.append("reservation:")
        w.append(f"  kexec_crash_size: {rng.choice(('256M', '0', '-5', 'x'))}")
        if rng.random() < 0.5:
            w.append("  crash_cma_ranges:")
            w.append("    - {start: 0x100000000, end: 0x120000000}")
    if rng.random() < 0.3:
        w.append("kdump:")
        w.append("  kernel_image:")
        w.append(f"    image_size: {rng.choice(('12M', '0', 'big'))}")
        w.append(f"    init_size: {rng.choice(('48M', '0x3000000'))}")
        w.append(f"  dump_level: {rng.choice(('31', '-1', '32', '1', 'all'))}")
        w.append(f"  nr_cpus: {rng.choice(('1', '0', '4096'))}")
        w.append(f"  collector: {rng.choice(('makedumpfile -l --message-level 7 -d 31', '1'))}")
        if rng.random() < 0.5:
            w.append("  kernel_config:")
            w.append(f"    {rng.choice(('CONFIG_KASAN', 'CONFIG_X', 'config_lower', 'CONFIG_'))}: {rng.choice(('y', 'n', 'm', '1', 'true'))}")
        if rng.random() < 0.3:
            w.append("  platform: {mlx5: true, smmu: false, page_size: 64K}")
    if rng.random() < 0.2:
        w.append("notes:\n  - one\n  - " + rng.choice(("two", "{a: 1}", "[]", "!!binary aGVsbG8=")))
    if rng.random() < 0.15:  # YAML features a machine file must refuse or survive
        w.insert(rng.randrange(len(w) + 1), rng.choice((
            "bomb: &a [x, x]", "ref: *a", "tagged: !!python/object:os.system ls", "dup: 1\ndup: 2", "---",
            "...", "%YAML 1.1", "? complex\n: key", "<<: {arch: arm64}", "name: !!str 1", "x: !!float .inf",
            "memory: {ram: [{start: 0, end: !!int 0x1000}]}", "%TAG ! tag:example.com,2000:", "'a': b",
            "merged: {<<: [{a: 1}]}", "name: |\n  multi\n  line", "name: >-\n  folded",
        )))
    text = "\n".join(w) + "\n"
    if rng.random() < 0.1:
        text = text.replace("\n  ", "\n\t") if rng.random() < 0.5 else text.replace("  ", " ")
    return text


# ---------------------------------------------------------------------------------------------
# boot-loader configurations (lint sources)
# ---------------------------------------------------------------------------------------------

LINT_PATHS = {
    "grub-default": ("etc/default/grub", "etc/default/grub.d/50-kdump.cfg"),
    "grub-cfg": ("boot/grub2/grub.cfg", "boot/grub/grub.cfg", "boot/efi/EFI/fedora/grub.cfg"),
    "grub-legacy": ("boot/grub/menu.lst", "boot/grub/grub.conf"),
    "bls": ("boot/loader/entries/abc-6.12.0-55.el10.x86_64.conf", "boot/loader/entries/rescue.conf"),
    "grubenv": ("boot/grub2/grubenv",),
    "kernel-cmdline": ("etc/kernel/cmdline",),
    "zipl": ("etc/zipl.conf",),
    "kickstart": ("ks.cfg",),
    "cmdline": ("proc/cmdline", "cmdline"),
}


def _q(rng: random.Random, s: str) -> str:
    c = rng.random()
    if c < 0.5:
        return '"' + s + '"'
    if c < 0.7:
        return "'" + s + "'"
    if c < 0.8:
        return s.replace(" ", "\\ ")
    if c < 0.9:
        return '"' + s.replace('"', '\\"') + rng.choice(('"', '', '\\"'))
    return s


def _lint_text(kind: str, rng: random.Random) -> str:
    ck = lambda: "crashkernel=" + gen_crashkernel_value(rng)  # noqa: E731
    cmd = lambda: gen_cmdline(rng).replace("\n", " ")  # noqa: E731
    if kind == "grub-default":
        lines = ['GRUB_TIMEOUT=5', 'GRUB_DISTRIBUTOR="$(sed \'s, release .*$,,g\' /etc/system-release)"']
        for _ in range(rng.randrange(1, 5)):
            var = rng.choice(("GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT", "export GRUB_CMDLINE_LINUX",
                              "GRUB_CMDLINE_LINUX_RECOVERY", "GRUB_DISABLE_RECOVERY"))
            val = rng.choice((cmd(), f"$GRUB_CMDLINE_LINUX {ck()}", f"${{GRUB_CMDLINE_LINUX}} {ck()}",
                              "true", f"$(echo {ck()})", f"`echo {ck()}`"))
            lines.append(f"{var}{rng.choice(('=', '+=', '=', ' = '))}{_q(rng, val)}")
        if rng.random() < 0.3:
            lines.append(rng.choice(("if [ -f /etc/x ]; then", "case $x in a) ;;", "fi", "esac", "{", "}",
                                    ". /etc/default/grub.d/*.cfg", "unset GRUB_CMDLINE_LINUX", "# crashplan: disable=CK101")))
        return "\n".join(lines) + "\n"
    if kind == "grub-cfg":
        lines = ["set default=0", "load_env" if rng.random() < 0.5 else "insmod part_gpt",
                 f"set kernelopts=\"{cmd()}\"" if rng.random() < 0.5 else "search --no-floppy --set=root"]
        for i in range(rng.randrange(1, 4)):
            title = rng.choice(("Fedora Linux (6.8.5)", "Fedora Linux (0-rescue)", "Advanced options", "Recovery mode"))
            sub = rng.random() < 0.2
            if sub:
                lines.append(f"submenu '{title}' {{")
            lines.append(f"menuentry {_q(rng, title)} --class gnu-linux {{")
            lines.append(f"\t{rng.choice(('linux', 'linuxefi', 'linux16'))} /vmlinuz-6.8.5 "
                         f"{rng.choice((cmd(), '$kernelopts', '${kernelopts} ' + ck(), ck() + ' ${extra}'))}")
            lines.append("\tinitrd /initramfs-6.8.5.img")
            lines.append("}" if rng.random() < 0.95 else "")
            if sub:
                lines.append("}")
        if rng.random() < 0.3:
            lines.append("blscfg")
        if rng.random() < 0.2:
            lines.append(rng.choice(("if [ x$feature_x = xy ]; then", "fi", "function f { linux /v " + ck() + "; }",
                                    "source ${config_directory}/custom.cfg", "### BEGIN /etc/grub.d/10_linux ###")))
        return "\n".join(lines) + "\n"
    if kind == "grub-legacy":
        lines = ["default=0", "timeout=5"]
        for _ in range(rng.randrange(1, 4)):
            lines.append(f"title {rng.choice(('CentOS (2.6.32)', 'Rescue'))}")
            lines.append("\troot (hd0,0)")
            lines.append(f"\tkernel /vmlinuz-2.6.32 {cmd()}")
            lines.append("\tinitrd /initramfs.img")
        return "\n".join(lines) + "\n"
    if kind == "bls":
        lines = ["title Fedora Linux (6.12.0) 41", "version 6.12.0-55.el10.x86_64", "linux /vmlinuz-6.12.0",
                 "initrd /initramfs-6.12.0.img"]
        lines.append("options " + rng.choice((cmd(), "$kernelopts", "$kernelopts " + ck(), "${kernelopts}")))
        if rng.random() < 0.3:
            lines.append("options " + ck())
        if rng.random() < 0.2:
            lines.append("grub_arg --unrestricted")
        return "\n".join(lines) + "\n"
    if kind == "grubenv":
        body = "# GRUB Environment Block\n" + f"kernelopts={cmd()}\n"
        if rng.random() < 0.4:
            body += f"tuned_params={ck()}\n"
        if rng.random() < 0.2:
            body += "saved_entry=abc\n" + rng.choice(("", "kernelopts\n", "=x\n", "a\\\nb=c\n"))
        return body + "#" * max(0, 1024 - len(body)) if rng.random() < 0.7 else body
    if kind == "kernel-cmdline":
        return cmd() + rng.choice(("\n", "", "\n\n# comment\n"))
    if kind == "zipl":
        return ("[defaultboot]\ndefault=linux\n[linux]\n\ttarget=/boot\n\timage=/boot/vmlinuz\n"
                f"\tparameters={_q(rng, cmd())}\n" + rng.choice(("", ":menu1\n\t1=linux\n", "[empty]\n")))
    if kind == "kickstart":
        return (f"lang en_US.UTF-8\nbootloader --location=mbr --append={_q(rng, cmd())}\n"
                + rng.choice(("", "%packages\n@core\n%end\n", "bootloader --append=\"" + ck() + "\"\n")))
    return cmd() + "\n"


def gen_lint_files(rng: random.Random) -> list[tuple[str, str]]:
    """One to four boot-loader files, often of one tree (so they are compared with each other)."""
    root = rng.choice(("", "", "img/", "/srv/host1/"))
    files = []
    kinds = list(LINT_PATHS)
    for _ in range(rng.randrange(1, 5)):
        kind = rng.choice(kinds)
        path = root + rng.choice(LINT_PATHS[kind])
        if rng.random() < 0.05:
            # names a file can have ("" and "/" cannot be files: the engine is not asked about them)
            path = rng.choice(("-", "weird name.conf", "entries/.conf", "a/../etc/default/grub", "grub", ".."))
        files.append((path, _lint_text(kind, rng)))
    return files


# ---------------------------------------------------------------------------------------------
# hostile inputs
# ---------------------------------------------------------------------------------------------


def hostile_text(rng: random.Random, fmt: str, seeds: list[str]) -> str:
    """Huge, deep, binary or otherwise nasty text for format ``fmt`` ("iomem", "bootlog", "yaml", "lint")."""
    k = rng.randrange(10)
    if k == 0:  # binary garbage
        return bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 4096))).decode("utf-8", "surrogateescape")
    if k == 1:  # invalid UTF-8 in an otherwise good file
        s = rng.choice(seeds) if seeds else "x"
        i = rng.randrange(len(s) + 1)
        return s[:i] + rng.choice(("\udcff", "\udcc3", "\udced\udca0\udc80", "\ufffe", "\x00", "\u2028")) + s[i:]
    if k == 2:  # one enormous line
        return rng.choice(("0" * 200_000 + "-1 : System RAM", "crashkernel=" + "9" * 100_000,
                           "a" * 300_000, "[mem 0x" + "f" * 50_000 + "-0x1]", "  " * 100_000 + "x"))
    if k == 3:  # many lines (a few MiB)
        s = rng.choice(seeds) if seeds else "x\n"
        reps = max(1, (1 << rng.choice((18, 20, 22))) // max(1, len(s)))
        return s * min(reps, 4000)
    if k == 4 and fmt == "yaml":  # alias bombs and deep nesting
        return rng.choice((
            'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n'
            'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n',
            "schema: crashplan/machine@1\nmemory: " + "[" * 5000 + "]" * 5000 + "\n",
            "schema: crashplan/machine@1\nnotes: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n",
            "".join("  " * i + "k:\n" for i in range(2000)),
            "- " * 5000 + "x\n",
            "schema: crashplan/machine@1\nsystem_ram: " + "9" * 5000 + "\n",
            "schema: crashplan/machine@1\nmemory:\n  ram:\n" + "    - {start: 0x0, end: 0x1000}\n" * 100_000,
            "&a [*a]\n", "!!python/object/apply:os.system [ls]\n", "x: " + "'" * 10001 + "\n",
        ))
    if k == 4 and fmt == "iomem":
        return "".join("  " * i + f"{i:08x}-{i + 1:08x} : x\n" for i in range(3000))
    if k == 5:  # numbers past 2^64
        return rng.choice((
            "10000000000000000-1ffffffffffffffff : System RAM\n",
            "00000000-fffffffffffffffff : System RAM\n",
            "[    0.000000] BIOS-e820: [mem 0x0000000000000000-0x1ffffffffffffffff] usable\n",
            "[    0.000000]   node   0: [mem 0x0000000000000000-0xffffffffffffffffff]\n",
            "schema: crashplan/machine@1\nmemory:\n  ram:\n    - {start: 0, end: 0x1ffffffffffffffff}\n",
            "GRUB_CMDLINE_LINUX=\"crashkernel=" + str(1 << 80) + "M\"\n",
        ))
    if k == 6:  # CR-only / mixed line endings and form feeds
        s = rng.choice(seeds) if seeds else "x"
        return s.replace("\n", rng.choice(("\r", "\r\n", "\x0c", "\x0b", "\x1c", "\x85", "\u2028")))
    if k == 7:  # NULs and control characters sprinkled
        s = list(rng.choice(seeds) if seeds else "x")
        for _ in range(rng.randrange(1, 16)):
            s.insert(rng.randrange(len(s) + 1), chr(rng.randrange(0, 32)))
        return "".join(s)
    if k == 8:  # empty-ish
        return rng.choice(("", " ", "\n", "\n\n\n", "\t", "#", "\ufeff", "\ufeff\n", "\x00"))
    s = rng.choice(seeds) if seeds else "x"
    return s * rng.randrange(2, 50)
