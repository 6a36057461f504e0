"""Text and CSV renderings of a :class:`~crashplan.fleet.report.FleetReport` (pure: strings out).

Text reads at 80 columns: the answer first (the line and whether it serves the fleet), then the
machines that fail grouped by cause, then the machines the line cannot be judged on (no kdump, layout
unknown) by cause, then one short table per group of similar machines compared with the distribution
default.
"""

from __future__ import annotations

import csv
import io
import shlex
from collections.abc import Sequence
from typing import Any

from crashplan.fleet.report import NOT_JUDGED, STATUSES, FleetReport, Verdict
from crashplan.units import format_size

__all__ = ["CSV_COLUMNS", "render_csv", "render_text"]

CSV_COLUMNS = ("name", "file", "arch", "kernel", "ram", "reserves", "size", "low", "cma", "needed", "cma_needed",
               "lost", "ok", "status", "reason", "group", "default")

_ROWS_PER_GROUP = 12  # text only; JSON and CSV list every machine
_GROUPS_SHOWN = 30

_CAUSE_TITLES = {
    "reserves-nothing": "reserve nothing",
    "too-small": "reserve less than their kdump needs",
    "placement-failed": "cannot place the region",
    "unplaced": "cannot be proven (memory layout unknown)",
    "no-kdump": "cannot run kdump at all",
    "unsized": "cannot be sized",
}


def _n(n: object, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _sz(n: int | None) -> str:
    return "-" if n is None else "0" if n == 0 else format_size(n)


def _style(text: str, color: bool, **kw: Any) -> str:
    if not color:
        return text
    from crashplan.output.terminal import Terminal

    return Terminal(color=True).style(text, **kw)


def _wrap(text: str, width: int, indent: str, *, long_words: bool = True) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width=width, initial_indent=indent, subsequent_indent=indent + "  ",
                         break_on_hyphens=False, break_long_words=long_words) or [indent]


def _shell_lines(words: Sequence[str], width: int) -> list[str]:
    """A command cut into lines ending in `` \\`` (a shell reads it back), never inside a word."""
    lines: list[str] = []
    cur = "  "
    for w in words:
        if cur.strip() and len(cur) + 1 + len(w) + 2 > width:
            lines.append(cur + " \\")
            cur = "      " + w
        else:
            cur = cur + (" " if cur.strip() else "") + w
    lines.append(cur)
    return lines


def _cut(s: str, n: int) -> str:
    return s if len(s) <= n else s[: max(1, n - 1)] + "…"


def render_text(r: FleetReport, *, width: int = 80, color: bool = False, snapshots: Sequence[str] = (),
                exclude: Sequence[str] = ()) -> str:
    out = _answer(r, width, color)
    out += _against_default(r, width)
    if r.command == "plan":
        out += _plan_detail(r, width, snapshots, exclude)
    out += _failures(r, width, color)
    out += _not_judged(r, width, color)
    out += _groups(r, width, color)
    return "\n".join(out) + "\n"


def _int(value: object) -> int:
    """A count or size of :meth:`FleetReport.totals` (typed ``object`` there: some may be None)."""
    assert isinstance(value, int)
    return value


