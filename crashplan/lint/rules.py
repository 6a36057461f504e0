"""The lint rules: stable codes, names, severities and documentation with PASS/FAIL examples.

``CK0xx`` (sources that cannot be read) and ``CK4xx`` (boot-loader inconsistency) are lint's own.
``CK1xx``–``CK3xx`` are the command-line diagnoses of ``crashplan.diagnose`` (shared with ``crashplan
check``): one rule per diagnosis code, documented from ``diagnose.CODES``.  Codes are never reused.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from crashplan.records import NamedTuple
from crashplan.severity import Severity

__all__ = [
    "LINT_RULES",
    "SEVERITIES",
    "VALID_CODE_PREFIX",
    "Example",
    "Rule",
    "all_rules",
    "get_rule",
    "valid_code_prefix",
]

SEVERITIES: tuple[Severity, ...] = tuple(Severity)  # most to least severe

if TYPE_CHECKING:
    import re

    VALID_CODE_PREFIX: re.Pattern[str]  # compiled on first access, by the module's __getattr__


def valid_code_prefix(text: str) -> bool:
    """``^CK[0-9]{0,3}$``: ``CK``, ``CK2``, ``CK20``, ``CK201`` (scanned by hand: no regex at import)."""
    text = text.removesuffix("\n")
    return text[:2] == "CK" and len(text) <= 5 and all(c in "0123456789" for c in text[2:])


def __getattr__(name: str) -> Any:
    if name == "VALID_CODE_PREFIX":  # the compiled pattern, for whoever still wants one
        import re

        return re.compile(r"^CK[0-9]{0,3}$")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# NamedTuples, not dataclasses: each dataclass costs about a millisecond to build at import (cold start)
class Example(NamedTuple):
    """A documented case; ``expect`` is empty for a PASS example."""

    files: tuple[tuple[str, str], ...]  # (path, text)
    expect: tuple[str, ...] = ()
    target: tuple[tuple[str, str], ...] = ()  # ("kernel", "6.12"), ("arch", …), ("ram", "16G")
    note: str = ""

    @property
    def passing(self) -> bool:
        return not self.expect


class Rule(NamedTuple):
    code: str
    name: str
    severity: Severity
    summary: str
    description: str
    examples: tuple[Example, ...] = ()
    origin: str = "lint"  # "lint" or "diagnose"
    removed: bool = False


def _ex(*files: tuple[str, str], expect: tuple[str, ...] = (), note: str = "") -> Example:
    return Example(files=tuple(files), expect=expect, note=note)


_D = "etc/default/grub"
_CFG = "boot/grub2/grub.cfg"

LINT_RULES: tuple[Rule, ...] = (
    Rule("CK001", "unreadable-source", Severity.ERROR, "a boot-loader file cannot be read",
         "The file exists but cannot be read (permissions, a directory loop, binary content or an encoding that is "
         "not text). It is reported like any finding, so one bad file never hides the others.",
         (_ex(("boot/grub2/grub.cfg", "menuentry 'x' {\n\tlinux /vmlinuz\0\n}\n"), expect=("CK001",)),
          _ex(("boot/grub2/grub.cfg", "menuentry 'x' {\n\tlinux /vmlinuz crashkernel=256M\n}\n")))),
    Rule("CK002", "parse-error", Severity.ERROR, "a boot-loader file has a syntax error",
         "An unterminated quote or `${` in a shell or GRUB script file: the boot loader (or grub-mkconfig) fails or "
         "reads something else than the text suggests. The command lines crashplan could still read are checked.",
         (_ex((_D, 'GRUB_CMDLINE_LINUX="crashkernel=256M\n'), expect=("CK002",)),
          _ex((_D, 'GRUB_CMDLINE_LINUX="crashkernel=256M"\n')))),
    Rule("CK003", "unknown-source", Severity.WARNING,
         "a file named on the command line is not a known boot-loader format",
         "Files found by walking a directory are skipped silently when they are not boot-loader configuration; a "
         "file named explicitly is reported, so a typo in a CI path does not pass unnoticed.",
         (_ex(("notes.txt", "hello\nworld\n"), expect=("CK003",),
              note="named explicitly: `crashplan lint notes.txt`"),
          _ex(("cmdline", "quiet crashkernel=256M\n")))),
    Rule("CK004", "unresolved-variable", Severity.INFO, "a command line uses a variable whose value is not known",
         "`$kernelopts` in a BLS entry or grub.cfg comes from grubenv; `$VAR` or `$(command)` in /etc/default/grub "
         "from grub-mkconfig's environment. Lint the grubenv too (it is picked up next to the entries when it "
         "exists) to check the whole command line.",
         (_ex(("boot/loader/entries/f.conf",
               "title Fedora\nlinux /vmlinuz\noptions $kernelopts\ngrub_users $grub_users\n"),
              expect=("CK004",)),
          _ex(("boot/loader/entries/f.conf", "title Fedora\nlinux /vmlinuz\noptions $kernelopts\n"),
              ("boot/grub2/grubenv", "# GRUB Environment Block\nkernelopts=root=/dev/sda1 ro crashkernel=256M\n")))),
    Rule("CK005", "invalid-config", Severity.ERROR, "the crashplan configuration is invalid",
         "`.crashplan.yaml` or `[tool.crashplan]` has an unknown key, a wrong type, an unknown rule or an invalid "
         "size, release or architecture. Every problem is listed; the exit status is 2 and nothing is linted.",
         ()),
    Rule("CK006", "unknown-suppression", Severity.WARNING, "a `crashplan: disable=` comment names no rule",
         "The comment suppresses nothing; the rule code or name is probably misspelt.",
         (_ex((_D, "# crashplan: disable=CK9999\nGRUB_CMDLINE_LINUX=\"crashkernel=256M\"\n"), expect=("CK006",)),
          _ex((_D, ("# crashplan: disable=duplicate-crashkernel\n"
                   "GRUB_CMDLINE_LINUX=\"crashkernel=128M crashkernel=256M\"\n"))))),
    Rule("CK401", "stale-grub-cfg", Severity.WARNING, "grub.cfg was not regenerated after /etc/default/grub changed",
         "An entry written by 10_linux has other crashkernel= tokens than /etc/default/grub gives. The machine "
         "boots grub.cfg's value until `grub2-mkconfig -o …` / `update-grub` runs, and then silently changes.",
         (_ex((_D, 'GRUB_CMDLINE_LINUX="crashkernel=512M"\nGRUB_DISABLE_RECOVERY=true\n'),
              (_CFG, ("### BEGIN /etc/grub.d/10_linux ###\nmenuentry 'Linux' {\n\tlinux /vmlinuz root=/dev/sda1 ro "
                     "crashkernel=256M\n}\n")), expect=("CK401",)),
          _ex((_D, 'GRUB_CMDLINE_LINUX="crashkernel=512M"\nGRUB_DISABLE_RECOVERY=true\n'),
              (_CFG, ("### BEGIN /etc/grub.d/10_linux ###\nmenuentry 'Linux' {\n\tlinux /vmlinuz root=/dev/sda1 ro "
                     "crashkernel=512M\n}\n"))))),
    Rule("CK402", "bls-differs-from-default", Severity.WARNING,
         "BLS entries and /etc/default/grub disagree on crashkernel=",
         "On BLS systems (Fedora, RHEL 8+) each entry carries its own options (or `$kernelopts` from grubenv); "
         "/etc/default/grub is what `grub2-mkconfig --update-bls-cmdline`, and new installs, write back. The next "
         "such run changes the reservation.",
         (_ex((_D, 'GRUB_CMDLINE_LINUX="crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M"\n'),
              ("boot/loader/entries/a.conf", "title A\nlinux /vmlinuz\noptions root=/dev/sda1 crashkernel=256M\n"),
              expect=("CK402",)),
          _ex((_D, 'GRUB_CMDLINE_LINUX="crashkernel=256M"\n'),
              ("boot/loader/entries/a.conf", "title A\nlinux /vmlinuz\noptions root=/dev/sda1 crashkernel=256M\n")))),
    Rule("CK403", "kernel-cmdline-differs", Severity.WARNING,
         "/etc/kernel/cmdline and the boot entries disagree on crashkernel=",
         "kernel-install writes /etc/kernel/cmdline into the entry of every newly installed kernel: after the next "
         "kernel update the reservation changes.",
         (_ex(("etc/kernel/cmdline", "root=/dev/sda1 crashkernel=128M\n"),
              ("boot/loader/entries/a.conf", "title A\nlinux /vmlinuz\noptions root=/dev/sda1 crashkernel=256M\n"),
              expect=("CK403",)),
          _ex(("etc/kernel/cmdline", "root=/dev/sda1 crashkernel=256M\n"),
              ("boot/loader/entries/a.conf", "title A\nlinux /vmlinuz\noptions root=/dev/sda1 crashkernel=256M\n")))),
    Rule("CK404", "entries-disagree", Severity.WARNING,
         "boot entries of one boot loader reserve different crashkernel= values",
         "The first (default) entry is the reference; an entry that differs boots with another reservation, usually "
         "an older kernel that missed an update of the value.",
         (_ex(("boot/loader/entries/b-6.8.conf",
               "title B\nversion 6.8\nlinux /vmlinuz-6.8\noptions crashkernel=512M\n"),
              ("boot/loader/entries/b-6.5.conf",
               "title B\nversion 6.5\nlinux /vmlinuz-6.5\noptions crashkernel=256M\n"),
              expect=("CK404",)),
          _ex(("boot/loader/entries/b-6.8.conf",
               "title B\nversion 6.8\nlinux /vmlinuz-6.8\noptions crashkernel=512M\n"),
              ("boot/loader/entries/b-6.5.conf",
               "title B\nversion 6.5\nlinux /vmlinuz-6.5\noptions crashkernel=512M\n")))),
    Rule("CK405", "recovery-without-crashkernel", Severity.INFO,
         "a recovery or rescue entry reserves no crash kernel memory",
         "Normal entries have crashkernel= but this recovery/rescue entry has not: a crash while booted in recovery "
         "mode cannot be captured.",
         (_ex((_CFG, ("menuentry 'Linux' {\n\tlinux /vmlinuz crashkernel=256M\n}\n"
                     "menuentry 'Linux (recovery mode)' {\n\tlinux /vmlinuz single\n}\n")), expect=("CK405",)),
          _ex((_CFG, ("menuentry 'Linux' {\n\tlinux /vmlinuz crashkernel=256M\n}\n"
                     "menuentry 'Linux (recovery mode)' {\n\tlinux /vmlinuz single crashkernel=256M\n}\n"))))),
    Rule("CK406", "default-only-crashkernel", Severity.INFO, "crashkernel= is only in GRUB_CMDLINE_LINUX_DEFAULT",
         "grub-mkconfig gives GRUB_CMDLINE_LINUX_DEFAULT to normal entries only: recovery entries boot without a "
         "crash kernel reservation. Put crashkernel= in GRUB_CMDLINE_LINUX (or set GRUB_DISABLE_RECOVERY=true).",
         (_ex((_D, 'GRUB_CMDLINE_LINUX_DEFAULT="quiet crashkernel=256M"\nGRUB_CMDLINE_LINUX=""\n'), expect=("CK406",)),
          _ex((_D, 'GRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX="crashkernel=256M"\n')))),
    Rule("CK407", "grub-value-ends-command", Severity.ERROR,
         "a newline or `;` in a GRUB_CMDLINE_* value cuts the linux line",
         "grub-mkconfig pastes the value unquoted into grub.cfg, where an unquoted newline or `;` ends the `linux` "
         "command: everything after it is a separate (failing) GRUB command and never reaches the kernel.",
         (_ex((_D, 'GRUB_CMDLINE_LINUX="quiet\ncrashkernel=256M"\n'), expect=("CK407",)),
          _ex((_D, 'GRUB_CMDLINE_LINUX="quiet crashkernel=256M"\n')))),
)


def _diagnose_rules() -> tuple[Rule, ...]:
    try:
        from crashplan.diagnose import CODES
    except ImportError:  # pragma: no cover - only while the module is missing
        return ()
    out = []
    for info in CODES.values():
        examples = tuple(
            Example(files=(("cmdline", cmdline + "\n"),), expect=tuple(codes),
                    target=tuple(sorted(target.items())))
            for cmdline, target, codes in info.examples
        )
        out.append(Rule(info.code, info.name, Severity(info.severity), info.summary, info.description, examples,
                        "diagnose"))
    return tuple(out)


@functools.lru_cache(maxsize=1)
def all_rules() -> dict[str, Rule]:
    """Every rule by code, in code order."""
    rules = {r.code: r for r in LINT_RULES}
    for r in _diagnose_rules():
        rules.setdefault(r.code, r)
    return dict(sorted(rules.items()))


@functools.lru_cache(maxsize=1)
def _by_name() -> dict[str, Rule]:
    return {r.name: r for r in all_rules().values()}


def get_rule(code_or_name: str) -> Rule | None:
    key = code_or_name.strip()
    return all_rules().get(key.upper()) or _by_name().get(key.lower())
