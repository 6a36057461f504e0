"""Finding severities, most severe first: one order for diagnose and lint."""

from __future__ import annotations

from enum import Enum

__all__ = ["Severity", "RANK"]


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    def __str__(self) -> str:
        return self.value


RANK: dict[str, int] = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
