"""GRUB 2 script: words, quoting and variable expansion, with character origins.

Follows GRUB's own lexer (``grub-core/script/yylex.l``) closely enough for ``grub.cfg`` as grub-mkconfig and
the BLS module write it: blanks separate words, an unquoted newline or ``;`` ends a command, ``#`` at the start
of a word starts a comment, ``\\`` escapes the next character outside quotes (``\\`` + newline continues the
line), single quotes are literal, double quotes keep ``\\`` only before ``\\ " $`` and newline, and
``$name`` / ``${name}`` expand — unquoted expansions are split into several words.

The kernel command line is then built as ``grub-core/lib/cmdline.c:grub_create_loader_cmdline()`` does:
arguments joined with spaces, an argument that contains a space wrapped in double quotes, and ``\\``, ``'``
and ``"`` escaped with a backslash (``\\xHH`` kept as is).  The x86, EFI and arm64 loaders put
``BOOT_IMAGE=<kernel path>`` first (``LINUX_IMAGE``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

from crashplan.lint.located import SYNTH, Builder, Located

__all__ = ["Command", "Lit", "Var", "Word", "expand_args", "expand_word", "loader_cmdline", "tokenize"]

_BLANK = " \t"
_NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"


# plain classes and NamedTuples: a dataclass costs about a millisecond to build at import (cold start)
class Lit(NamedTuple):
    text: Located
    quoted: bool


class Var(NamedTuple):
    name: str
    quoted: bool
    ref: Located  # the ``$name`` text itself


class Word:
    __slots__ = ("parts", "raw")

    def __init__(self, parts: list[Lit | Var] | None = None, raw: Located | None = None) -> None:
        self.parts: list[Lit | Var] = [] if parts is None else parts
        self.raw = Located() if raw is None else raw

    def __repr__(self) -> str:
        return f"Word(parts={self.parts!r}, raw={self.raw!r})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.parts, self.raw) == (other.parts, other.raw)

    __hash__ = None  # type: ignore[assignment]  # mutable, so unhashable; object types it as a method

    def literal(self) -> str | None:
        """The word's text when it has no expansion (None otherwise)."""
        lits = [p for p in self.parts if isinstance(p, Lit)]
        if len(lits) != len(self.parts):
            return None
        return "".join(p.text.text for p in lits)

    @property
    def quoted(self) -> bool:
        return any(p.quoted for p in self.parts)


class Command(NamedTuple):
    words: list[Word]
    end: int  # origin of the character that ended it (newline or ';'), SYNTH at the end of input
    end_char: str  # "\n", ";" or "" at the end of input


class Lexed(NamedTuple):
    commands: list[Command]
    problems: list[tuple[str, int]]  # (message, origin)


