"""Long fuzzing run over crashplan's input surfaces (dependency-free; not part of the test suite).

    python3 fuzz/run.py --surface all --inputs 1000000 [--jobs 2] [--seconds N]
    python3 fuzz/run.py --replay fuzz/crashes/iomem/<sig>-<index>.json
    python3 fuzz/run.py --list

Every input is made from ``(--seed, surface, index)`` alone (a seed corpus from tests/data and
examples/, byte-level mutations, structure-aware generators, hostile shapes), so any input can be
rebuilt from its index.  Each input runs under a soft limit of CPU time (``--timeout``, SIGPROF, so a
worker starved by other work on a busy machine is not a hang); a worker that does not come back
within six times that (wall clock, plus 30 s) is killed by the parent and the input is rebuilt
from its index and saved as a hang.  An exception other than ``InputError``, or a broken invariant
(fuzz/surfaces.py), is a crash: the input, the traceback and how to replay it are written under
``fuzz/crashes/<surface>/`` (git-ignored), at most three examples per distinct signature.
``InputError``s about the content that name no line are counted apart ("lineless").

See docs/fuzzing.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import os
import platform
import random
import re
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from fuzz.surfaces import SURFACES, Invariant, LinelessInputError, Surface, make_case  # noqa: E402

CRASH_DIR = ROOT / "fuzz" / "crashes"
COUNTERS = ("tried", "ok", "input_error", "crash", "hang", "lineless", "invariant")


class Hang(BaseException):
    """The soft per-input time limit fired (a BaseException, so ``except Exception`` cannot eat it)."""


def case_for(surface: Surface, pool: list[dict[str, Any]], seed: int, index: int, hostile_rate: float
             ) -> tuple[str, dict[str, Any]]:
    rng = random.Random(f"{seed}:{surface.name}:{index}")
    return make_case(surface, rng, pool, hostile_rate=hostile_rate)


def signature(exc: BaseException) -> str:
    """Type of the exception and the innermost frame inside crashplan (or the message of an invariant)."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = ""
    for fr in reversed(frames):
        if "/crashplan/" in fr.filename:
            where = f"{Path(fr.filename).relative_to(ROOT) if fr.filename.startswith(str(ROOT)) else fr.filename}:" \
                    f"{fr.lineno}:{fr.name}"
            break
    if isinstance(exc, (Invariant, LinelessInputError)):
        msg = re.sub(r"0x[0-9a-f]+|\d+", "N", re.sub(r"'[^']*'", "'S'", str(exc)))[:80]
        return f"{type(exc).__name__}: {msg}" + (f" @ {where}" if isinstance(exc, LinelessInputError) else "")
    return f"{type(exc).__name__} @ {where or (frames[-1].filename + ':' + str(frames[-1].lineno) if frames else '?')}"


def _sig_id(sig: str) -> str:
    return hashlib.sha1(sig.encode()).hexdigest()[:10]


def save(out_dir: Path, surface: str, kind: str, sig: str, index: int, seed: int, how: str, case: dict[str, Any],
         error: str, tb: str, *, limit: int = 3) -> Path | None:
    d = out_dir / surface
    d.mkdir(parents=True, exist_ok=True)
    sid = _sig_id(sig)
    prefix = f"{kind}-{sid}-"
    if len(list(d.glob(prefix + "*.json"))) >= limit:
        return None
    path = d / f"{prefix}{index}.json"
    doc = {"surface": surface, "kind": kind, "signature": sig, "index": index, "seed": seed, "how": how,
           "error": error, "traceback": tb, "case": case,
           "replay": f"python3 fuzz/run.py --replay {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}"}
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=True) + "\n", encoding="utf-8")
    for key in ("text", "cmdline"):
        if isinstance(case.get(key), str):
            path.with_suffix(".input").write_bytes(case[key].encode("utf-8", "surrogateescape")
                                                   if not _has_real_surrogates(case[key])
                                                   else case[key].encode("utf-8", "surrogatepass"))
            break
    return path


def _has_real_surrogates(s: str) -> bool:
    return any("\ud800" <= c <= "\udc7f" or "\udd00" <= c <= "\udfff" for c in s)


# ---------------------------------------------------------------------------------------------
# worker
# ---------------------------------------------------------------------------------------------


def _alarm(signum: int, frame: Any) -> None:
    raise Hang()


def _run_timed(surface: Surface, case: dict[str, Any], timeout: float) -> None:
    """Run one input under a CPU-time limit (ITIMER_PROF: a starved worker on a busy machine is not a hang)."""
    signal.setitimer(signal.ITIMER_PROF, timeout)
    try:
        surface.run(case)
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)


