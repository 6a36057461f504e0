"""crashplan's benchmarks, side by side in one run: ``python3 benchmarks/run.py``.

Cold start
    Whole-process wall time of ``crashplan check … --format json``, of its text output and of
    ``crashplan lint --format json FILE``, against ``python3 -c pass`` and ``python3 -c "import click"``
    run by the same interpreter.  Every round runs every case once, in a shuffled order; the table
    shows medians over the rounds and their ratios.  crashplan is installed NON-editable into a
    throwaway venv that sees this interpreter's site-packages; pip adds there whatever of click, rich
    and PyYAML this interpreter lacks (a fresh machine's ``python3`` has none of them), so the script
    runs as written from a fresh clone.  An editable install would add a meta-path finder that costs
    every start.  ``--in-place`` runs the checkout from this interpreter instead (PYTHONPATH), and
    says so.  The ``check`` cases run twice: with ``--no-map`` (parsing only) and on this machine's
    own memory map (``/proc/iomem`` as root; without root the kernel hides the addresses and the
    case plans on ``examples/x86_64-server-16g.yaml`` instead, and says so).

    The in-process half needs crashplan's dependencies in the interpreter that runs it; when this
    interpreter lacks them, it runs in the throwaway venv's interpreter instead.

In-process
    * every shared parse vector (tests/data/oracle/parse-vectors.jsonl.gz) through
      ``crashplan.kernel.evaluate``: evaluations per second;
    * ``parse_iomem`` + ``reserve`` on a synthetic /proc/iomem of a very large machine, 100,000 lines
      and 10× that (the ratio shows whether the cost grows linearly);
    * ``crashplan lint --format json`` (in-process ``main``) over a tree of 10,000 boot-loader files.

Every in-process figure is the median of ``--repeat`` runs (the 100,000-line iomem case at most 3,
the 1,000,000-line one once).  Goals are printed next to the figures; a
missed goal is reported, never asserted (timing has no place in the test suite).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
CHECK_ARGS = ["check", "crashkernel=256M crashkernel=1G,cma", "--kernel", "7.2", "--arch", "x86_64", "--ram", "16G",
              "--no-map"]
LINT_FILE = DATA / "lint" / "fedora-default" / "etc" / "default" / "grub"
FALLBACK = ROOT / "examples" / "x86_64-server-16g.yaml"

GOALS = {  # name -> (comparison, value)
    "check --format json": ("<=", 1.3),
    "check (text)": ("<=", 2.0),
    "check --format json, own map": ("<=", 1.3),
    "check (text), own map": ("<=", 2.0),
    "lint --format json (1 file)": ("<=", 1.3),
    "evaluations/s": (">=", 30_000),
    "iomem 100k lines: parse + replay (s)": ("<=", 1.0),
    "iomem 1M / 100k time ratio": ("<=", 12.0),
    "lint 10,000 files (s)": ("<=", 3.0),
}


# ---------------------------------------------------------------------------------------------
# the machine
# ---------------------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": cpu, "cores": os.cpu_count(), "usable_cores": usable, "python": platform.python_version(),
            "implementation": platform.python_implementation(), "system": f"{platform.system()} {platform.release()}",
            "machine": platform.machine(), "load": os.getloadavg() if hasattr(os, "getloadavg") else None}


def git_commit() -> str:
    """The checkout's commit, with ``+dirty`` when the working tree differs from it (what was measured)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True, cwd=ROOT, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


VERSIONS_PROBE = '''
import json
from importlib import metadata
out = {}
for mod, dist in (("click", "click"), ("rich", "rich"), ("yaml", "PyYAML")):
    try:
        out[mod] = metadata.version(dist)
    except metadata.PackageNotFoundError:
        out[mod] = "missing"
try:
    import yaml
    out["libyaml"] = "yes" if yaml.__with_libyaml__ else "no"
except ImportError:
    pass
print(json.dumps(out))
'''


def versions(python: str = sys.executable) -> dict[str, str]:
    """click, rich and PyYAML as ``python`` (the interpreter that runs crashplan) sees them."""
    try:
        r = subprocess.run([python, "-c", VERSIONS_PROBE], capture_output=True, text=True, check=True)
        return dict(json.loads(r.stdout))
    except (OSError, subprocess.CalledProcessError, ValueError):
        return {}


