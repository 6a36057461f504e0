"""Architecture names and the per-architecture constants of the crash reservation.

Accepts ``uname -m`` names, Debian names and the kernel's own ``arch/`` directory names, and maps
them to one canonical name.  The constants are those of kernel-semantics §5.3 (``CRASH_ALIGN``,
``CRASH_ADDR_LOW_MAX``, ``CRASH_ADDR_HIGH_MAX``, ``DEFAULT_CRASH_KERNEL_LOW_SIZE``) and
``COMMAND_LINE_SIZE``; values that depend on the machine (arm64's DMA limit, riscv's end of DRAM)
are resolved by the simulator from the memory map.
"""

from __future__ import annotations

__all__ = ["ARCHES", "COMMAND_LINE_SIZE", "DISPLAY", "MAX_PHYSMEM_BITS", "normalize_arch", "ram_limit_error"]

ARCHES = ("x86_64", "arm64", "riscv64", "loongarch64", "ppc64le", "s390x", "arm", "mips")

_ALIASES = {
    "x86_64": "x86_64", "amd64": "x86_64", "x86": "x86_64", "x64": "x86_64",
    "aarch64": "arm64", "arm64": "arm64",
    "riscv64": "riscv64", "riscv": "riscv64",
    "loongarch64": "loongarch64", "loongarch": "loongarch64", "loong64": "loongarch64",
    "ppc64le": "ppc64le", "ppc64el": "ppc64le", "powerpc": "ppc64le", "ppc64": "ppc64le", "powerpc64le": "ppc64le",
    "s390x": "s390x", "s390": "s390x",
    "arm": "arm", "armhf": "arm", "armel": "arm", "armv7l": "arm",
    "mips": "mips", "mipsel": "mips", "mips64el": "mips",
}

# Human names, for output.
DISPLAY = {
    "x86_64": "x86_64", "arm64": "arm64", "riscv64": "riscv64", "loongarch64": "loongarch64",
    "ppc64le": "ppc64le", "s390x": "s390x", "arm": "arm", "mips": "mips",
}

# arch/*/include/uapi/asm/setup.h and asm/setup.h, 7.2: the boot command line buffer.
COMMAND_LINE_SIZE = {
    "x86_64": 2048, "arm64": 2048, "riscv64": 2048, "loongarch64": 4096,
    "ppc64le": 2048, "s390x": 4096, "arm": 1024, "mips": 4096,
}


def normalize_arch(name: str) -> str:
    """``amd64`` → ``x86_64``, ``aarch64`` → ``arm64``, ``ppc64el`` → ``ppc64le`` …

    A comma-separated list (``arm64,riscv,loongarch``) names architectures that behave alike;
    the first one is used.  Raises ``ValueError`` listing the accepted names.
    """
    key = name.strip().split(",")[0].strip().lower()
    try:
        return _ALIASES[key]
    except KeyError:
        raise ValueError(
            f"unknown architecture {name!r} (expected one of x86_64/amd64, arm64/aarch64, riscv64, "
            "loongarch64, ppc64le/ppc64el, s390x)"
        ) from None


# The most physical memory an architecture's kernel can address: MAX_PHYSMEM_BITS at its largest
# configuration (crashplan is permissive: a RAM size beyond this cannot exist on any build of the arch).
#   x86_64       arch/x86/include/asm/sparsemem.h: ``(pgtable_l5_enabled() ? 52 : 46)`` (5-level paging: 4 PiB)
#   arm64        arch/arm64/include/asm/sparsemem.h: ``CONFIG_ARM64_PA_BITS``, at most 52
#   riscv64      arch/riscv/include/asm/sparsemem.h: ``CONFIG_PA_BITS`` (56 on 64-bit: arch/riscv/Kconfig;
#                the Kconfig value is inferred, not read)
#   loongarch64  arch/loongarch/include/asm/sparsemem.h: 48
#   ppc64le      arch/powerpc/include/asm/book3s/64/radix.h: ``R_MAX_PHYSMEM_BITS`` 51 (SPARSEMEM_VMEMMAP and
#                SPARSEMEM_EXTREME; "51 bits is the max physical real address on POWER9")
#   s390x        arch/s390/Kconfig: ``MAX_PHYSMEM_BITS`` "(42-53)", range 42 53
#   arm, mips    40 (ARM LPAE) and 48 (64-bit MIPS): inferred from their sparsemem.h, not read for this table
MAX_PHYSMEM_BITS = {
    "x86_64": 52, "arm64": 52, "riscv64": 56, "loongarch64": 48, "ppc64le": 51, "s390x": 53, "arm": 40, "mips": 48,
}


def ram_limit_error(system_ram: int, arch: str) -> str | None:
    """Why ``system_ram`` cannot be a machine of ``arch`` (more than its kernels can address), or None."""
    from crashplan.units import format_size

    bits = MAX_PHYSMEM_BITS.get(normalize_arch(arch))
    if bits is None or system_ram <= 1 << bits:
        return None
    return (f"{format_size(system_ram)} is more RAM than {normalize_arch(arch)} can address "
            f"(MAX_PHYSMEM_BITS {bits}: at most {format_size(1 << bits)})")