def worker(job: int, jobs: int, surface_name: str, inputs: int, deadline: float, seed: int, timeout: float,
           hostile_rate: float, start: int, out_dir: str, current: Any, started: Any, queue: Any,
           mem_limit: int) -> None:
    try:
        os.nice(0)
        if mem_limit:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (mem_limit, mem_limit))
    except (OSError, ValueError):
        pass
    import crashplan.errors

    input_error = crashplan.errors.InputError
    surface = SURFACES[surface_name]
    pool = surface.seeds()
    signal.signal(signal.SIGPROF, _alarm)
    counts = dict.fromkeys(COUNTERS, 0)
    sigs: dict[str, list[Any]] = {}
    last_report = time.monotonic()
    outp = Path(out_dir)
    i = start
    while i < inputs and time.time() < deadline:
        how, case = case_for(surface, pool, seed, i, hostile_rate)
        current[job] = i
        started[job] = time.time()
        counts["tried"] += 1
        finding: tuple[str, str, str, str] | None = None
        try:
            _run_timed(surface, case, timeout)
            counts["ok"] += 1
        except input_error:
            counts["input_error"] += 1
        except Hang:
            counts["hang"] += 1
            finding = ("hang", f"hang > {timeout:g}s CPU ({how})", "", "")
        except LinelessInputError as e:
            counts["input_error"] += 1
            counts["lineless"] += 1
            finding = ("lineless", signature(e), str(e), "".join(traceback.format_exception(e)))
        except BaseException as e:  # noqa: BLE001 - the point: everything else is a finding
            if isinstance(e, KeyboardInterrupt):
                raise
            counts["crash"] += 1
            if isinstance(e, Invariant):
                counts["invariant"] += 1
            finding = ("crash", signature(e), f"{type(e).__name__}: {str(e)[:500]}",
                       "".join(traceback.format_exception(e)))
            e.__traceback__ = None  # let a MemoryError's frames go before the input is saved
        if finding is not None:
            _record(queue, sigs, outp, surface_name, finding[0], finding[1], i, seed, how, case, finding[2],
                    finding[3])
        started[job] = 0.0
        now = time.monotonic()
        if now - last_report > 1.0:
            queue.put(("progress", job, dict(counts)))
            last_report = now
        i += jobs
    queue.put(("done", job, dict(counts)))


def _record(queue: Any, sigs: dict[str, list[Any]], out: Path, surface: str, kind: str, sig: str, index: int,
            seed: int, how: str, case: dict[str, Any], error: str, tb: str) -> None:
    seen = sigs.setdefault(f"{kind}:{sig}", [0])
    seen[0] += 1
    path = None
    if seen[0] <= 3:
        try:
            path = save(out, surface, kind, sig, index, seed, how, case, error, tb)
        except Exception:  # noqa: BLE001 - e.g. MemoryError right after one: count it, do not die
            path = None
    queue.put(("finding", kind, sig, index, str(path) if path else None, error[:300]))


# ---------------------------------------------------------------------------------------------
# parent
# ---------------------------------------------------------------------------------------------


