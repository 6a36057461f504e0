"""``diagnose``: every problem of a command line for each target, merged across targets."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from crashplan.kernel import Outcome, evaluate, normalize_arch, parse_release, to_bytes
from crashplan.kernel._cmdline import memparse
from crashplan.kernel.arch import COMMAND_LINE_SIZE
from crashplan.kernel.features import switch_release
from crashplan.kernel.versions import KernelRelease

from .accepted import accepted
from .collect import Chosen, Collector, fix_accepted, replace
from .model import Diagnosis, Target
from .rejected import rejected
from .tokens import CrashToken, crash_tokens, fraction, kernel_view, misspellings_of, numbers, token_kind

__all__ = ["diagnose"]



def diagnose(cmdline: str, targets: Sequence[Target]) -> list[Diagnosis]:
    """Every problem of ``cmdline`` for each target; merged across targets (``Diagnosis.targets``).

    Each target sees what its kernel keeps of the line (``kernel_view``): text beyond
    ``COMMAND_LINE_SIZE`` is cut before parsing, and ``CK217`` says so.
    """
    col = Collector()
    views: dict[str, tuple[str, list[CrashToken]]] = {}
    for t in targets:
        release = parse_release(t.kernel)
        arch = normalize_arch(t.arch)
        seen = kernel_view(cmdline, arch)
        if seen not in (v[0] for v in views.values()):
            views[arch] = (seen, crash_tokens(seen))
        seen, toks = next(v for v in views.values() if v[0] == seen)
        cut = len(seen) < len(cmdline)
        if cut:
            _cut(cmdline, seen, t, arch, col)
        o = evaluate(seen, system_ram=t.system_ram, kernel=release, arch=arch)
        _per_target(seen, toks, t, release, arch, o, col, cut=cut)
        if t.build:
            _build(t, col)
    return col.result()


def _build(t: Target, col: Collector) -> None:
    """CK130: the kernel's build options rule kdump out (crashplan.capability.kdump_capability)."""
    from crashplan.capability import OPTIONS, kdump_capability

    known = dict(t.build)
    cap = kdump_capability({k: known.get(k) for k in OPTIONS})
    if cap.can_kdump is False:
        col.add("CK130", "kdump cannot work with this kernel: " + "; ".join(cap.reasons), t)


def _cut(cmdline: str, seen: str, t: Target, arch: str, col: Collector) -> None:
    limit = COMMAND_LINE_SIZE.get(arch, 2048) - 1
    msg = f"the command line is {len(to_bytes(cmdline))} bytes; {arch} keeps only the first {limit}"
    first = cmdline.find("crashkernel=", max(0, len(seen) - len("crashkernel=") + 1))
    if first >= 0:
        end = cmdline.find(" ", first)
        lost = cmdline[first:end if end >= 0 else len(cmdline)]
        msg += f": `{lost[:80]}` is cut off before the kernel reads it"
    col.add("CK217", msg, t, span=(len(seen), len(cmdline)))


def _per_target(cmdline: str, toks: list[CrashToken], t: Target, release: KernelRelease, arch: str,
                o: Outcome, col: Collector, *, cut: bool = False) -> None:
    from crashplan.units import format_size

    by_start = {tok.start: tok for tok in toks}

    def chosen(kind: str) -> CrashToken | None:
        tk = o.tokens.get(kind)
        return by_start.get(tk.start) if tk else None

    plain = chosen("plain")
    kinds = {k: [tok for tok in toks if token_kind(tok, release) == k] for k in ("plain", "high", "low", "cma")}
    for n in o.notes:
        col.add("CK219", n, t)

    if o.flow == "none":
        col.add("CK119", f"Linux {release.label} on {arch} has no crashkernel= support "
                f"(loongarch from {switch_release('loongarch_kdump')})", t)
        return

    stand_in = _misspelt(cmdline, toks, t, release, col)
    if not toks:
        if not cut and not stand_in:  # else CK217/CK121 already say where the parameter went
            col.add("CK116", "no crashkernel= parameter: nothing is reserved for kdump", t)
        return

    # ---- embedded matches, duplicates: independent of the outcome
    for tok in toks:
        if tok.embedded and tok.param is not None:
            where = ("after `--` (init's arguments)" if tok.param.after_dashdash
                     else f"inside the parameter `{tok.param.name}`")
            if cmdline[tok.param.start] == '"' and tok.param.name == "crashkernel":
                continue  # reported as quoting below
            col.add("CK205", f"`{tok.text}` {where} is still read by the kernel as crashkernel=", t,
                    span=(tok.start, tok.end))
    for kind, all_of_kind in kinds.items():
        # a ,cma token that an older kernel counts as plain is reported as CK103/CK209, not as a duplicate
        lst = [tok for tok in all_of_kind if kind != "plain" or tok.suffix != "cma"]
        if len(lst) > 1:
            last = lst[-1]
            fixed = _without(cmdline, toks, lst[:-1])
            label = "plain" if kind == "plain" else f",{kind}"
            for tok in lst[:-1]:
                col.add("CK201", f"`{tok.text}` is ignored: the last {label} token `{last.text}` wins", t,
                        span=(tok.start, tok.end), fix=fixed.rstrip() if fixed else None)

    # ---- fadump
    if o.fadump:
        col.add("CK216", f"fadump=on: crashkernel= sizes fadump's boot memory "
                f"({format_size(o.fadump_size or 0)}); @offset and ,cma are ignored", t)

    # ---- why nothing is reserved
    if not o.accepted:
        rejected(cmdline, toks, kinds, t, release, arch, o, col, plain, chosen)
    else:
        accepted(cmdline, toks, kinds, t, release, arch, o, col, plain, chosen)

    _number_spelling(chosen, t, col)


