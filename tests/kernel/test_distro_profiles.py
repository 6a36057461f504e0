"""Distribution profiles: each behaviour a distribution kernel changes, with the source it was read from.

The sources are named in each test's docstring and in crashplan/kernel/distros.py.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import DATA
from crashplan.kernel import distribution_facts, evaluate, parse_release
from crashplan.kernel.distros import AUTO_MESSAGE, PROFILES, get
from crashplan.kernel.versions import SWITCHES

M = 1 << 20
G = 1 << 30


def _needs_4_14():
    try:
        parse_release("4.18")
    except ValueError:
        pytest.skip("mainline releases before 5.15 are not modelled in this tree")


# ---------------------------------------------------------------- which profile a release string selects

@pytest.mark.parametrize("text,key,family,base", [
    ("4.18.0-553.el8_10.x86_64", "rhel8.10", "rhel", (4, 18)),
    ("4.18.0-513.24.1.el8_9.aarch64", "rhel8.9", "rhel", (4, 18)),
    ("4.18.0-147.el8.x86_64", "rhel8.1-early", "rhel", (4, 18)),
    ("5.14.0-70.13.1.el9_0.x86_64", "rhel9.0-pre133", "rhel", (5, 14)),
    ("5.14.0-503.11.1.el9_5.x86_64", "rhel9.5", "rhel", (5, 14)),
    ("5.14.0-611.el9.x86_64", "rhel9.7-s", "rhel", (5, 14)),
    ("5.14.0-611.5.1.el9_7.x86_64", "rhel9.7", "rhel", (5, 14)),
    ("6.12.0-55.el10.x86_64", "rhel10.0-s", "rhel", (6, 12)),
    ("6.12.0-55.9.1.el10_0.x86_64", "rhel10.0", "rhel", (6, 12)),
    ("5.4.17-2136.330.7.1.el8uek.x86_64", "uek-5.4-el8", "oracle-uek", (5, 4)),
    ("5.15.0-300.163.18.el9uek.x86_64", "uek-5.15-el9", "oracle-uek", (5, 15)),
    ("5.14.21-150400.24.150-default", "sles-150400", "suse", (5, 14)),
    ("5.14.21-150500.55.97-default", "sles-150500", "suse", (5, 14)),
    ("6.4.0-150600.23.47-default", "sles-150600", "suse", (6, 4)),
    ("6.4.0-150700.53.3-default", "sles-150700", "suse", (6, 4)),
    ("6.4.0-150700.53.3-64kb", "sles-150700", "suse", (6, 4)),
    ("6.12.0-160000.5-default", "sles-160000", "suse", (6, 12)),
    ("5.4.0-216-generic", "ubuntu-5.4", "ubuntu", (5, 4)),
    ("6.8.0-60-generic", "ubuntu-6.8", "ubuntu", (6, 8)),
    ("6.14.0-1011-aws", "ubuntu-6.14", "ubuntu", (6, 14)),
    ("5.10.0-35-amd64", "debian11-5.10", "debian", (5, 10)),
    ("6.1.0-37-arm64", "debian12-6.1", "debian", (6, 1)),
    ("6.12.38+deb13-amd64", "debian13-6.12", "debian", (6, 12)),
    ("5.10.238-234.956.amzn2.x86_64", "amzn2-5.10", "amazon", (5, 10)),
    ("6.1.141-155.222.amzn2023.x86_64", "amzn2023-6.1", "amazon", (6, 1)),
    ("5.10.0-136.12.0.86.oe2203sp1.x86_64", "openeuler-oe2203sp1-5.10", "openeuler", (5, 10)),
    ("6.6.0-28.0.0.34.oe2403.x86_64", "openeuler-oe2403-6.6", "openeuler", (6, 6)),
])
def test_uname_r_selects_the_profile(text, key, family, base):
    """The suffix after MAJOR.MINOR[.PATCH] names the distribution and release (crashplan/kernel/distros.py)."""
    rel = parse_release(text)
    assert rel.profile == key
    p = get(key)
    assert (p.family, p.base) == (family, base)
    assert p.facts and all(f.source and f.certainty for f in p.facts)


@pytest.mark.parametrize("text", ["4.14.355-275.572.amzn2.x86_64", "4.15.0-213-generic", "4.19.0-27-amd64",
                                  "4.19.90-2112.8.0.0131.oe1.x86_64"])
def test_pre_5_15_distribution_releases(text):
    """Amazon Linux 2 4.14, Ubuntu 18.04 4.15, Debian 10 4.19, openEuler 20.03 4.19: mainline base profiles."""
    _needs_4_14()
    rel = parse_release(text)
    assert rel.profile is not None and get(rel.profile).base == rel.series


def test_profile_keys_name_everything_a_profile_depends_on():
    """KernelRelease carries only the key: two release strings with one key must have one profile."""
    a, b = parse_release("5.14.0-120.el9_1.x86_64"), parse_release("5.14.0-162.6.1.el9_1.x86_64")
    assert a.profile != b.profile
    assert not SWITCHES["roundup_128m"].on(a) and SWITCHES["roundup_128m"].on(b)
    assert get(parse_release("5.14.0-162.el9.x86_64").profile).name == "RHEL 9.1 / CentOS Stream 9"
    assert get(b.profile).name == "RHEL 9.1"


def test_plain_and_unknown_suffixes_have_no_profile_and_say_so():
    """An unknown suffix falls back to the mainline base with a note (nothing guessed silently)."""
    assert parse_release("6.12").profile is None
    assert parse_release("6.12.7").profile is None
    rel = parse_release("6.12.0-55.el11.x86_64")  # RHEL-looking, but no such profile for this series
    assert (rel.profile, rel.distro) == (None, "rhel")
    o = evaluate("crashkernel=256M", system_ram=16 * G, kernel=rel, arch="x86_64")
    assert o.notes == ("6.12.0-55.el11.x86_64: no distribution profile matches this release string; "
                       "crashplan models mainline 6.12",)
    o = evaluate("crashkernel=256M", system_ram=16 * G, kernel="6.12.5", arch="x86_64")
    assert o.notes == ()


def test_every_listed_profile_parses_or_needs_pre_5_15():
    """docs/kernel-fidelity.md's table is PROFILES: every representative release selects a profile."""
    for text, _name in PROFILES:
        try:
            rel = parse_release(text)
        except ValueError as e:
            assert "outside" in str(e) and text.split(".")[0] == "4"
            continue
        assert rel.profile is not None, text


