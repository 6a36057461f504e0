"""The sizing input readers on real files (tests/data/sizing/PROVENANCE.md)."""

from __future__ import annotations

import gzip
import io
import struct
import tracemalloc

import pytest

from conftest import DATA
from crashplan.errors import InputError
from crashplan.sizing.initrd import read_initrd
from crashplan.sizing.kconfig import parse_kernel_config
from crashplan.sizing.kdumpconf import (
    merge_configs,
    parse_kdump_conf,
    parse_kdump_tools,
    parse_makedumpfile_args,
    parse_sysconfig_kdump,
)
from crashplan.sizing.kernel_image import read_kernel_image
from crashplan.sizing.luks import parse_luks_dump

D = DATA / "sizing"
MiB = 1 << 20


def data(name: str) -> bytes:
    return (D / name).read_bytes()


def text(name: str) -> str:
    return (D / name).read_text()


# --- kernel images ---------------------------------------------------------------------------------


def test_bzimage_61_header():
    k = read_kernel_image(data("bzImage-6.1.0-47-amd64.head1k"), file_size=8234944)
    assert (k.format, k.arch, k.protocol) == ("bzImage", "x86_64", "2.15")
    assert k.mem_size == 66682880 and k.mem_size_source == "init_size"
    assert (k.align, k.pref_address, k.relocatable, k.min_alignment) == (2 * MiB, 16 * MiB, True, 1 << 21)
    assert k.file_size == 8234944
    assert k.compression is None and k.version is None  # beyond the first KiB
    assert k.notes == ()


def test_bzimage_612_header_version_and_payload():
    k = read_kernel_image(data("bzImage-6.12.111+deb12-amd64.head24k"))
    assert k.mem_size == 58646528
    assert k.compression == "zstd"
    assert k.version is not None and k.version.startswith("6.12.111+deb12-amd64 (debian-kernel@lists.debian.org)")


def test_bzimage_old_protocol_has_no_init_size():
    raw = bytearray(data("bzImage-6.1.0-47-amd64.head1k"))
    struct.pack_into("<H", raw, 0x206, 0x0209)
    k = read_kernel_image(bytes(raw))
    assert k.mem_size is None
    assert "boot protocol < 2.10 has no init_size: the in-memory size is unknown" in k.notes
    assert "boot protocol 2.09 < 2.12: kexec_file_load needs 2.12 (\"Must be at least protocol version 2.12\")" in k.notes


def test_arm64_image_header():
    k = read_kernel_image(data("Image-6.1.0-47-arm64.head1k"), file_size=32954304)
    assert (k.format, k.arch, k.mem_size, k.align) == ("arm64-Image", "arm64", 33619968, 2 * MiB)
    assert (k.text_offset, k.page_size, k.big_endian, k.phys_anywhere) == (0, 4096, False, True)


def test_arm64_flags_64k_big_endian_and_zero_image_size():
    raw = bytearray(data("Image-6.1.0-47-arm64.head1k"))
    struct.pack_into("<Q", raw, 24, 0b0111)  # BE, 64K, not anywhere
    k = read_kernel_image(bytes(raw))
    assert (k.page_size, k.big_endian, k.phys_anywhere) == (65536, True, False)
    struct.pack_into("<Q", raw, 16, 0)
    k = read_kernel_image(bytes(raw))
    assert k.mem_size is None
    assert k.notes[0].startswith("image_size is 0 (a kernel before 3.17)")


def test_elf_vmlinux_pt_load_sum():
    k = read_kernel_image(data("vmlinux-6.1.0-47-amd64.head4k"))
    assert (k.format, k.arch, k.mem_size, k.mem_size_source) == ("elf", "x86_64", 59663004, "PT_LOAD")
    assert "4 PT_LOAD segments" in k.notes
    # below the bzImage's init_size of the same kernel, as the note says
    assert k.mem_size < 66682880


def test_elf_program_headers_beyond_the_bytes():
    k = read_kernel_image(data("vmlinux-6.1.0-47-amd64.head4k")[:100])
    assert k.mem_size is None and "beyond the 100 bytes read" in k.notes[0]


def test_zboot_gzip_payload_is_read():
    k = read_kernel_image(data("zboot-gzip.efi.head"), file_size=20_000_000)
    assert (k.format, k.compression, k.arch, k.mem_size) == ("zboot", "gzip", "arm64", 33619968)
    assert k.inner is not None and k.inner.format == "arm64-Image"
    assert k.notes[0].startswith("EFI zboot image: the kernel is the gzip-compressed payload")


