"""The commands that would put a plan's ``crashkernel=`` parameters on the boot command line.

crashplan prints them and never runs them.  The method is chosen from what the system (or the
machine file) shows:

``rpm-ostree``      OSTree systems (``/run/ostree-booted``): ``rpm-ostree kargs``
``grubby``          Fedora/RHEL and relatives: ``grubby --update-kernel=ALL --args=…`` (BLS entries;
                    on s390x followed by ``zipl``, as kdumpctl does when ``/etc/zipl.conf`` exists)
``grub-drop-in``    Debian/Ubuntu: ``/etc/default/grub.d/kdump-crashplan.cfg`` and ``update-grub``
``zipl``            s390x without grubby: the ``parameters=`` line of ``/etc/zipl.conf``, then ``zipl``
``suse``            SUSE: ``GRUB_CMDLINE_LINUX_DEFAULT`` in ``/etc/default/grub``, then ``grub2-mkconfig``
``cmdline.txt``     Raspberry Pi OS: ``/boot/firmware/cmdline.txt``
``extlinux``        NVIDIA Jetson (L4T): the ``APPEND`` line of ``/boot/extlinux/extlinux.conf``
``transactional-update``  SUSE with a read-only root (SLE Micro, MicroOS): the same edit of
                    ``/etc/default/grub`` in a new snapshot, then ``transactional-update --continue grub.cfg``
                    (transactional-update(8): ``run`` and ``grub.cfg``; inferred from the manual, not run)
``grub-mkconfig``   any other GRUB system with ``grub2-mkconfig`` or ``grub-mkconfig`` and
                    ``/etc/default/grub``: the edit, then the configuration rebuilt where ``grub.cfg`` is
``kernel-install``  systemd-boot and other BLS setups driven by ``/etc/kernel/cmdline``: the edit, then
                    ``kernel-install add`` for the running kernel (kernel-install(8))
``manual``          nothing that fits was found: what to add, and where it usually goes

On this system the choice is made from what the CLI probed: the tools on ``PATH``
(:attr:`SystemFacts.tools`), ``/etc/os-release`` and the boot-loader files present
(:attr:`SystemFacts.files`).  From a machine file (``tools is None``) it is inferred from the kernel
release string alone, and the notes say so.

:func:`live_shrink` says when the running kernel can give back part of its reservation without a
reboot (``/sys/kernel/kexec_crash_size``).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, replace

__all__ = [
    "BOOT_FILES",
    "DROP_IN",
    "TOOLS",
    "ApplyPlan",
    "LiveShrink",
    "SystemFacts",
    "apply_plan",
    "facts_from_release",
    "live_shrink",
]

DROP_IN = "/etc/default/grub.d/kdump-crashplan.cfg"
_KDUMP_TOOLS_CFG = "/etc/default/grub.d/kdump-tools.cfg"

# what the CLI looks for on PATH and on disk (presence only; nothing is run or read beyond os-release)
TOOLS = ("rpm-ostree", "grubby", "kdumpctl", "transactional-update", "update-grub", "grub2-mkconfig",
         "grub-mkconfig", "zipl", "kernel-install", "bootctl", "kdump-config")
BOOT_FILES = ("/run/ostree-booted", "/etc/default/grub", "/etc/zipl.conf", "/etc/kernel/cmdline",
              "/boot/grub2/grub.cfg", "/boot/grub/grub.cfg", "/boot/loader/entries", "/efi/loader/entries",
              "/boot/efi/loader/entries", "/boot/firmware/cmdline.txt", "/boot/extlinux/extlinux.conf",
              _KDUMP_TOOLS_CFG)


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemFacts:
    """What the system shows about its boot configuration (None = not known)."""

    os_id: str | None = None  # /etc/os-release ID
    os_like: tuple[str, ...] = ()  # ID_LIKE
    arch: str | None = None
    ostree: bool = False
    grubby: bool | None = None
    update_grub: bool | None = None
    zipl_conf: bool | None = None
    kdump_tools_grub_cfg: bool | None = None
    auto_reset_crashkernel: bool | None = None  # kdump-utils /etc/kdump.conf
    kdumpctl: bool | None = None
    release: str | None = None
    current: tuple[str, ...] = ()  # crashkernel= tokens on the current command line
    source: str = "this system"
    tools: frozenset[str] | None = None  # names of TOOLS found on PATH; None: not probed (a machine file)
    files: frozenset[str] = frozenset()  # BOOT_FILES present

    def has(self, tool: str) -> bool | None:
        """Whether ``tool`` is on PATH (None: not probed)."""
        return None if self.tools is None else tool in self.tools


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplyPlan:
    method: str
    commands: tuple[str, ...]
    files: tuple[tuple[str, str], ...] = ()  # (path, content) the commands write
    notes: tuple[str, ...] = ()
    alternatives: tuple[str, ...] = ()  # other commands that also fit, each with what it does
    fits: bool = True  # False: nothing on this system fits; the commands only say what to add

    def as_dict(self) -> dict[str, object]:
        return {"method": self.method, "commands": list(self.commands),
                "files": [{"path": p, "content": c} for p, c in self.files], "notes": list(self.notes),
                "alternatives": list(self.alternatives), "fits": self.fits}


_RH = {"rhel", "fedora", "centos", "rocky", "almalinux", "ol", "amzn", "circle", "eurolinux", "cloudlinux"}
_DEB = {"debian", "ubuntu", "linuxmint", "pop", "raspbian", "kali"}
_SUSE = {"suse", "opensuse", "sles", "opensuse-leap", "opensuse-tumbleweed", "sle-micro"}


def facts_from_release(release: str | None, arch: str | None, current: tuple[str, ...] = ()) -> SystemFacts:
    """What a machine file's release string suggests about its boot loader."""
    rel = (release or "").lower()
    os_id = None
    if ".el" in rel or ".fc" in rel or ".amzn" in rel:
        os_id = "fedora" if ".fc" in rel else "rhel"
    elif "deb" in rel or rel.endswith(("-amd64", "-arm64", "-ppc64el", "-s390x", "-cloud-amd64")):
        os_id = "debian"
    elif "-generic" in rel or "-aws" in rel or "-azure" in rel or "-gcp" in rel or "-lowlatency" in rel:
        os_id = "ubuntu"
    elif rel.endswith("-default") or (".g" in rel and "-default" in rel):
        os_id = "opensuse"
    elif "rpi" in rel:
        os_id = "raspbian"
    elif "tegra" in rel:
        os_id = "l4t"
    return SystemFacts(os_id=os_id, arch=arch, release=release, current=current,
                       source=f"the release string {release!r}" if release else "nothing")


