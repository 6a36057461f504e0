"""Plans: the CMA refusal rules, the replay through the parser and simulator, the portable table, apply."""

from __future__ import annotations

import subprocess
from dataclasses import replace

import pytest

from conftest import EXAMPLES
from crashplan.memmap.model import Machine, MemoryMap, Span
from crashplan.sizing.apply import SystemFacts, apply_plan, facts_from_release, kdump_utils_default
from crashplan.sizing.model import SizingInputs
from crashplan.sizing.plans import CMA_CAVEATS, CmaFacts, cma_refusal, portable_table, suggest

MiB = 1 << 20
GiB = 1 << 30


def inputs(arch="x86_64", kernel="7.3.4", ram=16 * GiB, initrd_size=3_525_133, initrd_unpacked=7_767_988,
           **kw) -> SizingInputs:
    return SizingInputs(arch=arch, kernel=kernel, system_ram=ram, kernel_mem=65_331_200, kernel_align=2 * MiB,
                        initrd_size=initrd_size, initrd_unpacked=initrd_unpacked, nr_cpus=1, **kw)


OK = CmaFacts(kexec_mode="file", user_pages=(False, "dump level 31 excludes user pages (bit 8)"), fadump=False,
              config_cma=True, config_kexec_file=True)


# --- refusal rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize("arch,kernel,facts,reason", [
    ("s390x", "7.3", OK, "s390x never reserves crash kernel memory from CMA"),
    ("loongarch64", "7.3", OK, "loongarch64 never reserves crash kernel memory from CMA"),
    ("x86_64", "6.16", OK, "x86_64 reserves crashkernel=SIZE,cma from Linux 6.17; the kernel is 6.16 (this release "
                           "does not know ,cma: a trailing X,cma token breaks the crashkernel= setting)"),
    ("arm64", "7.2", OK, "arm64 reserves crashkernel=SIZE,cma from Linux 7.3; the kernel is 7.2 (this release parses "
                         ",cma and ignores it)"),
    ("ppc64le", "6.18", OK, "ppc64le reserves crashkernel=SIZE,cma from Linux 6.19; the kernel is 6.18"),
    ("ppc64le", "6.19", replace(OK, fadump=True), "fadump is active"),
    ("x86_64", "6.17", replace(OK, config_cma=False, config_source="/boot/config-6.17"),
     "the kernel is built without CONFIG_CMA (/boot/config-6.17): it logs \"crashkernel CMA reservation not supported\""),
    ("arm64", "7.3", replace(OK, config_kexec_file=False), "the kernel is built without CONFIG_KEXEC_FILE"),
    ("x86_64", "7.3", replace(OK, kexec_mode="load", kexec_reason="kexec is given -c (kexec_load)"),
     "the capture kernel is loaded with kexec_load (kexec is given -c (kexec_load)): it sees only the classic region"),
    ("x86_64", "7.3", replace(OK, user_pages=(True, "dump level 1 does not have bit 8 (user process data) set")),
     "dump level 1 does not have bit 8 (user process data) set; pages in the CMA area are not in the vmcore"),
    ("x86_64", "7.3", replace(OK, user_pages=(True, "the core collector is 'cp'")), "the core collector is 'cp'"),
    ("riscv64", "7.3", replace(OK, release_known=False), "the kernel release is not known"),
])
def test_cma_refusals(arch, kernel, facts, reason):
    got = cma_refusal(arch, kernel, facts)
    assert got is not None and got.startswith(reason)


@pytest.mark.parametrize("arch,kernel", [("x86_64", "6.17"), ("arm64", "7.3"), ("riscv64", "7.3"), ("ppc64le", "6.19")])
def test_cma_allowed(arch, kernel):
    assert cma_refusal(arch, kernel, OK) is None


def test_refused_plan_still_states_the_caveats():
    s = suggest(inputs(kernel="6.12"), release="6.12", facts=OK)
    cma = s.plan("cma")
    assert cma.refused is not None and cma.cmdline is None
    assert cma.caveats == CMA_CAVEATS
    assert "10 seconds" in cma.caveats[0] and "RDMA" in cma.caveats[1]


# --- replay ----------------------------------------------------------------------------------------


def qemu_machine() -> Machine:
    from crashplan.memmap.machine import load_machine

    return load_machine((EXAMPLES / "x86_64-qemu-4g.yaml").read_text(), source="x86_64-qemu-4g.yaml")


