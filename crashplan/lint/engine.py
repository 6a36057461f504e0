"""The lint engine: sources in, a sorted ``Report`` of findings out.  Pure (no I/O, no printing).

1. every file is classified (``sources.detect``) and files of one file-system tree are grouped;
2. each group is read: grubenv first (its variables feed grub.cfg and BLS entries), then grub.cfg,
   BLS entries, /etc/default/grub (+ grub.d), and the one-file kinds;
3. every command line goes through ``crashplan.diagnose`` for every target of the profile (CK1xx–CK3xx);
   its findings are mapped back through quoting and expansion to the characters of the file;
4. the group's command lines are compared with each other (CK4xx);
5. selection (``--select/--ignore``, per-file-ignores) and ``# crashplan: disable=…`` comments apply.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from crashplan.lint.config import Decider, LintConfig, per_file_ignored, resolve_selector
from crashplan.lint.located import SYNTH, LineIndex, Located, unpack
from crashplan.lint.sources import COMMENT_KINDS, CmdlineDef, SourceFile, SourceProblem, detect, group_root, parsers
from crashplan.records import NamedTuple
from crashplan.severity import RANK, Severity

TYPE_CHECKING = False  # read by mypy as typing.TYPE_CHECKING; typing itself is not imported at run time
if TYPE_CHECKING:
    import re
    from collections.abc import Callable

    from crashplan.diagnose import Diagnosis
    from crashplan.diagnose import Target as KernelTarget
    from crashplan.lint.rules import Rule

__all__ = [
    "SEVERITY_RANK",
    "FileSummary",
    "Finding",
    "LintRun",
    "Location",
    "Report",
    "Target",
    "crash_values",
    "default_targets",
    "lint",
]

SEVERITY_RANK = RANK  # crashplan.severity: most severe first; kept under this name for callers of the engine


def all_rules() -> dict[str, Rule]:
    """``rules.all_rules()``, imported on first use: a run whose findings all come from diagnose never needs it."""
    from crashplan.lint.rules import all_rules as rules

    return rules()


class Location(NamedTuple):
    """1-based; ``end_column`` is exclusive (SARIF)."""


    path: str
    line: int
    column: int
    end_line: int
    end_column: int


class Finding(NamedTuple):
    # built with keywords everywhere (the order of the fields is not an API)
    code: str
    name: str
    severity: Severity
    message: str
    location: Location
    context: str = ""  # which command line(s): "menuentry 'Fedora Linux (6.8.5)'"
    targets: tuple[str, ...] = ()  # kernel/arch/RAM labels the finding applies to
    detail: str = ""
    fix: str | None = None  # the whole corrected command line
    cmdline_key: tuple[object, ...] | None = None  # which command line (for --fix)
    group: int = -1

    def sort_key(self) -> tuple[object, ...]:
        loc = self.location
        return (loc.path, loc.line, loc.column, self.code, self.message)


class FileSummary(NamedTuple):
    path: str
    kind: str | None  # None: not a boot-loader file (skipped)
    cmdlines: int


class Report:
    # a plain class: a dataclass costs about a millisecond to build at import (cold start)
    __slots__ = ("files", "findings", "targets")

    def __init__(self, findings: list[Finding] | None = None, files: list[FileSummary] | None = None,
                 targets: tuple[str, ...] = ()) -> None:
        self.findings = [] if findings is None else findings
        self.files = [] if files is None else files
        self.targets = targets

    def __repr__(self) -> str:
        return f"Report(findings={self.findings!r}, files={self.files!r}, targets={self.targets!r})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.findings, self.files, self.targets) == (other.findings, other.files, other.targets)

    __hash__ = None  # type: ignore[assignment]  # mutable, so unhashable; object types it as a method

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    def failed(self, fail_level: str) -> bool:
        limit = SEVERITY_RANK[fail_level]
        return any(SEVERITY_RANK[f.severity] <= limit for f in self.findings)


# ------------------------------------------------------------------------------------------------
# targets


def Target(kernel: str, arch: str, system_ram: int, declared: bool = True) -> KernelTarget:  # noqa: N802
    from crashplan import diagnose

    return diagnose.Target(kernel, arch, system_ram, declared=declared)


def default_targets(config: LintConfig) -> list[KernelTarget]:
    from crashplan.lint.config import DEFAULT_ARCHES, DEFAULT_KERNELS, DEFAULT_RAMS
    from crashplan.units import parse_size

    kernels = config.kernels or DEFAULT_KERNELS
    arches = config.arches or DEFAULT_ARCHES
    rams = config.rams or DEFAULT_RAMS
    # RAM sizes the user named (--ram, the configuration) are declared targets: reserving nothing there
    # is an error; the built-in sizes only probe the ranges
    declared = bool(config.rams)
    return [Target(k, a, parse_size(r), declared) for k in kernels for a in arches for r in rams]


@functools.lru_cache(maxsize=4096)
def _diagnose(text: str, targets: tuple[KernelTarget, ...]) -> tuple[Diagnosis, ...]:
    try:
        from crashplan.diagnose import diagnose
    except ImportError:  # pragma: no cover - only while diagnose.py is missing
        return ()
    return tuple(diagnose(text, targets))


# ------------------------------------------------------------------------------------------------
# helpers


def crash_values(text: str) -> tuple[str, ...]:
    """Every ``crashkernel=`` token as the kernel's raw search sees it (up to the next space), in order."""
    out = []
    i = text.find("crashkernel=")
    while i >= 0:
        e = text.find(" ", i)
        out.append(text[i:] if e < 0 else text[i:e])
        i = text.find("crashkernel=", i + 1)
    return tuple(out)


