"""Text that remembers where each character came from.

A boot-loader file rarely holds the kernel command line verbatim: quotes are removed, ``$VAR`` is
expanded, GRUB wraps arguments that contain spaces in new quotes.  ``Located`` is a string whose every
character carries its *origin* (``file_id << 32 | offset`` in the file that holds it, or ``-1`` for a
character no file holds, such as a joining space) and the *context* it was written in (``ctx``: one
letter per character, see ``CTX``).  Findings point at origins; ``--fix`` edits them.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

__all__ = ["CTX", "SYNTH", "LineIndex", "Located", "pack", "unpack"]

SYNTH = -1

# the quoting context a character was written in (what --fix must respect when it inserts text there)
CTX = {
    "r": "raw text (taken literally)",
    "b": "unquoted shell or GRUB word",
    "d": "inside double quotes",
    "s": "inside single quotes",
    "-": "not in any file (added by the boot loader or by crashplan)",
}


def pack(file_id: int, offset: int) -> int:
    return (file_id << 32) | offset


def unpack(origin: int) -> tuple[int, int]:
    return origin >> 32, origin & 0xFFFFFFFF


class Located:
    """An immutable string with one origin and one context letter per character."""

    __slots__ = ("ctx", "origins", "text")

    def __init__(self, text: str = "", origins: Iterable[int] = (), ctx: str = "") -> None:
        self.text = text
        self.origins = tuple(origins)
        self.ctx = ctx
        if not (len(self.origins) == len(text) == len(ctx)):  # pragma: no cover - programming error
            raise ValueError("Located: text, origins and ctx differ in length")

    @classmethod
    def synthetic(cls, text: str) -> Located:
        return cls(text, (SYNTH,) * len(text), "-" * len(text))

    @classmethod
    def span(cls, file_id: int, text: str, start: int, end: int, ctx: str = "r") -> Located:
        base = pack(file_id, 0)
        return cls(text[start:end], range(base + start, base + end), ctx * (end - start))

    def __len__(self) -> int:
        return len(self.text)

    def __add__(self, other: Located) -> Located:
        return Located(self.text + other.text, self.origins + other.origins, self.ctx + other.ctx)

    def __getitem__(self, item: slice) -> Located:
        return Located(self.text[item], self.origins[item], self.ctx[item])

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Located)
                and (self.text, self.origins, self.ctx) == (other.text, other.origins, other.ctx))

    def __hash__(self) -> int:
        return hash((self.text, self.origins))

    def __repr__(self) -> str:
        return f"Located({self.text!r})"

    def strip(self, chars: str = " \t\n\r\v\f") -> Located:
        s, e = 0, len(self.text)
        while s < e and self.text[s] in chars:
            s += 1
        while e > s and self.text[e - 1] in chars:
            e -= 1
        return self[s:e]

    def split(self, seps: str = " \t\n") -> list[Located]:
        out: list[Located] = []
        i, n = 0, len(self.text)
        while i < n:
            while i < n and self.text[i] in seps:
                i += 1
            j = i
            while j < n and self.text[j] not in seps:
                j += 1
            if j > i:
                out.append(self[i:j])
            i = j
        return out

    @staticmethod
    def join(sep: str, parts: Iterable[Located]) -> Located:
        text: list[str] = []
        origins: list[int] = []
        ctx: list[str] = []
        first = True
        for p in parts:
            if not first and sep:
                text.append(sep)
                origins.extend((SYNTH,) * len(sep))
                ctx.append("-" * len(sep))
            first = False
            text.append(p.text)
            origins.extend(p.origins)
            ctx.append(p.ctx)
        return Located("".join(text), origins, "".join(ctx))

    def first_origin(self) -> int:
        return next((o for o in self.origins if o != SYNTH), SYNTH)


class Builder:
    """Accumulates a ``Located`` one character (or one ``Located``) at a time."""

    __slots__ = ("ctx", "origins", "text")

    def __init__(self) -> None:
        self.text: list[str] = []
        self.origins: list[int] = []
        self.ctx: list[str] = []

    def add(self, ch: str, origin: int, ctx: str) -> None:
        self.text.append(ch)
        self.origins.append(origin)
        self.ctx.append(ctx)

    def extend(self, loc: Located) -> None:
        self.text.extend(loc.text)
        self.origins.extend(loc.origins)
        self.ctx.extend(loc.ctx)

    def __len__(self) -> int:
        return len(self.text)

    def build(self) -> Located:
        return Located("".join(self.text), self.origins, "".join(self.ctx))


class LineIndex:
    """Offsets to 1-based (line, column) in one file; columns count characters."""

    __slots__ = ("length", "starts")

    def __init__(self, text: str) -> None:
        self.starts = [0]
        for i, c in enumerate(text):
            if c == "\n":
                self.starts.append(i + 1)
        self.length = len(text)

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.starts, offset) - 1
        return line + 1, offset - self.starts[line] + 1

    def line_start(self, line: int) -> int:
        return self.starts[line - 1]
