"""Read a kernel boot log (``dmesg``, ``journalctl -k``, a serial console capture) into a ``Machine``.

The kernel prints enough during early boot to rebuild what memblock looked like when the crash
reservation ran: the firmware memory map, the RAM memblock manages, the initrd, ``NODE_DATA``, the
DMA CMA area, and its own release, architecture and command line.  Three modules, in the order the
text goes through them:

* :mod:`~crashplan.memmap.bootlog.patterns`: how a line is cleaned (timestamps, syslog and journal
  prefixes, printk levels, ANSI) and the pattern of each message read, with the kernel code printing it;
* :mod:`~crashplan.memmap.bootlog.reader`: one pass over the lines into a :class:`BootLog` (the raw facts);
* :mod:`~crashplan.memmap.bootlog.to_machine`: the ``Machine`` those facts describe (memblock.memory,
  memblock.reserved up to the crash reservation, the boot facts the simulator models).

Lines printed by *that boot's* crash reservation describe the result of that boot's parameters: they
go to ``memmap.crash`` (and ``crash_cma_ranges``), never to ``reserved``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crashplan.errors import InputError
from crashplan.memmap.bootlog.patterns import KMSG_PREFIX, PAGE_SIZE, RAMDISK, RAMDISK_NEW
from crashplan.memmap.bootlog.patterns import clean_line as _clean
from crashplan.memmap.model import Machine, Span

if TYPE_CHECKING:
    from crashplan.memmap.bootlog.reader import BootLog, read_boot_log

__all__ = ["BootLog", "initrd_from_log", "parse_boot_log", "read_boot_log"]


def __getattr__(name: str) -> Any:
    # the reader is loaded when first asked for: the host probe imports initrd_from_log alone, on the
    # cold-start path of ``crashplan check``
    if name in ("BootLog", "read_boot_log"):
        from crashplan.memmap.bootlog import reader

        return getattr(reader, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def parse_boot_log(text: str, *, source: str = "<boot log>") -> Machine:
    """Read a kernel boot log into a ``Machine`` (memory map, release, architecture, command line …).

    Accepts ``dmesg`` with or without timestamps, ``dmesg -T``/``-x``, ``journalctl -k`` in its usual
    output formats, ``/var/log/kern.log`` and serial-console captures (carriage returns, ANSI colours,
    ``<6>`` levels).  Raises ``InputError`` naming ``source`` and the line for text that is not a
    kernel log, a malformed memory-map line, or a log without a memory map.
    """
    if not isinstance(text, str):
        raise InputError("expected the text of a kernel log", path=source)
    from crashplan.memmap.bootlog.reader import read_boot_log
    from crashplan.memmap.bootlog.to_machine import machine_from_log

    return machine_from_log(read_boot_log(text, source=source), text, source)


def initrd_from_log(text: str) -> Span | None:
    """Where the initrd was when the crash region was reserved, from any boot log (or ``/dev/kmsg``
    records): x86 ``reserve_initrd`` prints ``RAMDISK: [mem A-B]``, and ``relocate_initrd``
    ``Allocated new RAMDISK: [mem A-B]`` when it moved it (the last one wins, as in
    :func:`parse_boot_log`).  None when neither line is there (a ring buffer that rotated)."""
    found: Span | None = None
    for raw in text.splitlines():
        if "RAMDISK" not in raw:
            continue
        s = _clean(KMSG_PREFIX.sub("", raw, count=1))
        for rx, page in ((RAMDISK, False), (RAMDISK_NEW, True)):
            m = rx.match(s)
            if m is None or len(m.group(1)) > 16 or len(m.group(2)) > 16:
                continue
            a, b = int(m.group(1), 16), int(m.group(2), 16) + 1
            if b > a and b <= 1 << 64:
                found = Span(a, -(-b // PAGE_SIZE) * PAGE_SIZE if page else b, "initrd")
    return found
