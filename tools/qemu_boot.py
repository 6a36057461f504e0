#!/usr/bin/env python3
"""Boot real Debian kernels under qemu with crashkernel= parameters and check crashplan against them.

Not part of the test suite: this is how crashplan's simulator is validated against the kernel (see
tools/README.md).  Standard library only.

    qemu_boot.py fetch   PACKAGE…          apt-get download + dpkg-deb -x into KERNELS/<arch>-<series>/
    qemu_boot.py boot    --matrix NAME …   boot every case, append records to a JSONL file
    qemu_boot.py one     ARCH SERIES MEM CRASHKERNEL [--extra …] [--efi] [--initrd-pad MIB] [--grub|--sd-boot]
                                                               boot one case and print its record
    qemu_boot.py compare FILE.jsonl[.gz] … plan each case on another boot's log (and /proc/iomem) of the
                                           same machine with `crashplan check … --format json`

Records have the fields of the oracle's boot vectors (shared/oracle/README.md): id, case, arch, kernel,
kernel_release, kernel_package, kernel_config, qemu, config_key, cmdline, crashkernel, reservations,
kernel_lines, mem_total_kb, cma_total_kb, kexec_crash_size, boot_log, iomem, note.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_KERNELS = Path(os.environ.get("CRASHPLAN_KERNELS", "/work/kernels/k"))
CONFIG_KEYS = (
    "CONFIG_CMA", "CONFIG_CMA_SIZE_MBYTES", "CONFIG_CMA_AREAS", "CONFIG_DMA_CMA", "CONFIG_CRASH_DUMP",
    "CONFIG_CRASH_RESERVE", "CONFIG_KEXEC", "CONFIG_KEXEC_FILE", "CONFIG_NUMA", "CONFIG_RANDOMIZE_BASE",
    "CONFIG_PHYSICAL_START", "CONFIG_PHYSICAL_ALIGN", "CONFIG_ARM64_VA_BITS", "CONFIG_ARM64_4K_PAGES",
    "CONFIG_SPARSEMEM_VMEMMAP", "CONFIG_PAGE_EXTENSION", "CONFIG_ZONE_DMA", "CONFIG_ZONE_DMA32",
    "CONFIG_SWIOTLB", "CONFIG_EFI_ZBOOT", "CONFIG_DEFERRED_STRUCT_PAGE_INIT", "CONFIG_MEMORY_HOTPLUG",
)

INIT = """#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
echo "@@@DMESG"
/bin/busybox dmesg
echo "@@@IOMEM"
/bin/busybox cat /proc/iomem
echo "@@@MEMINFO"
/bin/busybox cat /proc/meminfo
echo "@@@KEXEC"
/bin/busybox cat /sys/kernel/kexec_crash_size
echo "@@@END"
/bin/busybox poweroff -f
"""

ARCH = {
    "x86_64": {
        "qemu": "qemu-system-x86_64", "machine": "q35", "console": "ttyS0,115200", "deb": "amd64",
        "args": ["-M", "q35", "-cpu", "max"],
    },
    "arm64": {
        "qemu": "qemu-system-aarch64", "machine": "virt,gic-version=3", "console": "ttyAMA0,115200", "deb": "arm64",
        "args": ["-M", "virt,gic-version=3", "-cpu", "max"],
    },
}

# ---------------------------------------------------------------------------------------------
# kernels and the initramfs
# ---------------------------------------------------------------------------------------------


def fetch(packages: list[str], kernels: Path) -> None:
    """``apt-get download`` each package (``name`` or ``name:arm64``) and extract vmlinuz/config."""
    work = kernels.parent / "debs"
    work.mkdir(parents=True, exist_ok=True)
    subprocess.run(["apt-get", "download", *packages], cwd=work, check=True)
    for deb in sorted(work.glob("*.deb")):
        out = kernels.parent / "x" / deb.stem
        if not out.exists():
            out.mkdir(parents=True)
            subprocess.run(["dpkg-deb", "-x", str(deb), str(out)], check=True)
        for vm in list(out.glob("boot/vmlinuz-*")) + list(out.glob("usr/lib/modules/*/vmlinuz")):
            rel = vm.name[len("vmlinuz-"):] if vm.name.startswith("vmlinuz-") else vm.parent.name
            m = re.match(r"(\d+\.\d+)", rel)
            arch = "arm64" if rel.endswith("arm64") else "x86_64"
            if not m:
                continue
            dest = kernels / f"{arch}-{m.group(1)}"
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy(vm, dest / "vmlinuz")
            (dest / "package").write_text(deb.stem + "\n")
        for cfg in list(out.glob("boot/config-*")) + list(out.glob("usr/lib/modules/*/config")):
            rel = cfg.name[len("config-"):] if cfg.name.startswith("config-") else cfg.parent.name
            m = re.match(r"(\d+\.\d+)", rel)
            arch = "arm64" if rel.endswith("arm64") else "x86_64"
            if m:
                dest = kernels / f"{arch}-{m.group(1)}"
                dest.mkdir(parents=True, exist_ok=True)
                shutil.copy(cfg, dest / "config")


def busybox_for(arch: str, kernels: Path) -> Path:
    if arch == "x86_64":
        return Path("/bin/busybox")
    p = kernels.parent / "x" / "bb-arm64" / "bin" / "busybox"
    if not p.exists():
        work = kernels.parent / "debs"
        work.mkdir(parents=True, exist_ok=True)
        subprocess.run(["apt-get", "download", "busybox-static:arm64"], cwd=work, check=True)
        deb = sorted(work.glob("busybox-static_*_arm64.deb"))[-1]
        subprocess.run(["dpkg-deb", "-x", str(deb), str(p.parents[1])], check=True)
    return p


def initramfs(arch: str, kernels: Path, pad_mib: int = 0) -> Path:
    """The busybox initramfs; ``pad_mib`` adds a file of that many MiB of random bytes (stored, not
    compressed) so the initrd is as large as a distribution's."""
    out = kernels.parent / (f"init-{arch}.cpio.gz" if not pad_mib else f"init-{arch}-pad{pad_mib}.cpio")
    if out.exists():
        return out
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        for sub in ("bin", "proc", "sys", "dev"):
            (root / sub).mkdir()
        if pad_mib:
            (root / "pad").write_bytes(os.urandom(pad_mib << 20))
        shutil.copy(busybox_for(arch, kernels), root / "bin" / "busybox")
        os.mknod(root / "dev" / "console", 0o600 | 0o020000, os.makedev(5, 1))
        (root / "init").write_text(INIT)
        (root / "init").chmod(0o755)
        files = subprocess.run(["find", "."], cwd=root, capture_output=True, text=True, check=True).stdout
        cpio = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=root, input=files.encode(),
                              capture_output=True, check=True).stdout
        out.write_bytes(gzip.compress(cpio, 9, mtime=0) if not pad_mib else cpio)
    return out