def test_profiles_are_loaded_only_for_suffixed_releases():
    """Cold start: a plain release never imports the profile table."""
    code = ("import sys; from crashplan.kernel import evaluate; "
            "evaluate('crashkernel=256M', system_ram=1<<34, kernel='6.12', arch='x86_64'); "
            "a = 'crashplan.kernel.distros' in sys.modules; "
            "evaluate('crashkernel=256M', system_ram=1<<34, kernel='6.18.44-fc-v1300', arch='x86_64'); "
            "b = 'crashplan.kernel.distros' in sys.modules; "
            "evaluate('crashkernel=256M', system_ram=1<<34, kernel='6.12.0-55.el10.x86_64', arch='x86_64'); "
            "print(a, b, 'crashplan.kernel.distros' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "False False True"


_FRAGMENTS = ["-", ".", "_", "+", "1", "9", "0", "150700", "160000", "553", "el", "el8", "el9_5", "uek", "fc41",
              "oe2203", "sp4", "amzn2", "amzn2023", "deb12", "amd64", "arm64", "cloud", "generic", "aws", "hwe",
              "default", "64kb", "x86_64", "rt", "²", "\u0663", "EL", "Generic"]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=8))
def test_identify_guards_only_skip_patterns_that_cannot_match(parts):
    """distro_id puts a substring test before each pattern: the result must be what the patterns alone
    give, tried in the same order."""
    import re

    from crashplan.kernel import distro_id as d

    rest = "".join(parts)
    low = rest.lower()
    want = None
    assert [p[:3] for p in d._PATTERNS] == [("rhel", d._RHEL, True), ("suse", d._SUSE, True),
                                            ("fedora", d._FEDORA, False), ("openeuler", d._OPENEULER, False),
                                            ("amazon", d._AMAZON, False)]
    for family, pattern, anchored, _guard in d._PATTERNS:
        m = (re.match if anchored else re.search)(pattern, low)
        if m:
            want = d.DistroMark(family, m.groups())
            break
    if want is None:
        deb = re.search(d._DEBIAN, low)
        if deb or re.search("-(" + "|".join(d.DEBIAN_FLAVOURS) + ")$", low):
            want = d.DistroMark("debian", (deb.group(1) if deb else None,))
        elif re.search(d._UBUNTU, low) and re.match(r"^-\d+", low):
            want = d.DistroMark("ubuntu")
    assert d.identify(rest) == want