def _answer(r: FleetReport, width: int, color: bool) -> list[str]:
    """The line, whether it serves the fleet, what was left out and what could not be read."""
    out: list[str] = []
    t = r.totals()
    n, ok = _int(t["machines"]), _int(t["ok"])
    failed = r.failed
    # machines that cannot be judged are set apart (listed after the failures) unless --strict
    apart = () if r.strict else r.not_judged
    judged = n - len(apart)
    what = "judged machine" if apart else "machine"
    nj = f"{len(apart)} not judged (below)" if apart else ""
    if r.command == "plan":
        if r.cmdline is None:
            out.append(_style("No crashkernel= line can serve this fleet.", color, fg="red", bold=True))
        else:
            out.append(_style(r.cmdline, color, bold=True))
            if not failed:
                verdict = ("Serves the machine" if judged == 1 and not apart else
                           f"Serves all {_n(judged, what)}" + (f"; {nj}" if nj else ""))
            else:
                verdict = (f"Serves {ok} of {_n(judged, what)}; {len(failed)} cannot be served"
                           + (f", {nj}" if nj else " (below)"))
            out.extend(_wrap(f"{verdict}; production loses {_sz(_int(t['planned']))} in all (classic regions).",
                             width, ""))
    else:
        out.append(_style(r.cmdline or "", color, bold=True))
        tail = f"; {nj}" if nj else ""
        if not failed and r.errors:
            out.extend(_wrap(f"INCOMPLETE: the {_n(judged, what)} read reserve what their kdump needs{tail}, "
                             f"but {_n(len(r.errors), 'machine file')} could not be read.", width, ""))
        elif not failed:
            ok_text = ("OK: the machine reserves what its kdump needs." if judged == 1 and not apart else
                       f"OK: all {_n(judged, what)} reserve what their kdump needs{tail}.")
            out.extend(_style(x, color, fg="green") for x in _wrap(ok_text, width, ""))
        else:
            out.extend(_style(x, color, fg="red", bold=True)
                       for x in _wrap(f"FAIL: {len(failed)} of {_n(judged, what)} not served{tail}.", width, ""))
    if t["excluded"]:
        out.append(f"{_n(t['excluded'], 'machine')} left out with --exclude.")
    if r.errors:
        out.append(_style(f"{_n(len(r.errors), 'machine file')} could not be read (exit status 2):", color,
                          fg="red"))
        for e in r.errors[:20]:
            out.extend(_wrap(str(e), width, "  ", long_words=False))
        if len(r.errors) > 20:
            out.append(f"  … and {len(r.errors) - 20} more (--format json lists them all)")
    return out


def _against_default(r: FleetReport, width: int) -> list[str]:
    t = r.totals()
    if t["default"] is None or not t["machines"]:
        return []
    saved = _int(t["saved"])
    word = "saves" if saved >= 0 else "takes"
    line = (f"Against kdump-utils' default tables ({_sz(_int(t['default']))} in all): the line {word} "
            f"{_sz(abs(saved))}")
    if t["default_short"]:
        line += (f"; the defaults would leave {t['default_short']} machine(s) "
                 f"{_sz(_int(t['default_missing']))} short of what their kdump needs")
    return _wrap(line + ".", width, "")


def _plan_detail(r: FleetReport, width: int, snapshots: Sequence[str], exclude: Sequence[str]) -> list[str]:
    """plan: its notes, the CMA variant and the command that checks the line."""
    out: list[str] = []
    n = _int(r.totals()["machines"])
    for note in r.notes:
        out.extend(_wrap(note, width, ""))
    if r.cma is not None:
        out.append("")
        if r.cma.cmdline:
            cf = sum(1 for v in r.cma.verdicts if not v.ok and (r.strict or v.status not in NOT_JUDGED))
            nj = 0 if r.strict else sum(1 for v in r.cma.verdicts if not v.ok and v.status in NOT_JUDGED)
            what = "judged machines" if nj else "machines"
            out.append("CMA variant (production keeps the CMA part for movable memory until a crash):")
            out.extend(_wrap(r.cma.cmdline, width, "  "))
            out.extend(_wrap(f"serves {n - nj - cf} of {n - nj} {what}; loses {_sz(r.cma.lost)} in all "
                             "(after a panic the kernel waits 10 s before the capture kernel starts)", width,
                             "  "))
        else:
            out.extend(_wrap(f"No CMA variant: {r.cma.refused}", width, ""))
    if r.cmdline:
        failed = r.failed
        ex = [f"--exclude {shlex.quote(v.name)}" for v in failed]
        ex += [f"--exclude {shlex.quote(p)}" for p in exclude]
        words = ["crashplan", "fleet", "check", shlex.quote(r.cmdline), *map(shlex.quote, snapshots), *ex]
        if r.strict:
            words.append("--strict")
        out.append("")
        out.append("Check it (leaving out the machines it cannot serve):" if failed else "Check it:")
        out.extend(_shell_lines(words, width))
    return out


