"""One test per behavioural switch of the version matrix (kernel-semantics §8.2).

Each test shows the release just before and the release of the change; the switch table itself is
``crashplan.kernel.versions.SWITCHES``.  Switches that only show in the reservation (search bases,
alignment, the low region) are also exercised by the simulator's tests.
"""

from __future__ import annotations

import pytest

from crashplan.kernel import (
    cma_supported,
    crash_res_in_iomem,
    evaluate,
    flow_for,
    high_low_supported,
    kexec_crash_size,
    parse_release,
)
from crashplan.kernel.versions import SWITCHES

G = 1 << 30
M = 1 << 20


def ev(cmdline, kernel, arch="x86_64", ram=16 * G):
    return evaluate(cmdline, system_ram=ram, kernel=kernel, arch=arch)


def test_every_switch_is_tested_here():
    tested = {name[len("test_switch_"):] for name in globals() if name.startswith("test_switch_")}
    assert tested == set(SWITCHES)


def test_switch_roundup_128m():
    # 3993 MiB of memblock RAM: 5.19 matches [1G,4G) -> 192M; 6.0 rounds up to 4096M -> [4G,64G) -> 256M
    line = "crashkernel=1G-4G:192M,4G-64G:256M"
    assert ev(line, "5.19", ram=3993 * M).crash_size == 192 * M
    assert ev(line, "6.0", ram=3993 * M).crash_size == 256 * M


def test_switch_enoent():
    assert ev("quiet", "5.15", arch="s390x").ret == -22
    assert ev("quiet", "5.19", arch="s390x").ret == -2
    assert ev("quiet", "6.1", arch="s390x").ret == -2


def test_switch_arm64_high_low():
    # 5.15-5.18: ,high is skipped by the plain lookup and ignored; 5.19: read when no plain token exists
    assert ev("crashkernel=512M,high", "5.18", arch="arm64").accepted is False
    o = ev("crashkernel=512M,high", "5.19", arch="arm64")
    assert (o.accepted, o.high, o.crash_size, o.low_size) == (True, True, 512 * M, 0)


def test_switch_arm64_fallback():
    # 6.1: ,high without ,low gets no low region; 6.2: the 128M default
    assert ev("crashkernel=512M,high", "6.1", arch="arm64").low_size == 0
    assert ev("crashkernel=512M,high", "6.2", arch="arm64").low_size == 128 * M


def test_switch_riscv_high_low():
    assert ev("crashkernel=512M,high", "6.5", arch="riscv64").accepted is False
    o = ev("crashkernel=512M,high", "6.6", arch="riscv64")
    assert (o.accepted, o.high, o.low_size) == (True, True, 128 * M)


def test_switch_loongarch_kdump():
    assert flow_for("loongarch64", parse_release("6.2")) == "none"
    assert ev("crashkernel=256M", "6.2", arch="loongarch64").accepted is False
    assert ev("crashkernel=256M", "6.3", arch="loongarch64").accepted is True


def test_switch_generic_x86_arm64_riscv():
    # an invalid plain token: 6.6 x86 falls through to ,high, 6.7 generic gives up
    line = "crashkernel=foo crashkernel=512M,high"
    old, new = ev(line, "6.6"), ev(line, "6.7")
    assert (old.accepted, old.high, old.flow) == (True, True, "x86-legacy")
    assert (new.accepted, new.ret, new.flow) == (False, -22, "generic")
    for arch in ("arm64", "riscv64"):
        assert flow_for(arch, parse_release("6.7")) == "generic"


def test_switch_generic_loongarch():
    assert ev("crashkernel=512M,high", "6.7", arch="loongarch64").accepted is False
    o = ev("crashkernel=512M,high", "6.8", arch="loongarch64")
    assert (o.accepted, o.high, o.low_size) == (True, True, 128 * M)


def test_switch_prefix_messages():
    line = "crashkernel=0-:A"
    assert [m.text for m in ev(line, "6.8", arch="s390x").messages] == ["Memory value expected"]
    assert [m.text for m in ev(line, "6.9", arch="s390x").messages] == ["crashkernel: Memory value expected"]


def test_switch_typo_fixed():
    line = "crashkernel=2G-:512M@"
    assert ev(line, "6.8").messages[-1].text == "Memory value expected after '@'"
    assert ev(line, "6.12").messages[-1].text == "crahskernel: Memory value expected after '@'"
    assert ev(line, "6.16").messages[-1].text == "crashkernel: Memory value expected after '@'"


