"""The pure fleet core: needs, replay cache, the range planner, exclusion, and what it imports."""

from __future__ import annotations

import itertools
import json
import os
import pty
import random
import subprocess
import sys

import pytest

from conftest import ROOT, drain_pty

from crashplan.fleet import (
    Cache,
    Entry,
    check,
    effective_ram,
    judge,
    kdump_refusal,
    machine_need,
    plan,
    range_line,
    segment,
)
from crashplan.memmap.machine import load_machine

EXAMPLES = ROOT / "examples"
GiB = 1 << 30
MiB = 1 << 20


def _machine(name: str):
    p = EXAMPLES / f"{name}.yaml"
    return load_machine(p.read_text(), source=str(p))


def _entry(name: str, as_name: str | None = None) -> Entry:
    m = _machine(name)
    if as_name:
        m = m.replace(name=as_name)
    return Entry(as_name or name, f"{name}.yaml", m)


def test_core_imports_neither_click_nor_rich_nor_yaml():
    for mod in ("crashplan.fleet", "crashplan.fleet.render"):
        r = subprocess.run([sys.executable, "-c", f"import sys, {mod}; "
                            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('rich', 'yaml', 'click')))"],
                           capture_output=True, text=True, check=True)
        assert r.stdout.strip() == "[]", mod


def test_identical_machines_are_sized_and_replayed_once():
    cache = Cache()
    entries = [_entry("x86_64-server-16g", f"srv{i}") for i in range(5)] + [_entry("x86_64-vm-2g")]
    report = check("crashkernel=256M", entries, cache=cache)
    assert cache.misses == 2 and cache.hits == 4
    assert [v.name for v in report.verdicts] == [f"srv{i}" for i in range(5)] + ["x86_64-vm-2g"]
    assert len({(v.size, v.needed, v.status) for v in report.verdicts[:5]}) == 1
    # a different map is not a hit
    m = entries[0].machine
    moved = m.replace(memmap=m.memmap.replace(ram=m.memmap.ram[:-1]))
    judge("crashkernel=256M", Entry("moved", "moved.yaml", moved), cache=cache)
    assert cache.misses == 3


def test_cache_stays_bounded():
    cache = Cache(limit=2)
    for name in ("x86_64-server-16g", "x86_64-vm-2g", "x86_64-qemu-4g", "x86_64-laptop-16g"):
        judge("crashkernel=256M", _entry(name), cache=cache)
        assert len(cache.verdicts) <= 2 and len(cache.needs) <= 2


def test_need_is_suggests_classic_plan():
    from crashplan.sizing.inputs import Overrides, Sources, build_inputs
    from crashplan.sizing.plans import suggest

    m = _machine("x86_64-qemu-4g")
    inputs, facts, rules, _ = build_inputs(machine=m, sources=Sources(), overrides=Overrides())
    s = suggest(inputs, release=rules, facts=facts, machine=m)
    fast = machine_need(m)
    full = machine_need(m, cma=True)
    assert fast.classic == full.classic == s.plan("classic").crashkernel
    assert full.cma == s.plan("cma").cma and full.cma_classic == s.plan("cma").crashkernel


def test_kdump_refusal():
    assert "CONFIG_CRASH_DUMP" in kdump_refusal(_machine("x86_64-microvm-24g"))
    assert kdump_refusal(_machine("x86_64-server-16g")) is None
    m = _machine("arm64-qemu-virt-4g")  # no CONFIG_KEXEC_FILE, kexec_load still works
    assert kdump_refusal(m) is None
    m2 = m.replace(kdump={"kernel_config": {"CONFIG_KEXEC": "n", "CONFIG_KEXEC_FILE": False}})
    assert "CONFIG_KEXEC" in kdump_refusal(m2)


def _cost(points, runs):
    return sum(sum(p[1] for p in points[i:j + 1]) * max(p[2] for p in points[i:j + 1]) for i, j in runs)


def _brute(points, k):
    n = len(points)
    best = None
    for r in range(0, min(k, n)):
        for cuts in itertools.combinations(range(1, n), r):
            b = (0, *cuts, n)
            runs = [(b[x], b[x + 1] - 1) for x in range(len(b) - 1)]
            if any(max(p[2] for p in points[i:j + 1]) >= points[i][0] for i, j in runs):
                continue
            c = _cost(points, runs)
            best = c if best is None or c < best else best
    return best


