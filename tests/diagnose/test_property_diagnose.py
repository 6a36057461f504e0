"""Properties of diagnose() and check's report (hypothesis, bounded budget; part of the normal run).

Command lines come from anywhere (argv, /proc/cmdline, boot-loader files read with
``surrogateescape``), so the text includes lone surrogates, control characters and numbers past 2^64.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from crashplan.check import build_report, report_json
from crashplan.diagnose import Target, diagnose
from crashplan.kernel import evaluate

pytestmark = pytest.mark.property

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
U64 = (1 << 64) - 1

RELEASES = st.sampled_from(["6.1", "6.6", "6.12", "6.17", "7.2", "7.3", "6.12.0-55.el10.x86_64"])
ARCHES = st.sampled_from(["x86_64", "arm64", "riscv64", "loongarch64", "ppc64le", "s390x"])
RAM = st.one_of(st.integers(1, U64), st.sampled_from([1, 1 << 30, (4 << 30) - 1, 4 << 30, 16 << 30, U64]))
# any character a surrogateescape read can yield: text, and the lone surrogates U+DC80..U+DCFF of undecodable bytes
ANY_CHAR = st.one_of(st.characters(), st.integers(0xDC80, 0xDCFF).map(chr))
PIECES = st.sampled_from(["crashkernel=", "256M", "1G", ",high", ",low", ",cma", "@", "16M", "-", ":", ",", " ",
                          "\t", '"', "0x", "010", "0100", "E", "B", "iB", "auto", "--", "=", "\udcff", "\udcb9",
                          "18446744073709551616", "99999999999999999999", "1.5G", "٣"])
CMDLINE = st.one_of(st.text(ANY_CHAR, max_size=60), st.lists(PIECES, max_size=14).map("".join))


@SETTINGS
@given(CMDLINE, st.lists(st.tuples(RELEASES, ARCHES, RAM), min_size=1, max_size=3))
@example("crashkernel=0100\udcb9", [("7.2", "x86_64", 16 << 30)])  # an octal number before an undecodable byte
def test_diagnose_never_raises_and_points_inside_the_command_line(cmdline, targets):
    ts = [Target(*t) for t in targets]
    for d in diagnose(cmdline, ts):
        assert d.severity in ("error", "warning", "info")
        assert d.code.startswith("CK") and d.name and d.message
        if d.span is not None:
            assert 0 <= d.span[0] <= d.span[1] <= len(cmdline)
        assert set(d.targets) <= set(ts)
        if d.fix is not None:
            for t in d.targets or ts:
                evaluate(d.fix, system_ram=t.system_ram, kernel=t.kernel, arch=t.arch)


@SETTINGS
@given(CMDLINE, RELEASES, ARCHES, RAM)
def test_check_report_is_json_and_agrees_with_the_parser(params, kernel, arch, ram):
    r = build_report(params, kernel=kernel, arch=arch, system_ram=ram)
    doc = json.loads(json.dumps(report_json(r)))
    o = evaluate(params, system_ram=ram, kernel=kernel, arch=arch)
    assert doc["parse"]["ret"] == o.ret and doc["parse"]["accepted"] == o.accepted
    assert doc["replayed"] is False and doc["reservations"] == []
    assert doc["exit_status"] == r.exit_status == (1 if r.problem else 0)
    assert doc["reserves"] == o.accepted


@SETTINGS
@given(CMDLINE, st.lists(st.tuples(RELEASES, ARCHES, RAM), min_size=1, max_size=2))
def test_diagnose_is_deterministic(cmdline, targets):
    ts = [Target(*t) for t in targets]
    assert diagnose(cmdline, ts) == diagnose(cmdline, ts)


def test_octal_before_an_undecodable_byte_is_diagnosed_not_crashed():
    """Found by fuzz/run.py (diagnose surface): the character after an octal number was encoded strictly."""
    ds = diagnose("crashkernel=0100\udcb9", [Target("7.2", "x86_64", 16 << 30)])
    assert "CK202" in {d.code for d in ds}