def has_dependencies(python: str = sys.executable) -> bool:
    """Whether ``python`` can import what crashplan needs (click, rich, PyYAML)."""
    r = subprocess.run([python, "-c", "import click, rich, yaml"], capture_output=True, check=False)
    return r.returncode == 0


# ---------------------------------------------------------------------------------------------
# cold start
# ---------------------------------------------------------------------------------------------


class Install:
    """Where the cold-start commands come from: a throwaway venv, or this interpreter in place."""

    def __init__(self, in_place: bool) -> None:
        self.tmp = tempfile.mkdtemp(prefix="crashplan-bench-")
        self.note = ""
        self.env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")}
        if not in_place:
            try:
                self.python, self.crashplan = self._venv()
                self.note = ("crashplan installed non-editable in a throwaway venv that sees this interpreter's "
                             "site-packages (pip added the dependencies it lacked)")
                return
            except (subprocess.CalledProcessError, OSError) as e:
                self.note = f"venv install failed ({e}); "
        self.python = sys.executable
        self.crashplan = [sys.executable, "-m", "crashplan"]
        self.env["PYTHONPATH"] = str(ROOT)
        self.note += "run in place from the checkout (PYTHONPATH, python -m crashplan), no install"

    def _venv(self) -> tuple[str, list[str]]:
        venv = Path(self.tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
                       check=True, capture_output=True)
        py = str(venv / "bin" / "python")
        src = Path(self.tmp) / "src"  # a clean copy: no build/ or egg-info left in the checkout
        shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__",
                                                                 ".hypothesis", ".pytest_cache", "fuzz", "results"))
        # without --no-deps: pip keeps what the system site-packages already satisfy and installs the rest
        subprocess.run([sys.executable, "-m", "pip", "--python", py, "install", "-q", str(src)],
                       check=True, capture_output=True, cwd=self.tmp)
        exe = venv / "bin" / "crashplan"
        if not exe.exists():
            raise OSError("no crashplan script in the venv")
        probe = "import crashplan, sys; assert 'site-packages' in crashplan.__file__, crashplan.__file__"
        subprocess.run([py, "-c", probe], check=True, capture_output=True, cwd=self.tmp)
        return py, [str(exe)]

    def cleanup(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


def own_map_args() -> tuple[list[str], str]:
    """``check`` as a user runs it on this machine: its own memory map, kernel and architecture.

    Without root /proc/iomem shows no addresses; the case then plans on the bundled example, as the
    README's main command does, and the report says so."""
    args = ["check", "crashkernel=256M", "--fallback-machine", str(FALLBACK)]
    try:
        with open("/proc/iomem", encoding="utf-8", errors="replace") as f:
            own = any(line.split("-", 1)[0].strip("0 ") for line in f)
    except OSError:
        own = False
    return args, ("this machine's /proc/iomem" if own else f"{FALLBACK.name} (/proc/iomem shows no addresses)")


def cold_cases(inst: Install) -> dict[str, list[str]]:
    own, _ = own_map_args()
    return {
        "python3 -c pass": [inst.python, "-c", "pass"],
        'python3 -c "import click"': [inst.python, "-c", "import click"],
        "check --format json": inst.crashplan + CHECK_ARGS + ["--format", "json"],
        "check (text)": inst.crashplan + CHECK_ARGS,
        "check --format json, own map": inst.crashplan + own + ["--format", "json"],
        "check (text), own map": inst.crashplan + own,
        "lint --format json (1 file)": [*inst.crashplan, "lint", "--format", "json", str(LINT_FILE)],
    }


def run_once(argv: list[str], env: dict[str, str], cwd: str) -> float:
    t0 = time.perf_counter()
    r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd, check=False)
    dt = time.perf_counter() - t0
    if r.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(argv)} exited {r.returncode}: {r.stderr.decode(errors='replace')[:300]}")
    return dt


