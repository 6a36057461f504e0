"""The fuzzed surfaces: how each input is built, run, and judged.

A *case* is a JSON-able dict (so a crash can be saved and replayed).  ``Surface.run(case)`` returns
normally or raises: ``InputError`` is the documented outcome for bad input (and is then checked to
carry a position), anything else is a bug, and so is an ``Invariant`` failure raised by the checks
here (ranges outside RAM, misaligned regions, non-determinism, a round trip that changes the value).
"""

from __future__ import annotations

import gzip
import json
import random
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from fuzz import generators as G
from fuzz.mutate import mutate_text

__all__ = ["SURFACES", "Surface", "Invariant", "LinelessInputError", "make_case", "ROOT"]

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
U64 = (1 << 64) - 1


class Invariant(AssertionError):
    """A property crashplan promises was broken (not a documented input error)."""


class LinelessInputError(Exception):
    """An InputError about the content of an input that names no line (reported apart from crashes)."""


def _need(cond: object, message: str) -> None:
    if not cond:
        raise Invariant(message)


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@cache
def _boot_vectors() -> list[dict[str, Any]]:
    return _jsonl(DATA / "oracle" / "boot-vectors.jsonl.gz")


@cache
def _parse_vectors() -> list[dict[str, Any]]:
    return _jsonl(DATA / "oracle" / "parse-vectors.jsonl.gz")


def _texts(*globs: str) -> list[str]:
    out = []
    for g in globs:
        for p in sorted(ROOT.glob(g)):
            if p.is_file() and p.stat().st_size < (4 << 20) and p.suffix not in (".gz", ".md", ".py", ".json"):
                out.append(p.read_bytes().decode("utf-8", "surrogateescape"))
    return out


def _stable(text: str, n: int) -> bool:
    """True for about 1 in ``n`` texts, the same ones in every process (unlike ``hash``)."""
    return zlib.crc32(text.encode("utf-8", "surrogatepass")) % n == 0


_YAML_BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def _check_input_error(e: Exception, text: str, *, yaml: bool = False) -> None:
    """An InputError about ``text`` must name a line inside it (and a sane column).

    YAML counts CR, NEL, LS and PS as line breaks too (``yaml=True``).
    """
    line = getattr(e, "line", None)
    if line is None:
        raise LinelessInputError(getattr(e, "message", str(e))) from e
    nlines = text.count("\n") + 1
    if yaml:
        nlines = max(nlines, len(_YAML_BREAKS.split(text)))
    _need(isinstance(line, int) and 1 <= line <= nlines + 1, f"InputError line {line!r} outside 1..{nlines + 1}")
    col = getattr(e, "column", None)
    _need(col is None or (isinstance(col, int) and col >= 1), f"InputError column {col!r}")
    _need(str(e), "InputError with an empty message")


# ---------------------------------------------------------------------------------------------
# checks shared by surfaces
# ---------------------------------------------------------------------------------------------


def check_outcome(o: Any) -> None:
    _need(o.ret in (0, -2, -22), f"ret {o.ret}")
    for v in (o.crash_size, o.crash_base, o.low_size or 0, o.cma_size or 0):
        _need(0 <= v <= U64, f"size/base {v} outside 0..2^64-1")
    _need(all(m.level in ("warn", "info") for m in o.messages), "message level")


def _sorted_disjoint(spans: Any, what: str) -> None:
    prev_end = -1
    for s in spans:
        _need(0 <= s.start < s.end, f"{what}: empty or negative span {s}")
        _need(s.start >= prev_end, f"{what}: unsorted or overlapping at {s}")
        prev_end = s.end


def check_memmap(mm: Any, page: int = 4096, *, aligned: bool = False) -> None:
    """Spans well-formed; RAM sorted and disjoint; page-trimmed where the reader promises it (iomem)."""
    _sorted_disjoint(mm.ram, "ram")
    for s in mm.ram if aligned else ():
        _need(s.start % page == 0 and s.end % page == 0, f"ram span {s} not page-aligned")
    for kind in ("reserved", "nomap", "other", "crash"):
        for s in getattr(mm, kind):
            _need(0 <= s.start <= s.end, f"{kind}: bad span {s}")


# alignment (bytes) every region of a kind must have, per canonical architecture (kernel-semantics §5.3)
_ALIGN = {"x86_64": 16 << 20, "arm64": 2 << 20, "riscv64": 2 << 20, "loongarch64": 2 << 20, "s390x": 1 << 20}


