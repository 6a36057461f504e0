"""The fleet report's types: machines in (:class:`Entry`), what a line does on each (:class:`Verdict`),
the groups of similar machines the text report compares with the distribution default, and the
``crashplan/fleet@1`` document (:class:`FleetReport`).  Pure data.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from crashplan.memmap.model import Machine

__all__ = [
    "NOT_JUDGED", "SCHEMA", "STATUSES",
    "Cache", "Entry", "FleetError", "FleetReport", "Group", "Need", "Variant", "Verdict",
    "band", "content_key", "excluded_name", "excluded_verdict", "group_key", "groups", "is_excluded",
]

SCHEMA = "crashplan/fleet@1"
GiB = 1 << 30
MiB = 1 << 20

# every status a machine can get, in the order the text report lists failures
STATUSES = ("ok", "reserves-nothing", "too-small", "placement-failed", "unplaced", "no-kdump", "unsized",
            "excluded")

# statuses of machines the line cannot be judged on: the kernel cannot run kdump at all (no line can
# change that), or the snapshot has no memory layout, so the placement cannot be replayed (the size
# was compared and is right).  They are reported but are not failures of the line unless --strict.
# ``unsized`` is not among them: the need is unknown, so a line too small for the machine would pass
# unseen; the file lacks what `crashplan snapshot` always writes (architecture, RAM), which the
# operator can fix.
NOT_JUDGED = ("no-kdump", "unplaced")

# RAM bands of the groups: the boundaries of kdump-utils' tables (2G, 4G, 16G, 64G, 128G; anchors §1.1)
# and 1T
_BANDS = (2 * GiB, 4 * GiB, 16 * GiB, 64 * GiB, 128 * GiB, 1 << 40)


@dataclass(frozen=True, slots=True)
class Entry:
    """One machine of the fleet: its name, the file it came from, the machine."""

    name: str
    file: str
    machine: Machine


@dataclass(frozen=True, slots=True)
class FleetError:
    """A snapshot that could not be read (reported, never fatal for the rest of the fleet)."""

    file: str
    message: str
    line: int | None = None
    column: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "column": self.column, "message": self.message}

    def __str__(self) -> str:
        where = ":".join(str(x) for x in (self.file, self.line, self.column) if x is not None)
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class Need:
    """What suggest's model says a machine's capture kernel needs (bytes; None = refused or unknown)."""

    rules: str  # the kernel release whose crashkernel= rules apply (suggest's)
    arch: str
    ram: int
    classic: int | None  # suggest's classic plan size (crashkernel=X)
    classic_refused: str | None = None
    cma_classic: int | None = None  # suggest's CMA plan: the classic part …
    cma: int | None = None  # … and the CMA part
    cma_refused: str | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    name: str
    file: str
    arch: str | None
    kernel: str | None
    ram: int
    reserves: bool
    size: int  # the crashkernel region (0 if none)
    low: int  # the low region the kernel adds (0 if none)
    cma: int
    needed: int | None
    cma_needed: int | None
    lost: int  # production loses: classic regions (crashkernel + low)
    ok: bool
    status: str
    reason: str | None
    default: int | None  # what kdump-utils' table gives this machine (None: no table for the arch)

    @property
    def group(self) -> str:
        return group_key(self.arch, self.kernel, self.ram)

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name, "file": self.file, "arch": self.arch, "kernel": self.kernel, "ram": self.ram,
            "reserves": self.reserves, "size": self.size, "low": self.low, "cma": self.cma, "needed": self.needed,
            "cma_needed": self.cma_needed, "lost": self.lost, "ok": self.ok, "status": self.status,
            "reason": self.reason, "group": self.group, "default": self.default,
        }


@dataclass
class Cache:
    """Results by content: identical machines are sized and replayed once."""

    needs: dict[Any, Need | str] = field(default_factory=dict)
    verdicts: dict[Any, tuple[Any, ...]] = field(default_factory=dict)
    hits: int = 0
    misses: int = 0
    limit: int = 8192  # entries kept per table (memory stays bounded for any fleet size); then it starts over

    def put(self, table: dict[Any, Any], key: Any, value: Any) -> None:
        if len(table) >= self.limit:
            table.clear()
        table[key] = value


def content_key(m: Machine) -> Machine:
    """The machine without what does not change a result (name, provenance, notes, map source).

    ``Machine`` hashes without its ``kdump``/``boot_facts`` mappings but compares them: a dict keyed
    on this is exact."""
    return m.replace(name="", provenance="", notes=(), memmap=m.memmap.replace(source=""))


def band(ram: int) -> str:
    """The RAM band of a machine, RAM rounded up to 128 MiB first as kdump-utils' get_system_size does
    (anchors §1.2), so that a "2 GiB" guest with a little less RAM is in the 2G-4G band."""
    from crashplan.units import format_kernel_size as k

    ram = -(-ram // (128 * MiB)) * 128 * MiB
    lo = 0
    for b in _BANDS:
        if ram < b:
            return f"<{k(b)}" if lo == 0 else f"{k(lo)}-{k(b)}"
        lo = b
    return f"{k(lo)}-"


def group_key(arch: str | None, kernel: str | None, ram: int) -> str:
    return f"{arch or '?'} {kernel or '?'} {band(ram)}"


@dataclass(frozen=True, slots=True)
class Group:
    key: str
    arch: str
    kernel: str
    band: str
    machines: int
    ok: int
    planned: int
    default: int | None
    default_short: int
    default_missing: int

    @property
    def saved(self) -> int | None:
        return None if self.default is None else self.default - self.planned

    def as_dict(self) -> dict[str, object]:
        return {"key": self.key, "arch": self.arch, "kernel": self.kernel, "band": self.band,
                "machines": self.machines, "ok": self.ok, "planned": self.planned, "default": self.default,
                "saved": self.saved, "default_short": self.default_short, "default_missing": self.default_missing}


def groups(verdicts: Iterable[Verdict]) -> tuple[Group, ...]:
    acc: dict[str, list[Verdict]] = {}
    for v in verdicts:
        if v.status != "excluded":
            acc.setdefault(v.group, []).append(v)
    out = []
    for key, all_vs in acc.items():
        # compared over the machines that can run kdump (a need is known): the others take nothing
        vs = [v for v in all_vs if v.needed is not None]
        defaults = [v.default for v in vs]
        dflt = None if any(d is None for d in defaults) else sum(d for d in defaults if d is not None)
        short = [v for v in vs if v.needed is not None and v.default is not None and v.default < v.needed]
        first = all_vs[0]
        out.append(Group(key=key, arch=first.arch or "?", kernel=first.kernel or "?", band=band(first.ram),
                         machines=len(all_vs), ok=sum(v.ok for v in all_vs), planned=sum(v.lost for v in vs),
                         default=dflt, default_short=len(short),
                         default_missing=sum((v.needed or 0) - (v.default or 0) for v in short)))
    # largest memory first, then name: the text report reads top-down
    out.sort(key=lambda g: (g.arch, -_band_index(g.band), g.kernel))
    return tuple(out)


def _band_index(label: str) -> int:
    from crashplan.units import format_kernel_size as k

    labels = [band(b - 1) for b in _BANDS] + [f"{k(_BANDS[-1])}-"]
    return labels.index(label) if label in labels else -1


@dataclass(frozen=True, slots=True, kw_only=True)
class Variant:
    """A planned line and its replay on every machine."""

    name: str  # "classic" or "cma"
    cmdline: str | None
    ranges: tuple[tuple[int, int | None, int], ...] = ()
    refused: str | None = None
    verdicts: tuple[Verdict, ...] = ()

    @property
    def lost(self) -> int:
        return sum(v.lost for v in self.verdicts if v.status != "excluded")

    def as_dict(self) -> dict[str, object]:
        return {"cmdline": self.cmdline, "refused": self.refused,
                "ranges": [{"start": a, "end": b, "size": s} for a, b, s in self.ranges],
                "lost": self.lost if self.cmdline else None,
                "machines": [v.as_dict() for v in self.verdicts] if self.name == "cma" else None}


@dataclass(frozen=True, slots=True, kw_only=True)
class FleetReport:
    command: str  # "plan" or "check"
    cmdline: str | None
    verdicts: tuple[Verdict, ...]
    errors: tuple[FleetError, ...] = ()
    classic: Variant | None = None  # plan only
    cma: Variant | None = None  # plan only
    notes: tuple[str, ...] = ()
    strict: bool = False  # --strict: machines that cannot be judged count as failures

    @property
    def failed(self) -> tuple[Verdict, ...]:
        """The machines that make the line fail (exit status 1): not ``ok`` and judged, or any not
        ``ok`` with ``strict``."""
        return tuple(v for v in self.verdicts if not v.ok and (self.strict or v.status not in NOT_JUDGED))

    @property
    def not_judged(self) -> tuple[Verdict, ...]:
        """The machines the line cannot be judged on (NOT_JUDGED), failures or not."""
        return tuple(v for v in self.verdicts if not v.ok and v.status in NOT_JUDGED)

    @property
    def exit_status(self) -> int:
        if self.errors:
            return 2
        if self.cmdline is None or self.failed:
            return 1
        return 0

    @property
    def groups(self) -> tuple[Group, ...]:
        return groups(self.verdicts)

    def causes(self) -> dict[str, list[str]]:
        """The failing machines (:attr:`failed`) by status."""
        failed = self.failed
        out: dict[str, list[str]] = {}
        for s in STATUSES:
            names = [v.name for v in failed if v.status == s]
            if names:
                out[s] = names
        return out

    def totals(self) -> dict[str, object]:
        gs = self.groups
        vs = [v for v in self.verdicts if v.status != "excluded"]
        dflt = None if any(g.default is None for g in gs) else sum(g.default or 0 for g in gs)
        planned = sum(g.planned for g in gs)
        return {"machines": len(vs), "ok": sum(v.ok for v in vs), "failed": len(self.failed),
                "not_judged": len(self.not_judged), "excluded": len(self.verdicts) - len(vs),
                "errors": len(self.errors), "planned": planned,
                "default": dflt, "saved": None if dflt is None else dflt - planned,
                "default_short": sum(g.default_short for g in gs),
                "default_missing": sum(g.default_missing for g in gs)}

    def as_dict(self, *, machines: bool = True) -> dict[str, object]:
        """The ``crashplan/fleet@1`` document (``machines=False``: its machine list left empty, for a
        writer that streams it)."""
        plan_part = None
        if self.command == "plan":
            unserved = [{"name": v.name, "file": v.file, "status": v.status, "reason": v.reason or ""}
                        for v in self.failed]
            plan_part = {"classic": self.classic.as_dict() if self.classic else None,
                         "cma": self.cma.as_dict() if self.cma else None, "unserved": unserved}
        return {
            "schema": SCHEMA, "command": self.command, "cmdline": self.cmdline, "ok": self.exit_status == 0,
            "exit_status": self.exit_status, "strict": self.strict, "not_judged": [v.name for v in self.not_judged],
            "machines": [v.as_dict() for v in self.verdicts] if machines else [],
            "groups": [g.as_dict() for g in self.groups], "totals": self.totals(), "causes": self.causes(),
            "errors": [e.as_dict() for e in self.errors], "plan": plan_part, "notes": list(self.notes),
        }


def is_excluded(entry: Entry, patterns: Sequence[str]) -> bool:
    return excluded_name(entry.name, entry.file, patterns)


def excluded_name(name: str, file: str, patterns: Sequence[str]) -> bool:
    """Whether --exclude PATTERN (shell patterns, fnmatch) matches the machine's name or its file."""
    return any(fnmatch.fnmatchcase(name, p) or fnmatch.fnmatchcase(file, p) for p in patterns)


def excluded_verdict(v: Verdict) -> Verdict:
    """``v``'s machine, left out with --exclude (what a line does there is not looked at)."""
    return replace(v, reserves=False, size=0, low=0, cma=0, needed=None, cma_needed=None, lost=0, ok=True,
                   status="excluded", reason="left out with --exclude")
