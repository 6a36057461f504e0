"""Readers for each kind of source: text in, command lines (``CmdlineDef``) and problems out."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from crashplan.lint.located import SYNTH, Builder, Located, pack
from crashplan.lint.sources import CmdlineDef, SourceProblem, is_recovery
from crashplan.lint.sources._grubscript import (
    Command,
    Var,
    Word,
    expand_args,
    expand_word,
    loader_cmdline,
    tokenize,
)
from crashplan.lint.sources._shell import ShellState, _Lexer, run_shell

__all__ = [
    "Parsed",
    "parse_bls",
    "parse_grub_cfg",
    "parse_grub_default",
    "parse_grubenv",
    "parse_kernel_cmdline",
    "parse_kickstart",
    "parse_legacy",
    "parse_raw",
    "parse_zipl",
]


class Parsed:
    """What one reader found (a plain class: a dataclass costs about a millisecond at import)."""

    __slots__ = ("blscfg", "cmdlines", "env", "linux", "linux_default", "load_env", "problems", "recovery_entries")

    def __init__(self, cmdlines: list[CmdlineDef] | None = None, problems: list[SourceProblem] | None = None,
                 env: dict[str, Located] | None = None, blscfg: bool = False, load_env: bool = False,
                 linux: Located | None = None, linux_default: Located | None = None,
                 recovery_entries: bool = True) -> None:
        self.cmdlines = [] if cmdlines is None else cmdlines
        self.problems = [] if problems is None else problems
        self.env = {} if env is None else env  # grubenv variables; grub.cfg: variables at blscfg
        self.blscfg = blscfg  # grub.cfg: boots BLS entries
        self.load_env = load_env  # grub.cfg: loads grubenv
        # grub-default: the two variables (None when never assigned) and GRUB_DISABLE_RECOVERY
        self.linux = linux
        self.linux_default = linux_default
        self.recovery_entries = recovery_entries

    def __repr__(self) -> str:
        return "Parsed(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__) + ")"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self.__slots__)

    __hash__ = None  # type: ignore[assignment]  # mutable, so unhashable; object types it as a method


def _file(fid: int, text: str) -> Located:
    return Located.span(fid, text, 0, len(text), "r")


# ------------------------------------------------------------------------------------------------
# /etc/default/grub


def parse_grub_default(files: Sequence[tuple[int, str]]) -> Parsed:
    """grub-mkconfig's view: the files sourced in order, then 10_linux's ``linux`` line arguments.

    ``10_linux`` pastes ``${GRUB_CMDLINE_LINUX} ${GRUB_CMDLINE_LINUX_DEFAULT}`` (normal entries) or
    ``single ${GRUB_CMDLINE_LINUX}`` (recovery entries; Ubuntu: ``${GRUB_CMDLINE_LINUX_RECOVERY}``) unquoted
    into grub.cfg, where GRUB's own lexer reads it again: quotes in the value are GRUB quotes, and an unquoted
    newline or ``;`` ends the ``linux`` command.
    """
    out = Parsed()
    state = ShellState()
    for fid, text in files:
        run_shell(fid, text, state)
    for msg, origin in state.problems:
        out.problems.append(SourceProblem("CK002", f"shell syntax: {msg}; the rest of the file cannot be read as "
                                          "grub-mkconfig reads it", origin, origin >> 32))
    names = ("GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT")
    for name, origin, assigned in state.unresolved:
        if assigned in (*names, "GRUB_CMDLINE_LINUX_RECOVERY"):
            out.problems.append(SourceProblem("CK004", f"${name} is not set in the files linted (grub-mkconfig's "
                                              f"environment may set it): {assigned} is checked without it", origin,
                                              origin >> 32))
    for name in (*names, "GRUB_CMDLINE_LINUX_RECOVERY"):
        v = state.vars.get(name)
        if v is not None and v.unknown:
            out.problems.append(SourceProblem("CK004", f"{name} uses a command substitution or an expansion crashplan "
                                              "cannot evaluate: it is checked without that part", v.name_origin,
                                              v.file_id))
    lin = state.vars.get("GRUB_CMDLINE_LINUX")
    dflt = state.vars.get("GRUB_CMDLINE_LINUX_DEFAULT")
    rec = state.vars.get("GRUB_CMDLINE_LINUX_RECOVERY")
    dis = state.vars.get("GRUB_DISABLE_RECOVERY")
    out.linux = lin.value if lin else None
    out.linux_default = dflt.value if dflt else None
    out.recovery_entries = not (dis is not None and dis.value.text.strip() == "true")
    if lin is None and dflt is None:
        return out
    anchor_var = lin or dflt
    assert anchor_var is not None
    empty = Located()
    linux = lin.value if lin else empty
    linux_default = dflt.value if dflt else empty
    plans = [("normal", "GRUB_CMDLINE_LINUX + GRUB_CMDLINE_LINUX_DEFAULT (normal entries)",
              linux + Located.synthetic(" ") + linux_default)]
    if out.recovery_entries:
        head = rec.value if rec is not None else Located.synthetic("single")
        plans.append(("recovery", "GRUB_CMDLINE_LINUX (recovery entries)", head + Located.synthetic(" ") + linux))
    reported: set[int] = set()
    for role, label, args in plans:
        lexed = tokenize(args, keep_ctx=True)
        cmds = [c for c in lexed.commands if c.words or c.end_char]
        words = cmds[0].words if cmds else []
        for msg, origin in lexed.problems:
            if origin not in reported:
                reported.add(origin)
                out.problems.append(SourceProblem("CK002", f"GRUB script syntax in the value: {msg}", origin,
                                                  _fid(origin, anchor_var.file_id)))
        for c in cmds[:-1]:
            rest = [w for c2 in cmds[cmds.index(c) + 1:] for w in c2.words]
            if c.end != SYNTH and rest and c.end not in reported:
                reported.add(c.end)
                what = "a newline" if c.end_char == "\n" else "`;`"
                lost = " ".join(w.raw.text for w in rest)[:60]
                out.problems.append(SourceProblem(
                    "CK407", f"{what} in the value ends grub.cfg's linux line: `{lost}` becomes a separate GRUB "
                    "command and never reaches the kernel", c.end, c.end >> 32))
            break
        argv = expand_args(words, lambda _n: None)
        cmdline = loader_cmdline(argv)
        out.cmdlines.append(CmdlineDef(
            key=("grub-default", role), kind="grub-default", label=label, role=role, text=cmdline,
            anchor=anchor_var.name_origin, file_id=anchor_var.file_id, extra={"recovery_head": rec is not None}))
    return out


def _fid(origin: int, default: int) -> int:
    return origin >> 32 if origin != SYNTH else default


# ------------------------------------------------------------------------------------------------
# grub.cfg

_SECTION = r"^### BEGIN (\S+) ###"  # re.M; compiled on first use (re's cache), not at import


def parse_grub_cfg(fid: int, text: str, grubenv: Mapping[str, Located] | None = None) -> Parsed:
    """Walk a generated grub.cfg as GRUB runs it (conditions of the form ``[ -z "$x" ]`` / ``[ -n … ]``
    are evaluated; any other condition counts as true, so its branch is read and ``else`` is not)."""
    out = Parsed()
    lexed = tokenize(_file(fid, text))
    for msg, origin in lexed.problems:
        out.problems.append(SourceProblem("CK002", f"GRUB script syntax: {msg}", origin, fid))
    walk = _GrubCfgWalk(fid, text, grubenv, out)
    for cmd in lexed.commands:
        words = walk.branch_keywords(list(cmd.words))
        if not words:
            continue
        head = words[0].literal() if not words[0].quoted else None
        if walk.structure(head, words) or not walk.active():
            continue
        walk.command(head, words)
    return out


class _GrubCfgWalk:
    """The state of one walk through grub.cfg: the variables set so far, the blocks and ``if`` branches
    open, the menu entries seen; the command lines and problems found go to ``out``."""

    __slots__ = ("env", "fid", "grubenv", "if_stack", "n_entry", "out", "sections", "stack", "unresolved_reported")

    def __init__(self, fid: int, text: str, grubenv: Mapping[str, Located] | None, out: Parsed) -> None:
        self.fid = fid
        self.grubenv = grubenv
        self.out = out
        self.sections = [(m.start(), m.group(1)) for m in re.finditer(_SECTION, text, re.MULTILINE)]
        self.env: dict[str, Located] = {}
        self.stack: list[tuple[str, str, bool]] = []  # (kind, title, active)
        self.if_stack: list[list[bool]] = []  # [parent_active, taken, current]
        self.n_entry = 0
        self.unresolved_reported: set[str] = set()

    def active(self) -> bool:
        return all(a for _, _, a in self.stack) and all(f[2] for f in self.if_stack)

    def lookup(self, name: str) -> Located | None:
        return self.env.get(name)

    def section_at(self, offset: int) -> str:
        sec = ""
        for start, name in self.sections:
            if start <= offset:
                sec = name
        return sec

    def cond(self, words: list[Word]) -> bool:
        vals = [expand_word(w, self.lookup, split=False) for w in words]
        flat = [v[0].text if v else "" for v in vals]
        if len(flat) == 4 and flat[0] == "[" and flat[3] == "]" and flat[1] in ("-z", "-n"):
            empty = flat[2] == ""
            return empty if flat[1] == "-z" else not empty
        return True

    def branch_keywords(self, words: list[Word]) -> list[Word]:
        """``words`` without the leading ``then``/``else``/``do``; an ``else`` switches the open ``if``."""
        while words:
            lit = words[0].literal()
            if lit in ("then", "else", "do") and not words[0].quoted:
                if lit == "else" and self.if_stack:
                    f = self.if_stack[-1]
                    f[2] = not f[1]
                words = words[1:]
                continue
            break
        return words

    def structure(self, head: str | None, words: list[Word]) -> bool:
        """``if``/``elif``/``fi``, ``}`` and the commands opening a block (menuentry, submenu, function, any
        ``… {``), read whether or not the branch runs; True when the command was one of those."""
        if head == "if" or head == "elif":
            c = self.cond(words[1:])
            if head == "if":
                self.if_stack.append([True, c, c])
            elif self.if_stack:
                f = self.if_stack[-1]
                f[2] = c and not f[1]
                f[1] = f[1] or c
            return True
        if head == "fi":
            if self.if_stack:
                self.if_stack.pop()
            return True
        if head == "}":
            if self.stack:
                self.stack.pop()
            return True
        last = words[-1].literal() if words else None
        opens = last == "{" and not words[-1].quoted
        if head in ("menuentry", "submenu"):
            title_words = expand_word(words[1], self.lookup, split=False) if len(words) > 1 else []
            title = title_words[0].text if title_words else ""
            if opens:
                self.stack.append((head, title, True))
                if head == "menuentry":
                    self.n_entry += 1
            return True
        if head == "function":
            if opens:
                self.stack.append(("function", "", False))
            return True
        if opens:
            self.stack.append(("block", "", True))
            return True
        return False

    def command(self, head: str | None, words: list[Word]) -> None:
        """A command in a branch that runs: ``set``, ``name=value``, ``load_env``, ``blscfg``, ``linux``."""
        env, out = self.env, self.out
        if head == "set" and len(words) > 1:
            for w in words[1:]:
                v = expand_word(w, self.lookup, split=False)
                if v and "=" in v[0].text:
                    k = v[0].text.index("=")
                    env[v[0].text[:k]] = v[0][k + 1:]
        elif head is not None and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", head):
            v = expand_word(words[0], self.lookup, split=False)
            if v:
                k = v[0].text.index("=")
                env[v[0].text[:k]] = v[0][k + 1:]
        elif head == "load_env":
            out.load_env = True
            if self.grubenv:
                args = [w.literal() for w in words[1:]]
                names = [a for a in args if a and not a.startswith("-")]
                env.update({name: value for name, value in self.grubenv.items() if not names or name in names})
        elif head == "blscfg":
            out.blscfg = True
            out.env = dict(env)
        elif head is not None and head in ("linux", "linuxefi", "linux16", "linuxefi16"):
            self.linux(head, words)

    def linux(self, head: str, words: list[Word]) -> None:
        """A ``linux`` line: its kernel command line, for the entry it is in."""
        out, fid = self.out, self.fid
        for w in words[1:]:
            for p in w.parts:
                if (isinstance(p, Var) and self.lookup(p.name) is None and p.name == "kernelopts"
                        and p.name not in self.unresolved_reported):
                    self.unresolved_reported.add(p.name)
                    o = p.ref.first_origin()
                    where = ("grubenv (not among the files linted)" if out.load_env and self.grubenv is None
                             else "grubenv or a set command")
                    out.problems.append(SourceProblem("CK004", f"${p.name} comes from {where}: this linux line is "
                                                      "checked without it", o, fid))
        argv = expand_args(words[1:], self.lookup)
        if not argv:
            return
        titles = [t for k, t, _ in self.stack if k in ("menuentry", "submenu")]
        title = titles[-1] if titles else ""
        line_start = words[0].raw.first_origin()
        sec = self.section_at(line_start & 0xFFFFFFFF)
        role = "recovery" if is_recovery(title) else "normal"
        out.cmdlines.append(CmdlineDef(
            key=("grub-cfg", self.n_entry, line_start & 0xFFFFFFFF), kind="grub-cfg",
            label=f"menuentry '{title}'" if title else f"{head} line", role=role,
            text=loader_cmdline(argv[1:], boot_image=argv[0]), anchor=line_start, file_id=fid,
            extra={"section": sec, "title": title}))


# ------------------------------------------------------------------------------------------------
# BLS entries


_BLS_LINE = r"^[ \t]*(\S+)(?:[ \t]+(.*?))?[ \t]*$"  # compiled on first use (re's cache)


def bls_fields(text: str) -> list[tuple[str, int, int, int]]:
    """(key, line offset, value start, value end) for each ``key value`` line (comments skipped)."""
    out = []
    off = 0
    match = re.compile(_BLS_LINE).match
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        m = match(body)
        if m and not m.group(1).startswith("#"):
            vs = off + (m.start(2) if m.group(2) is not None else len(body))
            ve = off + (m.end(2) if m.group(2) is not None else len(body))
            out.append((m.group(1), off, vs, ve))
        off += len(line)
    return out


def parse_bls(fid: int, path: str, text: str, env: Mapping[str, Located] | None, *, have_env: bool) -> Parsed:
    out = Parsed()
    fields = bls_fields(text)
    keys = {k for k, _, _, _ in fields}
    opts = [Located.span(fid, text, vs, ve, "r") for k, _, vs, ve in fields if k == "options"]
    title = next((text[vs:ve] for k, _, vs, ve in fields if k == "title"), "")
    version = next((text[vs:ve] for k, _, vs, ve in fields if k == "version"), "")
    linux = next((Located.span(fid, text, vs, ve, "r") for k, _, vs, ve in fields if k in ("linux", "efi")), None)
    anchor_line = next((off for k, off, _, _ in fields if k == "options"), None)
    if not fields:
        return out
    if not opts:
        if "linux" in keys or "efi" in keys:
            o = pack(fid, fields[0][1])
            out.cmdlines.append(CmdlineDef(
                key=("bls", path), kind="bls", label=f"entry '{title or path}'",
                role="recovery" if is_recovery(title + " " + path + " " + version) else "normal",
                text=Located(), anchor=o, file_id=fid))
        return out
    joined = Located.join(" ", opts)
    grub_flavour = any(k.startswith("grub_") for k in keys) or "$" in joined.text
    role = "recovery" if is_recovery(title + " " + path.rsplit("/", 1)[-1] + " " + version) else "normal"
    anchor = pack(fid, anchor_line if anchor_line is not None else 0)
    if grub_flavour:
        lexed = tokenize(joined)
        for msg, origin in lexed.problems:
            out.problems.append(SourceProblem("CK002", f"GRUB script syntax in options: {msg}", origin, fid))
        words = [w for c in lexed.commands for w in c.words]
        lookup = (env or {}).get
        for w in words:
            for p in w.parts:
                if isinstance(p, Var) and lookup(p.name) is None and p.name == "kernelopts":
                    where = ("grubenv, which is not among the files linted" if not have_env
                             else "grubenv, which does not set it")
                    out.problems.append(SourceProblem("CK004", f"${p.name} comes from {where}: the entry is checked "
                                                      "without it", p.ref.first_origin(), fid))
        argv = expand_args(words, lookup)
        text_l = loader_cmdline(argv, boot_image=linux)
    else:
        text_l = joined
    out.cmdlines.append(CmdlineDef(
        key=("bls", path), kind="bls", label=f"entry '{title or path.rsplit('/', 1)[-1]}'", role=role,
        text=text_l, anchor=anchor, file_id=fid, extra={"version": version, "grub": grub_flavour}))
    return out


# ------------------------------------------------------------------------------------------------
# grubenv


def parse_grubenv(fid: int, text: str) -> Parsed:
    """``grub-core/lib/envblk.c``: ``name=value`` lines; ``\\\\`` and ``\\n`` escapes; ``#`` padding."""
    out = Parsed()
    off = 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\n")
        if body and not body.startswith("#") and "=" in body:
            k = body.index("=")
            b = Builder()
            i = k + 1
            while i < len(body):
                c = body[i]
                if c == "\\" and i + 1 < len(body):
                    nxt = body[i + 1]
                    b.add("\n" if nxt == "n" else nxt, pack(fid, off + i + 1), "r")
                    i += 2
                    continue
                b.add(c, pack(fid, off + i), "r")
                i += 1
            out.env[body[:k]] = b.build()
        off += len(line)
    ko = out.env.get("kernelopts")
    if ko is not None:
        out.cmdlines.append(CmdlineDef(
            key=("grubenv", "kernelopts"), kind="grubenv", label="kernelopts", role="normal",
            text=ko.strip(), anchor=ko.first_origin() if len(ko) else pack(fid, 0), file_id=fid))
    return out


# ------------------------------------------------------------------------------------------------
# GRUB legacy


def parse_legacy(fid: int, text: str) -> Parsed:
    """``menu.lst``: ``title`` starts an entry; ``kernel [--opt…] PATH ARGS`` passes ARGS verbatim."""
    out = Parsed()
    title = ""
    off = 0
    n = 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        m = re.match(r"^[ \t]*(title)[ \t=]+(.*)$", body)
        if m:
            title = m.group(2).strip()
            n += 1
        m = re.match(r"^([ \t]*)kernel[ \t=]+((?:--\S+[ \t]+)*)(\S+)[ \t]*(.*?)[ \t]*$", body)
        if m:
            s = off + m.start(4)
            e = off + m.end(4)
            out.cmdlines.append(CmdlineDef(
                key=("grub-legacy", n, off), kind="grub-legacy", label=f"title '{title}'" if title else "kernel line",
                role="recovery" if is_recovery(title) else "normal", text=Located.span(fid, text, s, e, "r"),
                anchor=pack(fid, off + len(m.group(1))), file_id=fid))
        off += len(line)
    return out


# ------------------------------------------------------------------------------------------------
# zipl.conf


def parse_zipl(fid: int, text: str) -> Parsed:
    """``zipl.conf``: ``[section]`` then ``parameters = "…"`` (quotes optional).

    Dump sections (``dumpto=``/``dumptofs=``) configure the stand-alone dump tool, not a kernel boot.
    """
    from crashplan.textlines import split_lines

    out = Parsed()
    dump_sections: set[str] = set()
    cur = ""
    for line in split_lines(text):
        m = re.match(r"^[ \t]*\[([^\]]*)\][ \t]*$", line)
        if m:
            cur = m.group(1).strip()
        elif re.match(r"^[ \t]*dumpto(fs)?[ \t]*=", line):
            dump_sections.add(cur)
    section = ""
    off = 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        m = re.match(r"^[ \t]*\[([^\]]*)\][ \t]*$", body)
        if m:
            section = m.group(1).strip()
        m = re.match(r"^([ \t]*)parameters[ \t]*=[ \t]*(.*?)[ \t]*$", body)
        if m and section and section != "defaultboot" and section not in dump_sections:
            vs, ve = off + m.start(2), off + m.end(2)
            val = text[vs:ve]
            ctx = "r"
            if len(val) >= 2 and val[0] in "\"'" and val[-1] == val[0]:
                ctx = "d" if val[0] == '"' else "s"
                vs, ve = vs + 1, ve - 1
            elif val[:1] in "\"'":
                out.problems.append(SourceProblem("CK002",
                                                  f"zipl.conf: unterminated quote in parameters of [{section}]",
                                                  pack(fid, vs), fid))
                vs += 1
            out.cmdlines.append(CmdlineDef(
                key=("zipl", section), kind="zipl", label=f"[{section}]",
                role="recovery" if is_recovery(section) else "normal",
                text=Located.span(fid, text, vs, ve, ctx), anchor=pack(fid, off + len(m.group(1))), file_id=fid))
        off += len(line)
    return out


# ------------------------------------------------------------------------------------------------
# /etc/kernel/cmdline, /proc/cmdline, kickstart


def parse_kernel_cmdline(fid: int, text: str) -> Parsed:
    """kernel-install reads it with ``tr -s "$IFS" ' '``: every run of blanks and newlines is one space."""
    out = Parsed()
    b = Builder()
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in " \t\n":
            j = i
            while j < n and text[j] in " \t\n":
                j += 1
            b.add(" ", pack(fid, i), "r")
            i = j
            continue
        b.add(c, pack(fid, i), "r")
        i += 1
    loc = b.build().strip(" ")
    out.cmdlines.append(CmdlineDef(key=("kernel-cmdline",), kind="kernel-cmdline", label="/etc/kernel/cmdline",
                                   role="normal", text=loc, anchor=pack(fid, 0), file_id=fid))
    return out


def parse_raw(fid: int, text: str) -> Parsed:
    """A command line as the kernel got it; ``/proc/cmdline`` ends with one newline the kernel added."""
    end = len(text) - 1 if text.endswith("\n") else len(text)
    return Parsed(cmdlines=[CmdlineDef(key=("cmdline",), kind="cmdline", label="command line", role="any",
                                       text=Located.span(fid, text, 0, end, "r"), anchor=pack(fid, 0), file_id=fid)])


def parse_kickstart(fid: int, text: str) -> Parsed:
    """``bootloader … --append="…"``: shell-like quoting, as pykickstart's shlex split reads it."""
    out = Parsed()
    off = 0
    for line in text.splitlines(keepends=True):
        m = re.match(r"^[ \t]*bootloader\b", line)
        if m:
            lx = _Lexer(fid, text[: off + len(line.rstrip("\r\n"))], ShellState())
            i = off + m.end()
            end = off + len(line.rstrip("\r\n"))
            expect_value = False
            while i < end:
                while i < end and text[i] in " \t":
                    i += 1
                if i >= end:
                    break
                w, j = lx.word(i)
                if j == i:
                    i += 1
                    continue
                val: Located | None = None
                if expect_value:
                    val = w
                    expect_value = False
                elif w.text == "--append":
                    expect_value = True
                elif w.text.startswith("--append="):
                    val = w[len("--append="):]
                if val is not None:
                    out.cmdlines.append(CmdlineDef(key=("kickstart", off), kind="kickstart",
                                                   label="bootloader --append", role="any", text=val,
                                                   anchor=pack(fid, off + m.start()), file_id=fid))
                i = j
        off += len(line)
    return out


def commands_text(cmds: list[Command]) -> str:  # pragma: no cover - debugging aid
    return "; ".join(" ".join(w.raw.text for w in c.words) for c in cmds)
