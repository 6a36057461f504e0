"""Boot-loader sources: which file is what, and the kernel command lines each one defines.

Pure: every function takes paths (as strings, for detection and grouping only) and text, and returns data.
Each command line is a ``Located`` string, so every character of it can be traced back to the file
position it was written at.

Kinds (``KINDS``):

``grub-default``   ``/etc/default/grub`` and ``/etc/default/grub.d/*.cfg`` (sourced by grub-mkconfig, in that
                   order); ``GRUB_CMDLINE_LINUX`` goes to every entry, ``GRUB_CMDLINE_LINUX_DEFAULT`` to the
                   normal ones only
``grub-cfg``       a generated ``grub.cfg``: ``linux``/``linuxefi``/``linux16`` lines, ``set`` variables,
                   ``load_env`` and ``blscfg``
``grub-legacy``    GRUB legacy ``menu.lst`` / ``grub.conf``: ``kernel`` lines
``bls``            Boot Loader Specification entries (``/boot/loader/entries/*.conf``; GRUB's blscfg flavour
                   expands ``$kernelopts`` and friends, systemd-boot's takes ``options`` literally)
``grubenv``        the GRUB environment block (``kernelopts=``, ``tuned_params=``)
``kernel-cmdline`` ``/etc/kernel/cmdline`` (kernel-install: whitespace runs become one space)
``zipl``           s390 ``/etc/zipl.conf``: ``parameters=``
``kickstart``      ``bootloader --append=``
``cmdline``        a raw command line (``/proc/cmdline``, stdin)
"""

from __future__ import annotations

import posixpath
import re

from crashplan.lint.located import SYNTH, Located, pack
from crashplan.records import NamedTuple

__all__ = [
    "COMMENT_KINDS",
    "KINDS",
    "CmdlineDef",
    "SourceFile",
    "SourceProblem",
    "detect",
    "group_root",
    "walk_candidate",
]

KINDS = {
    "grub-default": "/etc/default/grub and /etc/default/grub.d/*.cfg",
    "grub-cfg": "generated grub.cfg",
    "grub-legacy": "GRUB legacy menu.lst / grub.conf",
    "bls": "Boot Loader Specification entry (GRUB blscfg or systemd-boot)",
    "grubenv": "GRUB environment block",
    "kernel-cmdline": "/etc/kernel/cmdline",
    "zipl": "s390 zipl.conf",
    "kickstart": "kickstart file (bootloader --append=)",
    "cmdline": "raw kernel command line (/proc/cmdline, stdin)",
}
# formats in which a '# crashplan: disable=…' comment is possible
COMMENT_KINDS = frozenset({"grub-default", "grub-cfg", "grub-legacy", "bls", "zipl", "kickstart"})


class SourceFile(NamedTuple):
    """One input: ``path`` as it is shown in reports; ``text`` None when it could not be read."""


    path: str
    text: str | None
    error: str | None = None
    explicit: bool = False  # named on the command line (unknown formats are reported, not skipped)
    kind: str | None = None  # forced kind (stdin: "cmdline")


class CmdlineDef:
    """One kernel command line a source defines.

    A plain class (a dataclass costs about a millisecond to build at import, which cold start pays).
    """

    __slots__ = ("anchor", "crashkernel_args", "extra", "file_id", "key", "kind", "label", "role", "text")

    def __init__(self, key: tuple[object, ...], kind: str, label: str, role: str, text: Located, anchor: int,
                 file_id: int, crashkernel_args: Located | None = None, extra: dict[str, object] | None = None) -> None:
        self.key = key  # stable identity across re-parses (used to verify fixes)
        self.kind = kind
        self.label = label  # where it comes from, for people: "menuentry 'Fedora Linux (6.8.5)'"
        self.role = role  # "normal", "recovery" or "any"
        self.text = text
        self.anchor = anchor  # origin to report at when a finding has no span
        self.file_id = file_id
        self.crashkernel_args = crashkernel_args  # for grub-default: the part GRUB_CMDLINE_LINUX contributes
        self.extra = {} if extra is None else extra

    def _fields(self) -> tuple[object, ...]:
        return tuple(getattr(self, n) for n in self.__slots__)

    def __repr__(self) -> str:
        return "CmdlineDef(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__) + ")"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # mutable, so unhashable; object types it as a method


class SourceProblem(NamedTuple):
    """A CK0xx/CK4xx finding produced while reading or comparing sources."""


    code: str
    message: str
    origin: int  # SYNTH: the whole file (line 1)
    file_id: int
    end_origin: int = SYNTH
    detail: str = ""
def is_recovery(title: str) -> bool:
    # re.search compiles on first use (through re's own cache): nothing is compiled at import
    return bool(re.search(r"recovery|rescue|single[- ]user|failsafe", title, re.IGNORECASE))


def _parts(path: str) -> list[str]:
    return [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]


