"""Fleets: one crashkernel= line, planned and proven on every machine (``crashplan fleet``).

Pure core (no click, rich or yaml): see :mod:`crashplan.fleet.core` and docs/fleet.md.
"""

from __future__ import annotations

from crashplan.fleet.core import (
    NOT_JUDGED,
    SCHEMA,
    STATUSES,
    Cache,
    Entry,
    FleetError,
    FleetReport,
    Need,
    Verdict,
    check,
    judge,
    kdump_refusal,
    machine_need,
    plan,
)

__all__ = ["NOT_JUDGED", "SCHEMA", "STATUSES", "Cache", "Entry", "FleetError", "FleetReport", "Need", "Verdict",
           "check", "judge", "kdump_refusal", "machine_need", "plan"]