# ---------------------------------------------------------------- RHEL 8: crashkernel=auto

@pytest.mark.parametrize("arch,ram,size", [
    ("x86_64", 16 * G, 192 * M), ("x86_64", 2 * G, 160 * M), ("x86_64", 128 * G, 256 * M),
    ("x86_64", 2 << 40, 512 * M), ("x86_64", 768 * M, 0),
    ("s390x", 16 * G, 192 * M), ("arm64", 16 * G, 448 * M), ("arm64", G, 0),
    ("ppc64le", 16 * G, 1 * G), ("ppc64le", 3 * G, 384 * M),
])
def test_rhel8_auto_expands_to_the_table(arch, ram, size):
    """RHEL 8 __parse_crashkernel(): strncmp(ck_cmdline, "auto", 4) == 0 -> the arch's table.

    Source: the RHEL 8 kernel/crash_core.c code quoted on LKML by Red Hat (Kairui Song, "kernel/crash_core:
    Add crashkernel=auto for vmcore creation", 2021-02) and in a SUSE blog ("What's Wrong with
    crashkernel=auto", 2022-01-27): x86_64/s390x 1G-4G:160M,4G-64G:192M,64G-1T:256M,1T-:512M,
    arm64 2G-:448M, ppc64 2G-4G:384M,4G-16G:512M,16G-64G:1G,64G-128G:2G,128G-:4G.
    """
    _needs_4_14()
    o = evaluate("crashkernel=auto", system_ram=ram, kernel=f"4.18.0-553.el8_10.{arch}", arch=arch)
    assert o.messages[0] == ("info", AUTO_MESSAGE)
    assert o.crash_size == size
    if size:
        assert o.accepted and o.tokens["plain"].text == "crashkernel=auto"
    # after the message, exactly what mainline 4.18 does with the table written out
    table = get(parse_release(f"4.18.0-553.el8_10.{arch}").profile).auto[arch]
    m = evaluate(f"crashkernel={table}", system_ram=ram, kernel="4.18", arch=arch)
    assert (o.messages[1:], o.crash_size, o.accepted) == (m.messages, m.crash_size, m.accepted)


def test_rhel8_auto_on_512m_is_an_invalid_size():
    """The range parser checks every entry it reads against RAM: on 512M the 1T-:512M entry is not below
    RAM, so auto fails with 'crashkernel: invalid size' instead of reserving nothing quietly."""
    _needs_4_14()
    o = evaluate("crashkernel=auto", system_ram=512 * M, kernel="4.18.0-553.el8_10.x86_64", arch="x86_64")
    assert o.messages == (("info", AUTO_MESSAGE), ("warn", "crashkernel: invalid size"))