def test_segment_is_optimal_against_brute_force():
    rng = random.Random(14)
    for _ in range(200):
        n = rng.randint(1, 7)
        rams = sorted(rng.sample(range(1, 64), n))
        pts = [(r * GiB, rng.randint(1, 20), rng.choice((112, 160, 232, 304, 512)) * MiB) for r in rams]
        k = rng.randint(1, 4)
        runs = segment(pts, k)
        want = _brute(pts, k)
        if want is None:
            assert runs is None
        else:
            assert runs is not None and len(runs) <= k and _cost(pts, runs) == want


def test_range_line_selects_enough_for_every_machine_through_the_kernel_parser():
    from crashplan.kernel import evaluate

    rng = random.Random(3)
    for release in ("5.15", "6.12", "7.2"):
        pairs = []
        raw = []
        for _ in range(60):
            ram = rng.choice((2, 3, 4, 8, 16, 24, 32, 64, 96, 128, 512, 1024)) * GiB - rng.choice((0, 1, 300)) * MiB
            need = (112 + 8 * rng.randint(0, 40)) * MiB
            raw.append((ram, need))
            pairs.append((effective_ram(ram, release), need))
        for k in (1, 2, 4, 6):
            text, ranges = range_line(pairs, k)
            assert len(ranges) <= k
            for ram, need in raw:
                out = evaluate(f"crashkernel={text}", system_ram=ram, kernel=release, arch="x86_64")
                assert out.accepted and out.crash_size >= need, (release, k, text, ram, need)


def test_many_distinct_ram_sizes_still_give_a_valid_line():
    from crashplan.kernel import evaluate

    rng = random.Random(5)
    raw = [(rng.randrange(2 * GiB, 2048 * GiB, 4096), (112 + 8 * rng.randint(0, 60)) * MiB) for _ in range(5000)]
    text, ranges = range_line([(effective_ram(r, "6.12"), n) for r, n in raw], 6)
    assert len(ranges) <= 6
    for ram, need in raw[:500]:
        out = evaluate(f"crashkernel={text}", system_ram=ram, kernel="6.12", arch="x86_64")
        assert out.accepted and out.crash_size >= need


def test_more_ranges_never_lose_more():
    pairs = [(r * GiB, n * MiB) for r, n in ((2, 160), (4, 176), (8, 200), (16, 232), (64, 304), (1024, 512))]
    costs = []
    for k in range(1, 7):
        _, ranges = range_line(pairs, k)
        sizes = {}
        for lo, hi, s in ranges:
            for r, _n in pairs:
                if r >= lo and (hi is None or r < hi):
                    sizes[r] = s
        costs.append(sum(sizes.values()))
    assert costs == sorted(costs, reverse=True) and costs[-1] == sum(n for _, n in pairs)


def test_plan_prefers_high_with_a_small_low_region_when_that_loses_less():
    # a 1 TiB host whose kdump needs more than its 1.47 GiB of RAM below 4 GiB: a plain size lands
    # above 4 GiB with the kernel's 256M default low region; ,high with 72M,low loses 184M less
    m = _machine("x86_64-host-1t")
    kd = dict(m.kdump)
    kd["initrd"] = {"size": 900 * MiB, "unpacked_size": 1100 * MiB}
    big = Entry("big", "big.yaml", m.replace(kdump=kd))
    plain = judge(f"crashkernel={machine_need(big.machine).classic >> 20}M", big)
    assert plain.ok and plain.low == 256 * MiB
    rep = plan([big])
    v = rep.verdicts[0]
    assert rep.cmdline.endswith(",high crashkernel=72M,low") and v.ok and v.low == 72 * MiB
    assert v.lost == plain.lost - 184 * MiB and v.size >= v.needed
    # a fleet of small guests keeps the plain range line
    rep = plan([_entry("x86_64-vm-2g"), _entry("x86_64-qemu-4g")])
    assert ",high" not in rep.cmdline and rep.exit_status == 0