def test_replay_on_the_lab_machine():
    m = qemu_machine()
    s = suggest(inputs(ram=m.ram_size()), release=m.kernel, facts=OK, machine=m)
    classic, cma = s.plans
    assert classic.cmdline == "crashkernel=112M" and classic.refused is None
    assert classic.replay.replayed and classic.replay.accepted
    # below the initrd qemu put at the top of low memory, 16 MiB aligned (the oracle boot's 256M sat at 0x6f000000)
    assert classic.replay.regions == (("crashkernel", 0x78000000, 0x7F000000, 112 * MiB),)
    assert classic.loses == 112 * MiB and classic.keeps == m.ram_size() - 112 * MiB
    assert cma.cmdline == "crashkernel=80M crashkernel=40M,cma"
    kinds = {r[0]: r for r in cma.replay.regions}
    assert kinds["cma"][1] == 1 << 32 and kinds["cma"][3] == 40 * MiB  # bottom-up from 4 GiB
    assert cma.loses == 80 * MiB and cma.borrowed == 40 * MiB
    assert any("SWIOTLB" in n for n in cma.notes)


def small_low_machine() -> Machine:
    # 200 MiB below 4 GiB, 4 GiB above: the low region for a high reservation cannot be placed
    mm = MemoryMap(ram=(Span(0x100000, 0x100000 + 200 * MiB, "System RAM"), Span(1 << 32, (1 << 32) + 4 * GiB, "System RAM")),
                   source="test")
    return Machine(memmap=mm, arch="x86_64", kernel="7.3.4", cmdline="root=/dev/sda1")


def test_a_plan_without_room_low_is_adjusted_to_high_with_a_small_low_region():
    m = small_low_machine()
    s = suggest(inputs(ram=m.ram_size(), initrd_size=45_481_776, initrd_unpacked=49_711_148), release="7.3.4",
                facts=OK, machine=m)
    classic = s.plan("classic")
    assert classic.refused is None
    assert classic.cmdline == "crashkernel=232M,high crashkernel=72M,low"
    assert classic.adjustments[0].startswith("crashkernel=232M cannot be placed on this map;")
    kinds = [r[0] for r in classic.replay.regions]
    assert kinds == ["crashkernel", "crashkernel-low"]
    assert classic.loses == (232 + 72) * MiB


def test_a_plan_that_cannot_be_placed_is_refused_with_the_reason():
    mm = MemoryMap(ram=(Span(0x100000, 0x100000 + 60 * MiB, "System RAM"), Span(1 << 32, (1 << 32) + 200 * MiB,
                                                                                  "System RAM")), source="test")
    m = Machine(memmap=mm, arch="x86_64", kernel="7.3.4", cmdline="")
    s = suggest(inputs(ram=m.ram_size()), release="7.3.4", facts=OK, machine=m)
    classic = s.plan("classic")
    assert classic.refused is not None and classic.cmdline is None
    assert classic.refused.startswith("crashkernel=112M cannot be reserved on this memory map: ")


def test_cma_shortfall_is_refused():
    # 4 GiB of RAM, all below 4 GiB except 48 MiB: CMA of 40 MiB fits, of 4 GiB would not
    mm = MemoryMap(ram=(Span(0x100000, 0xC0000000, "System RAM"),), source="test")
    m = Machine(memmap=mm, arch="x86_64", kernel="7.3.4", cmdline="")
    big = replace(inputs(ram=m.ram_size()), initrd_size=900 * MiB, initrd_unpacked=2800 * MiB)
    s = suggest(big, release="7.3.4", facts=OK, machine=m)
    cma = s.plan("cma")
    assert cma.refused is not None
    assert cma.refused.startswith("the memory map has room for") or cma.refused.startswith("the classic part")


def test_parse_only_without_a_map():
    s = suggest(inputs(), release="7.3.4", facts=OK, machine=None)
    for p in s.plans:
        assert p.replay is not None and not p.replay.replayed and p.replay.accepted
        assert p.replay.note == "no memory map: the command line was parsed, the placement not replayed"


def test_classic_larger_than_ram_is_refused():
    s = suggest(inputs(ram=96 * MiB), release="7.3.4", facts=OK)
    assert s.plan("classic").refused == "the capture kernel needs 112M, not less than the machine's 96M of RAM"
    assert not s.recommended or s.plan("cma").refused is None


# --- portable --------------------------------------------------------------------------------------


def test_portable_table_follows_the_kernels_range_rules():
    p = portable_table(inputs(), "7.3.4")
    assert p.cmdline == "crashkernel=2G-4G:112M,4G-64G:120M,64G-:120M"
    assert all(ok for *_, ok, _ in p.checks)
    by_ram = {ram: sel for ram, sel, _, _, _ in p.checks}
    assert by_ram[2 * GiB - 64 * MiB] == 112 * MiB  # rounded up to 2G: the first range
    assert by_ram[4 * GiB - 128 * MiB - 1] == 112 * MiB
    assert by_ram[4 * GiB - 1] == 120 * MiB  # rounded up to 4G: the second range, end exclusive
    assert by_ram[64 * GiB] == 120 * MiB