def _family(f: SystemFacts) -> str | None:
    ids = {f.os_id or ""} | set(f.os_like)
    if f.os_id == "raspbian":
        return "rpi"
    if f.os_id == "l4t":
        return "l4t"
    if ids & _RH:
        return "rh"
    if ids & _DEB:
        return "deb"
    if ids & _SUSE or any(i.startswith(("opensuse", "sle")) for i in ids):
        return "suse"
    return None


def _present(facts: SystemFacts, tool: str, legacy: bool | None, fallback: bool) -> bool:
    """``tool`` is there: as probed on PATH; else as an older field says; else as the family suggests."""
    if legacy is not None:
        return legacy
    h = facts.has(tool)
    return fallback if h is None else h


def grub_default_edit(params: str, path: str = "/etc/default/grub", *, prefix: str = "") -> str:
    """A ``sed`` command (lines continued with backslashes, each within 80 columns) that drops every
    ``crashkernel=`` from GRUB_CMDLINE_LINUX and GRUB_CMDLINE_LINUX_DEFAULT of ``path`` and appends
    ``params`` to GRUB_CMDLINE_LINUX_DEFAULT.  ``prefix`` runs it under another command
    (``transactional-update run``)."""
    lines = [f"{prefix}sed -i -E", "  -e '/^GRUB_CMDLINE_LINUX(_DEFAULT)?=/s/(\\s|\")crashkernel=[^ \"]*/\\1/g'"]
    lines += [f"  -e '/^GRUB_CMDLINE_LINUX_DEFAULT=/s/\"\\s*$/ {t}\"/'" for t in params.split()]
    return " \\\n".join([*lines, f"  {path}"])


def _grub_default_line(path: str = "/etc/default/grub") -> str:
    return f"grep -q '^GRUB_CMDLINE_LINUX_DEFAULT=' {path} ||\n  echo 'GRUB_CMDLINE_LINUX_DEFAULT=\"\"' >> {path}"


def _grub_cfg(facts: SystemFacts, tool: str) -> str:
    for cfg in ("/boot/grub2/grub.cfg", "/boot/grub/grub.cfg"):
        if cfg in facts.files:
            return cfg
    return "/boot/grub2/grub.cfg" if tool == "grub2-mkconfig" else "/boot/grub/grub.cfg"


