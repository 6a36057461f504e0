"""Errors crashplan raises on purpose.

Everything the kernel would *do* with a command line is data (``crashplan.kernel.Outcome``), never
an exception.  Exceptions are for input crashplan itself cannot read: a malformed memory map, an
unreadable file, a garbled YAML document.  Each carries where the problem is, so the command line
can print one line naming the file, the position and what was expected.
"""

from __future__ import annotations

__all__ = ["ConfigError", "CrashplanError", "InputError"]


class CrashplanError(Exception):
    """Base class of every error crashplan raises on purpose."""


class InputError(CrashplanError):
    """Input that cannot be read: ``path:line:column: message``.

    ``path`` is the file (or ``<stdin>``, ``/proc/iomem`` …), ``line`` and ``column`` are 1-based
    and optional.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.column = column

    def with_path(self, path: str) -> InputError:
        """The same error, naming ``path`` (readers are pure and may not know the file name)."""
        return InputError(self.message, path=path, line=self.line, column=self.column)

    def __str__(self) -> str:
        where = [str(p) for p in (self.path, self.line, self.column) if p is not None]
        return ":".join(where) + ": " + self.message if where else self.message


class ConfigError(CrashplanError):
    """An invalid crashplan configuration (lint profile, options)."""
