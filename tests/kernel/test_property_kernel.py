"""Properties of the kernel port (hypothesis, bounded budget; part of the normal run)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crashplan.diagnose import Target, diagnose
from crashplan.kernel import evaluate
from crashplan.kernel._cmdline import ULLONG_MAX, memparse

pytestmark = pytest.mark.property

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

RELEASES = st.sampled_from(["4.14", "4.19", "5.1", "5.4", "5.10", "5.15", "5.19", "6.1", "6.2", "6.6", "6.7", "6.11", "6.12", "6.15", "6.17", "6.19",
                            "7.1", "7.2", "7.3"])
ARCHES = st.sampled_from(["x86_64", "arm64", "riscv64", "loongarch64", "ppc64le", "s390x"])
RAM = st.one_of(st.integers(0, ULLONG_MAX), st.sampled_from([0, 1, 1 << 30, (4 << 30) - 1, 4 << 30, ULLONG_MAX]))
PIECES = st.sampled_from(["crashkernel=", "256M", "1G", ",high", ",low", ",cma", "@", "16M", "-", ":", ",", " ",
                          "\t", '"', "0x", "010", "E", "k", "auto", "fadump=on", "--", "=", "x"])
CMDLINE = st.one_of(st.text(max_size=80), st.lists(PIECES, max_size=16).map("".join))


@SETTINGS
@given(CMDLINE, RAM, RELEASES, ARCHES)
def test_evaluate_never_raises_and_stays_in_range(cmdline, ram, kernel, arch):
    o = evaluate(cmdline, system_ram=ram, kernel=kernel, arch=arch)
    assert o.ret in (0, -2, -22)
    for v in (o.crash_size, o.crash_base, o.low_size or 0, o.cma_size or 0):
        assert 0 <= v <= ULLONG_MAX
    assert all(m.level in ("warn", "info") for m in o.messages)
    if o.accepted and o.flow == "generic":
        assert o.ret == 0 and o.crash_size > 0


@SETTINGS
@given(CMDLINE, RAM, RELEASES, ARCHES)
def test_evaluate_is_deterministic(cmdline, ram, kernel, arch):
    assert evaluate(cmdline, system_ram=ram, kernel=kernel, arch=arch) == evaluate(
        cmdline, system_ram=ram, kernel=kernel, arch=arch)


@SETTINGS
@given(st.sampled_from(["", "0x", "0"]), st.integers(0, 1 << 70), st.sampled_from(["", "K", "M", "G", "T", "P", "E"]),
       st.booleans())
def test_memparse_matches_an_independent_reference(prefix, n, unit, saturate):
    digits = {"": str(n), "0x": format(n, "x"), "0": format(n, "o")}[prefix]
    if prefix == "0x" and unit == "E":
        n, unit = int(digits + "e", 16), ""  # in hex, E is a digit, not a unit (kernel-semantics §2.1)
    text = (prefix + digits + unit).encode() if unit or prefix != "0x" else (prefix + format(n, "x")).encode()
    value, end = memparse(text, 0, saturate=saturate)
    shift = {"": 0, "K": 10, "M": 20, "G": 30, "T": 40, "P": 50, "E": 60}[unit]
    exact = n << shift
    if saturate:
        assert value == min(exact, ULLONG_MAX)
    else:
        assert value == (n % (1 << 64)) << shift & ULLONG_MAX
    assert end == len(text)


@SETTINGS
@given(CMDLINE, RELEASES, ARCHES, st.integers(1 << 20, 1 << 44))
def test_diagnose_never_raises_and_fixes_parse(cmdline, kernel, arch, ram):
    for d in diagnose(cmdline, [Target(kernel, arch, ram)]):
        assert d.severity in ("error", "warning", "info")
        if d.span is not None:
            assert 0 <= d.span[0] <= d.span[1] <= len(cmdline)
        if d.fix is not None:
            evaluate(d.fix, system_ram=ram, kernel=kernel, arch=arch)
