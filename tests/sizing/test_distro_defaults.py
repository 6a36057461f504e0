"""What the distribution's own tool would set (crashplan.sizing.distro_defaults), against its sources."""

from __future__ import annotations

import pytest

from crashplan.kernel import parse_release
from crashplan.sizing.distro_defaults import (
    MachineFacts,
    distribution_default,
    kdump_utils_table,
    suse_calibrate,
    verdict,
)

M = 1 << 20
G = 1 << 30


@pytest.mark.parametrize("arch,facts,table", [
    ("x86_64", MachineFacts(), "2G-64G:256M,64G-:512M"),
    ("x86_64", MachineFacts(sme_sev=True), "2G-64G:320M,64G-:576M"),
    ("s390x", MachineFacts(sme_sev=True), "2G-64G:256M,64G-:512M"),
    ("arm64", MachineFacts(), "2G-4G:256M,4G-64G:320M,64G-:576M"),
    ("arm64", MachineFacts(mlx5=True), "2G-4G:406M,4G-64G:470M,64G-:726M"),
    ("arm64", MachineFacts(page_64k=True), "2G-4G:356M,4G-64G:420M,64G-:676M"),
    ("arm64", MachineFacts(page_64k=True, smmu=True), "2G-4G:740M,4G-64G:804M,64G-:1060M"),
    ("arm64", MachineFacts(page_64k=True, mlx5=True), "2G-4G:556M,4G-64G:620M,64G-:876M"),
    ("arm64", MachineFacts(page_64k=True, smmu=True, mlx5=True), "2G-4G:940M,4G-64G:1004M,64G-:1260M"),
    ("ppc64le", MachineFacts(capture_cpus=16), "2G-4G:400M,4G-16G:528M,16G-64G:1040M,64G-128G:2064M,128G-:4112M"),
    ("ppc64le", MachineFacts(fadump=True, capture_cpus=16),
     "4G-16G:784M,16G-64G:1040M,64G-128G:2064M,128G-1T:4112M,1T-2T:6160M,2T-4T:12304M,4T-8T:20496M,"
     "8T-16T:36880M,16T-32T:65552M,32T-64T:131088M,64T-:184336M"),
])
def test_kdump_utils_head_tables(arch, facts, table):
    """rhkdump/kdump-utils kdump-lib.sh kdump_get_arch_recommend_crashkernel @63f248c9 with
    _crashkernel_add run on its own (the derived vectors of the kdump-utils anchors, §1.5)."""
    assert kdump_utils_table("2025.08", arch, facts) == table


def test_kdump_utils_history():
    """kdump-lib.sh history: x86 1G-4G:192M,… (34d27c4, 2021-11) until fe18f933 (2025-03); aarch64 2G-:448M
    until b92bc6e0 (2022-06); SME/SEV +64M from 4841bc6a (2023)."""
    assert kdump_utils_table("2021", "x86_64", MachineFacts(sme_sev=True)) == "1G-4G:192M,4G-64G:256M,64G-:512M"
    assert kdump_utils_table("2023", "x86_64", MachineFacts(sme_sev=True)) == "1G-4G:256M,4G-64G:320M,64G-:576M"
    assert kdump_utils_table("2021", "arm64") == "2G-:448M"
    assert kdump_utils_table("2025.03", "arm64") == "1G-4G:256M,4G-64G:320M,64G-:576M"


@pytest.mark.parametrize("ram,size", [(1 * G, 0), (2 * G, 256 * M), (63 * G, 256 * M), (64 * G, 512 * M),
                                      (100 * G, 512 * M)])
def test_rhel10_default_sizes_follow_the_kernel(ram, size):
    """kdump-utils x86 table at 1/2/63/64/100 GiB -> 0M/256M/256M/512M/512M (anchors §1.5); the size comes
    from crashplan's parser at the release, so the 128M round-up applies."""
    d = distribution_default("6.12.0-55.el10.x86_64", "x86_64", ram, need=200 * M)
    assert d.cmdline == "crashkernel=2G-64G:256M,64G-:512M"
    assert d.size == size
    assert d.verdict == ("reserves nothing" if size == 0 else "fits" if size == 256 * M else "wasteful")