def kernel_config(kdir: Path) -> dict[str, str]:
    cfg = kdir / "config"
    if not cfg.exists():
        return {}
    out: dict[str, str] = {}
    for line in cfg.read_text().splitlines():
        m = re.match(r"^(CONFIG_\w+)=(.*)$", line)
        if m and m.group(1) in CONFIG_KEYS:
            out[m.group(1)] = m.group(2).strip('"')
        m = re.match(r"^# (CONFIG_\w+) is not set", line)
        if m and m.group(1) in CONFIG_KEYS:
            out[m.group(1)] = "n"
    return out


# ---------------------------------------------------------------------------------------------
# one boot
# ---------------------------------------------------------------------------------------------

BIG = threading.BoundedSemaphore(1)  # at most one guest of 12 GiB or more at a time (24 GiB host)


def _size_bytes(s: str) -> int:
    m = re.fullmatch(r"(\d+)([KMGT]?)", s)
    assert m, s
    return int(m.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30, "T": 40}[m.group(2)]


def _sections(out: str) -> dict[str, str]:
    parts: dict[str, str] = {}
    cur = None
    buf: list[str] = []
    for line in out.replace("\r", "").splitlines():
        if line.startswith("@@@"):
            if cur:
                parts[cur] = "\n".join(buf) + "\n"
            cur, buf = line[3:].strip(), []
        elif cur:
            buf.append(line)
    if cur:
        parts[cur] = "\n".join(buf) + "\n"
    return parts


def _iomem_crash(iomem: str) -> list[tuple[int, int]]:
    out = []
    for line in iomem.splitlines():
        m = re.match(r"^\s*([0-9a-f]+)-([0-9a-f]+) : Crash kernel\s*$", line)
        if m:
            out.append((int(m.group(1), 16), int(m.group(2), 16) + 1))
    return out


