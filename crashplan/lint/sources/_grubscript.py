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

from crashplan.lint.located import SYNTH, Builder, Located
from crashplan.records import NamedTuple

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
    s, org = src.text, src.origins
    n = len(s)
    i = 0
    commands: list[Command] = []
    problems: list[tuple[str, int]] = []
    words: list[Word] = []
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
        word, i = _WordReader(src, keep_ctx, problems).read(i)
        words.append(word)
    return Lexed(commands, problems)


class _WordReader:
    """Reads one word of GRUB script: its literal runs (quoted or not, each character with its origin and
    quoting context) and its ``$name`` / ``${name}`` references."""

    __slots__ = ("cx", "keep_ctx", "lit", "lit_quoted", "n", "org", "problems", "s", "src", "word")

    def __init__(self, src: Located, keep_ctx: bool, problems: list[tuple[str, int]]) -> None:
        self.src = src
        self.s, self.org, self.cx = src.text, src.origins, src.ctx
        self.n = len(self.s)
        self.keep_ctx = keep_ctx
        self.problems = problems
        self.word = Word()
        self.lit = Builder()
        self.lit_quoted = False

    def read(self, i: int) -> tuple[Word, int]:
        """The word starting at ``i`` (not a blank), and the index after it."""
        s, n = self.s, self.n
        start = i
        while i < n:
            c = s[i]
            if c in _BLANK or c == "\n" or c == ";":
                break
            if c == "\\":
                if i + 1 < n:
                    if s[i + 1] == "\n":
                        i += 2
                        continue
                    self.add(i + 1, "b", False)
                    i += 2
                    continue
                i += 1
                continue
            if c == "'":
                i = self.single_quoted(i)
                continue
            if c == '"':
                i = self.double_quoted(i)
                continue
            if c == "$":
                k = self.var(i, False)
                if k >= 0:
                    i = k
                    continue
            self.add(i, "b", False)
            i += 1
        self.flush()
        self.word.raw = self.src[start:min(i, n)]
        return self.word, i

    def flush(self) -> None:
        if len(self.lit):
            self.word.parts.append(Lit(self.lit.build(), self.lit_quoted))
            self.lit = Builder()
        self.lit_quoted = False

    def add(self, j: int, ctx: str, quoted: bool) -> None:
        if quoted and not self.lit_quoted and len(self.lit):
            self.flush()
        if quoted:
            self.lit_quoted = True
        elif self.lit_quoted:
            self.flush()
        self.lit.add(self.s[j], self.org[j], self.cx[j] if self.keep_ctx else ctx)

    def empty_quotes(self) -> None:
        """``''`` or ``""``: an empty argument, still a word."""
        self.flush()
        self.word.parts.append(Lit(Located(), True))

    def single_quoted(self, i: int) -> int:
        """``'...'`` at i; returns the index after the closing quote."""
        k = self.s.find("'", i + 1)
        if k < 0:
            self.problems.append(("unterminated single quote", self.org[i]))
            k = self.n
        for j in range(i + 1, k):
            self.add(j, "s", True)
        if k == i + 1:
            self.empty_quotes()
        return k + 1

    def double_quoted(self, i: int) -> int:
        """``"..."`` at i; returns the index after the closing quote."""
        s, n = self.s, self.n
        j = i + 1
        empty = True
        while j < n and s[j] != '"':
            if s[j] == "\\" and j + 1 < n and s[j + 1] in '\\"$\n':
                if s[j + 1] != "\n":
                    self.add(j + 1, "d", True)
                    empty = False
                j += 2
                continue
            if s[j] == "$":
                k = self.var(j, True)
                if k >= 0:
                    j = k
                    empty = False
                    continue
            self.add(j, "d", True)
            empty = False
            j += 1
        if j >= n:
            self.problems.append(("unterminated double quote", self.org[i]))
        if empty:
            self.empty_quotes()
        return j + 1

    def var(self, j: int, quoted: bool) -> int:
        """``$...`` at j; returns the index after it (or -1 when it is a literal ``$``)."""
        s, n, src = self.s, self.n, self.src
        if j + 1 < n and s[j + 1] == "{":
            k = s.find("}", j + 2)
            if k < 0:
                self.problems.append(("unterminated ${", self.org[j]))
                return -1
            name = s[j + 2:k]
            self.flush()
            self.word.parts.append(Var(name, quoted, src[j:k + 1]))
            return k + 1
        k = j + 1
        if k < n and s[k] in "?#*@":
            k += 1
        else:
            while k < n and s[k] in _NAME_CHARS:
                k += 1
        if k == j + 1:
            return -1
        self.flush()
        self.word.parts.append(Var(s[j + 1:k], quoted, src[j:k]))
        return k


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