def cold_start(inst: Install, rounds: int) -> dict[str, dict[str, float]]:
    cases = cold_cases(inst)
    for argv in cases.values():  # warm the page cache and write .pyc files
        run_once(argv, inst.env, inst.tmp)
        run_once(argv, inst.env, inst.tmp)
    samples: dict[str, list[float]] = {k: [] for k in cases}
    order = list(cases)
    for _ in range(rounds):
        random.shuffle(order)
        for k in order:
            samples[k].append(run_once(cases[k], inst.env, inst.tmp))
    out = {}
    base = statistics.median(samples["python3 -c pass"])
    floor = statistics.median(samples['python3 -c "import click"'])
    for k, v in samples.items():
        med = statistics.median(v)
        out[k] = {"median_ms": med * 1000, "min_ms": min(v) * 1000, "x_pass": med / base, "x_click": med / floor,
                  "min_x_click": min(v) / min(samples['python3 -c "import click"'])}
    return out


# ---------------------------------------------------------------------------------------------
# in-process
# ---------------------------------------------------------------------------------------------


def median_time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def bench_vectors(repeat: int) -> dict[str, float]:
    from crashplan.kernel import evaluate

    with gzip.open(DATA / "oracle" / "parse-vectors.jsonl.gz", "rt", encoding="utf-8") as f:
        vectors = [json.loads(line) for line in f]
    calls = [(r["cmdline"], r["system_ram"], r["kernel"], r["arch"], r["variant"]) for r in vectors]

    def run() -> int:
        for cmdline, ram, kernel, arch, variant in calls:
            evaluate(cmdline, system_ram=ram, kernel=kernel, arch=arch, variant=variant)
        return len(calls)

    run()  # warm-up
    t, n = median_time(run, repeat)
    return {"vectors": n, "seconds": t, "evaluations/s": n / t}


def synthetic_iomem(lines: int) -> str:
    """/proc/iomem of a very large x86 machine: per 50 lines, one 2 GiB RAM bank whose first 256 MiB hold
    20 nested early allocations (memblock.reserved), a firmware range and a PCI window with 27 devices."""
    out: list[str] = []
    addr = 0x100000
    bank = 2 << 30
    n = 0
    while len(out) < lines:
        out.append(f"{addr:08x}-{addr + bank - 1:08x} : System RAM")
        if n == 0:
            out += [f"  {0x1000000:08x}-{0x1ffffff:08x} : Kernel code",
                    f"  {0x2000000:08x}-{0x27fffff:08x} : Kernel data"]
        for k in range(20):
            a = addr + 0x400000 + k * 0xC00000
            out.append(f"  {a:08x}-{a + 0x3fffff:08x} : reserved")
        addr += bank
        out.append(f"{addr:08x}-{addr + 0xfffff:08x} : Reserved")
        addr += 0x100000
        out.append(f"{addr:08x}-{addr + 0x3ffffff:08x} : PCI Bus 0000:{n % 256:02x}")
        for d in range(9):
            a = addr + d * 0x400000
            out.append(f"  {a:08x}-{a + 0x3fffff:08x} : PCI Bus 0000:{(n + d) % 256:02x}")
            out.append(f"    {a:08x}-{a + 0xfffff:08x} : 0000:{n % 256:02x}:{d:02x}.0")
            out.append(f"      {a:08x}-{a + 0xfff:08x} : nvme")
        addr += 0x4000000
        n += 1
    return "\n".join(out[:lines]) + "\n"


