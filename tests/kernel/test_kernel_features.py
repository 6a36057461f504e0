"""The architecture × release table (crashplan.kernel.features): what it answers and what is computed from it."""

from __future__ import annotations

import json
import re

import pytest

from conftest import ROOT
from crashplan.kernel import Flow, cma_first_release, evaluate, flow_for, parse_release
from crashplan.kernel.features import (
    ARCH_TABLE,
    first_release,
    has,
    pointers,
    releases_text,
    switch_release,
)
from crashplan.kernel.versions import SUPPORTED_SERIES, SWITCHES
from crashplan.severity import RANK, Severity, worst

G = 1 << 30


def test_every_cell_names_a_switch():
    for arch, row in ARCH_TABLE.items():
        conds = [c for c, _ in row.flows] + [c for c in row[1:] if c is not None]
        for cond in conds:
            for name in cond.names:
                assert name.lstrip("!") in SWITCHES, (arch, name)
        assert row.flows[-1][0].names == (), f"{arch}: the last flow must always hold"


@pytest.mark.parametrize(("arch", "first"), [
    ("x86_64", "6.17"), ("ppc64le", "6.19"), ("arm64", "7.3"), ("riscv64", "7.3"),
    ("loongarch64", None), ("s390x", None),
])
def test_cma_first_release_is_computed(arch, first):
    # the first release where evaluate() itself reserves a ,cma token on this architecture
    assert cma_first_release(arch) == first
    line = "crashkernel=256M crashkernel=1G,cma"
    reserved = [f"{a}.{b}" for a, b in SUPPORTED_SERIES
                if evaluate(line, system_ram=16 * G, kernel=f"{a}.{b}", arch=arch).cma_size]
    assert (reserved[0] if reserved else None) == first


def test_first_release_of_row_features():
    assert first_release("ppc64le", "crash_res_in_iomem") == "6.15"
    assert first_release("arm64", "dma_fallback") == "6.2"
    assert first_release("x86_64", "dma_fallback") is None
    assert first_release("arm64", "high_low") == "5.19"
    assert first_release("riscv64", "high_low") == "6.6"
    assert first_release("loongarch64", "high_low") == "6.8"
    assert switch_release("cma_suffix") == "6.17"


def test_releases_text_groups_architectures():
    assert releases_text("cma", style="plus") == "6.17+ on x86_64, 6.19+ on ppc64le, 7.3+ on arm64 and riscv64"
    assert releases_text("cma", style="paren") == "x86_64 6.17+, ppc64le 6.19+, arm64 and riscv64 7.3+"
    assert releases_text("cma", ("x86_64", "s390x")) == "x86_64 from 6.17"


def test_flows_over_every_release():
    # the timelines of docs/kernel-fidelity.md, one boundary each
    expect = {
        "x86_64": {"6.6": "x86-legacy", "6.7": "generic"},
        "arm64": {"5.18": "plain", "5.19": "arm64-legacy", "6.7": "generic"},
        "riscv64": {"5.12": "none", "5.13": "plain", "6.6": "arm64-legacy", "6.7": "generic"},
        "loongarch64": {"6.2": "none", "6.3": "plain", "6.8": "generic"},
        "ppc64le": {"6.14": "plain", "6.15": "generic"},
        "s390x": {"4.14": "plain", "7.3": "plain"},
    }
    for arch, points in expect.items():
        for rel, flow in points.items():
            assert flow_for(arch, parse_release(rel)) == flow, (arch, rel)
    assert pointers("ppc64le", parse_release("6.19")) == (False, True)
    assert pointers("loongarch64", parse_release("7.3")) == (True, False)


def test_a_distribution_profile_overrides_the_table():
    # SLES 15 SP7 (6.4 base) carries the 6.7 generic reservation and x86 ,cma: the table follows its switches
    sles = parse_release("6.4.0-150700.53.3-default")
    assert flow_for("x86_64", sles) is Flow.GENERIC
    assert pointers("x86_64", sles) == (True, True)
    assert flow_for("x86_64", parse_release("6.4")) is Flow.X86_LEGACY
    assert has("arm64", "cma", sles) is False


def test_flow_and_severity_read_as_their_words():
    o = evaluate("crashkernel=256M", system_ram=16 * G, kernel="6.12", arch="x86_64")
    assert isinstance(o.flow, Flow)
    assert (o.flow == "generic", f"{o.flow}", str(o.flow), json.dumps(o.flow)) == (True, "generic", "generic",
                                                                                   '"generic"')
    assert (f"{Severity.ERROR}", json.dumps([Severity.INFO]), RANK[Severity.WARNING]) == ("error", '["info"]', 1)
    assert worst(Severity.INFO, Severity.WARNING) is Severity.WARNING
    assert worst("error", "error") == "error"


def test_no_release_comparison_outside_the_kernel_package():
    """Release checks go through SWITCHES and the table: no ``at_least(`` outside crashplan/kernel/."""
    hits = []
    for path in (ROOT / "crashplan").rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("crashplan/kernel/"):
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\bat_least\(", line):
                hits.append(f"{rel}:{n}: {line.strip()}")
    assert not hits, "\n".join(hits)


@pytest.mark.parametrize("feature", ["cma", "high_low", "crash_res_in_iomem", "dma_fallback"])
def test_first_release_equals_a_walk_over_every_series(feature):
    """first_release() tries only the series where some switch turns on; a walk over every modelled
    series must find the same first release on every architecture."""
    from crashplan.kernel.features import _CHECKS, ARCH_TABLE, has
    from crashplan.kernel.versions import SUPPORTED_SERIES, KernelRelease

    for arch in (*ARCH_TABLE, "s390x"):
        check = _CHECKS.get(feature)
        walk = next((f"{a}.{b}" for a, b in SUPPORTED_SERIES
                     if (check(arch, KernelRelease(a, b)) if check else has(arch, feature, KernelRelease(a, b)))),
                    None)
        assert first_release(arch, feature) == walk, arch