def test_portable_before_the_round_up():
    p = portable_table(inputs(kernel="5.15"), "5.15")
    by_ram = {ram: (sel, ok) for ram, sel, _, ok, _ in p.checks}
    assert by_ram[2 * GiB - 64 * MiB] == (0, True)  # 5.15 does not round up: nothing, and said so
    assert any("does not round RAM up" in n for n in p.notes)


# --- apply -----------------------------------------------------------------------------------------


def test_apply_grubby_for_rhel():
    a = apply_plan("crashkernel=232M", facts_from_release("5.14.0-503.11.1.el9_5.x86_64", "x86_64"),
                   kdump_utils_default=256 * MiB, recommended=232 * MiB)
    assert a.method == "grubby"
    assert a.commands == ("grubby --update-kernel=ALL --args=crashkernel=232M",)
    assert any("auto_reset_crashkernel" in n for n in a.notes)
    assert any("kdumpctl reset-crashkernel --kernel=ALL" in n for n in a.notes)
    s390 = apply_plan("crashkernel=232M", facts_from_release("5.14.0-503.11.1.el9_5.s390x", "s390x"))
    assert s390.commands == ("grubby --update-kernel=ALL --args=crashkernel=232M", "zipl")


def test_apply_rpm_ostree_replaces_current_tokens():
    f = SystemFacts(os_id="fedora", ostree=True, current=("crashkernel=256M",))
    a = apply_plan("crashkernel=80M crashkernel=40M,cma", f, plan="cma")
    assert a.commands == ("rpm-ostree kargs --delete-if-present=crashkernel=256M --append=crashkernel=80M "
                          "--append=crashkernel=40M,cma",)


def _sh(script: str) -> str:
    return subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True).stdout


def test_apply_grub_drop_in_really_replaces_crashkernel(tmp_path):
    a = apply_plan("crashkernel=80M crashkernel=40M,cma", facts_from_release("7.3.4+deb13-amd64", "x86_64"),
                   plan="cma", kexec_mode="default")
    assert a.method == "grub-drop-in"
    assert a.commands[1].startswith("dpkg-divert --local --rename") and a.commands[-1] == "update-grub"
    assert any("KDUMP_KEXEC_ARGS=\"-s\"" in n for n in a.notes)
    path, content = a.files[0]
    assert path == "/etc/default/grub.d/kdump-crashplan.cfg"
    cfg = tmp_path / "drop-in.cfg"
    cfg.write_text(content)
    out = _sh(f'GRUB_CMDLINE_LINUX="ro crashkernel=512M"; GRUB_CMDLINE_LINUX_DEFAULT="quiet crashkernel=384M-:128M splash"; '
              f'. {cfg}; printf "%s|%s" "$GRUB_CMDLINE_LINUX" "$GRUB_CMDLINE_LINUX_DEFAULT"')
    assert out == "ro|quiet splash crashkernel=80M crashkernel=40M,cma"


def test_apply_zipl_sed_really_edits_zipl_conf(tmp_path):
    a = apply_plan("crashkernel=232M", facts_from_release("6.12.38+deb13-s390x", "s390x"))
    assert a.method == "zipl" and a.commands[-1] == "zipl"
    conf = tmp_path / "zipl.conf"
    conf.write_text('[defaultboot]\ndefault=debian\n[debian]\ntarget=/boot\nimage=/vmlinuz\n'
                    'parameters="root=/dev/dasda1 crashkernel=128M quiet"\n')
    subprocess.run(["sh", "-c", a.commands[0].replace("/etc/zipl.conf", str(conf))], check=True)
    assert conf.read_text().splitlines()[-1] == 'parameters="root=/dev/dasda1 quiet crashkernel=232M"'


@pytest.mark.parametrize("release,arch,method", [
    ("6.12.25+rpt-rpi-v8", "arm64", "cmdline.txt"), ("5.15.148-tegra", "arm64", "extlinux"),
    ("6.4.0-150600.23.25-default", "x86_64", "suse"), ("6.18.44", "x86_64", "manual"),
    ("6.8.0-45-generic", "x86_64", "grub-drop-in"),
])
def test_apply_methods(release, arch, method):
    assert apply_plan("crashkernel=232M", facts_from_release(release, arch)).method == method


def test_kdump_utils_default_table():
    assert kdump_utils_default("x86_64", 16 * GiB) == 256 * MiB
    assert kdump_utils_default("x86_64", 64 * GiB - 100 * MiB) == 512 * MiB  # rounded up to 64G
    assert kdump_utils_default("arm64", 3 * GiB) == 256 * MiB
    assert kdump_utils_default("x86_64", GiB) is None