def test_rhel9_default_is_the_2021_x86_table():
    """RHEL 9.0 and 9.6 boot entries carry crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M (seen in public
    BLS entries and ansible facts of 5.14.0-70.13.1.el9_0 and el9_6 hosts)."""
    for rel in ("5.14.0-70.13.1.el9_0.x86_64", "5.14.0-503.11.1.el9_5.x86_64"):
        d = distribution_default(rel, "x86_64", 16 * G, need=300 * M)
        assert d.cmdline == "crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M"
        assert (d.size, d.verdict) == (256 * M, "too small")
    d = distribution_default("5.14.0-70.13.1.el9_0.aarch64", "arm64", 16 * G)
    assert d.cmdline == "crashkernel=2G-:448M" and d.certainty.startswith("inferred")
    assert distribution_default("5.14.0-70.13.1.el9_0.x86_64", "x86_64", 16 * G).certainty.startswith("read")
    d = distribution_default("5.14.0-503.11.1.el9_5.aarch64", "arm64", 16 * G, facts=MachineFacts(mlx5=True))
    assert d.cmdline == "crashkernel=1G-4G:406M,4G-64G:470M,64G-:726M" and d.certainty.startswith("inferred")


def test_64k_kernel_release_adds_the_64k_delta():
    """kdump-lib.sh: a kernel release containing "64k" (RHEL's kernel-64k, 5.14.0-…el9_5.aarch64+64k)."""
    d = distribution_default("5.14.0-503.11.1.el9_5.aarch64+64k", "arm64", 16 * G)
    assert d.cmdline == "crashkernel=1G-4G:356M,4G-64G:420M,64G-:676M"


def test_rhel8_default_is_auto_and_its_table():
    """RHEL 8 installs with crashkernel=auto; the kernel's table decides (crashplan.kernel.distros)."""
    try:
        parse_release("4.18")
    except ValueError:
        pytest.skip("mainline releases before 5.15 are not modelled in this tree")
    d = distribution_default("4.18.0-553.el8_10.x86_64", "x86_64", 16 * G, need=150 * M)
    assert (d.cmdline, d.size, d.verdict) == ("crashkernel=auto", 192 * M, "fits")
    d = distribution_default("4.18.0-553.el8_10.x86_64", "x86_64", 16 * G, need=400 * M)
    assert d.verdict == "too small"


@pytest.mark.parametrize("rel,arch,cmdline", [
    ("5.10.0-35-amd64", "x86_64", "crashkernel=384M-:128M"),
    ("6.1.0-37-amd64", "x86_64", "crashkernel=384M-:128M"),
    ("6.12.38+deb13-amd64", "x86_64", "crashkernel=512M-:192M"),
    ("6.12.117+deb12-amd64", "x86_64", "crashkernel=384M-:128M"),  # a bookworm-backports kernel on Debian 12
    ("6.1.0-37-arm64", "arm64", "crashkernel=2G-4G:320M,4G-32G:512M,32G-64G:1024M,64G-128G:2048M,128G-:4096M"),
    ("6.1.0-37-s390x", "s390x", "crashkernel=384M-:128M"),
    ("6.8.0-60-generic", "x86_64", "crashkernel=512M-:192M"),
])
def test_debian_and_ubuntu_kdump_tools(rel, arch, cmdline):
    """Debian kdump-tools (kaloronahuang/kdump-tools debian/latest @5ace24ee): 384M-:128M, 512M-:192M from
    1:1.10 (4df8917d, 2024-01); arm64/ppc64el table; s390x zipl preset.  Ubuntu LTS amd64 512M-:192M
    (inferred)."""
    d = distribution_default(rel, arch, 16 * G)
    assert d.cmdline == cmdline
    assert d.tool.startswith("kdump-tools")


def test_suse_default_is_reported_unknown_with_the_reason():
    """openSUSE/kdump calibrate.cc @34da4b8 needs the per-build constants of calibrate.conf (not in git)."""
    d = distribution_default("6.4.0-150700.53.3-default", "x86_64", 16 * G, need=300 * M)
    assert (d.cmdline, d.size, d.verdict) == (None, None, "unknown")
    assert "calibrate.conf" in d.detail


def test_no_default_for_mainline_and_unmodelled_tools():
    assert distribution_default("6.12", "x86_64", 16 * G) is None
    assert distribution_default("6.1.141-155.222.amzn2023.x86_64", "x86_64", 16 * G) is None