def test_rhel8_auto_on_ppc64le_uses_the_fadump_table_unless_fadump_is_off():
    """RHEL 8 ppc64: get_last_crashkernel(cmdline, "fadump=", NULL); absent or "off..." -> kdump table,
    else 4G-16G:768M,... (same source as the tables above)."""
    _needs_4_14()
    rel = "4.18.0-553.el8_10.ppc64le"
    on = evaluate("fadump=on crashkernel=auto", system_ram=8 * G, kernel=rel, arch="ppc64le")
    off = evaluate("fadump=on fadump=off crashkernel=auto", system_ram=8 * G, kernel=rel, arch="ppc64le")
    none = evaluate("crashkernel=auto", system_ram=8 * G, kernel=rel, arch="ppc64le")
    assert (on.crash_size, off.crash_size, none.crash_size) == (768 * M, 512 * M, 512 * M)


def test_rhel8_early_builds_carry_the_first_table():
    """The earlier RHEL 8 table (x86_64 1G-64G:160M,64G-1T:256M,1T-:512M; s390 4G-64G:160M,...), quoted in
    yifengyou/crash docs/基础知识/crashkernel启动参数.md; the build that changed it is inferred (8.2)."""
    _needs_4_14()
    o = evaluate("crashkernel=auto", system_ram=16 * G, kernel="4.18.0-147.el8.x86_64", arch="x86_64")
    assert o.crash_size == 160 * M
    assert "not pinned" in " ".join(o.notes)
    o = evaluate("crashkernel=auto", system_ram=2 * G, kernel="4.18.0-147.el8.s390x", arch="s390x")
    assert o.crash_size == 0


def test_auto_is_only_the_plain_lookup_and_only_on_rhel8():
    """The hook sits after the suffix branch: ,high/,low lookups never see auto; mainline rejects it."""
    _needs_4_14()
    o = evaluate("crashkernel=auto,high", system_ram=16 * G, kernel="4.18.0-553.el8_10.x86_64", arch="x86_64")
    assert not o.accepted
    o = evaluate("crashkernel=autoX", system_ram=16 * G, kernel="4.18.0-553.el8_10.x86_64", arch="x86_64")
    assert o.accepted and o.crash_size == 192 * M  # strncmp(…, "auto", 4): the rest is not looked at
    o = evaluate("crashkernel=auto", system_ram=16 * G, kernel="4.18", arch="x86_64")
    assert not o.accepted and o.messages == (("warn", "crashkernel: memory value expected"),)


# ---------------------------------------------------------------- RHEL 9 and 10

def test_rhel9_auto_reserves_nothing():
    """RHEL 9 removed crashkernel=auto (RHEL 9 documentation; ctrliq/kernel-src-tree kernel/crash_core.c has
    no auto branch): the plain parser rejects it."""
    o = evaluate("crashkernel=auto", system_ram=16 * G, kernel="5.14.0-503.11.1.el9_5.x86_64", arch="x86_64")
    assert (o.accepted, o.crash_size) == (False, 0)
    assert o.messages == (("warn", "crashkernel: memory value expected"),)
    assert any("crashkernel=auto is gone" in n for n in o.notes)


def test_rhel9_rounds_ram_up_to_128m_from_build_133():
    """CentOS Stream 9 kernel-5.14.0-133.el9 changelog: 'kdump: round up the total memory size to 128M for
    crashkernel reservation' (mainline 6.0): 1.9G of RAM matches the 2G- entry from build 133 on."""
    ram = 2 * G - 100 * M
    line = "crashkernel=1G-2G:128M,2G-:256M"
    old = evaluate(line, system_ram=ram, kernel="5.14.0-70.13.1.el9_0.x86_64", arch="x86_64")
    new = evaluate(line, system_ram=ram, kernel="5.14.0-162.6.1.el9_1.x86_64", arch="x86_64")
    mainline = evaluate(line, system_ram=ram, kernel="5.14", arch="x86_64")
    assert (old.crash_size, new.crash_size, mainline.crash_size) == (128 * M, 256 * M, 128 * M)
    assert SWITCHES["roundup_128m"].on(parse_release("5.14.0-162.6.1.el9_1.x86_64"))
    assert not SWITCHES["roundup_128m"].on(parse_release("5.14.0-70.13.1.el9_0.x86_64"))


