"""The kdump initrd: its size, its unpacked size, and what is in it — read the way the kernel reads it.

``init/initramfs.c:unpack_to_rootfs()`` walks the image as a sequence of layers: an uncompressed
``newc``/``crc`` cpio archive (``070701``/``070702``) at a 4-byte boundary, NUL padding, or a
compressed stream recognised by its two-byte magic (``lib/decompress.c``: gzip, bzip2, lzma, xz,
lzo, lz4, zstd) whose content is again cpio archives and padding (``flush_buffer()``).  Each archive
ends with ``TRAILER!!!``.  A typical distribution initrd is an early, uncompressed microcode cpio
followed by the compressed main archive.

Everything is unpacked into the rootfs, which is tmpfs when the kernel has ``CONFIG_TMPFS`` (and no
``root=`` forces ramfs): the memory that matters is the file data, page by page.  ``tmpfs_bytes`` is
that figure (each regular file rounded up to whole pages, symlinks of 128 bytes or more take a
page: ``mm/shmem.c`` ``SHORT_SYMLINK_LEN``); ``cpio_bytes`` is the uncompressed archive stream, the
figure people usually call "unpacked size".

The reader streams: it never holds more than one chunk of input and one of output, whatever the
size of the image.  gzip, bzip2, xz and lzma are decompressed with the standard library; zstd, lz4
and lzo are recognised by their magic and reported as "unpacked size unknown (zstd)", as the
standard library of Python 3.10/3.11 has no decoder for them.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

__all__ = ["STDLIB_CODECS", "InitrdInfo", "InitrdLayer", "read_initrd"]

STDLIB_CODECS = frozenset({"gzip", "bzip2", "xz", "lzma"})

_CHUNK = 1 << 16
_OUT = 1 << 18
_HEADER = 110
_TRAILER = "TRAILER!!!"
_S_IFMT = 0o170000
_S_IFREG = 0o100000
_S_IFLNK = 0o120000
_SHORT_SYMLINK_LEN = 128
_PATH_MAX = 4096


@dataclass(frozen=True, slots=True)
class InitrdLayer:
    """One layer of the image, as unpack_to_rootfs() meets it."""

    kind: str  # "cpio" (uncompressed archives), "padding", "compressed"
    offset: int  # where it starts in the file
    packed_size: int | None  # bytes of the file it covers; None = the rest of the file, end unknown
    unpacked_size: int | None  # uncompressed bytes (cpio and padding: = packed_size); None = unknown
    compression: str | None = None
    archives: int = 0  # cpio archives (TRAILER!!!) inside
    entries: int = 0
    file_bytes: int = 0
    note: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind, "offset": self.offset, "packed_size": self.packed_size,
            "unpacked_size": self.unpacked_size, "compression": self.compression, "archives": self.archives,
            "entries": self.entries, "file_bytes": self.file_bytes, "note": self.note,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class InitrdInfo:
    size: int  # the file, as kexec loads it
    layers: tuple[InitrdLayer, ...]
    cpio_bytes: int | None  # uncompressed archive bytes; None when a layer could not be read
    file_bytes: int | None  # regular-file data
    tmpfs_bytes: int | None  # what the files occupy in the rootfs tmpfs (whole pages)
    entries: int
    page_size: int = 4096
    unreadable: tuple[str, ...] = ()  # compressions whose content is unknown ("zstd" …)
    features: frozenset[str] = frozenset()
    modules: int = 0
    module_bytes: int = 0  # .ko data as stored (compressed .ko.xz/.ko.zst counted as stored)
    largest: tuple[tuple[str, int], ...] = ()
    error: str | None = None  # what unpack_to_rootfs() would report, if anything
    notes: tuple[str, ...] = field(default=())

    @property
    def unpacked_known(self) -> bool:
        return self.tmpfs_bytes is not None

    def describe_unpacked(self) -> str:
        if self.tmpfs_bytes is not None:
            return f"{self.tmpfs_bytes} bytes"
        return "unpacked size unknown (" + ", ".join(self.unreadable or ("unreadable",)) + ")"

    def as_dict(self) -> dict[str, object]:
        return {
            "size": self.size, "cpio_bytes": self.cpio_bytes, "file_bytes": self.file_bytes,
            "tmpfs_bytes": self.tmpfs_bytes, "entries": self.entries, "page_size": self.page_size,
            "unreadable": list(self.unreadable), "features": sorted(self.features), "modules": self.modules,
            "module_bytes": self.module_bytes, "largest": [list(x) for x in self.largest], "error": self.error,
            "layers": [layer.as_dict() for layer in self.layers], "notes": list(self.notes),
        }


class _CpioError(Exception):
    pass


class _Stats:
    """What the archives hold, accumulated with bounded memory."""

    def __init__(self, page_size: int) -> None:
        self.page = page_size
        self.entries = 0
        self.file_bytes = 0
        self.tmpfs_bytes = 0
        self.features: set[str] = set()
        self.modules = 0
        self.module_bytes = 0
        self.largest: list[tuple[int, str]] = []

    def add(self, name: str, mode: int, size: int) -> None:
        if name == _TRAILER:
            return
        self.entries += 1
        kind = mode & _S_IFMT
        if kind == _S_IFREG:
            self.file_bytes += size
            self.tmpfs_bytes += -(-size // self.page) * self.page
            self._largest(name, size)
        elif kind == _S_IFLNK and size >= _SHORT_SYMLINK_LEN:
            self.tmpfs_bytes += self.page
        _classify(name, kind, size, self)

    def _largest(self, name: str, size: int) -> None:
        self.largest.append((size, name))
        if len(self.largest) > 16:
            self.largest.sort(reverse=True)
            del self.largest[8:]


def _classify(name: str, kind: int, size: int, st: _Stats) -> None:
    n = name.lstrip("./")
    base = n.rsplit("/", 1)[-1]
    f = st.features
    if n.startswith(("kernel/x86/microcode/", "lib/firmware/amd-ucode", "kernel/x86/microcode")):
        f.add("microcode")
    if "/modules/" in "/" + n and (base.endswith(".ko") or ".ko." in base):
        st.modules += 1
        st.module_bytes += size
        for mod, feat in (("mlx5_core", "mlx5"), ("nfs", "nfs"), ("nfsv4", "nfs"), ("dm-crypt", "dm-crypt"),
                          ("dm_crypt", "dm-crypt")):
            if base.startswith(mod + ".ko"):
                f.add(feat)
    if n in ("usr/lib/systemd/systemd", "lib/systemd/systemd"):
        f.add("systemd")
    if base == "busybox":
        f.add("busybox")
    if n.startswith("usr/lib/dracut/") or base == "dracut-lib.sh":
        f.add("dracut")
    if base == "makedumpfile":
        f.add("makedumpfile")
    if base in ("kdump.sh", "kdump-lib.sh", "kdump-tools-dump.service", "kdump-config", "kdumptool",
                "kdump-save", "kdump-capture.service"):
        f.add("kdump")
    if base in ("ssh", "scp", "sftp"):
        f.add("ssh")
    if base in ("mount.nfs", "mount.nfs4"):
        f.add("nfs")
    if base in ("cryptsetup", "systemd-cryptsetup"):
        f.add("cryptsetup")
    if base in ("dhclient", "NetworkManager", "nm-initrd-generator", "wicked", "ifup", "dhcpcd", "udhcpc",
                "systemd-networkd"):
        f.add("network")
    if base.endswith((".squashfs", "squash-root.img", "squashfs-root.img")) or base == "erofs.img":
        f.add("squashfs-image")


class _Cpio:
    """An incremental newc/crc parser that counts instead of storing (init/initramfs.c states)."""

    def __init__(self, stats: _Stats, *, compressed: bool) -> None:
        self.stats = stats
        self.compressed = compressed  # inside a compressed stream: NULs and new archives allowed, junk is an error
        self.state = "start"  # start | header | name | skip | reset
        self.buf = bytearray()
        self.need = 0
        self.to_skip = 0
        self.mode = 0
        self.filesize = 0
        self.namesize = 0
        self.pos = 0  # bytes consumed (for 4-byte alignment)
        self.archives = 0
        self.entries = 0
        self.file_bytes = 0
        self.after_trailer = False

    def feed(self, data: bytes | memoryview) -> int:
        """Consume ``data``; return how many bytes were used.

        Outside a compressed stream the parser stops (returns less than ``len(data)``) at the first
        byte after a trailer that is not NUL padding or the start of another archive.
        """
        mv = memoryview(data)
        i = 0
        n = len(mv)
        while i < n:
            if self.state == "skip":
                take = min(self.to_skip, n - i)
                self.to_skip -= take
                i += take
                self.pos += take
                if self.to_skip == 0:
                    self.state = "reset" if self.after_trailer else "header"
                    self.after_trailer = False
                continue
            if self.state in ("start", "reset"):
                c = mv[i]
                if c == 0:
                    i += 1
                    self.pos += 1
                    continue
                if c == 0x30 and self.pos % 4 == 0:  # '0'
                    self.state = "header"
                    continue
                if self.state == "start" and not self.compressed and self.pos == 0:
                    raise _CpioError("no cpio magic")
                if self.compressed:
                    raise _CpioError("junk within compressed archive")
                return i
            if self.state == "header":
                take = min(_HEADER - len(self.buf), n - i)
                self.buf += mv[i:i + take]
                i += take
                self.pos += take
                if len(self.buf) < _HEADER:
                    continue
                self._header(bytes(self.buf))
                self.buf.clear()
                self.state = "name"
                continue
            if self.state == "name":
                want = self.namesize + (-(_HEADER + self.namesize) % 4)
                take = min(want - len(self.buf), n - i)
                self.buf += mv[i:i + take]
                i += take
                self.pos += take
                if len(self.buf) < want:
                    continue
                raw = bytes(self.buf[:self.namesize])
                self.buf.clear()
                name = raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
                if name == _TRAILER:
                    self.archives += 1
                    self.after_trailer = True
                else:
                    self.entries += 1
                    if self.mode & _S_IFMT == _S_IFREG:
                        self.file_bytes += self.filesize
                    self.stats.add(name, self.mode, self.filesize)
                self.to_skip = self.filesize + (-self.filesize % 4)
                self.state = "skip"
                if self.to_skip == 0:
                    self.state = "reset" if self.after_trailer else "header"
                    self.after_trailer = False
                continue
        return i

    def _header(self, h: bytes) -> None:
        magic = h[:6]
        if magic not in (b"070701", b"070702"):
            raise _CpioError("no cpio magic")
        try:
            fields = [int(h[6 + 8 * k: 14 + 8 * k], 16) for k in range(13)]
        except ValueError:
            raise _CpioError("broken padding") from None
        self.mode = fields[1]
        self.filesize = fields[6]
        self.namesize = fields[11]
        if self.namesize == 0 or self.namesize > _PATH_MAX:
            raise _CpioError(f"bad cpio name size {self.namesize}")

    @property
    def complete(self) -> bool:
        return self.state in ("start", "reset") and self.archives > 0


class _PushbackReader:
    """A forward-only reader with push-back over bytes or a binary stream."""

    def __init__(self, source: bytes | bytearray | memoryview | BinaryIO) -> None:
        if isinstance(source, (bytes, bytearray, memoryview)):
            self.f: BinaryIO = io.BytesIO(bytes(source))
        else:
            self.f = source
        self.pending = b""
        self.pos = 0  # file offset of the next byte returned

    def read(self, n: int = _CHUNK) -> bytes:
        if self.pending:
            out, self.pending = self.pending[:n], self.pending[n:]
        else:
            out = self.f.read(n) or b""
        self.pos += len(out)
        return out

    def unread(self, data: bytes) -> None:
        if data:
            self.pending = data + self.pending
            self.pos -= len(data)

    def peek(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            more = self.read(n - len(data))
            if not more:
                break
            data += more
        self.unread(data)
        return data

    def rest_size(self) -> int:
        """Consume and count what is left."""
        total = 0
        while True:
            chunk = self.read(_CHUNK)
            if not chunk:
                return total
            total += len(chunk)


def _decompressor(codec: str) -> Any:  # zlib's, bz2's and lzma's decompressors share no public type
    if codec == "gzip":
        import zlib

        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if codec == "bzip2":
        import bz2

        return bz2.BZ2Decompressor()
    import lzma

    return lzma.LZMADecompressor(format=lzma.FORMAT_XZ if codec == "xz" else lzma.FORMAT_ALONE)


def _inflate(reader: _PushbackReader, codec: str) -> Iterator[bytes]:
    """Decompress one stream from ``reader``, yielding output chunks; push back what follows it."""
    d = _decompressor(codec)
    is_zlib = codec == "gzip"
    while True:
        chunk = reader.read(_CHUNK)
        if not chunk:
            raise EOFError("compressed stream ends early")
        data = chunk
        while True:
            out = d.decompress(data, _OUT)
            if out:
                yield out
            if d.eof:
                reader.unread(d.unused_data)
                return
            if is_zlib:
                data = d.unconsumed_tail
                if not data and len(out) < _OUT:
                    break
            else:
                if d.needs_input:
                    break
                data = b""


def _codec_of(head: bytes) -> str | None:
    """lib/decompress.c decompress_method(): the first two bytes decide."""
    m = head[:2]
    return {
        b"\x1f\x8b": "gzip", b"\x1f\x9e": "gzip-old", b"BZ": "bzip2", b"\x5d\x00": "lzma", b"\xfd7": "xz",
        b"\x89L": "lzo", b"\x02\x21": "lz4", b"\x28\xb5": "zstd",
    }.get(m)


def _padding_layer(reader: _PushbackReader, start: int) -> InitrdLayer:
    """A run of NUL bytes between archives (the kernel skips them, 4 at a time)."""
    n = 0
    while True:
        chunk = reader.read(_CHUNK)
        if not chunk:
            break
        stripped = chunk.lstrip(b"\0")
        n += len(chunk) - len(stripped)
        if stripped:
            reader.unread(stripped)
            break
    return InitrdLayer("padding", start, n, n)


def _cpio_layer(reader: _PushbackReader, stats: _Stats, start: int) -> tuple[InitrdLayer, str | None]:
    """Uncompressed cpio archives, up to the first byte that is not theirs; and the error that stops the walk."""
    parser = _Cpio(stats, compressed=False)
    used_total = 0
    error = None
    try:
        while True:
            chunk = reader.read(_CHUNK)
            if not chunk:
                break
            used = parser.feed(chunk)
            used_total += used
            if used < len(chunk):
                reader.unread(chunk[used:])
                break
    except _CpioError as e:
        error = str(e)
    # trailing NULs eaten by the parser belong to padding; keep them in this layer
    note = None
    if error is None and not parser.complete:
        note = "the archive ends without TRAILER!!!"
    return InitrdLayer("cpio", start, used_total, used_total, None, parser.archives, parser.entries,
                       parser.file_bytes, note), error


_BAD_MAGIC = "invalid magic at start of compressed archive"


def _unknown_layer(reader: _PushbackReader, head: bytes, start: int) -> InitrdLayer:
    """The rest of the file, where no decompressor's magic matches (the kernel stops with ``_BAD_MAGIC``)."""
    rest = reader.rest_size()
    note = _BAD_MAGIC
    if head[:4] == b"\x04\x22\x4d\x18":
        note += " (an lz4 frame: the kernel reads only the legacy lz4 format, 'lz4 -l')"
    return InitrdLayer("unknown", start, rest, None, None, note=note)


