"""The memory model every source is read into, and the simulator replays over.

All ranges are half-open ``[start, end)`` inside crashplan; readers of formats with inclusive ends
(``/proc/iomem``, e820 lines) convert at the boundary.

``MemoryMap`` holds what memblock knows when the crash reservation runs:

``ram``       memblock.memory: the RAM the kernel manages (``System RAM``), sorted, merged
``reserved``  memblock.reserved parts known from the source: kernel image, initrd, firmware tables,
              early allocations (named), inside ``ram``
``nomap``     memory counted in ``memblock_phys_mem_size()`` but never allocated (arm64 NOMAP)
``other``     non-RAM ranges, for the picture only (PCI windows, ACPI, firmware-reserved)
``crash``     crash regions the source shows from an earlier boot (``Crash kernel``, CMA ranges):
              a result of that boot's parameters, not a fact about free memory; the simulator does
              not treat them as taken unless asked to

``Machine`` adds the facts beyond the map that change the result (architecture, release, command
line, swiotlb size, memory encryption, …).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from crashplan.records import NamedTuple

TYPE_CHECKING = False  # read by mypy as typing.TYPE_CHECKING
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    _R = TypeVar("_R", bound="_Frozen")

__all__ = ["FrozenError", "Machine", "MemoryMap", "Span", "merge_spans", "subtract_spans"]


class Span(NamedTuple):
    """A half-open range ``[start, end)`` with a name (a NamedTuple: maps hold hundreds of thousands)."""

    start: int
    end: int  # exclusive
    name: str = ""

    @property
    def size(self) -> int:
        return self.end - self.start

    def overlaps(self, start: int, end: int) -> bool:
        return self.start < end and start < self.end

    def contains(self, start: int, end: int) -> bool:
        return self.start <= start and end <= self.end


class paused_gc:  # noqa: N801 - a context manager used like a function, as contextlib.suppress
    """``with paused_gc():`` — the cyclic garbage collector off while a large map is built or replayed.

    Parsing a million-line ``/proc/iomem`` creates millions of small acyclic objects; every collection
    of the oldest generation traverses all of them again, which made a 10× larger map cost 13× the
    time.  Nothing built there forms a cycle, so reference counting frees it all; the collector is
    turned back on afterwards (if it was on: nesting and callers that disabled it are respected).
    """

    __slots__ = ("_was_enabled",)

    def __enter__(self) -> None:
        import gc

        self._was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self._was_enabled:
            import gc

            gc.enable()


def merge_spans(spans: Iterable[Span], name: str = "") -> tuple[Span, ...]:
    """Sort and merge overlapping or touching spans."""
    out: list[Span] = []
    for s in sorted(spans, key=lambda x: (x.start, x.end)):
        if s.end <= s.start:
            continue
        if out and s.start <= out[-1].end:
            last = out[-1]
            out[-1] = Span(last.start, max(last.end, s.end), last.name or name)
        else:
            out.append(Span(s.start, s.end, s.name or name))
    return tuple(out)


def subtract_spans(base: Iterable[Span], remove: Iterable[Span]) -> tuple[Span, ...]:
    """``base`` minus ``remove`` (both may be unsorted); names of ``base`` are kept.

    Both lists are merged and sorted first, so one pointer into ``remove`` only moves forward:
    linear after the sort, whatever the number of spans.
    """
    rem = merge_spans(remove)
    out: list[Span] = []
    j = 0
    n = len(rem)
    for b in merge_spans(base):
        while j < n and rem[j].end <= b.start:
            j += 1
        cur = b.start
        k = j
        while k < n and rem[k].start < b.end:
            r = rem[k]
            if r.start > cur:
                out.append(Span(cur, r.start, b.name))
            cur = max(cur, r.end)
            if cur >= b.end:
                break
            k += 1
        if cur < b.end:
            out.append(Span(cur, b.end, b.name))
    return tuple(out)


class FrozenError(AttributeError):
    """An attempt to change a field of a ``MemoryMap`` or ``Machine`` (they are values, shared freely)."""


class _Frozen:
    """Immutable records with keyword construction and ``replace``: what ``@dataclass(frozen=True)``
    would give, written once by hand.

    ``dataclass`` builds its methods by compiling source text at import: with the ``dataclasses`` module
    itself, about 2 ms of every start of every command.  These behave as the generated ones do:
    immutable instances, equality and repr over all fields in order, a hash over ``_HASHED``, and
    ``replace(**changes)`` for ``dataclasses.replace``.
    """

    __slots__ = ()
    _FIELDS: ClassVar[tuple[str, ...]] = ()
    _HASHED: ClassVar[tuple[str, ...]] = ()

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenError(f"cannot delete field {name!r}")

    def replace(self: _R, **changes: Any) -> _R:
        """A copy with ``changes`` (field name -> value), as ``dataclasses.replace``."""
        unknown = sorted(set(changes) - set(self._FIELDS))
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {unknown[0]!r}")
        values = {n: getattr(self, n) for n in self._FIELDS}
        values.update(changes)
        build: Callable[..., _R] = type(self)  # through __init__, as dataclasses.replace
        return build(**values)

    def _values(self, names: tuple[str, ...]) -> tuple[Any, ...]:
        return tuple(getattr(self, n) for n in names)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values(self._FIELDS) == other._values(self._FIELDS)

    def __hash__(self) -> int:
        return hash(self._values(self._HASHED))

    def __repr__(self) -> str:
        return f"{type(self).__qualname__}({', '.join(f'{n}={getattr(self, n)!r}' for n in self._FIELDS)})"

    def __getstate__(self) -> tuple[Any, ...]:
        return self._values(self._FIELDS)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        for name, value in zip(self._FIELDS, state, strict=True):
            object.__setattr__(self, name, value)


def _init(obj: _Frozen, values: dict[str, Any]) -> None:
    for name in obj._FIELDS:
        object.__setattr__(obj, name, values[name])


class MemoryMap(_Frozen):
    """A memory map: System RAM, what is reserved in it, and the regions around it (``Span`` tuples)."""

    # the fields, with their defaults in __init__
    ram: tuple[Span, ...]
    reserved: tuple[Span, ...]
    nomap: tuple[Span, ...]
    other: tuple[Span, ...]
    crash: tuple[Span, ...]
    source: str
    # False when only the RAM total is known (e.g. /proc/iomem read without root): ``ram`` is then
    # empty, the total is ``Machine.system_ram``, and nothing can be placed on this map
    layout_known: bool

    __slots__ = _FIELDS = _HASHED = ("ram", "reserved", "nomap", "other", "crash", "source", "layout_known")

    def __init__(self, *, ram: tuple[Span, ...], reserved: tuple[Span, ...] = (), nomap: tuple[Span, ...] = (),
                 other: tuple[Span, ...] = (), crash: tuple[Span, ...] = (), source: str = "",
                 layout_known: bool = True) -> None:
        _init(self, locals())

    def system_ram(self) -> int:
        """The best estimate of ``memblock_phys_mem_size()``: RAM plus NOMAP memory."""
        return sum(s.size for s in merge_spans(self.ram + self.nomap))

    def free(self) -> tuple[Span, ...]:
        """RAM not known to be reserved: what memblock could hand out."""
        return subtract_spans(self.ram, self.reserved + self.nomap)

    def end_of_dram(self) -> int:
        spans = merge_spans(self.ram + self.nomap)
        return spans[-1].end if spans else 0

    def start_of_dram(self) -> int:
        spans = merge_spans(self.ram + self.nomap)
        return spans[0].start if spans else 0

    def with_reserved(self, extra: Iterable[Span]) -> MemoryMap:
        return self.replace(reserved=tuple(sorted(self.reserved + tuple(extra))))


class Machine(_Frozen):
    """A machine to plan for: its memory map and the facts that change the reservation."""

    memmap: MemoryMap
    name: str
    provenance: str
    arch: str | None  # canonical (crashplan.kernel.arch.normalize_arch)
    kernel: str | None  # a release string, e.g. "6.12.0-55.el10.x86_64"
    cmdline: str | None  # the boot command line of the source, if known
    system_ram: int | None  # memblock_phys_mem_size() when known exactly (else memmap.system_ram())
    swiotlb_size: int | None  # bytes; None = the default (64 MiB)
    mem_encrypt: str | None  # "sev", "tdx", "sme" or None
    kaslr: bool | None  # None = unknown
    cpus: int | None
    page_size: int
    dma_limit: int | None  # arm64_dma_phys_limit / riscv dma32_phys_limit when known
    fadump: bool | None
    kexec_crash_size: int | None
    crash_cma_ranges: tuple[Span, ...]
    notes: tuple[str, ...]
    # sizing inputs for ``crashplan suggest`` (kernel image, initrd, dump level …); the keys are those
    # of the machine file's ``kdump:`` section (docs/machine-format.md), sizes in bytes
    kdump: Mapping[str, object]
    # what a boot log tells about early allocations the simulator models (crashplan.memmap.bootlog:
    # "kernel_image" size estimate, "machine_model", "va_bits", "initrd_size" …); bytes for sizes
    boot_facts: Mapping[str, object]

    __slots__ = _FIELDS = ("memmap", "name", "provenance", "arch", "kernel", "cmdline", "system_ram",
                           "swiotlb_size", "mem_encrypt", "kaslr", "cpus", "page_size", "dma_limit", "fadump",
                           "kexec_crash_size", "crash_cma_ranges", "notes", "kdump", "boot_facts")
    _HASHED = _FIELDS[:-2]

    def __init__(self, *, memmap: MemoryMap, name: str = "", provenance: str = "", arch: str | None = None,
                 kernel: str | None = None, cmdline: str | None = None, system_ram: int | None = None,
                 swiotlb_size: int | None = None, mem_encrypt: str | None = None, kaslr: bool | None = None,
                 cpus: int | None = None, page_size: int = 4096, dma_limit: int | None = None,
                 fadump: bool | None = None, kexec_crash_size: int | None = None,
                 crash_cma_ranges: tuple[Span, ...] = (), notes: tuple[str, ...] = (),
                 kdump: Mapping[str, object] | None = None, boot_facts: Mapping[str, object] | None = None) -> None:
        values = locals()
        values["kdump"] = {} if kdump is None else kdump
        values["boot_facts"] = {} if boot_facts is None else boot_facts
        _init(self, values)

    def ram_size(self) -> int:
        return self.system_ram if self.system_ram is not None else self.memmap.system_ram()
