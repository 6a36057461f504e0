#!/bin/sh
# Builds the initrd fixtures with GNU cpio (newc and crc formats) and the real compressors
# (gzip, xz --check=crc32, bzip2, lzma, zstd, lz4 -l, lzop), the way dracut and initramfs-tools do:
# an uncompressed early microcode archive, then the compressed main archive.
# Content is small and fixed; timestamps are pinned so the output is reproducible with the same tools.
set -eu
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mk() { mkdir -p "$(dirname "$1")"; printf '%s' "$2" > "$1"; }
(
  cd "$work"
  mkdir -p early/kernel/x86/microcode main/bin main/etc main/usr/lib/systemd main/lib/modules/6.12.0/kernel/drivers/net
  head -c 3000 /dev/zero | tr '\0' 'u' > early/kernel/x86/microcode/GenuineIntel.bin
  head -c 5000 /dev/zero | tr '\0' 'b' > main/bin/busybox
  ln -s busybox main/bin/sh
  ln -s /usr/lib/systemd/this/is/a/long/target/name/that/is/longer/than/one/hundred/and/twenty/eight/bytes/so/that/tmpfs/stores/it/in/a/page/of/its/own main/bin/long-link
  head -c 4097 /dev/zero | tr '\0' 's' > main/usr/lib/systemd/systemd
  mk main/etc/kdump.conf "core_collector makedumpfile -l -d 31
"
  ln main/etc/kdump.conf main/etc/kdump.conf.hardlink
  head -c 2000 /dev/zero | tr '\0' 'm' > main/lib/modules/6.12.0/kernel/drivers/net/mlx5_core.ko.xz
  find early main -exec touch -h -d @1700000000 {} +
  (cd early && find . | LC_ALL=C sort | cpio -o -H newc --quiet --reproducible) > early.cpio
  (cd main && find . | LC_ALL=C sort | cpio -o -H newc --quiet --reproducible) > main.cpio
  (cd main && find . | LC_ALL=C sort | cpio -o -H crc --quiet --reproducible) > main-crc.cpio
)
cp "$work/main.cpio" initrd-plain.cpio
gzip -n -9 -c "$work/main.cpio" > "$work/main.gz"
cat "$work/early.cpio" "$work/main.gz" > initrd-early+gzip.img
xz --check=crc32 -c "$work/main.cpio" > "$work/main.xz"
cat "$work/early.cpio" "$work/main.xz" > initrd-early+xz.img
bzip2 -9 -c "$work/main.cpio" > "$work/main.bz2"
cat "$work/early.cpio" "$work/main.bz2" > initrd-early+bzip2.img
lzma -c "$work/main.cpio" > "$work/main.lzma"
cat "$work/early.cpio" "$work/main.lzma" > initrd-early+lzma.img
zstd -q -19 -c "$work/main.cpio" > "$work/main.zst"
cat "$work/early.cpio" "$work/main.zst" > initrd-early+zstd.img
lz4 -l -q -c "$work/main.cpio" > "$work/main.lz4"
cat "$work/early.cpio" "$work/main.lz4" > initrd-early+lz4.img
lz4 -q -c "$work/main.cpio" > "$work/main.lz4f"
cat "$work/early.cpio" "$work/main.lz4f" > initrd-early+lz4frame.img
lzop -q -c "$work/main.cpio" > "$work/main.lzo"
cat "$work/early.cpio" "$work/main.lzo" > initrd-early+lzo.img
gzip -n -9 -c "$work/main-crc.cpio" > initrd-crc.gz
# two compressed archives with NUL padding between them (what concatenating images with padding gives)
head -c 512 /dev/zero > "$work/pad"
cat "$work/early.cpio" "$work/main.gz" "$work/pad" "$work/main.xz" > initrd-gzip+pad+xz.img
# a truncated compressed stream, and junk after the early archive
head -c 300 "$work/main.gz" > "$work/trunc"
cat "$work/early.cpio" "$work/trunc" > initrd-truncated.img
cat "$work/early.cpio" > initrd-junk.img
printf 'JUNK' >> initrd-junk.img
