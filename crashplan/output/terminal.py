"""The terminal ``check`` and ``suggest`` print to: width, colour, ``NO_COLOR`` and ``--color``.

``--color auto`` (the default, spelt as ``crashplan lint`` spells it) colours only a terminal, and
never when ``NO_COLOR`` is set (https://no-color.org); ``always`` and ``never`` force it.  The width is
``--width`` when given, else the terminal's (``COLUMNS`` first, as rich reads it), else 80.

:func:`use_color` is plain Python; :func:`make_console` imports rich, so only text output pays for it.
"""

from __future__ import annotations

import os
import sys
from typing import IO, Any

__all__ = ["COLOR_CHOICES", "make_console", "use_color"]

COLOR_CHOICES = ("auto", "always", "never")


def use_color(choice: str, stream: IO[str] | None = None, environ: dict[str, str] | None = None) -> bool:
    """Whether to colour: ``always``/``never`` as said; ``auto`` when ``stream`` is a terminal and NO_COLOR
    is unset or empty."""
    if choice == "always":
        return True
    if choice == "never":
        return False
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    s = sys.stdout if stream is None else stream
    try:
        return bool(s.isatty())
    except (AttributeError, ValueError):
        return False


def make_console(*, width: int | None = None, color: str = "auto", file: IO[str] | None = None) -> Any:
    """A rich Console for the text renderers: no markup, no highlighting, no emoji, hard-wrapped lines."""
    from rich.console import Console

    on = use_color(color, file)
    return Console(width=width, file=file, markup=False, highlight=False, emoji=False, soft_wrap=False,
                   force_terminal=on, no_color=not on, color_system="standard" if on else None)