def test_zboot_zstd_is_not_mistaken_for_the_answer():
    k = read_kernel_image(data("zboot-zstd.efi.head"), file_size=20_000_000)
    assert (k.format, k.compression, k.mem_size, k.inner) == ("zboot", "zstd", None, None)
    assert any(n.startswith("unpacked size unknown (zstd)") for n in k.notes)


def test_compressed_image_gz():
    k = read_kernel_image(data("Image-6.1.0-47-arm64.head1k.gz"))
    assert (k.format, k.compression, k.mem_size) == ("compressed", "gzip", 33619968)
    assert k.notes[0] == "a gzip-compressed file: its size on disk is not the kernel's in-memory size"


def test_compressed_zstd_kernel_is_unknown():
    import subprocess

    zst = subprocess.run(["zstd", "-q", "-c"], input=data("Image-6.1.0-47-arm64.head1k"), capture_output=True,
                         check=True).stdout
    k = read_kernel_image(zst)
    assert (k.format, k.compression, k.mem_size) == ("compressed", "zstd", None)
    assert k.notes[1].startswith("unpacked size unknown (zstd)")


@pytest.mark.parametrize("blob", [b"", b"\x00" * 4096, b"hello world" * 100])
def test_unknown_inputs_never_raise(blob):
    k = read_kernel_image(blob)
    assert k.format == "unknown" and k.mem_size is None and k.notes


# --- initrds ---------------------------------------------------------------------------------------

READABLE = ["initrd-early+gzip.img", "initrd-early+xz.img", "initrd-early+bzip2.img", "initrd-early+lzma.img"]


@pytest.mark.parametrize("name", READABLE)
def test_initrd_two_layers_every_stdlib_codec(name):
    info = read_initrd(data(name))
    codec = name.split("+")[1].split(".")[0]
    assert [(x.kind, x.compression, x.archives) for x in info.layers] == [("cpio", None, 1), ("compressed", codec, 1)]
    assert info.layers[0].packed_size == 4096 and info.layers[0].file_bytes == 3000
    assert info.layers[1].unpacked_size == 14336
    assert info.cpio_bytes == 18432
    assert info.file_bytes == 3000 + 5000 + 4097 + 37 + 2000
    # whole pages: 4096 + 8192 + 8192 + 4096 + 4096, plus the 143-byte symlink's page
    assert info.tmpfs_bytes == 32768
    assert info.entries == 24
    assert info.features == frozenset({"microcode", "busybox", "systemd", "mlx5"})
    assert (info.modules, info.module_bytes) == (1, 2000)
    assert info.error is None and info.unreadable == ()
    assert info.size == len(data(name))


@pytest.mark.parametrize("name,codec", [("initrd-early+zstd.img", "zstd"), ("initrd-early+lz4.img", "lz4"),
                                        ("initrd-early+lzo.img", "lzo")])
def test_initrd_codecs_without_a_stdlib_decoder(name, codec):
    info = read_initrd(data(name))
    assert info.unreadable == (codec,)
    assert info.tmpfs_bytes is None and info.cpio_bytes is None
    assert info.describe_unpacked() == f"unpacked size unknown ({codec})"
    last = info.layers[-1]
    assert (last.kind, last.compression, last.packed_size, last.unpacked_size) == ("compressed", codec, None, None)
    assert last.note.startswith(f"unpacked size unknown ({codec})")
    assert info.error is None


def test_initrd_lz4_frame_is_rejected_like_the_kernel_does():
    info = read_initrd(data("initrd-early+lz4frame.img"))
    assert info.error == "invalid magic at start of compressed archive"
    assert "the kernel reads only the legacy lz4 format" in info.layers[-1].note


def test_initrd_crc_format_and_plain_cpio():
    crc = read_initrd(data("initrd-crc.gz"))
    plain = read_initrd(data("initrd-plain.cpio"))
    assert crc.file_bytes == plain.file_bytes == 11134
    assert crc.tmpfs_bytes == plain.tmpfs_bytes == 28672
    assert [x.kind for x in plain.layers] == ["cpio"]


