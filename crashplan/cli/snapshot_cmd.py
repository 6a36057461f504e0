"""``crashplan snapshot``: write this machine's description as a machine file.

The file (docs/machine-format.md) records the memory map, the boot command line, the release and
what is reserved now (``Crash kernel`` regions, CMA crash ranges, ``kexec_crash_size``), so that
``crashplan check`` and ``crashplan suggest`` can plan for this machine anywhere, later.  With
``--iomem``/``--boot-log``/``--machine`` it converts a saved source instead of probing the host.

Exit status: 0 written, 2 usage or input error (nothing is written then).
"""

from __future__ import annotations

import click

__all__ = ["snapshot"]


@click.command("snapshot")
@click.option("-o", "--output", "output", metavar="FILE", default="-", show_default="standard output",
              help="Write the machine file here (replaced atomically).")
@click.option("--iomem", metavar="FILE", help="Convert a saved /proc/iomem (read as root) instead of probing.")
@click.option("--boot-log", "boot_log", metavar="FILE", help="Convert a saved boot log (dmesg) instead of probing.")
@click.option("--machine", metavar="FILE", help="Normalise an existing machine file.")
@click.option("--arch", metavar="ARCH", help="Architecture of a saved --iomem or --boot-log (arm64 reads NOMAP).")
@click.option("--name", metavar="NAME", help="The machine's name in the file (default: the host name).")
@click.option("--root", default="/", hidden=True, type=click.Path(file_okay=False),
              help="Probe the /proc and /sys tree under this directory (tests).")
def snapshot(output: str, iomem: str | None, boot_log: str | None, machine: str | None, arch: str | None,
             name: str | None, root: str) -> int:
    """Write this machine's description as a machine file (YAML).

    Run it as root: without root /proc/iomem shows no addresses, and the file then records only
    the RAM total (enough for checking crashkernel= parsing, not for placing the reservation).
    """

    from crashplan.cli.probe import resolve_machine
    from crashplan.memmap.machine import dump_machine

    found = resolve_machine(iomem=iomem, boot_log=boot_log, machine=machine, arch=arch, root=root)
    if name is not None:
        found = found.replace(name=name)
    text = dump_machine(found)
    if output == "-":
        click.echo(text, nl=False)
    else:
        from crashplan.cli.options import write_atomically

        write_atomically(output, text)
    if not found.memmap.layout_known:
        click.echo("crashplan: warning: the memory layout is unknown (not root?): the file holds the RAM total "
                   "only", err=True)
    return 0


