"""The proof: plan real boots' crashkernel= parameters on another boot's log and get the kernel's bytes.

For every recorded boot (``tests/data/oracle/boot-vectors.jsonl.gz``, Debian kernels under qemu), take
the boot log of each boot with the same ``config_key`` — the other boots, and the case's own log whose
crash lines must be ignored — read it with ``parse_boot_log``, put the case's ``crashkernel=`` tokens on
that log's command line (keeping ``memmap=``/``mem=`` …), ``evaluate`` it for the log's release and
architecture, ``reserve`` it, and compare with what the kernel reserved, byte for byte, and with the
kernel's own log lines.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

import pytest

from conftest import DATA, load_jsonl_gz
from crashplan.cmdline import split_params
from crashplan.kernel import evaluate
from crashplan.memmap.bootlog import _clean, parse_boot_log
from crashplan.memmap.iomem import parse_iomem
from crashplan.memmap.model import Machine
from crashplan.simulate import reserve

BOOTS = load_jsonl_gz(DATA / "oracle" / "boot-vectors.jsonl.gz")
BY_KEY = {(b["arch"], b["id"]): b for b in BOOTS}
PAIRS = [
    (c, b)
    for c in BOOTS
    for b in BOOTS
    if b["config_key"] == c["config_key"]
]
# the kernel's reservation-stage lines (what reserve() and evaluate() print)
STAGE = re.compile(r"^(crashkernel|cannot allocate|Cannot reserve|Reserving|cma: |setup: |Crash kernel)")


@lru_cache(maxsize=None)
def machine_of(arch: str, boot_id: str) -> Machine:
    b = BY_KEY[(arch, boot_id)]
    return parse_boot_log(b["boot_log"], source=f"{arch}:{boot_id}")


def with_crashkernel(cmdline: str, crashkernel: str) -> str:
    """The log's command line with its crashkernel= parameters replaced by ``crashkernel``."""
    kept = [cmdline[p.start:p.end] for p in split_params(cmdline) if p.name != "crashkernel"]
    return " ".join(kept + [crashkernel])


def plan(case: dict, boot: dict):
    m = machine_of(boot["arch"], boot["id"])
    assert m.cmdline is not None
    cmdline = with_crashkernel(m.cmdline, case["crashkernel"])
    outcome = evaluate(cmdline, system_ram=m.ram_size(), kernel=m.kernel, arch=m.arch)
    return outcome, reserve(outcome, m, cmdline=cmdline)


@lru_cache(maxsize=None)
def iomem_machine_of(arch: str, boot_id: str) -> Machine:
    """What ``crashplan check --iomem FILE --kernel REL --arch ARCH`` plans on: the map alone (the file
    names neither release nor architecture, and has no command line)."""
    b = BY_KEY[(arch, boot_id)]
    return Machine(memmap=parse_iomem(b["iomem"], source=f"{arch}:{boot_id}"), arch=arch, kernel=b["kernel_release"])


def plan_iomem(case: dict, boot: dict):
    m = iomem_machine_of(boot["arch"], boot["id"])
    outcome = evaluate(case["crashkernel"], system_ram=m.ram_size(), kernel=m.kernel, arch=m.arch)
    return reserve(outcome, m, cmdline=case["crashkernel"])


def _id(pair: tuple[dict, dict]) -> str:
    c, b = pair
    return f"{c['arch']}:{c['id']}<-{b['id']}"


def test_every_boot_is_replayed_from_its_own_and_other_logs():
    per_case = Counter((c["arch"], c["id"]) for c, _ in PAIRS)
    assert set(per_case) == {(b["arch"], b["id"]) for b in BOOTS}
    assert len(PAIRS) == 171
    # at least one case per configuration is planned on a *different* boot's log
    assert sum(1 for c, b in PAIRS if c["id"] != b["id"]) == 171 - len(BOOTS)


@pytest.mark.parametrize("pair", PAIRS, ids=[_id(p) for p in PAIRS])
def test_regions_byte_exact(pair):
    case, boot = pair
    _, res = plan(case, boot)
    got = [{"kind": r.kind, "start": r.start, "end": r.end, "size": r.size} for r in res.regions]
    want = [{k: r[k] for k in ("kind", "start", "end", "size")} for r in case["reservations"]]
    assert got == want