def test_rhel10_is_mainline_6_12():
    """RHEL 10 / CentOS Stream 10 (6.12.0-*.el10): no change to the 6.12 parser found
    (ctrliq/kernel-src-tree kernel/crash_reserve.c); ,cma is not known there."""
    o = evaluate("crashkernel=256M crashkernel=1G,cma", system_ram=16 * G, kernel="6.12.0-55.el10.x86_64",
                 arch="x86_64")
    m = evaluate("crashkernel=256M crashkernel=1G,cma", system_ram=16 * G, kernel="6.12", arch="x86_64")
    assert (o.accepted, o.ret, o.messages) == (m.accepted, m.ret, m.messages)


# ---------------------------------------------------------------- SUSE

def test_sles15_sp7_accepts_cma_and_reserves_it_on_x86():
    """openSUSE/kernel-source patches.suse/kdump-add-crashkernel-cma-suffix.patch and
    kdump-implement-reserve_crashkernel_cma.patch (Git-commit 35c18f2933c5, jsc#PED-7249) on the 6.4
    kernel with the 6.7 generic reservation: SLES 15 SP7 reads ,cma (which SP carries it: inferred)."""
    o = evaluate("crashkernel=256M crashkernel=1G,cma", system_ram=16 * G, kernel="6.4.0-150700.53.3-default",
                 arch="x86_64")
    assert (o.accepted, o.flow, o.crash_size, o.cma_size) == (True, "generic", 256 * M, G)
    mainline = evaluate("crashkernel=256M crashkernel=1G,cma", system_ram=16 * G, kernel="6.4", arch="x86_64")
    assert (mainline.accepted, mainline.flow) == (False, "x86-legacy")


def test_sles15_sp7_keeps_6_4_messages_and_limits():
    """Only the backported switches change: the 6.9 message prefix and the 6.11 size >= RAM check stay off."""
    rel = parse_release("6.4.0-150700.53.3-default")
    assert not SWITCHES["prefix_messages"].on(rel) and not SWITCHES["size_ge_ram"].on(rel)
    assert SWITCHES["generic_x86_arm64_riscv"].on(rel) and SWITCHES["cma_x86"].on(rel)
    assert not SWITCHES["cma_arm64_riscv"].on(rel)


def test_sles15_sp6_does_not_claim_cma():
    """SP6 has the generic reservation (same patch context, inferred) but no evidence of ,cma: a trailing
    ,cma token is rejected as on mainline 6.4, and diagnose tells to put the plain token last."""
    o = evaluate("crashkernel=256M crashkernel=1G,cma", system_ram=16 * G, kernel="6.4.0-150600.23.47-default",
                 arch="x86_64")
    assert (o.accepted, o.flow) == (False, "generic")
    o = evaluate("crashkernel=1G,cma crashkernel=256M", system_ram=16 * G, kernel="6.4.0-150600.23.47-default",
                 arch="x86_64")
    assert (o.accepted, o.crash_size, o.cma_size) == (True, 256 * M, None)


def test_sles15_sp4_sp5_are_mainline_5_14():
    """SLES 15 SP4/SP5 (5.14.21-150400/150500): no crashkernel backport found in openSUSE/kernel-source."""
    for rel in ("5.14.21-150400.24.150-default", "5.14.21-150500.55.97-default"):
        o = evaluate("crashkernel=256M crashkernel=1G,cma", system_ram=16 * G, kernel=rel, arch="x86_64")
        assert (o.accepted, o.flow) == (False, "x86-legacy")


