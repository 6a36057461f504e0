#!/bin/sh
# Builds the EFI zboot and compressed-kernel fixtures from the real arm64 Image header slice
# (Image-6.1.0-47-arm64.head1k). The zboot header follows drivers/firmware/efi/libstub/zboot-header.S:
# "MZ", "zimg" at 4, payload offset at 8, payload size at 12, the compression name at 24,
# LINUX_PE_MAGIC at 0x38 and the PE header offset at 0x3c.
set -eu
cd "$(dirname "$0")"
python3 - <<'PY'
import gzip, struct, subprocess
head = open("Image-6.1.0-47-arm64.head1k", "rb").read()
open("Image-6.1.0-47-arm64.head1k.gz", "wb").write(gzip.compress(head, 9, mtime=0))
zst = subprocess.run(["zstd", "-q", "-19", "-c"], input=head, capture_output=True, check=True).stdout
for name, payload in (("gzip", gzip.compress(head, 9, mtime=0)), ("zstd", zst)):
    hdr = bytearray(0x200)
    hdr[0:4] = b"MZ\0\0"
    hdr[4:8] = b"zimg"
    struct.pack_into("<II", hdr, 8, 0x200, len(payload))
    hdr[24:24 + len(name)] = name.encode()
    struct.pack_into("<II", hdr, 0x38, 0x818223CD, 0x40)
    open(f"zboot-{name}.efi.head", "wb").write(bytes(hdr) + payload)
PY
