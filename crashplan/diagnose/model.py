"""The data a diagnosis works on and returns: ``Target``, ``Diagnosis``, ``CodeInfo``."""

from __future__ import annotations

from crashplan.kernel import normalize_arch
from crashplan.records import NamedTuple
from crashplan.severity import Severity

__all__ = ["ERROR", "INFO", "WARNING", "CodeInfo", "Diagnosis", "Target"]

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO


class Target(NamedTuple):
    """One configuration the command line must work for."""

    kernel: str
    arch: str
    system_ram: int
    # build options known for this kernel, without the CONFIG_ prefix: (("KEXEC", False), …); empty when
    # not known.  A kernel without kexec or crash dump support gets CK130 (crashplan.readiness).
    build: tuple[tuple[str, bool], ...] = ()
    # the user named this target (``--ram``, a lint profile, the machine's own RAM); False only for lint's
    # built-in default profile.  A reservation that is nothing on a declared target is an error.
    declared: bool = True

    @classmethod
    def from_example(cls, t: dict[str, str]) -> Target:
        """A documented example's target: ``{"kernel", "arch", "ram"}`` and an optional ``"config"``
        such as ``"KEXEC=n KEXEC_FILE=n"``."""
        from crashplan.units import parse_size

        build = tuple((k, v == "y") for k, _, v in (w.partition("=") for w in t.get("config", "").split()))
        return cls(t["kernel"], t["arch"], parse_size(t["ram"]), build)

    def label(self) -> str:
        from crashplan.units import format_size

        return f"{self.kernel}/{normalize_arch(self.arch)}/{format_size(self.system_ram)}"


class Diagnosis(NamedTuple):
    code: str
    name: str
    severity: Severity
    message: str
    span: tuple[int, int] | None = None
    fix: str | None = None
    detail: str = ""
    targets: tuple[Target, ...] = ()


class CodeInfo(NamedTuple):
    code: str
    name: str
    severity: Severity
    summary: str
    description: str
    # (command line, target as {"kernel", "arch", "ram"}, codes expected) — PASS examples expect ()
    examples: tuple[tuple[str, dict[str, str], tuple[str, ...]], ...] = ()