def check_reservation(outcome: Any, machine: Any, res: Any) -> None:
    """Regions inside RAM, aligned as the architecture requires, disjoint from each other and from
    what memblock held before, sizes consistent."""
    from crashplan.memmap.model import merge_spans, subtract_spans

    mm = machine.memmap
    usable = subtract_spans(merge_spans(mm.ram + mm.nomap), mm.nomap)
    regions = sorted(res.regions, key=lambda r: r.start)
    for r in regions:
        _need(r.kind in ("crashkernel", "crashkernel-low", "cma"), f"region kind {r.kind}")
        _need(r.end - r.start == r.size > 0, f"region {r} size")
        _need(any(u.start <= r.start and r.end <= u.end for u in usable), f"region {r} not inside RAM")
        arch = outcome.arch
        if r.kind == "cma":
            align = 2 << 20
        elif arch == "x86_64" and outcome.flow == "x86-legacy" and outcome.crash_base and r.kind == "crashkernel":
            align = 1 << 20
        elif arch == "ppc64le":
            align = 65536 if machine.page_size == 65536 else machine.page_size
        else:
            align = _ALIGN.get(arch, 1 << 20)
        _need(r.start % align == 0, f"{arch} {r.kind} at {r.start:#x} not {align:#x}-aligned")
    for a, b in zip(regions, regions[1:]):
        _need(a.end <= b.start, f"regions overlap: {a} {b}")
    if res.memblock is not None and not (outcome.arch == "ppc64le" and outcome.flow == "plain"):
        # powerpc <= 6.14 memblock_reserve()s its fixed window without looking (only the kernel image counts)
        for r in regions:
            for s in res.memblock.reserved:  # an empty span ("cma: Reserved 0 MiB") overlaps nothing
                _need(not (s.start < s.end and s.start < r.end and r.start < s.end),
                      f"region {r} overlaps reserved {s}")
    _need(res.lost == sum(r.size for r in regions if r.kind != "cma"), "lost != classic regions")
    _need(res.cma == sum(r.size for r in regions if r.kind == "cma"), "cma != cma regions")


# ---------------------------------------------------------------------------------------------
# surfaces
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Surface:
    name: str
    describe: str
    seeds: Callable[[], list[dict[str, Any]]]
    generate: Callable[[random.Random], dict[str, Any]]
    mutate: Callable[[dict[str, Any], random.Random, list[dict[str, Any]]], dict[str, Any]]
    run: Callable[[dict[str, Any]], None]
    hostile: Callable[[random.Random, list[dict[str, Any]]], dict[str, Any]] | None = None


def _text_mutator(field: str, tokens: tuple[bytes, ...]) -> Callable[..., dict[str, Any]]:
    def mutate(case: dict[str, Any], rng: random.Random, pool: list[dict[str, Any]]) -> dict[str, Any]:
        others = [c[field].encode("utf-8", "surrogateescape")[:65536] for c in rng.sample(pool, min(3, len(pool)))
                  if isinstance(c.get(field), str)]
        new = dict(case)
        new[field] = mutate_text(case[field], rng, tokens=tokens, others=others, max_len=4 << 20)
        return new
    return mutate


# -- kernel -------------------------------------------------------------------------------------

CMDLINE_TOKENS = tuple(t.encode() for t in (
    "crashkernel=", ",high", ",low", ",cma", "@", "-", ":", ",", " ", "\t", '"', "0x", "010", "E", "K", "M", "G",
    "auto", "fadump=on", "--", "=", "1G-2G:", "256M", "xcrashkernel=", "18446744073709551615", "0-:1M", "\n"))