_TS = re.compile(r"^\[\s*\d+\.\d+\]\s?")


def reservations(dmesg: str, iomem: str) -> list[dict]:
    """What the kernel reserved: ``Crash kernel`` in /proc/iomem (main first, then low — the low one
    is the one the kernel's low-memory line names) and the crashkernel CMA ranges of the log (the run
    of ``cma: Reserved`` lines closed by ``crashkernel CMA reserved``/``reservation failed``)."""
    lines = [_TS.sub("", x) for x in dmesg.splitlines()]
    low_starts = set()
    for s in lines:
        m = re.match(r"^crashkernel low memory reserved: 0x([0-9a-f]+) - ", s)
        if m:
            low_starts.add(int(m.group(1), 16))
        m = re.match(r"^Reserving (\d+)MB of low memory at (\d+)MB for crashkernel", s)
        if m:
            low_starts.add(int(m.group(2)) << 20)
    classic = _iomem_crash(iomem)
    main = [r for r in classic if r[0] not in low_starts]
    low = [r for r in classic if r[0] in low_starts]
    out = [{"kind": "crashkernel", "start": a, "end": b, "size": b - a} for a, b in main]
    out += [{"kind": "crashkernel-low", "start": a, "end": b, "size": b - a} for a, b in low]
    run: list[tuple[int, int]] = []
    for s in lines:
        m = re.match(r"^cma: Reserved (\d+) MiB at 0x([0-9a-f]+)", s)
        if m:
            a = int(m.group(2), 16)
            run.append((a, a + (int(m.group(1)) << 20)))
            continue
        if s.startswith("cma: "):
            continue
        if s.startswith("crashkernel CMA reserv"):
            out += [{"kind": "cma", "start": a, "end": b, "size": b - a} for a, b in run]
        run = []
    return out


_KLINE = re.compile(r"(crashkernel|Crash kernel|cma:|Command line|Memory: |NODE_DATA|RAMDISK)")


OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE_4M.fd")  # Debian's ovmf package
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS_4M.fd")
SD_BOOT = Path("/usr/lib/systemd/boot/efi/systemd-bootx64.efi")  # Debian's systemd-boot-efi


