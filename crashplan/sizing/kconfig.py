"""The kernel's build configuration (``/boot/config-<release>``): what kdump and ``,cma`` depend on.

``crashkernel=…,cma`` needs ``CONFIG_CMA`` (else the kernel logs "crashkernel CMA reservation not
supported") and is only usable by a capture kernel loaded with ``kexec_file_load``, which needs
``CONFIG_KEXEC_FILE`` (Debian's arm64 kernels lack it: ``kexec -s`` fails with "syscall
kexec_file_load not available").  The elfcorehdr kexec_file_load builds is sized from
``CONFIG_NR_CPUS`` and ``CONFIG_CRASH_MAX_MEMORY_RANGES`` when ``CONFIG_CRASH_HOTPLUG`` is set
(``arch/x86/kernel/crash.c:crash_load_segments()``), and the kernel's load alignment is
``CONFIG_PHYSICAL_ALIGN``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from crashplan.errors import InputError
from crashplan.textlines import split_lines

__all__ = ["KernelConfig", "parse_kernel_config"]


@dataclass(frozen=True, slots=True)
class KernelConfig:
    """``CONFIG_*`` options: value "y", "m", a string or number as written; "n" for "is not set"."""

    options: Mapping[str, str] = field(default_factory=dict)
    source: str | None = None

    def get(self, name: str) -> str | None:
        key = name if name.startswith("CONFIG_") else "CONFIG_" + name
        return self.options.get(key)

    def enabled(self, name: str) -> bool | None:
        """True for y/m, False for "is not set" or absent when the file is complete, None when unknown."""
        v = self.get(name)
        if v is None:
            return False if self.options else None
        return v in ("y", "m")

    def number(self, name: str) -> int | None:
        v = self.get(name)
        if v is None or v in ("y", "m", "n"):
            return None
        try:
            return int(v.strip('"'), 0)
        except ValueError:
            return None

    @property
    def page_size(self) -> int | None:
        for opt, size in (("ARM64_64K_PAGES", 65536), ("ARM64_16K_PAGES", 16384), ("ARM64_4K_PAGES", 4096),
                          ("PPC_64K_PAGES", 65536), ("PPC_4K_PAGES", 4096)):
            if self.get(opt) == "y":
                return size
        if self.get("X86_64") == "y" or self.get("S390") == "y":
            return 4096
        return None

    def elfcorehdr_phdrs(self) -> int | None:
        """Phdr slots kexec_file_load reserves for the elfcorehdr with CONFIG_CRASH_HOTPLUG (x86)."""
        if self.get("CRASH_HOTPLUG") != "y":
            return None
        cpus = self.number("NR_CPUS") or 0
        if self.get("MEMORY_HOTPLUG") == "y":
            return 2 + cpus + (self.number("CRASH_MAX_MEMORY_RANGES") or 8192)
        return 2 + cpus

    def as_dict(self) -> dict[str, object]:
        keys = ("CMA", "KEXEC", "KEXEC_FILE", "CRASH_DUMP", "CRASH_HOTPLUG", "MEMORY_HOTPLUG", "NR_CPUS",
                "CRASH_MAX_MEMORY_RANGES", "PHYSICAL_ALIGN", "TMPFS", "AMD_MEM_ENCRYPT", "INTEL_TDX_GUEST",
                "EFI_ZBOOT", "FA_DUMP")
        return {"source": self.source, **{k: self.get(k) for k in keys if self.get(k) is not None}}


def parse_kernel_config(text: str, *, path: str | None = None) -> KernelConfig:
    """Read a ``.config``: ``CONFIG_X=value`` and ``# CONFIG_X is not set`` lines.

    Any other non-comment line raises ``InputError`` naming the line.
    """
    opts: dict[str, str] = {}
    for lineno, raw in enumerate(split_lines(text), 1):
        s = raw.strip()
        if not s:
            continue
        if s.startswith("#"):
            body = s[1:].strip()
            if body.startswith("CONFIG_") and body.endswith(" is not set"):
                opts[body[: -len(" is not set")].strip()] = "n"
            continue
        name, eq, value = s.partition("=")
        if not eq or not name.startswith("CONFIG_") or not name.replace("_", "").isalnum():
            raise InputError("expected CONFIG_NAME=value or '# CONFIG_NAME is not set' (a kernel .config)",
                             path=path, line=lineno, column=1)
        opts[name] = value
    if not opts:
        raise InputError("expected CONFIG_NAME=value lines, found none: not a kernel .config", path=path, line=1)
    return KernelConfig(opts, path)