_REBOOT = "reboot for the new reservation to take effect"


def apply_plan(params: str, facts: SystemFacts, *, plan: str = "classic", kdump_flavour: str | None = None,
               kexec_mode: str | None = None, kdump_utils_default: int | None = None,
               recommended: int | None = None) -> ApplyPlan:
    """How to put ``params`` (e.g. ``crashkernel=160M crashkernel=1G,cma``) on the command line.

    The first method whose tool is there wins (probed: on PATH; from a machine file: what the kernel
    release's distribution ships, and a note says it was not probed); when none is, the answer says that
    nothing here fits.
    """
    a = _choose(params, facts, plan=plan, kdump_flavour=kdump_flavour, kexec_mode=kexec_mode,
                kdump_utils_default=kdump_utils_default, recommended=recommended)
    if facts.tools is None and a.fits and facts.source != "this system":
        a = replace(a, notes=(*a.notes, (f"chosen from {facts.source}: the machine's boot-loader tools were not "
                                          "probed")))
    return a


def _choose(params: str, facts: SystemFacts, *, plan: str, kdump_flavour: str | None, kexec_mode: str | None,
            kdump_utils_default: int | None, recommended: int | None) -> ApplyPlan:
    """The first method that fits, in the order of the module's table."""
    fam = _family(facts)
    files = facts.files
    if (facts.ostree or "/run/ostree-booted" in files) and _present(facts, "rpm-ostree", None, True):
        return _rpm_ostree(params, facts)
    if fam == "suse" and facts.has("transactional-update"):
        return _transactional_update(params)
    if _present(facts, "grubby", facts.grubby, fam == "rh"):
        return _grubby(params, facts, plan=plan, kexec_mode=kexec_mode, kdump_utils_default=kdump_utils_default,
                       recommended=recommended)
    if (facts.arch == "s390x" or facts.zipl_conf or "/etc/zipl.conf" in files) and _present(facts, "zipl", None, True):
        return _zipl(params)
    if _present(facts, "update-grub", facts.update_grub, fam == "deb"):
        return _grub_drop_in(params, facts, plan=plan, kexec_mode=kexec_mode)
    if fam == "suse" and _present(facts, "grub2-mkconfig", None, True):
        return _suse(params, facts)
    mkconfig = next((t for t in ("grub2-mkconfig", "grub-mkconfig") if facts.has(t)), None)
    if mkconfig and "/etc/default/grub" in files:
        return _grub_mkconfig(params, facts, mkconfig)
    entries = any(p in files for p in ("/etc/kernel/cmdline", "/boot/loader/entries", "/efi/loader/entries",
                                       "/boot/efi/loader/entries"))
    if facts.has("kernel-install") and entries:
        return _kernel_install(params)
    if fam == "rpi" or "/boot/firmware/cmdline.txt" in files:
        return _cmdline_txt(params)
    if fam == "l4t" or "/boot/extlinux/extlinux.conf" in files:
        return _extlinux(params)
    return _manual(params, facts)


def _rpm_ostree(params: str, facts: SystemFacts) -> ApplyPlan:
    notes: list[str] = []
    cmd = ["rpm-ostree", "kargs"]
    cmd += [f"--delete-if-present={t}" for t in facts.current]
    if not facts.current:
        notes.append("remove any crashkernel= already there: rpm-ostree kargs --delete=crashkernel=<value>")
    cmd += [f"--append={t}" for t in params.split()]
    return ApplyPlan(method="rpm-ostree", commands=(" ".join(shlex.quote(c) for c in cmd),),
                     notes=(*notes, "the change takes effect after a reboot into the new deployment"))


def _transactional_update(params: str) -> ApplyPlan:
    return ApplyPlan(
        method="transactional-update",
        commands=(grub_default_edit(params, prefix="transactional-update run "),
                  "transactional-update --continue grub.cfg"),
        notes=(("the root file system is read-only: both steps go into one new snapshot "
               "(transactional-update(8): run, --continue, grub.cfg)"),
               ("SUSE's kdump may manage crashkernel= itself (KDUMP_CRASHKERNEL in /etc/sysconfig/kdump): "
               "keep it from overwriting this value"),
               "reboot into the new snapshot for the new reservation to take effect"))


