"""The capture kernel's in-memory size, read from the first bytes of its image file.

What counts for a crash reservation is not the size of ``vmlinuz`` on disk but the memory the kernel
occupies once loaded, which is what ``kexec_file_load`` reserves for it:

``bzImage`` (x86)
    ``arch/x86/kernel/kexec-bzimage64.c:bzImage64_load()`` loads the protected-mode part into a
    buffer of ``PAGE_ALIGN(init_size)`` aligned to ``kernel_alignment``, not below ``pref_address``
    (boot protocol ≥ 2.10, Documentation/arch/x86/boot.rst).  ``init_size`` covers the decompressed
    kernel including bss and the decompressor's work area.
arm64 ``Image``
    ``arch/arm64/kernel/kexec_image.c:image_load()`` loads ``image_size + text_offset`` bytes at a
    2 MiB (``MIN_KIMG_ALIGN``) boundary; ``image_size`` of 0 (kernels before 3.17) is refused.
    Flags (Documentation/arch/arm64/booting.rst): bit 0 big-endian, bits 1-2 page size (1 = 4K,
    2 = 16K, 3 = 64K), bit 3 placement anywhere.
RISC-V ``Image``
    ``arch/riscv/kernel/kexec_image.c``: ``image_size`` at a ``PMD_SIZE`` (2 MiB) boundary.
ELF ``vmlinux``
    the sum of the ``PT_LOAD`` segments' ``p_memsz`` (what ``kdumpctl estimate`` uses); powerpc's
    ``kexec_file_load`` loads ELF kernels this way.

An EFI zboot image (``MZ`` + ``zimg``, ``drivers/firmware/efi/libstub/zboot-header.S``) or a wholly
compressed file (``Image.gz`` …) is *not* the kernel: its size on disk says nothing about the memory
the kernel needs.  When the compressed payload starts inside the bytes given and is gzip, xz, lzma or
bzip2, the real header is read from its decompressed start; zstd, lz4 and lzo cannot be read with
the standard library and are reported as such.  Everything here is a pure function of bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from crashplan.units import MiB

__all__ = ["COMPRESSION_MAGICS", "HEAD_BYTES", "KernelImage", "compression_of", "read_kernel_image"]

# how much of the file the reader wants: the x86 kernel_version string sits near 17 KiB, a zboot
# payload starts after the EFI decompressor stub (~100-300 KiB)
HEAD_BYTES = 1 << 20


# lib/decompress.c compressed_formats[] (two-byte magics the kernel recognises), plus the longer
# magics used to name whole compressed files
COMPRESSION_MAGICS: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip"),
    (b"\x1f\x9e", "gzip"),
    (b"BZh", "bzip2"),
    (b"\x5d\x00", "lzma"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x89LZO", "lzo"),
    (b"\x02\x21\x4c\x18", "lz4"),  # lz4 legacy frame (what the kernel's unlz4 reads)
    (b"\x04\x22\x4d\x18", "lz4"),  # lz4 frame format
    (b"\x28\xb5\x2f\xfd", "zstd"),
)

_ARM64_MAGIC = b"ARM\x64"
_RISCV_MAGIC2 = b"RSC\x05"
_RISCV_MAGIC = b"RISCV\x00\x00\x00"
_ZBOOT_TYPE = b"zimg"


@dataclass(frozen=True, slots=True, kw_only=True)
class KernelImage:
    """What the image header says.  ``mem_size`` is None when it cannot be known from these bytes."""

    format: str  # "bzImage", "arm64-Image", "riscv-Image", "elf", "zboot", "compressed", "unknown"
    arch: str | None = None  # canonical arch when the format tells it
    file_size: int | None = None
    mem_size: int | None = None  # what kexec_file_load reserves for the kernel (bytes)
    mem_size_source: str | None = None  # "init_size", "image_size", "PT_LOAD"
    align: int | None = None  # alignment of the kernel segment
    pref_address: int | None = None
    relocatable: bool | None = None
    min_alignment: int | None = None
    protocol: str | None = None  # x86 boot protocol "2.15"
    xloadflags: int | None = None
    text_offset: int | None = None
    page_size: int | None = None  # arm64 flags; None = unspecified
    big_endian: bool | None = None
    phys_anywhere: bool | None = None
    compression: str | None = None  # of the payload (bzImage, zboot) or of the whole file
    version: str | None = None  # the kernel_version string (x86) when within the bytes
    inner: KernelImage | None = None  # header read from the decompressed payload
    notes: tuple[str, ...] = field(default=())

    @property
    def effective(self) -> KernelImage:
        """The image that carries the in-memory size: ``inner`` for zboot/compressed files."""
        return self.inner if self.inner is not None else self

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "format": self.format,
            "arch": self.arch,
            "file_size": self.file_size,
            "mem_size": self.mem_size,
            "mem_size_source": self.mem_size_source,
            "align": self.align,
            "compression": self.compression,
            "version": self.version,
            "notes": list(self.notes),
        }
        for k in ("pref_address", "relocatable", "min_alignment", "protocol", "xloadflags", "text_offset",
                  "page_size", "big_endian", "phys_anywhere"):
            v = getattr(self, k)
            if v is not None:
                out[k] = v
        if self.inner is not None:
            out["inner"] = self.inner.as_dict()
        return out


def compression_of(data: bytes) -> str | None:
    """The compression whose magic ``data`` starts with (lib/decompress.c), or None."""
    for magic, name in COMPRESSION_MAGICS:
        if data.startswith(magic):
            return name
    return None


def read_kernel_image(data: bytes, *, file_size: int | None = None) -> KernelImage:
    """Read the header of a kernel image from its first bytes (``HEAD_BYTES`` are plenty).

    ``file_size`` is the size of the whole file when ``data`` is only its start.  Never raises on
    any input: what cannot be read is said in ``notes`` and ``mem_size`` stays None.
    """
    size = file_size if file_size is not None else len(data)
    if len(data) >= 0x264 and data[0x202:0x206] == b"HdrS":
        return _bzimage(data, size)
    if len(data) >= 64 and data[0:2] == b"MZ" and data[4:8] == _ZBOOT_TYPE:
        return _zboot(data, size)
    if len(data) >= 64 and data[56:60] == _ARM64_MAGIC:
        return _arm64(data, size)
    if len(data) >= 64 and (data[56:60] == _RISCV_MAGIC2 or data[48:56] == _RISCV_MAGIC):
        return _riscv(data, size)
    if data[:4] == b"\x7fELF":
        return _elf(data, size)
    comp = compression_of(data)
    if comp is not None:
        return _compressed(data, size, comp)
    if not data:
        return KernelImage(format="unknown", file_size=size, notes=("empty file",))
    return KernelImage(
        format="unknown", file_size=size,
        notes=(("not a bzImage (no 'HdrS' at 0x202), arm64/RISC-V Image, EFI zboot, ELF or compressed "
               "kernel: its in-memory size is unknown"),),
    )


def _u(data: bytes, fmt: str, off: int) -> int:
    return int(struct.unpack_from(fmt, data, off)[0])


def _bzimage(data: bytes, size: int) -> KernelImage:
    """Documentation/arch/x86/boot.rst: the real-mode header at 0x1f1."""
    notes: list[str] = []
    version = _u(data, "<H", 0x206)
    proto = f"{version >> 8}.{version & 0xff:02d}"
    boot_flag = _u(data, "<H", 0x1FE)
    if boot_flag != 0xAA55:
        notes.append(f"boot_flag is {boot_flag:#06x}, not 0xaa55: kexec_file_load refuses it "
                     "(\"No x86 boot sector present\")")
    setup_sects = data[0x1F1] or 4
    loadflags = data[0x211]
    align = relocatable = min_align = xlf = pref = None
    init_size: int | None = None
    if version >= 0x0205:
        align = _u(data, "<I", 0x230)
        relocatable = bool(data[0x234])
    if version >= 0x020A:
        min_align = 1 << data[0x235]
        pref = _u(data, "<Q", 0x258)
        init_size = _u(data, "<I", 0x260)
    if version >= 0x020C:
        xlf = _u(data, "<H", 0x236)
    if version < 0x020C:
        notes.append(f"boot protocol {proto} < 2.12: kexec_file_load needs 2.12 "
                     "(\"Must be at least protocol version 2.12\")")
    if not loadflags & 1:
        notes.append("LOADED_HIGH is not set: a zImage, not a bzImage")
    if xlf is not None and not xlf & 1:
        notes.append("XLF_KERNEL_64 is not set: not a 64-bit kernel (kexec_file_load: \"Not a bzImage64\")")
    if relocatable is False:
        notes.append("not relocatable: the capture kernel must be built for the reservation's address")
    comp = None
    if version >= 0x0208:
        payload_offset = _u(data, "<I", 0x248)
        start = (setup_sects + 1) * 512 + payload_offset
        if start + 8 <= len(data):
            comp = compression_of(data[start:start + 8])
    kver = None
    ptr = _u(data, "<H", 0x20E)
    if ptr:
        off = ptr + 0x200
        if off < len(data):
            raw = data[off:off + 256].split(b"\0", 1)[0]
            kver = raw.decode("ascii", "replace") or None
    mem = None
    if init_size:
        mem = (init_size + 4095) & ~4095
    else:
        notes.append("boot protocol < 2.10 has no init_size: the in-memory size is unknown")
    return KernelImage(
        format="bzImage", arch="x86_64" if xlf is not None and xlf & 1 else None, file_size=size, mem_size=mem,
        mem_size_source="init_size" if mem else None, align=align, pref_address=pref, relocatable=relocatable,
        min_alignment=min_align, protocol=proto, xloadflags=xlf, compression=comp, version=kver, notes=tuple(notes),
    )


_ARM64_PAGE = {0: None, 1: 4096, 2: 16384, 3: 65536}


def _arm64(data: bytes, size: int) -> KernelImage:
    """Documentation/arch/arm64/booting.rst: the 64-byte Image header (little-endian fields)."""
    text_offset = _u(data, "<Q", 8)
    image_size = _u(data, "<Q", 16)
    flags = _u(data, "<Q", 24)
    notes: list[str] = []
    be = bool(flags & 1)
    page = _ARM64_PAGE[(flags >> 1) & 3]
    anywhere = bool(flags & 8)
    mem = None
    if image_size == 0:
        notes.append("image_size is 0 (a kernel before 3.17): kexec_file_load refuses it and the in-memory size "
                     "is unknown")
    else:
        mem = image_size + text_offset
    if page is None:
        notes.append("page size unspecified in the header flags")
    return KernelImage(
        format="arm64-Image", arch="arm64", file_size=size, mem_size=mem, mem_size_source="image_size" if mem else None,
        align=2 * MiB, text_offset=text_offset, page_size=page, big_endian=be, phys_anywhere=anywhere,
        notes=tuple(notes),
    )


def _riscv(data: bytes, size: int) -> KernelImage:
    """Documentation/arch/riscv/boot-image-header.rst: same layout as arm64 up to image_size."""
    text_offset = _u(data, "<Q", 8)
    image_size = _u(data, "<Q", 16)
    notes: list[str] = []
    mem = image_size or None
    if not image_size:
        notes.append("image_size is 0: the in-memory size is unknown")
    return KernelImage(
        format="riscv-Image", arch="riscv64", file_size=size, mem_size=mem,
        mem_size_source="image_size" if mem else None,
        align=2 * MiB, text_offset=text_offset, notes=tuple(notes),
    )


_ELF_MACHINE = {62: "x86_64", 183: "arm64", 243: "riscv64", 21: "ppc64le", 22: "s390x", 258: "loongarch64"}


def _elf(data: bytes, size: int) -> KernelImage:
    """ELF64/ELF32 program headers: the sum of PT_LOAD p_memsz."""
    if len(data) < 52:
        return KernelImage(format="elf", file_size=size, notes=("truncated ELF header",))
    cls, enc = data[4], data[5]
    end = "<" if enc == 1 else ">"
    machine = _u(data, end + "H", 18)
    arch = _ELF_MACHINE.get(machine)
    if machine == 21 and enc == 2:
        arch = "ppc64"
    if cls == 2:
        if len(data) < 64:
            return KernelImage(format="elf", arch=arch, file_size=size, notes=("truncated ELF header",))
        phoff = _u(data, end + "Q", 32)
        phentsize = _u(data, end + "H", 54)
        phnum = _u(data, end + "H", 56)
        ph_fmt = end + "IIQQQQQQ"
    else:
        phoff = _u(data, end + "I", 28)
        phentsize = _u(data, end + "H", 42)
        phnum = _u(data, end + "H", 44)
        ph_fmt = end + "IIIIIIII"
    need = phoff + phentsize * phnum
    if phnum == 0:
        return KernelImage(format="elf", arch=arch, file_size=size, notes=("no program headers",))
    if need > len(data) or phentsize < struct.calcsize(ph_fmt):
        return KernelImage(format="elf", arch=arch, file_size=size,
                           notes=(f"the program headers end at byte {need}, beyond the {len(data)} bytes read",))
    total = 0
    loads = 0
    for i in range(phnum):
        f = struct.unpack_from(ph_fmt, data, phoff + i * phentsize)
        if cls == 2:
            p_type, memsz = f[0], f[6]
        else:
            p_type, memsz = f[0], f[5]
        if p_type == 1:  # PT_LOAD
            total += memsz
            loads += 1
    notes: list[str] = []
    if arch == "x86_64":
        notes.append("an x86 vmlinux: kexec_file_load loads only bzImage; the PT_LOAD sum approximates init_size "
                     "from below")
    return KernelImage(
        format="elf", arch=arch, file_size=size, mem_size=total or None, mem_size_source="PT_LOAD" if total else None,
        notes=(*notes, f"{loads} PT_LOAD segments"),
    )


def _peek_decompress(payload: bytes, comp: str, want: int = 4096) -> bytes | None:
    """The first ``want`` decompressed bytes of ``payload``, or None when the codec is not in the stdlib."""
    try:
        if comp == "gzip" and payload[:2] == b"\x1f\x8b":
            import zlib

            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            return d.decompress(payload, want)
        if comp in ("xz", "lzma"):
            import lzma

            fmt = lzma.FORMAT_XZ if comp == "xz" else lzma.FORMAT_ALONE
            return lzma.LZMADecompressor(format=fmt).decompress(payload, want)
        if comp == "bzip2":
            import bz2

            return bz2.BZ2Decompressor().decompress(payload, want)
    except (OSError, EOFError, ValueError, MemoryError):
        return b""
    except Exception:  # noqa: BLE001 - zlib.error, lzma.LZMAError (imported lazily): no payload, no size
        return b""
    return None


def _zboot(data: bytes, size: int) -> KernelImage:
    """drivers/firmware/efi/libstub/zboot-header.S: 'zimg', payload offset and size, compression name."""
    offset = _u(data, "<I", 8)
    length = _u(data, "<I", 12)
    comp = data[24:56].split(b"\0", 1)[0].decode("ascii", "replace") or None
    notes = [(f"EFI zboot image: the kernel is the {comp or 'unnamed'}-compressed payload "
             f"({length} bytes at offset {offset}); the file size is not its in-memory size")]
    inner = None
    if offset >= len(data):
        notes.append(f"the payload starts beyond the {len(data)} bytes read: its header was not read")
    else:
        head = _peek_decompress(data[offset:offset + min(length, 1 << 20)], _codec(comp))
        if head is None:
            notes.append(f"unpacked size unknown ({comp}): the standard library cannot decompress {comp}; "
                         "decompress the payload and pass the Image (or its image_size) instead")
        elif len(head) < 64:
            notes.append("the payload could not be decompressed")
        else:
            inner = read_kernel_image(head)
            if inner.mem_size is not None:
                notes.append(f"read the {inner.format} header inside the payload")
    arch = inner.arch if inner is not None else None
    return KernelImage(
        format="zboot", arch=arch, file_size=size, mem_size=inner.mem_size if inner else None,
        mem_size_source=inner.mem_size_source if inner else None, align=inner.align if inner else None,
        compression=comp, inner=inner, page_size=inner.page_size if inner else None, notes=tuple(notes),
    )


def _codec(name: str | None) -> str:
    n = (name or "").lower()
    return {"gz": "gzip", "gzip": "gzip", "xzkern": "xz", "xz": "xz", "lzma": "lzma", "bzip2": "bzip2",
            "zstd22": "zstd", "zstd": "zstd", "lz4": "lz4", "lzo": "lzo"}.get(n, n)


def _compressed(data: bytes, size: int, comp: str) -> KernelImage:
    notes = [f"a {comp}-compressed file: its size on disk is not the kernel's in-memory size"]
    head = _peek_decompress(data, comp)
    inner = None
    if head is None:
        notes.append(f"unpacked size unknown ({comp}): the standard library cannot decompress {comp}; "
                     "pass the decompressed kernel instead")
    elif len(head) >= 64:
        inner = read_kernel_image(head)
        if inner.mem_size is not None:
            notes.append(f"read the {inner.format} header from the decompressed start")
        else:
            notes.append("the decompressed start is not a kernel header this reader knows")
    else:
        notes.append("could not decompress the start of the file")
    return KernelImage(
        format="compressed", arch=inner.arch if inner else None, file_size=size,
        mem_size=inner.mem_size if inner else None, mem_size_source=inner.mem_size_source if inner else None,
        align=inner.align if inner else None, compression=comp, inner=inner,
        page_size=inner.page_size if inner else None, notes=tuple(notes),
    )
