"""Lines as the programs that read these files count them.

``str.splitlines`` also breaks at form feeds, vertical tabs, record separators, NEL and U+2028/9;
the shell, Kconfig, GRUB and cryptsetup end a line at ``"\\n"`` alone, and so does every line number
an editor shows.  A carriage return before the newline (a file written on Windows) is dropped.
"""

from __future__ import annotations


def split_lines(text: str) -> list[str]:
    """``text`` cut at ``"\\n"``, without the CR of a CRLF and without the empty line after a final newline."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [s.removesuffix("\r") for s in lines]
