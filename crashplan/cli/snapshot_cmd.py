"""``crashplan snapshot``: write this machine's description as a machine file.

The file (docs/machine-format.md) records the memory map, the boot command line, the release and
what is reserved now (``Crash kernel`` regions, CMA crash ranges, ``kexec_crash_size``), so that
``crashplan check`` and ``crashplan suggest`` can plan for this machine anywhere, later.  With
``--iomem``/``--boot-log``/``--machine`` it converts a saved source instead of probing the host.

Exit status: 0 written, 2 usage or input error (nothing is written then).
"""

from __future__ import annotations

import contextlib
import os
import tempfile

import click

from crashplan.errors import InputError

__all__ = ["snapshot", "write_atomic"]


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
    from dataclasses import replace

    from crashplan.cli.probe import resolve_machine
    from crashplan.memmap.machine import dump_machine

    found = resolve_machine(iomem=iomem, boot_log=boot_log, machine=machine, arch=arch, root=root)
    if name is not None:
        found = replace(found, name=name)
    text = dump_machine(found)
    if output == "-":
        click.echo(text, nl=False)
    else:
        write_atomic(output, text)
    if not found.memmap.layout_known:
        click.echo("crashplan: warning: the memory layout is unknown (not root?): the file holds the RAM total "
                   "only", err=True)
    return 0


def write_atomic(path: str, text: str) -> None:
    """Replace ``path`` with ``text``: a temporary file in the same directory, fsync, rename.

    The mode of an existing file is kept (a new file gets 0666 minus the umask).  On any failure the
    temporary file is removed, ``path`` is untouched, and an :class:`InputError` names ``path``.
    """
    directory = os.path.dirname(os.path.abspath(path))
    try:
        mode = os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    except OSError as e:
        raise InputError(f"cannot write: {e.strerror or e}", path=path) from None
    if os.path.isdir(path):
        raise InputError("is a directory, expected a file name", path=path)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fchmod(f.fileno(), mode)
            os.fsync(f.fileno())
        os.replace(tmp, path)
        tmp = None
        try:
            dfd = os.open(directory, os.O_RDONLY)
        except OSError:
            return
        else:
            try:
                os.fsync(dfd)
            except OSError:
                pass
            finally:
                os.close(dfd)
    except OSError as e:
        raise InputError(f"cannot write: {e.strerror or e}", path=path) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
