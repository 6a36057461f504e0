"""The machine file format: its version, its limits and the keys of each section (docs/machine-format.md).

What each key holds is checked by :mod:`~crashplan.memmap.machine.load` and written by
:mod:`~crashplan.memmap.machine.dump`; both follow these tables.
"""

from __future__ import annotations

import re
from typing import Any

SCHEMA = "crashplan/machine@1"
MAX_DOCUMENT_CHARS = 4 << 20  # a 1 TiB host with thousands of spans is a few hundred KiB
MAX_DEPTH = 32  # the format itself needs 4
MEM_ENCRYPT = ("sev", "tdx", "sme")
SCHEMA_RE = re.compile(r"crashplan/machine@(\d+)\Z")
CONFIG_KEY = re.compile(r"CONFIG_[A-Z0-9_]+\Z")
FACT_KEY = re.compile(r"[a-z][a-z0-9_]*\Z")
MEMORY_KINDS = ("ram", "reserved", "nomap", "other", "crash")

TOP_KEYS = {
    "schema": None, "name": None, "provenance": None, "arch": None, "kernel": None, "cmdline": None,
    "system_ram": None, "page_size": None, "cpus": None, "swiotlb_size": None, "mem_encrypt": None,
    "kaslr": None, "dma_limit": None, "fadump": None, "memory": None, "reservation": None,
    "kdump": None, "boot_facts": None, "notes": None,
}
MEMORY_KEYS = {"source": None, "layout": None, **dict.fromkeys(MEMORY_KINDS)}
SPAN_KEYS = {"start": None, "end": None, "size": None, "name": None}
RESERVATION_KEYS = {"kexec_crash_size": None, "crash_cma_ranges": None}

# kdump: section — key -> kind ("size", "int", "bool", "str", or a nested table)
KDUMP_KEYS: dict[str, Any] = {
    "kernel_image": {"path": "str", "image_size": "size", "init_size": "size"},
    "initrd": {"path": "str", "size": "size", "unpacked_size": "size"},
    "dump_level": "dump_level",
    "collector": "str",
    "kexec_file_load": "bool",
    "luks_memory": "size",
    "nr_cpus": "count",
    "kernel_config": "config",
    "platform": {"mlx5": "bool", "smmu": "bool", "page_size": "page_size"},
}

# boot facts the simulator computes with (crashplan/simulate.py): they must be numbers
NUMERIC_FACTS = frozenset({"kernel_image", "initrd_size", "va_bits", "rma_size", "kernel_rodata_span"})

# the build options crashplan decides on (crashplan.readiness, crashplan.sizing): y or n only
BOOL_OPTIONS = frozenset({"CONFIG_CMA", "CONFIG_KEXEC", "CONFIG_KEXEC_FILE", "CONFIG_CRASH_DUMP",
                          "CONFIG_CRASH_RESERVE", "CONFIG_CRASH_CORE", "CONFIG_PROC_VMCORE"})
