"""Just enough POSIX ``sh`` to evaluate ``/etc/default/grub`` the way ``grub-mkconfig`` does (it sources the file).

Assignments (``NAME=word``, ``export NAME=word``, several per line, ``;``-separated) are evaluated in order with
the shell's quoting: backslash escapes, single quotes (literal), double quotes (``\\`` escapes only
``$ ` " \\`` and newline), line continuations, comments, ``$NAME``, ``${NAME}`` and ``${NAME:-word}``-style
defaults.  Command substitution (``$(…)``, backquotes) cannot be evaluated: the value is marked unknown.
Conditions (``if …; then``) are not evaluated; their assignments count.  Every character of a value keeps
its origin, so ``GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX crashkernel=…"`` points at the characters where
each part was written, in whichever file that was.
"""

from __future__ import annotations

import re

from crashplan.lint.located import SYNTH, Builder, Located, pack
from crashplan.records import NamedTuple

__all__ = ["ShellState", "ShellVar", "run_shell"]

_NAME_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_END = " \t\n;&|<>()"
_KEYWORDS_PREFIX = {"then", "else", "do", "{", "!", "time"}
_KEYWORDS_SKIP_STATEMENT = {"if", "elif", "while", "until", "for", "case"}


def _name_end(s: str, i: int) -> int:
    """The end of the shell NAME (``[A-Za-z_][A-Za-z0-9_]*``) at ``i``, or ``i`` when there is none.

    Hand-written instead of a regular expression: nothing is compiled at import (cold start).
    """
    n = len(s)
    if i >= n or s[i] not in _NAME_START:
        return i
    j = i + 1
    while j < n and s[j] in _NAME_CHARS:
        j += 1
    return j


class ShellVar(NamedTuple):
    value: Located
    unknown: bool  # contains a command substitution or an unevaluable expansion
    name_origin: int  # where the assignment's NAME is
    file_id: int


class ShellState:
    """A plain class: a dataclass costs about a millisecond to build at import (cold start)."""

    __slots__ = ("history", "problems", "unresolved", "vars")

    def __init__(self, vars: dict[str, ShellVar] | None = None, history: list[tuple[str, ShellVar]] | None = None,
                 problems: list[tuple[str, int]] | None = None,
                 unresolved: list[tuple[str, int, str]] | None = None) -> None:
        self.vars = {} if vars is None else vars
        self.history = [] if history is None else history  # every assignment, in order
        self.problems = [] if problems is None else problems  # (message, origin)
        self.unresolved = [] if unresolved is None else unresolved  # (name, origin of $, assigned variable)

    def __repr__(self) -> str:
        return (f"ShellState(vars={self.vars!r}, history={self.history!r}, problems={self.problems!r}, "
                f"unresolved={self.unresolved!r})")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self.__slots__)

    __hash__ = None  # type: ignore[assignment]  # mutable, so unhashable; object types it as a method