def run_surface(surface: Surface, args: argparse.Namespace, deadline: float, totals: dict[str, Any]) -> None:
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    current = ctx.Array("q", args.jobs, lock=False)
    started = ctx.Array("d", args.jobs, lock=False)
    pool = surface.seeds()
    rec = totals.setdefault(surface.name, {"counts": dict.fromkeys(COUNTERS, 0), "signatures": {}, "seconds": 0.0,
                                           "seeds": len(pool)})
    finished = dict.fromkeys(COUNTERS, 0)
    live: dict[int, dict[str, int]] = {}
    procs: dict[int, Any] = {}

    def spawn(job: int, start: int) -> None:
        current[job] = start
        started[job] = 0.0
        p = ctx.Process(target=worker, args=(job, args.jobs, surface.name, args.inputs, deadline, args.seed,
                                             args.timeout, args.hostile_rate, start, str(args.out), current,
                                             started, queue, args.mem_limit << 20), daemon=True)
        p.start()
        procs[job] = p
        live[job] = dict.fromkeys(COUNTERS, 0)

    t0 = time.time()
    for job in range(args.jobs):
        spawn(job, job)
    last_print = time.time()
    done_jobs: set[int] = set()
    while len(done_jobs) < args.jobs:
        try:
            msg = queue.get(timeout=0.5)
        except Exception:  # noqa: BLE001 - queue.Empty
            msg = None
        if msg is not None:
            if msg[0] == "progress":
                live[msg[1]] = msg[2]
            elif msg[0] == "done":
                for k, v in msg[2].items():
                    finished[k] += v
                live.pop(msg[1], None)
                done_jobs.add(msg[1])
            elif msg[0] == "finding":
                _, kind, sig, index, path, error = msg
                s = rec["signatures"].setdefault(f"{kind}: {sig}", {"count": 0, "examples": [], "error": error})
                s["count"] += 1
                if path and len(s["examples"]) < 3:
                    s["examples"].append(os.path.relpath(path, ROOT))
                if s["count"] == 1:
                    print(f"  [{surface.name}] new {kind}: {sig}  (input {index}{', saved ' + os.path.relpath(path, ROOT) if path else ''})",
                          flush=True)
        now = time.time()
        for job, p in list(procs.items()):
            if job in done_jobs:
                continue
            t_start = started[job]
            if t_start and now - t_start > args.timeout * 6 + 30:
                # a hard hang (C code that ignores SIGALRM, or a worker stuck in a syscall): kill, rebuild, save
                index = int(current[job])
                p.kill()
                p.join()
                for k, v in live.get(job, {}).items():
                    finished[k] += v
                finished["tried"] += 1
                finished["hang"] += 1
                how, case = case_for(surface, pool, args.seed, index, args.hostile_rate)
                sig = f"hard hang > {args.timeout * 6 + 30:g}s wall ({how})"
                path = save(args.out, surface.name, "hang", sig, index, args.seed, how, case, "killed", "")
                s = rec["signatures"].setdefault(f"hang: {sig}", {"count": 0, "examples": [], "error": "killed"})
                s["count"] += 1
                if path:
                    s["examples"].append(os.path.relpath(path, ROOT))
                print(f"  [{surface.name}] hard hang at input {index}: worker killed", flush=True)
                spawn(job, index + args.jobs)
            elif not p.is_alive() and job not in done_jobs and msg is None and queue.empty():
                p.join()
                if p.exitcode not in (0, None):
                    # the worker died (e.g. a segfault in C code): record the input it was on, carry on
                    index = int(current[job])
                    for k, v in live.get(job, {}).items():
                        finished[k] += v
                    finished["tried"] += 1
                    finished["crash"] += 1
                    how, case = case_for(surface, pool, args.seed, index, args.hostile_rate)
                    sig = f"worker died with exit code {p.exitcode}"
                    path = save(args.out, surface.name, "crash", sig, index, args.seed, how, case, sig, "")
                    s = rec["signatures"].setdefault(f"crash: {sig}", {"count": 0, "examples": [], "error": sig})
                    s["count"] += 1
                    if path:
                        s["examples"].append(os.path.relpath(path, ROOT))
                    print(f"  [{surface.name}] worker died at input {index} (exit {p.exitcode})", flush=True)
                    spawn(job, index + args.jobs)
        if now - last_print >= args.report_every:
            c = _sum(finished, live)
            el = now - t0
            print(f"  [{surface.name}] {c['tried']:,} inputs in {el:,.0f}s ({c['tried'] / max(el, 1e-9):,.0f}/s); "
                  f"crashes {c['crash']}, hangs {c['hang']}, lineless {c['lineless']}", flush=True)
            last_print = now
    for p in procs.values():
        p.join(timeout=5)
    c = _sum(finished, {})
    for k in COUNTERS:
        rec["counts"][k] += c[k]
    rec["seconds"] += time.time() - t0


def _sum(finished: dict[str, int], live: dict[int, dict[str, int]]) -> dict[str, int]:
    out = dict(finished)
    for counts in live.values():
        for k, v in counts.items():
            out[k] += v
    return out


def print_table(totals: dict[str, Any]) -> None:
    head = f"{'surface':10} {'inputs':>11} {'ok':>10} {'InputError':>10} {'crashes':>8} {'unique':>6} " \
           f"{'hangs':>5} {'lineless':>8} {'inputs/s':>9}"
    print(head)
    for name, rec in totals.items():
        c = rec["counts"]
        uniq = sum(1 for k in rec["signatures"] if k.startswith("crash:"))
        print(f"{name:10} {c['tried']:>11,} {c['ok']:>10,} {c['input_error']:>10,} {c['crash']:>8,} {uniq:>6} "
              f"{c['hang']:>5} {c['lineless']:>8,} {c['tried'] / max(rec['seconds'], 1e-9):>9,.0f}")
    for name, rec in totals.items():
        for sig, s in sorted(rec["signatures"].items()):
            print(f"  {name}: {s['count']:>7,} x {sig}" + (f"\n      e.g. {s['examples'][0]}" if s["examples"] else ""))


def _commit() -> str:
    """The checkout's commit (``+dirty`` when the working tree differs): what the run exercised."""
    import subprocess

    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "crashplan"],
                               capture_output=True, text=True, cwd=ROOT, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def replay(path: Path) -> int:
    doc = json.loads(path.read_text(encoding="utf-8"))
    surface = SURFACES[doc["surface"]]
    print(f"surface {surface.name}: {surface.describe}\nindex {doc['index']} (seed {doc['seed']}, {doc['how']})")
    from crashplan.errors import InputError

    try:
        surface.run(doc["case"])
    except InputError as e:
        print(f"InputError (documented): {e}")
        return 0
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        return 1
    print("no failure")
    return 0