def bench_iomem(lines: int, repeat: int) -> dict[str, Any]:
    from crashplan.kernel import evaluate
    from crashplan.memmap.iomem import parse_iomem
    from crashplan.memmap.model import Machine
    from crashplan.simulate import reserve

    text = synthetic_iomem(lines)
    cmdline = "crashkernel=1G-64G:256M,64G-:1G crashkernel=2G,cma"

    def run() -> Any:
        mm = parse_iomem(text, arch="x86_64")
        m = Machine(memmap=mm, arch="x86_64", kernel="7.2", kaslr=False)
        o = evaluate(cmdline, system_ram=m.ram_size(), kernel="7.2", arch="x86_64")
        return mm, reserve(o, m, cmdline=cmdline)

    t0 = time.perf_counter()
    from crashplan.memmap.iomem import parse_iomem as _p

    _p(text, arch="x86_64")
    parse_only = time.perf_counter() - t0
    t, (mm, res) = median_time(run, repeat)
    # what check adds on x86: the placement band (crashplan.placement), replays where the initrd may be
    from crashplan.placement import placement

    m = Machine(memmap=mm, arch="x86_64", kernel="7.2", kaslr=False)
    o = evaluate(cmdline, system_ram=m.ram_size(), kernel="7.2", arch="x86_64")
    t0 = time.perf_counter()
    placement(o, m, res, cmdline=cmdline)
    band = time.perf_counter() - t0
    return {"lines": lines, "bytes": len(text), "ram_banks": len(mm.ram), "reserved": len(mm.reserved),
            "seconds": t, "parse_seconds": parse_only, "placement_seconds": band,
            "regions": [(r.kind, r.start, r.size) for r in res.regions]}


def bench_iomem_capped(lines: int, repeat: int, cap: float) -> dict[str, Any]:
    """``bench_iomem`` in a fresh interpreter, given up after ``cap`` seconds (a superlinear cost would
    otherwise hold the whole run hostage)."""
    try:
        r = subprocess.run([sys.executable, __file__, "--child-iomem", str(lines), str(repeat)], capture_output=True,
                           text=True, timeout=cap, check=True, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"lines": lines, "timeout": cap}
    out: dict[str, Any] = json.loads(r.stdout)
    return out


def lint_tree(root: Path, files: int) -> int:
    """A fleet's boot configuration: per machine an /etc/default/grub, a grub.cfg, a grubenv and a BLS
    entry, with crashkernel= values drawn from what distributions and people write."""
    rng = random.Random(2026)
    values = ["256M", "512M", "1G-4G:192M,4G-64G:256M,64G-:512M", "auto", "128M", "0100M", "256MB",
              "1G-2G:128M,2G-:256M", "512M,high", "256M crashkernel=1G,cma", "2G-:256M@16M", "1G,cma", "384M",
              "1G-:512M", "160M", "2G-64G:256M,64G-:512M", "768M", "256M,low"]
    n = 0
    m = 0
    while n < files:
        host = root / f"host{m:05d}"
        m += 1
        ck = "crashkernel=" + rng.choice(values)
        extra = rng.choice(["quiet", "rhgb quiet", "console=ttyS0,115200", "nokaslr", ""])
        files_of = {
            "etc/default/grub": f'GRUB_TIMEOUT=5\nGRUB_DEFAULT=saved\nGRUB_CMDLINE_LINUX="rd.lvm.lv=rhel/root {ck} '
                                f'{extra}"\nGRUB_DISABLE_RECOVERY="true"\n',
            "boot/grub2/grubenv": ("# GRUB Environment Block\nsaved_entry=abc\nkernelopts=root=/dev/mapper/rhel-root "
                                   f"ro {ck} {extra}\n").ljust(1024, "#"),
            "boot/loader/entries/abc-6.12.0-55.el10.x86_64.conf": (
                "title Red Hat Enterprise Linux (6.12.0-55.el10.x86_64) 10.0\nversion 6.12.0-55.el10.x86_64\n"
                "linux /vmlinuz-6.12.0-55.el10.x86_64\ninitrd /initramfs-6.12.0-55.el10.x86_64.img\n"
                "options $kernelopts\ngrub_users $grub_users\ngrub_arg --unrestricted\ngrub_class rhel\n"),
            "boot/grub2/grub.cfg": ("set default=\"${saved_entry}\"\nload_env -f ${config_directory}/grubenv\n"
                                    "insmod blscfg\nblscfg\n"),
        }
        for rel, text in files_of.items():
            if n >= files:
                break
            p = host / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text, encoding="utf-8")
            n += 1
    return n


def bench_lint(files: int, repeat: int) -> dict[str, Any]:
    from crashplan.cli import main

    tmp = Path(tempfile.mkdtemp(prefix="crashplan-bench-lint-"))
    try:
        n = lint_tree(tmp / "fleet", files)

        def run() -> int:
            out = io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
                rc = main(["lint", "--format", "json", str(tmp / "fleet")])
            if rc not in (0, 1):
                raise RuntimeError(f"lint exited {rc}")
            return len(json.loads(out.getvalue())["findings"])

        t, findings = median_time(run, repeat)
        return {"files": n, "seconds": t, "findings": findings, "files/s": n / t}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------------