def boot(arch: str, series: str, mem: str, crashkernel: str, *, extra: str = "", kaslr: bool = False,
         case: str = "", kernels: Path = DEFAULT_KERNELS, timeout: int = 600, efi: bool = False,
         initrd_pad: int = 0, grub: bool = False, sd_boot: bool = False) -> dict:
    a = ARCH[arch]
    kdir = kernels / f"{arch}-{series}"
    vmlinuz = kdir / "vmlinuz"
    initrd = initramfs(arch, kernels, initrd_pad)
    vars_copy = None
    firmware: list[str] = []
    if efi:  # OVMF: the kernel runs as an EFI application, the EFI stub takes the initrd from the firmware
        vars_copy = tempfile.NamedTemporaryFile(suffix=".fd", delete=False)
        vars_copy.write(OVMF_VARS.read_bytes())
        vars_copy.close()
        firmware = ["-drive", f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}",
                    "-drive", f"if=pflash,format=raw,file={vars_copy.name}"]
    params = [f"console={a['console']}", "panic=-1"] + ([] if kaslr else ["nokaslr"]) + ["quiet"]
    params += extra.split() + crashkernel.split()
    cmdline = " ".join(params)
    load = ["-kernel", str(vmlinuz), "-initrd", str(initrd), "-append", cmdline]
    iso_dir = None
    if grub:  # GRUB's own linux/initrd commands load them (a grub-mkrescue CD: BIOS and x86_64-efi)
        iso_dir = tempfile.mkdtemp()
        iso = Path(iso_dir) / "grub.iso"
        tree = Path(iso_dir) / "cd"
        (tree / "boot" / "grub").mkdir(parents=True)
        shutil.copy(vmlinuz, tree / "vmlinuz")
        shutil.copy(initrd, tree / "initrd")
        (tree / "boot" / "grub" / "grub.cfg").write_text(
            f"set timeout=0\nmenuentry linux {{\n  linux /vmlinuz {cmdline}\n  initrd /initrd\n}}\n")
        subprocess.run(["grub-mkrescue", "-o", str(iso), str(tree)], check=True, capture_output=True)
        load = ["-cdrom", str(iso), "-boot", "d"]
    if sd_boot:  # systemd-boot from an ESP image (mtools); it hands the initrd over by LoadFile2
        iso_dir = tempfile.mkdtemp()
        esp = Path(iso_dir) / "esp.img"
        with open(esp, "wb") as f:
            f.truncate((vmlinuz.stat().st_size + initrd.stat().st_size + (64 << 20)) // (1 << 20) << 20)
        conf = Path(iso_dir) / "loader.conf"
        conf.write_text("timeout 0\ndefault linux.conf\n")
        entry = Path(iso_dir) / "linux.conf"
        entry.write_text(f"title linux\nlinux /vmlinuz\ninitrd /initrd\noptions {cmdline}\n")
        i = ["-i", str(esp)]
        for argv in (["mformat", *i, "-F", "::"], ["mmd", *i, "::/EFI", "::/EFI/BOOT", "::/loader", "::/loader/entries"],
                     ["mcopy", *i, str(SD_BOOT), "::/EFI/BOOT/BOOTX64.EFI"], ["mcopy", *i, str(conf), "::/loader/loader.conf"],
                     ["mcopy", *i, str(entry), "::/loader/entries/linux.conf"], ["mcopy", *i, str(vmlinuz), "::/vmlinuz"],
                     ["mcopy", *i, str(initrd), "::/initrd"]):
            subprocess.run(argv, check=True, capture_output=True)
        load = ["-drive", f"file={esp},format=raw,if=virtio"]
    cmd = ["nice", "-n", "10", a["qemu"], *a["args"], *firmware, "-smp", "1", "-m", mem, *load,
           "-display", "none", "-serial", "stdio", "-monitor", "none", "-nic", "none", "-no-reboot"]
    big = _size_bytes(mem) >= 12 << 30
    ctx = BIG if big else contextlib.nullcontext()
    try:
        with ctx:
            p = subprocess.run(cmd, capture_output=True, timeout=timeout)
    finally:
        if vars_copy is not None:
            os.unlink(vars_copy.name)
        if iso_dir is not None:
            shutil.rmtree(iso_dir)
    out = p.stdout.decode("utf-8", "replace")
    sec = _sections(out)
    if "END" not in sec:
        raise RuntimeError(f"{case}: the guest did not finish (rc {p.returncode}): {p.stderr.decode()[-500:]}"
                           f"{out[-2000:]}")
    dmesg, iomem = sec["DMESG"], sec["IOMEM"]
    banner = re.search(r"Linux version (\S+) (.*)", dmesg)
    release = banner.group(1) if banner else ""
    debian = re.findall(r"Debian (\d+\.\d+\.\d+)", banner.group(2)) if banner else []
    version = debian[-1] if debian else ""
    meminfo = dict(re.findall(r"^(\w+):\s+(\d+) kB", sec["MEMINFO"], re.M))
    kexec = sec.get("KEXEC", "").strip()
    pkg = (kdir / "package").read_text().strip() if (kdir / "package").exists() else ""
    key = "|".join([series, arch, mem, a["machine"].split(",")[0], str(kaslr), extra, "1"]
                   + ([f"efi={efi}|pad{initrd_pad}|grub={grub}" + ("|sd-boot" if sd_boot else "")]
                      if efi or initrd_pad or grub else []))
    return {
        "id": f"{case}@{series}", "case": case, "arch": arch, "kernel": version, "kernel_release": release,
        "kernel_package": pkg, "kernel_config": kernel_config(kdir),
        "qemu": {"machine": a["machine"].split(",")[0], "mem": mem, "smp": 1, "kaslr": kaslr,
                 "extra_params": extra, **({"efi": efi, "initrd_pad_mib": initrd_pad, "grub": grub, "sd_boot": sd_boot}
                                           if efi or initrd_pad or grub else {})},
        "config_key": key, "cmdline": cmdline, "crashkernel": crashkernel,
        "reservations": reservations(dmesg, iomem),
        "kernel_lines": [x for x in dmesg.splitlines() if _KLINE.search(x)],
        "mem_total_kb": int(meminfo.get("MemTotal", 0)),
        "cma_total_kb": int(meminfo["CmaTotal"]) if "CmaTotal" in meminfo else None,
        "kexec_crash_size": int(kexec) if kexec.isdigit() else None,
        "boot_log": dmesg, "iomem": iomem, "note": "",
    }


# ---------------------------------------------------------------------------------------------
# the matrix
# ---------------------------------------------------------------------------------------------

X86 = ("6.1", "6.12", "7.2", "7.3")
ARM = ("6.1", "6.12", "7.2", "7.3")


def _cases(arch: str, series: str) -> list[tuple[str, str, str, str]]:
    """(case, mem, extra, crashkernel): at least two boots per machine so every log plans another."""
    cma = int(series.split(".")[0]) >= 7  # crashkernel=,cma: x86 6.17+, arm64 7.3+ (older kernels reject it)
    c: list[tuple[str, str, str, str]] = []
    ram = ("1G", "2G", "3G", "5G", "12G", "16G")
    for mem in ram:
        c.append((f"m{mem}-256M", mem, "", "crashkernel=256M"))
        c.append((f"m{mem}-512M-high", mem, "", "crashkernel=512M,high"))
    c += [
        ("m1G-768M", "1G", "", "crashkernel=768M"),
        ("m1G-1000M", "1G", "", "crashkernel=1000M"),
        ("m1G-auto", "1G", "", "crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M"),
        ("m2G-1536M", "2G", "", "crashkernel=1536M"),
        ("m2G-at512M", "2G", "", "crashkernel=256M@512M"),
        ("m2G-at1G", "2G", "", "crashkernel=256M@1G"),
        ("m3G-2G", "3G", "", "crashkernel=2G"),
        ("m3G-2200M", "3G", "", "crashkernel=2200M"),
        ("m3G-low", "3G", "", "crashkernel=256M,high crashkernel=64M,low"),
        ("m5G-3G", "5G", "", "crashkernel=3G"),
        ("m5G-2G-low0", "5G", "", "crashkernel=2G,high crashkernel=0M,low"),
        ("m5G-at4G", "5G", "", "crashkernel=512M@4G"),
        ("m12G-4G", "12G", "", "crashkernel=4G"),
        ("m12G-2G-low", "12G", "", "crashkernel=2G,high crashkernel=512M,low"),
        ("m16G-auto", "16G", "", "crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M"),
        ("m16G-8G-high", "16G", "", "crashkernel=8G,high"),
    ]
    if cma:
        c += [
            ("m5G-cma", "5G", "", "crashkernel=256M crashkernel=1G,cma"),
            ("m12G-cma", "12G", "", "crashkernel=256M crashkernel=4G,cma"),
            ("m3G-cma", "3G", "", "crashkernel=128M crashkernel=1G,cma"),
        ]
    if arch == "x86_64":
        holes = "memmap=64M$0x6c000000 memmap=16M$0x100000000"
        c += [
            ("h4G-256M", "4G", holes, "crashkernel=256M"),
            ("h4G-512M", "4G", holes, "crashkernel=512M"),
            ("h4G-1G-high", "4G", holes, "crashkernel=1G,high"),
            ("mem3G-256M", "6G", "mem=3G", "crashkernel=256M"),
            ("mem3G-2G", "6G", "mem=3G", "crashkernel=2G"),
            ("mem5G-256M", "8G", "mem=5G", "crashkernel=256M"),
            ("mem5G-3G", "8G", "mem=5G", "crashkernel=3G"),
        ]
        if cma:
            frag = " ".join(f"memmap=2M${hex(0x100000000 + i * 0x18000000)}" for i in range(8))
            c += [
                ("frag-cma-1G", "6G", frag, "crashkernel=256M crashkernel=1G,cma"),
                ("frag-cma-2G", "6G", frag, "crashkernel=256M crashkernel=2G,cma"),
                ("frag-cma-3G", "6G", frag, "crashkernel=3G,cma"),
            ]
    else:
        c += [
            ("mem3G-256M", "6G", "mem=3G", "crashkernel=256M"),
            ("mem3G-512M-high", "6G", "mem=3G", "crashkernel=512M,high"),
            ("mem5G-256M", "8G", "mem=5G", "crashkernel=256M"),
            ("mem5G-2G", "8G", "mem=5G", "crashkernel=2G"),
        ]
        if cma:
            c.append(("mem5G-cma", "8G", "mem=5G", "crashkernel=256M crashkernel=2G,cma"))
    return c


def matrix(name: str) -> list[tuple]:
    """(arch, series, case, mem, extra, crashkernel, kaslr) of a named matrix."""
    out = []
    if name in ("full", "x86_64"):
        out += [("x86_64", s, *c) for s in X86 for c in _cases("x86_64", s)]
    if name in ("full", "arm64"):
        out += [("arm64", s, *c) for s in ARM for c in _cases("arm64", s)]
    if name == "arm64-7.0":  # where sparse_init moved after the crash reservation
        out += [("arm64", "7.0", *c) for c in _cases("arm64", "7.0") if c[1] in ("5G", "12G")]
    if name == "kaslr":  # KASLR on: x86 moves the image physically, arm64 (no EFI) only virtually
        for arch in ("x86_64", "arm64"):
            for s in ("6.12", "7.3"):
                for case, mem, ck in (("k4G-256M", "4G", "crashkernel=256M"), ("k4G-1G", "4G", "crashkernel=1G"),
                                      ("k4G-512M-high", "4G", "crashkernel=512M,high"),
                                      ("k6G-512M-high", "6G", "crashkernel=512M,high"),
                                      ("k6G-2G", "6G", "crashkernel=2G")):
                    out.append((arch, s, case, mem, "", ck, True))
    if name == "edge":  # fixed offsets at the edges of the image, initrd and DTB; RAM sizes off the 128 MiB grid
        for s in X86:
            out += [("x86_64", s, f"x4G-at{o}", "4G", "", f"crashkernel=128M@{o}") for o in ("48M", "64M", "80M")]
            out += [("x86_64", s, f"x2560M-{n}", "2560M", "", ck) for n, ck in (
                ("256M", "crashkernel=256M"), ("1G", "crashkernel=1G"), ("512M-high", "crashkernel=512M,high"))]
        for s in ARM:
            out += [("arm64", s, f"a4G-at{o}", "4G", "", f"crashkernel={z}@{o}") for z, o in (
                ("32M", "0x44000000"), ("64M", "0x46000000"), ("16M", "0x48400000"), ("16M", "0x42c00000"),
                ("16M", "0x42200000"),
                ("16M", "0x43400000"))]
            out += [("arm64", s, f"a4000M-{n}", "4000M", "", ck) for n, ck in (
                ("256M", "crashkernel=256M"), ("1G", "crashkernel=1G"), ("512M-high", "crashkernel=512M,high"))]
    if name == "reloc":  # the initrd outside usable RAM (mem= below it, a memmap= hole over it): relocated
        for s in X86:
            for case, mem, extra, ck in (
                    ("memlow-256M", "4G", "mem=1G", "crashkernel=256M"),
                    ("memlow-512M", "4G", "mem=1G", "crashkernel=512M"),
                    ("memlow-256M-high", "4G", "mem=1G", "crashkernel=256M,high"),
                    ("hinitrd-256M", "2G", "memmap=8M$0x7f800000", "crashkernel=256M"),
                    ("hinitrd-1G", "2G", "memmap=8M$0x7f800000", "crashkernel=1G")):
                out.append(("x86_64", s, case, mem, extra, ck))
    if name == "cma2":  # ,cma beside ,high / @offset, alone, top-down (limit < 4G + size), too large
        for arch, s in (("x86_64", "7.2"), ("x86_64", "7.3"), ("arm64", "7.3")):
            for case, mem, ck in (
                    ("c6G-high-cma", "6G", "crashkernel=1G,high crashkernel=1G,cma"),
                    ("c6G-at-cma", "6G", "crashkernel=256M@5G crashkernel=512M,cma"),
                    ("c6G-cma-only", "6G", "crashkernel=2G,cma"),
                    ("c6G-cma-big", "6G", "crashkernel=256M crashkernel=5G,cma"),
                    ("c6G-cma-huge", "6G", "crashkernel=256M crashkernel=7G,cma"),
                    ("c5G-cma-topdown", "5G", "crashkernel=128M crashkernel=2G,cma")):
                out.append((arch, s, case, mem, "", ck))
    if name == "5.10":  # Debian 11's 5.10: plain, range, ,high, ,low, @offset, sizes that do not fit
        for arch in ("x86_64", "arm64"):
            for case, mem, ck in (
                    ("m1G-256M", "1G", "crashkernel=256M"),
                    ("m1G-auto", "1G", "crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M"),
                    ("m1G-768M", "1G", "crashkernel=768M"),
                    ("m2G-256M", "2G", "crashkernel=256M"),
                    ("m2G-1536M", "2G", "crashkernel=1536M"),
                    ("m2G-512M-high", "2G", "crashkernel=512M,high"),
                    ("m5G-256M", "5G", "crashkernel=256M"),
                    ("m5G-512M-high", "5G", "crashkernel=512M,high"),
                    ("m5G-3G", "5G", "crashkernel=3G"),
                    ("m5G-2G-low0", "5G", "crashkernel=2G,high crashkernel=0M,low"),
                    ("m5G-1G-high-low", "5G", "crashkernel=1G,high crashkernel=64M,low"),
                    ("m5G-auto", "5G", "crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M")):
                out.append((arch, "5.10", case, mem, "", ck))
            if arch == "x86_64":
                holes = "memmap=64M$0x6c000000 memmap=16M$0x100000000"
                out += [("x86_64", "5.10", "m2G-at512M", "2G", "", "crashkernel=256M@512M"),
                        ("x86_64", "5.10", "m5G-at4G", "5G", "", "crashkernel=512M@4G"),
                        ("x86_64", "5.10", "h4G-256M", "4G", holes, "crashkernel=256M"),
                        ("x86_64", "5.10", "h4G-512M", "4G", holes, "crashkernel=512M"),
                        ("x86_64", "5.10", "h4G-1G-high", "4G", holes, "crashkernel=1G,high"),
                        ("x86_64", "5.10", "mem3G-256M", "6G", "mem=3G", "crashkernel=256M"),
                        ("x86_64", "5.10", "mem3G-2G", "6G", "mem=3G", "crashkernel=2G"),
                        ("x86_64", "5.10", "memlow-256M", "4G", "mem=1G", "crashkernel=256M"),
                        ("x86_64", "5.10", "memlow-512M-high", "4G", "mem=1G", "crashkernel=512M,high")]
            else:
                out += [("arm64", "5.10", "mem3G-256M", "6G", "mem=3G", "crashkernel=256M"),
                        ("arm64", "5.10", "mem3G-2G", "6G", "mem=3G", "crashkernel=2G"),
                        ("arm64", "5.10", "m2G-at1G", "2G", "", "crashkernel=256M@0x60000000"),
                        ("arm64", "5.10", "m2G-at1G-odd", "2G", "", "crashkernel=256M@0x60100000"),
                        ("arm64", "5.10", "m5G-at4G", "5G", "", "crashkernel=512M@0x100000000")]
    if not out:
        raise SystemExit(f"unknown matrix {name!r}")
    return [m if len(m) == 7 else (*m, False) for m in out]


def _load(path: Path) -> list[dict]:
    if not path.exists():
        return []
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(x) for x in f if x.strip()]


