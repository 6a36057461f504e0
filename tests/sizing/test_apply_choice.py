"""How a plan is applied: the method chosen from the tools and files a system shows, the commands really
editing copies of the files they edit, and the live shrink through /sys/kernel/kexec_crash_size."""

from __future__ import annotations

import os
import subprocess

import pytest

from crashplan.sizing.apply import (
    SystemFacts,
    _grub_default_line,
    apply_plan,
    grub_default_edit,
    live_shrink,
)

MiB = 1 << 20


def facts(os_id: str, *tools: str, files: tuple[str, ...] = (), like: tuple[str, ...] = (), arch: str = "x86_64",
          current: tuple[str, ...] = ()) -> SystemFacts:
    return SystemFacts(os_id=os_id, os_like=like, arch=arch, tools=frozenset(tools), files=frozenset(files),
                       current=current)


@pytest.mark.parametrize("f,method,first", [
    (facts("fedora", "rpm-ostree", "grubby", files=("/run/ostree-booted",), current=("crashkernel=256M",)),
     "rpm-ostree", "rpm-ostree kargs --delete-if-present=crashkernel=256M --append=crashkernel=232M"),
    (facts("rhel", "grubby", "kdumpctl", "grub2-mkconfig", "kernel-install", files=("/boot/loader/entries",)),
     "grubby", "grubby --update-kernel=ALL --args=crashkernel=232M"),
    (facts("debian", "update-grub", "grub-mkconfig", files=("/etc/default/grub",)),
     "grub-drop-in", "cat > /etc/default/grub.d/kdump-crashplan.cfg <<'EOF'"),
    (facts("opensuse-microos", "transactional-update", "grub2-mkconfig", like=("suse", "opensuse")),
     "transactional-update", "transactional-update run sed -i -E \\"),
    (facts("opensuse-leap", "grub2-mkconfig", like=("suse", "opensuse"), files=("/boot/grub2/grub.cfg",)),
     "suse", "grep -q '^GRUB_CMDLINE_LINUX_DEFAULT=' /etc/default/grub ||"),
    (facts("arch", "grub-mkconfig", files=("/etc/default/grub", "/boot/grub/grub.cfg")),
     "grub-mkconfig", "grep -q '^GRUB_CMDLINE_LINUX_DEFAULT=' /etc/default/grub ||"),
    (facts("arch", "kernel-install", "bootctl", files=("/boot/loader/entries",)),
     "kernel-install", "[ -e /etc/kernel/cmdline ] ||"),
    (facts("rhel", "grubby", "zipl", arch="s390x", files=("/etc/zipl.conf",)),
     "grubby", "grubby --update-kernel=ALL --args=crashkernel=232M"),
    (facts("debian", "zipl", arch="s390x", files=("/etc/zipl.conf",)), "zipl", "sed -i -E"),
    (facts("raspbian", files=("/boot/firmware/cmdline.txt",)), "cmdline.txt", "sed -i -E"),
])
def test_the_method_follows_the_tools_present(f, method, first):
    a = apply_plan("crashkernel=232M", f)
    assert a.method == method and a.fits
    assert a.commands[0].startswith(first)


def test_the_last_command_of_each_method():
    assert apply_plan("crashkernel=232M", facts("arch", "grub-mkconfig", files=(
        "/etc/default/grub", "/boot/grub/grub.cfg"))).commands[-1] == "grub-mkconfig -o /boot/grub/grub.cfg"
    assert apply_plan("crashkernel=232M", facts("opensuse-leap", "grub2-mkconfig", like=("suse",))).commands[-1] == \
        "grub2-mkconfig -o /boot/grub2/grub.cfg"
    assert apply_plan("crashkernel=232M", facts("sle-micro", "transactional-update", like=("suse",))).commands[-1] == \
        "transactional-update --continue grub.cfg"
    assert apply_plan("crashkernel=232M", facts("rhel", "grubby", "zipl", arch="s390x")).commands[-1] == "zipl"
    ki = apply_plan("crashkernel=232M", facts("arch", "kernel-install", files=("/etc/kernel/cmdline",)))
    assert ki.commands[-1] == 'kernel-install add "$(uname -r)" "/usr/lib/modules/$(uname -r)/vmlinuz"'