def test_switch_high_fallback_guard():
    # the guard lives in the reservation (LOW_MAX == HIGH_MAX, x86_32); here: the release it is on from
    assert not SWITCHES["high_fallback_guard"].on(parse_release("6.10"))
    assert SWITCHES["high_fallback_guard"].on(parse_release("6.11"))


def test_switch_size_ge_ram():
    assert (ev("crashkernel=16G", "6.10").ret, ev("crashkernel=16G", "6.10").accepted) == (0, True)
    o = ev("crashkernel=16G", "6.11")
    assert (o.ret, o.accepted, o.messages) == (-22, False, ())


def test_switch_ppc_generic():
    assert flow_for("ppc64le", parse_release("6.14")) == "plain"
    assert flow_for("ppc64le", parse_release("6.15")) == "generic"
    assert crash_res_in_iomem("ppc64le", "6.14") is False
    assert crash_res_in_iomem("ppc64le", "6.15") is True
    assert crash_res_in_iomem("ppc64le", "6.18") is False


def test_switch_cma_suffix():
    line = "crashkernel=256M crashkernel=1G,cma"
    old = ev(line, "6.16", arch="arm64")
    assert (old.accepted, [m.text for m in old.messages]) == (False, ["crashkernel: unrecognized char: ,"])
    new = ev(line, "6.17", arch="arm64")
    assert (new.accepted, new.crash_size, new.cma_size) == (True, 256 * M, None)


def test_switch_cma_x86():
    line = "crashkernel=256M crashkernel=1G,cma"
    assert ev(line, "6.16").accepted is False
    o = ev(line, "6.17")
    assert (o.accepted, o.crash_size, o.cma_size) == (True, 256 * M, G)
    assert cma_supported("x86_64", "6.17") and not cma_supported("x86_64", "6.16")


def test_switch_cma_ppc():
    line = "crashkernel=1G,cma"
    assert ev(line, "6.18", arch="ppc64le").cma_size is None
    o = ev(line, "6.19", arch="ppc64le")
    assert (o.accepted, o.cma_size) == (False, G)  # powerpc records the CMA size even without a plain token


def test_switch_memparse_saturates():
    assert ev("crashkernel=17E", "7.1", arch="s390x").crash_size == 1 << 60
    assert ev("crashkernel=17E", "7.2", arch="s390x").crash_size == (1 << 64) - 1
    assert ev("crashkernel=99999999999999999999", "7.1", arch="s390x").crash_size == 7766279631452241919
    # a bare suffix: a valid 0 before 7.2, "memory value expected" from 7.2
    assert ev("crashkernel=M", "7.1", arch="s390x").messages == ()
    assert [m.text for m in ev("crashkernel=M", "7.2", arch="s390x").messages] == [
        "crashkernel: memory value expected"]


def test_switch_cma_arm64_riscv():
    line = "crashkernel=256M crashkernel=1G,cma"
    assert ev(line, "7.2", arch="arm64").cma_size is None
    assert ev(line, "7.3", arch="arm64").cma_size == G
    assert ev(line, "7.3", arch="riscv64").cma_size == G
    assert high_low_supported("arm64", "7.3")


def test_switch_kexec_crash_size_low():
    assert kexec_crash_size(512 * M, 256 * M, "6.4") == 512 * M
    assert kexec_crash_size(512 * M, 256 * M, "6.5") == 768 * M


@pytest.mark.parametrize("text,series,distro", [
    ("6.12", (6, 12), None),
    ("6.12.107", (6, 12), None),
    ("6.12.0-55.el10.x86_64", (6, 12), "rhel"),
    ("7.2.13+deb14-amd64", (7, 2), "debian"),
    ("6.1.0-57-amd64", (6, 1), "debian"),
    ("6.8.0-45-generic", (6, 8), "ubuntu"),
])
def test_release_strings(text, series, distro):
    r = parse_release(text)
    assert (r.series, r.distro) == (series, distro)


@pytest.mark.parametrize("bad", ["", "six", "4.18.0-477.el8.x86_64", "7.4", "6.20", "5"])
def test_release_strings_rejected(bad):
    with pytest.raises(ValueError):
        parse_release(bad)