def _kernel_seeds() -> list[dict[str, Any]]:
    vs = _parse_vectors()
    step = max(1, len(vs) // 3000)
    return [{"cmdline": r["cmdline"], "ram": r["system_ram"], "kernel": r["kernel"], "arch": r["arch"]
             if r["arch"] != "any" else "x86_64"} for r in vs[::step]]


def _kernel_generate(rng: random.Random) -> dict[str, Any]:
    return {"cmdline": G.gen_cmdline(rng), "ram": G.gen_ram(rng), "kernel": rng.choice(G.RELEASES),
            "arch": rng.choice(G.ARCH_NAMES)}


def _kernel_mutate(case: dict[str, Any], rng: random.Random, pool: list[dict[str, Any]]) -> dict[str, Any]:
    new = _text_mutator("cmdline", CMDLINE_TOKENS)(case, rng, pool)
    if rng.random() < 0.3:
        new["ram"] = G.gen_ram(rng)
    if rng.random() < 0.2:
        new["kernel"] = rng.choice(G.RELEASES)
    if rng.random() < 0.2:
        new["arch"] = rng.choice(G.ARCH_NAMES)
    return new


def _valid_target(kernel: str, arch: str) -> bool:
    """evaluate() raises ValueError for an unknown release or architecture, by contract."""
    from crashplan.kernel import normalize_arch, parse_release

    try:
        parse_release(kernel)
        normalize_arch(arch)
    except ValueError:
        return False
    return True


def _kernel_run(case: dict[str, Any]) -> None:
    from crashplan.kernel import evaluate

    if not _valid_target(case["kernel"], case["arch"]):
        try:
            evaluate(case["cmdline"], system_ram=case["ram"], kernel=case["kernel"], arch=case["arch"])
        except ValueError:
            return
        raise Invariant(f"evaluate accepted release {case['kernel']!r} / arch {case['arch']!r}")
    o = evaluate(case["cmdline"], system_ram=case["ram"], kernel=case["kernel"], arch=case["arch"])
    check_outcome(o)
    if _stable(case["cmdline"], 8):
        _need(o == evaluate(case["cmdline"], system_ram=case["ram"], kernel=case["kernel"], arch=case["arch"]),
              "evaluate is not deterministic")


# -- diagnose / check (no map) --------------------------------------------------------------------


def _diag_generate(rng: random.Random) -> dict[str, Any]:
    c = _kernel_generate(rng)
    c["ram"] = c["ram"] or 1 << 30
    c["targets"] = [[rng.choice(G.RELEASES), rng.choice(G.ARCH_NAMES), G.gen_ram(rng) or 1]
                    for _ in range(rng.randrange(0, 4))]
    return c


def _diag_seeds() -> list[dict[str, Any]]:
    rng = random.Random(7)
    out = []
    for c in _kernel_seeds()[::3]:
        c = dict(c, ram=c["ram"] or 1 << 30)
        c["targets"] = [[rng.choice(G.RELEASES), rng.choice(G.ARCH_NAMES), G.gen_ram(rng) or 1]]
        out.append(c)
    return out


def _diag_run(case: dict[str, Any]) -> None:
    from crashplan.check import build_report, report_json
    from crashplan.diagnose import Target, diagnose
    from crashplan.kernel import evaluate

    cmd = case["cmdline"]
    targets = [Target(case["kernel"], case["arch"], case["ram"])] + [Target(*t) for t in case.get("targets", [])]
    targets = [t for t in targets if _valid_target(t.kernel, t.arch)]
    if not targets:
        return
    for d in diagnose(cmd, targets):
        _need(d.severity in ("error", "warning", "info"), f"severity {d.severity}")
        _need(d.code.startswith("CK") and d.name and d.message, f"diagnosis {d.code} without name/message")
        if d.span is not None:
            _need(0 <= d.span[0] <= d.span[1] <= len(cmd), f"span {d.span} outside the command line")
        if d.fix is not None:
            _need(isinstance(d.fix, str), "fix is not text")
            for t in d.targets or targets:
                evaluate(d.fix, system_ram=t.system_ram, kernel=t.kernel, arch=t.arch)
    t0 = targets[0]
    r = build_report(cmd, kernel=t0.kernel, arch=t0.arch, system_ram=t0.system_ram)
    json.dumps(report_json(r))
    _need(r.exit_status in (0, 1), f"exit status {r.exit_status}")


# -- /proc/iomem ----------------------------------------------------------------------------------

IOMEM_TOKENS = tuple(t.encode() for t in (
    " : ", "System RAM", "Kernel code", "Crash kernel", "reserved", "Reserved", "  ", "-", "00000000", "ffffffff",
    "ffffffffffffffff", "10000000000000000", "\n", "\r\n", "\t", " :", "  00100000-0010ffff : Kernel data\n"))


def _iomem_seeds() -> list[dict[str, Any]]:
    out = [{"text": t, "arch": None} for t in _texts("tests/data/iomem/*.txt", "examples/**/*iomem*")]
    out += [{"text": r["iomem"], "arch": r["arch"]} for r in _boot_vectors() if r.get("iomem")]
    for r in _jsonl(DATA / "iomem" / "oracle-boots.jsonl.gz"):
        if isinstance(r.get("iomem"), str):
            out.append({"text": r["iomem"], "arch": r.get("arch")})
    return out


def _iomem_generate(rng: random.Random) -> dict[str, Any]:
    return {"text": G.gen_iomem(rng), "arch": rng.choice((None, "x86_64", "arm64", "aarch64", "s390x", "riscv64"))}


def _iomem_run(case: dict[str, Any]) -> None:
    from crashplan.errors import InputError
    from crashplan.memmap.iomem import parse_iomem

    text = case["text"]
    try:
        mm = parse_iomem(text, arch=case.get("arch"), source="iomem.txt")
    except InputError as e:
        _check_input_error(e, text)
        raise
    check_memmap(mm, page=4096, aligned=True)
    if _stable(text, 8):
        _need(mm == parse_iomem(text, arch=case.get("arch"), source="iomem.txt"), "parse_iomem not deterministic")


# -- boot logs ------------------------------------------------------------------------------------

BOOTLOG_TOKENS = tuple(t.encode() for t in (
    "[    0.000000] ", "BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable\n", "[mem ", "0x", "-", "]",
    " usable", " reserved", "Early memory node ranges\n", "  node   0: [mem 0x0000000040000000-0x000000007fffffff]\n",
    "Zone ranges:\n", "  DMA      [mem 0x0000000000001000-0x0000000000ffffff]\n", "Linux version 6.12.0 ",
    "Kernel command line: crashkernel=256M\n", "Command line: ", "RAMDISK: ", "NODE_DATA(0) allocated ",
    "cma: Reserved 64 MiB at 0x00000000bc000000", "crashkernel reserved: ", "efi: mem00: [Conventional|", "\r",
    "\x1b[0m", "<6>", "e820: update ", " ==> ", "memblock_reserve: [", "Memory: 1K/2K available (", "\n"))


def _bootlog_seeds() -> list[dict[str, Any]]:
    out = [{"text": r["boot_log"]} for r in _boot_vectors() if r.get("boot_log")]
    out += [{"text": t} for t in _texts("tests/data/bootlog/*", "tests/data/boot*/*.txt", "tests/data/boot*/*.log",
                                         "examples/**/*dmesg*", "examples/**/*.log")]
    return out


def _bootlog_generate(rng: random.Random) -> dict[str, Any]:
    return {"text": G.gen_boot_log(rng)}


def _bootlog_run(case: dict[str, Any]) -> None:
    from crashplan.errors import InputError
    from crashplan.memmap.bootlog import parse_boot_log

    text = case["text"]
    try:
        m = parse_boot_log(text, source="dmesg.txt")
    except InputError as e:
        _check_input_error(e, text)
        raise
    check_memmap(m.memmap)
    if _stable(text, 4):
        _replay(m, case.get("params") or m.cmdline or "crashkernel=256M")


def _replay(machine: Any, cmdline: str) -> None:
    """Evaluate ``cmdline`` for the machine's own release and arch, replay it and check the result."""
    from crashplan.kernel import evaluate
    from crashplan.simulate import reserve

    kernel = machine.kernel or "7.2"
    arch = machine.arch or "x86_64"
    try:
        o = evaluate(cmdline, system_ram=machine.ram_size(), kernel=kernel, arch=arch)
    except ValueError:  # an unknown release or arch in the source: the command line says so, not a bug here
        return
    r1 = reserve(o, machine, cmdline=cmdline)
    check_reservation(o, machine, r1)
    _need(r1 == reserve(o, machine, cmdline=cmdline), "reserve is not deterministic")


# -- machine files --------------------------------------------------------------------------------

YAML_TOKENS = tuple(t.encode() for t in (
    "schema: crashplan/machine@1\n", "memory:\n", "  ram:\n", "    - {start: 0x0, end: 0x80000000}\n", "&a ", "*a",
    "!!", "!!python/object:", "[", "]", "{", "}", ": ", "- ", "'", '"', "\\x00", "\\u00e9", "? ", "<<: ", "---\n",
    "...\n", "%YAML 1.2\n", "#", "|\n", ">-\n", "~", "null", "true", "0x", "16G", "1e3", ".inf", "-0", "0o17",
    "kdump:\n  nr_cpus: 1\n", "reservation:\n", "\t"))


@cache
def _machine_seed_texts() -> list[str]:
    from crashplan.memmap.bootlog import parse_boot_log
    from crashplan.memmap.iomem import parse_iomem
    from crashplan.memmap.machine import dump_machine
    from crashplan.memmap.model import Machine

    out = _texts("tests/data/machines/*.yaml", "tests/data/machine*/*.yaml", "examples/**/*.yaml")
    for r in _boot_vectors()[::4]:
        try:
            out.append(dump_machine(parse_boot_log(r["boot_log"])))
        except Exception:  # noqa: BLE001 - seeds only; the bootlog surface reports reader bugs
            pass
    for c in _iomem_seeds()[:25]:
        try:
            out.append(dump_machine(Machine(memmap=parse_iomem(c["text"], arch=c["arch"]), arch=c["arch"])))
        except Exception:  # noqa: BLE001
            pass
    return out


def _machine_seeds() -> list[dict[str, Any]]:
    return [{"text": t} for t in _machine_seed_texts()]


def _machine_generate(rng: random.Random) -> dict[str, Any]:
    return {"text": G.gen_machine_yaml(rng)}


def _machine_run(case: dict[str, Any]) -> None:
    from crashplan.errors import InputError
    from crashplan.memmap.machine import dump_machine, load_machine

    text = case["text"]
    try:
        m = load_machine(text, source="machine.yaml")
    except InputError as e:
        _check_input_error(e, text, yaml=True)
        raise
    check_memmap(m.memmap, m.page_size)
    dumped = dump_machine(m)
    try:
        again = load_machine(dumped, source="dumped.yaml")
    except InputError as e:
        raise Invariant(f"dump_machine output does not load back: {e}") from e
    _need(again == m, "load_machine(dump_machine(m)) != m")
    _need(dump_machine(again) == dumped, "dump_machine is not stable")
    if _stable(text, 4) and m.memmap.ram:
        _replay(m, m.cmdline or "crashkernel=512M")


# -- lint sources ---------------------------------------------------------------------------------

LINT_TOKENS = tuple(t.encode() for t in (
    "GRUB_CMDLINE_LINUX=", "GRUB_CMDLINE_LINUX_DEFAULT=", '"', "'", "\\", "$", "${", "}", "$(", ")", "`", "\n",
    "menuentry ", "submenu ", "{", "linux ", "linuxefi ", "options ", "kernelopts=", "set ", "crashkernel=",
    "crashkernel=256M", ",high", ",cma", "# crashplan: disable=", "CK101", "blscfg", "load_env", "[", "]",
    "parameters=", "bootloader --append=", "title ", "kernel ", ";", "&&", "||", "#", "\t", "if ", "fi", "export "))


def _lint_seeds() -> list[dict[str, Any]]:
    out = []
    for base in ("tests/data/lint", "examples"):
        root = ROOT / base
        if not root.is_dir():
            continue
        for p in sorted(root.rglob("*")):
            if p.is_file() and p.stat().st_size < (1 << 20) and p.suffix not in (".md", ".py", ".gz", ".json",
                                                                                   ".yaml", ".sarif"):
                rel = str(p.relative_to(root))
                out.append({"files": [[rel, p.read_bytes().decode("utf-8", "surrogateescape")]]})
    rng = random.Random(11)
    out += [{"files": [list(f) for f in G.gen_lint_files(rng)]} for _ in range(200)]
    return out


def _lint_targets(rng: random.Random) -> list[list[Any]] | None:
    """Mostly one or two targets (the readers are under test here; diagnose has its own surface)."""
    if rng.random() < 0.02:
        return None  # the default profile
    return [[rng.choice(("6.1", "6.6", "6.12", "6.17", "7.2")), rng.choice(G.CANON_ARCHES),
             rng.choice((2, 4, 16, 64)) << 30] for _ in range(rng.randrange(1, 3))]


def _lint_generate(rng: random.Random) -> dict[str, Any]:
    return {"files": [list(f) for f in G.gen_lint_files(rng)], "targets": _lint_targets(rng)}


def _lint_mutate(case: dict[str, Any], rng: random.Random, pool: list[dict[str, Any]]) -> dict[str, Any]:
    files = [list(f) for f in case["files"]]
    i = rng.randrange(len(files))
    others = [f[1].encode("utf-8", "surrogateescape")[:65536] for c in rng.sample(pool, min(3, len(pool)))
              for f in c["files"]]
    files[i][1] = mutate_text(files[i][1], rng, tokens=LINT_TOKENS, others=others, max_len=4 << 20)
    if rng.random() < 0.1:
        files.append(list(rng.choice(rng.choice(pool)["files"])))
    if rng.random() < 0.05:
        files[i][0] = rng.choice(rng.choice(list(G.LINT_PATHS.values())))
    return {"files": files, "targets": _lint_targets(rng)}


def _lint_hostile(rng: random.Random, pool: list[dict[str, Any]]) -> dict[str, Any]:
    seeds = [f[1] for c in rng.sample(pool, min(5, len(pool))) for f in c["files"]]
    path = rng.choice(rng.choice(list(G.LINT_PATHS.values())))
    return {"files": [[path, G.hostile_text(rng, "lint", seeds)]], "targets": _lint_targets(rng)}


def _lint_run(case: dict[str, Any]) -> None:
    from crashplan.lint.engine import lint
    from crashplan.lint.sources import SourceFile

    files = [SourceFile(path, text, explicit=True) for path, text in case["files"]]
    targets = None
    if case.get("targets"):
        from crashplan.diagnose import Target

        targets = [Target(*t) for t in case["targets"]]
    report = lint(files, targets=targets)
    lines: dict[str, int] = {}
    for path, text in case["files"]:
        lines[path] = max(lines.get(path, 0), text.count("\n") + 1)
    for f in report.findings:
        loc = f.location
        _need(f.severity in ("error", "warning", "info"), f"severity {f.severity}")
        _need(f.code.startswith("CK") and f.message, f"finding {f.code} without a message")
        _need(loc.line >= 1 and loc.column >= 1, f"{f.code} at {loc}")
        n = lines.get(loc.path)
        if n is not None:
            _need(loc.line <= n + 1, f"{f.code} at line {loc.line} of a {n}-line file")
            _need((loc.end_line, loc.end_column) >= (loc.line, loc.column), f"{f.code} ends before it starts: {loc}")
    keys = [f.sort_key() for f in report.findings]
    _need(keys == sorted(keys), "findings are not sorted")


# -- simulator ------------------------------------------------------------------------------------


def _machine_from_layout(rng: random.Random) -> Any:
    from crashplan.memmap.model import Machine, MemoryMap, Span, merge_spans

    arch = rng.choice(G.CANON_ARCHES)
    page = 65536 if arch == "ppc64le" and rng.random() < 0.5 else 4096
    lay = G.gen_memory_layout(rng, page=page)
    ram = tuple(Span(-(-a // page) * page, b // page * page, "System RAM") for a, b, _ in lay["ram"])
    ram = merge_spans(s for s in ram if s.end > s.start)
    reserved = tuple(sorted(Span(a, b, n) for a, b, n in lay["reserved"] if n != "Crash kernel"))
    nomap: tuple[Any, ...] = ()
    if arch == "arm64" and ram and rng.random() < 0.3:
        r = ram[-1]
        nomap = (Span(r.start, min(r.end, r.start + (1 << 20)), "nomap"),)
    facts: dict[str, object] = {}
    if rng.random() < 0.3:
        facts["kernel_image"] = rng.choice((0, 30 << 20, 60 << 20))
    if arch == "arm64" and rng.random() < 0.3:
        facts["machine_model"] = "linux,dummy-virt"
        facts["initrd_size"] = rng.choice((0, 8 << 20))
    if rng.random() < 0.1:
        facts["va_bits"] = 52
    return Machine(
        memmap=MemoryMap(ram=ram, reserved=reserved, nomap=nomap),
        arch=arch, kernel=rng.choice(G.RELEASES), page_size=page,
        kaslr=rng.choice((None, True, False)), dma_limit=rng.choice((None, None, 1 << 30, 1 << 32)),
        mem_encrypt=rng.choice((None, None, "sev", "tdx")), swiotlb_size=rng.choice((None, 64 << 20, 1 << 30)),
        boot_facts=facts,
    )


def _sim_generate(rng: random.Random) -> dict[str, Any]:
    seed = rng.getrandbits(48)
    r2 = random.Random(seed)
    m = _machine_from_layout(r2)
    return {"machine_seed": seed, "cmdline": G.gen_cmdline(rng), "kernel": m.kernel}


def _sim_seeds() -> list[dict[str, Any]]:
    out = []
    for r in _boot_vectors():
        out.append({"boot_log": r["boot_log"], "cmdline": r.get("cmdline") or "crashkernel=256M"})
    rng = random.Random(5)
    out += [_sim_generate(rng) for _ in range(100)]
    return out


def _sim_mutate(case: dict[str, Any], rng: random.Random, pool: list[dict[str, Any]]) -> dict[str, Any]:
    new = _text_mutator("cmdline", CMDLINE_TOKENS)(case, rng, pool) if rng.random() < 0.5 else dict(case)
    if rng.random() < 0.5:
        new["cmdline"] = G.gen_cmdline(rng)
    if rng.random() < 0.3:
        new["kernel"] = rng.choice(G.RELEASES)
    return new


@cache
def _boot_machine(text: str) -> Any:
    from crashplan.memmap.bootlog import parse_boot_log

    return parse_boot_log(text)


def _sim_run(case: dict[str, Any]) -> None:
    if "boot_log" in case:
        m = _boot_machine(case["boot_log"])
    else:
        m = _machine_from_layout(random.Random(case["machine_seed"]))
    if case.get("kernel"):
        m = m.replace(kernel=case["kernel"])
    _replay(m, case["cmdline"])


# -- suggest's readers (kernel images, initrds, kdump configuration, .config, luksDump) -------------

_SIZING_TEXT = {  # kind -> (module, function)
    "kdump_conf": ("crashplan.sizing.kdumpconf", "parse_kdump_conf"),
    "sysconfig": ("crashplan.sizing.kdumpconf", "parse_sysconfig_kdump"),
    "kdump_tools": ("crashplan.sizing.kdumpconf", "parse_kdump_tools"),
    "kconfig": ("crashplan.sizing.kconfig", "parse_kernel_config"),
    "luks": ("crashplan.sizing.luks", "parse_luks_dump"),
}
_SIZING_FILES = {"kdump.conf": "kdump_conf", "sysconfig": "sysconfig", "kdump-tools": "kdump_tools",
                 "config-": "kconfig", "luksdump": "luks", "initrd": "initrd", "bzImage": "kernel_image",
                 "Image-": "kernel_image", "vmlinux": "kernel_image", "zboot": "kernel_image"}
SIZING_TOKENS = tuple(t.encode() for t in (
    "core_collector makedumpfile -l --message-level 7 -d 31\n", "KDUMP_COMMANDLINE_APPEND=\"nr_cpus=1\"\n",
    "CONFIG_CMA=y\n", "# CONFIG_X is not set\n", "LUKS header information\n", "Version:       \t2\n",
    "Memory:     1048576\n", "HdrS", "070701", "TRAILER!!!", "\x1f\x8b\x08", "\xfd7zXZ\x00", "(\xb5/\xfd",
    "\x7fELF", "MZ", "zimg", "ARM\x64", "=", '"', "'", "\\", "$(", "`"))


def _sizing_kind(name: str) -> str | None:
    return next((k for pat, k in _SIZING_FILES.items() if pat.lower() in name.lower()), None)


def _sizing_seeds() -> list[dict[str, Any]]:
    out = []
    root = DATA / "sizing"
    for p in sorted(root.glob("*")) if root.is_dir() else ():
        kind = _sizing_kind(p.name)
        if kind is None or not p.is_file() or p.stat().st_size > (8 << 20):
            continue
        out.append({"kind": kind, "data": p.read_bytes().decode("latin-1")})
    return out


def _sizing_generate(rng: random.Random) -> dict[str, Any]:
    kind = rng.choice(("kernel_image", "initrd", "kdump_conf", "sysconfig", "kdump_tools", "kconfig", "luks"))
    if kind == "kernel_image":
        head = bytearray(rng.getrandbits(8) for _ in range(rng.choice((64, 0x264, 4096))))
        magic = rng.choice(((0x202, b"HdrS"), (56, b"ARM\x64"), (0, b"\x7fELF"), (0, b"MZ\x00\x00zimg"), (0, b"")))
        head[magic[0]:magic[0] + len(magic[1])] = magic[1]
        data = bytes(head)
    elif kind == "initrd":
        import gzip as _gz

        body = b"".join(b"070701" + b"".join(f"{rng.getrandbits(32):08X}".encode() for _ in range(13))
                        + b"name\x00" for _ in range(rng.randrange(1, 4))) + b"TRAILER!!!\x00"
        data = rng.choice((body, _gz.compress(body), b"\x00" * rng.randrange(1, 600) + body,
                           _gz.compress(b"\x00" * (1 << rng.randrange(10, 24)))))
    else:
        lines = {"kdump_conf": ["path /var/crash", "core_collector makedumpfile -l --message-level 7 -d 31",
                                "kdump_post /bin/true", "extra_modules mlx5_core", "dracut_args --add x", "nfs a:/b"],
                 "sysconfig": ['KDUMP_COMMANDLINE_APPEND="irqpoll nr_cpus=1 reset_devices"', 'KDUMP_DUMPLEVEL=31',
                               'KDUMP_CPUS=1', 'KDUMPTOOL_FLAGS="NOSPLIT"', 'KEXEC_ARGS="-s"', 'KDUMP_DUMPFORMAT=lzo'],
                 "kdump_tools": ['USE_KDUMP=1', 'MAKEDUMP_ARGS="-c -d 31"', 'KDUMP_CMDLINE_APPEND="nr_cpus=1"',
                                 'KDUMP_KERNEL=/var/lib/kdump/vmlinuz'],
                 "kconfig": ["CONFIG_CMA=y", "# CONFIG_KASAN is not set", "CONFIG_NR_CPUS=8192", 'CONFIG_X="s"'],
                 "luks": ["LUKS header information", "Version:       \t2", "Keyslots:", "  0: luks2",
                          "\tPBKDF:      argon2id", "\tMemory:     1048576", "\tThreads:    4"]}[kind]
        data = "\n".join(rng.choice(lines) for _ in range(rng.randrange(1, 12))).encode()
    return {"kind": kind, "data": data.decode("latin-1")}


def _sizing_mutate(case: dict[str, Any], rng: random.Random, pool: list[dict[str, Any]]) -> dict[str, Any]:
    from fuzz.mutate import mutate_bytes

    others = [c["data"].encode("latin-1")[:65536] for c in rng.sample(pool, min(3, len(pool)))]
    data = mutate_bytes(case["data"].encode("latin-1"), rng, tokens=SIZING_TOKENS, others=others, max_len=8 << 20)
    return {"kind": case["kind"], "data": data.decode("latin-1")}


def _sizing_run(case: dict[str, Any]) -> None:
    import importlib

    from crashplan.errors import InputError

    data = case["data"].encode("latin-1")
    kind = case["kind"]
    if kind == "kernel_image":
        from crashplan.sizing.kernel_image import read_kernel_image

        img = read_kernel_image(data[: 1 << 20], file_size=len(data))
        _need(img.mem_size is None or img.mem_size > 0, f"mem_size {img.mem_size}")
        json.dumps(img.as_dict())
        return
    if kind == "initrd":
        from crashplan.sizing.initrd import read_initrd

        info = read_initrd(data)
        _need(info.size == len(data), f"size {info.size} != {len(data)}")
        for v in (info.cpio_bytes, info.file_bytes, info.tmpfs_bytes):
            _need(v is None or v >= 0, f"negative size {v}")
        json.dumps(info.as_dict())
        return
    module, fn = _SIZING_TEXT[kind]
    text = data.decode("utf-8", "surrogateescape")
    try:
        getattr(importlib.import_module(module), fn)(text, path="input.txt")
    except InputError as e:
        _check_input_error(e, text)
        raise


# -- the command line -----------------------------------------------------------------------------

_CLI_LINT_PATHS = ("etc/default/grub", "boot/grub2/grub.cfg", "boot/loader/entries/a.conf", "boot/grub2/grubenv",
                   "etc/kernel/cmdline", "etc/zipl.conf", "proc/cmdline", "ks.cfg")


def _cli_seeds() -> list[dict[str, Any]]:
    rng = random.Random(3)
    out: list[dict[str, Any]] = []
    for cmd, seeds in (("iomem", _iomem_seeds()), ("boot-log", _bootlog_seeds()), ("machine", _machine_seeds())):
        out += [{"cmd": cmd, "text": c["text"], "fmt": rng.choice(("json", "text")), "params": "crashkernel=256M"}
                for c in seeds]
    for c in _lint_seeds()[:300]:
        path, text = c["files"][0]
        out.append({"cmd": "lint", "text": text, "path": rng.choice(_CLI_LINT_PATHS),
                    "fmt": rng.choice(("json", "sarif", "github", "text"))})
    return out


def _cli_generate(rng: random.Random) -> dict[str, Any]:
    cmd = rng.choice(("iomem", "boot-log", "machine", "lint", "lint"))
    if cmd == "lint":
        path, text = rng.choice(G.gen_lint_files(rng))
        return {"cmd": cmd, "text": text, "path": rng.choice(_CLI_LINT_PATHS + (path,)),
                "fmt": rng.choice(("json", "sarif", "github", "text"))}
    text = {"iomem": G.gen_iomem, "boot-log": G.gen_boot_log, "machine": G.gen_machine_yaml}[cmd](rng)
    return {"cmd": cmd, "text": text, "fmt": rng.choice(("json", "text")), "params": G.gen_cmdline(rng),
            "kernel": rng.choice((None, "6.1", "6.12", "7.2")), "arch": rng.choice((None, "x86_64", "arm64"))}


def _cli_mutate(case: dict[str, Any], rng: random.Random, pool: list[dict[str, Any]]) -> dict[str, Any]:
    new = _text_mutator("text", IOMEM_TOKENS + BOOTLOG_TOKENS + YAML_TOKENS + LINT_TOKENS)(case, rng, pool)
    if "params" in new and rng.random() < 0.3:
        new["params"] = G.gen_cmdline(rng)
    return new


@cache
def _cli_dir() -> str:
    import tempfile

    return tempfile.mkdtemp(prefix="crashplan-fuzz-cli-")


def _cli_run(case: dict[str, Any]) -> None:
    """``crashplan`` in-process with stdout/stderr encoding strictly (as under any UTF-8 locale)."""
    import contextlib
    import io
    import os

    from crashplan.cli import main

    base = _cli_dir()
    rel = os.path.normpath(case.get("path") or "input.txt").lstrip("/")
    if rel in (".", "..", "-") or rel.startswith("../"):  # names that are not files under the temp tree
        rel = "input.txt"
    path = os.path.join(base, rel)
    if os.path.isdir(path):  # another input made it a directory (etc/kernel/cmdline vs etc/kernel/cmdline/x)
        path = os.path.join(path, "input.txt")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(case["text"].encode("utf-8", "surrogateescape"))
    fmt = case["fmt"]
    if case["cmd"] == "lint":
        args = ["--traceback", "lint", "--format", fmt, path]
    else:
        args = ["--traceback", "check", case.get("params") or "crashkernel=256M", f"--{case['cmd']}", path,
                "--format", fmt]
        for opt in ("kernel", "arch"):
            if case.get(opt):
                args += [f"--{opt}", case[opt]]
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", newline="\n")
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", newline="\n")
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(args)
        out.flush()
        err.flush()
    stdout = out.buffer.getvalue()  # type: ignore[attr-defined]
    stderr = err.buffer.getvalue().decode("utf-8")  # type: ignore[attr-defined]
    _need(rc in (0, 1, 2), f"exit status {rc}: {stderr[:200]}")
    if rc == 2:
        _need(stderr.startswith("crashplan: error: ") or stderr.startswith("Usage:") or "Error:" in stderr,
              f"exit 2 without an error line: {stderr[:200]!r}")
        _need(stderr.count("\n") <= 6, "a long error output (a traceback?)")
        return
    if fmt in ("json", "sarif"):
        json.loads(stdout.decode("utf-8"))


def _text_hostile(fmt: str, field: str = "text") -> Callable[..., dict[str, Any]]:
    def hostile(rng: random.Random, pool: list[dict[str, Any]]) -> dict[str, Any]:
        seeds = [c[field] for c in rng.sample(pool, min(5, len(pool))) if isinstance(c.get(field), str)]
        return {field: G.hostile_text(rng, fmt, seeds), **({"arch": None} if fmt == "iomem" else {})}
    return hostile


def _cmdline_hostile(rng: random.Random, pool: list[dict[str, Any]]) -> dict[str, Any]:
    c = dict(rng.choice(pool))
    c["cmdline"] = rng.choice((
        "crashkernel=" * int(10 ** rng.uniform(0, 4.3)), "crashkernel=1G-2G:" + "1M," * 50000 + "1M",
        "crashkernel=" + "9" * rng.randrange(20, 200_000) + "M", " " * 100_000 + "crashkernel=256M",
        '"' * 10_001 + "crashkernel=1G", "crashkernel=256M " * int(10 ** rng.uniform(1, 4)), "\x00crashkernel=\udcff1G",
        "".join(chr(rng.randrange(0x110000)) if rng.random() < 0.5 else "crashkernel=" for _ in range(2000))
        .encode("utf-8", "surrogatepass").decode("utf-8", "surrogateescape"),
    ))
    return c


SURFACES: dict[str, Surface] = {
    s.name: s
    for s in (
        Surface("kernel", "crashplan.kernel.evaluate on any command line, RAM, release and arch",
                _kernel_seeds, _kernel_generate, _kernel_mutate, _kernel_run, _cmdline_hostile),
        Surface("diagnose", "crashplan.diagnose.diagnose and check.build_report/report_json (no map)",
                _diag_seeds, _diag_generate, _kernel_mutate, _diag_run, _cmdline_hostile),
        Surface("iomem", "crashplan.memmap.iomem.parse_iomem", _iomem_seeds, _iomem_generate,
                _text_mutator("text", IOMEM_TOKENS), _iomem_run, _text_hostile("iomem")),
        Surface("bootlog", "crashplan.memmap.bootlog.parse_boot_log (+ reserve on a quarter of the results)",
                _bootlog_seeds, _bootlog_generate, _text_mutator("text", BOOTLOG_TOKENS), _bootlog_run,
                _text_hostile("bootlog")),
        Surface("machine", "crashplan.memmap.machine.load_machine, dump_machine round trip (+ reserve)",
                _machine_seeds, _machine_generate, _text_mutator("text", YAML_TOKENS), _machine_run,
                _text_hostile("yaml")),
        Surface("lint", "crashplan.lint.engine.lint over boot-loader sources (all readers)",
                _lint_seeds, _lint_generate, _lint_mutate, _lint_run, _lint_hostile),
        Surface("simulate", "crashplan.simulate.reserve on generated machines and recorded boot logs",
                _sim_seeds, _sim_generate, _sim_mutate, _sim_run, None),
        Surface("sizing", "suggest's readers: kernel image headers, initrds (every codec), kdump.conf, sysconfig, "
                "kdump-tools, .config, luksDump", _sizing_seeds, _sizing_generate, _sizing_mutate, _sizing_run, None),
        Surface("cli", "crashplan check --iomem/--boot-log/--machine and lint on hostile files, strict stdout",
                _cli_seeds, _cli_generate, _cli_mutate, _cli_run, None),
    )
}


def make_case(surface: Surface, rng: random.Random, pool: list[dict[str, Any]], *, hostile_rate: float = 0.002
              ) -> tuple[str, dict[str, Any]]:
    """One input for ``surface``: (how it was made, the case)."""
    r = rng.random()
    if surface.hostile is not None and r < hostile_rate:
        return "hostile", surface.hostile(rng, pool)
    if r < 0.45 and pool:
        return "mutated-seed", surface.mutate(rng.choice(pool), rng, pool)
    if r < 0.85:
        return "generated", surface.generate(rng)
    return "mutated-generated", surface.mutate(surface.generate(rng), rng, pool)