def tokenize(src: Located, *, keep_ctx: bool = False) -> Lexed:
    """Split GRUB script text into commands of words.

    ``keep_ctx``: keep the context letters of ``src`` (text that was itself unquoted from another
    language, like a ``/etc/default/grub`` value) instead of recording GRUB's quoting.
    """
    s, org, cx = src.text, src.origins, src.ctx
    n = len(s)
    i = 0
    commands: list[Command] = []
    problems: list[tuple[str, int]] = []
    words: list[Word] = []

    def ctx_of(j: int, mine: str) -> str:
        return cx[j] if keep_ctx else mine

    while i <= n:
        # skip blanks
        while i < n and s[i] in _BLANK:
            i += 1
        if i >= n:
            commands.append(Command(words, SYNTH, ""))
            break
        c = s[i]
        if c == "\n" or c == ";":
            commands.append(Command(words, org[i], c))
            words = []
            i += 1
            continue
        if c == "\\" and i + 1 < n and s[i + 1] == "\n":
            i += 2
            continue
        if c == "#":
            while i < n and s[i] != "\n":
                i += 1
            continue
        # a word
        word = Word()
        lit = Builder()
        lit_quoted = False
        start = i

        def flush() -> None:
            nonlocal lit, lit_quoted
            if len(lit):
                word.parts.append(Lit(lit.build(), lit_quoted))
                lit = Builder()
            lit_quoted = False

        def add(j: int, ctx: str, quoted: bool) -> None:
            nonlocal lit_quoted
            if quoted and not lit_quoted and len(lit):
                flush()
            if quoted:
                lit_quoted = True
            elif lit_quoted:
                flush()
            lit.add(s[j], org[j], ctx_of(j, ctx))

        def var(j: int, quoted: bool) -> int:
            """``$...`` at j; returns the index after it (or -1 when it is a literal ``$``)."""
            if j + 1 < n and s[j + 1] == "{":
                k = s.find("}", j + 2)
                if k < 0:
                    problems.append(("unterminated ${", org[j]))
                    return -1
                name = s[j + 2:k]
                flush()
                word.parts.append(Var(name, quoted, src[j:k + 1]))
                return k + 1
            k = j + 1
            if k < n and s[k] in "?#*@":
                k += 1
            else:
                while k < n and s[k] in _NAME_CHARS:
                    k += 1
            if k == j + 1:
                return -1
            flush()
            word.parts.append(Var(s[j + 1:k], quoted, src[j:k]))
            return k

        while i < n:
            c = s[i]
            if c in _BLANK or c == "\n" or c == ";":
                break
            if c == "\\":
                if i + 1 < n:
                    if s[i + 1] == "\n":
                        i += 2
                        continue
                    add(i + 1, "b", False)
                    i += 2
                    continue
                i += 1
                continue
            if c == "'":
                k = s.find("'", i + 1)
                if k < 0:
                    problems.append(("unterminated single quote", org[i]))
                    k = n
                for j in range(i + 1, k):
                    add(j, "s", True)
                if k == i + 1:
                    flush()
                    word.parts.append(Lit(Located(), True))
                i = k + 1
                continue
            if c == '"':
                j = i + 1
                empty = True
                while j < n and s[j] != '"':
                    if s[j] == "\\" and j + 1 < n and s[j + 1] in '\\"$\n':
                        if s[j + 1] != "\n":
                            add(j + 1, "d", True)
                            empty = False
                        j += 2
                        continue
                    if s[j] == "$":
                        k = var(j, True)
                        if k >= 0:
                            j = k
                            empty = False
                            continue
                    add(j, "d", True)
                    empty = False
                    j += 1
                if j >= n:
                    problems.append(("unterminated double quote", org[i]))
                if empty:
                    flush()
                    word.parts.append(Lit(Located(), True))
                i = j + 1
                continue
            if c == "$":
                k = var(i, False)
                if k >= 0:
                    i = k
                    continue
            add(i, "b", False)
            i += 1
        flush()
        word.raw = src[start:min(i, n)]
        words.append(word)
    return Lexed(commands, problems)


Lookup = Callable[[str], "Located | None"]


def expand_word(word: Word, lookup: Lookup, *, split: bool = True) -> list[Located]:
    """The words ``word`` becomes: unquoted expansions split on blanks (and vanish when empty)."""
    out: list[Located] = []
    cur = Builder()
    have = False  # whether the current word exists (a quoted part makes an empty word exist)
    for p in word.parts:
        if isinstance(p, Lit):
            cur.extend(p.text)
            have = have or p.quoted or len(p.text) > 0
            continue
        val = lookup(p.name) or Located()
        if p.quoted or not split:
            cur.extend(val)
            have = True
            continue
        pieces = val.split(" \t\n")
        if not pieces:
            continue
        if val.text[:1] in " \t\n" and have:
            out.append(cur.build())
            cur = Builder()
        for k, piece in enumerate(pieces):
            if k > 0:
                out.append(cur.build())
                cur = Builder()
            cur.extend(piece)
            have = True
        if val.text[-1:] in " \t\n":
            out.append(cur.build())
            cur = Builder()
            have = False
    if have or len(cur):
        out.append(cur.build())
    return out


def expand_args(words: list[Word], lookup: Lookup) -> list[Located]:
    out: list[Located] = []
    for w in words:
        out.extend(expand_word(w, lookup))
    return out


def _is_hex(c: str) -> bool:
    return c in "0123456789abcdefABCDEF"


def loader_cmdline(argv: list[Located], *, boot_image: Located | None = None) -> Located:
    """``grub_create_loader_cmdline(argc, argv)`` (grub-core/lib/cmdline.c), with ``BOOT_IMAGE=`` first."""
    parts: list[Located] = []
    if boot_image is not None:
        parts.append(Located.synthetic("BOOT_IMAGE=") + _escape_arg(boot_image))
    parts.extend(_escape_arg(a) for a in argv)
    return Located.join(" ", parts)


def _escape_arg(arg: Located) -> Located:
    t = arg.text
    b = Builder()
    space = " " in t
    if space:
        b.add('"', SYNTH, "-")
    i = 0
    while i < len(t):
        c = t[i]
        if c == "\\" and i + 3 < len(t) and t[i + 1] == "x" and _is_hex(t[i + 2]) and _is_hex(t[i + 3]):
            b.extend(arg[i:i + 4])
            i += 4
            continue
        if c in "\\'\"":
            b.add("\\", SYNTH, "-")
        b.add(c, arg.origins[i], arg.ctx[i])
        i += 1
    if space:
        b.add('"', SYNTH, "-")
    return b.build()


def env_lookup(env: Mapping[str, Located]) -> Lookup:
    return env.get