def run_matrix(name: str, out: Path, kernels: Path, jobs: int, only: str | None) -> None:
    done = {(r["arch"], r["id"]) for r in _load(out)}
    todo = [m for m in matrix(name) if (m[0], f"{m[2]}@{m[1]}") not in done]
    if only:
        todo = [m for m in todo if re.search(only, f"{m[0]}:{m[2]}@{m[1]}")]
    todo = [m for m in todo if (kernels / f"{m[0]}-{m[1]}" / "vmlinuz").exists()]
    # big guests last, so the small ones run two at a time
    todo.sort(key=lambda m: (_size_bytes(m[3]) >= 12 << 30, m[0], m[1]))
    print(f"{len(todo)} boots to run", file=sys.stderr)
    lock = threading.Lock()
    for arch in {m[0] for m in todo}:
        initramfs(arch, kernels)
    with ThreadPoolExecutor(jobs) as ex:
        futs = {ex.submit(boot, a, s, mem, ck, extra=extra, case=case, kernels=kernels, kaslr=kaslr): (a, s, case)
                for a, s, case, mem, extra, ck, kaslr in todo}
        for f in as_completed(futs):
            a, s, case = futs[f]
            try:
                rec = f.result()
            except Exception as e:  # noqa: BLE001 - report and go on
                print(f"FAIL {a}:{case}@{s}: {e}", file=sys.stderr)
                continue
            with lock, open(out, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(rec, sort_keys=True) + "\n")
            regs = " ".join(f"{r['kind']}:{r['start']:#x}+{r['size'] >> 20}M" for r in rec["reservations"])
            print(f"ok {a}:{rec['id']} {regs or '-'}", file=sys.stderr)