def test_initrd_padding_between_compressed_archives():
    info = read_initrd(data("initrd-gzip+pad+xz.img"))
    assert [(x.kind, x.compression) for x in info.layers] == [
        ("cpio", None), ("compressed", "gzip"), ("padding", None), ("compressed", "xz")]
    assert info.layers[2].packed_size == 512
    assert info.file_bytes == 3000 + 2 * 11134
    assert info.modules == 2


@pytest.mark.parametrize("name,error", [("initrd-truncated.img", "decompressor failed"),
                                        ("initrd-junk.img", "invalid magic at start of compressed archive")])
def test_initrd_broken(name, error):
    info = read_initrd(data(name))
    assert info.error == error
    assert info.tmpfs_bytes is None


def test_initrd_from_a_stream_equals_bytes(tmp_path):
    with open(D / "initrd-early+xz.img", "rb") as f:
        streamed = read_initrd(f, size=(D / "initrd-early+xz.img").stat().st_size)
    assert streamed == read_initrd(data("initrd-early+xz.img"))


def test_initrd_page_size_64k():
    info = read_initrd(data("initrd-early+gzip.img"), page_size=65536)
    assert info.tmpfs_bytes == 6 * 65536 and info.file_bytes == 14134


def _newc(name: str, mode: int, size: int) -> bytes:
    nb = name.encode() + b"\0"
    hdr = b"070701" + b"".join(b"%08X" % v for v in (1, mode, 0, 0, 1, 0, size, 0, 0, 0, 0, len(nb), 0))
    pad = -(len(hdr) + len(nb)) % 4
    return hdr + nb + b"\0" * pad


