"""Every diagnosis code: its documented PASS/FAIL examples, and the texts that matter most."""

from __future__ import annotations

import pytest

from crashplan.diagnose import CODES, Target, crash_tokens, diagnose
from crashplan.units import parse_size

EXAMPLES = [
    pytest.param(cmd, tg, exp, id=f"{code}-{i}")
    for code, info in CODES.items()
    for i, (cmd, tg, exp) in enumerate(info.examples)
]


def codes(cmdline, kernel="7.2", arch="x86_64", ram="16G"):
    return sorted({d.code for d in diagnose(cmdline, [Target(kernel, arch, parse_size(ram))])})


def one(cmdline, code, kernel="7.2", arch="x86_64", ram="16G"):
    ds = [d for d in diagnose(cmdline, [Target(kernel, arch, parse_size(ram))]) if d.code == code]
    assert len(ds) == 1, ds
    return ds[0]


@pytest.mark.parametrize("cmdline,target,expected", EXAMPLES)
def test_documented_examples(cmdline, target, expected):
    assert sorted({d.code for d in diagnose(cmdline, [Target.from_example(target)])}) == sorted(expected)


def test_every_code_has_a_failing_and_a_passing_example():
    for code, info in CODES.items():
        assert any(code in exp for _, _, exp in info.examples), code
        assert any(code not in exp for _, _, exp in info.examples), code
        assert info.name and info.summary and info.description


def test_cma_typo_says_rejected_disabled_and_offers_two_tokens():
    d = one("crashkernel=256M,cma=1G", "CK102")
    assert "unrecognized char: ," in d.message and "kdump is disabled" in d.message
    assert d.fix == "crashkernel=256M crashkernel=1G,cma"
    assert f"Write `{d.fix}`" in d.message  # the message offers exactly the fix
    assert "x86_64 6.17+" in d.detail and "ppc64le 6.19+" in d.detail
    assert d.span == (0, len("crashkernel=256M,cma=1G"))


def test_cma_typo_on_an_old_kernel_offers_the_order_that_works_everywhere():
    d = one("quiet crashkernel=256M,cma=1G", "CK102", kernel="6.12")
    assert d.fix == "quiet crashkernel=1G,cma crashkernel=256M"


def test_cma_before_617_fix_puts_the_plain_token_last():
    d = one("ro crashkernel=256M crashkernel=1G,cma quiet", "CK103", kernel="6.12")
    assert d.fix == "ro crashkernel=1G,cma crashkernel=256M quiet"
    assert codes(d.fix, kernel="6.12") == ["CK209"]


def test_duplicates_fix_keeps_the_last_token():
    d = one("crashkernel=128M ro crashkernel=256M", "CK201")
    assert d.fix == "ro crashkernel=256M"
    assert d.span == (0, 16)


def test_quotes_and_tabs_fixes():
    assert one('ro "crashkernel=256M"', "CK104").fix == "ro crashkernel=256M"
    assert one("crashkernel=256M\tquiet", "CK105").fix == "crashkernel=256M quiet"


def test_octal_and_hex_values_are_spelled_out():
    assert "the kernel reads 174M" in one("crashkernel=0256M", "CK202").message
    assert "30 bytes" in one("crashkernel=0x1E", "CK203").message


def test_range_boundary_on_4g_and_rounding():
    d = one("crashkernel=1G-4G:192M,4G-64G:256M", "CK211", ram="4G")
    assert "exclusive" in d.message
    d = one("crashkernel=1G-4G:192M,4G-64G:256M", "CK211", ram="3993M")
    assert "rounded up to 4G" in d.message


def test_fixed_offset_alignment_depends_on_release():
    assert "not 16M-aligned" in one("crashkernel=128M@8M", "CK213", kernel="6.7").message
    assert "aligned" not in one("crashkernel=128M@8M", "CK213", kernel="6.6").message
    assert "no low region" in one("crashkernel=256M@5G", "CK213", kernel="6.12").message


def test_targets_are_merged_with_a_fix_only_when_all_agree():
    ds = diagnose("crashkernel=256M crashkernel=1G,cma", [Target("6.12", "x86_64", 16 << 30),
                                                          Target("6.16", "x86_64", 16 << 30)])
    (d,) = [x for x in ds if x.code == "CK103"]
    assert len(d.targets) == 2 and d.fix == "crashkernel=1G,cma crashkernel=256M"


def test_crash_tokens_classify_embedded_matches():
    toks = crash_tokens('a="x crashkernel=1G y" rd.kdump.crashkernel=2G crashkernel=3G -- crashkernel=4G')
    assert [(t.text, t.embedded) for t in toks] == [
        ("crashkernel=1G", True), ("crashkernel=2G", True), ("crashkernel=3G", False), ("crashkernel=4G", True)]


def test_no_token_and_unsupported_arch():
    assert codes("quiet") == ["CK116"]
    assert codes("crashkernel=256M", kernel="6.1", arch="loongarch64") == ["CK119"]


def test_duplicate_fix_never_cuts_a_token_that_runs_into_the_next():
    ds = diagnose("quiet crashkernel=128M\tcrashkernel=256M", [Target("7.2", "x86_64", 16 << 30)])
    assert all(d.fix != "quiet" for d in ds)


