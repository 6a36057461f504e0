"""How far an x86 crash region can move with what the source does not show: the placement band.

``crashplan.simulate.reserve`` places the region exactly when memblock is known.  On x86 two early
reservations are often invisible:

* **the initrd.**  ``reserve_initrd()`` (``arch/x86/kernel/setup.c``) keeps the initrd reserved
  through the crash reservation, where the boot loader put it.  ``/proc/iomem`` does not show it; a
  boot log does (``RAMDISK: [mem A-B]``).
* **the kernel image with KASLR.**  The decompressor (``arch/x86/boot/compressed/kaslr.c``) or the EFI
  stub puts it at a random physical address.  ``/proc/iomem`` shows it (``Kernel code`` …); a boot
  log does not.

And on EFI machines a third: ``efi_reserve_boot_services()`` (``setup_arch``, before
``reserve_initrd`` and the crash reservation; read in copies of ``arch/x86/kernel/setup.c`` from 5.x to
6.x) keeps the firmware's boot-services code and data reserved until ``efi_free_boot_services``.
Neither ``/proc/iomem`` nor a boot log without ``efi=debug`` shows them.

``placement(outcome, machine, reservation)`` replays the reservation with each unknown placed by the
rule that puts it there, at the ends of its plausible size range, and reports the band the main
region can land in.  The rules (x86, the initrd):

``grub-i386``
    GRUB's ``initrd`` command of the i386 Linux loader (``grub-core/loader/i386/linux.c``,
    ``grub_cmd_initrd``, GNU GRUB mirror ``gitGNU/gnu_grub2`` @ ``08cd138ce5ba``): ``addr_max`` is the
    kernel's ``initrd_addr_max`` (``0x7fffffff`` in ``arch/x86/boot/header.S`` for x86_64) capped at
    ``GRUB_LINUX_INITRD_MAX_ADDRESS`` (``0x37ffffff``), less 64 KiB; the initrd goes to the highest
    4 KiB-aligned fit ending at or below ``(addr_max - size) & ~0xfff`` (``grub_initrd_end``:
    ``grub_relocator_alloc_chunk_align`` with ``GRUB_RELOCATOR_PREFERENCE_HIGH``, measured).  GRUB on BIOS, and
    GRUB builds whose x86_64-efi ``linux`` is this loader (which builds was not checked);
    ``linuxefi`` GRUBs ask the firmware (``efi``).
``efi``
    The firmware allocates the initrd: the EFI stub's ``efi_load_initrd`` → LoadFile2
    (``LINUX_EFI_INITRD_MEDIA_GUID``, installed by systemd-boot and other EFI loaders) or ``initrd=``,
    copied into ``efi_allocate_pages(size, &addr, ULONG_MAX)`` (``drivers/firmware/efi/libstub/mem.c``:
    ``EFI_ALLOCATE_MAX_ADDRESS``; ``x86-stub.c`` passes ``ULONG_MAX``; torvalds/linux @ ``0410c6121529``);
    systemd-boot's EFI handover path keeps its own buffer, copied below 4 GiB when the kernel cannot
    take it higher (``src/boot/linux_x86.c``, systemd/systemd @ ``0be6a6e7213b``:
    ``AllocateMaxAddress``, ``UINT32_MAX``).  The UEFI specification only says "at or below"; EDK II
    hands out the highest free pages, below 4 GiB in practice (measured with OVMF 2022.11 in
    ``tests/data/efi-boots``; EDK II's code not read): the model puts the initrd at the highest
    page-aligned fit below 4 GiB, under the boot-services memory.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import TYPE_CHECKING

from crashplan.memmap.model import Span
from crashplan.records import NamedTuple
from crashplan.simulate.model import SZ_1M, SZ_2M, SZ_4G, SZ_16M

if TYPE_CHECKING:
    from crashplan.kernel import Outcome
    from crashplan.memmap.model import Machine
    from crashplan.simulate import Reservation
    from crashplan.simulate.model import MemblockState, Region

__all__ = [
    "EFI_BOOT_SERVICES_RANGE",
    "INITRD_SIZE_RANGE",
    "PlacementBand",
    "Scenario",
    "grub_initrd_end",
    "placement",
    "unknowns",
]


# The initrd's size when the source does not give it: Debian/Ubuntu/Fedora initrds of generic kernels
# are tens of MiB, those with GPU firmware or unstripped modules over 100 MiB (inferred, not measured
# across distributions).
INITRD_SIZE_RANGE = (8 * SZ_1M, 128 * SZ_1M)
# EFI boot-services code and data kept reserved by efi_reserve_boot_services() (assumed; OVMF 2022.11
# leaves about 40 MiB scattered over the top 70 MiB below 4 GiB, tests/data/efi-boots; real firmware varies).
EFI_BOOT_SERVICES_RANGE = (0, 64 * SZ_1M)
GRUB_INITRD_ADDR_MAX = 0x7FFFFFFF  # arch/x86/boot/header.S: initrd_addr_max for x86_64
GRUB_LINUX_INITRD_MAX_ADDRESS = 0x37FFFFFF  # include/grub/i386/linux.h: GRUB caps initrd_addr_max there
GRUB_TOP_SLACK = 0x10000  # grub_cmd_initrd: "avoid the last 64kb"


def grub_initrd_end(size: int) -> int:
    """The highest end GRUB's i386 ``grub_cmd_initrd`` gives an initrd of ``size`` bytes.

    ``addr_max = min(initrd_addr_max, 0x37ffffff) - 0x10000``; ``addr = (addr_max - aligned) & ~0xfff``;
    the relocator chunk (PREFERENCE_HIGH) then *ends* at or below ``addr`` — measured on Debian's
    GRUB 2.06-13+deb12u2, BIOS and x86_64-efi alike: a 0x3de5000-byte initrd at 0x30425000-0x3420a000
    (``tests/data/efi-boots``), one initrd size lower than ``addr`` as a start would give."""
    aligned = -(-size // 4096) * 4096
    addr_max = min(GRUB_INITRD_ADDR_MAX, GRUB_LINUX_INITRD_MAX_ADDRESS) - GRUB_TOP_SLACK
    return (addr_max - aligned) & ~0xFFF


KASLR_ALIGN = SZ_2M  # CONFIG_PHYSICAL_ALIGN: x86_64 minimum 2 MiB (Debian's KASLR boots: 0x1a4800000)
LOAD_PHYSICAL_ADDR = SZ_16M  # CONFIG_PHYSICAL_START: KASLR never goes below it
KASLR_SLOTS_MAX = 256  # replays of image positions per check (about 0.1 ms each); more are sampled


class Scenario(NamedTuple):
    """One replay: where the unknowns were put, and where the main region landed (None: not reserved)."""

    rule: str  # "as-modelled", "grub-i386", "efi", "kaslr", "nokaslr"
    firmware: str  # "bios", "efi" or "unknown"
    label: str
    initrd: tuple[int, int] | None  # [start, end) of the initrd placed by the rule
    start: int | None
    end: int | None


class PlacementBand(NamedTuple):
    """The main crash region as predicted, and the band it can land in over the modelled unknowns."""

    exact: bool
    start: int  # the prediction (the simulator's answer with nothing unknown placed)
    end: int
    band_start: int
    band_end: int
    initrd_known: bool
    kernel_known: bool
    firmware: str  # "bios", "efi" or "unknown"
    boot_services_known: bool  # BIOS, or an EFI memory map that lists them (efi=debug)
    scenarios: tuple[Scenario, ...]
    assumptions: tuple[str, ...]
    fails_somewhere: bool = False  # some scenario reserves nothing

    def covers(self, start: int, end: int) -> bool:
        """Whether a region [start, end) lies inside the band."""
        return self.band_start <= start and end <= self.band_end


def _main(res: Reservation) -> tuple[int, int] | None:
    r = res.region("crashkernel")
    return (r.start, r.end) if r is not None else None


def _with(machine: Machine, spans: list[Span], *, nokaslr: bool = False) -> Machine:
    """``machine`` with ``spans`` reserved as well (and, with ``nokaslr``, the image at 16 MiB)."""
    mm = machine.memmap
    memmap = mm.replace(reserved=tuple(sorted(mm.reserved + tuple(spans))))
    if nokaslr:
        return machine.replace(memmap=memmap, kaslr=False)
    return machine.replace(memmap=memmap)


def _firmware(machine: Machine) -> str:
    efi = (machine.boot_facts or {}).get("efi")
    if efi is True:
        return "efi"
    if efi is False:
        return "bios"
    return "unknown"


def _initrd_known(machine: Machine) -> bool:
    return any(s.name == "initrd" for s in machine.memmap.reserved)


def _kernel_known(machine: Machine) -> bool:
    from crashplan.simulate.model import is_kernel_image as _is_kernel_image

    return machine.kaslr is False or any(_is_kernel_image(s) for s in machine.memmap.reserved)


def _image_size(machine: Machine) -> int:
    """``_text`` … end of the used ``.brk`` as ``early_allocations`` models it at 16 MiB."""
    from crashplan.simulate.model import fact_int
    from crashplan.simulate.x86_64 import X86_BRK_ESTIMATE
    from crashplan.simulate.x86_64 import image_end as _x86_image_end

    facts = machine.boot_facts or {}
    image = fact_int(facts, "kernel_image")
    return _x86_image_end(facts, image) - SZ_16M + X86_BRK_ESTIMATE


class _Free:
    """memblock's free ranges before the crash reservation, searched as the boot loaders search them."""

    def __init__(self, memblock: MemblockState) -> None:
        from crashplan.simulate import Memblock

        # once per check: a huge map has tens of thousands
        self.free = Memblock(memblock.memory, tuple(memblock.reserved)).free_ranges()
        self.starts = [r.start for r in self.free]

    def top_down(self, size: int, limit: int, taken: list[Span]) -> Span | None:
        """``memblock_find_in_range`` top-down, 4 KiB-aligned, in [1 MiB, limit), around ``taken``: the
        highest fit, as the EFI firmware and GRUB's relocator (PREFERENCE_HIGH) choose it."""
        free = self.free
        for j in range(bisect_left(self.starts, limit) - 1, -1, -1):
            lo, hi = max(free[j].start, SZ_1M), min(free[j].end, limit)
            pieces = [(lo, hi)]
            for t in taken:
                pieces = [q for a, b in pieces for q in ((a, min(b, t.start)), (max(a, t.end), b)) if q[1] > q[0]]
            for a, b in sorted(pieces, reverse=True):
                cand = (b - size) // 4096 * 4096
                if b - a >= size and cand >= a:
                    return Span(cand, cand + size)
        return None

    def boot_services(self, size: int) -> list[Span]:
        """``size`` bytes of EFI boot-services memory at the top below 4 GiB (none when ``size`` is 0)."""
        if size:
            b = self.top_down(size, SZ_4G, [])
            if b is not None:
                return [Span(b.start, b.end, "EFI boot services (assumed)")]
        return []