def test_initrd_streams_with_bounded_memory():
    # 48 MiB of file data that gzip packs into ~50 KiB: the reader must not hold it
    size = 48 * MiB
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as g:
        g.write(_newc("big", 0o100644, size))
        chunk = b"\0" * MiB
        for _ in range(size // MiB):
            g.write(chunk)
        g.write(_newc("TRAILER!!!", 0, 0))
    blob = buf.getvalue()
    tracemalloc.start()
    try:
        info = read_initrd(io.BytesIO(blob))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.file_bytes == size and info.tmpfs_bytes == size
    assert peak < 4 * MiB


# --- kdump configurations --------------------------------------------------------------------------


def test_fedora_kdump_conf():
    c = parse_kdump_conf(text("fedora-kdump.conf"), path="fedora-kdump.conf")
    assert (c.flavour, c.collector, c.dump_levels, c.target, c.path) == (
        "kdump-utils", "makedumpfile", (31,), "local", "/var/crash")
    assert c.makedumpfile.compression == "lzo"
    assert c.keeps_user_pages() == (False, "dump level 31 excludes user pages (bit 8)")
    assert c.network is False and c.notes == ()


@pytest.mark.parametrize("line,target,network", [
    ("nfs my.server.com:/export/tmp", "nfs", True), ("ssh user@my.server.com", "ssh", True),
    ("raw /dev/vg/lv_kdump", "raw", False), ("xfs UUID=0000", "local", False), ("virtiofs myfs", "virtiofs", False),
])
def test_fedora_targets(line, target, network):
    c = parse_kdump_conf(line + "\n")
    assert (c.target, c.network) == (target, network)
    if target in ("raw", "ssh"):
        assert c.makedumpfile.flattened  # the default collector gains -F


@pytest.mark.parametrize("collector,keeps,why", [
    ("cp", True, "the core collector is 'cp': it copies /proc/vmcore unfiltered, user pages included"),
    ("makedumpfile -l -d 1", True, "dump level 1 does not have bit 8 (user process data) set: user pages are kept in the dump"),
    ("makedumpfile -l", True, "makedumpfile runs without -d: its default dump level 0 keeps user pages"),
    ("makedumpfile -d 11,31", False, "dump level 11,31 excludes user pages (bit 8)"),
    ("makedumpfile -d 31,1", True, "dump level 1 does not have bit 8 (user process data) set: user pages are kept in the dump"),
    ("makedumpfile -E -d 31", False, "dump level 31 excludes user pages (bit 8)"),
])
def test_collector_and_user_pages(collector, keeps, why):
    c = parse_kdump_conf(f"core_collector {collector}\n")
    assert c.keeps_user_pages() == (keeps, why)


def test_fedora_kdump_conf_errors_name_the_line():
    with pytest.raises(InputError) as e:
        parse_kdump_conf("path /var/crash\ncore_collector\n", path="kdump.conf")
    assert str(e.value) == "kdump.conf:2:15: core_collector needs a value"
    c = parse_kdump_conf("frobnicate 1\n", path="k.conf")
    assert c.warnings == ("k.conf:1: unknown directive 'frobnicate': kdumpctl refuses to start "
                          "(\"Invalid kdump config option frobnicate\")",)


def test_kdump_conf_typos_and_deprecated_directives_are_warned_about_as_kdumpctl_does():
    c = parse_kdump_conf("core_colector makedumpfile -d 31\npath /var/crash\nlink_delay 10\ndefault shell\n",
                         path="k.conf")
    assert c.warnings[0] == ("k.conf:1: unknown directive 'core_colector' (did you mean 'core_collector'?): "
                             "kdumpctl refuses to start (\"Invalid kdump config option core_colector\")")
    assert c.warnings[1].startswith("k.conf:3: 'link_delay' is deprecated: kdumpctl refuses to start")
    assert "renamed 'failure_action'" in c.warnings[2]
    # the real file of kdump-utils has none
    assert parse_kdump_conf(text("fedora-kdump.conf")).warnings == ()


@pytest.mark.parametrize(("line", "expect"), [
    ("auto_reset_crashkernel no", False), ("auto_reset_crashkernel yes", True),
    ('auto_reset_crashkernel "no"', False), ("auto_reset_crashkernel no  # keep mine", False),
    ("auto_reset_crashkernel\tno", False), ("#auto_reset_crashkernel no", None), ("path /var/crash", None),
    ("auto_reset_crashkernel No", True),  # kdumpctl compares with exactly "no"
])
def test_auto_reset_crashkernel_is_read_as_written(line, expect):
    from crashplan.sizing.kdumpconf import auto_reset_crashkernel

    assert auto_reset_crashkernel(line + "\n") is expect
    assert parse_kdump_conf(line + "\n").auto_reset_crashkernel is expect
    # the last line wins, as kdump_get_conf_val returns the last match
    assert auto_reset_crashkernel("auto_reset_crashkernel yes\n" + line + "\n") is (True if expect is None else expect)


def test_shell_file_typos_are_warned_about():
    c = parse_kdump_tools('USE_KDUMP=1\nMAKEDUMP_ARG="-c -d 31"\n', path="kt")
    assert c.warnings == ("kt:2: MAKEDUMP_ARG is not a kdump-tools variable (did you mean MAKEDUMP_ARGS?): it is "
                          "ignored",)
    c = parse_sysconfig_kdump('KDUMP_COMANDLINE_APPEND="nr_cpus=1"\n', path="sc")
    assert c.warnings and "did you mean KDUMP_COMMANDLINE_APPEND?" in c.warnings[0]
    c = parse_sysconfig_kdump('KDUMP_DUMPLEVEL=31\nKDUMP_DUMPFORMT=lzo\n', path="suse")
    assert c.flavour == "suse" and "did you mean KDUMP_DUMPFORMAT?" in c.warnings[0]
    for name in ("debian-kdump-tools.default", "fedora-sysconfig-kdump.x86_64", "suse-sysconfig-kdump.x86_64",
                 "suse-sysconfig-kdump.ppc64le"):
        parse = parse_kdump_tools if name.startswith("debian") else parse_sysconfig_kdump
        assert parse(text(name)).warnings == (), name


def test_fedora_sysconfig():
    c = parse_sysconfig_kdump(text("fedora-sysconfig-kdump.x86_64"))
    assert (c.flavour, c.kexec_mode, c.nr_cpus) == ("kdump-utils", "file", 1)
    assert c.capture_append.startswith("irqpoll nr_cpus=1 reset_devices")
    c = parse_sysconfig_kdump('KEXEC_ARGS="-c"\nKDUMP_COMMANDLINE_APPEND="nr_cpus=4"\n')
    assert (c.kexec_mode, c.nr_cpus) == ("load", 4)


def test_fedora_conf_and_sysconfig_merge():
    c = merge_configs(parse_kdump_conf(text("fedora-kdump.conf")), parse_sysconfig_kdump(text("fedora-sysconfig-kdump.x86_64")))
    assert (c.collector, c.dump_levels, c.kexec_mode, c.nr_cpus) == ("makedumpfile", (31,), "file", 1)
    assert c.sources == ("/etc/kdump.conf", "/etc/sysconfig/kdump")


def test_suse_sysconfig():
    c = parse_sysconfig_kdump(text("suse-sysconfig-kdump.x86_64"))
    assert (c.flavour, c.collector, c.dump_levels, c.dump_format) == ("suse", "makedumpfile", (31,), "compressed")
    assert (c.nr_cpus, c.kexec_mode, c.target, c.fadump) == (1, "auto", "local", None)
    assert c.makedumpfile.compression == "zlib"
    p = parse_sysconfig_kdump(text("suse-sysconfig-kdump.ppc64le"))
    assert p.fadump is False
    on = parse_sysconfig_kdump(text("suse-sysconfig-kdump.ppc64le").replace('KDUMP_FADUMP="false"', 'KDUMP_FADUMP="true"'))
    assert on.fadump is True


@pytest.mark.parametrize("change,keeps", [
    (('KDUMP_DUMPFORMAT="compressed"', 'KDUMP_DUMPFORMAT="raw"'), True),
    (("KDUMP_DUMPLEVEL=31", "KDUMP_DUMPLEVEL=0"), True),
    (('KDUMP_DUMPFORMAT="compressed"', 'KDUMP_DUMPFORMAT="none"'), False),
    (('KDUMP_DUMPFORMAT="compressed"', 'KDUMP_DUMPFORMAT="ELF"'), False),
])
def test_suse_formats_and_levels(change, keeps):
    c = parse_sysconfig_kdump(text("suse-sysconfig-kdump.x86_64").replace(*change))
    assert c.keeps_user_pages()[0] is keeps


def test_suse_targets_cpus_and_errors():
    base = text("suse-sysconfig-kdump.x86_64")
    c = parse_sysconfig_kdump(base.replace('KDUMP_SAVEDIR="/var/crash"', 'KDUMP_SAVEDIR="nfs://server/export"')
                              .replace("KDUMP_CPUS=1", "KDUMP_CPUS=4"))
    assert (c.target, c.network, c.nr_cpus, c.makedumpfile.split) == ("nfs", True, 4, True)
    with pytest.raises(InputError) as e:
        parse_sysconfig_kdump(base.replace("KDUMP_DUMPLEVEL=31", "KDUMP_DUMPLEVEL=99"), path="sysconfig/kdump")
    line = base.splitlines().index("KDUMP_DUMPLEVEL=31") + 1
    assert str(e.value) == f"sysconfig/kdump:{line}: KDUMP_DUMPLEVEL out of range 0-31: 99"


def test_debian_kdump_tools():
    c = parse_kdump_tools(text("debian-kdump-tools.default"))
    assert (c.flavour, c.enabled, c.collector, c.dump_levels, c.nr_cpus) == ("kdump-tools", True, "makedumpfile", (31,), 1)
    assert c.makedumpfile.flattened and c.makedumpfile.compression == "zlib"
    assert c.kexec_mode == "default" and "Secure Boot" in c.kexec_reason
    c = parse_kdump_tools('KDUMP_KEXEC_ARGS="-s"\nMAKEDUMP_ARGS="-c -d 1"\nNFS="server:/var/crash"\n')
    assert (c.kexec_mode, c.target, c.keeps_user_pages()[0]) == ("file", "nfs", True)


def test_shell_assignment_errors():
    with pytest.raises(InputError) as e:
        parse_kdump_tools('USE_KDUMP=1\nthis is not an assignment\n', path="kdump-tools")
    assert str(e.value) == "kdump-tools:2:1: expected NAME=value (a shell variable assignment)"
    with pytest.raises(InputError) as e:
        parse_kdump_tools("MAKEDUMP_ARGS='-c -d 31\n", path="kdump-tools")
    assert str(e.value).startswith("kdump-tools:1:15: MAKEDUMP_ARGS: No closing quotation")


def test_makedumpfile_args():
    m = parse_makedumpfile_args("makedumpfile -d11,31 --num-threads=4 -E -z --split --cyclic-buffer 1024")
    assert (m.dump_levels, m.num_threads, m.elf, m.compression, m.split, m.cyclic_buffer_kib) == (
        (11, 31), 4, True, "zstd", True, 1024)
    with pytest.raises(InputError, match="dump level out of range 0-31: 32"):
        parse_makedumpfile_args("-d 32")
    with pytest.raises(InputError, match="makedumpfile option -d needs a value"):
        parse_makedumpfile_args("-d")


# --- kernel config and LUKS ------------------------------------------------------------------------


def test_kernel_configs():
    arm = parse_kernel_config(text("config-6.1.0-47-arm64.subset"), path="arm")
    assert (arm.enabled("CMA"), arm.enabled("KEXEC_FILE"), arm.enabled("CRASH_DUMP"), arm.page_size) == (
        True, False, True, 4096)
    amd = parse_kernel_config(text("config-6.12.111+deb12-amd64.subset"))
    assert (amd.enabled("CMA"), amd.enabled("KEXEC_FILE"), amd.number("PHYSICAL_ALIGN")) == (False, True, 0x200000)
    assert amd.elfcorehdr_phdrs() == 2 + 8192 + 8192
    assert parse_kernel_config(text("config-6.1.0-47-amd64.subset")).elfcorehdr_phdrs() is None
    with pytest.raises(InputError) as e:
        parse_kernel_config("CONFIG_CMA=y\nnot a config line\n", path="cfg")
    assert str(e.value) == "cfg:2:1: expected CONFIG_NAME=value or '# CONFIG_NAME is not set' (a kernel .config)"


def test_luks_dumps():
    l2 = parse_luks_dump(text("luksdump-luks2.txt"))
    assert l2.version == 2
    assert l2.keyslots == ((0, "argon2id", 65536), (1, "argon2id", 262144))
    assert l2.max_memory == 262144 * 1024 and l2.sum_memory == (65536 + 262144) * 1024
    l1 = parse_luks_dump(text("luksdump-luks1.txt"))
    assert (l1.version, l1.keyslots, l1.max_memory) == (1, ((0, "pbkdf2", None),), 0)
    with pytest.raises(InputError) as e:
        parse_luks_dump("Version: 2\n", path="dump.txt")
    assert str(e.value) == "dump.txt:1: not 'cryptsetup luksDump' output (no 'LUKS header information' line)"


def test_reader_errors_name_a_line_counted_at_newlines_only():
    # str.splitlines would also break at the form feed and make the error name line 3
    with pytest.raises(InputError) as e:
        parse_sysconfig_kdump('\x0cKDUMP_DUMPLEVEL=31\nnot an assignment\n', path="kdump")
    assert str(e.value) == "kdump:2:1: expected NAME=value (a shell variable assignment)"
    with pytest.raises(InputError) as e:
        parse_kernel_config("# just a comment\n\n", path="cfg")
    assert str(e.value) == "cfg:1: expected CONFIG_NAME=value lines, found none: not a kernel .config"
    with pytest.raises(InputError) as e:
        parse_luks_dump("\nLUKS header information\n\x0cUUID: x\n", path="dump.txt")
    assert str(e.value) == "dump.txt:2: luksDump: expected a 'Version: 1' or 'Version: 2' line after the header"
    with pytest.raises(InputError) as e:
        parse_luks_dump("LUKS header information\nVersion:       \t3\n", path="dump.txt")
    assert str(e.value) == "dump.txt:2: luksDump: expected 'Version: 1' or 'Version: 2', not version 3"


def test_initrd_size_counts_the_bytes_after_an_error():
    body = _newc("a", 0o100644, 0) + b"0707XX garbage" + b"\xff" * 200_000  # past one read chunk
    info = read_initrd(body)
    assert info.error is not None
    assert info.size == len(body)


def test_collector_options_split_as_the_shell_splits_an_unquoted_variable():
    # kdump-config runs `makedumpfile $MAKEDUMP_ARGS`: a quote inside the value stays in the word
    with pytest.raises(InputError) as e:
        parse_kdump_tools("MAKEDUMP_ARGS=\"-c -d 3'1\"\n", path="kdump-tools")
    assert str(e.value) == "kdump-tools:1: makedumpfile -d expects dump levels 0-31 (e.g. 31 or 11,31), got \"3'1\""
    # kdump-utils runs `$CORE_COLLECTOR /proc/vmcore …`: tabs separate words, quotes are not removed
    c = parse_kdump_conf("core_collector makedumpfile\t-l -d\t1\n")
    assert c.makedumpfile.dump_levels == (1,) and c.makedumpfile.compression == "lzo"
    c = parse_kdump_conf("core_collector makedumpfile -l -d 31 --message-level '7\n")
    assert c.makedumpfile.dump_levels == (31,)