class _Lexer:
    def __init__(self, fid: int, text: str, state: ShellState) -> None:
        self.fid = fid
        self.s = text
        self.n = len(text)
        self.state = state
        self.base = pack(fid, 0)
        self.unknown = False
        self.assigning = ""

    def o(self, i: int) -> int:
        return self.base + i

    def problem(self, msg: str, i: int) -> None:
        self.state.problems.append((msg, self.o(i)))

    # -- expansions ---------------------------------------------------------------------------
    def lookup(self, name: str, at: int) -> Located | None:
        v = self.state.vars.get(name)
        if v is None:
            return None
        if v.unknown:
            self.unknown = True
        return v.value

    def dollar(self, i: int, out: Builder) -> int:
        """``$`` at i; expand into ``out``; return the index after the expansion."""
        s, n = self.s, self.n
        if i + 1 >= n:
            out.add("$", self.o(i), "b")
            return i + 1
        c = s[i + 1]
        if c == "(":
            end = self._balanced(i + 1, "(", ")")
            self.unknown = True
            return end
        if c == "{":
            k = s.find("}", i + 2)
            if k < 0:
                self.problem("unterminated ${", i)
                return n
            body = s[i + 2:k]
            e = _name_end(body, 0)
            if e == 0:
                self.unknown = True
                return k + 1
            name = body[:e]
            op = body[e:]
            val = self.lookup(name, i)
            if op:
                mm = re.match(r"(:?)([-=+?])(.*)", op, re.DOTALL)
                if not mm:
                    self.unknown = True
                    return k + 1
                colon, kind, word = mm.groups()
                unset = val is None or (colon and not val.text)
                woff = i + 2 + e + len(colon) + 1
                wval = Located.span(self.fid, s, woff, woff + len(word), "b")
                if kind in "-=":
                    if unset:
                        val = wval
                        if kind == "=":
                            self.state.vars[name] = ShellVar(wval, False, self.o(i), self.fid)
                elif kind == "+":
                    val = None if unset else wval
                else:
                    self.unknown = True
            elif val is None:
                self.state.unresolved.append((name, self.o(i), self.assigning))
            if val is not None:
                out.extend(val)
            return k + 1
        e = _name_end(s, i + 1)
        if e > i + 1:
            name = s[i + 1:e]
            val = self.lookup(name, i)
            if val is None:
                self.state.unresolved.append((name, self.o(i), self.assigning))
            else:
                out.extend(val)
            return e
        if c.isdigit() or c in "@*#?$!-":
            self.unknown = True
            return i + 2
        out.add("$", self.o(i), "b")
        return i + 1

    def _balanced(self, i: int, open_: str, close: str) -> int:
        depth = 0
        s, n = self.s, self.n
        j = i
        while j < n:
            if s[j] == open_:
                depth += 1
            elif s[j] == close:
                depth -= 1
                if depth == 0:
                    return j + 1
            elif s[j] == "\\":
                j += 1
            elif s[j] in "'\"":
                k = s.find(s[j], j + 1)
                j = n if k < 0 else k
            j += 1
        self.problem(f"unterminated {open_}", i)
        return n

    # -- words --------------------------------------------------------------------------------
    def word(self, i: int) -> tuple[Located, int]:
        s, n = self.s, self.n
        out = Builder()
        while i < n:
            c = s[i]
            if c in _END:
                break
            if c == "\\":
                if i + 1 < n:
                    if s[i + 1] != "\n":
                        out.add(s[i + 1], self.o(i + 1), "b")
                    i += 2
                else:
                    i += 1
                continue
            if c == "'":
                k = s.find("'", i + 1)
                if k < 0:
                    self.problem("unterminated single quote (')", i)
                    k = n
                for j in range(i + 1, k):
                    out.add(s[j], self.o(j), "s")
                i = k + 1
                continue
            if c == '"':
                j = i + 1
                while j < n and s[j] != '"':
                    if s[j] == "\\" and j + 1 < n and s[j + 1] in '$`"\\\n':
                        if s[j + 1] != "\n":
                            out.add(s[j + 1], self.o(j + 1), "d")
                        j += 2
                        continue
                    if s[j] == "$":
                        inner = Builder()
                        j = self.dollar(j, inner)
                        out.extend(inner.build())
                        continue
                    if s[j] == "`":
                        k = s.find("`", j + 1)
                        self.unknown = True
                        j = n if k < 0 else k + 1
                        continue
                    out.add(s[j], self.o(j), "d")
                    j += 1
                if j >= n:
                    self.problem('unterminated double quote (")', i)
                i = j + 1
                continue
            if c == "$":
                i = self.dollar(i, out)
                continue
            if c == "`":
                k = s.find("`", i + 1)
                self.unknown = True
                if k < 0:
                    self.problem("unterminated command substitution (`)", i)
                    k = n
                i = k + 1
                continue
            out.add(c, self.o(i), "b")
            i += 1
        return out.build(), i

    # -- statements ---------------------------------------------------------------------------
    def run(self) -> None:
        s, n = self.s, self.n
        i = 0
        at_start = True
        skip_statement = False
        while i < n:
            c = s[i]
            if c in " \t":
                i += 1
                continue
            if c == "\\" and i + 1 < n and s[i + 1] == "\n":
                i += 2
                continue
            if c in "\n;&|":
                at_start = True
                skip_statement = False
                i += 1
                continue
            if c in "()<>":
                i += 1
                continue
            if c == "#":
                k = s.find("\n", i)
                i = n if k < 0 else k
                continue
            e = _name_end(s, i)
            if at_start and e > i and e < n and s[e] == "=" and not skip_statement:
                name = s[i:e]
                self.unknown = False
                self.assigning = name
                value, j = self.word(e + 1)
                var = ShellVar(value, self.unknown, self.o(i), self.fid)
                self.state.vars[name] = var
                self.state.history.append((name, var))
                self.assigning = ""
                i = j
                continue
            w, j = self.word(i)
            if j == i:  # a lone special character
                i += 1
                continue
            word = w.text
            i = j
            if at_start and word in _KEYWORDS_PREFIX:
                continue
            if at_start and word in ("export", "readonly"):
                continue
            if at_start and word in _KEYWORDS_SKIP_STATEMENT:
                skip_statement = True
            at_start = False


def run_shell(fid: int, text: str, state: ShellState) -> ShellState:
    """Evaluate one file's assignments into ``state`` (later files see earlier values)."""
    _Lexer(fid, text, state).run()
    return state


def synthetic(text: str) -> Located:
    return Located(text, (SYNTH,) * len(text), "-" * len(text))
