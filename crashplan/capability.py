"""Can this kernel kdump?  Its build options, as the kernel's Kconfig wires them.

Pure: takes a ``crashplan.sizing.kconfig.KernelConfig``, a machine file's ``kernel_config`` mapping or
the flags themselves, and returns a :class:`Capability`.  ``check`` (CK130), ``suggest`` (its refusal)
and ``status`` all ask it.  The rules follow mainline ``kernel/Kconfig.kexec`` (read at 00c010e130e5,
6.16 era, and at 6b93f350e55f, 6.7/6.8): a kernel needs ``KEXEC`` or ``KEXEC_FILE`` to load a capture
kernel and ``CRASH_DUMP`` to be one; from 6.9 ``CRASH_DUMP`` selects ``CRASH_RESERVE``, the
``crashkernel=`` parser, before that ``KEXEC_CORE`` selected ``CRASH_CORE``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from crashplan.records import NamedTuple

__all__ = ["OPTIONS", "Capability", "build_options", "config_flags", "kdump_capability"]

_NO_FLAGS: Mapping[str, bool | None] = MappingProxyType({})

# the build options status looks at, without the CONFIG_ prefix
OPTIONS = ("KEXEC", "KEXEC_FILE", "CRASH_DUMP", "CRASH_RESERVE", "CRASH_CORE", "PROC_VMCORE", "CMA")


def config_flags(config: Any) -> dict[str, bool | None]:
    """``{"KEXEC": True/False/None, …}`` from a :class:`crashplan.sizing.kconfig.KernelConfig` (a whole
    ``.config``: an option it does not mention is off) or a machine file's ``kdump.kernel_config``
    mapping (partial: an option it does not mention is not known)."""
    out: dict[str, bool | None] = dict.fromkeys(OPTIONS)
    if config is None:
        return out
    enabled = getattr(config, "enabled", None)
    if callable(enabled):
        for name in OPTIONS:
            out[name] = enabled(name)
        return out
    if isinstance(config, Mapping):
        for name in OPTIONS:
            v = config.get("CONFIG_" + name)
            if v is None:
                continue
            out[name] = v if isinstance(v, bool) else str(v) in ("y", "m")
    return out


def build_options(machine: Any) -> tuple[tuple[str, bool], ...]:
    """A machine's known build options as ``crashplan.diagnose.Target.build``: from its ``kdump:``
    ``kernel_config`` (a machine file, or what ``crashplan.cli.probe`` read from the kernel config)."""
    kd = getattr(machine, "kdump", None) or {}
    cfg = kd.get("kernel_config") if isinstance(kd, Mapping) else None
    if not isinstance(cfg, Mapping):
        return ()
    return tuple((k, v) for k, v in config_flags(cfg).items() if v is not None)


class Capability(NamedTuple):
    """What the kernel's build options allow.  ``can_kdump`` is None when the options are not known.

    (A NamedTuple, not a dataclass: ``check`` builds one on every run on a live machine, and a
    dataclass costs its import time in code generation.)"""

    can_kdump: bool | None
    reasons: tuple[str, ...] = ()  # why it cannot (or what is not known)
    warnings: tuple[str, ...] = ()  # it can, but something is off
    loaders: tuple[str, ...] = ()  # "kexec_load", "kexec_file_load"
    reserves: bool | None = None  # whether the kernel reads crashkernel= at all
    cma: bool | None = None
    flags: Mapping[str, bool | None] = _NO_FLAGS
    source: str | None = None

    def refusal(self) -> str | None:
        """One sentence for a refusal, or None when kdump is possible or not known to be impossible."""
        if self.can_kdump is not False:
            return None
        return "; ".join(self.reasons)

    def as_dict(self) -> dict[str, object]:
        return {"can_kdump": self.can_kdump, "reasons": list(self.reasons), "warnings": list(self.warnings),
                "loaders": list(self.loaders), "reads_crashkernel": self.reserves, "cma": self.cma,
                "config": {"CONFIG_" + k: v for k, v in self.flags.items()}, "source": self.source}


def kdump_capability(config: Any, *, source: str | None = None) -> Capability:
    """Can a kernel with these build options kdump?  ``config`` is a ``KernelConfig``, a machine file's
    ``kernel_config`` mapping, a ``config_flags`` result or None."""
    if isinstance(config, Mapping) and set(config) <= set(OPTIONS):
        flags: dict[str, bool | None] = {k: config.get(k) for k in OPTIONS}
    else:
        flags = config_flags(config)
        if source is None:
            source = getattr(config, "source", None)
    where = f" ({source})" if source else ""
    kexec, kfile, dump = flags["KEXEC"], flags["KEXEC_FILE"], flags["CRASH_DUMP"]
    loaders = tuple(n for n, v in (("kexec_load", kexec), ("kexec_file_load", kfile)) if v)
    # does the kernel read crashkernel= at all?  The parser is CRASH_RESERVE from 6.9 (selected by
    # CRASH_DUMP, which depends on KEXEC_CORE, which only KEXEC/KEXEC_FILE select), CRASH_CORE before
    # (selected by KEXEC_CORE, which CRASH_DUMP then selected itself).  A whole .config leaves out the
    # hidden options it does not select, so absent there means off.
    parser = (flags["CRASH_RESERVE"], flags["CRASH_CORE"])
    reserves: bool | None
    if True in parser or dump:
        reserves = True
    elif (kexec is False and kfile is False and dump is False) or (dump is False and parser == (False, False)):
        reserves = False
    else:
        reserves = None
    reasons: list[str] = []
    warnings: list[str] = []
    if kexec is False and kfile is False:
        reasons.append(f"the kernel is built without CONFIG_KEXEC and CONFIG_KEXEC_FILE{where}: no capture "
                       "kernel can be loaded (neither kexec_load nor kexec_file_load exists)")
    if dump is False and reserves is True:
        # before 6.9: the parser is there (CRASH_CORE), but this kernel has no /proc/vmcore
        warnings.append(f"the kernel is built without CONFIG_CRASH_DUMP{where}: it reserves memory but cannot "
                        "be its own capture kernel (no /proc/vmcore); the capture kernel must be another build")
    elif dump is False:
        reasons.append(f"the kernel is built without CONFIG_CRASH_DUMP{where}: from 6.9 it does not read "
                       "crashkernel= (CONFIG_CRASH_DUMP selects CONFIG_CRASH_RESERVE, the parser), and it "
                       "cannot serve as a capture kernel")
    if dump and flags["PROC_VMCORE"] is False:
        warnings.append(f"the kernel is built without CONFIG_PROC_VMCORE{where}: as a capture kernel it has no "
                        "/proc/vmcore to save; the capture kernel must be another build")
    if reasons:
        can: bool | None = False
    elif kexec or kfile:
        can = True if dump or reserves else None
    else:
        can = None
    if can is None:
        unknown = [f"CONFIG_{k}" for k in ("KEXEC", "KEXEC_FILE", "CRASH_DUMP") if flags[k] is None]
        reasons.append("the kernel configuration does not say " + ", ".join(unknown) +
                       (f"{where}" if source else " (no kernel configuration was read)"))
    return Capability(can_kdump=can, reasons=tuple(reasons), warnings=tuple(warnings), loaders=loaders,
                      reserves=reserves, cma=flags["CMA"], flags=flags, source=source)