def _grubby(params: str, facts: SystemFacts, *, plan: str, kexec_mode: str | None, kdump_utils_default: int | None,
            recommended: int | None) -> ApplyPlan:
    notes: list[str] = []
    cmds = [f"grubby --update-kernel=ALL --args={shlex.quote(params)}"]
    if facts.arch == "s390x" and facts.zipl_conf is not False and _present(facts, "zipl", None, True):
        cmds.append("zipl")
    alternatives: list[str] = []
    notes.append("grubby replaces each crashkernel= already there; check with: "
                 "grubby --info=ALL | grep crashkernel")
    if facts.auto_reset_crashkernel is not False:
        notes.append("kdump-utils resets crashkernel= to its default on kernel updates while /etc/kdump.conf says "
                     "auto_reset_crashkernel yes (the default): set it to no to keep this value")
    if plan == "classic" and kdump_utils_default and recommended and recommended <= kdump_utils_default:
        text = (f"kdumpctl reset-crashkernel --kernel=ALL would set kdump-utils' default, which gives this "
                f"machine more than the {recommended >> 20}M this plan needs")
        if _present(facts, "kdumpctl", facts.kdumpctl, False):
            alternatives.append(f"kdumpctl reset-crashkernel --kernel=ALL  (kdump-utils' default, "
                                f"{kdump_utils_default >> 20}M here: more than the {recommended >> 20}M needed)")
        notes.append(text)
    if plan == "cma" and kexec_mode != "file":
        notes.append("keep KEXEC_ARGS=\"-s\" in /etc/sysconfig/kdump: the CMA memory needs kexec_file_load")
    notes.append(_REBOOT)
    return ApplyPlan(method="grubby", commands=tuple(cmds), notes=tuple(notes), alternatives=tuple(alternatives))


def _zipl(params: str) -> ApplyPlan:
    sed = ("sed -i -E '/^[[:space:]]*parameters[[:space:]]*=/{s/[[:space:]]crashkernel=[^[:space:]\"]*//g;"
           f"s/\"[[:space:]]*$/ {params}\"/}}' /etc/zipl.conf")
    return ApplyPlan(method="zipl", commands=(sed, "zipl"),
                     notes=("the parameters= lines of /etc/zipl.conf must be double-quoted on one line",
                            "reboot (re-IPL) for the new reservation to take effect"))


def _grub_drop_in(params: str, facts: SystemFacts, *, plan: str, kexec_mode: str | None) -> ApplyPlan:
    notes: list[str] = []
    # every line within 76 columns, so that the printed command reads at 80; GNU sed's \s and \S
    # (Debian and Ubuntu ship GNU sed); a backslash-newline inside double quotes continues the line
    content = (
        "# crashkernel= for kdump, from `crashplan suggest` (" + plan + " plan).\n"
        "# The kernel uses the last one of each kind: older ones are dropped.\n"
        "crashplan_ck() { printf '%s\\n' \"$1\" | sed -E 's/(^|\\s)crashkernel=\\S*//g'; }\n"
        'GRUB_CMDLINE_LINUX="$(crashplan_ck "$GRUB_CMDLINE_LINUX")"\n'
        'GRUB_CMDLINE_LINUX_DEFAULT="$(crashplan_ck "$GRUB_CMDLINE_LINUX_DEFAULT")\\\n'
        " " + params + '"\n'
        "unset -f crashplan_ck\n"
    )
    cmds = [f"cat > {DROP_IN} <<'EOF'\n{content}EOF"]
    kt_cfg = facts.kdump_tools_grub_cfg
    if kt_cfg is None and facts.tools is not None:
        kt_cfg = _KDUMP_TOOLS_CFG in facts.files
    if kt_cfg is not False:
        cmds.append(f"dpkg-divert --local --rename --add \\\n  --divert {_KDUMP_TOOLS_CFG}.disabled \\\n"
                    f"  {_KDUMP_TOOLS_CFG}")
        notes.append(f"{_KDUMP_TOOLS_CFG} (kdump-tools) is read after {DROP_IN} and appends its own crashkernel=, "
                     "which would win: the dpkg-divert moves it aside so that package upgrades keep it there"
                     + ("" if kt_cfg else " (skip it if the file does not exist)"))
    cmds.append("update-grub")
    if plan == "cma" and kexec_mode != "file":
        notes.append("set KDUMP_KEXEC_ARGS=\"-s\" in /etc/default/kdump-tools: kdump-config uses kexec_file_load "
                     "only under Secure Boot otherwise, and the CMA memory needs it")
    notes.append(_REBOOT)
    return ApplyPlan(method="grub-drop-in", commands=tuple(cmds), files=((DROP_IN, content),), notes=tuple(notes))


