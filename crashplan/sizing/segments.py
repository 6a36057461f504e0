"""Where ``kexec_file_load`` puts the capture kernel's segments inside the crash region.

A port of ``kernel/kexec_file.c`` ``kexec_add_buffer()`` → ``locate_mem_hole_top_down()`` /
``locate_mem_hole_bottom_up()`` for one crash region (a crash image's holes are searched in
``crashk_res`` only, never in the CMA ranges), with the segment order and constraints of each
architecture's loader:

x86_64 (``arch/x86/kernel/crash.c:crash_load_segments()``, ``kexec-bzimage64.c:bzImage64_load()``)
    elfcorehdr bottom-up (page aligned), purgatory top-down, boot params top-down, the kernel
    top-down at ``kernel_alignment`` with ``PAGE_ALIGN(init_size)`` bytes, the initrd top-down.
arm64 (``arch/arm64/kernel/kexec_image.c``, ``machine_kexec_file.c:load_other_segments()``)
    the kernel bottom-up at 2 MiB with ``image_size + text_offset``; everything else above it:
    elfcorehdr top-down (64 KiB aligned), the initrd bottom-up, the DTB top-down at a 2 MiB boundary.
riscv64 and others
    the kernel bottom-up, then the initrd, the DTB/boot data and the elfcorehdr (page aligned).

``kexec_add_buffer()`` rounds every segment up to whole pages and every alignment up to a page.
The region's base is taken as aligned to ``CRASH_ALIGN`` (16 MiB on x86, 2 MiB on arm64/riscv),
as the reservation code guarantees.  Pure functions; sizes in bytes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from crashplan.units import KiB, MiB

__all__ = ["PAGE", "Segment", "SegmentLayout", "crash_segments", "min_region", "place_segments"]

PAGE = 4096


@dataclass(frozen=True, slots=True)
class Segment:
    name: str
    memsz: int
    align: int = PAGE
    top_down: bool = True
    above_kernel: bool = False  # arm64: buf_min = end of the kernel segment
    excluded: bool = False  # not RAM for the capture kernel (the elfcorehdr)
    estimated: bool = False  # size not read from the inputs

    @property
    def size(self) -> int:
        return -(-self.memsz // PAGE) * PAGE


@dataclass(frozen=True, slots=True)
class SegmentLayout:
    """Where kexec put each segment inside a crash region (``place_segments``), or which one found no hole."""

    fits: bool
    placed: tuple[tuple[str, int, int], ...]  # (name, start offset, end offset) inside the region
    failed: str | None = None  # the segment that found no hole


def _overlap(placed: list[tuple[str, int, int]], start: int, end: int) -> tuple[int, int] | None:
    for _, s, e in placed:
        if s < end and start < e:
            return s, e
    return None


def place_segments(region: int, segments: tuple[Segment, ...] | list[Segment], *, base: int = 1 << 32) -> SegmentLayout:
    """Place ``segments`` in order in a region of ``region`` bytes starting at ``base``.

    ``base`` only matters for alignment; any multiple of the largest alignment gives the same answer.
    """
    placed: list[tuple[str, int, int]] = []
    start, end = base, base + region  # end exclusive
    kernel_end = start
    for seg in segments:
        size = seg.size
        align = max(seg.align, PAGE)
        buf_min = kernel_end if seg.above_kernel else start
        mem: int | None = None
        # The kernel slides one page at a time past a segment in the way; every aligned candidate
        # between here and the far side of that segment overlaps it too, so jump there directly.
        if seg.top_down:
            t = end - size
            while True:
                t -= t % align
                if t < start or t < buf_min:
                    break
                hit = _overlap(placed, t, t + size)
                if hit is not None:
                    t = min(t - PAGE, hit[0] - size)
                    continue
                mem = t
                break
        else:
            t = max(start, buf_min)
            while True:
                t = -(-t // align) * align
                if t + size > end:
                    break
                hit = _overlap(placed, t, t + size)
                if hit is not None:
                    t = max(t + PAGE, hit[1])
                    continue
                mem = t
                break
        if mem is None:
            return SegmentLayout(False, tuple((n, s - base, e - base) for n, s, e in placed), seg.name)
        placed.append((seg.name, mem, mem + size))
        if seg.name == "kernel":
            kernel_end = mem + size
    return SegmentLayout(True, tuple((n, s - base, e - base) for n, s, e in placed))


def min_region(segments: tuple[Segment, ...] | list[Segment], *, granule: int = PAGE) -> int:
    """The smallest region (a multiple of ``granule``) in which all segments load.

    Memoized: the answer depends on the segments alone, and a fleet of machines that share a kernel
    and initrd asks the same question for every RAM size (``crashplan fleet``)."""
    return _min_region(tuple(segments), granule)


@functools.lru_cache(maxsize=1024)
def _min_region(segments: tuple[Segment, ...], granule: int) -> int:
    total = sum(s.size for s in segments)
    lo = -(-total // granule) * granule
    hi = lo + sum(max(s.align, PAGE) for s in segments) + 4 * MiB
    while not place_segments(hi, segments).fits:  # pathological alignments
        hi *= 2
    size = lo
    # the answer lies within the alignment slack; step through it (a few thousand tries at most)
    step = granule
    while size < hi and not place_segments(size, segments).fits:
        size += step
    return size


def crash_segments(
    arch: str,
    *,
    kernel: int,
    kernel_align: int | None,
    initrd: int,
    elfcorehdr: int,
    cmdline_len: int = 512,
    dtb: int = 64 * KiB,
) -> tuple[Segment, ...]:
    """The kexec_file_load segments of a crash image, in the order the loader adds them."""
    if arch == "x86_64":
        # purgatory.ro's allocated sections (text, data, bss with its stack) and the boot_params
        # page with the command line, EFI runtime map and setup_data are a few KiB each
        boot_params = 4096 + cmdline_len + 30 + 2 * KiB
        segs = [
            Segment("elfcorehdr", elfcorehdr, top_down=False, excluded=True),
            Segment("purgatory", 24 * KiB, estimated=True),
            Segment("boot_params", boot_params, estimated=True),
            Segment("kernel", kernel, align=kernel_align or 2 * MiB),
        ]
        if initrd:
            segs.append(Segment("initrd", initrd))
        return tuple(segs)
    if arch == "arm64":
        segs = [
            Segment("kernel", kernel, align=2 * MiB, top_down=False),
            Segment("elfcorehdr", elfcorehdr, align=64 * KiB, above_kernel=True, excluded=True),
        ]
        if initrd:
            segs.append(Segment("initrd", initrd, top_down=False, above_kernel=True))
        segs.append(Segment("dtb", dtb + cmdline_len, align=2 * MiB, above_kernel=True, estimated=True))
        return tuple(segs)
    segs = [Segment("kernel", kernel, align=kernel_align or 2 * MiB, top_down=False)]
    if initrd:
        segs.append(Segment("initrd", initrd, top_down=False, above_kernel=True))
    segs.append(Segment("boot_data", dtb + cmdline_len + 24 * KiB, above_kernel=True, estimated=True))
    segs.append(Segment("elfcorehdr", elfcorehdr, above_kernel=True, excluded=True))
    return tuple(segs)
