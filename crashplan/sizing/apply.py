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
``manual``          anything else: what to add, and where it usually goes
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

__all__ = ["SystemFacts", "ApplyPlan", "apply_plan", "facts_from_release", "DROP_IN"]

DROP_IN = "/etc/default/grub.d/kdump-crashplan.cfg"
_KDUMP_TOOLS_CFG = "/etc/default/grub.d/kdump-tools.cfg"


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


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplyPlan:
    method: str
    commands: tuple[str, ...]
    files: tuple[tuple[str, str], ...] = ()  # (path, content) the commands write
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {"method": self.method, "commands": list(self.commands),
                "files": [{"path": p, "content": c} for p, c in self.files], "notes": list(self.notes)}


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
    elif rel.endswith("-default") or ".g" in rel and "-default" in rel:
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


def apply_plan(params: str, facts: SystemFacts, *, plan: str = "classic", kdump_flavour: str | None = None,
               kexec_mode: str | None = None, kdump_utils_default: int | None = None,
               recommended: int | None = None) -> ApplyPlan:
    """How to put ``params`` (e.g. ``crashkernel=160M crashkernel=1G,cma``) on the command line."""
    notes: list[str] = []
    fam = _family(facts)
    q = shlex.quote(params)
    tokens = params.split()
    if facts.ostree:
        cmd = ["rpm-ostree", "kargs"]
        cmd += [f"--delete-if-present={t}" for t in facts.current]
        if not facts.current:
            notes.append("remove any crashkernel= already there: rpm-ostree kargs --delete=crashkernel=<value>")
        cmd += [f"--append={t}" for t in tokens]
        return ApplyPlan(method="rpm-ostree", commands=(" ".join(shlex.quote(c) for c in cmd),),
                         notes=tuple(notes + ["the change takes effect after a reboot into the new deployment"]))
    if facts.grubby or (facts.grubby is None and fam == "rh"):
        cmds = [f"grubby --update-kernel=ALL --args={q}"]
        if facts.arch == "s390x" and facts.zipl_conf is not False:
            cmds.append("zipl")
        notes.append("grubby replaces each crashkernel= already there; check with: grubby --info=ALL | grep crashkernel")
        if facts.auto_reset_crashkernel is not False:
            notes.append("kdump-utils resets crashkernel= to its default on kernel updates while /etc/kdump.conf says "
                         "auto_reset_crashkernel yes (the default): set it to no to keep this value")
        if plan == "classic" and kdump_utils_default and recommended and recommended <= kdump_utils_default:
            notes.append(f"kdumpctl reset-crashkernel --kernel=ALL would set kdump-utils' default, which gives this "
                         f"machine more than the {recommended >> 20}M this plan needs")
        if plan == "cma" and kexec_mode not in ("file",):
            notes.append("keep KEXEC_ARGS=\"-s\" in /etc/sysconfig/kdump: the CMA memory needs kexec_file_load")
        notes.append("reboot for the new reservation to take effect")
        return ApplyPlan(method="grubby", commands=tuple(cmds), notes=tuple(notes))
    if facts.arch == "s390x" or facts.zipl_conf:
        sed = ("sed -i -E '/^[[:space:]]*parameters[[:space:]]*=/{s/[[:space:]]crashkernel=[^[:space:]\"]*//g;"
               f"s/\"[[:space:]]*$/ {params}\"/}}' /etc/zipl.conf")
        return ApplyPlan(method="zipl", commands=(sed, "zipl"),
                         notes=("the parameters= lines of /etc/zipl.conf must be double-quoted on one line",
                                "reboot (re-IPL) for the new reservation to take effect"))
    if fam == "deb" or facts.update_grub:
        content = (
            "# crashkernel= for the kdump capture kernel, from `crashplan suggest` (" + plan + " plan).\n"
            "# Earlier crashkernel= parameters are removed: the kernel uses the last one of each kind.\n"
            'GRUB_CMDLINE_LINUX="$(printf \'%s\' "$GRUB_CMDLINE_LINUX" | '
            "sed -E 's/(^|[[:space:]])crashkernel=[^[:space:]]*//g')\"\n"
            'GRUB_CMDLINE_LINUX_DEFAULT="$(printf \'%s\' "$GRUB_CMDLINE_LINUX_DEFAULT" | '
            "sed -E 's/(^|[[:space:]])crashkernel=[^[:space:]]*//g') " + params + '"\n'
        )
        cmds = [f"cat > {DROP_IN} <<'EOF'\n{content}EOF"]
        if facts.kdump_tools_grub_cfg is not False:
            cmds.append(f"dpkg-divert --local --rename --divert {_KDUMP_TOOLS_CFG}.disabled --add {_KDUMP_TOOLS_CFG}")
            notes.append(f"{_KDUMP_TOOLS_CFG} (kdump-tools) is read after {DROP_IN} and appends its own crashkernel=, "
                         "which would win: the dpkg-divert moves it aside so that package upgrades keep it there"
                         + ("" if facts.kdump_tools_grub_cfg else " (skip it if the file does not exist)"))
        cmds.append("update-grub")
        if plan == "cma" and kexec_mode not in ("file",):
            notes.append("set KDUMP_KEXEC_ARGS=\"-s\" in /etc/default/kdump-tools: kdump-config uses kexec_file_load "
                         "only under Secure Boot otherwise, and the CMA memory needs it")
        notes.append("reboot for the new reservation to take effect")
        return ApplyPlan(method="grub-drop-in", commands=tuple(cmds), files=((DROP_IN, content),), notes=tuple(notes))
    if fam == "suse":
        sed = ("sed -i -E '/^GRUB_CMDLINE_LINUX_DEFAULT=/{s/[[:space:]]?crashkernel=[^[:space:]\"]*//g;"
               f"s/\"[[:space:]]*$/ {params}\"/}}' /etc/default/grub")
        notes.append("SUSE's kdump may manage crashkernel= itself (KDUMP_CRASHKERNEL, kdumptool commandline -U): "
                     "keep it from overwriting this value")
        return ApplyPlan(method="suse", commands=(sed, "grub2-mkconfig -o /boot/grub2/grub.cfg"),
                         notes=tuple(notes + ["reboot for the new reservation to take effect"]))
    if fam == "rpi":
        sed = f"sed -i -E 's/[[:space:]]crashkernel=[^[:space:]]*//g; s/$/ {params}/' /boot/firmware/cmdline.txt"
        return ApplyPlan(method="cmdline.txt", commands=(sed,),
                         notes=("cmdline.txt is one line; older images keep it in /boot/cmdline.txt",
                                "reboot for the new reservation to take effect"))
    if fam == "l4t":
        sed = ("sed -i -E '/^[[:space:]]*APPEND[[:space:]]/{s/[[:space:]]crashkernel=[^[:space:]]*//g;"
               f"s/$/ {params}/}}' /boot/extlinux/extlinux.conf")
        return ApplyPlan(method="extlinux", commands=(sed,),
                         notes=("every APPEND line of extlinux.conf gets it; edit by hand to change one entry only",
                                "reboot for the new reservation to take effect"))
    notes.append(f"could not tell the boot loader from {facts.source}: add the parameters to the kernel command "
                 "line where your boot loader keeps it (GRUB_CMDLINE_LINUX in /etc/default/grub and grub-mkconfig, "
                 "a BLS entry's options line, systemd-boot's /etc/kernel/cmdline), removing older crashkernel= "
                 "parameters")
    return ApplyPlan(method="manual", commands=(f"# add to the kernel command line: {params}",), notes=tuple(notes))


def kdump_utils_default(arch: str, ram: int) -> int | None:
    """kdump-utils' default for this RAM (kdump-lib.sh kdump_get_arch_recommend_crashkernel, base tables)."""
    G = 1 << 30
    M = 1 << 20
    rounded = -(-ram // (128 * M)) * 128 * M
    gb = rounded // G
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
            return size * M
    return None