def _suse(params: str, facts: SystemFacts) -> ApplyPlan:
    note = ("SUSE's kdump may manage crashkernel= itself (KDUMP_CRASHKERNEL, kdumptool commandline -U): "
            "keep it from overwriting this value")
    return ApplyPlan(method="suse", commands=(_grub_default_line(), grub_default_edit(params),
                                              f"grub2-mkconfig -o {_grub_cfg(facts, 'grub2-mkconfig')}"),
                     notes=(note, _REBOOT))


def _grub_mkconfig(params: str, facts: SystemFacts, mkconfig: str) -> ApplyPlan:
    return ApplyPlan(method="grub-mkconfig",
                     commands=(_grub_default_line(), grub_default_edit(params),
                               f"{mkconfig} -o {_grub_cfg(facts, mkconfig)}"),
                     notes=(("values written in single quotes in /etc/default/grub are not edited: change them "
                            "by hand"), _REBOOT))


def _kernel_install(params: str) -> ApplyPlan:
    seed = ("[ -e /etc/kernel/cmdline ] || tr -s ' \\n' '\\n' </proc/cmdline | "
            "grep -ve '^BOOT_IMAGE=' -e '^initrd=' | tr '\\n' ' ' >/etc/kernel/cmdline")
    sed = (f"sed -i -E 's/(^|[[:space:]])crashkernel=[^[:space:]]*//g; s/[[:space:]]*$/ {params}/' "
           "/etc/kernel/cmdline")
    return ApplyPlan(method="kernel-install", commands=(
        seed, sed, 'kernel-install add "$(uname -r)" "/usr/lib/modules/$(uname -r)/vmlinuz"'),
        notes=(("kernel-install writes /etc/kernel/cmdline into the boot entry it (re)creates; without that file "
               "it takes /proc/cmdline minus BOOT_IMAGE= and initrd=, which the first command copies "
               "(systemd 90-loaderentry.install)"),
               ("a unified kernel image (UKI) carries its command line inside: kernel-install add rebuilds it "
               "only where the UKI is built on this machine"),
               "other installed kernels keep their entries until they are installed again", _REBOOT))


def _cmdline_txt(params: str) -> ApplyPlan:
    sed = f"sed -i -E 's/[[:space:]]crashkernel=[^[:space:]]*//g; s/$/ {params}/' /boot/firmware/cmdline.txt"
    return ApplyPlan(method="cmdline.txt", commands=(sed,),
                     notes=("cmdline.txt is one line; older images keep it in /boot/cmdline.txt", _REBOOT))


def _extlinux(params: str) -> ApplyPlan:
    sed = ("sed -i -E '/^[[:space:]]*APPEND[[:space:]]/{s/[[:space:]]crashkernel=[^[:space:]]*//g;"
           f"s/$/ {params}/}}' /boot/extlinux/extlinux.conf")
    return ApplyPlan(method="extlinux", commands=(sed,),
                     notes=("every APPEND line of extlinux.conf gets it; edit by hand to change one entry only",
                            _REBOOT))


