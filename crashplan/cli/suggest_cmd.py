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
from typing import TYPE_CHECKING, Any

import click

from crashplan.cli import ExitStatus
from crashplan.cli.options import ArchType, KernelType, SizeType, machine_source_options, output_option

if TYPE_CHECKING:
    from crashplan.sizing.apply import SystemFacts
    from crashplan.sizing.inputs import Sources


class _Ranges(click.ParamType):  # type: ignore[type-arg]  # generic in click's types, not at run time in every click
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
@click.option("--kernel", type=KernelType(), metavar="RELEASE",
              help="Kernel release of the production and capture kernel.")
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
@click.option("-q", "--quiet", is_flag=True,
              help="Print only the parameters to set (the classic plan's, else the CMA plan's), for scripts.")
@click.option("-v", "--verbose", count=True,
              help="-v adds the budget term by term and the replayed layout; -vv why each term is there.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="Colour the text output (auto: on a terminal, unless NO_COLOR is set).")
@output_option
@click.option("--width", type=click.IntRange(40, 400), default=None, hidden=True)
def suggest(**opts: Any) -> int:
    """Recommend crashkernel= sizes for a machine: a classic plan and a CMA plan side by side.

    The capture kernel's needs are modelled term by term (its image, the initrd and its unpacking, the
    rootfs cap, run-time memory, makedumpfile, network or LUKS) from this machine's kernel, initrd and
    kdump configuration, or from a machine file (--machine) and the options. Each plan is replayed
    through the kernel's parser and the reservation simulator; the commands that would apply it are
    printed, never run.

    The first lines are the answer: the parameters to set, what the machine's current crashkernel=
    gives beside them (from /proc/cmdline, or the machine file's cmdline), and the command that applies
    them on this machine.

    \b
    Examples:
      crashplan suggest
      crashplan suggest --fallback-machine examples/x86_64-server-16g.yaml
      crashplan suggest --machine examples/x86_64-qemu-4g.yaml -v
      crashplan suggest -q        # prints e.g. crashkernel=232M

    Exit status: 0 a plan is recommended; 1 both plans are refused; 2 usage or input error.
    """
    from crashplan.sizing.inputs import Overrides, build_inputs
    from crashplan.sizing.plans import suggest as run_suggest
    from crashplan.sizing.report import SuggestReport, report_json

    o = opts
    sources_given = [x for x in (o["iomem"], o["boot_log"], o["machine"]) if x]
    if len(sources_given) > 1:
        raise click.UsageError("give at most one of --iomem, --boot-log and --machine")
    on_host = not sources_given and not o["no_probe"]
    probe_host = on_host  # this system is probed (its boot-loader tools, /proc/cmdline), even with a fallback
    if o["quiet"] and o["verbose"]:
        raise click.UsageError("give at most one of -q/--quiet and -v/--verbose")
    machine, map_note, fallback_used = _machine(o, bool(sources_given), on_host)
    if fallback_used is not None:
        on_host = False
    sources = _gather(o, machine, on_host)
    mem_encrypt = o["mem_encrypt"]
    overrides = Overrides(
        arch=o["arch"], kernel=o["kernel"], ram=o["ram"], kernel_size=o["kernel_size"],
        initrd_size=o["initrd_size"], initrd_unpacked=o["initrd_unpacked"], nr_cpus=o["nr_cpus"],
        dump_level=o["dump_level"], collector=o["collector"], kexec=o["kexec"],
        luks_memory=o["luks_memory"], network=o["network"], fadump=o["fadump"],
        mem_encrypt=None if mem_encrypt in (None, "none") else str(mem_encrypt),
        mlx5=o["mlx5"], smmu=o["smmu"], capture_append=o["capture_append"],
    )
    if mem_encrypt == "none" and machine is not None:
        machine = machine.replace(mem_encrypt=None)
    if o["ram"] is not None and machine is not None and machine.ram_size() != o["ram"]:
        map_note = "--ram differs from the memory map: the placement is not replayed"
        machine = machine.replace(memmap=machine.memmap.replace(ram=(), layout_known=False), system_ram=o["ram"])
    try:
        inputs, facts, release, notes = build_inputs(machine=machine, sources=sources, overrides=overrides)
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    if o["ram"] is not None:
        from crashplan.kernel.arch import ram_limit_error

        too_big = ram_limit_error(int(o["ram"]), inputs.arch)
        if too_big:
            raise click.BadParameter(too_big, param_hint="--ram")
    try:
        result = run_suggest(inputs, release=release, facts=facts, machine=machine, portable=bool(o["portable"]),
                             boundaries=o["ranges"])
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    result = _refuse_without_kdump(result, sources, machine)
    host = _probe_host() if probe_host else None
    applies = _applies(result, machine, host, facts,
                       auto_reset=sources.kdump.auto_reset_crashkernel if sources.kdump is not None else None)
    current = shrink = None
    if fallback_used is None:  # the fallback's command line is the example's, not this machine's
        from crashplan.sizing.answer import assess_current

        src = "/proc/cmdline" if on_host else str(o["machine"] or o["boot_log"] or o["iomem"] or "")
        current = assess_current(result, machine, source=src)
        shrink = _shrink(result, current, host if on_host else None, facts)
    extra = tuple(notes) + ((map_note,) if map_note else ())
    report = SuggestReport(suggestion=result, machine=machine, sources=sources, apply=applies, notes=extra,
                           current=current, shrink=shrink, fallback=fallback_used,
                           distribution_default=_distribution_default(result, facts, on_host,
                                                                      getattr(machine, "cpus", None)))
    if o["fmt"] == "json":
        sys.stdout.write(json.dumps(report_json(report), indent=2, sort_keys=True) + "\n")
    elif o["quiet"]:
        offered = [p for p in result.plans if p.refused is None and p.cmdline]
        if not offered:
            click.echo("crashplan: every plan is refused (run without -q for the reasons)", err=True)
        else:
            click.echo(offered[0].cmdline)
    else:
        from crashplan.output.suggest_text import render_suggest

        render_suggest(report, width=o["width"], verbosity=int(o["verbose"]), color=str(o["color"]))
    return ExitStatus.OK if report.exit_status == 0 else ExitStatus.FINDINGS


def _machine(o: dict[str, Any], sources_given: bool, on_host: bool) -> tuple[Any, str | None, str | None]:
    """The machine to plan for, why nothing is replayed (or None), and the fallback machine file used."""
    from crashplan.cli.probe import resolve_machine
    from crashplan.errors import InputError

    if not (sources_given or on_host):
        return None, "--no-probe and no memory map: the plans are parsed, not placed", None
    machine = None
    map_note = None
    try:
        machine = resolve_machine(iomem=o["iomem"], boot_log=o["boot_log"], machine=o["machine"], arch=o["arch"])
    except InputError as e:
        if sources_given:
            raise
        map_note = f"this machine's memory map could not be read ({e}): nothing is replayed"
    fallback = o["fallback_machine"]
    if on_host and fallback and (machine is None or not machine.memmap.layout_known):
        machine = resolve_machine(machine=fallback, arch=o["arch"])
        why = f"this machine's memory map cannot be read (run as root): planning for {fallback} instead"
        return machine.replace(notes=(*machine.notes, why)), None, str(fallback)
    return machine, map_note, None


def _refuse_without_kdump(result: Any, sources: Sources, machine: Any) -> Any:
    """Every plan refused when the kernel's build options rule kdump out (crashplan.readiness)."""
    from crashplan.capability import kdump_capability

    kd = getattr(machine, "kdump", None) or {}
    if sources.kconfig is not None:
        cap = kdump_capability(sources.kconfig)
    elif kd.get("kernel_config"):
        cap = kdump_capability(kd["kernel_config"], source="machine file kdump.kernel_config")
    else:
        return result
    why = cap.refusal()
    if why is None:
        return result
    plans = tuple(replace(p, cmdline=None, refused="kdump cannot work with this kernel: " + why) for p in result.plans)
    return replace(result, plans=plans, portable=None)


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


def _gather(o: dict[str, Any], machine: Any, on_host: bool) -> Sources:
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
    for w in kdump.warnings if kdump is not None else ():
        click.echo(f"crashplan: warning: {w}", err=True)

    kc_path = o["kernel_config"]
    kconfig = None
    if kc_path is None and on_host and release and _exists(f"/boot/config-{release}"):
        kc_path = f"/boot/config-{release}"
    if kc_path:
        kconfig = parse_kernel_config(_text(str(kc_path)), path=str(kc_path))
    elif on_host and _exists("/proc/config.gz"):
        from crashplan.cli.hostfacts import _gunzip_text

        text = _gunzip_text("/proc/config.gz", 1 << 22)
        kconfig = parse_kernel_config(text, path="/proc/config.gz") if text is not None else None
    luks = None
    if o["luks_dump"]:
        luks = parse_luks_dump(_text(str(o["luks_dump"])), path=str(o["luks_dump"]))
    return Sources(kernel_image=kernel_image, initrd=initrd, kdump=kdump, kconfig=kconfig, luks=luks)


def _read_initrd(path: str, page_size: int) -> Any:
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


def _probe_host() -> dict[str, object]:
    """What this system shows about applying a plan: presence only (PATH, files), /etc/os-release, and the
    kernel's live reservation files.  Nothing is run."""
    import shutil

    from crashplan.sizing.apply import BOOT_FILES, TOOLS

    os_id = None
    like: tuple[str, ...] = ()
    try:
        with open("/etc/os-release", encoding="utf-8", errors="replace") as f:
            for line in f:
                k, _, v = line.strip().partition("=")
                v = v.strip().strip('"').strip("'")
                if k == "ID":
                    os_id = v
                elif k == "ID_LIKE":
                    like = tuple(v.split())
    except OSError:
        pass
    auto_reset = None
    try:
        from crashplan.sizing.kdumpconf import auto_reset_crashkernel

        with open("/etc/kdump.conf", encoding="utf-8", errors="replace") as f:
            auto_reset = auto_reset_crashkernel(f.read())  # as kdumpctl reads it: quotes, comments, last wins
    except OSError:
        pass
    crash_size: int | None = None
    try:
        with open("/sys/kernel/kexec_crash_size", encoding="ascii") as f:
            crash_size = int(f.read().strip() or "0")
    except (OSError, ValueError):
        pass
    loaded: bool | None = None
    try:
        with open("/sys/kernel/kexec_crash_loaded", encoding="ascii") as f:
            loaded = f.read().strip() == "1"
    except OSError:
        pass
    return {
        "os_id": os_id, "os_like": like, "auto_reset": auto_reset,
        "tools": frozenset(t for t in TOOLS if shutil.which(t) is not None),
        "files": frozenset(p for p in BOOT_FILES if os.path.exists(p)),
        "crash_size_file": os.path.exists("/sys/kernel/kexec_crash_size"), "crash_size": crash_size,
        "crash_loaded": loaded,
    }


def _host_facts(arch: str | None, machine: object | None, host: dict[str, Any]) -> SystemFacts:
    from crashplan.sizing.answer import crashkernel_tokens
    from crashplan.sizing.apply import SystemFacts

    files = host["files"]
    return SystemFacts(
        os_id=host["os_id"], os_like=host["os_like"], arch=arch,
        ostree="/run/ostree-booted" in files,
        auto_reset_crashkernel=host["auto_reset"],
        release=getattr(machine, "kernel", None), current=crashkernel_tokens(_proc_cmdline()),
        source="this system", tools=host["tools"], files=files,
    )


def _proc_cmdline() -> str | None:
    try:
        with open("/proc/cmdline", encoding="utf-8", errors="surrogateescape") as f:
            return f.read().strip()
    except OSError:
        return None


def _current(machine: object | None) -> tuple[str, ...]:
    from crashplan.sizing.answer import crashkernel_tokens

    return crashkernel_tokens(getattr(machine, "cmdline", None))


def _distribution_default(result: Any, facts: Any, on_host: bool, cpus: int | None = None) -> Any:
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


def _shrink(result: Any, current: Any, host: dict[str, Any] | None, facts: Any) -> Any:
    """Giving back the part of the current reservation the classic plan does not need, without a reboot."""
    from crashplan.sizing.apply import live_shrink

    classic = next((p for p in result.plans if p.name == "classic" and p.refused is None), None)
    if classic is None or current is None or current.cma or classic.cmdline is None:
        return None
    if "," in classic.cmdline.replace(",high", "", 1).replace(",low", "", 1):
        return None
    target = classic.loses if classic.loses is not None else classic.crashkernel
    if host is not None:
        reserved = host["crash_size"] if isinstance(host["crash_size"], int) else current.reserves
        return live_shrink(reserved=reserved, target=target, low=current.low, live=True,
                           sysfs=bool(host["crash_size_file"]), loaded=host["crash_loaded"],
                           kdump_flavour=facts.kdump_flavour, page_size=result.inputs.page_size)
    return live_shrink(reserved=current.reserves, target=target, low=current.low, live=False,
                       kdump_flavour=facts.kdump_flavour, page_size=result.inputs.page_size)


def _applies(result: Any, machine: Any, host: dict[str, Any] | None, facts: Any,
             auto_reset: bool | None = None) -> dict[str, Any]:
    from dataclasses import replace as dc_replace

    from crashplan.sizing.apply import apply_plan, facts_from_release, kdump_utils_default

    arch = result.inputs.arch
    sysf = _host_facts(arch, machine, host) if host is not None else facts_from_release(
        getattr(machine, "kernel", None), arch, _current(machine))
    if auto_reset is not None:  # the kdump.conf read (--kdump-conf, or this host's) says it
        sysf = dc_replace(sysf, auto_reset_crashkernel=auto_reset)
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
