"""What the simulator returns, and the state one replay carries through an architecture's code.

``Region``, ``PlacementFinding``, ``MemblockState`` and ``Reservation`` are the results (``crashplan.check`` and
the sizing plans read them); ``Replay`` is one run of the reservation code: memblock, the kernel's log
lines and the placement problems found on the way.  Every release decision reads a switch of
``crashplan.kernel.versions.SWITCHES`` (``switch_on``; ``SIM_SWITCHES`` names those only the
simulator reads).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from crashplan.kernel import Message, Outcome
from crashplan.kernel.versions import SWITCHES, KernelRelease, Switch
from crashplan.memmap.model import Machine, Span
from crashplan.records import NamedTuple
from crashplan.severity import Severity

if TYPE_CHECKING:
    from crashplan.simulate.memblock import Memblock

__all__ = [
    "SIM_SWITCHES",
    "MemblockState",
    "PlacementFinding",
    "Region",
    "Replay",
    "Reservation",
    "switch_on",
]

SZ_1M = 1 << 20
SZ_2M = 2 << 20
SZ_16M = 16 << 20
SZ_128M = 128 << 20
SZ_256M = 256 << 20
SZ_512M = 512 << 20
SZ_1G = 1 << 30
SZ_4G = 1 << 32
SZ_64T = 1 << 46
IO_TLB_DEFAULT_SIZE = 64 << 20  # include/linux/swiotlb.h

# The switches only the simulator reads: entries of crashplan.kernel.versions.SWITCHES (its block
# "simulator switches"), listed here by name.
SIM_SWITCHES: dict[str, Switch] = {
    name: SWITCHES[name]
    for name in ("arm64_sparse_after_crash", "arm64_iomem_packed_top", "cma_msg_node", "cma_msg_no_node")
}


def switch_on(name: str, release: KernelRelease) -> bool:
    """Whether switch ``name`` of ``SWITCHES`` is on for ``release``."""
    return SWITCHES[name].on(release)


def round_down(x: int, a: int) -> int:
    return x - (x % a) if a > 1 else x


def round_up(x: int, a: int) -> int:
    return -(-x // a) * a if a > 1 else x


def as_int(value: object) -> int:
    """A boot fact's value as a number (``memmap.machine`` checks that these facts are numbers)."""
    if isinstance(value, (int, float, str)):
        return int(value)
    raise TypeError(f"not a number: {value!r}")


def fact_int(facts: Mapping[str, object], key: str) -> int:
    """Boot fact ``key`` as a number; 0 when absent."""
    return as_int(facts.get(key, 0) or 0)


def size_text(n: int) -> str:
    from crashplan.units import format_size

    return format_size(n)


def is_kernel_image(s: Span) -> bool:
    n = s.name.lower()
    return ("kernel" in n and "crash" not in n) or n.startswith("memblock:")


def ram_span_of(memory: tuple[Span, ...], addr: int) -> Span | None:
    return next((m for m in memory if m.start <= addr < m.end), None)


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


class Region(NamedTuple):
    """One reserved region: ``kind`` is ``crashkernel``, ``crashkernel-low`` or ``cma``; ``end`` exclusive."""

    kind: str
    start: int
    end: int
    size: int

    @property
    def below_4g(self) -> bool:
        return self.end <= SZ_4G


class PlacementFinding(NamedTuple):
    """What the replay found wrong with a placement (a CK3xx code); ``fix`` may be None.

    ``severity`` is a ``crashplan.severity.Severity``: it compares equal to, and serialises as, its word
    (``"error"``, ``"warning"``, ``"info"``), as the diagnoses of ``crashplan.diagnose`` and the lint
    findings do."""

    code: str
    severity: Severity
    text: str
    fix: str | None = None


class MemblockState(NamedTuple):
    """memblock as the reservation saw it (for the picture and for explaining a placement)."""

    memory: tuple[Span, ...]
    nomap: tuple[Span, ...]
    reserved: tuple[Span, ...]  # before the crash reservation: read from the source and modelled
    modelled: tuple[Span, ...]  # the part of ``reserved`` the simulator added (names say why)
    after: tuple[Span, ...]  # after the crash reservation (crash regions included)


class Reservation(NamedTuple):
    regions: tuple[Region, ...]
    messages: tuple[Message, ...]
    problems: tuple[PlacementFinding, ...]
    lost: int  # bytes production loses to the classic regions
    cma: int  # bytes of CMA production keeps using until a crash
    memblock: MemblockState | None
    arch: str
    kernel: KernelRelease
    flow: str
    low_max: int | None = None
    notes: tuple[str, ...] = ()

    @property
    def reserved(self) -> bool:
        return bool(self.regions)

    def region(self, kind: str) -> Region | None:
        return next((r for r in self.regions if r.kind == kind), None)


# ---------------------------------------------------------------------------------------------
# One replay
# ---------------------------------------------------------------------------------------------



class Replay:
    """One replay of an architecture's reservation code: its inputs, memblock and what it produced.

    A plain class rather than a dataclass: it is built once per replay, and a dataclass costs its
    creation at import (cold start)."""

    __slots__ = ("arch", "cmdline", "default_low", "low_max", "machine", "mb", "messages", "notes", "outcome",
                 "problems", "regions", "release")

    def __init__(self, *, machine: Machine, outcome: Outcome, cmdline: str | None, mb: Memblock, arch: str,
                 release: KernelRelease, notes: list[str] | None = None) -> None:
        self.machine = machine
        self.outcome = outcome
        self.cmdline = cmdline
        self.mb = mb
        self.arch = arch
        self.release = release
        self.regions: list[Region] = []
        self.messages: list[Message] = []
        self.problems: list[PlacementFinding] = []
        self.notes: list[str] = [] if notes is None else notes
        self.low_max: int | None = None
        self.default_low = 0

    def on(self, name: str) -> bool:
        """Whether release switch ``name`` is on for the kernel replayed."""
        return switch_on(name, self.release)

    def info(self, text: str) -> None:
        self.messages.append(Message("info", text))

    def warn(self, text: str) -> None:
        self.messages.append(Message("warn", text))

    def err(self, text: str) -> None:
        self.messages.append(Message("err", text))

    def problem(self, code: str, severity: Severity, text: str, fix: str | None = None) -> None:
        """Record a placement finding."""
        self.problems.append(PlacementFinding(code, severity, text, fix))

    def add(self, kind: str, base: int, size: int) -> None:
        self.regions.append(Region(kind, base, base + size, size))

    def add_first(self, kind: str, base: int, size: int) -> None:
        """The main region goes first, before a low region reserved on the way to it."""
        self.regions.insert(0, Region(kind, base, base + size, size))

    def describe_conflict(self, start: int, end: int) -> str:
        """Why the fixed window ``start``-``end`` cannot be reserved."""
        names = sorted({s.name for s in self.mb.overlapping(start, end)})
        holes = not any(m.contains(start, end) for m in self.mb.memory)
        parts = []
        if names:
            parts.append("overlaps " + ", ".join(names))
        if holes:
            parts.append("is not all RAM")
        return " and ".join(parts) if parts else "is not free"