def missing_dependencies() -> list[str]:
    """crashplan's run-time dependencies this interpreter cannot import (the ``cli`` surface renders text
    with rich, the ``machine`` surface reads YAML)."""
    import importlib.util

    return [name for name in ("click", "rich", "yaml") if importlib.util.find_spec(name) is None]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--surface", default="all", help="comma-separated surfaces, or 'all' (see --list)")
    ap.add_argument("--inputs", type=int, default=10_000, help="inputs per surface (default 10,000)")
    ap.add_argument("--inputs-for", action="append", default=[], metavar="SURFACE=N",
                    help="a different number of inputs for one surface (repeatable)")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    ap.add_argument("--seconds", type=float, default=None, help="stop after this many seconds in total")
    ap.add_argument("--timeout", type=float, default=10.0, help="per-input CPU-time limit in seconds (default 10)")
    ap.add_argument("--seed", type=int, default=1, help="run seed; input i of a surface depends on it alone")
    ap.add_argument("--hostile-rate", type=float, default=0.0005, help="share of hostile inputs (default 0.0005)")
    ap.add_argument("--mem-limit", type=int, default=2048, help="address-space limit per worker, MiB (0: none)")
    ap.add_argument("--out", type=Path, default=CRASH_DIR, help="where crashes are saved (default fuzz/crashes)")
    ap.add_argument("--report-every", type=float, default=60.0, help="progress line every N seconds")
    ap.add_argument("--summary", type=Path, default=None, help="also write the totals as JSON here")
    ap.add_argument("--list", action="store_true", help="list the surfaces and exit")
    ap.add_argument("--replay", type=Path, default=None, help="re-run one saved input and show the traceback")
    args = ap.parse_args(argv)

    if args.list:
        for s in SURFACES.values():
            print(f"{s.name:10} {s.describe}")
        return 0
    if args.replay:
        return replay(args.replay)
    names = list(SURFACES) if args.surface == "all" else [n.strip() for n in args.surface.split(",") if n.strip()]
    unknown = [n for n in names if n not in SURFACES]
    if unknown:
        ap.error(f"unknown surface(s) {', '.join(unknown)} (known: {', '.join(SURFACES)})")
    missing = missing_dependencies()
    if missing:
        print(f"fuzz/run.py: {sys.executable} cannot import {', '.join(missing)}, which crashplan needs: every "
              "input would fail on that import instead of testing crashplan. Run it with the interpreter "
              "crashplan is installed in: .venv/bin/python fuzz/run.py …", file=sys.stderr)
        return 2
    args.jobs = max(1, args.jobs)
    per_surface: dict[str, int] = {}
    for item in args.inputs_for:
        name, _, n = item.partition("=")
        if name not in SURFACES or not n.isdigit():
            ap.error(f"--inputs-for expects SURFACE=N, got {item!r}")
        per_surface[name] = int(n)
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.time()
    end = start + args.seconds if args.seconds else float("inf")
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else "?"
    commit = _commit()
    print(f"crashplan fuzz: surfaces {', '.join(names)}; {args.inputs:,} inputs each; {args.jobs} job(s); "
          f"seed {args.seed}; timeout {args.timeout:g}s CPU; crashplan {commit}; python {platform.python_version()}; "
          f"{cpu}", flush=True)
    totals: dict[str, Any] = {}
    for n, name in enumerate(names):
        remaining = end - time.time()
        if remaining <= 0:
            break
        deadline = time.time() + remaining / (len(names) - n) if end != float("inf") else float("inf")
        print(f"== {name}: {SURFACES[name].describe}", flush=True)
        run_surface(SURFACES[name], argparse.Namespace(**{**vars(args), "inputs": per_surface.get(name, args.inputs)}),
                    deadline, totals)
        c = totals[name]["counts"]
        print(f"== {name}: {c['tried']:,} inputs, {c['crash']} crashes, {c['hang']} hangs, "
              f"{c['lineless']} lineless InputErrors in {totals[name]['seconds']:,.0f}s", flush=True)
    print(f"\ntotal {time.time() - start:,.0f}s")
    print_table(totals)
    summary = {"commit": commit, "seed": args.seed, "inputs_per_surface": {n: per_surface.get(n, args.inputs) for n in names}, "jobs": args.jobs, "timeout": args.timeout,
               "python": platform.python_version(), "cpu": cpu, "seconds": time.time() - start, "surfaces": totals}
    (args.out / "last-run.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    if args.summary:
        args.summary.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    crashes = sum(r["counts"]["crash"] + r["counts"]["hang"] for r in totals.values())
    return 1 if crashes else 0


if __name__ == "__main__":
    # a plain kill of the driver ends its workers too (daemon processes are reaped at exit)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    raise SystemExit(main())