class _Replays:
    """The scenarios replayed so far: each puts the unknowns somewhere and asks the simulator again.

    (Plain classes here and NamedTuples above: ``check`` imports this module on every run on a machine's
    own map, and dataclasses cost their code generation at import.)"""

    __slots__ = ("classic", "cmdline", "machine", "outcome", "point", "scenarios")

    def __init__(self, outcome: Outcome, machine: Machine, cmdline: str | None, point: tuple[int, int],
                 classic: list[Region], scenarios: list[Scenario]) -> None:
        self.outcome = outcome  # without ,cma: it is reserved after the classic regions and cannot move them
        self.machine = machine
        self.cmdline = cmdline
        self.point = point  # the main region as predicted
        self.classic = classic
        self.scenarios = scenarios

    def run(self, rule: str, fw: str, label: str, spans: list[Span], initrd: tuple[int, int] | None = None,
            nokaslr: bool = False) -> None:
        from crashplan.simulate import reserve

        if not nokaslr and not any(s.overlaps(g.start, g.end) for s in spans for g in self.classic):
            # memblock's top-down search keeps a fit that stays free, and a new obstacle makes no higher
            # one: the kernel does the same as without it (no replay needed, which matters on huge maps)
            self.scenarios.append(Scenario(rule, fw, label, initrd, *self.point))
            return
        res = reserve(self.outcome, _with(self.machine, spans, nokaslr=nokaslr), cmdline=self.cmdline)
        got = _main(res)
        self.scenarios.append(Scenario(rule, fw, label, initrd, *(got or (None, None))))


