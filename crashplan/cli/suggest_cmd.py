"""``crashplan suggest``: recommend crashkernel= sizes, classic and CMA plans side by side.

This module gathers the inputs (files named by options; on this host, the usual places under /boot,
/etc, /sys and /proc) and hands plain data to :mod:`crashplan.sizing`.  It never runs the commands it
prints.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import replace

import click

from crashplan.cli import ExitStatus
from crashplan.cli.options import ArchType, KernelType, SizeType, machine_source_options


class _Ranges(click.ParamType):
    name = "sizes"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> tuple[int, ...]:
        if isinstance(value, tuple):
            return value
        from crashplan.units import parse_size

        try:
            out = tuple(sorted({parse_size(x) for x in str(value).split(",") if x.strip()}))
        except ValueError as e:
            self.fail(str(e), param, ctx)
        if not out or out[0] <= 0:
            self.fail("expected range boundaries such as 2G,4G,64G", param, ctx)
        return out


@click.command()
@machine_source_options
@click.option("--kernel", type=KernelType(), metavar="REL", help="Kernel release of the production and capture kernel.")
@click.option("--arch", type=ArchType(), metavar="ARCH", help="Architecture (x86_64, arm64, ppc64le, s390x …).")
@click.option("--ram", type=SizeType(), metavar="SIZE", help="System RAM as the kernel counts it (e.g. 16G).")
@click.option("--kernel-image", type=click.Path(dir_okay=False), metavar="FILE",
              help="The capture kernel (bzImage, Image, vmlinux): its in-memory size is read from its header.")
@click.option("--kernel-size", type=SizeType(), metavar="SIZE", help="The capture kernel's in-memory size (init_size).")
@click.option("--initrd", type=click.Path(dir_okay=False), metavar="FILE",
              help="The kdump initrd: every cpio layer is read for its unpacked size.")
@click.option("--initrd-size", type=SizeType(), metavar="SIZE", help="The kdump initrd's file size.")
@click.option("--initrd-unpacked", type=SizeType(), metavar="SIZE", help="What its files take once unpacked.")
@click.option("--kdump-conf", type=click.Path(dir_okay=False), metavar="FILE",
              help="Fedora/RHEL /etc/kdump.conf.")
@click.option("--sysconfig", type=click.Path(dir_okay=False), metavar="FILE",
              help="/etc/sysconfig/kdump (Fedora/RHEL or SUSE).")
@click.option("--kdump-tools", type=click.Path(dir_okay=False), metavar="FILE",
              help="Debian/Ubuntu /etc/default/kdump-tools.")
@click.option("--kernel-config", type=click.Path(dir_okay=False), metavar="FILE",
              help="The kernel's .config (/boot/config-<release>): CONFIG_CMA, CONFIG_KEXEC_FILE …")
@click.option("--luks-dump", type=click.Path(dir_okay=False, allow_dash=True), metavar="FILE",
              help="`cryptsetup luksDump` output of the encrypted dump target.")
@click.option("--luks-memory", type=SizeType(), metavar="SIZE", help="Memory to unlock the dump target (keyslot).")
@click.option("--nr-cpus", type=click.IntRange(0, 1 << 20), metavar="N", help="CPUs of the capture kernel (0 = all).")
@click.option("--dump-level", type=click.IntRange(0, 31), metavar="N", help="makedumpfile -d level.")
@click.option("--collector", metavar="CMD", help='The core collector, e.g. "makedumpfile -l -d 31" or "cp".')
@click.option("--kexec", type=click.Choice(["file", "load"]), help="How the capture kernel is loaded.")
@click.option("--network/--no-network", default=None, help="The dump goes over the network (NFS, ssh).")
@click.option("--mem-encrypt", type=click.Choice(["sev", "sme", "tdx", "none"]), help="Memory encryption.")
@click.option("--mlx5/--no-mlx5", default=None, help="A Mellanox ConnectX (mlx5_core) adapter is present.")
@click.option("--smmu/--no-smmu", default=None, help="arm64: an SMMU is present.")
@click.option("--fadump/--no-fadump", default=None, help="powerpc firmware-assisted dump is active.")
@click.option("--capture-append", metavar="PARAMS", help="Parameters added to the capture kernel's command line.")
@click.option("--no-probe", is_flag=True,
              help="Read nothing from this system: only the files and values given (and the machine file).")
@click.option("--portable", is_flag=True, help="Also give a range table (crashkernel=2G-4G:…,…) for a fleet.")
@click.option("--ranges", type=_Ranges(), default="2G,4G,64G", show_default=True, metavar="SIZES",
              help="Range boundaries for --portable.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--width", type=click.IntRange(40, 400), default=None, hidden=True)
def suggest(**opts: object) -> int:
    """Recommend crashkernel= sizes for a machine: a classic plan and a CMA plan side by side.

    The capture kernel's needs are modelled term by term (its image, the initrd and its unpacking, the
    rootfs cap, run-time memory, makedumpfile, network or LUKS) from this machine's kernel, initrd and
    kdump configuration, or from a machine file (--machine) and the options. Each plan is replayed
    through the kernel's parser and the reservation simulator; the commands that would apply it are
    printed, never run.

    Exit status: 0 a plan is recommended; 1 both plans are refused; 2 usage or input error.
    """
    from crashplan.errors import InputError
    from crashplan.sizing.inputs import Overrides, Sources, build_inputs
    from crashplan.sizing.plans import suggest as run_suggest
    from crashplan.sizing.report import SuggestReport, report_json

    o = opts
    sources_given = [x for x in (o["iomem"], o["boot_log"], o["machine"]) if x]
    if len(sources_given) > 1:
        raise click.UsageError("give at most one of --iomem, --boot-log and --machine")
    on_host = not sources_given and not o["no_probe"]
    from crashplan.cli.probe import resolve_machine

    machine = None
    map_note = None
    if sources_given or on_host:
        try:
            machine = resolve_machine(iomem=o["iomem"], boot_log=o["boot_log"], machine=o["machine"],  # type: ignore[arg-type]
                                      arch=o["arch"])  # type: ignore[arg-type]
        except InputError as e:
            if sources_given:
                raise
            map_note = f"this machine's memory map could not be read ({e}): nothing is replayed"
        fallback = o["fallback_machine"]
        if on_host and fallback and (machine is None or not machine.memmap.layout_known):
            machine = resolve_machine(machine=fallback, arch=o["arch"])  # type: ignore[arg-type]
            why = f"this machine's memory map cannot be read (run as root): planning for {fallback} instead"
            machine = replace(machine, notes=tuple(machine.notes) + (why,))
            on_host, map_note = False, None
    else:
        map_note = "--no-probe and no memory map: the plans are parsed, not placed"
    sources = _gather(o, machine, on_host)
    mem_encrypt = o["mem_encrypt"]
    overrides = Overrides(
        arch=o["arch"], kernel=o["kernel"], ram=o["ram"], kernel_size=o["kernel_size"],  # type: ignore[arg-type]
        initrd_size=o["initrd_size"], initrd_unpacked=o["initrd_unpacked"], nr_cpus=o["nr_cpus"],  # type: ignore[arg-type]
        dump_level=o["dump_level"], collector=o["collector"], kexec=o["kexec"],  # type: ignore[arg-type]
        luks_memory=o["luks_memory"], network=o["network"], fadump=o["fadump"],  # type: ignore[arg-type]
        mem_encrypt=None if mem_encrypt in (None, "none") else str(mem_encrypt),
        mlx5=o["mlx5"], smmu=o["smmu"], capture_append=o["capture_append"],  # type: ignore[arg-type]
    )
    if mem_encrypt == "none" and machine is not None:
        machine = replace(machine, mem_encrypt=None)
    if o["ram"] is not None and machine is not None and machine.ram_size() != o["ram"]:
        map_note = "--ram differs from the memory map: the placement is not replayed"
        machine = replace(machine, memmap=replace(machine.memmap, ram=(), layout_known=False), system_ram=o["ram"])
    try:
        inputs, facts, release, notes = build_inputs(machine=machine, sources=sources, overrides=overrides)
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    try:
        result = run_suggest(inputs, release=release, facts=facts, machine=machine, portable=bool(o["portable"]),
                             boundaries=o["ranges"])  # type: ignore[arg-type]
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    applies = _applies(result, machine, on_host, facts)
    extra = tuple(notes) + ((map_note,) if map_note else ())
    report = SuggestReport(suggestion=result, machine=machine, sources=sources, apply=applies, notes=extra,
                           distribution_default=_distribution_default(result, facts, on_host,
                                                                      getattr(machine, "cpus", None)))
    if o["fmt"] == "json":
        sys.stdout.write(json.dumps(report_json(report), indent=2, sort_keys=True) + "\n")
    else:
        from crashplan.output.suggest_text import render_suggest

        render_suggest(report, width=o["width"])  # type: ignore[arg-type]
    return ExitStatus.OK if report.exit_status == 0 else ExitStatus.FINDINGS


# ---------------------------------------------------------------------------------------------
# inputs from files


def _read_head(path: str, n: int) -> tuple[bytes, int]:
    from crashplan.errors import InputError

    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            return f.read(n), size
    except IsADirectoryError:
        raise InputError("is a directory, expected a file", path=path) from None
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror or e}", path=path) from None


def _text(path: str) -> str:
    from crashplan.cli.probe import read_text

    return read_text(path)


def _exists(path: str) -> bool:
    try:
        return os.path.isfile(path) and os.access(path, os.R_OK)
    except OSError:
        return False


def _gather(o: dict[str, object], machine: object | None, on_host: bool):  # type: ignore[no-untyped-def]
    """Read the files the options name; on this host, also the usual places."""
    from crashplan.sizing.inputs import Sources
    from crashplan.sizing.kconfig import parse_kernel_config
    from crashplan.sizing.kdumpconf import merge_configs, parse_kdump_conf, parse_kdump_tools, parse_sysconfig_kdump
    from crashplan.sizing.kernel_image import HEAD_BYTES, read_kernel_image
    from crashplan.sizing.luks import parse_luks_dump

    release = o["kernel"] or getattr(machine, "kernel", None)
    kd = getattr(machine, "kdump", None) or {}
    page = getattr(machine, "page_size", 4096) or 4096

    image_path = o["kernel_image"]
    if image_path is None and on_host and release:
        for cand in (f"/boot/vmlinuz-{release}", f"/boot/Image-{release}", f"/boot/vmlinux-{release}"):
            if _exists(cand):
                image_path = cand
                break
    kernel_image = None
    if image_path:
        head, size = _read_head(str(image_path), HEAD_BYTES)
        kernel_image = read_kernel_image(head, file_size=size)

    initrd_path = o["initrd"]
    if initrd_path is None and on_host:
        cands = []
        ird = kd.get("initrd") if isinstance(kd, dict) else None
        if isinstance(ird, dict) and ird.get("path"):
            cands.append(str(ird["path"]))
        if release:
            cands += [f"/boot/initramfs-{release}kdump.img", f"/var/lib/kdump/initrd.img-{release}",
                      f"/boot/initrd-{release}-kdump"]
        cands.append("/var/lib/kdump/initrd.img")
        initrd_path = next((c for c in cands if _exists(c)), None)
    initrd = None
    if initrd_path:
        initrd = _read_initrd(str(initrd_path), page)

    confs = []
    for flag, parser, default in (("kdump_conf", parse_kdump_conf, "/etc/kdump.conf"),
                                  ("sysconfig", parse_sysconfig_kdump, "/etc/sysconfig/kdump"),
                                  ("kdump_tools", parse_kdump_tools, "/etc/default/kdump-tools")):
        path = o[flag]
        if path is None and on_host and _exists(default):
            path = default
        if path:
            confs.append(parser(_text(str(path)), path=str(path)))
    kdump = merge_configs(*confs) if confs else None

    kc_path = o["kernel_config"]
    kconfig = None
    if kc_path is None and on_host and release and _exists(f"/boot/config-{release}"):
        kc_path = f"/boot/config-{release}"
    if kc_path:
        kconfig = parse_kernel_config(_text(str(kc_path)), path=str(kc_path))
    elif on_host and _exists("/proc/config.gz"):
        import gzip

        try:
            with gzip.open("/proc/config.gz", "rt", encoding="utf-8", errors="replace") as f:
                kconfig = parse_kernel_config(f.read(1 << 22), path="/proc/config.gz")
        except (OSError, EOFError):
            kconfig = None
    luks = None
    if o["luks_dump"]:
        luks = parse_luks_dump(_text(str(o["luks_dump"])), path=str(o["luks_dump"]))
    return Sources(kernel_image=kernel_image, initrd=initrd, kdump=kdump, kconfig=kconfig, luks=luks)


def _read_initrd(path: str, page_size: int):  # type: ignore[no-untyped-def]
    from crashplan.errors import InputError
    from crashplan.sizing.initrd import read_initrd

    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            return read_initrd(f, size=size, page_size=page_size)
    except IsADirectoryError:
        raise InputError("is a directory, expected a file", path=path) from None
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror or e}", path=path) from None


# ---------------------------------------------------------------------------------------------
# how to apply


def _host_facts(arch: str | None, machine: object | None):  # type: ignore[no-untyped-def]
    import shutil

    from crashplan.sizing.apply import SystemFacts

    os_id = None
    like: tuple[str, ...] = ()
    try:
        with open("/etc/os-release", encoding="utf-8", errors="replace") as f:
            for line in f:
                k, _, v = line.strip().partition("=")
                v = v.strip().strip('"')
                if k == "ID":
                    os_id = v
                elif k == "ID_LIKE":
                    like = tuple(v.split())
    except OSError:
        pass
    auto_reset = None
    try:
        with open("/etc/kdump.conf", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.strip().startswith("auto_reset_crashkernel"):
                    auto_reset = line.split()[1:2] != ["no"]
    except OSError:
        pass
    return SystemFacts(
        os_id=os_id, os_like=like, arch=arch, ostree=os.path.exists("/run/ostree-booted"),
        grubby=shutil.which("grubby") is not None, update_grub=shutil.which("update-grub") is not None,
        zipl_conf=os.path.exists("/etc/zipl.conf"),
        kdump_tools_grub_cfg=os.path.exists("/etc/default/grub.d/kdump-tools.cfg"),
        auto_reset_crashkernel=auto_reset, kdumpctl=shutil.which("kdumpctl") is not None,
        release=getattr(machine, "kernel", None), current=_current(machine), source="this system",
    )


def _current(machine: object | None) -> tuple[str, ...]:
    cmdline = getattr(machine, "cmdline", None) or ""
    from crashplan.cmdline import split_params

    return tuple(cmdline[p.start:p.end] for p in split_params(cmdline) if p.name == "crashkernel")


def _distribution_default(result, facts, on_host: bool, cpus: int | None = None):  # type: ignore[no-untyped-def]
    """What the distribution's kdump tool would set for this machine (None for mainline releases)."""
    from crashplan.sizing.distro_defaults import MachineFacts, distribution_default

    i = result.inputs
    try:
        classic = result.plan("classic")
    except StopIteration:
        classic = None
    need = classic.crashkernel if classic is not None and classic.refused is None else None
    mf = MachineFacts(sme_sev=i.mem_encrypt in ("sev", "sme"), page_64k=i.page_size == 65536, smmu=bool(i.smmu),
                      mlx5=bool(i.mlx5), fadump=bool(getattr(facts, "fadump", False)),
                      capture_cpus=i.nr_cpus or 1)
    osr = None
    calibrate = None
    if on_host:
        from crashplan.cli.probe import read_calibrate_conf, read_os_release

        osr = read_os_release()
        calibrate = read_calibrate_conf()
    return distribution_default(result.release, i.arch, i.system_ram, need=need, facts=mf, os_release=osr,
                                calibrate=calibrate, cpus=cpus, network=bool(i.network))


def _applies(result, machine, on_host: bool, facts):  # type: ignore[no-untyped-def]
    from crashplan.sizing.apply import apply_plan, facts_from_release, kdump_utils_default

    arch = result.inputs.arch
    sysf = _host_facts(arch, machine) if on_host else facts_from_release(
        getattr(machine, "kernel", None), arch, _current(machine))
    out = {}
    for p in result.plans:
        if p.refused is None and p.cmdline:
            out[p.name] = apply_plan(p.cmdline, sysf, plan=p.name, kdump_flavour=facts.kdump_flavour,
                                     kexec_mode=facts.kexec_mode,
                                     kdump_utils_default=kdump_utils_default(arch, result.inputs.system_ram),
                                     recommended=p.crashkernel)
    if result.portable is not None:
        out["portable"] = apply_plan(result.portable.cmdline, sysf, plan="portable",
                                     kdump_flavour=facts.kdump_flavour, kexec_mode=facts.kexec_mode)
    return out