def _first_token_span(loc: Located) -> tuple[int, int] | None:
    i = loc.text.find("crashkernel=")
    if i < 0:
        return None
    e = loc.text.find(" ", i)
    return i, len(loc.text) if e < 0 else e


@functools.cache
def _directive() -> re.Pattern[str]:
    """Compiled on first use: most files have no ``crashplan:`` comment (cold start)."""
    import re

    return re.compile(r"#\s*crashplan:\s*disable(?:\s*=\s*([A-Za-z0-9_,\- ]*))?")


def _version_key(s: str) -> list[object]:
    import re

    return [(0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", s)]


class _File:
    __slots__ = ("fid", "index", "kind", "src")

    def __init__(self, fid: int, src: SourceFile, kind: str | None, index: LineIndex | None = None) -> None:
        self.fid = fid
        self.src = src
        self.kind = kind
        self.index = index

    @property
    def path(self) -> str:
        return self.src.path

    def lines(self) -> LineIndex:
        if self.index is None:
            self.index = LineIndex(self.src.text or "")
        return self.index


class LintRun:
    """One lint run over a set of files, for a set of kernel targets, under one configuration.

    Not ``simulate``'s run of one boot (that one holds memblock and the regions reserved): this holds the
    files being linted and what was found in them.  :func:`lint` builds one and calls :meth:`run`;
    ``crashplan.lint.fix`` builds one per candidate edit and compares their ``defs`` and findings.

    Attributes, filled by :meth:`run`:

    ``files``
        every input file, numbered in input order (the number is the ``file_id`` of ``Located`` origins);
    ``targets``
        the kernel/arch/RAM targets each command line is diagnosed for;
    ``config``
        selection, per-file ignores and the fail level;
    ``raw``
        every finding before selection, suppression comments and merging (:meth:`filter`);
    ``cmdlines``
        file number -> how many kernel command lines were read from it (the report's file summary);
    ``defs``
        ``(file number, *CmdlineDef.key)`` -> the command line read there (for ``--fix``).
    """

    __slots__ = ("cmdlines", "config", "defs", "files", "raw", "targets")

    files: list[_File]
    targets: tuple[KernelTarget, ...]
    config: LintConfig
    raw: list[Finding]
    cmdlines: dict[int, int]
    defs: dict[tuple[object, ...], CmdlineDef]

    def __init__(self, files: Sequence[SourceFile], targets: Sequence[KernelTarget], config: LintConfig) -> None:
        self.files = [_File(i, f, None) for i, f in enumerate(files)]
        self.targets = tuple(targets)
        self.config = config
        self.raw = []
        self.cmdlines = {}
        self.defs = {}

    # -- locations ----------------------------------------------------------------------------
    def location(self, origin: int, end_origin: int = SYNTH, fid: int = 0) -> Location:
        if origin == SYNTH:
            f = self.files[fid]
            return Location(f.path, 1, 1, 1, 1)
        ofid, off = unpack(origin)
        f = self.files[ofid]
        line, col = f.lines().position(off)
        if end_origin != SYNTH and unpack(end_origin)[0] == ofid and unpack(end_origin)[1] >= off:
            eline, ecol = f.lines().position(unpack(end_origin)[1])
        else:
            eline, ecol = line, col + 1
        return Location(f.path, line, col, eline, ecol)

    def span_location(self, cl: CmdlineDef, span: tuple[int, int] | None) -> Location:
        if span is not None:
            s, e = span
            s = max(0, min(s, len(cl.text)))
            e = max(s, min(e, len(cl.text)))
            inside = [o for o in cl.text.origins[s:e] if o != SYNTH]
            if not inside and s < len(cl.text.origins):
                # a span of synthetic characters (a joining space): point at the next real one
                inside = [o for o in cl.text.origins[s:] if o != SYNTH][:1]
            if inside:
                first, last = inside[0], inside[-1]
                if unpack(first)[0] == unpack(last)[0] and last >= first:
                    return self.location(first, last + 1)
                return self.location(first)
        return self.location(cl.anchor, fid=cl.file_id)

    def add_problem(self, p: SourceProblem, group: int) -> None:
        rule = all_rules()[p.code]
        loc = self.location(p.origin, p.end_origin, p.file_id)
        self.raw.append(Finding(code=p.code, name=rule.name, severity=rule.severity, message=p.message, location=loc,
                                detail=p.detail, group=group))

    # -- the run ------------------------------------------------------------------------------
    def run(self) -> Report:
        groups: dict[object, list[_File]] = {}
        summaries: list[FileSummary] = []
        for f in self.files:
            src = f.src
            if src.text is None:
                f.kind = src.kind
                self.raw.append(self._ck001(f, src.error or "cannot be read"))
                summaries.append(FileSummary(src.path, src.kind, 0))
                continue
            if "\0" in src.text:
                self.raw.append(self._ck001(f, "binary content (a NUL byte): not a text file"))
                summaries.append(FileSummary(src.path, None, 0))
                continue
            f.kind = src.kind or detect(src.path, src.text)
            if f.kind is None:
                if src.explicit:
                    rule = all_rules()["CK003"]
                    self.raw.append(Finding(code="CK003", name=rule.name, severity=rule.severity,
                                            message="not a boot-loader file crashplan knows (grub, grub.cfg, "
                                            "menu.lst, BLS entry, grubenv, /etc/kernel/cmdline, zipl.conf, kickstart, "
                                            "command line)",
                                            location=Location(src.path, 1, 1, 1, 1)))
                summaries.append(FileSummary(src.path, None, 0))
                continue
            root = group_root(src.path)
            groups.setdefault(("root", root) if root is not None else ("file", f.fid), []).append(f)
        for gi, members in enumerate(groups.values()):
            self.run_group(gi, members)
        summaries.extend(FileSummary(f.path, f.kind, self.cmdlines.get(f.fid, 0)) for f in self.files
                         if f.kind is not None and f.src.text is not None and "\0" not in f.src.text)
        order = {f.path: i for i, f in enumerate(self.files)}
        summaries.sort(key=lambda s: order.get(s.path, 0))
        findings = self.filter(self.raw)
        return Report(findings=findings, files=summaries, targets=tuple(t.label() for t in self.targets))

    def _ck001(self, f: _File, why: str) -> Finding:
        rule = all_rules()["CK001"]
        return Finding(code="CK001", name=rule.name, severity=rule.severity, message=f"cannot read the file: {why}",
                       location=Location(f.path, 1, 1, 1, 1))

    def run_group(self, gi: int, members: list[_File]) -> None:
        by_kind: dict[str, list[_File]] = {}
        for f in members:
            by_kind.setdefault(f.kind or "", []).append(f)
        parsed: list[tuple[_File | None, parsers.Parsed]] = []

        # grubenv: the nearest to the consumer wins; one per group is the common case
        envs = [(f, parsers.parse_grubenv(f.fid, f.src.text or ""))
                for f in sorted(by_kind.get("grubenv", []), key=lambda f: f.path)]
        genv = envs[0][1].env if envs else None
        cfg_env: dict[str, Located] | None = None
        for f in by_kind.get("grub-cfg", []):
            sib = next((p.env for g, p in envs if _dir(g.path) == _dir(f.path)), genv)
            p = parsers.parse_grub_cfg(f.fid, f.src.text or "", sib)
            parsed.append((f, p))
            if p.blscfg and cfg_env is None:
                cfg_env = p.env
        # grub.cfg ran load_env (grubenv) and its own set commands before blscfg
        bls_env: dict[str, Located] = dict(cfg_env if cfg_env is not None else (genv or {}))
        have_env = bool(envs) or cfg_env is not None
        bls_uses_kernelopts = False
        for f in sorted(by_kind.get("bls", []), key=lambda f: f.path):
            p = parsers.parse_bls(f.fid, f.path, f.src.text or "", bls_env, have_env=have_env)
            if "kernelopts" in (f.src.text or ""):
                bls_uses_kernelopts = True
            parsed.append((f, p))
        for f, p in envs:
            if bls_uses_kernelopts or any(pp.load_env for _, pp in parsed):
                p.cmdlines = []  # checked where it is used
            parsed.append((f, p))
        defaults = by_kind.get("grub-default", [])
        if defaults:
            defaults.sort(key=lambda f: (_parts(f.path)[-1:] != ["grub"], f.path))
            p = parsers.parse_grub_default([(f.fid, f.src.text or "") for f in defaults])
            parsed.append((defaults[0], p))
        simple: dict[str, Callable[[_File], parsers.Parsed]] = {
                  "grub-legacy": lambda f: parsers.parse_legacy(f.fid, f.src.text or ""),
                  "zipl": lambda f: parsers.parse_zipl(f.fid, f.src.text or ""),
                  "kernel-cmdline": lambda f: parsers.parse_kernel_cmdline(f.fid, f.src.text or ""),
                  "cmdline": lambda f: parsers.parse_raw(f.fid, f.src.text or ""),
                  "kickstart": lambda f: parsers.parse_kickstart(f.fid, f.src.text or "")}
        for kind, fn in simple.items():
            parsed.extend((f, fn(f)) for f in by_kind.get(kind, []))

        for _, p in parsed:
            for prob in p.problems:
                self.add_problem(prob, gi)
            for cl in p.cmdlines:
                self.cmdlines[cl.file_id] = self.cmdlines.get(cl.file_id, 0) + 1
                key = (cl.file_id, *cl.key)
                self.defs[key] = cl
                self.diagnose(cl, gi)
        self.consistency(gi, parsed)
        self.directives(members)

    def diagnose(self, cl: CmdlineDef, gi: int) -> None:
        for d in _diagnose(cl.text.text, self.targets):
            loc = self.span_location(cl, d.span)
            self.raw.append(Finding(
                code=d.code, name=d.name, severity=Severity(d.severity), message=d.message, location=loc,
                context=cl.label, targets=tuple(t.label() for t in d.targets), detail=d.detail,
                fix=d.fix, cmdline_key=(cl.file_id, *cl.key), group=gi))

    # -- CK4xx -----------------------------------------------------------------------------------
    def emit(self, code: str, message: str, cl: CmdlineDef, gi: int, *, at_token: bool = True) -> None:
        rule = all_rules()[code]
        span = _first_token_span(cl.text) if at_token else None
        loc = self.span_location(cl, span)
        self.raw.append(Finding(code=code, name=rule.name, severity=rule.severity, message=message, location=loc,
                                context=cl.label, group=gi))

    def consistency(self, gi: int, parsed: list[tuple[_File | None, parsers.Parsed]]) -> None:
        def show(vals: tuple[str, ...]) -> str:
            return " ".join(vals) if vals else "no crashkernel="

        default = next((p for _, p in parsed if any(c.kind == "grub-default" for c in p.cmdlines)), None)
        dcl = {c.role: c for c in default.cmdlines} if default else {}
        by_file: dict[int, list[CmdlineDef]] = {}
        bls: list[CmdlineDef] = []
        kcmd: list[CmdlineDef] = []
        for _, p in parsed:
            for c in p.cmdlines:
                if c.kind == "bls":
                    bls.append(c)
                elif c.kind == "kernel-cmdline":
                    kcmd.append(c)
                elif c.kind in ("grub-cfg", "grub-legacy", "zipl"):
                    by_file.setdefault(c.file_id, []).append(c)
        # CK406 / CK407 are about /etc/default/grub alone
        if default is not None and default.linux_default is not None:
            in_l = crash_values(default.linux.text) if default.linux is not None else ()
            in_d = crash_values(default.linux_default.text)
            if in_d and not in_l and default.recovery_entries:
                normal_def = dcl.get("normal")
                span = _first_token_span(default.linux_default)
                origin = default.linux_default.origins[span[0]] if span else SYNTH
                if normal_def is not None and origin != SYNTH:
                    rule = all_rules()["CK406"]
                    self.raw.append(Finding(
                        code="CK406", name=rule.name, severity=rule.severity,
                        location=self.location(origin, origin + 12),
                        message="crashkernel= is only in GRUB_CMDLINE_LINUX_DEFAULT: recovery entries boot without a "
                                "crash kernel reservation (move it to GRUB_CMDLINE_LINUX)",
                        context="GRUB_CMDLINE_LINUX_DEFAULT", group=gi))
        # CK401: generated grub.cfg entries vs /etc/default/grub
        if dcl:
            for cls in by_file.values():
                for c in cls:
                    if c.kind != "grub-cfg" or "10_linux" not in str(c.extra.get("section", "")):
                        continue
                    ref = dcl.get(c.role)
                    if ref is None:
                        continue
                    a, b = crash_values(c.text.text), crash_values(ref.text.text)
                    if a != b:
                        self.emit("CK401", f"{c.label} has {show(a)} but /etc/default/grub gives {show(b)}: grub.cfg "
                                  "was not regenerated (grub2-mkconfig -o …, update-grub)", c, gi)
        # CK402: BLS entries vs /etc/default/grub
        ref = dcl.get("normal")
        if ref is not None:
            for c in bls:
                if c.role != "normal":
                    continue
                a, b = crash_values(c.text.text), crash_values(ref.text.text)
                if a != b:
                    self.emit("CK402", f"{c.label} has {show(a)} but /etc/default/grub gives {show(b)}: the next "
                              "grub2-mkconfig --update-bls-cmdline or kernel install changes it", c, gi)
        # CK403: /etc/kernel/cmdline vs BLS entries
        for k in kcmd:
            normal = [c for c in bls if c.role == "normal"]
            differ = [c for c in normal if crash_values(c.text.text) != crash_values(k.text.text)]
            if normal and differ:
                names = ", ".join(c.label for c in differ[:3]) + (" …" if len(differ) > 3 else "")
                self.emit("CK403", f"/etc/kernel/cmdline has {show(crash_values(k.text.text))} but "
                          f"{names} {'has' if len(differ) == 1 else 'have'} {show(crash_values(differ[0].text.text))}: "
                          "the next kernel installed gets /etc/kernel/cmdline's value", k, gi)
        # CK404 / CK405 within one boot loader
        sets = list(by_file.values())
        if bls:
            sets.append(sorted(bls, key=lambda c: _version_key(str(c.extra.get("version") or c.key[-1])), reverse=True))
        for cls in sets:
            normal = [c for c in cls if c.role == "normal"]
            if normal:
                ref_v = crash_values(normal[0].text.text)
                for c in normal[1:]:
                    v = crash_values(c.text.text)
                    if v != ref_v:
                        self.emit("CK404", f"{c.label} has {show(v)} but the first entry, {normal[0].label}, has "
                                  f"{show(ref_v)}", c, gi)
            if any(crash_values(c.text.text) for c in normal):
                for c in cls:
                    if c.role == "recovery" and not crash_values(c.text.text):
                        self.emit("CK405", f"{c.label} is a recovery entry without crashkernel=: a crash in recovery "
                                  "mode cannot be captured", c, gi, at_token=False)

    # -- suppression comments ---------------------------------------------------------------------
    def directives(self, members: list[_File]) -> None:
        for f in members:
            if f.kind not in COMMENT_KINDS or not f.src.text or "crashplan:" not in f.src.text:
                continue
            for m in _directive().finditer(f.src.text):
                bad = [t for t in (m.group(1) or "").replace(" ", ",").split(",") if t and resolve_selector(t) is None]
                if bad:
                    line, col = f.lines().position(m.start())
                    rule = all_rules()["CK006"]
                    names = ", ".join(f"`{t}`" for t in bad)
                    self.raw.append(Finding(code="CK006", name=rule.name, severity=rule.severity,
                                            message=f"{names} {'is' if len(bad) == 1 else 'are'} not a rule code or "
                                            "name: this comment does not suppress it",
                                            location=Location(f.path, line, col, line, col + len(m.group()))))

    def suppressions(self) -> dict[str, dict[int, set[str] | None]]:
        out: dict[str, dict[int, set[str] | None]] = {}
        for f in self.files:
            if f.kind not in COMMENT_KINDS or not f.src.text or "crashplan:" not in f.src.text:
                continue
            lines: dict[int, set[str] | None] = {}
            for m in _directive().finditer(f.src.text):
                line, _ = f.lines().position(m.start())
                toks = [resolve_selector(t) for t in (m.group(1) or "").replace(" ", ",").split(",") if t]
                codes = {t for t in toks if t}
                if not m.group(1) or not toks:
                    lines[line] = None
                else:
                    have = lines.setdefault(line, set())
                    if have is not None:
                        have.update(codes)
            out[f.path] = lines
        return out

    def filter(self, raw: list[Finding]) -> list[Finding]:
        decide = Decider(self.config.select, self.config.ignore)
        sup = self.suppressions()
        merged: dict[tuple[object, ...], Finding] = {}
        for f in raw:
            if not decide(f.code) or per_file_ignored(self.config, f.location.path, f.code):
                continue
            lines = sup.get(f.location.path)
            if lines and f.code != "CK006":
                hit = False
                for ln in (f.location.line, f.location.line - 1):
                    if ln in lines:
                        codes = lines[ln]
                        if codes is None or any(f.code.startswith(c) for c in codes):
                            hit = True
                if hit:
                    continue
            key = (f.location, f.code)
            prev = merged.get(key)
            if prev is None:
                merged[key] = f
                continue
            ctx = (prev.context if f.context in prev.context.split("; ")
                   else "; ".join(x for x in (prev.context, f.context) if x))
            targets = tuple(dict.fromkeys(prev.targets + f.targets))
            fix = prev.fix if prev.fix is not None else f.fix
            merged[key] = Finding(code=prev.code, name=prev.name, severity=prev.severity, message=prev.message,
                                  location=prev.location, context=ctx, targets=targets, detail=prev.detail, fix=fix,
                                  cmdline_key=prev.cmdline_key if prev.fix is not None else f.cmdline_key,
                                  group=prev.group)
        return sorted(merged.values(), key=Finding.sort_key)


def _parts(path: str) -> list[str]:
    return [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]


def _dir(path: str) -> str:
    return "/".join(_parts(path)[:-1])


def lint(files: Sequence[SourceFile], *, targets: Sequence[KernelTarget] | None = None,
         config: LintConfig | None = None) -> Report:
    """Lint ``files`` for ``targets`` (default: the configuration's profile) under ``config``."""
    config = config or LintConfig()
    if targets is None:
        targets = default_targets(config)
    return LintRun(files, targets, config).run()