def _unreadable_layer(reader: _PushbackReader, codec: str, start: int) -> tuple[InitrdLayer, str]:
    """The rest of the file as one stream the standard library cannot decompress, and the codec's name."""
    name = "gzip (old)" if codec == "gzip-old" else codec
    rest = reader.rest_size()
    return InitrdLayer("compressed", start, None, None, name,
                       note=f"unpacked size unknown ({name}): no {name} decoder in the Python "
                            f"standard library; the rest of the file ({rest} bytes) is taken "
                            f"as this stream"), name


def _compressed_layer(reader: _PushbackReader, stats: _Stats, codec: str, start: int) -> tuple[InitrdLayer, str | None]:
    """One compressed stream and the cpio archives inside it; and the error that stops the walk."""
    parser = _Cpio(stats, compressed=True)
    out_total = 0
    error = note = None
    try:
        for out in _inflate(reader, codec):
            out_total += len(out)
            parser.feed(out)
    except _CpioError as e:
        error = str(e)
    except EOFError:
        error = "decompressor failed"
        note = f"the {codec} stream is truncated"
    except Exception as e:  # noqa: BLE001 - zlib.error, lzma.LZMAError, OSError from bz2: any failure is a note
        error = "decompressor failed"
        note = f"{codec}: {e}"
    if error is None and parser.state not in ("start", "reset"):
        note = "the compressed archive ends inside an entry"
    return InitrdLayer("compressed", start, reader.pos - start, out_total, codec, parser.archives,
                       parser.entries, parser.file_bytes, note), error


