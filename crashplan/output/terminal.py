"""The terminal crashplan prints to: width, colour, ``NO_COLOR`` and ``--color``, and the one place that
builds a rich ``Console``.

Every text renderer asks a :class:`Terminal` instead of deciding for itself:

``Terminal.from_options(color="auto", width=None, *, stream=None, environ=None, to_file=False)``
    Resolves the command's ``--color`` and ``--width`` once.  ``--color auto`` (the default, spelt alike
    by ``check``, ``suggest``, ``lint``, ``rules``, ``status`` and ``fleet``) colours only when ``stream``
    (default: ``sys.stdout``) is a terminal, never when ``NO_COLOR`` is set and not empty
    (https://no-color.org), and never when the output goes to a file (``to_file``: ``-o FILE``, or a
    format other than text); ``always`` and ``never`` force it.  ``width`` is ``--width`` when given.

``term.color`` (bool), ``term.width`` (``int | None``: ``--width``, ``None`` when the terminal decides)
    The decisions, for renderers that print plain strings.

``term.console(file=None, *, soft_wrap=False, default_width=None, stderr=False)``
    A rich ``Console`` (rich is imported here, on the first call: only text output pays for it) with no
    markup, no highlighting and no emoji, so a ``[`` or ``:smile:`` in a message prints as written;
    colour forced on or off as decided (``color_system="standard"``: 16 colours, the same bytes on every
    terminal).  Its width is ``term.width``, else ``default_width``, else rich's own reading of the
    terminal (``COLUMNS`` first, then the terminal's size, else 80).  ``soft_wrap=True`` leaves long lines
    to the terminal (lint: a finding stays one line for editors and grep).

``term.capture(draw, *, soft_wrap=False, default_width=None)``
    Runs ``draw(console)`` on a console writing to a string and returns the string (``lint``, ``rules``).

``term.columns(*, fallback=80, lo=None, hi=None, tty_only=False)``
    The width a plain-text renderer wraps to (``status``, ``fleet``, progress lines): ``term.width`` when
    given, else the terminal's (``shutil.get_terminal_size``: ``COLUMNS`` first), clamped to
    ``[lo, hi]``; ``fallback`` when nothing says, or, with ``tty_only``, when ``stream`` is not a terminal.

``Terminal.stderr_console()``
    A rich ``Console`` on stderr for a live progress display (``fleet --progress``): not output, so no
    ``--color`` applies; rich's own terminal detection decides, and rich honours ``NO_COLOR`` itself.

``term.style(text, *, fg=None, bold=False, dim=False, underline=False)``
    ``text`` in ANSI colour (``click.style``) when colour is on, else unchanged: colour for renderers that
    build plain strings (``textwrap``) rather than rich ``Text``.

:func:`use_color` is the colour rule alone.  Nothing here imports rich or click at module level.
"""

from __future__ import annotations

import io
import os
import sys
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from rich.console import Console
    from rich.text import Text

__all__ = ["COLOR_CHOICES", "Terminal", "make_console", "paragraph", "use_color"]

COLOR_CHOICES = ("auto", "always", "never")


def use_color(choice: str, stream: IO[str] | None = None, environ: Mapping[str, str] | None = None) -> bool:
    """Whether to colour: ``always``/``never`` as said; ``auto`` when ``stream`` (default ``sys.stdout``) is a
    terminal and NO_COLOR is unset or empty."""
    if choice == "always":
        return True
    if choice == "never":
        return False
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    return _isatty(sys.stdout if stream is None else stream)


def _isatty(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class Terminal:
    """Width and colour, decided once per command; the factory of the rich Consoles that print them.

    A plain class (no dataclass): built on every text run, and a dataclass costs import time.
    """

    __slots__ = ("color", "stream", "width")

    def __init__(self, *, color: bool = False, width: int | None = None, stream: IO[str] | None = None) -> None:
        self.color = color
        self.width = width
        self.stream = stream  # None: sys.stdout, read when asked

    def __repr__(self) -> str:
        return f"Terminal(color={self.color!r}, width={self.width!r})"

    @classmethod
    def from_options(cls, color: str = "auto", width: int | None = None, *, stream: IO[str] | None = None,
                     environ: Mapping[str, str] | None = None, to_file: bool = False) -> Terminal:
        """The terminal a command's ``--color`` and ``--width`` describe (see the module docstring)."""
        on = False if to_file and color == "auto" else use_color(color, stream, environ)
        return cls(color=on, width=width, stream=stream)

    def console(self, file: IO[str] | None = None, *, soft_wrap: bool = False, default_width: int | None = None,
                stderr: bool = False) -> Console:
        """A rich Console printing to ``file`` (default: stdout, or stderr with ``stderr``) as decided."""
        from rich.console import Console

        return Console(width=self.width or default_width, file=file, stderr=stderr, markup=False, highlight=False,
                       emoji=False, soft_wrap=soft_wrap, force_terminal=self.color, no_color=not self.color,
                       color_system="standard" if self.color else None)

    @staticmethod
    def stderr_console() -> Console:
        """A rich Console on stderr that detects the terminal itself, for progress displays."""
        from rich.console import Console

        return Console(stderr=True)

    def capture(self, draw: Callable[[Console], None], *, soft_wrap: bool = False,
                default_width: int | None = None) -> str:
        """What ``draw`` prints on a console of this terminal, as a string."""
        buf = io.StringIO()
        draw(self.console(buf, soft_wrap=soft_wrap, default_width=default_width))
        return buf.getvalue()

    def columns(self, *, fallback: int = 80, lo: int | None = None, hi: int | None = None,
                tty_only: bool = False) -> int:
        """The width plain text wraps to: ``--width``, else the terminal's within ``[lo, hi]``, else ``fallback``."""
        if self.width is not None:
            return self.width
        if tty_only and not _isatty(sys.stdout if self.stream is None else self.stream):
            return fallback
        import shutil

        n = shutil.get_terminal_size((fallback, 24)).columns
        if lo is not None:
            n = max(n, lo)
        if hi is not None:
            n = min(n, hi)
        return n

    def style(self, text: str, *, fg: str | None = None, bold: bool = False, dim: bool = False,
              underline: bool = False) -> str:
        """``text`` with ANSI colour when colour is on (``click.style``), else ``text`` itself."""
        if not self.color:
            return text
        import click

        return click.style(text, fg=fg, bold=bold or None, dim=dim or None, underline=underline or None)


def make_console(*, width: int | None = None, color: str = "auto", file: IO[str] | None = None) -> Console:
    """Shorthand: ``Terminal.from_options(color, width, stream=file).console(file)``."""
    return Terminal.from_options(color, width, stream=file).console(file)


def paragraph(con: Console, text: Text | str, indent: int = 2, hang: int = 0) -> None:
    """Print ``text`` wrapped to the console: every line indented by ``indent``, continuation lines ``hang``
    more (a list item's text lines up under its first word); no trailing blanks; a word longer than a line
    is folded, never cut."""
    from rich.text import Text

    t = text if isinstance(text, Text) else Text(text)
    for k, line in enumerate(t.wrap(con, max(20, con.width - indent - hang), overflow="fold")):
        line.rstrip()
        con.print(Text(" " * (indent + (hang if k else 0))) + line, soft_wrap=True)
