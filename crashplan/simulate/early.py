"""What memblock holds before the crash reservation that the source does not list.

The map's ``reserved`` spans are read; the rest is modelled per architecture and release: the kernel
image as memblock reserves it (whole, gaps included), the page tables and early allocations above
``NODE_DATA``, and what ``crashplan.simulate.x86_64.early`` and ``crashplan.simulate.arm64.early`` add.
Every modelled span says so in its name.
"""

from __future__ import annotations

from crashplan.kernel.versions import KernelRelease
from crashplan.memmap.model import Machine, Span
from crashplan.simulate.model import is_kernel_image, ram_span_of

__all__ = ["early_allocations"]


def early_allocations(machine: Machine, arch: str, release: KernelRelease, memory: tuple[Span, ...],
                      reserved: tuple[Span, ...], *, top_known: bool = False) -> tuple[list[Span], list[str]]:
    """memblock allocations made before the crash reservation that the source does not list.

    x86 (``setup_arch``): the first MiB (``memblock_reserve(0, SZ_1M)``, 5.13+), the kernel image at
    ``CONFIG_PHYSICAL_START`` (16 MiB) when KASLR is off, page tables and ``NODE_DATA`` at the top of
    the node.  arm64 (``bootmem_init``): page tables and ``NODE_DATA`` at the top, then — before 7.0 —
    ``sparse_init()``'s ``mem_section`` roots, usemaps and the memmap buffer; qemu ``virt`` loads the
    image at RAM + 2 MiB and the initrd at RAM + min(RAM/2, 128 MiB).
    """
    notes: list[str] = []
    out: list[Span] = []
    if not memory:
        return out, notes
    exact = any(s.name.startswith("memblock:") for s in reserved)
    if exact:
        return out, notes
    have_kernel = any(is_kernel_image(s) for s in reserved)
    node_data = [s for s in reserved if s.name.startswith("NODE_DATA")]
    # /proc/iomem names the image's parts (Kernel code/rodata/data/bss); memblock reserves it whole,
    # gaps included: x86 _text … __end_of_kernel_reserve (early_reserve_memory), then the used .brk
    # (reserve_brk); arm64 _stext … _end (arm64_memblock_init)
    parts = [s for s in reserved if s.name.startswith("Kernel ")]
    if parts:
        lo, hi = min(s.start for s in parts), max(s.end for s in parts)
        out.append(Span(lo, hi, "kernel image (memblock_reserve of the whole image)"))
        if arch == "x86_64":
            from crashplan.simulate.x86_64 import X86_BRK_ESTIMATE

            out.append(Span(hi, hi + X86_BRK_ESTIMATE, "kernel brk (estimated)"))

    # page tables and other top-down allocations above NODE_DATA
    for nd in node_data:
        span = ram_span_of(memory, nd.start)
        if span is not None and nd.end < span.end:
            out.append(Span(nd.end, span.end, "page tables and early allocations above NODE_DATA"))

    if arch == "x86_64":
        from crashplan.simulate import x86_64

        x86_64.early(machine, memory, reserved, have_kernel=have_kernel, node_data=bool(node_data), out=out,
                     notes=notes)
    elif arch == "arm64":
        from crashplan.simulate import arm64

        arm64.early(machine, release, memory, reserved, have_kernel=have_kernel, node_data=bool(node_data),
                    top_known=top_known, out=out, notes=notes)
    return out, notes