def _manual(params: str, facts: SystemFacts) -> ApplyPlan:
    where = ("add the parameters to the kernel command line where your boot loader keeps it (GRUB_CMDLINE_LINUX "
             "in /etc/default/grub and grub-mkconfig, a BLS entry's options line, systemd-boot's "
             "/etc/kernel/cmdline), removing older crashkernel= parameters")
    if facts.tools is not None:
        looked = ", ".join(t for t in TOOLS if t not in ("kdumpctl", "kdump-config", "bootctl"))
        note = f"nothing here fits: none of {looked} is on PATH with its configuration present; {where}"
    else:
        note = f"could not tell the boot loader from {facts.source}: {where}"
    return ApplyPlan(method="manual", commands=(f"# add to the kernel command line: {params}",), notes=(note,),
                     fits=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveShrink:
    """Giving back part of the running kernel's reservation, without a reboot."""

    possible: bool
    size: int  # the size to write (rounded up to a page, as the kernel rounds it)
    frees: int  # what production gets back
    commands: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {"possible": self.possible, "size": self.size, "frees": self.frees, "commands": list(self.commands),
                "notes": list(self.notes)}


# how each kdump tooling unloads and loads the capture kernel (kdumpctl(8) stop/start, kdump-config(8)
# unload/load, SUSE's kdump.service)
_UNLOAD = {"kdump-utils": ("kdumpctl stop", "kdumpctl start"),
           "kdump-tools": ("kdump-config unload", "kdump-config load"),
           "suse": ("systemctl stop kdump", "systemctl start kdump")}


def live_shrink(*, reserved: int, target: int, low: int = 0, live: bool, sysfs: bool | None = None,
                loaded: bool | None = None, kdump_flavour: str | None = None,
                page_size: int = 4096) -> LiveShrink | None:
    """Whether the running kernel can shrink its reservation of ``reserved`` bytes to ``target``.

    The kernel's rule, read in mainline: writing a size to /sys/kernel/kexec_crash_size
    (kernel/ksysfs.c kexec_crash_size_store(): kstrtoul base 0) calls crash_shrink_memory()
    (kernel/kexec_core.c; kernel/crash_core.c in later releases): the size is rounded up to
    KEXEC_CRASH_MEM_ALIGN (a page); it fails with -ENOENT while a capture kernel is loaded
    (kexec_crash_image), with -EINVAL when it is larger than the reservation (it only shrinks); the tail
    of the region is freed to the page allocator.  crashk_low_res counts in the size and is shrunk only
    once the main region is gone (Zhen Lei's 2023 series, "kexec: add helper __crash_shrink_memory()";
    the release, 6.5, is inferred).  CMA ranges (crashkernel=…,cma) are not part of it.

    ``reserved`` counts the main and the low region, ``low`` the low one.  ``live`` says whether the
    facts are this running system's; ``sysfs`` whether /sys/kernel/kexec_crash_size exists, ``loaded``
    what /sys/kernel/kexec_crash_loaded says (None: not known).  None when there is nothing to give back.
    """
    size = -(-target // page_size) * page_size
    if reserved <= 0 or size >= reserved:
        return None
    frees = reserved - size
    if live and sysfs is False:
        return LiveShrink(possible=False, size=size, frees=frees, notes=(
            ("this kernel has no /sys/kernel/kexec_crash_size (built without kexec and crash dump support): only a "
            "reboot with the new command line changes the reservation"),))
    notes = [(f"the running kernel can give back {frees >> 20}M now, without a reboot: it only shrinks, and only "
             "while no capture kernel is loaded (crash_shrink_memory())")]
    if not live:
        notes.append("if the machine is running this command line now")
    if low and low > size:  # crash_shrink_memory(): low_size > new_size
        notes.append(f"the main region is released and the low region shrinks to {size >> 20}M")
    elif low:
        notes.append("the main region shrinks; the low region stays")
    unload, load = _UNLOAD.get(kdump_flavour or "", ("kexec -p -u", None))
    cmds: list[str] = []
    if loaded is not False:
        cmds.append(unload)
        if loaded is None:
            notes.append("the first command unloads the capture kernel, if one is loaded")
    cmds.append(f"echo {size} > /sys/kernel/kexec_crash_size")
    if loaded is not False:
        cmds.append(load or "# load the capture kernel again with your kdump service")
    notes.append("the next boot reserves what the command line says: apply it too")
    return LiveShrink(possible=True, size=size, frees=frees, commands=tuple(cmds), notes=tuple(notes))


def kdump_utils_default(arch: str, ram: int) -> int | None:
    """kdump-utils' default for this RAM (kdump-lib.sh kdump_get_arch_recommend_crashkernel, base tables)."""
    gib = 1 << 30
    mib = 1 << 20
    rounded = -(-ram // (128 * mib)) * 128 * mib
    gb = rounded // gib
    table: tuple[tuple[int, int | None, int], ...]  # (from GiB, below GiB or None, MiB)
    if arch in ("x86_64", "s390x"):
        table = ((2, 64, 256), (64, None, 512))
    elif arch == "arm64":
        table = ((2, 4, 256), (4, 64, 320), (64, None, 576))
    elif arch == "ppc64le":
        table = ((2, 4, 384), (4, 16, 512), (16, 64, 1024), (64, 128, 2048), (128, None, 4096))
    else:
        return None
    for lo, hi, size in table:
        if gb >= lo and (hi is None or gb < hi):
            return size * mib
    return None