def in_process_in(inst: Install, args: argparse.Namespace) -> dict[str, Any]:
    """The in-process half, run by the venv's interpreter (this one lacks crashplan's dependencies)."""
    out = Path(inst.tmp) / "inprocess.json"
    subprocess.run([inst.python, __file__, "--only", "inprocess", "--repeat", str(args.repeat), "--iomem-cap",
                    str(args.iomem_cap), "--json", str(out)], check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    child = json.loads(out.read_text(encoding="utf-8"))
    return {k: child[k] for k in ("vectors", "iomem_100k", "iomem_1m", "lint_10k")}


def verdict(name: str, value: float) -> str:
    op, goal = GOALS[name]
    ok = value <= goal if op == "<=" else value >= goal
    return f"{op} {goal:,g}  {'met' if ok else 'MISSED'}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=31, help="cold-start rounds (default 31)")
    ap.add_argument("--repeat", type=int, default=5, help="repetitions of each in-process benchmark (default 5)")
    ap.add_argument("--in-place", action="store_true", help="cold start from the checkout instead of a venv")
    ap.add_argument("--only", choices=["coldstart", "inprocess"], help="run one half")
    ap.add_argument("--iomem-cap", type=float, default=600.0,
                    help="give up an iomem case after this many seconds (default 600)")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--child-iomem", nargs=2, type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    if args.child_iomem:
        print(json.dumps(bench_iomem(*args.child_iomem)))
        return 0
    info = machine_info()
    results: dict[str, Any] = {"machine": info, "date": time.strftime("%Y-%m-%d %H:%M"), "commit": git_commit()}
    in_process_here = has_dependencies()
    inst: Install | None = None
    if args.only != "inprocess" or not in_process_here:
        # --in-place needs the dependencies here; without them it falls back to the venv like the default
        inst = Install(args.in_place and in_process_here)
    try:
        results["versions"] = versions(inst.python if inst else sys.executable)
        if args.only != "inprocess":
            assert inst is not None
            results["install"] = inst.note
            _, results["own_map"] = own_map_args()
            results["cold_start"] = cold_start(inst, args.rounds)
        if args.only != "coldstart":
            if in_process_here:
                results["vectors"] = bench_vectors(args.repeat)
                results["iomem_100k"] = bench_iomem_capped(100_000, min(args.repeat, 3), args.iomem_cap)
                results["iomem_1m"] = bench_iomem_capped(1_000_000, 1, args.iomem_cap)
                results["lint_10k"] = bench_lint(10_000, args.repeat)
            else:
                assert inst is not None
                results.update(in_process_in(inst, args))
    finally:
        if inst is not None:
            inst.cleanup()
    results["machine"]["load_after"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    report(results, args)
    return 0


def report(results: dict[str, Any], args: argparse.Namespace) -> None:
    """Print the results, then the summary table docs/benchmarks.md takes; write --json."""
    info = results["machine"]
    v = results["versions"]
    print(f"machine: {info['cpu']}, {info['cores']} cores ({info['usable_cores']} usable), {info['machine']}, "
          f"{info['system']}; {info['implementation']} {info['python']}; click {v.get('click')}, rich {v.get('rich')}, "
          f"PyYAML {v.get('yaml')} (libyaml {v.get('libyaml', '?')}); crashplan {results['commit']}, "
          f"{results['date']}")
    la, lb = info["load"], results["machine"]["load_after"]
    if la and lb:
        print(f"load average: {la[0]:.2f} before, {lb[0]:.2f} after (other work on the machine inflates absolutes; "
              "ratios measured side by side hold better)")
    rows: list[tuple[str, str, str]] = []
    if "cold_start" in results:
        print(f"cold start: {results['install']}; {args.rounds} rounds, cases shuffled each round, medians; "
              f"'own map' cases read {results['own_map']}")
        cs = results["cold_start"]
        print(f"  {'case':32} {'median ms':>10} {'min ms':>8} {'x pass':>7} {'x click':>8} {'(min)':>6}  "
              "goal (x click)")
        for k, r in cs.items():
            goal = verdict(k, r["x_click"]) if k in GOALS else ""
            print(f"  {k:32} {r['median_ms']:10.1f} {r['min_ms']:8.1f} {r['x_pass']:7.2f} {r['x_click']:8.2f} "
                  f"{r['min_x_click']:6.2f}  {goal}")
            if k in GOALS:
                floor_ms = cs['python3 -c "import click"']["median_ms"]
                rows.append((f"cold start `{k}` vs `import click`",
                             (f"{r['x_click']:.2f}× ({r['median_ms']:.0f} ms vs {floor_ms:.0f} ms; fastest rounds "
                              f"{r['min_x_click']:.2f}×)"),
                             verdict(k, r["x_click"])))
    if "vectors" in results:
        r = results["vectors"]
        print(f"in-process (median of {args.repeat}):")
        print(f"  parse vectors: {r['vectors']:,} evaluations in {r['seconds']:.3f}s = {r['evaluations/s']:,.0f}/s"
              f"  {verdict('evaluations/s', r['evaluations/s'])}")
        rows.append(("all parse vectors through `evaluate`", f"{r['evaluations/s']:,.0f} evaluations/s",
                     verdict("evaluations/s", r["evaluations/s"])))
        a, b = results["iomem_100k"], results["iomem_1m"]
        for x in (a, b):
            if "timeout" in x:
                x["seconds"] = float("inf")
                print(f"  iomem {x['lines']:,} lines: parse + replay did not finish in {x['timeout']:g}s")
                continue
            print(f"  iomem {x['lines']:,} lines ({x['bytes'] >> 20} MiB, {x['ram_banks']:,} RAM banks, "
                  f"{x['reserved']:,} reserved): parse + replay {x['seconds']:.3f}s "
                  f"(parse alone {x['parse_seconds']:.3f}s);"
                  f" regions {[(k, hex(s), sz >> 20) for k, s, sz in x['regions']]}")
        if "timeout" in b and "timeout" not in a:
            ratio = b["timeout"] / a["seconds"]
            ratio_text = f"> {ratio:.0f}× (> {b['timeout']:g} s)"
        else:
            ratio = b["seconds"] / a["seconds"]
            ratio_text = f"{ratio:.1f}× ({b['seconds']:.2f} s)"
        a_text = f"{a['seconds']:.2f} s" if "timeout" not in a else f"> {a['timeout']:g} s"
        print(f"    100k lines {verdict('iomem 100k lines: parse + replay (s)', a['seconds'])}; 1M/100k = {ratio_text} "
              f"{verdict('iomem 1M / 100k time ratio', ratio)}")
        rows.append(("`/proc/iomem` of 100,000 lines: parse + replay",
                     a_text + (f" (parse {a['parse_seconds']:.2f} s)" if "parse_seconds" in a else ""),
                     verdict("iomem 100k lines: parse + replay (s)", a["seconds"])))
        if "placement_seconds" in a:
            print(f"    100k lines: the x86 placement band (check) adds {a['placement_seconds']:.2f}s")
            rows.append(("`/proc/iomem` of 100,000 lines: the placement band `check` adds",
                         f"{a['placement_seconds']:.2f} s", "none set (measured)"))
        rows.append(("10× the lines (1,000,000): time ratio", ratio_text,
                     verdict("iomem 1M / 100k time ratio", ratio)))
        r = results["lint_10k"]
        print(f"  lint --format json of {r['files']:,} files: {r['seconds']:.3f}s ({r['files/s']:,.0f} files/s, "
              f"{r['findings']:,} findings)  {verdict('lint 10,000 files (s)', r['seconds'])}")
        rows.append((f"`lint --format json` of {r['files']:,} files", f"{r['seconds']:.2f} s",
                     verdict("lint 10,000 files (s)", r["seconds"])))
    print("\n| measure | result | goal |\n|---|---|---|")
    for a_, b_, c_ in rows:
        print(f"| {a_} | {b_} | {c_.replace('MISSED', '**missed**')} |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
