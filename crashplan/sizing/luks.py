"""LUKS keyslot memory from ``cryptsetup luksDump`` text: what unlocking the dump target costs.

A LUKS2 keyslot protected by argon2i/argon2id needs its "Memory:" (KiB) while the key is derived,
in the capture kernel's userspace.  kdump-utils (kdumpctl ``do_estimate``) takes the largest keyslot
of each device and adds a cryptsetup overhead of 20 MiB (50 MiB on aarch64); SUSE's calibrate sums
all keyslots.  crashplan takes the largest, as cryptsetup tries keyslots one at a time.  LUKS1 and
pbkdf2 keyslots need no such memory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from crashplan.errors import InputError
from crashplan.textlines import split_lines

__all__ = ["LuksInfo", "parse_luks_dump"]

_SLOT2 = re.compile(r"^\s{2}(\d+): luks2\s*$")
_MEM = re.compile(r"^\s+Memory:\s+(\d+)\s*$")
_PBKDF = re.compile(r"^\s+PBKDF:\s+(\S+)\s*$")


@dataclass(frozen=True, slots=True)
class LuksInfo:
    version: int
    keyslots: tuple[tuple[int, str, int | None], ...]  # (slot, pbkdf, memory KiB)

    @property
    def max_memory(self) -> int:
        """Bytes: the largest keyslot memory (0 for LUKS1/pbkdf2)."""
        mems = [m for _, _, m in self.keyslots if m]
        return max(mems) * 1024 if mems else 0

    @property
    def sum_memory(self) -> int:
        return sum(m for _, _, m in self.keyslots if m) * 1024


def parse_luks_dump(text: str, *, path: str | None = None) -> LuksInfo:
    """Parse ``cryptsetup luksDump DEVICE`` output (LUKS1 or LUKS2)."""
    if "LUKS header information" not in text:
        raise InputError("not 'cryptsetup luksDump' output (no 'LUKS header information' line)", path=path, line=1)
    version = 0
    header = 0
    for lineno, line in enumerate(split_lines(text), 1):
        if not header and "LUKS header information" in line:
            header = lineno
        m = re.match(r"^Version:\s+(\d+)", line)
        if m:
            version = int(m.group(1))
            if version not in (1, 2):
                raise InputError(f"luksDump: expected 'Version: 1' or 'Version: 2', not version {m.group(1)}",
                                 path=path, line=lineno)
            break
    if not version:
        raise InputError("luksDump: expected a 'Version: 1' or 'Version: 2' line after the header",
                         path=path, line=header or 1)
    slots: list[tuple[int, str, int | None]] = []
    if version == 1:
        for line in split_lines(text):
            m = re.match(r"^Key Slot (\d+): ENABLED", line)
            if m:
                slots.append((int(m.group(1)), "pbkdf2", None))
        return LuksInfo(1, tuple(slots))
    in_keyslots = False
    cur: tuple[int, str, int | None] | None = None  # the slot being read: number, PBKDF, memory (KiB)
    for lineno, line in enumerate(split_lines(text), 1):
        if line.startswith("Keyslots:"):
            in_keyslots = True
            continue
        if in_keyslots and line and not line[0].isspace():
            break  # the next section (Tokens:, Digests:)
        if not in_keyslots:
            continue
        m = _SLOT2.match(line)
        if m:
            if cur is not None:
                slots.append(cur)
            cur = (int(m.group(1)), "?", None)
            continue
        if cur is None:
            continue
        m = _PBKDF.match(line)
        if m:
            cur = (cur[0], m.group(1), cur[2])
            continue
        m = _MEM.match(line)
        if m:
            cur = (cur[0], cur[1], int(m.group(1)))
            continue
        if line.strip().startswith("Memory:"):
            raise InputError("luksDump: 'Memory:' without a number of KiB", path=path, line=lineno)
    if cur is not None:
        slots.append(cur)
    return LuksInfo(2, tuple(slots))
