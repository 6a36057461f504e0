"""``crashplan fleet check`` over a large generated fleet: ``nice .venv/bin/python benchmarks/fleet.py``.

Generates ``--files`` machine files (default 100,000) from the bundled examples, varied in RAM size
(the last RAM range of the example grown or shrunk), holes (a firmware-reserved block punched in low
memory at one of several places) and kernel release (several per architecture, across the parser's
rule changes), each with its own host name; then runs ``crashplan fleet check LINE DIR --format json
-o FILE`` once as a user would (one command, a subprocess of this interpreter) and reports the wall
time and the peak resident memory of the largest process (``resource.getrusage(RUSAGE_CHILDREN)``:
the command and each worker process it starts are children).

Standard library and crashplan only: run it with an interpreter crashplan is installed in (the venv the
README's test command makes); another one is told so in one line.  Goal: 100,000 files in at most 60 s on a 2-core machine.
``--distinct N`` bounds how many different machines the fleet holds (default: every combination of
base × RAM × hole × release, several thousand); ``--all-distinct`` makes every file a different machine
(the worst case for the content cache).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
GiB = 1 << 30
MiB = 1 << 20

RAM_SIZES = (2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024)  # GiB
HOLES = (None, (0x10000000, 64 * MiB), (0x30000000, 32 * MiB), (0x5000000, 16 * MiB))  # (offset in RAM, size)
RELEASES = {
    "x86_64": ("5.15.0-105-generic", "6.1.0-25-amd64", "6.8.0-45-generic", "6.12.0-55.el10.x86_64", "6.18.2",
               "7.2.0"),
    "arm64": ("5.15.148-tegra", "6.1.0-25-arm64", "6.12.25+rpt-rpi-v8", "7.3.4+deb13-arm64"),
    "ppc64le": ("5.14.0-427.el9.ppc64le", "6.12.0-55.el10.ppc64le"),
    "s390x": ("5.14.0-427.el9.s390x", "6.12.0-55.el10.s390x"),
}
LINE = "crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M"  # RHEL 9's default: what many fleets run today


def _variant(base, ram_gib: int, hole, release: str, salt: int = 0):  # type: ignore[no-untyped-def]
    """``base`` with about ``ram_gib`` GiB of RAM, a hole and a release; None if it cannot be made."""
    from crashplan.memmap.model import Span

    mm = base.memmap
    if not mm.ram or not mm.layout_known:
        return base.replace(kernel=release, system_ram=ram_gib * GiB - salt * 4096)
    ram = list(mm.ram)
    total = mm.system_ram()
    want = ram_gib * GiB - salt * 4096
    reserved = list(mm.reserved)
    nomap = list(mm.nomap)
    if want >= total:  # a new RAM range above everything the map holds, 1 GiB aligned
        top = max(s.end for s in ram + nomap)
        start = -(-top // GiB) * GiB
        if want > total:
            ram.append(Span(start, start + want - total, "System RAM"))
    else:  # shrink the last RAM range; nothing may lie above its new end
        last = ram[-1]
        new_size = last.size - (total - want)
        if new_size < 64 * MiB:
            return None
        end = last.start + new_size
        if any(s.end > end for s in reserved + nomap + list(mm.crash)):
            return None
        ram[-1] = Span(last.start, end, last.name)
    if hole is not None:
        off, size = hole
        start = mm.ram[0].start + off
        inside = next((s for s in ram if s.start <= start and start + size <= s.end), None)
        if inside is None or any(s.overlaps(start, start + size) for s in reserved):
            return None
        reserved.append(Span(start, start + size, "reserved by firmware"))
    memmap = mm.replace(ram=tuple(ram), reserved=tuple(sorted(reserved)), nomap=tuple(nomap))
    sysram = None
    if base.system_ram is not None:
        sysram = memmap.system_ram()
    return base.replace(memmap=memmap, kernel=release, system_ram=sysram, kexec_crash_size=None,
                   crash_cma_ranges=())


def generate(directory: Path, files: int, *, all_distinct: bool = False, seed: int = 14) -> dict[str, int]:
    """Write ``files`` machine files under ``directory`` (100 per sub-directory); returns counts."""
    from crashplan.memmap.machine import dump_machine, load_machine

    bases = [load_machine(p.read_text(), source=str(p)) for p in sorted(EXAMPLES.glob("*.yaml"))]
    combos = []
    for b in bases:
        for ram in RAM_SIZES:
            for hole in HOLES:
                for rel in RELEASES.get(b.arch or "", (b.kernel,)):
                    combos.append((b, ram, hole, rel))
    rng = random.Random(seed)
    rng.shuffle(combos)
    texts: dict[int, str] = {}
    made = distinct = 0
    i = 0
    while made < files:
        key = i % len(combos)
        b, ram, hole, rel = combos[key]
        i += 1
        salt = made % 1024 + 1 if all_distinct else 0
        if i > 20 * len(combos) and made == 0:
            raise RuntimeError("no variant could be made")
        if all_distinct or key not in texts:
            m = _variant(b, ram, hole, rel, salt)
            if m is None:
                texts[key] = ""
                continue
            text = dump_machine(m.replace(name="@NAME@", provenance=f"benchmarks/fleet.py from {b.name}"))
            try:
                load_machine(text, source="generated")  # only valid machine files go into the fleet
            except Exception:  # noqa: BLE001 - a variant the format refuses is skipped
                if all_distinct:
                    continue
                texts[key] = ""
            else:
                distinct += 1
            if not all_distinct and key not in texts:
                texts[key] = text
        else:
            text = texts[key]
        if not text:
            continue
        sub = directory / f"rack{made // 100:04d}"
        if made % 100 == 0:
            sub.mkdir(parents=True, exist_ok=True)
        (sub / f"host-{made:06d}.yaml").write_text(text.replace('"@NAME@"', f'"host-{made:06d}"'))
        made += 1
    return {"files": made, "distinct": distinct}


def run(directory: Path, line: str, out: Path, jobs: int | None) -> dict[str, float | int]:
    cmd = [sys.executable, "-m", "crashplan", "fleet", "check", line, str(directory), "--format", "json",
           "-o", str(out), "--no-progress"]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode not in (0, 1):
        raise RuntimeError(f"fleet check exited {r.returncode}: {r.stderr[-2000:]}")
    doc = json.loads(out.read_text())
    return {"wall_s": wall, "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
            "peak_rss_mib": after.ru_maxrss / 1024, "machines": len(doc["machines"]),
            "failed": doc["totals"]["failed"], "errors": len(doc["errors"]), "exit_status": r.returncode,
            "report_mib": out.stat().st_size / MiB}


def main(argv: list[str] | None = None) -> int:
    try:
        import crashplan  # noqa: F401
    except ImportError:
        print(f"benchmarks/fleet.py: crashplan is not installed for {sys.executable}; run it with the "
              "project's venv: .venv/bin/python benchmarks/fleet.py", file=sys.stderr)
        return 2
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--all-distinct", action="store_true", help="every file a different machine")
    ap.add_argument("--line", default=LINE)
    ap.add_argument("--jobs", type=int, default=None, help="passed to fleet check (default: its own)")
    ap.add_argument("--keep", metavar="DIR",
                    help="generate into DIR and keep it, or reuse what an earlier --keep DIR generated "
                         "(default: a temp dir, removed)")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    a = ap.parse_args(argv)
    tmp = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="crashplan-fleet-bench-"))
    try:
        t0 = time.perf_counter()
        if a.keep and (tmp / "fleet" / "counts.json").exists():  # generated by an earlier --keep run
            counts = json.loads((tmp / "fleet" / "counts.json").read_text())
        else:
            counts = generate(tmp / "fleet", a.files, all_distinct=a.all_distinct)
            (tmp / "fleet" / "counts.json").write_text(json.dumps(counts))
        gen = time.perf_counter() - t0
        res = run(tmp / "fleet", a.line, tmp / "report.json", a.jobs)
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    result = {**counts, "generate_s": round(gen, 1), **{k: round(v, 2) if isinstance(v, float) else v
                                                        for k, v in res.items()},
              "cpus": len(os.sched_getaffinity(0)), "python": platform.python_version(), "line": a.line}
    if a.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"crashplan fleet check over {result['files']:,} machine files ({result['distinct']:,} distinct "
              f"machines), {result['cpus']} CPUs, CPython {result['python']}")
        print(f"  wall time        {result['wall_s']:.1f} s   (goal <= 60 s)  "
              f"{'met' if result['wall_s'] <= 60 else 'MISSED'}")
        print(f"  CPU time         {result['cpu_s']:.1f} s")
        print(f"  peak RSS         {result['peak_rss_mib']:.0f} MiB (largest process)")
        print(f"  machines         {result['machines']:,} replayed, {result['failed']:,} fail the line, "
              f"{result['errors']} unreadable; exit status {result['exit_status']}")
        print(f"  report           {result['report_mib']:.0f} MiB of JSON; generating took {result['generate_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
