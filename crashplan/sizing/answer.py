"""The answer ``crashplan suggest`` gives first: what the current command line reserves against what is needed.

"current" is the machine's own command line: ``/proc/cmdline`` when this machine is probed, the
``cmdline:`` of a machine file otherwise.  Its ``crashkernel=`` parameters are replayed exactly as the
plans are (the parser port, then the reservation simulator when the memory map is known), so "gives"
is what the kernel would reserve on this machine, not what the string says.

Pure: data in, data out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crashplan.sizing.plans import Suggestion, _replay

__all__ = ["VERDICTS", "Current", "assess_current", "crashkernel_tokens"]

MiB = 1 << 20

# verdict -> what it means (docs/sizing.md)
VERDICTS = {
    "none": "the command line has no crashkernel=: nothing is reserved",
    "nothing": "the crashkernel= parameters reserve nothing on this machine",
    "too small": "less than the capture kernel needs",
    "tight": "enough for the model's need, but inside the 10 % margin",
    "enough": "at least the recommended size",
    "more than needed": "at least 1.5 times the recommended size and 64M more: production loses memory for nothing",
    "unknown": "nothing to compare with: no plan is offered",
}


def crashkernel_tokens(cmdline: str | None) -> tuple[str, ...]:
    """The ``crashkernel=`` parameters of ``cmdline`` as written, in order."""
    if not cmdline:
        return ()
    from crashplan.cmdline import split_params

    return tuple(cmdline[p.start:p.end] for p in split_params(cmdline) if p.name == "crashkernel")


@dataclass(frozen=True, slots=True, kw_only=True)
class Current:
    params: str  # the crashkernel= parameters as written ("" when there are none)
    source: str  # where the command line was read: "/proc/cmdline" or the machine file
    reserves: int  # classic memory the kernel reserves for them (main + low region)
    low: int  # of which the low region
    cma: int  # CMA memory (crashkernel=…,cma)
    placed: bool  # replayed on the memory map (False: parsed only)
    needs: int | None  # the recommended size it is compared with (the classic plan's, or the CMA plan's parts)
    verdict: str  # a key of VERDICTS

    @property
    def text(self) -> str:
        """One line: ``current crashkernel=512M-:192M gives 192M; needs 232M: too small``."""
        from crashplan.units import format_size

        if self.verdict == "none":
            return "current command line has no crashkernel=: nothing is reserved"
        gives = "nothing" if self.reserves == 0 and self.cma == 0 else format_size(self.reserves)
        if self.low:
            gives += f" ({format_size(self.reserves - self.low)} + {format_size(self.low)} low)"
        if self.cma:
            gives += f" + {format_size(self.cma)} CMA"
        out = f"current {self.params} gives {gives}"
        if self.needs is not None and self.verdict != "nothing":
            out += f"; needs {format_size(self.needs)}"
        return out + ("" if self.verdict == "unknown" else f": {self.verdict}")

    def as_dict(self) -> dict[str, object]:
        return {"params": self.params, "source": self.source, "reserves": self.reserves, "low": self.low,
                "cma": self.cma, "placed": self.placed, "needs": self.needs, "verdict": self.verdict}


def assess_current(suggestion: Suggestion, machine: Any, *, source: str) -> Current | None:
    """Replay the machine's current ``crashkernel=`` parameters and judge them against the plans.

    None when the machine's command line is not known.
    """
    cmdline = getattr(machine, "cmdline", None) if machine is not None else None
    if cmdline is None:
        return None
    tokens = crashkernel_tokens(cmdline)
    plans = {p.name: p for p in suggestion.plans if p.refused is None}
    b = suggestion.budget
    classic_needs = b.recommended if "classic" in plans else None
    if not tokens:
        return Current(params="", source=source, reserves=0, low=0, cma=0, placed=False, needs=classic_needs,
                       verdict="none")
    params = " ".join(tokens)
    rep = _replay(params, inputs=suggestion.inputs, release=suggestion.release, machine=machine)
    if rep.replayed:
        reserves = sum(z for k, _, _, z in rep.regions if k != "cma")
        low = sum(z for k, _, _, z in rep.regions if k == "crashkernel-low")
        cma = sum(z for k, _, _, z in rep.regions if k == "cma")
    elif rep.accepted:
        from crashplan.check import merge_cmdline
        from crashplan.kernel import evaluate

        o = evaluate(merge_cmdline(cmdline, params), system_ram=suggestion.inputs.system_ram,
                     kernel=suggestion.release, arch=suggestion.inputs.arch)
        low = o.low_size or 0
        reserves = (o.crash_size or 0) + low
        cma = o.cma_size or 0
    else:
        reserves = low = cma = 0
    if reserves == 0 and cma == 0:
        return Current(params=params, source=source, reserves=0, low=0, cma=0, placed=rep.replayed,
                       needs=classic_needs, verdict="nothing")
    cb = suggestion.cma_budget
    if cma and cb is not None and "cma" in plans:
        # judged as a CMA plan: the classic part must hold the kexec segments and the low-memory room,
        # CMA the run-time rest
        needs = cb.classic + cb.cma
        if reserves < cb.classic_required or reserves + cma < b.required:
            verdict = "too small"
        elif reserves < cb.classic or cma < cb.cma:
            verdict = "tight"
        else:
            verdict = "enough"
    elif classic_needs is None:
        needs, verdict = None, "unknown"
    else:
        needs = classic_needs
        # CMA memory the running kernel cannot use counts for nothing here: only the classic region is
        # sure to be the capture kernel's (kexec_load, or no CMA plan for this machine)
        if reserves < b.required:
            verdict = "too small"
        elif reserves < b.recommended:
            verdict = "tight"
        elif reserves >= b.recommended * 3 // 2 and reserves - b.recommended >= 64 * MiB:
            verdict = "more than needed"
        else:
            verdict = "enough"
    return Current(params=params, source=source, reserves=reserves, low=low, cma=cma, placed=rep.replayed,
                   needs=needs, verdict=verdict)