def test_hostile_lines_stay_linear():
    """A line of 200,000 'crashkernel=' without spaces, or 100,000 tokens: the kernel keeps 2047 bytes."""
    for line in ("crashkernel=" * 200_000, "crashkernel=1G " * 100_000):
        ds = diagnose(line, [Target("7.2", "x86_64", 16 << 30)])
        assert "CK217" in {d.code for d in ds}


# ------------------------------------------------------------------------------------------------
# misspelt names, Xen syntax, @offset in a range list, declared targets, validated fixes

@pytest.mark.parametrize(("cmdline", "fix"), [
    ("crashkernal=256M", "crashkernel=256M"), ("crashkenel=256M@16M", "crashkernel=256M@16M"),
    ("crash_kernel=256M", "crashkernel=256M"), ("crash-kernel=256M", "crashkernel=256M"),
    ("CRASHKERNEL=256M", "crashkernel=256M"), ("CrashKernel=1G-:256M", "crashkernel=1G-:256M"),
    ("crashkerenl=256M", "crashkernel=256M"), ("crashkernel:256M", "crashkernel=256M"),
    ("quiet crashkernel 256M ro", "quiet crashkernel=256M ro"), ("crashkernl=256M", "crashkernel=256M"),
])
def test_misspelt_names_are_errors_with_the_renamed_fix(cmdline, fix):
    d = one(cmdline, "CK121")
    assert d.severity == "error" and d.fix == fix
    assert "CK116" not in codes(cmdline)


def test_a_misspelling_whose_value_the_kernel_rejects_gets_no_fix_but_says_why():
    d = one("crashkernal=auto", "CK121")
    assert d.fix is None and "even spelt right, Linux 7.2 would not reserve `crashkernel=auto`" in d.message
    d = one("crashkernel", "CK121")
    assert d.fix is None


@pytest.mark.parametrize("cmdline", [
    "crash_kexec_post_notifiers", "kexec_load_disabled=1", "crashkernel=256M", "nokaslr", "kernelcore=4G",
    "rd.kdump.crashkernel=64M crashkernel=256M", "cgroup_enable=memory", "crashlog=1", "kernel=x",
    "init=/bin/sh -- crashkernal=1", "console=ttyS0,115200", "crypt_kernel=1x", "crashdump=1",
])
def test_real_parameters_are_not_taken_for_misspellings(cmdline):
    assert not {"CK121", "CK220"} & set(codes(cmdline))


def test_a_misspelling_beside_a_real_crashkernel_is_a_warning_that_removes_it():
    d = one("crashkernel=256M crashkernal=512M quiet", "CK220")
    assert d.severity == "warning" and d.fix == "crashkernel=256M quiet"


def test_an_offset_inside_a_range_list_ends_it():
    line = "crashkernel=384M-2G:64M@16M,2G-:128M@16M"
    d = one(line, "CK218")
    assert "`@16M` after `384M-2G:64M` ends the range list" in d.message and "`2G-:128M@16M` is never read" in d.message
    assert d.fix == "crashkernel=384M-2G:64M,2G-:128M@16M" and f"Write `{d.fix}`" in d.message
    assert "CK109" not in codes(line)
    assert "CK218" not in codes(line, ram="1G")  # below 2 GiB the first entry matches: 64M at 16M
    # two different offsets: no single place for one @offset, so no fix
    assert one("crashkernel=384M-2G:64M@16M,2G-:128M@32M", "CK218").fix is None


@pytest.mark.parametrize("value", ["128M\\<4G", "128M<4G", "256M>4G", "512M,below=4G"])
def test_xen_syntax_is_named_as_xen(value):
    d = one(f"crashkernel={value}", "CK122")
    assert "Xen hypervisor syntax" in d.message and "GRUB_CMDLINE_XEN" in d.message
    assert d.fix == "crashkernel=" + value.split("\\")[0].split("<")[0].split(">")[0].split(",")[0]


def test_reserving_nothing_on_a_declared_target_is_an_error():
    t = Target("7.2", "x86_64", parse_size("1G"))
    (d,) = [d for d in diagnose("crashkernel=2G-64G:256M", [t]) if d.code == "CK109"]
    assert d.severity == "error"
    probe = Target("7.2", "x86_64", parse_size("1G"), declared=False)
    (d,) = [d for d in diagnose("crashkernel=2G-64G:256M", [probe]) if d.code == "CK109"]
    assert d.severity == "warning"
    (d,) = [d for d in diagnose("crashkernel=2G-64G:256M", [probe, t]) if d.code == "CK109"]
    assert d.severity == "error"  # the worst over the targets


def test_a_fix_the_kernel_would_reject_is_not_offered():
    # CK106's example and CK111's suggestion are replayed too: on 1 GiB the usual range reserves nothing
    d = one("crashkernel=auto", "CK106", ram="1G")
    assert "crashkernel=2G-64G:256M,64G-:512M" not in d.message and "crashkernel=1G-64G:256M,64G-:512M" in d.message


def test_targets_that_want_different_fixes_share_one_every_target_accepts():
    ts = [Target("6.1", "x86_64", 16 << 30), Target("7.2", "x86_64", 16 << 30)]
    (d,) = [d for d in diagnose("crashkernel=256M,cma=1G", ts) if d.code == "CK102"]
    assert d.fix == "crashkernel=1G,cma crashkernel=256M" and f"`{d.fix}`" in d.message
