"""Why a release does what it does with ``crashkernel=``: the release switches that decide.

For one architecture and release this lists, from the tables the parser itself reads (so it cannot
drift from them):

- the code path: each condition of the architecture's row of ``crashplan.kernel.features.ARCH_TABLE``
  tried in order until one holds, and the switches those conditions name;
- for the generic path, whether the architecture passes the ``,high``/``,low`` and ``,cma`` pointers,
  and the switches of those cells;
- the parser's switches (``crashplan.kernel.dialect_for`` and ``evaluate``): the suffix table, the
  128 MiB round-up, overflow, the return for a missing token, the size checks, the message texts.

Each switch carries its state for this release, the release it turns on from, what it changes and its
certainty note (``crashplan.kernel.versions.SWITCHES``), and the distribution profile that forces it,
if one does (``crashplan.kernel.distros``).  ``crashplan check -vv`` prints it.
"""

from __future__ import annotations

from crashplan.records import NamedTuple

from .features import Flow, When, row
from .versions import SWITCHES, KernelRelease

__all__ = ["PARSER_SWITCHES", "Decision", "SwitchState", "decisions", "flow_text"]

# the switches dialect_for() and evaluate() read (crashplan/kernel/__init__.py), in the order a line is parsed
PARSER_SWITCHES = ("cma_suffix", "roundup_128m", "memparse_saturates", "enoent", "parse_checks_all", "size_ge_ram",
                   "zero_size_message", "prefix_messages", "typo_fixed")

# what each code path is, as crashplan.kernel.features.Flow describes it (kernel-semantics §4.4)
_FLOW_TEXT = {
    Flow.GENERIC: "parse_crashkernel() with the pointers the architecture passes (kernel/crash_reserve.c)",
    Flow.X86_LEGACY: "reserve_crashkernel() of arch/x86/kernel/setup.c",
    Flow.ARM64_LEGACY: "reserve_crashkernel() of arch/arm64/mm/init.c (riscv 6.6 likewise)",
    Flow.PLAIN: "parse_crashkernel() for crashkernel=X[@Y] and ranges only; reserves when it returns 0 "
                "and a size",
    Flow.NONE: "no crashkernel= support",
}


class SwitchState(NamedTuple):
    """One switch as this release sees it."""

    name: str
    on: bool
    since: str  # the mainline release it turns on from, "6.17"
    what: str
    certainty: str  # "verified" or where the release comes from (versions.SWITCHES)
    forced_by: str | None  # the distribution profile that sets it against its series, or None


class Decision(NamedTuple):
    """What the kernel decides (``topic``), the answer, and the switches that decided it."""

    topic: str
    answer: str
    switches: tuple[SwitchState, ...]


def flow_text(flow: str) -> str:
    """What the code path ``flow`` (an ``Outcome.flow`` value) runs; the value itself if it is not a Flow."""
    try:
        return _FLOW_TEXT[Flow(flow)]
    except ValueError:
        return flow


def _forced_by(release: KernelRelease, name: str) -> str | None:
    if release.profile is None:
        return None
    from . import distros

    try:
        p = distros.get(release.profile)
    except KeyError:
        return None
    return p.name if name in p.on or name in p.off else None


def _state(release: KernelRelease, name: str) -> SwitchState:
    s = SWITCHES[name]
    return SwitchState(name, s.on(release), f"{s.since[0]}.{s.since[1]}", s.what, s.certainty,
                       _forced_by(release, name))


def _states(release: KernelRelease, names: tuple[str, ...]) -> tuple[SwitchState, ...]:
    seen: list[str] = []
    for n in names:
        bare = n.lstrip("!")
        if bare not in seen:
            seen.append(bare)
    return tuple(_state(release, n) for n in seen)


def _cell(release: KernelRelease, cond: When | None, topic: str) -> Decision:
    if cond is None:
        return Decision(topic, "no (never on this architecture)", ())
    return Decision(topic, "yes" if cond.holds(release) else "no", _states(release, cond.names))


def decisions(arch: str, release: KernelRelease) -> tuple[Decision, ...]:
    """The code path, the pointers it passes (generic path) and the parser, each with its switches.

    ``arch`` is a normalized architecture name (``crashplan.kernel.arch.normalize_arch``)."""
    r = row(arch)
    tried: list[str] = []
    chosen = Flow.PLAIN  # every row ends with an unconditional flow
    for cond, f in r.flows:
        tried.extend(cond.names)
        if cond.holds(release):
            chosen = f
            break
    out = [Decision("code path", str(chosen), _states(release, tuple(tried)))]
    if chosen is Flow.GENERIC:
        out.append(_cell(release, r.high_low, "reads ,high and ,low"))
        out.append(_cell(release, r.cma, "reserves ,cma"))
    out.append(Decision("parser", f"{release.label} rules", _states(release, PARSER_SWITCHES)))
    return tuple(out)