def test_exclusion_by_name_or_file_pattern():
    entries = [_entry("x86_64-microvm-24g"), _entry("x86_64-vm-2g")]
    rep = check("crashkernel=256M", entries, exclude=("*microvm*",))
    assert [v.status for v in rep.verdicts] == ["excluded", "ok"] and rep.exit_status == 0
    rep = check("crashkernel=256M", entries, exclude=("x86_64-microvm-24g.yaml",))
    assert rep.verdicts[0].status == "excluded"
    rep = check("crashkernel=256M", entries)  # a machine that cannot run kdump is not judged
    assert rep.exit_status == 0 and rep.causes() == {} and [v.name for v in rep.not_judged] == ["x86_64-microvm-24g"]
    rep = check("crashkernel=256M", entries, strict=True)
    assert rep.exit_status == 1 and rep.causes() == {"no-kdump": ["x86_64-microvm-24g"]}


def test_cma_variant_when_every_kernel_reserves_cma():
    # the laptop (6.19) and the qemu guest (7.3) both reserve ,cma on x86_64
    entries = [_entry("x86_64-laptop-16g"), _entry("x86_64-qemu-4g")]
    rep = plan(entries)
    assert rep.cma is not None and rep.cma.cmdline and rep.cma.cmdline.endswith(",cma")
    for v in rep.cma.verdicts:
        assert v.ok and v.cma >= v.cma_needed and v.size >= v.needed
    assert rep.cma.lost < rep.classic.lost
    # and none when one kernel does not
    rep = plan([*entries, _entry("x86_64-server-16g")])
    assert rep.cma.cmdline is None and "x86_64-server-16g" in rep.cma.refused


def test_reader_reuses_a_machine_that_differs_only_in_its_name(tmp_path):
    from crashplan.cli.fleet_cmd import _SnapshotReader

    src = (EXAMPLES / "x86_64-server-16g.yaml").read_text()
    a = tmp_path / "a.yaml"
    b = tmp_path / "b.yaml"
    c = tmp_path / "c.yaml"
    a.write_text(src)
    b.write_text(src.replace('name: "x86_64-server-16g"', "name: rack2-srv7"))
    c.write_text(src.replace('name: "x86_64-server-16g"', 'name: "esc\\u0041ped"'))
    reader = _SnapshotReader()
    ma, mb, mc = reader.load(str(a)), reader.load(str(b)), reader.load(str(c))
    assert mb.name == "rack2-srv7" and mc.name == "escAped"
    assert mb.replace(name="") == ma.replace(name="")
    assert len(reader.seen) == 1


def test_progress_bar_on_a_terminal(tmp_path):
    master, slave = pty.openpty()
    try:
        files = sorted(str(p) for p in EXAMPLES.glob("x86_64-*.yaml")) * 30
        r = subprocess.run([sys.executable, "-m", "crashplan", "fleet", "check", "crashkernel=256M", *files,
                            "--format", "json"], stdout=subprocess.PIPE, stderr=slave, timeout=300,
                           env=dict(os.environ, TERM="xterm", COLUMNS="80"))
        os.close(slave)
        slave = -1
        seen = drain_pty(master)
    finally:
        if slave >= 0:
            os.close(slave)
        os.close(master)
    assert r.returncode == 0  # 256M serves every machine judged
    assert len(json.loads(r.stdout)["machines"]) == len(files)
    assert b"checking" in seen


@pytest.mark.parametrize("release", ["5.15", "6.12"])
def test_effective_ram_follows_the_kernel_rounding(release):
    ram = 2 * GiB - 100 * MiB
    eff = effective_ram(ram, release)
    assert eff == (2 * GiB if release == "6.12" else ram)


def test_text_report_shows_at_most_30_groups_failing_ones_first():
    from crashplan.fleet import FleetReport, Verdict
    from crashplan.fleet.render import render_text

    vs = []
    for i in range(40):
        bad = i >= 35
        vs.append(Verdict(name=f"m{i}", file=f"m{i}.yaml", arch="x86_64", kernel=f"6.{i}.0", ram=4 * GiB,
                          reserves=not bad, size=0 if bad else 256 * MiB, low=0, cma=0, needed=232 * MiB,
                          cma_needed=None, lost=0 if bad else 256 * MiB, ok=not bad,
                          status="reserves-nothing" if bad else "ok", reason="x" if bad else None,
                          default=256 * MiB))
    text = render_text(FleetReport(command="check", cmdline="crashkernel=256M", verdicts=tuple(vs)))
    shown = [ln for ln in text.splitlines() if ln.startswith("x86_64 6.")]
    assert len(shown) == 30
    assert all(any(ln.startswith(f"x86_64 6.{i}.0 ") for ln in shown) for i in range(35, 40))
    assert "… and 10 more groups" in text