def test_os_release_names_the_tool_of_a_custom_kernel():
    """A custom kernel on Debian 12 (this kind of host): /etc/os-release says which kdump-tools applies."""
    osr = {"ID": "debian", "VERSION_ID": "12", "PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)"}
    d = distribution_default("6.18.44", "x86_64", 24 * G, need=232 * M, os_release=osr)
    assert (d.cmdline, d.size, d.verdict) == ("crashkernel=384M-:128M", 128 * M, "too small")
    assert "Debian GNU/Linux 12" in d.tool
    osr = {"ID": "rocky", "ID_LIKE": "rhel centos fedora", "VERSION_ID": "9.4"}
    d = distribution_default("6.18.44", "x86_64", 24 * G, os_release=osr)
    assert d.cmdline == "crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M"
    assert distribution_default("6.18.44", "x86_64", 24 * G, os_release={"ID": "gentoo"}) is None


def test_verdict_thresholds():
    assert verdict(0, 200 * M)[0] == "reserves nothing"
    assert verdict(128 * M, 200 * M)[0] == "too small"
    assert verdict(256 * M, 200 * M)[0] == "fits"
    assert verdict(512 * M, 200 * M)[0] == "wasteful"
    assert verdict(1536 * M, G)[0] == "wasteful" and verdict(1500 * M, G)[0] == "fits"
    assert verdict(None, 200 * M)[0] == verdict(256 * M, None)[0] == "unknown"


CONST = {"KERNEL_BASE": 20000, "KERNEL_INIT": 30000, "INIT_NET": 5000, "INIT_CACHED": 40000,
         "INIT_CACHED_NET": 10000, "PERCPU": 300, "USER_BASE": 10000, "USER_NET": 8000}


def test_suse_calibrate_formula_margins():
    """calibrate.cc: (required - LUKS) x 1.30 + 64 MiB + LUKS (4b014027, 62142ddc); makedumpfile bitmaps
    capped at 32 MiB; network adds USER_NET and the boot-time INIT_NET terms."""
    base = dict(ram_kib=16 << 20, constants=CONST, cpus=4, network=False, makedumpfile=True)
    plain = suse_calibrate(**base)
    with_luks = suse_calibrate(**base, luks_kib=100000)
    # LUKS goes through the page-cache/hash/memmap factors (x1.29) but not through the 30% margin:
    # (129 230 - 100 000) x 1.3 + 100 000 = 138 000, not 100 000 x 1.29 x 1.3 = 168 000
    assert 137000 < with_luks - plain < 139000
    assert suse_calibrate(**{**base, "network": True}) > plain
    huge = suse_calibrate(**{**base, "ram_kib": 1 << 30})  # 1 TiB
    bigger = suse_calibrate(**{**base, "ram_kib": 2 << 30})  # 2 TiB: uncapped bitmaps would add 64 MiB
    assert bigger - huge < 2048  # bitmaps capped; only the 96 KiB per 128 GiB term grows
    assert plain >= 64 * 1024 + CONST["KERNEL_BASE"] * 13 // 10


def test_suse_default_with_calibrate_constants(tmp_path):
    """With calibrate.conf's constants (read from the host by probe.read_calibrate_conf) the SUSE default is
    calibrate's total: KDUMP_CPUS caps the CPUs at 32 off powerpc (openSUSE/kdump 95378d39)."""
    from crashplan.cli.probe import read_calibrate_conf

    (tmp_path / "usr" / "lib" / "kdump").mkdir(parents=True)
    (tmp_path / "usr" / "lib" / "kdump" / "calibrate.conf").write_text(
        "".join(f"{k}={v}\n" for k, v in CONST.items()) + "# comment\nPAGESIZE=4096\nBOGUS=x\n")
    consts = read_calibrate_conf(tmp_path)
    assert consts["KERNEL_BASE"] == 20000 and "BOGUS" not in consts
    d = distribution_default("6.4.0-150700.53.3-default", "x86_64", 16 * G, need=300 * M, calibrate=consts, cpus=64)
    kib = suse_calibrate(ram_kib=16 * G // 1024, constants=consts, cpus=32, network=False, makedumpfile=True)
    assert d.cmdline == f"crashkernel={-(-kib // 1024)}M" and d.size == -(-kib // 1024) * M
    assert d.verdict in ("fits", "too small", "wasteful") and "32 CPUs" in d.detail
    d64 = distribution_default("6.4.0-150700.53.3-default", "x86_64", 16 * G, calibrate=consts, cpus=16)
    assert d64.size < d.size