def detect(path: str, text: str) -> str | None:
    """The kind of ``path`` from its name and, failing that, its content; None when it is none of ours."""
    parts = _parts(path)
    name = parts[-1] if parts else path
    parent = parts[-2] if len(parts) > 1 else ""
    grand = parts[-3] if len(parts) > 2 else ""
    if name == "grub" and parent == "default":
        return "grub-default"
    if parent == "grub.d" and grand == "default" and name.endswith(".cfg"):
        return "grub-default"
    if name == "grubenv" or text.startswith("# GRUB Environment Block"):
        return "grubenv"
    if name in ("grub.cfg", "grub2.cfg", "grub-efi.cfg", "user.cfg") and not _looks_like_grub_default(text):
        return "grub-cfg"
    if name in ("menu.lst", "grub.conf"):
        return "grub-legacy"
    if parent == "entries" and name.endswith(".conf"):
        return "bls"
    if name == "cmdline" and parent == "kernel":
        return "kernel-cmdline"
    if name == "cmdline" or path == "-":
        return "cmdline"
    if name == "zipl.conf":
        return "zipl"
    if name == "loader.conf" and parent == "loader":
        return None  # systemd-boot's loader.conf carries no command line
    return detect_content(name, text)


# names and paths of boot-loader configuration, for files found by walking a directory (``walk_candidate``)
_WALK_NAMES = frozenset({"grub.cfg", "grub2.cfg", "grub-efi.cfg", "user.cfg", "grubenv", "menu.lst", "grub.conf",
                         "zipl.conf", "ks.cfg", "anaconda-ks.cfg", "kickstart.cfg"})


def walk_candidate(path: str) -> bool:
    """Whether a file found by walking a directory is boot-loader configuration crashplan reads, by its path.

    ``/etc/default/grub`` and ``grub.d/*.cfg``, ``grub.cfg`` (and ``grub2.cfg``, ``grub-efi.cfg``, ``user.cfg``),
    ``grubenv``, ``menu.lst``/``grub.conf``, ``loader/entries/*.conf``, ``cmdline`` (``/etc/kernel/cmdline``,
    ``/proc/cmdline``), ``zipl.conf`` and kickstart files (``*.ks``, ``ks.cfg``, ``anaconda-ks.cfg``,
    ``*-ks.cfg``).  Everything else under a directory is skipped unread; a file named explicitly is always read.
    """
    parts = _parts(path)
    if not parts:
        return False
    name = parts[-1]
    parent = parts[-2] if len(parts) > 1 else ""
    grand = parts[-3] if len(parts) > 2 else ""
    if name in _WALK_NAMES or name == "cmdline":
        return True
    if name == "grub" and parent == "default":
        return True
    if parent == "grub.d" and grand == "default" and name.endswith(".cfg"):
        return True
    if parent == "entries" and grand == "loader" and name.endswith(".conf"):
        return True
    return name.endswith((".ks", "-ks.cfg"))


def _looks_like_grub_default(text: str) -> bool:
    return bool(re.search(r"^\s*(export\s+)?GRUB_CMDLINE_LINUX(_DEFAULT)?=", text, re.MULTILINE)) and not re.search(
        r"^\s*(menuentry|linux|linuxefi|linux16)\s", text, re.MULTILINE
    )


def detect_content(name: str, text: str) -> str | None:
    if _looks_like_grub_default(text):
        return "grub-default"
    if re.search(r"^\s*(menuentry|submenu)\s", text, re.MULTILINE) or (re.search(
        r"^\s*(linux|linuxefi|linux16)\s+\S", text, re.MULTILINE
    ) and re.search(r"^\s*(set|insmod|search|initrd|initrdefi)\s", text, re.MULTILINE)):
        return "grub-cfg"
    if re.search(r"^\s*title\s", text, re.MULTILINE) and re.search(r"^\s*kernel\s", text, re.MULTILINE):
        return "grub-legacy"
    if re.search(r"^options\s", text, re.MULTILINE) and re.search(r"^(linux|title|version|efi)\s", text, re.MULTILINE):
        return "bls"
    if re.search(r"^\s*\[[^\]]+\]\s*$", text, re.MULTILINE) and re.search(r"^\s*parameters\s*=", text, re.MULTILINE):
        return "zipl"
    if re.search(r"^\s*bootloader\s.*--append", text, re.MULTILINE):
        return "kickstart"
    stripped = text.strip("\n")
    if stripped and "\n" not in stripped and re.search(r"(^|\s)(BOOT_IMAGE|root|crashkernel|ro|rw)(=|\s|$)", stripped):
        return "cmdline"
    return None


def group_root(path: str) -> str | None:
    """The root of the file-system tree ``path`` sits in (``…/etc/…`` or ``…/boot/…``), or None.

    Files with the same root are one machine's boot configuration and are compared with each other
    (CK4xx); a file outside such a tree is checked on its own (None).
    """
    parts = _parts(path)
    absolute = path.startswith("/")
    for i, p in enumerate(parts[:-1]):
        if p in ("etc", "boot"):
            root = "/".join(parts[:i])
            return ("/" + root) if absolute else root
    return None


def file_id_origin(file_id: int, offset: int) -> int:
    return pack(file_id, offset)


def dirname(path: str) -> str:
    return posixpath.dirname(path.replace("\\", "/"))