# ---------------------------------------------------------------- the rest: mainline base, stated

@pytest.mark.parametrize("text,series", [
    ("5.10.0-35-amd64", "5.10"), ("6.1.0-37-amd64", "6.1"), ("5.4.0-216-generic", "5.4"),
    ("5.15.0-140-generic", "5.15"), ("6.8.0-60-generic", "6.8"), ("5.10.238-234.956.amzn2.x86_64", "5.10"),
    ("6.1.141-155.222.amzn2023.x86_64", "6.1"), ("5.15.0-300.163.18.el9uek.x86_64", "5.15"),
    ("6.6.0-28.0.0.34.oe2403.x86_64", "6.6"),
])
def test_mainline_based_profiles_behave_as_their_base(text, series):
    """Debian, Ubuntu, Amazon Linux, UEK and openEuler kernels: no change to crashkernel= handling was found
    in their sources, so they behave as the mainline series, and the note says so."""
    for line in ("crashkernel=256M", "crashkernel=512M,high", "crashkernel=2G-:256M", "crashkernel=auto"):
        o = evaluate(line, system_ram=16 * G, kernel=text, arch="x86_64")
        m = evaluate(line, system_ram=16 * G, kernel=series, arch="x86_64")
        assert (o.accepted, o.crash_size, o.messages, o.flow) == (m.accepted, m.crash_size, m.messages, m.flow)
    o = evaluate("crashkernel=256M", system_ram=16 * G, kernel=text, arch="x86_64")
    assert any(f"modelled as mainline {series}" in n for n in o.notes)


def test_openeuler_5_10_arm64_high_backport_is_named_not_replayed():
    """openeuler-mirror/kernel arch/arm64/mm/init.c @02d3d962: reserve_crashkernel_high() reads ,high on
    openEuler 5.10 arm64; crashplan does not replay it and says so."""
    o = evaluate("crashkernel=512M,high", system_ram=16 * G, kernel="5.10.0-136.12.0.86.oe2203sp1.aarch64",
                 arch="arm64")
    assert not o.accepted
    assert any("arm64 reads crashkernel=X,high" in n for n in o.notes)


def test_distribution_facts_carry_sources():
    d = distribution_facts("6.4.0-150700.53.3-default")
    assert d["profile"] == "sles-150700" and d["base"] == "6.4"
    assert set(d["switches_on"]) == {"generic_x86_arm64_riscv", "cma_suffix", "cma_x86"}
    assert all("openSUSE/kernel-source" in f["source"] for f in d["facts"])
    assert distribution_facts("6.12") is None


def test_cli_check_of_a_plain_release_loads_no_distribution_code():
    """Cold start: `check --kernel 7.2 --format json` imports neither the profiles nor the defaults."""
    code = ("import sys, io, contextlib; from crashplan.cli import main; out = io.StringIO()\n"
            "with contextlib.redirect_stdout(out):\n"
            "    main(['check', 'crashkernel=256M', '--kernel', '7.2', '--arch', 'x86_64', '--ram', '16G',"
            " '--no-map', '--format', 'json'])\n"
            "print(sorted(m for m in sys.modules if 'distro' in m))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip().splitlines()[-1] == "[]"


def test_recorded_boots_replay_through_the_debian_profiles():
    """tests/simulate/test_boots.py replays every recorded qemu boot with the guest's own uname -r, so the
    Debian profiles (5.10, 6.1, 6.12, 7.x) are the ones held byte-exact by those boots."""
    import gzip
    import json

    releases = set()
    for path in (DATA / "boots").glob("*.jsonl.gz"):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            releases |= {json.loads(line)["kernel_release"] for line in f}
    assert {"5.10.0-46-amd64", "6.1.0-57-amd64", "6.12.117+deb12-amd64"} <= releases
    for rel in releases:
        assert get(parse_release(rel).profile).family == "debian", rel