@pytest.mark.parametrize("pair", PAIRS, ids=[_id(p) for p in PAIRS])
def test_regions_byte_exact_from_iomem(pair):
    """The same plan from the other boot's /proc/iomem: on arm64 it lists memblock as it was after
    boot, so the allocations made after the crash reservation (swiotlb, hash tables, that boot's crash
    regions) must be told apart."""
    case, boot = pair
    res = plan_iomem(case, boot)
    got = [{"kind": r.kind, "start": r.start, "end": r.end, "size": r.size} for r in res.regions]
    want = [{k: r[k] for k in ("kind", "start", "end", "size")} for r in case["reservations"]]
    assert got == want


@pytest.mark.parametrize("pair", PAIRS, ids=[_id(p) for p in PAIRS])
def test_kernel_lines_match(pair):
    case, boot = pair
    outcome, res = plan(case, boot)
    mine = [m.text for m in outcome.messages] + [m.text for m in res.messages]
    theirs = [_clean(line) for line in case["kernel_lines"]]
    # the arm64 DMA CMA area (CONFIG_CMA_SIZE_MBYTES) is reserved just before: part of the machine
    dma_cma = {s for s in theirs if s.startswith("cma: Reserved 64 MiB at 0x00000000fc000000")}
    theirs = [s for s in theirs if STAGE.match(s) and s not in dma_cma]
    assert mine == theirs


def test_lost_and_cma_totals_match_the_kernel():
    """``lost`` is what /sys/kernel/kexec_crash_size reports on ≥ 6.5 (main + low); ``cma`` is CmaTotal
    minus the DMA area."""
    for case in BOOTS:
        _, res = plan(case, case)
        if case["kernel"].startswith("6.1."):
            main = sum(r.size for r in res.regions if r.kind == "crashkernel")
            assert main == case["kexec_crash_size"], case["id"]
        else:
            assert res.lost == case["kexec_crash_size"], case["id"]
        if case["cma_total_kb"] is not None:
            dma = 65536 if case["arch"] == "arm64" else 0
            assert res.cma == (case["cma_total_kb"] - dma) * 1024, case["id"]


def test_x86_kernel_image_model_ends_where_iomem_shows_the_bss_end():
    """The image reservation (``_text`` … ``__end_of_kernel_reserve`` = ``__bss_stop``) modelled from the
    ``Memory:`` line ends where the same boot's /proc/iomem ``Kernel bss`` ends, on every x86 kernel."""
    from crashplan.kernel import parse_release
    from crashplan.simulate import early_allocations

    checked = set()
    for b in BOOTS:
        if b["arch"] != "x86_64":
            continue
        m = machine_of(b["arch"], b["id"])
        early, _ = early_allocations(m, "x86_64", parse_release(m.kernel), m.memmap.ram, m.memmap.reserved)
        image = next(s for s in early if s.name.startswith("kernel image"))
        bss = re.search(r"^\s*([0-9a-f]+)-([0-9a-f]+) : Kernel bss$", b["iomem"], re.M)
        assert (image.start, image.end) == (0x1000000, int(bss.group(2), 16) + 1), b["id"]
        checked.add(b["kernel"])
    assert checked == {"6.1.192", "6.12.118", "7.2.13", "7.3.4"}


def test_arm64_kernel_image_model_covers_the_image_up_to_the_same_2m_boundary():
    """qemu virt loads the image at RAM + 2 MiB; memblock reserves _stext … _end (/proc/iomem Kernel
    code … Kernel data). The model may be a little larger, never smaller, and never past the next 2 MiB
    boundary (crash regions and @offsets are 2 MiB-aligned)."""
    from crashplan.kernel import parse_release
    from crashplan.simulate import early_allocations

    checked = set()
    for b in BOOTS:
        if b["arch"] != "arm64":
            continue
        m = machine_of(b["arch"], b["id"])
        early, _ = early_allocations(m, "arm64", parse_release(m.kernel), m.memmap.ram, m.memmap.reserved)
        image = next(s for s in early if s.name.startswith("kernel image"))
        code = re.search(r"^\s*([0-9a-f]+)-[0-9a-f]+ : Kernel code$", b["iomem"], re.M)
        data = re.search(r"^\s*[0-9a-f]+-([0-9a-f]+) : Kernel data$", b["iomem"], re.M)
        real_start, real_end = int(code.group(1), 16), int(data.group(1), 16) + 1
        assert image.start <= real_start and real_end <= image.end, b["id"]
        assert -(-image.end // (2 << 20)) == -(-real_end // (2 << 20)), b["id"]
        checked.add(b["kernel"])
    assert checked == {"6.1.192", "6.12.118", "7.3.4"}
