"""``crashplan check``: replay the kernel's parsing and reservation of crashkernel= parameters."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from crashplan.cli import ExitStatus
from crashplan.cli.options import ArchType, KernelType, SizeType, machine_source_options, output_option

if TYPE_CHECKING:
    from crashplan.check import CheckReport
    from crashplan.memmap.model import Machine
    from crashplan.sizing.distro_defaults import MachineFacts


@click.command()
@click.argument("params", required=False)
@click.option("--kernel", "kernel", type=KernelType(), metavar="RELEASE",
              help="Kernel release (6.12, 6.12.107, or a uname -r string). Default: the machine's, else this one's.")
@click.option("--arch", type=ArchType(), metavar="ARCH",
              help="Architecture (x86_64/amd64, arm64/aarch64, riscv64, loongarch64, ppc64le, s390x).")
@click.option("--ram", type=SizeType(), metavar="SIZE",
              help="System RAM as the kernel counts it (e.g. 16G). Default: from the memory map.")
@machine_source_options(repeated_machine_hint='to check a line on several machines use '
                        '`crashplan fleet check "crashkernel=..." FILE...`')
@click.option("--no-map", is_flag=True, help="Only parse: do not read or replay a memory map.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("-q", "--quiet", is_flag=True,
              help="Print only the answer line (what is reserved, how much, where), for scripts.")
@click.option("-v", "--verbose", count=True,
              help="-v adds every crashkernel= (read or not), the parser's rules and the code path; "
                   "-vv why: the release switches that decided, with their certainty.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="Colour the text output (auto: on a terminal, unless NO_COLOR is set).")
@output_option
@click.option("--width", type=click.IntRange(40, 400), default=None, hidden=True)
def check(params: str | None, kernel: str | None, arch: str | None, ram: int | None, iomem: str | None,
          boot_log: str | None, machine: str | None, fallback_machine: str | None, no_map: bool, fmt: str,
          quiet: bool, verbose: int, color: str, width: int | None) -> int:
    """Show what the kernel does with PARAMS (e.g. "crashkernel=256M crashkernel=1G,cma").

    PARAMS are parsed exactly as the chosen kernel release and architecture parse them; with a memory map
    (this machine's by default, or --iomem/--boot-log/--machine) the reservation is replayed and the
    layout shown. Without PARAMS, the crashkernel= parameters of the machine's command line are checked.

    The first line is the answer (what is reserved, how much and where); -q prints it alone.

    Exit status: 0 fine; 1 the kernel would reserve nothing or a problem was found; 2 usage or input error.
    """
    from crashplan.check import build_report
    from crashplan.errors import InputError
    from crashplan.kernel import normalize_arch

    sources = [x for x in (iomem, boot_log, machine) if x]
    if len(sources) > 1:
        raise click.UsageError("give at most one of --iomem, --boot-log and --machine")
    if quiet and verbose:  # the same words as suggest's
        raise click.UsageError("give at most one of -q/--quiet and -v/--verbose")
    mach = None
    map_error: str | None = None
    if sources or not no_map or None in (kernel, arch, ram, params):
        from crashplan.cli.probe import resolve_machine

        try:
            mach = resolve_machine(iomem=iomem, boot_log=boot_log, machine=machine, arch=arch,
                                   fallback_machine=fallback_machine)
        except InputError as e:
            if sources:
                raise
            map_error = str(e)  # this machine's map is unreadable (e.g. not root): parse only
    rel = kernel or (mach.kernel if mach and mach.kernel else None)
    a = arch or (mach.arch if mach and mach.arch else None)
    if rel is None or a is None:
        raise click.UsageError("cannot tell the kernel release or architecture: pass --kernel and --arch")
    a = normalize_arch(a)
    if kernel is None:
        from crashplan.kernel import parse_release

        try:
            parse_release(rel)
        except ValueError as e:
            src = iomem or boot_log or machine or "this machine"
            raise click.UsageError(f"the kernel release of {src} ({rel}) cannot be used: {e}; "
                                   "pass --kernel with the mainline release it behaves as") from None
    own_line = params is None
    if params is None:
        from crashplan.diagnose import crash_tokens, kernel_view

        base = mach.cmdline if mach else None
        if base is None:
            raise click.UsageError("no PARAMS and no command line to check: pass PARAMS")
        # the parameters the kernel reads: those within the COMMAND_LINE_SIZE it keeps
        toks = [t.text for t in crash_tokens(kernel_view(base, a)) if not t.embedded]
        params = " ".join(toks)
    if ram is not None:
        from crashplan.kernel.arch import ram_limit_error

        why = ram_limit_error(ram, a)
        if why:
            raise click.BadParameter(why, param_hint="--ram")
    system_ram = ram if ram is not None else (mach.ram_size() if mach else None)
    if not system_ram:
        raise click.UsageError("cannot tell the RAM size: pass --ram (e.g. --ram 16G) or a memory map")
    if mach is not None and no_map:
        from crashplan.memmap.model import MemoryMap

        mach = mach.replace(memmap=MemoryMap(ram=()))
    from crashplan.capability import build_options

    # the running kernel's build options apply only to that kernel (CK130)
    build = build_options(mach) if mach is not None and kernel in (None, mach.kernel) else ()
    report = build_report(params, kernel=rel, arch=a, system_ram=system_ram, machine=mach, build=build)
    if own_line:
        from crashplan.check import with_distribution_default

        osr = None
        if not sources:  # this host: /etc/os-release names the distribution of a custom kernel
            from crashplan.cli.probe import read_os_release

            osr = read_os_release()
        report = with_distribution_default(report, _machine_facts(mach), os_release=osr)
    if map_error and report.map_note:
        report = report._replace(map_note=f"{report.map_note} ({map_error})")
    _print(report, fmt=fmt, quiet=quiet, verbose=verbose, color=color, width=width)
    return ExitStatus.FINDINGS if report.problem else ExitStatus.OK


def _print(report: CheckReport, *, fmt: str, quiet: bool, verbose: int, color: str, width: int | None) -> None:
    """The report as JSON (the whole document, with -q or -v too, as suggest), the answer line alone (-q,
    plain: rich is not imported), or the text output at ``verbose``."""
    if fmt == "json":
        from crashplan.check import report_json

        sys.stdout.write(json.dumps(report_json(report), indent=2, sort_keys=True) + "\n")
        return
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:  # an undecodable byte of the input prints as \udcXX instead of failing
        reconfigure(errors="backslashreplace")
    if quiet:
        from crashplan.check import headline

        click.echo(headline(report))
    else:
        from crashplan.output.check_text import render_check

        render_check(report, width=width, color=color, verbosity=verbose)


def _machine_facts(mach: Machine | None) -> MachineFacts:
    """What the distribution tools look at, from the machine description (probe or machine file)."""
    from crashplan.sizing.distro_defaults import MachineFacts

    if mach is None:
        return MachineFacts()
    platform = (getattr(mach, "kdump", None) or {}).get("platform", {}) or {}
    return MachineFacts(sme_sev=getattr(mach, "mem_encrypt", None) in ("sev", "sme"),
                        page_64k=getattr(mach, "page_size", 4096) == 65536, smmu=bool(platform.get("smmu")),
                        mlx5=bool(platform.get("mlx5")), fadump=bool(getattr(mach, "fadump", False)))
