"""Diagnoses of a kernel command line: what will go wrong with ``crashkernel=``, in plain words.

Pure: a command line and the targets it must work for (release, architecture, RAM) go in, a list of
``Diagnosis`` comes out.  ``crashplan check`` prints them for one target; ``crashplan lint`` turns them
into findings for every target of a profile.  Each code is one gotcha of kernel-semantics §9 that
needs no memory map; codes are stable and never reused:

* ``CK1xx`` the kernel rejects the value or reserves nothing: kdump is disabled;
* ``CK2xx`` the kernel accepts it, but not as the writer probably meant;
* ``CK3xx`` (from the simulator) the reservation does not fit the machine.

A diagnosis carries the span of the offending text (character offsets into the command line) and,
where one safe correction exists, the whole corrected command line (``fix``).

The package, by layer: ``model`` (the data), ``codes`` (every code with its examples), ``tokens`` (how the
kernel's raw search sees the line), ``collect`` (merging across targets, fixes every target accepts),
``core`` (``diagnose``), ``rejected`` (CK1xx: nothing is reserved), ``accepted`` (CK2xx).
"""

from __future__ import annotations

from .codes import CODES
from .collect import fix_accepted, format_ram
from .core import diagnose
from .model import ERROR, INFO, WARNING, CodeInfo, Diagnosis, Target
from .tokens import CrashToken, Misspelt, crash_tokens, kernel_view, looks_like_crashkernel, misspellings

__all__ = [
    "CODES",
    "ERROR",
    "INFO",
    "WARNING",
    "CodeInfo",
    "CrashToken",
    "Diagnosis",
    "Misspelt",
    "Target",
    "crash_tokens",
    "diagnose",
    "fix_accepted",
    "format_ram",
    "kernel_view",
    "looks_like_crashkernel",
    "misspellings",
]