@pytest.mark.parametrize("f", [
    facts("debian"),  # a Debian without GRUB (direct kernel boot): the family alone is not enough
    facts("fedora", "kernel-install"),  # kernel-install without any entry or /etc/kernel/cmdline
    facts("gentoo", "grub-mkconfig"),  # grub-mkconfig without /etc/default/grub
    facts("opensuse-leap", like=("suse",)),  # SUSE without grub2-mkconfig
])
def test_nothing_fits_is_said(f):
    a = apply_plan("crashkernel=232M", f)
    assert a.method == "manual" and not a.fits
    assert a.commands == ("# add to the kernel command line: crashkernel=232M",)
    assert a.notes[0].startswith("nothing here fits: none of rpm-ostree, grubby, transactional-update, update-grub")


def test_kdumpctl_reset_is_offered_only_where_kdumpctl_is():
    with_it = apply_plan("crashkernel=232M", facts("rhel", "grubby", "kdumpctl"), kdump_utils_default=256 * MiB,
                         recommended=232 * MiB)
    assert with_it.alternatives == ("kdumpctl reset-crashkernel --kernel=ALL  (kdump-utils' default, 256M here: "
                                    "more than the 232M needed)",)
    assert apply_plan("crashkernel=232M", facts("rhel", "grubby"), kdump_utils_default=256 * MiB,
                      recommended=232 * MiB).alternatives == ()
    # the default is smaller than the plan: resetting to it would be too small, so it is not offered
    assert apply_plan("crashkernel=512M", facts("rhel", "grubby", "kdumpctl"), kdump_utils_default=256 * MiB,
                      recommended=512 * MiB).alternatives == ()


def test_the_kdump_tools_drop_in_is_diverted_only_when_present():
    present = apply_plan("crashkernel=232M", facts("debian", "update-grub",
                                                   files=("/etc/default/grub.d/kdump-tools.cfg",)))
    absent = apply_plan("crashkernel=232M", facts("debian", "update-grub"))
    assert any(c.startswith("dpkg-divert") for c in present.commands)
    assert not any(c.startswith("dpkg-divert") for c in absent.commands)


def _sh(script: str, **env: str) -> str:
    return subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True,
                          env={**os.environ, **env}).stdout


GRUB = ('GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX="ro crashkernel=512M"\n'
        'GRUB_CMDLINE_LINUX_DEFAULT="crashkernel=384M-:128M quiet splash"\n')


@pytest.mark.parametrize("text", [GRUB, 'GRUB_CMDLINE_LINUX="crashkernel=1G rd.lvm.lv=rhel/root"\n'])
def test_the_grub_edit_really_replaces_crashkernel(tmp_path, text):
    path = tmp_path / "grub"
    path.write_text(text)
    params = "crashkernel=80M crashkernel=40M,cma"
    _sh(_grub_default_line(str(path)) + "\n" + grub_default_edit(params, str(path)))
    out = _sh(f'. {path}; printf "%s|%s" "$GRUB_CMDLINE_LINUX" "$GRUB_CMDLINE_LINUX_DEFAULT"')
    linux, default = (" ".join(x.split()) for x in out.split("|"))
    assert "crashkernel" not in linux
    assert default.endswith(params) and default.count("crashkernel=") == 2
    assert "rd.lvm.lv=rhel/root" in linux or "quiet splash" in default
    # run twice: the same result (nothing piles up)
    _sh(grub_default_edit(params, str(path)))
    again = _sh(f'. {path}; printf "%s" "$GRUB_CMDLINE_LINUX_DEFAULT"')
    assert " ".join(again.split()) == default


def test_the_kernel_install_commands_really_edit_kernel_cmdline(tmp_path):
    a = apply_plan("crashkernel=232M", facts("arch", "kernel-install", files=("/boot/loader/entries",)))
    seed, sed, _ = a.commands
    proc = tmp_path / "proc-cmdline"
    proc.write_text("BOOT_IMAGE=/vmlinuz-6.12 initrd=\\initrd.img root=UUID=abc ro crashkernel=512M quiet\n")
    kcmd = tmp_path / "kernel-cmdline"
    _sh(seed.replace("/etc/kernel/cmdline", str(kcmd)).replace("/proc/cmdline", str(proc)))
    _sh(sed.replace("/etc/kernel/cmdline", str(kcmd)))
    assert kcmd.read_text().split() == ["root=UUID=abc", "ro", "quiet", "crashkernel=232M"]
    # an existing /etc/kernel/cmdline is kept and edited in place
    kcmd.write_text("root=/dev/vda2 rw crashkernel=1G\n")
    _sh(seed.replace("/etc/kernel/cmdline", str(kcmd)).replace("/proc/cmdline", str(proc)))
    _sh(sed.replace("/etc/kernel/cmdline", str(kcmd)))
    assert kcmd.read_text().split() == ["root=/dev/vda2", "rw", "crashkernel=232M"]


