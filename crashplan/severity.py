"""How bad a finding is: one enum and one order for diagnoses (crashplan.diagnose) and lint findings.

The values are the words JSON, SARIF and the text output carry (``"error"``, ``"warning"``, ``"info"``);
a ``Severity`` compares equal to its word, so code that holds plain strings keeps working.
"""

from __future__ import annotations

from enum import Enum
from typing import TypeVar

__all__ = ["RANK", "Severity", "worst"]


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


# most to least severe: sort keys and thresholds (``--fail-on``); keyed by the word, so a plain "error"
# finds its rank as well as Severity.ERROR does
RANK: dict[str, int] = {Severity.ERROR.value: 0, Severity.WARNING.value: 1, Severity.INFO.value: 2}


_S = TypeVar("_S", bound=str)


def worst(a: _S, b: _S) -> _S:
    """The more severe of two severities (the first one when they are equal)."""
    return a if RANK[a] <= RANK[b] else b
