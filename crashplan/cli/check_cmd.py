"""``crashplan check``: replay the kernel's parsing and reservation of crashkernel= parameters."""

from __future__ import annotations

import json
import sys

import click

from crashplan.cli import ExitStatus
from crashplan.cli.options import ArchType, KernelType, SizeType, machine_source_options


@click.command()
@click.argument("params", required=False)
@click.option("--kernel", "kernel", type=KernelType(), metavar="REL",
              help="Kernel release (6.12, 6.12.107, or a uname -r string). Default: the machine's, else this one's.")
@click.option("--arch", type=ArchType(), metavar="ARCH",
              help="Architecture (x86_64/amd64, arm64/aarch64, riscv64, loongarch64, ppc64le, s390x).")
@click.option("--ram", type=SizeType(), metavar="SIZE",
              help="System RAM as the kernel counts it (e.g. 16G). Default: from the memory map.")
@machine_source_options(repeated_machine_hint='to check a line on several machines use '
                        '`crashplan fleet check "crashkernel=..." FILE...`')
@click.option("--no-map", is_flag=True, help="Only parse: do not read or replay a memory map.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--width", type=click.IntRange(40, 400), default=None, hidden=True)
def check(params: str | None, kernel: str | None, arch: str | None, ram: int | None, iomem: str | None,
          boot_log: str | None, machine: str | None, fallback_machine: str | None, no_map: bool, fmt: str,
          width: int | None) -> int:
    """Show what the kernel does with PARAMS (e.g. "crashkernel=256M crashkernel=1G,cma").

    PARAMS are parsed exactly as the chosen kernel release and architecture parse them; with a memory map
    (this machine's by default, or --iomem/--boot-log/--machine) the reservation is replayed and the
    layout shown. Without PARAMS, the crashkernel= parameters of the machine's command line are checked.

    Exit status: 0 fine; 1 the kernel would reserve nothing or a problem was found; 2 usage or input error.
    """
    from crashplan.check import build_report, report_json
    from crashplan.errors import InputError
    from crashplan.kernel import normalize_arch

    sources = [x for x in (iomem, boot_log, machine) if x]
    if len(sources) > 1:
        raise click.UsageError("give at most one of --iomem, --boot-log and --machine")
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
    if params is None:
        from crashplan.diagnose import crash_tokens, kernel_view

        base = mach.cmdline if mach else None
        if base is None:
            raise click.UsageError("no PARAMS and no command line to check: pass PARAMS")
        # the parameters the kernel reads: those within the COMMAND_LINE_SIZE it keeps
        toks = [t.text for t in crash_tokens(kernel_view(base, a)) if not t.embedded]
        params = " ".join(toks)
    system_ram = ram if ram is not None else (mach.ram_size() if mach else None)
    if not system_ram:
        raise click.UsageError("cannot tell the RAM size: pass --ram (e.g. --ram 16G) or a memory map")
    if mach is not None and no_map:
        from dataclasses import replace

        from crashplan.memmap.model import MemoryMap

        mach = replace(mach, memmap=MemoryMap(ram=()))
    report = build_report(params, kernel=rel, arch=a, system_ram=system_ram, machine=mach)
    if map_error and report.map_note:
        report = report._replace(map_note=f"{report.map_note} ({map_error})")
    if fmt == "json":
        sys.stdout.write(json.dumps(report_json(report), indent=2, sort_keys=True) + "\n")
    else:
        from crashplan.output.check_text import render_check

        reconfigure = getattr(sys.stdout, "reconfigure", None)
        if reconfigure is not None:  # an undecodable byte of the input prints as \udcXX instead of failing
            reconfigure(errors="backslashreplace")
        render_check(report, width=width)
    return ExitStatus.FINDINGS if report.problem else ExitStatus.OK