def test_a_snapshot_of_a_kernel_without_kexec_is_named_no_kdump(tmp_path):
    """`crashplan snapshot` records CONFIG_KEXEC as well, so a real snapshot of a kernel built without
    kexec (like the micro-VM of the examples) is refused by fleet, not passed."""
    import shutil

    from crashplan.cli.probe import probe_host

    root = tmp_path / "host"
    shutil.copytree(ROOT / "tests" / "data" / "machines" / "hosts" / "x86_64-root", root)
    cfg = next((root / "boot").glob("config-*"))
    m = probe_host(root)
    assert kdump_refusal(m) is None  # CONFIG_KEXEC_FILE=y
    cfg.write_text("CONFIG_64BIT=y\n# CONFIG_KEXEC is not set\n# CONFIG_KEXEC_FILE is not set\n# CONFIG_CMA is not set\n")
    m = probe_host(root)
    assert m.kdump["kernel_config"] == {"CONFIG_CMA": False, "CONFIG_KEXEC": False, "CONFIG_KEXEC_FILE": False}
    assert "CONFIG_KEXEC" in kdump_refusal(m)
    rep = check("crashkernel=256M", [Entry("h", "h.yaml", m)], strict=True)
    assert rep.causes() == {"no-kdump": ["h"]} and rep.exit_status == 1
    rep = check("crashkernel=256M", [Entry("h", "h.yaml", m)])
    assert rep.causes() == {} and rep.exit_status == 0 and rep.verdicts[0].status == "no-kdump"
    g = rep.groups[0]
    assert (g.planned, g.default, g.saved) == (0, 0, 0)  # a machine without kdump is not "saved" memory


def test_not_judged_statuses_never_hide_a_failure_of_the_line():
    """no-kdump and unplaced are set apart; every other status that is not ok fails the line, unsized
    included (its need is unknown: a line too small for it would pass unseen)."""
    from crashplan.fleet import NOT_JUDGED, STATUSES, FleetReport, Verdict

    assert NOT_JUDGED == ("no-kdump", "unplaced")
    for status in STATUSES:
        if status in ("ok", "excluded"):
            continue
        v = Verdict(name="m", file="m.yaml", arch="x86_64", kernel="6.12", ram=4 * GiB, reserves=False, size=0,
                    low=0, cma=0, needed=None, cma_needed=None, lost=0, ok=False, status=status, reason="why",
                    default=None)
        for strict in (False, True):
            rep = FleetReport(command="check", cmdline="crashkernel=256M", verdicts=(v,), strict=strict)
            judged = status not in NOT_JUDGED
            assert rep.exit_status == (1 if judged or strict else 0), (status, strict)
            assert rep.causes() == ({status: ["m"]} if judged or strict else {}), (status, strict)
            assert [x.name for x in rep.not_judged] == ([] if judged else ["m"])
            doc = rep.as_dict()
            assert doc["not_judged"] == ([] if judged else ["m"]) and doc["ok"] is (rep.exit_status == 0)


def test_an_unsized_machine_still_fails_the_line():
    m = _machine("x86_64-vm-2g")
    rep = check("crashkernel=256M", [Entry("noarch", "noarch.yaml", m.replace(arch=None))])
    assert rep.verdicts[0].status == "unsized" and rep.exit_status == 1 and rep.not_judged == ()


def test_a_snapshot_without_root_is_still_judged_on_its_size():
    """Only the placement of a machine without a layout is not judged: a line too small for it fails."""
    e = _entry("x86_64-nonroot-snapshot")
    rep = check("crashkernel=256M", [e])
    assert rep.verdicts[0].status == "unplaced" and rep.exit_status == 0
    rep = check("crashkernel=64M", [e])
    assert rep.verdicts[0].status == "too-small" and rep.exit_status == 1 and rep.not_judged == ()
    assert rep.causes() == {"too-small": ["x86_64-nonroot-snapshot"]}
