"""More real boots, planned from another boot of the same machine: byte-exact, from the log and from /proc/iomem.

``tests/data/boots/*.jsonl.gz`` are boots recorded with ``tools/qemu_boot.py`` (Debian kernels under
qemu; PROVENANCE.md there): other RAM sizes, ``mem=``/``memmap=`` holes, fixed offsets, ``,high``/``,low``,
sizes that do not fit and fragmented ``,cma``.  For every boot and every boot with the same
``config_key`` (itself included), the other boot's log — and, separately, its ``/proc/iomem`` — is
read, the case's ``crashkernel=`` is planned on it, and the result must be what the kernel reserved.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

import pytest

from conftest import DATA, load_jsonl_gz
from crashplan.cmdline import split_params
from crashplan.kernel import evaluate, parse_release
from crashplan.kernel.versions import SWITCHES
from crashplan.memmap.bootlog import _clean, parse_boot_log, read_boot_log
from crashplan.memmap.iomem import parse_iomem
from crashplan.memmap.model import Machine
from crashplan.simulate import reserve

FILES = sorted((DATA / "boots").glob("*.jsonl.gz"))
BOOTS = [b for f in FILES for b in load_jsonl_gz(f)]
BY_KEY = {(b["arch"], b["id"]): b for b in BOOTS}
PAIRS = [(c, b) for c in BOOTS for b in BOOTS if b["arch"] == c["arch"] and b["config_key"] == c["config_key"]]


def moved_image(b: dict) -> bool:
    """x86 with KASLR: the decompressor puts the image at a random physical address (arm64 without
    UEFI moves it only virtually). No log shows where; that boot's own /proc/iomem does."""
    return b["arch"] == "x86_64" and b["qemu"]["kaslr"]


LOG_PAIRS = [(c, b) for c, b in PAIRS if not moved_image(c)]
IOMEM_PAIRS = [(c, b) for c, b in PAIRS if not moved_image(c) or c is b]
STAGE = re.compile(r"^(crashkernel|cannot allocate|cannot reserve|Cannot reserve|Reserving|cma: |setup: |Crash kernel)")


@lru_cache(maxsize=None)
def log_machine(arch: str, boot_id: str) -> Machine:
    return parse_boot_log(BY_KEY[(arch, boot_id)]["boot_log"], source=f"{arch}:{boot_id}")


@lru_cache(maxsize=None)
def iomem_machine(arch: str, boot_id: str) -> Machine:
    b = BY_KEY[(arch, boot_id)]
    return Machine(memmap=parse_iomem(b["iomem"], source=f"{arch}:{boot_id}"), arch=arch, kernel=b["kernel_release"])


def with_crashkernel(cmdline: str, crashkernel: str) -> str:
    kept = [cmdline[p.start:p.end] for p in split_params(cmdline) if p.name != "crashkernel"]
    return " ".join(kept + [crashkernel])


def plan(case: dict, m: Machine, cmdline: str):
    outcome = evaluate(cmdline, system_ram=m.ram_size(), kernel=m.kernel, arch=m.arch)
    return outcome, reserve(outcome, m, cmdline=cmdline)


def regions(res) -> list[dict]:
    return [{"kind": r.kind, "start": r.start, "end": r.end, "size": r.size} for r in res.regions]


def wanted(case: dict) -> list[dict]:
    return [{k: r[k] for k in ("kind", "start", "end", "size")} for r in case["reservations"]]


def test_the_boots_are_there():
    assert FILES, "no recorded boots under tests/data/boots"
    kernels = Counter((b["arch"], b["kernel"].rsplit(".", 1)[0]) for b in BOOTS)
    for arch, series in (("x86_64", "6.1"), ("x86_64", "6.12"), ("arm64", "6.1"), ("arm64", "6.12")):
        assert kernels[(arch, series)] >= 20, (arch, series)
    # every machine was booted at least twice, so each case is planned on another boot's log
    per_key = Counter((b["arch"], b["config_key"]) for b in BOOTS)
    assert min(per_key.values()) >= 2
    assert len(BY_KEY) == len(BOOTS)


def _show(rs: list[dict]) -> str:
    return " ".join(f"{r['kind']}:{r['start']:#x}+{r['size'] >> 20}M" for r in rs) or "nothing"


CASES = [b for b in BOOTS if not moved_image(b)]


@pytest.mark.parametrize("case", CASES, ids=[f"{b['arch']}:{b['id']}" for b in CASES])
def test_boot_log_plans_are_byte_exact(case):
    """Planned on the log of every boot of the same machine (its own log included)."""
    wrong = []
    for c, boot in LOG_PAIRS:
        if c is not case:
            continue
        m = log_machine(boot["arch"], boot["id"])
        assert m.cmdline is not None
        _, res = plan(case, m, with_crashkernel(m.cmdline, case["crashkernel"]))
        if regions(res) != wanted(case):
            wrong.append(f"from {boot['id']}: {_show(regions(res))}")
    assert not wrong, f"the kernel reserved {_show(wanted(case))}; " + "; ".join(wrong)


@pytest.mark.parametrize("case", BOOTS, ids=[f"{b['arch']}:{b['id']}" for b in BOOTS])
def test_iomem_plans_are_byte_exact(case):
    """Planned on the /proc/iomem of every boot of the same machine: it has no command line, and the
    boot's own holes (memmap=, mem=) are in the map already."""
    wrong = []
    for c, boot in IOMEM_PAIRS:
        if c is not case:
            continue
        _, res = plan(case, iomem_machine(boot["arch"], boot["id"]), case["crashkernel"])
        if regions(res) != wanted(case):
            wrong.append(f"from {boot['id']}: {_show(regions(res))}")
    assert not wrong, f"the kernel reserved {_show(wanted(case))}; " + "; ".join(wrong)


@pytest.mark.parametrize("case", CASES, ids=[f"{b['arch']}:{b['id']}" for b in CASES])
def test_kernel_lines_and_totals(case):
    m = log_machine(case["arch"], case["id"])
    outcome, res = plan(case, m, with_crashkernel(m.cmdline, case["crashkernel"]))
    mine = [x.text for x in outcome.messages] + [x.text for x in res.messages]
    dma = {s.start for s in read_boot_log(case["boot_log"]).dma_cma}
    theirs = []
    for line in case["kernel_lines"]:
        s = _clean(line)
        hit = re.match(r"^cma: Reserved \d+ MiB at 0x([0-9a-f]+)", s)
        if STAGE.match(s) and not (hit and int(hit.group(1), 16) in dma):
            theirs.append(s)
    assert mine == theirs
    # /sys/kernel/kexec_crash_size: the main region up to 6.4 (5.10, 6.1), main + low from 6.5
    if not SWITCHES["kexec_crash_size_low"].on(parse_release(case["kernel"])):
        assert sum(r.size for r in res.regions if r.kind == "crashkernel") == case["kexec_crash_size"]
    else:
        assert res.lost == case["kexec_crash_size"]