def _number_spelling(chosen: Chosen, t: Target, col: Collector) -> None:
    """CK202, CK203, CK212: number-format surprises in the tokens the kernel reads."""
    from crashplan.units import format_size

    for kind in ("plain", "high", "low", "cma"):
        read = chosen(kind)
        if read is None:
            continue
        tok = read
        base = tok.start + len("crashkernel=")
        for s, e, num in numbers(tok.value):
            if len(num) > 1 and num[0] == "0" and num[1].isdigit():
                val, _ = memparse(num.encode() + to_bytes(tok.value[e:e + 1]), 0)
                col.add("CK202", f"`{num}{tok.value[e:e + 1]}` is octal: the kernel reads "
                        f"{format_size(val) if val else '0'}", t, span=(base + s, base + e))
            elif num[:2].lower() == "0x" and num[-1] in "eEbB":
                val = int(num, 16)
                col.add("CK203", f"`{num}` is hexadecimal: `{num[-1]}` is a digit, the kernel reads {val} bytes", t,
                        span=(base + s, base + e))
        fr = fraction(tok.value)
        if fr >= 0:
            col.add("CK212", f"`{tok.text}`: sizes cannot have fractions; write e.g. 1536M for 1.5G", t,
                    span=(base + fr, base + fr + 3))


def _without(cmdline: str, toks: list[CrashToken], drop: list[CrashToken]) -> str | None:
    """``cmdline`` with the tokens ``drop`` cut out (and the spaces after them); None when one cannot be."""
    fixed = cmdline
    next_start = {a.start: b.start for a, b in itertools.pairwise(toks)}
    for tok in reversed(drop):
        s, e = tok.start, tok.end
        # a token that runs into the next one (a TAB is not a separator) cannot be cut out alone
        if tok.embedded or next_start.get(s, len(fixed) + 1) < e:
            return None
        while e < len(fixed) and fixed[e] == " ":
            e += 1
        fixed = fixed[:s] + fixed[e:]
    return fixed


def _misspelt(cmdline: str, toks: list[CrashToken], t: Target, release: KernelRelease, col: Collector) -> bool:
    """CK121/CK220; True when a misspelt parameter stands in for a missing crashkernel=."""
    found = misspellings_of(cmdline)
    if not found:
        return False
    real = [tok for tok in toks if not tok.embedded]
    for m in found:
        if real:
            e = m.end
            while e < len(cmdline) and cmdline[e] == " ":
                e += 1
            s = m.start
            if e == len(cmdline):
                while s > 0 and cmdline[s - 1] == " ":
                    s -= 1
            col.add("CK220", f"`{m.text}` looks like a misspelt crashkernel= and is ignored; `{real[-1].text}` is "
                    "the one the kernel reads", t, span=(m.start, m.end), fix=cmdline[:s] + cmdline[e:])
            continue
        if m.corrected is None:
            col.add("CK121", f"`{m.text}` looks like a misspelt crashkernel=SIZE: the kernel ignores it and reserves "
                    "nothing for kdump", t, span=(m.start, m.end))
            continue
        fix = replace(cmdline, m.start, m.end, m.corrected)
        ok = fix_accepted(fix, t)
        col.add("CK121", f"`{m.text}` looks like a misspelt `{m.corrected}`: the kernel ignores it and reserves "
                "nothing for kdump" + ("" if ok else f"; even spelt right, Linux {release.label} would not reserve "
                                       f"`{m.corrected}` (run `crashplan check '{m.corrected}'`)"),
                t, span=(m.start, m.end), fix=fix if ok else None)
    return not real

