"""Machine files: a versioned YAML description of a machine to plan for (``schema: crashplan/machine@1``).

The format is documented in ``docs/machine-format.md``; this package is its only reader and writer:

* :func:`load_machine` reads one document into a :class:`~crashplan.memmap.model.Machine`.  It is
  strict: unknown keys, wrong types, overlapping RAM, spans outside RAM, unknown schema versions,
  YAML aliases, deep nesting and oversized documents are all :class:`InputError` naming the file,
  the line and the column of the offending node.  Nothing else is ever raised.
* :func:`dump_machine` writes a Machine back; ``load_machine(dump_machine(m)) == m`` for every
  machine ``load_machine`` returns (and for those :mod:`crashplan.memmap.iomem` and the host probe
  build).

yaml is imported inside :func:`load_machine` only, so nothing else pays for it.  The loader never
constructs Python objects from the document beyond plain scalars: the document is *composed* into
nodes and walked (:mod:`~crashplan.memmap.machine.nodes`), which keeps the node positions for
messages and makes alias bombs impossible (aliases are refused before composition, while scanning).

Conventions (kernel-semantics uses the same ones): ranges are half-open, ``end`` is exclusive;
sizes are bytes, written as integers, hex (``0x1000``) or with a binary unit (``16G``, ``512M``).

The package: :mod:`~crashplan.memmap.machine.schema` (the format's keys and limits),
:mod:`~crashplan.memmap.machine.nodes` (the YAML side), :mod:`~crashplan.memmap.machine.load` (into a
Machine) and :mod:`~crashplan.memmap.machine.dump` (back to text).
"""

from __future__ import annotations

from crashplan.memmap.machine.dump import dump_machine
from crashplan.memmap.machine.load import load_machine
from crashplan.memmap.machine.schema import KDUMP_KEYS, MAX_DEPTH, MAX_DOCUMENT_CHARS, MEM_ENCRYPT, SCHEMA

__all__ = [
    "KDUMP_KEYS",
    "MAX_DEPTH",
    "MAX_DOCUMENT_CHARS",
    "MEM_ENCRYPT",
    "SCHEMA",
    "dump_machine",
    "load_machine",
]