# ---------------------------------------------------------------------------------------------
# compare with crashplan check
# ---------------------------------------------------------------------------------------------


def crashplan_check(params: str, source: str, text: str, extra: tuple[str, ...] = ()) -> dict:
    """``crashplan check PARAMS --<source> FILE --format json``, in-process (the CLI's own code path)."""
    sys.path.insert(0, str(REPO))
    from crashplan.cli import main

    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write(text)
        name = f.name
    try:
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(io.StringIO()):
            main(["check", params, f"--{source}", name, "--format", "json", *extra])
        return json.loads(buf.getvalue())
    finally:
        os.unlink(name)


def compare(paths: list[Path], source: str, verbose: bool) -> int:
    recs = [r for p in paths for r in _load(p)]
    by_key: dict[str, list[dict]] = {}
    for r in recs:
        by_key.setdefault(r["arch"] + "|" + r["config_key"], []).append(r)
    stats: dict[tuple[str, str], list[int]] = {}
    bad = 0
    for r in recs:
        for other in by_key[r["arch"] + "|" + r["config_key"]]:
            text = other["boot_log"] if source == "boot-log" else other["iomem"]
            # /proc/iomem names neither the release nor the architecture
            extra = ("--kernel", other["kernel_release"], "--arch", other["arch"]) if source == "iomem" else ()
            res = crashplan_check(r["crashkernel"], source, text, extra)
            got = [{k: x[k] for k in ("kind", "start", "end", "size")} for x in res.get("reservations", [])]
            want = [{k: x[k] for k in ("kind", "start", "end", "size")} for x in r["reservations"]]
            st = stats.setdefault((r["arch"], r["kernel"]), [0, 0])
            st[0] += 1
            if got == want:
                st[1] += 1
            else:
                bad += 1
                if verbose:
                    def fmt(xs: list[dict]) -> str:
                        return " ".join(f"{x['kind']}:{x['start']:#x}+{x['size'] >> 20}M" for x in xs) or "-"
                    print(f"DIFF {r['arch']}:{r['id']} <- {other['id']}: kernel {fmt(want)} | crashplan {fmt(got)}")
    for (arch, kernel), (n, ok) in sorted(stats.items()):
        print(f"{arch:7} {kernel:10} {ok:4}/{n:<4} byte-exact ({source})")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kernels", type=Path, default=DEFAULT_KERNELS,
                    help="directory of <arch>-<series>/vmlinuz (default $CRASHPLAN_KERNELS or /work/kernels/k)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fetch")
    f.add_argument("packages", nargs="+")
    b = sub.add_parser("boot")
    b.add_argument("--matrix", default="full")
    b.add_argument("--out", type=Path, required=True)
    b.add_argument("-j", "--jobs", type=int, default=2)
    b.add_argument("--only", help="regex over ARCH:CASE@SERIES")
    o = sub.add_parser("one")
    o.add_argument("arch")
    o.add_argument("series")
    o.add_argument("mem")
    o.add_argument("crashkernel")
    o.add_argument("--extra", default="")
    o.add_argument("--kaslr", action="store_true")
    o.add_argument("--case", default="one")
    o.add_argument("--efi", action="store_true", help="boot through OVMF (UEFI) instead of SeaBIOS")
    o.add_argument("--initrd-pad", type=int, default=0, metavar="MIB", help="make the initrd MIB larger")
    o.add_argument("--grub", action="store_true", help="load kernel and initrd with GRUB (grub-mkrescue CD)")
    o.add_argument("--sd-boot", action="store_true", help="load them with systemd-boot (an ESP image; needs --efi)")
    c = sub.add_parser("compare")
    c.add_argument("files", nargs="+", type=Path)
    c.add_argument("--source", choices=("boot-log", "iomem"), default="boot-log")
    c.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args(argv)
    if a.cmd == "fetch":
        fetch(a.packages, a.kernels)
    elif a.cmd == "boot":
        run_matrix(a.matrix, a.out, a.kernels, a.jobs, a.only)
    elif a.cmd == "one":
        rec = boot(a.arch, a.series, a.mem, a.crashkernel, extra=a.extra, kaslr=a.kaslr, case=a.case,
                   kernels=a.kernels, efi=a.efi, initrd_pad=a.initrd_pad, grub=a.grub, sd_boot=a.sd_boot)
        print(json.dumps(rec, indent=1, sort_keys=True))
    elif a.cmd == "compare":
        return compare(a.files, a.source, a.verbose)
    return 0


if __name__ == "__main__":
    sys.exit(main())
