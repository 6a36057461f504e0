"""``crashplan status``: is kdump ready on this machine, and is its reservation enough?

Reads the running system without changing it (root or not) and hands plain data to
:mod:`crashplan.readiness`; the text is :mod:`crashplan.output.status_text`'s.  Every file or command it
could not read is listed in the output.

What it reads (``--root DIR`` reads the same paths under DIR and runs no command):

=================================================  ==========================================
``/proc/sys/kernel/osrelease``, ``/proc/cmdline``   release, the boot command line
``/boot/config-<release>``, ``/proc/config.gz``     CONFIG_KEXEC, KEXEC_FILE, CRASH_DUMP, CMA …
``/proc/iomem``                                     the ``Crash kernel`` regions (root only)
``/sys/kernel/kexec_crash_size``,                   the reserved size (``/sys/kernel/kexec/…``
``/sys/kernel/kexec_crash_loaded``                  from 6.19), whether a capture kernel is loaded
``/sys/kernel/kexec/crash_cma_ranges``              the CMA crash ranges (6.19+)
``journalctl -k -b``, else ``dmesg``                the kernel's crashkernel lines of this boot
                                                    (under ``--root``: ``var/log/dmesg``)
``systemctl is-enabled/is-active``                  kdump.service, kdump-tools.service (under
                                                    ``--root``: the unit files and .wants links)
``/etc/kdump.conf``, ``/etc/sysconfig/kdump``,      the dump target, dump level and kexec
``/etc/default/kdump-tools``                        syscall of whichever tooling is installed
the kdump kernel and initrd                         the sizing model's "needed" (as ``suggest``)
=================================================  ==========================================

The kernel does not say which syscall loaded the capture kernel (no /proc or /sys file holds it):
it is inferred from the tooling's ``KEXEC_ARGS``/``KDUMP_KEXEC_ARGS``/``KEXEC_OPTIONS`` and said so.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from crashplan.cli import ExitStatus
from crashplan.cli.options import output_option

if TYPE_CHECKING:
    from crashplan.memmap.model import Machine
    from crashplan.readiness import Capability, Prediction, ServiceState, StatusFacts
    from crashplan.sizing.kconfig import KernelConfig
    from crashplan.sizing.kdumpconf import KdumpConfig

__all__ = ["status"]

KDUMP_UNITS = ("kdump.service", "kdump-tools.service")  # kdump-utils and SUSE kdump; Debian kdump-tools


@click.command("status")
@click.option("--root", type=click.Path(file_okay=False, exists=True), metavar="DIR", default=None,
              help="Read /proc, /sys, /boot, /etc and /var under DIR (a captured machine) and run no command.")
@click.option("--machine", type=click.Path(dir_okay=False, allow_dash=True), metavar="FILE",
              help="A machine file (docs/machine-format.md): what it records, the rest 'not known'.")
@click.option("--boot-log", type=click.Path(dir_okay=False, allow_dash=True), metavar="FILE",
              help="Read the kernel's crashkernel lines from this boot log instead of journalctl/dmesg.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@output_option
@click.option("--width", type=click.IntRange(40, 400), default=None, hidden=True)
def status(root: str | None, machine: str | None, boot_log: str | None, fmt: str, width: int | None) -> int:
    """Say whether kdump is ready on this machine: one verdict first, then the detail.

    Checks that the kernel is built with kexec and crash dump support, what it reserved
    (/proc/iomem, kexec_crash_size, the boot log), whether a capture kernel is loaded, the kdump
    service and its configuration, what crashplan predicts for the command line against what the
    kernel did, and whether the reservation is enough for the installed kdump kernel and initrd.
    Nothing is started or changed; what could not be read (e.g. /proc/iomem without root) is listed.

    \b
    Exit status: 0 ready; 1 not ready (kdump cannot capture a crash now);
    4 at risk (it may, but the reservation is smaller than needed, the service
    will not load it at the next boot, or a deciding fact could not be read);
    2 usage or input error.
    """
    from crashplan.readiness import assess, status_json

    if root is not None and machine is not None:
        raise click.UsageError("give at most one of --root and --machine")
    facts = _facts_from_machine_file(machine, boot_log) if machine is not None else _facts_from_tree(root, boot_log)
    result = assess(facts)
    if fmt == "json":
        sys.stdout.write(json.dumps(status_json(result), indent=2, sort_keys=True) + "\n")
    else:
        reconfigure = getattr(sys.stdout, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
        from crashplan.output.status_text import render_status

        sys.stdout.write(render_status(result, width=width))
    return {0: ExitStatus.OK, 1: ExitStatus.FINDINGS}.get(result.exit_status, result.exit_status)


# ---------------------------------------------------------------------------------------------
# reading


class _RootReader:
    """Files under a root; remembers what could not be read and why."""

    def __init__(self, root: str) -> None:
        self.root = Path(root)
        self.host = self.root.resolve() == Path("/")
        self.unreadable: list[tuple[str, str]] = []

    def path(self, rel: str) -> Path:
        return self.root / rel.lstrip("/")

    def show(self, rel: str) -> str:
        return rel  # under --root the notes say which tree was read

    def read(self, rel: str, *, missing_ok: bool = False, limit: int = 64 << 20) -> str | None:
        try:
            from crashplan.cli.probe import _read_limited

            with open(self.path(rel), "rb", buffering=0) as f:
                data = _read_limited(f, limit)
        except FileNotFoundError:
            if not missing_ok:
                self.unreadable.append((self.show(rel), "no such file"))
            return None
        except PermissionError:
            self.unreadable.append((self.show(rel), "permission denied (run as root)"))
            return None
        except OSError as e:
            self.unreadable.append((self.show(rel), e.strerror or str(e)))
            return None
        return data.decode("utf-8", "surrogateescape")

    def exists(self, rel: str) -> bool:
        try:
            return self.path(rel).exists()
        except OSError:
            return False


def _first(r: _RootReader, *paths: str) -> tuple[str | None, str | None]:
    """The text of the first of ``paths`` that exists, and its path."""
    for p in paths:
        if r.exists(p):
            return r.read(p), p
    return None, None


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    t = text.strip()
    return int(t) if t.isdigit() else None


def _facts_from_tree(root: str | None, boot_log: str | None) -> StatusFacts:
    from crashplan.errors import InputError
    from crashplan.memmap.iomem import addresses_hidden, iter_iomem
    from crashplan.readiness import StatusFacts, kdump_capability

    r = _RootReader(root or "/")
    notes: list[str] = [] if r.host else [f"read under --root {root}: the paths shown are inside that tree"]
    release = (r.read("/proc/sys/kernel/osrelease") or "").strip() or None
    arch_name = (r.read("/proc/sys/kernel/arch", missing_ok=True) or "").strip() or None
    if r.host:
        u = os.uname()
        release = release or u.release
        arch_name = arch_name or u.machine
    from crashplan.cli.probe import arch_or_none

    arch = arch_or_none(arch_name)
    cmdline = r.read("/proc/cmdline")
    if cmdline is not None:
        cmdline = cmdline.rstrip("\n")

    # the kernel's build options
    kconfig, ksource = _kernel_config(r, release)
    capability = kdump_capability(kconfig, source=ksource)

    # the reservation
    crash_regions: tuple[tuple[int, int], ...] | None = None
    iomem = r.read("/proc/iomem")
    if iomem is not None:
        if addresses_hidden(iomem):
            r.unreadable.append((r.show("/proc/iomem"), ("every address reads as zero without root: the Crash "
                                 "kernel regions are not known")))
        else:
            try:
                crash_regions = tuple((e.start, e.end) for e in iter_iomem(iomem, source=r.show("/proc/iomem"))
                                      if e.name == "Crash kernel")
            except InputError as e:
                r.unreadable.append((r.show("/proc/iomem"), str(e)))
    size_text, _ = _first(r, "/sys/kernel/kexec/crash_size", "/sys/kernel/kexec_crash_size")
    loaded_text, loaded_path = _first(r, "/sys/kernel/kexec/crash_loaded", "/sys/kernel/kexec_crash_loaded")
    kexec_crash_size = _int(size_text)
    crash_loaded = None if _int(loaded_text) is None else _int(loaded_text) == 1
    if loaded_path is None:
        if capability.can_kdump is False and not capability.loaders:
            crash_loaded = False  # no kexec syscall: nothing can have been loaded (the file is absent too)
        else:
            r.unreadable.append((r.show("/sys/kernel/kexec_crash_loaded"), "no such file"))
    cma_ranges: tuple[tuple[int, int], ...] | None = None
    cma_text = r.read("/sys/kernel/kexec/crash_cma_ranges", missing_ok=True)
    if cma_text is not None:
        from crashplan.cli.probe import _cma_ranges

        try:
            spans = _cma_ranges(cma_text, r.show("/sys/kernel/kexec/crash_cma_ranges"))
            cma_ranges = tuple((s.start, s.end) for s in spans)
        except InputError as e:
            r.unreadable.append((r.show("/sys/kernel/kexec/crash_cma_ranges"), str(e)))

    # the boot log
    boot_lines = _boot_lines(r, boot_log)

    # the kdump tooling
    tooling, sources = _tooling(r)
    services = _services(r, notes)

    # the machine as suggest sees it: RAM, memory map, kdump kernel and initrd
    mach = None
    try:
        from crashplan.cli.probe import probe_host

        mach = probe_host(r.root)
    except InputError as e:
        notes.append(f"the memory map could not be read ({e}): the prediction is parsed only")
    if mach is not None and not mach.memmap.layout_known:
        notes.append("not root: the prediction is parsed, not placed (the memory layout is unknown)")
    needed = _needed(r, mach, tooling, kconfig, cma_ranges, notes)
    prediction = _prediction(cmdline, release, arch, mach, capability, notes)
    return StatusFacts(
        source="host" if r.host else "root", source_path=None if r.host else str(root),
        release=release, arch=arch, cmdline=cmdline, capability=capability, crash_regions=crash_regions,
        cma_ranges=cma_ranges, kexec_crash_size=kexec_crash_size, crash_loaded=crash_loaded, boot_lines=boot_lines,
        services=services, tooling=tooling, tooling_sources=sources, prediction=prediction,
        unreadable=tuple(r.unreadable), notes=tuple(notes), **needed,
    )


def _kernel_config(r: _RootReader, release: str | None) -> tuple[KernelConfig | None, str | None]:
    from crashplan.errors import InputError
    from crashplan.sizing.kconfig import parse_kernel_config

    text = None
    where = None
    if release and r.exists(f"/boot/config-{release}"):
        where = f"/boot/config-{release}"
        text = r.read(where)
    if text is None and r.exists("/proc/config.gz"):
        where = "/proc/config.gz"
        try:
            with gzip.open(r.path(where), "rt", encoding="utf-8", errors="replace") as f:
                text = f.read(1 << 24)
        except PermissionError:
            r.unreadable.append((r.show(where), "permission denied"))
        except (OSError, EOFError) as e:
            r.unreadable.append((r.show(where), f"not a readable gzip file: {e}"))
    if text is None:
        if where is None:
            r.unreadable.append((r.show(f"/boot/config-{release or '<release>'}"), ("no such file, and no "
                                 "/proc/config.gz: the kernel's build options are not known")))
        return None, None
    try:
        return parse_kernel_config(text, path=r.show(where or "")), r.show(where or "")
    except InputError as e:
        r.unreadable.append((r.show(where or ""), str(e)))
        return None, None


def _boot_lines(r: _RootReader, boot_log: str | None) -> tuple[str, ...] | None:
    from crashplan.memmap.bootlog import read_boot_log

    text = None
    source = ""  # set wherever text is
    if boot_log is not None:
        from crashplan.cli.probe import read_text

        text = read_text(boot_log)  # named by the user: an unreadable file is an input error
        source = boot_log
    elif not r.host:
        text = r.read("/var/log/dmesg", missing_ok=True)
        source = r.show("/var/log/dmesg")
        if text is None:
            r.unreadable.append((source, "no boot log under --root (pass --boot-log FILE)"))
    else:
        failures: list[tuple[str, str]] = []
        for cmd in (["journalctl", "-k", "-b", "-q", "--no-pager", "-o", "short-monotonic"], ["dmesg"]):
            if shutil.which(cmd[0]) is None:
                continue
            try:
                proc = subprocess.run(cmd, capture_output=True, timeout=20, check=False)
            except (OSError, subprocess.TimeoutExpired) as e:
                failures.append((" ".join(cmd), str(e)))
                continue
            out = proc.stdout.decode("utf-8", "surrogateescape")
            if proc.returncode == 0 and out.strip():
                text, source = out, " ".join(cmd)
                break
            err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            failures.append((" ".join(cmd), err[0] if err else f"exit status {proc.returncode}, no output"))
        if text is None:
            r.unreadable.extend(failures or [("journalctl, dmesg", "neither command is installed")])
    if text is None:
        return None
    lg = read_boot_log(text, source=source)
    return tuple(lg.crash_lines)


def _tooling(r: _RootReader) -> tuple[KdumpConfig | None, tuple[str, ...]]:
    from crashplan.errors import InputError
    from crashplan.sizing.kdumpconf import merge_configs, parse_kdump_conf, parse_kdump_tools, parse_sysconfig_kdump

    confs: list[KdumpConfig] = []
    sources: list[str] = []
    for rel, parser in (("/etc/kdump.conf", parse_kdump_conf), ("/etc/sysconfig/kdump", parse_sysconfig_kdump),
                        ("/etc/default/kdump-tools", parse_kdump_tools)):
        if not r.exists(rel):
            continue
        text = r.read(rel)
        if text is None:
            continue
        try:
            confs.append(parser(text, path=r.show(rel)))
            sources.append(r.show(rel))
        except InputError as e:
            r.unreadable.append((r.show(rel), str(e)))
    return (merge_configs(*confs) if confs else None), tuple(sources)


def _services(r: _RootReader, notes: list[str]) -> tuple[ServiceState, ...]:
    from crashplan.readiness import ServiceState

    out: list[ServiceState] = []
    if r.host and shutil.which("systemctl") is not None:
        for unit in KDUMP_UNITS:
            enabled: str | None
            active: str | None
            enabled, err_e = _systemctl("is-enabled", unit)
            active, err_a = _systemctl("is-active", unit)
            if not enabled:
                # systemctl prints the state on stdout; a unit it has no file for only an error
                enabled = "not-found" if "No such file" in err_e or "not found" in err_e else None
                if enabled is None:
                    r.unreadable.append((f"systemctl is-enabled {unit}", err_e or "no answer"))
            if not active:
                active = None
                if enabled != "not-found":
                    r.unreadable.append((f"systemctl is-active {unit}", err_a or "no answer"))
            if enabled == "not-found":
                active = None
            out.append(ServiceState(unit=unit, enabled=enabled, active=active))
        return tuple(out)
    if r.host:
        notes.append("systemctl is not available: the kdump service state is not known")
        return ()
    # a captured tree: unit files and the symlinks `systemctl enable` makes; the state is not known
    for unit in KDUMP_UNITS:
        present = any(r.exists(f"{d}/{unit}") for d in ("/etc/systemd/system", "/usr/lib/systemd/system",
                                                          "/lib/systemd/system"))
        if not present:
            out.append(ServiceState(unit=unit, enabled="not-found", source="unit files"))
            continue
        wants = r.path("/etc/systemd/system")
        enabled = "disabled"
        try:
            for d in wants.glob("*.wants"):
                if (d / unit).is_symlink() or (d / unit).exists():
                    enabled = "enabled"
        except OSError:
            pass
        if (wants / unit).is_symlink() and os.readlink(wants / unit) == "/dev/null":
            enabled = "masked"
        out.append(ServiceState(unit=unit, enabled=enabled, source="unit files"))
    return tuple(out)


def _systemctl(verb: str, unit: str) -> tuple[str, str]:
    """(the state word systemctl printed or "", the first line of its error output)."""
    try:
        proc = subprocess.run(["systemctl", verb, unit], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        return "", str(e)
    out = proc.stdout.decode("utf-8", "replace").split()
    err = [x for x in proc.stderr.decode("utf-8", "replace").splitlines() if x.strip()]
    return (out[0] if out else ""), " ".join(err[:2])


def _needed(r: _RootReader | None, mach: Machine | None, tooling: KdumpConfig | None, kconfig: KernelConfig | None,
            cma_ranges: tuple[tuple[int, int], ...] | None, notes: list[str]) -> dict[str, Any]:
    """The sizing model's requirement for the installed kdump kernel and initrd (``suggest``'s model)."""
    from crashplan.errors import InputError
    from crashplan.sizing.inputs import Overrides, Sources, build_inputs
    from crashplan.sizing.model import classic_budget, cma_budget

    if mach is None:
        notes.append("the RAM size is not known: the reservation is not compared with the model")
        return {}
    kd: Mapping[str, Any] = mach.kdump or {}  # the machine file's kdump: section (YAML, checked when read)
    kernel_image = initrd = None
    if r is not None:
        from crashplan.sizing.kernel_image import HEAD_BYTES, read_kernel_image

        img = (kd.get("kernel_image") or {}).get("path")
        if img:
            try:
                with open(r.path(img), "rb") as f:
                    kernel_image = read_kernel_image(f.read(HEAD_BYTES), file_size=os.fstat(f.fileno()).st_size)
            except OSError as e:
                r.unreadable.append((r.show(img), e.strerror or str(e)))
        ird = (kd.get("initrd") or {}).get("path")
        if ird:
            from crashplan.sizing.initrd import read_initrd

            try:
                with open(r.path(ird), "rb") as f:
                    initrd = read_initrd(f, size=os.fstat(f.fileno()).st_size, page_size=mach.page_size or 4096)
            except OSError as e:
                r.unreadable.append((r.show(ird), e.strerror or str(e)))
    try:
        inputs, _facts, _release, _notes = build_inputs(
            machine=mach, sources=Sources(kernel_image=kernel_image, initrd=initrd, kdump=tooling, kconfig=kconfig),
            overrides=Overrides())
    except (ValueError, InputError) as e:
        notes.append(f"the sizing model could not run: {e}")
        return {}
    budget = classic_budget(inputs)
    import re

    # suggest's wording names its own options; status has none of them
    assumed = tuple(re.sub(r"\s*\(pass [^)]*\)$|; pass .*$", "", a) for a in inputs.assumptions)
    if assumed:
        notes.append("crashplan suggest --kernel-image/--initrd/--nr-cpus … replaces what is assumed here")
    out: dict[str, Any] = {"needed": budget.required, "recommended": budget.recommended,
                           "needed_assumptions": assumed}
    if cma_ranges:
        cb = cma_budget(inputs, cma_above_dma_limit=any(e > 1 << 32 for _, e in cma_ranges))
        out["needed_classic_cma"] = cb.classic_required
        out["needed_cma"] = cb.cma_required
    return out


def _prediction(cmdline: str | None, release: str | None, arch: str | None, mach: Machine | None,
                capability: Capability, notes: list[str]) -> Prediction | None:
    from crashplan.readiness import Prediction, predict
    from crashplan.sizing.inputs import release_for_rules

    if release is None or arch is None:
        notes.append("the kernel release or architecture is not known: no prediction")
        return None
    ram = mach.ram_size() if mach is not None else 0
    if not ram:
        return Prediction(params="", accepted=False, note="the RAM size is not known: nothing predicted")
    try:
        rules, clamp = release_for_rules(release)
    except ValueError as e:
        notes.append(f"the kernel release {release} cannot be modelled ({e}): no prediction")
        return None
    if clamp:
        notes.append(clamp)
    return predict(cmdline, kernel=rules, arch=arch, system_ram=ram, machine=mach, capability=capability)


def _facts_from_machine_file(path: str, boot_log: str | None) -> StatusFacts:
    from crashplan.cli.probe import read_text
    from crashplan.memmap.machine import load_machine
    from crashplan.readiness import StatusFacts, kdump_capability

    name = "<stdin>" if path == "-" else path
    mach = load_machine(read_text(path), source=name)
    kd = mach.kdump or {}
    capability = kdump_capability(kd.get("kernel_config") or None,
                                  source=f"{name}: kdump.kernel_config" if kd.get("kernel_config") else None)
    notes: list[str] = [(f"read from the machine file {name}: the service, the tooling and whether a capture "
                        "kernel is loaded are not known")]
    # a map read from /proc/iomem or a boot log records the Crash kernel regions of that moment
    crash = tuple((s.start, s.end) for s in mach.memmap.crash if "CMA" not in s.name) if mach.memmap.layout_known \
        else None
    cma = tuple((s.start, s.end) for s in mach.crash_cma_ranges) or None
    r = _RootReader("/")
    boot_lines = _boot_lines(r, boot_log) if boot_log else None
    needed = _needed(None, mach, None, None, cma, notes)
    prediction = _prediction(mach.cmdline, mach.kernel, mach.arch, mach, capability, notes)
    unreadable = [("kexec_crash_loaded", "not recorded in a machine file")]
    return StatusFacts(
        source="machine file", source_path=name, release=mach.kernel, arch=mach.arch, cmdline=mach.cmdline,
        capability=capability, crash_regions=crash,
        cma_ranges=cma, kexec_crash_size=mach.kexec_crash_size, crash_loaded=None, boot_lines=boot_lines,
        prediction=prediction, unreadable=tuple(unreadable + r.unreadable), notes=tuple(notes), **needed,
    )
