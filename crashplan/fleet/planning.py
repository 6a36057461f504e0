"""``crashplan fleet plan``: the crashkernel= line that serves every machine and loses the least memory."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from crashplan.fleet.replay import default_for, judge, kdump_refusal, machine_need
from crashplan.fleet.report import Cache, Entry, FleetError, FleetReport, Need, Variant, Verdict, is_excluded

__all__ = ["effective_ram", "plan", "range_line", "segment"]

MiB = 1 << 20


def _rounds(rules: str) -> bool:
    from crashplan.kernel import parse_release
    from crashplan.kernel.versions import SWITCHES

    return SWITCHES["roundup_128m"].on(parse_release(rules))


def effective_ram(ram: int, rules: str) -> int:
    """The RAM a range is matched against: rounded up to 128 MiB from Linux 6.0 (kernel/crash_reserve.c
    parse_crashkernel_mem(), "firmware reserves some memory"; SWITCHES['roundup_128m'])."""
    return -(-ram // (128 * MiB)) * 128 * MiB if _rounds(rules) else ram


_STEPS = tuple(1 << s for s in range(42, 26, -1))  # 4T down to 128M


def _boundary(a: int, b: int) -> int:
    """The roundest number x with a < x <= b."""
    for step in _STEPS:
        x = (a // step + 1) * step
        if x <= b:
            return x
    return b


def _start(k: int) -> int:
    for step in _STEPS:
        x = (k // step) * step
        if x > 0:
            return x
    return k


def segment(points: Sequence[tuple[int, int, int]], max_ranges: int) -> list[tuple[int, int]] | None:
    """Split sorted (effective RAM, count, need) points into at most ``max_ranges`` consecutive runs that
    minimise sum(count × max need); a run's size must be below the smallest RAM it serves.  Returns
    [(first index, last index)] or None when no split works."""
    n = len(points)
    if n == 0:
        return []
    inf = float("inf")
    # cost[i][j]: run i..j
    cost = [[inf] * n for _ in range(n)]
    for i in range(n):
        cnt = 0
        mx = 0
        for j in range(i, n):
            cnt += points[j][1]
            mx = max(mx, points[j][2])
            if mx >= points[i][0]:
                break  # a size not below the smallest RAM of the run: the kernel rejects it
            cost[i][j] = cnt * mx
    k_max = max(1, min(max_ranges, n))
    best = [[inf] * (n + 1) for _ in range(k_max + 1)]
    back = [[-1] * (n + 1) for _ in range(k_max + 1)]
    best[0][0] = 0
    for k in range(1, k_max + 1):
        for j in range(1, n + 1):
            for i in range(k - 1, j):
                c = best[k - 1][i] + cost[i][j - 1]
                if c < best[k][j]:
                    best[k][j], back[k][j] = c, i
    k_best = min(range(1, k_max + 1), key=lambda k: (best[k][n], k))
    if best[k_best][n] == inf:
        return None
    runs = []
    j, k = n, k_best
    while k > 0:
        i = back[k][j]
        runs.append((i, j - 1))
        j, k = i, k - 1
    return runs[::-1]


_MAX_POINTS = 240  # distinct RAM sizes planned exactly; beyond, neighbours are merged (O(points²) planner)


Ranges = tuple[tuple[int, int | None, int], ...]  # (start, end or None, size)


def range_line(pairs: Sequence[tuple[int, int]], max_ranges: int) -> tuple[str, Ranges] | None:
    """The crashkernel= value for (effective RAM, need) pairs: ``SIZE`` when one size serves all,
    else ``start-end:size,…,start-:size``."""
    from crashplan.units import format_kernel_size as k

    by: dict[int, list[int]] = {}
    for ram, need in pairs:
        by.setdefault(ram, []).append(need)
    pts = sorted((r, len(v), max(v)) for r, v in by.items())
    if len(pts) > 4 * _MAX_POINTS:  # first into 4 × _MAX_POINTS runs of neighbours (linear)
        step = -(-len(pts) // (4 * _MAX_POINTS))
        pts = [(run[0][0], sum(p[1] for p in run), max(p[2] for p in run))
               for run in (pts[i:i + step] for i in range(0, len(pts), step))]
    while len(pts) > _MAX_POINTS:  # merge the pair of neighbours whose merge costs least
        best_i, best_c = 0, None
        for i in range(len(pts) - 1):
            a, b = pts[i], pts[i + 1]
            c = (a[1] + b[1]) * max(a[2], b[2]) - a[1] * a[2] - b[1] * b[2]
            if best_c is None or c < best_c:
                best_i, best_c = i, c
        a, b = pts[best_i], pts[best_i + 1]
        pts[best_i:best_i + 2] = [(a[0], a[1] + b[1], max(a[2], b[2]))]
    runs = segment(pts, max_ranges)
    if not runs:
        return None
    if len(runs) == 1:
        size = max(p[2] for p in pts)
        start = _start(pts[0][0])
        return f"{k(start)}-:{k(size)}", ((start, None, size),)
    ranges: list[tuple[int, int | None, int]] = []
    lo = _start(pts[runs[0][0]][0])
    for idx, (i, j) in enumerate(runs):
        size = max(p[2] for p in pts[i:j + 1])
        hi = _boundary(pts[j][0], pts[runs[idx + 1][0]][0]) if idx + 1 < len(runs) else None
        ranges.append((lo, hi, size))
        if hi is not None:
            lo = hi  # the next range starts where this one ends
    text = ",".join(f"{k(lo)}-{k(hi) if hi is not None else ''}:{k(s)}" for lo, hi, s in ranges)
    return text, tuple(ranges)


def _fails(vs: Sequence[Verdict]) -> int:
    return sum(1 for v in vs if not v.ok)


def plan(entries: Sequence[Entry], *, max_ranges: int = 6, exclude: Sequence[str] = (), cma: bool = True,
         errors: Sequence[FleetError] = (), cache: Cache | None = None,
         progress: Callable[[int], None] | None = None, strict: bool = False) -> FleetReport:
    """``crashplan fleet plan``: the line that serves every machine and loses the least memory.

    1. Each machine's needs come from suggest's model (classic and CMA plans, :func:`machine_need`).
    2. Machines that cannot kdump, or whose kdump cannot be sized or served (need not below RAM), are
       left out of the sizing and named.
    3. The others' (effective RAM, need) points are split into at most ``max_ranges`` ranges that
       minimise the memory reserved over the fleet (exact dynamic programme over the distinct RAM sizes).
    4. The line is replayed on every machine (:func:`judge`), and so are one size with ``,high`` and
       that size with ``crashkernel=72M,low`` (where every kernel reads them: range syntax takes no
       suffix); the line that fails on the fewest machines, then loses the least (the low region the
       kernel adds included), wins.  72M is suggest's low region (64M SWIOTLB + 8M; SUSE's MinLow).
    5. The CMA variant: the classic part planned the same way over the CMA plans' classic parts, plus
       one ``crashkernel=X,cma`` (``,cma`` takes no ranges: its value is parsed with RAM 0) of the
       largest CMA part; offered only when every served machine's kernel reserves ``,cma`` and suggest
       offers a CMA plan for it.

    ``strict``: machines that cannot be judged (NOT_JUDGED) count as failures in the report.
    """
    from crashplan.units import format_kernel_size as k

    cache = cache if cache is not None else Cache()
    notes: list[str] = []
    active = [e for e in entries if not is_excluded(e, exclude)]
    needs: dict[int, Need] = {}
    for e in active:
        if kdump_refusal(e.machine) is None:
            n = machine_need(e.machine, cma=cma, cache=cache)
            if isinstance(n, Need):
                needs[id(e)] = n
        if progress is not None:
            progress(1)
    served = [e for e in active if id(e) in needs and needs[id(e)].classic_refused is None
              and needs[id(e)].classic is not None]

    def replay(line: str) -> tuple[Verdict, ...]:
        return tuple(judge(line, e, cache=cache, excluded=is_excluded(e, exclude)) for e in entries)

    classic_v: Variant
    candidates: list[tuple[str, tuple[tuple[int, int | None, int], ...]]] = []
    pairs = [(effective_ram(needs[id(e)].ram, needs[id(e)].rules), needs[id(e)].classic or 0) for e in served]
    rl = range_line(pairs, max_ranges) if pairs else None
    if rl is not None:
        text, ranges = rl
        if len(ranges) == 1:
            candidates.append((f"crashkernel={k(ranges[0][2])}", ranges))
        else:
            candidates.append((f"crashkernel={text}", ranges))
    elif pairs:
        notes.append("no range table serves every machine within --max-ranges: try a larger --max-ranges")
    if served:
        from crashplan.kernel import high_low_supported

        top = max(needs[id(e)].classic or 0 for e in served)
        if all(high_low_supported(needs[id(e)].arch, needs[id(e)].rules) for e in served):
            candidates.append((f"crashkernel={k(top)},high", ((0, None, top),)))
            candidates.append((f"crashkernel={k(top)},high crashkernel=72M,low", ((0, None, top),)))
    tried = []
    for i, (line, ranges) in enumerate(candidates):
        vs = replay(line)
        tried.append((_fails(vs), sum(v.lost for v in vs if v.status != "excluded"), i, line, ranges, vs))
    if tried:
        _, _, i, line, ranges, vs = min(tried, key=lambda t: (t[0], t[1], t[2]))
        if i > 0 and tried[0][0] > min(t[0] for t in tried):
            notes.append(f"{candidates[0][0]} cannot be placed on every machine; {line} can be on more")
        elif i > 0:
            notes.append(f"{line} loses less than {candidates[0][0]}: the region lands above 4 GiB anyway "
                         "and 72M (64M SWIOTLB + 8M) is enough for the low region the kernel adds")
        classic_v = Variant(name="classic", cmdline=line, ranges=ranges, verdicts=vs)
    else:
        classic_v = Variant(name="classic", cmdline=None, refused="no machine can be served",
                            verdicts=tuple(_no_line(e, needs.get(id(e)), is_excluded(e, exclude), cache)
                                           for e in entries))
    cma_v = _plan_cma(entries, served, needs, exclude, max_ranges, cache) if cma else None
    return FleetReport(command="plan", cmdline=classic_v.cmdline, verdicts=classic_v.verdicts, errors=tuple(errors),
                       classic=classic_v, cma=cma_v, notes=tuple(notes), strict=strict)


def _no_line(e: Entry, need: Need | None, excluded: bool, cache: Cache) -> Verdict:
    if excluded:
        return judge("", e, excluded=True)
    m = e.machine
    why = kdump_refusal(m)
    status = "no-kdump"
    if why is None:
        n = machine_need(m, cache=cache) if need is None else need
        status = "unsized" if isinstance(n, str) else "reserves-nothing"
        why = n if isinstance(n, str) else f"no crashkernel= can serve it: {n.classic_refused or 'no line planned'}"
    ram = m.ram_size()
    return Verdict(name=e.name, file=e.file, arch=m.arch, kernel=m.kernel, ram=ram, reserves=False, size=0, low=0,
                   cma=0, needed=need.classic if need else None, cma_needed=None, lost=0, ok=False, status=status,
                   reason=why, default=default_for(m.arch, ram))


def _plan_cma(entries: Sequence[Entry], served: Sequence[Entry], needs: dict[int, Need], exclude: Sequence[str],
              max_ranges: int, cache: Cache) -> Variant:
    from crashplan.kernel import cma_supported
    from crashplan.units import format_kernel_size as k

    if not served:
        return Variant(name="cma", cmdline=None, refused="no machine can be served")
    refusals = []
    for e in served:
        n = needs[id(e)]
        if not cma_supported(n.arch, n.rules):
            refusals.append(f"{e.name}: {n.arch} {e.machine.kernel or n.rules} does not reserve ,cma")
        elif n.cma_refused or n.cma is None:
            refusals.append(f"{e.name}: {n.cma_refused or 'no CMA plan'}")
    if refusals:
        more = f" (and {len(refusals) - 3} more)" if len(refusals) > 3 else ""
        return Variant(name="cma", cmdline=None,
                       refused="not every machine can use ,cma: " + "; ".join(refusals[:3]) + more)
    pairs = [(effective_ram(needs[id(e)].ram, needs[id(e)].rules), needs[id(e)].cma_classic or 0) for e in served]
    rl = range_line(pairs, max_ranges)
    if rl is None:
        return Variant(name="cma", cmdline=None, refused="no range table serves the classic parts")
    text, ranges = rl
    cma_size = max(needs[id(e)].cma or 0 for e in served)
    base = f"crashkernel={k(ranges[0][2])}" if len(ranges) == 1 else f"crashkernel={text}"
    line = f"{base} crashkernel={k(cma_size)},cma"
    vs = tuple(judge(line, e, cache=cache, excluded=is_excluded(e, exclude)) for e in entries)
    return Variant(name="cma", cmdline=line, ranges=ranges, verdicts=vs)