def read_initrd(source: bytes | bytearray | memoryview | BinaryIO, *, size: int | None = None,
                page_size: int = 4096) -> InitrdInfo:
    """Read every layer of an initrd; ``source`` is its bytes or an open binary stream.

    ``size`` is the file size when ``source`` is a stream (else counted while reading).  Never
    raises on any content: what the kernel would reject is reported in ``error``.
    """
    reader = _PushbackReader(source)
    stats = _Stats(page_size)
    layers: list[InitrdLayer] = []
    unreadable: list[str] = []
    error: str | None = None
    cpio_total: int | None = 0
    notes: list[str] = []
    while True:
        head = reader.peek(8)
        if not head:
            break
        start = reader.pos
        if head[0] == 0:
            layers.append(_padding_layer(reader, start))
            continue
        if head[0] == 0x30 and start % 4 == 0:
            layer, error = _cpio_layer(reader, stats, start)
        else:
            codec = _codec_of(head)
            if codec is None:
                error = _BAD_MAGIC
                layers.append(_unknown_layer(reader, head, start))
                break
            if codec not in STDLIB_CODECS:
                layer, name = _unreadable_layer(reader, codec, start)
                unreadable.append(name)
                layers.append(layer)
                cpio_total = None
                break
            layer, error = _compressed_layer(reader, stats, codec, start)
        layers.append(layer)
        if cpio_total is not None and layer.unpacked_size is not None:
            cpio_total += layer.unpacked_size
        if error is not None:
            break
    if size is None:
        reader.rest_size()  # an error stops the walk early: the file's size still counts every byte
    file_size = size if size is not None else reader.pos
    known = cpio_total is not None and error is None
    largest = sorted(stats.largest, reverse=True)[:5]
    if "microcode" in stats.features:
        notes.append("an early microcode archive: the kernel unpacks it into the rootfs too")
    return InitrdInfo(
        size=file_size, layers=tuple(layers), cpio_bytes=cpio_total if known else None,
        file_bytes=stats.file_bytes if known else None, tmpfs_bytes=stats.tmpfs_bytes if known else None,
        entries=stats.entries, page_size=page_size, unreadable=tuple(unreadable), features=frozenset(stats.features),
        modules=stats.modules, module_bytes=stats.module_bytes, largest=tuple((n, s) for s, n in largest),
        error=error, notes=tuple(notes),
    )