def _initrd_scenarios(replays: _Replays, free: _Free, firmware: str, bs_range: tuple[int, int],
                      assumptions: list[str]) -> None:
    """The initrd placed by each boot loader's rule, at both ends of its size range (and of the EFI
    boot-services memory's)."""
    from crashplan.simulate.model import fact_int

    bs_lo, bs_hi = bs_range
    known_size = fact_int(replays.machine.boot_facts or {}, "initrd_size")
    lo, hi = (known_size, known_size) if known_size else INITRD_SIZE_RANGE
    lo, hi = -(-lo // 4096) * 4096, -(-hi // 4096) * 4096
    if known_size:
        assumptions.append(f"the initrd ({_mib(lo)}) is placed by each boot loader's rule")
    else:
        assumptions.append(f"the initrd's size is unknown: {_mib(lo)} to {_mib(hi)} assumed")
    for fw in (("bios", "efi") if firmware == "unknown" else (firmware,)):
        for size, bs in ((lo, bs_lo), (hi, bs_hi)) if fw == "efi" else ((lo, 0), (hi, 0)):
            services = f", {_mib(bs)} of boot services" if bs else ""
            # GRUB's i386 loader: below initrd_addr_max − 64 KiB; on EFI the boot-services memory
            # sits at the top below 4 GiB as well
            taken = free.boot_services(bs)
            ini = free.top_down(size, grub_initrd_end(size), taken)
            if ini is not None:
                replays.run("grub-i386", fw, f"GRUB ({fw.upper()}), initrd {_mib(size)}{services}",
                            [*taken, Span(ini.start, ini.end, "initrd")], (ini.start, ini.end))
            if fw != "efi":
                continue
            # the firmware allocates it: top-down below 4 GiB, under the boot-services memory
            taken = free.boot_services(bs)
            ini = free.top_down(size, SZ_4G, taken)
            if ini is not None:
                replays.run("efi", fw, f"EFI stub / systemd-boot, initrd {_mib(size)}{services}",
                            [*taken, Span(ini.start, ini.end, "initrd")], (ini.start, ini.end))


def _kaslr_slots(reservation: Reservation, memblock: MemblockState, image: int,
                 assumptions: list[str]) -> list[int]:
    """The KASLR image positions worth a replay: those that overlap a classic region (the top-down
    search keeps any free fit), in memory and clear of what is reserved; sampled above KASLR_SLOTS_MAX."""
    slots: list[int] = []
    for region in reservation.regions:
        if region.kind == "cma":
            continue
        p = max(LOAD_PHYSICAL_ADDR, -(-(region.start - image + 1) // KASLR_ALIGN) * KASLR_ALIGN)
        while p < region.end:
            if (any(m.contains(p, p + image) for m in memblock.memory)
                    and not any(s.overlaps(p, p + image) for s in memblock.reserved)):
                slots.append(p)
            p += KASLR_ALIGN
    if len(slots) > KASLR_SLOTS_MAX:
        # the lowest overlapping slot gives the lowest region (the fit below it only rises with it);
        # the rest are sampled evenly, both ends kept
        step = len(slots) // (KASLR_SLOTS_MAX - 16)
        slots = sorted(set(slots[:8] + slots[-8:] + slots[::step]))
        assumptions.append(f"KASLR: {len(slots)} image positions sampled")
    return slots


def _kaslr_scenarios(replays: _Replays, reservation: Reservation, memblock: MemblockState, firmware: str,
                     assumptions: list[str]) -> None:
    """The kernel image at 16 MiB (``nokaslr``, when KASLR is not known to be on) and at each KASLR slot
    that can move the region."""
    machine = replays.machine
    image = _image_size(machine)
    assumptions.append(f"KASLR: the kernel image ({_mib(image)}) can be anywhere from 16 MiB, "
                       f"{_mib(KASLR_ALIGN)}-aligned")
    if machine.kaslr is None:
        replays.run("nokaslr", firmware, "nokaslr: the image at 16 MiB", [], nokaslr=True)
    for p in _kaslr_slots(reservation, memblock, image, assumptions):
        replays.run("kaslr", firmware, f"KASLR: the image at {p:#x}", [Span(p, p + image, "kernel image (KASLR slot)")])


def placement(outcome: Outcome, machine: Machine, reservation: Reservation, *,
              cmdline: str | None = None) -> PlacementBand | None:
    """The band of the main x86 crash region, or None where it does not apply (other architectures,
    a fixed ``@offset``, nothing reserved, memblock known from ``memblock=debug``)."""
    memblock = reservation.memblock
    if reservation.arch != "x86_64" or outcome.crash_base or memblock is None:
        return None
    point = _main(reservation)
    if point is None:
        return None
    firmware = _firmware(machine)
    if any(s.name.startswith("memblock:") for s in machine.memmap.reserved):
        return PlacementBand(exact=True, start=point[0], end=point[1], band_start=point[0], band_end=point[1],
                             initrd_known=True, kernel_known=True, firmware=firmware,
                             boot_services_known=True, scenarios=(),
                             assumptions=("memblock=debug: the log lists every reservation",))
    initrd_known = _initrd_known(machine)
    kernel_known = _kernel_known(machine)
    assumptions: list[str] = []
    replays = _Replays(
        outcome._replace(cma_size=0) if outcome.cma_size else outcome, machine, cmdline, point,
        [g for g in reservation.regions if g.kind != "cma"],
        [Scenario("as-modelled", firmware, "as the source shows it", None, *point)])
    free = _Free(memblock)

    efi_possible = firmware in ("efi", "unknown")
    # with efi=debug an x86 log lists the boot-services regions, and they are in the map already
    bs_known = not efi_possible or (machine.boot_facts or {}).get("efi_memmap") is True
    bs_lo, bs_hi = EFI_BOOT_SERVICES_RANGE if not bs_known else (0, 0)
    if not initrd_known:
        _initrd_scenarios(replays, free, firmware, (bs_lo, bs_hi), assumptions)
    elif not bs_known:
        # the initrd is known; the boot-services memory is not
        services = free.boot_services(bs_hi)
        if services:
            assumptions.append(f"EFI boot-services memory: up to {_mib(bs_hi)} assumed at the top below 4 GiB")
            replays.run("efi", "efi", f"EFI, {_mib(bs_hi)} of boot services", services)
    if not bs_known:
        assumptions.append("EFI: the firmware keeps its boot-services memory reserved through the crash "
                           f"reservation ({_mib(bs_lo)} to {_mib(bs_hi)} assumed)")
    if not kernel_known:
        _kaslr_scenarios(replays, reservation, memblock, firmware, assumptions)

    scenarios = replays.scenarios
    # the as-modelled scenario is always placed: neither is empty
    band_start = min(s.start for s in scenarios if s.start is not None)
    band_end = max(s.end for s in scenarios if s.end is not None)
    exact = initrd_known and kernel_known and bs_known
    if exact:
        assumptions.append("the initrd, the kernel image and any EFI boot-services memory are where the source "
                           "shows them")
    return PlacementBand(
        exact=exact, start=point[0], end=point[1], band_start=band_start, band_end=band_end,
        initrd_known=initrd_known, kernel_known=kernel_known, firmware=firmware, boot_services_known=bs_known,
        scenarios=tuple(scenarios),
        assumptions=tuple(assumptions), fails_somewhere=any(s.start is None for s in scenarios))


def unknowns(p: PlacementBand) -> list[str]:
    """What the source did not show, in words (for the one-line explanation)."""
    out = []
    if not p.initrd_known:
        out.append("the initrd's place (a boot log has it)")
    if not p.kernel_known:
        out.append("the KASLR image's place")
    if not p.boot_services_known:
        out.append("EFI boot memory" + (" (if EFI)" if p.firmware == "unknown" else ""))
    return out


def _mib(n: int) -> str:
    from crashplan.units import format_size

    return format_size(n)
