"""One crashkernel= line for a fleet: each machine replayed with its own kernel, architecture and map.

The package, pure: machines (already loaded :class:`~crashplan.memmap.model.Machine` objects) go in, verdicts and a
report come out.  Nothing here reads files or imports click, rich or yaml.

What each machine *needs* is suggest's sizing model, called exactly as ``crashplan suggest --machine
FILE`` calls it (:func:`crashplan.sizing.inputs.build_inputs` with no other sources, then
:func:`crashplan.sizing.plans.suggest` or, for the classic size alone, the same
:func:`crashplan.sizing.model.classic_budget` whose ``recommended`` size suggest's classic plan asks
for).  What a line *does* on a machine is ``crashplan check``'s :func:`crashplan.check.build_report`:
the parser port (:func:`crashplan.kernel.evaluate`) and the reservation simulator.

Identical machines (same architecture, release, command line, memory map and sizing inputs; the name,
provenance and notes aside) are sized and replayed once: :class:`Cache` keys on that content.

This module is the package's API (``crashplan fleet``, docs/fleet.md); the code lives in
:mod:`~crashplan.fleet.report` (the types, the groups and the ``crashplan/fleet@1`` document),
:mod:`~crashplan.fleet.replay` (a machine's needs and one line on one machine: ``fleet check``),
:mod:`~crashplan.fleet.planning` (``fleet plan``) and :mod:`~crashplan.fleet.render` (text and CSV).
"""

from __future__ import annotations

from crashplan.fleet.planning import effective_ram, plan, range_line, segment
from crashplan.fleet.replay import check, judge, kdump_refusal, machine_need
from crashplan.fleet.report import (
    NOT_JUDGED,
    SCHEMA,
    STATUSES,
    Cache,
    Entry,
    FleetError,
    FleetReport,
    Group,
    Need,
    Variant,
    Verdict,
    band,
    content_key,
    excluded_name,
    excluded_verdict,
    group_key,
    is_excluded,
)

__all__ = [
    "NOT_JUDGED",
    "SCHEMA",
    "STATUSES",
    "Cache",
    "Entry",
    "FleetError",
    "FleetReport",
    "Group",
    "Need",
    "Variant",
    "Verdict",
    "band",
    "check",
    "content_key",
    "effective_ram",
    "excluded_name",
    "excluded_verdict",
    "group_key",
    "is_excluded",
    "judge",
    "kdump_refusal",
    "machine_need",
    "plan",
    "range_line",
    "segment",
]