def test_every_printed_command_line_fits_80_columns():
    for f in (facts("debian", "update-grub", files=("/etc/default/grub.d/kdump-tools.cfg",)),
              facts("opensuse-microos", "transactional-update", like=("suse",)),
              facts("arch", "grub-mkconfig", files=("/etc/default/grub",))):
        for params in ("crashkernel=232M", "crashkernel=120M crashkernel=120M,cma"):
            for c in apply_plan(params, f).commands:
                assert all(len("    " + line) <= 80 for line in c.splitlines()), c


# --- live shrink ---------------------------------------------------------------------------------


def test_shrink_a_live_reservation():
    s = live_shrink(reserved=256 * MiB, target=232 * MiB, live=True, sysfs=True, loaded=True,
                    kdump_flavour="kdump-utils")
    assert s is not None and s.possible and s.frees == 24 * MiB and s.size == 232 * MiB
    assert s.commands == ("kdumpctl stop", f"echo {232 * MiB} > /sys/kernel/kexec_crash_size", "kdumpctl start")
    none_loaded = live_shrink(reserved=256 * MiB, target=232 * MiB, live=True, sysfs=True, loaded=False,
                              kdump_flavour="kdump-tools")
    assert none_loaded is not None and none_loaded.commands == (f"echo {232 * MiB} > /sys/kernel/kexec_crash_size",)
    debian = live_shrink(reserved=256 * MiB, target=232 * MiB, live=True, sysfs=True, loaded=True,
                         kdump_flavour="kdump-tools")
    assert debian is not None and debian.commands[0] == "kdump-config unload" and debian.commands[-1] == "kdump-config load"


def test_shrink_rounds_up_to_a_page_as_the_kernel_does():
    s = live_shrink(reserved=256 * MiB, target=100 * MiB + 1, live=False)
    assert s is not None and s.size == 100 * MiB + 4096
    s64k = live_shrink(reserved=256 * MiB, target=100 * MiB + 1, live=False, page_size=65536)
    assert s64k is not None and s64k.size == 100 * MiB + 65536


@pytest.mark.parametrize("reserved,target", [(232 * MiB, 232 * MiB), (192 * MiB, 232 * MiB), (0, 232 * MiB),
                                             (232 * MiB - 100, 232 * MiB - 4096 + 1)])
def test_the_kernel_only_shrinks(reserved, target):
    assert live_shrink(reserved=reserved, target=target, live=True, sysfs=True, loaded=False) is None


def test_no_kexec_crash_size_means_a_reboot():
    s = live_shrink(reserved=1 << 30, target=232 * MiB, live=True, sysfs=False, loaded=None)
    assert s is not None and not s.possible and s.commands == ()
    assert "only a reboot" in s.notes[0]


def test_shrink_with_a_low_region():
    # crashkernel=512M,high with the default 256M low region, shrunk to 232M: the kernel releases the
    # main region first, then shrinks the low one (crash_shrink_memory(), low_size > new_size)
    s = live_shrink(reserved=768 * MiB, target=232 * MiB, low=256 * MiB, live=False)
    assert s is not None and s.possible
    assert "the main region is released and the low region shrinks to 232M" in s.notes
    s2 = live_shrink(reserved=768 * MiB, target=300 * MiB, low=256 * MiB, live=False)
    assert s2 is not None and "the main region shrinks; the low region stays" in s2.notes


def test_a_machine_file_says_the_tools_were_not_probed():
    from crashplan.sizing.apply import facts_from_release

    a = apply_plan("crashkernel=232M", facts_from_release("5.14.0-503.11.1.el9_5.x86_64", "x86_64"))
    assert a.method == "grubby"
    assert a.notes[-1] == ("chosen from the release string '5.14.0-503.11.1.el9_5.x86_64': the machine's "
                           "boot-loader tools were not probed")
    probed = apply_plan("crashkernel=232M", facts("rhel", "grubby"))
    assert not any("not probed" in n for n in probed.notes)