def _failures(r: FleetReport, width: int, color: bool) -> list[str]:
    """The machines that fail, by cause."""
    title = "Not served, by cause" if r.command == "plan" else "Failures, by cause"
    return _by_cause(r.failed, title, width, color)


def _not_judged(r: FleetReport, width: int, color: bool) -> list[str]:
    """The machines the line cannot be judged on (not failures without --strict), by cause."""
    if r.strict:
        return []  # they are failures, listed with them
    return _by_cause(r.not_judged, "Not judged, by cause", width, color,
                     "the line cannot be judged on these: not failures of it; --strict counts them")


def _by_cause(vs_all: Sequence[Verdict], title: str, width: int, color: bool, note: str = "") -> list[str]:
    if not vs_all:
        return []
    out = ["", _style(title, color, bold=True)]
    if note:
        out.extend(_wrap(f"({note})", width, "  "))
    by: dict[str, list[Verdict]] = {}
    for v in vs_all:
        by.setdefault(v.status, []).append(v)
    for s in STATUSES:
        vs = by.get(s)
        if not vs:
            continue
        out.append(f"  {len(vs)} {_CAUSE_TITLES.get(s, s)} [{s}]")
        for v in vs[:20]:
            out.extend(_wrap(f"{v.name}: {v.reason}", width, "    "))
        if len(vs) > 20:
            out.append(f"    … and {len(vs) - 20} more")
    return out


def _groups(r: FleetReport, width: int, color: bool) -> list[str]:
    """One short table per group of similar machines, compared with the distribution default."""
    gs = r.groups
    if not gs:
        return []
    out = ["", _style("Groups (architecture, kernel, RAM band)", color, bold=True)]
    by_group: dict[str, list[Verdict]] = {}
    for v in r.verdicts:
        if v.status != "excluded":
            by_group.setdefault(v.group, []).append(v)
    name_w = max(12, width - 52)
    shown = gs
    if len(gs) > _GROUPS_SHOWN:  # those with failures first, then the largest
        keep = set(sorted(gs, key=lambda g: (g.ok - g.machines, -g.machines))[:_GROUPS_SHOWN])
        shown = tuple(g for g in gs if g in keep)
    for g in shown:
        saved = g.saved
        cmp = "" if saved is None else (f", saves {_sz(saved)}" if saved >= 0 else f", takes {_sz(-saved)} more")
        head = (f"{g.key}: {_n(g.machines, 'machine')}, {g.ok} ok; line {_sz(g.planned)}, "
                f"default {_sz(g.default)}{cmp}")
        if g.default_short:
            head += f"; default {_sz(g.default_missing)} short on {g.default_short}"
        out.append("")
        out.extend(_wrap(head, width, ""))
        out.append(f"  {'machine':<{name_w}} {'RAM':>8} {'needs':>7} {'gets':>7} {'default':>7}  status")
        rows = by_group.get(g.key, [])
        for v in rows[:_ROWS_PER_GROUP]:
            gets = v.size + v.low
            st = v.status
            if v.cma:
                st += f" +{_sz(v.cma)} cma"
            out.append(f"  {_cut(v.name, name_w):<{name_w}} {_sz(v.ram):>8} {_sz(v.needed):>7} {_sz(gets):>7} "
                       f"{_sz(v.default):>7}  {st}")
        if len(rows) > _ROWS_PER_GROUP:
            out.append(f"  … and {len(rows) - _ROWS_PER_GROUP} more (--format json or csv lists them all)")
    if len(shown) < len(gs):
        out.append("")
        out.append(f"… and {_n(len(gs) - len(shown), 'more group')} (--format json lists them all)")
    return out


def render_csv(r: FleetReport) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for v in r.verdicts:
        d = v.as_dict()
        w.writerow(["" if d[c] is None else (str(d[c]).lower() if isinstance(d[c], bool) else d[c])
                    for c in CSV_COLUMNS])
    return buf.getvalue()
