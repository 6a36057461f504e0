"""``crashplan status`` on fake machine trees (real files under --root), a machine file and this host;
the capability check that status, check and suggest share."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import jsonschema
import pytest

from conftest import ROOT
from crashplan.readiness import AT_RISK, NOT_READY, READY, StatusFacts, assess, kdump_capability
from crashplan.sizing.kconfig import parse_kernel_config

SCHEMA = json.loads((ROOT / "crashplan" / "data" / "schemas" / "status.json").read_text(encoding="utf-8"))
MICROVM = ROOT / "examples" / "x86_64-microvm-24g.yaml"
SIZING = ROOT / "tests" / "data" / "sizing"
RELEASE = "6.12.0-test"
M = 1 << 20

CONFIG_KDUMP = "CONFIG_X86_64=y\nCONFIG_KEXEC=y\nCONFIG_KEXEC_FILE=y\nCONFIG_CRASH_DUMP=y\nCONFIG_PROC_VMCORE=y\nCONFIG_CMA=y\n"
CONFIG_NO_KEXEC = ("CONFIG_X86_64=y\n# CONFIG_KEXEC is not set\n# CONFIG_KEXEC_FILE is not set\n"
                   "CONFIG_VMCORE_INFO=y\n# CONFIG_CMA is not set\n")


def validate(doc: dict) -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)


def make_tree(base: Path, *, config: str = CONFIG_KDUMP, crash_mb: int | None = 256, loaded: str | None = "1",
              cmdline: str = "BOOT_IMAGE=/vmlinuz root=/dev/vda1 crashkernel=256M", gz: bool = False,
              hidden: bool = False, service: str = "enabled", makedump: str = "-c -d 31",
              kdump_files: bool = True) -> Path:
    """A machine tree as crashplan status reads it: 8 GiB of x86_64 RAM, kdump-tools."""
    def w(rel: str, text: str | bytes) -> None:
        p = base / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(text if isinstance(text, bytes) else text.encode())

    w("proc/sys/kernel/osrelease", RELEASE + "\n")
    w("proc/sys/kernel/arch", "x86_64\n")
    w("proc/cmdline", cmdline + "\n")
    crash_start = 0x2F000000
    lines = ["00000000-00000fff : Reserved", "00001000-0009ffff : System RAM", "000a0000-000fffff : Reserved",
             "00100000-bfffffff : System RAM", "  01000000-01ffffff : Kernel code"]
    if crash_mb:
        lines.append(f"  {crash_start:08x}-{crash_start + crash_mb * M - 1:08x} : Crash kernel")
    lines += ["c0000000-ffffffff : PCI Bus 0000:00", "100000000-23fffffff : System RAM"]
    if hidden:
        lines = [" ".join(["00000000-00000000"] + ln.strip().split(" ")[1:]) if not ln.startswith(" ")
                 else "  00000000-00000000 " + " ".join(ln.strip().split(" ")[1:]) for ln in lines]
    w("proc/iomem", "\n".join(lines) + "\n")
    # present pages summing to the RAM /proc/iomem shows (for the reader without root)
    pages = (0x9F000 + 0xBFF00000 + 0x140000000) // 4096
    w("proc/zoneinfo", f"Node 0, zone   Normal\n  pages free     1\n        present  {pages}\n")
    if gz:
        w("proc/config.gz", gzip.compress(config.encode()))
    else:
        w(f"boot/config-{RELEASE}", config)
    if crash_mb is not None:
        w("sys/kernel/kexec_crash_size", f"{crash_mb * M}\n")
    if loaded is not None:
        w("sys/kernel/kexec_crash_loaded", loaded + "\n")
    if crash_mb:
        w("var/log/dmesg", "[    0.000000] Linux version 6.12.0-test (gcc) #1 SMP\n"
          f"[    0.010000] crashkernel reserved: 0x{crash_start:016x} - 0x{crash_start + crash_mb * M:016x} "
          f"({crash_mb} MB)\n")
    w("etc/default/kdump-tools", f'USE_KDUMP=1\nMAKEDUMP_ARGS="{makedump}"\n')
    if kdump_files:  # Debian's kdump kernel and initrd: a real bzImage header, a real gzip'd cpio initrd
        w(f"boot/vmlinuz-{RELEASE}", (SIZING / "bzImage-6.12.111+deb12-amd64.head24k").read_bytes())
        w(f"var/lib/kdump/initrd.img-{RELEASE}", (SIZING / "initrd-early+gzip.img").read_bytes())
    w("lib/systemd/system/kdump-tools.service", "[Unit]\nDescription=Kernel crash dump capture service\n")
    if service == "enabled":
        wants = base / "etc/systemd/system/multi-user.target.wants"
        wants.mkdir(parents=True, exist_ok=True)
        (wants / "kdump-tools.service").symlink_to("/lib/systemd/system/kdump-tools.service")
    return base


def status(run_cli, *args: str) -> tuple[int, dict, str]:
    rc, out, err = run_cli("status", *args, "--format", "json")
    assert err == ""
    doc = json.loads(out)
    validate(doc)
    assert doc["exit_status"] == rc
    rc2, text, err2 = run_cli("status", *args, "--width", "80")
    assert rc2 == rc and err2 == ""
    assert all(len(line) <= 80 for line in text.splitlines()), text
    return rc, doc, text


def flat(text: str) -> str:
    return " ".join(text.split())


def keys(doc: dict) -> set[str]:
    return {r["key"] for r in doc["reasons"]}


# ---------------------------------------------------------------------------------------------
# fake roots through the real command line


def test_ready_machine(tmp_path, run_cli):
    rc, doc, text = status(run_cli, "--root", str(make_tree(tmp_path)))
    assert (rc, doc["verdict"], doc["reasons"]) == (0, READY, [])
    assert doc["kernel"]["capability"]["can_kdump"] is True
    assert doc["reservation"]["crash_regions"] == [{"start": 0x2F000000, "end": 0x3F000000, "size": 256 * M}]
    assert doc["reservation"]["classic"] == doc["reservation"]["kexec_crash_size"] == 256 * M
    assert doc["reservation"]["boot_log"] == ["crashkernel reserved: 0x000000002f000000 - 0x000000003f000000 (256 MB)"]
    assert doc["loaded"]["crash_loaded"] is True
    assert doc["service"]["units"][1] == {"unit": "kdump-tools.service", "enabled": "enabled", "active": None,
                                          "source": "unit files"}
    assert doc["service"]["tooling"]["flavour"] == "kdump-tools" and doc["service"]["tooling"]["dump_levels"] == [31]
    need = doc["sizing"]["needed"]
    assert 0 < need < 256 * M and doc["sizing"]["enough"] is True
    assert doc["sizing"]["ratio"] == round(256 * M / need, 3)
    assert doc["source"] == {"kind": "root", "path": str(tmp_path)}
    # the prediction for crashkernel=256M is what the kernel did
    assert doc["prediction"]["params"] == "crashkernel=256M" and doc["prediction"]["replayed"]
    assert [r["size"] for r in doc["prediction"]["regions"]] == [256 * M]
    first = text.splitlines()[0]
    assert first.startswith("kdump is READY: ") and "256M reserved" in first and "enough" in first
    assert f"needed: enough ({256 * M / need:.2f}×)" in text
    # the kdump kernel and initrd were read, not assumed
    assert not [a for a in doc["sizing"]["assumptions"] if "kernel image" in a or "initrd" in a]


def test_needed_comes_from_the_installed_kdump_kernel_and_initrd(tmp_path, run_cli):
    _, real, _ = status(run_cli, "--root", str(make_tree(tmp_path / "a")))
    _, assumed, text = status(run_cli, "--root", str(make_tree(tmp_path / "b", kdump_files=False)))
    assert real["sizing"]["needed"] < assumed["sizing"]["needed"]
    assert any("no kdump initrd known" in a for a in assumed["sizing"]["assumptions"])
    assert "Assumed   no kdump initrd known" in text


def test_kernel_without_kexec_is_not_ready(tmp_path, run_cli):
    tree = make_tree(tmp_path, config=CONFIG_NO_KEXEC, crash_mb=None, loaded=None, gz=True)
    rc, doc, text = status(run_cli, "--root", str(tree))
    assert (rc, doc["verdict"]) == (1, NOT_READY)
    assert keys(doc) == {"kernel-cannot-kdump"}
    assert doc["kernel"]["capability"]["source"] == "/proc/config.gz"
    assert doc["loaded"]["crash_loaded"] is False  # no kexec syscall: nothing can be loaded
    assert doc["prediction"]["regions"] == [] and "does not read crashkernel=" in doc["prediction"]["note"]
    assert flat(text).startswith("kdump is NOT READY: the kernel is built without CONFIG_KEXEC and CONFIG_KEXEC_FILE")
    assert "CONFIG_CRASH_DUMP" in text


def test_nothing_loaded_is_not_ready(tmp_path, run_cli):
    rc, doc, _ = status(run_cli, "--root", str(make_tree(tmp_path, loaded="0")))
    assert (rc, doc["verdict"], keys(doc)) == (1, NOT_READY, {"not-loaded"})


def test_no_crashkernel_is_not_ready(tmp_path, run_cli):
    tree = make_tree(tmp_path, crash_mb=0, loaded="0", cmdline="root=/dev/vda1 quiet")
    rc, doc, text = status(run_cli, "--root", str(tree))
    assert rc == 1 and "nothing-reserved" in keys(doc)
    assert "no crashkernel= on the command line" in flat(text)


def test_reservation_smaller_than_needed_is_at_risk(tmp_path, run_cli):
    tree = make_tree(tmp_path, crash_mb=64, cmdline="root=/dev/vda1 crashkernel=64M")
    rc, doc, text = status(run_cli, "--root", str(tree))
    assert (rc, doc["verdict"], keys(doc)) == (4, AT_RISK, {"too-small"})
    assert doc["sizing"]["enough"] is False and doc["sizing"]["ratio"] < 1
    assert flat(text).startswith("kdump is AT RISK: 64M reserved, ")
    assert "too small" in text


def test_disabled_service_with_a_loaded_kernel_is_at_risk(tmp_path, run_cli):
    rc, doc, _ = status(run_cli, "--root", str(make_tree(tmp_path, service="disabled")))
    assert (rc, doc["verdict"], keys(doc)) == (4, AT_RISK, {"service-disabled"})


def test_prediction_that_differs_from_the_kernel_is_at_risk(tmp_path, run_cli):
    # the command line asks for 256M; the kernel shows 512M (another kernel, or a changed line)
    tree = make_tree(tmp_path, crash_mb=512, cmdline="root=/dev/vda1 crashkernel=256M")
    rc, doc, _ = status(run_cli, "--root", str(tree))
    assert (rc, keys(doc)) == (4, {"prediction-differs"})


def test_unreadable_files_are_listed_not_fatal(run_cli):
    """The tree read by an unprivileged user: /proc/iomem zeroed, kexec_crash_loaded and the kernel
    config unreadable (mode 000, read as nobody when the tests run as root)."""
    base = Path(tempfile.mkdtemp(prefix="crashplan-status-"))
    try:
        os.chmod(base, 0o755)
        tree = make_tree(base, hidden=True)
        for rel in ("sys/kernel/kexec_crash_loaded", f"boot/config-{RELEASE}"):
            os.chmod(tree / rel, 0)
        for d, dirs, files in os.walk(base):
            for name in dirs:
                os.chmod(os.path.join(d, name), 0o755)
        cmd = [sys.executable, "-m", "crashplan", "status", "--root", str(tree), "--format", "json"]
        kw: dict = {}
        if os.geteuid() == 0:
            # mode 000 does not stop root: read as nobody, with an interpreter nobody may run and
            # crashplan and its dependencies on PYTHONPATH
            python = next((p for p in (sys.executable, shutil.which("python3", path="/usr/bin:/bin"))
                           if p and _runs_as_nobody(p)), None)
            if python is None:
                pytest.skip("no Python interpreter the user nobody can run")
            import click

            site = str(Path(click.__file__).parent.parent)
            cmd[0] = python
            kw = {"user": "nobody", "env": {"PYTHONPATH": f"{ROOT}:{site}", "PATH": "/usr/bin:/bin"}}
        r = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd="/", **kw)
        assert r.stderr == ""
        doc = json.loads(r.stdout)
        validate(doc)
        assert (r.returncode, doc["verdict"]) == (4, AT_RISK)
        assert {"kernel-config-unknown", "loaded-unknown"} <= keys(doc)
        unread = {u["what"]: u["why"] for u in doc["unreadable"]}
        assert unread["/sys/kernel/kexec_crash_loaded"].startswith("permission denied")
        assert unread[f"/boot/config-{RELEASE}"].startswith("permission denied")
        assert "every address reads as zero" in unread["/proc/iomem"]
        # what could be read still counts: kexec_crash_size gives the size without /proc/iomem
        assert doc["reservation"]["crash_regions"] is None and doc["reservation"]["classic"] == 256 * M
        assert doc["sizing"]["enough"] is True
        # without root the prediction is parsed, not placed: sizes without addresses
        assert doc["prediction"]["regions"] == [{"kind": "crashkernel", "start": None, "end": None, "size": 256 * M}]
        assert not doc["prediction"]["replayed"]
    finally:
        for d, dirs, files in os.walk(base):
            for name in files:
                p = os.path.join(d, name)
                if not os.path.islink(p):
                    os.chmod(p, stat.S_IRUSR | stat.S_IWUSR)
        shutil.rmtree(base)


def _runs_as_nobody(python: str) -> bool:
    try:
        return subprocess.run([python, "-c", "pass"], user="nobody", capture_output=True, check=False).returncode == 0
    except OSError:
        return False


def test_root_and_machine_exclude_each_other(tmp_path, run_cli):
    rc, _, err = run_cli("status", "--root", str(tmp_path), "--machine", str(MICROVM))
    assert rc == 2 and "at most one of --root and --machine" in err


def test_machine_file_without_kexec_is_not_ready(run_cli):
    rc, doc, text = status(run_cli, "--machine", str(MICROVM))
    assert (rc, doc["verdict"]) == (1, NOT_READY)
    assert doc["kernel"]["capability"]["can_kdump"] is False
    assert "machine file" in text


def test_status_json_imports_neither_rich_nor_yaml(tmp_path):
    tree = make_tree(tmp_path)
    probe = ("import sys, io, contextlib\nfrom crashplan.cli import main\n"
             "with contextlib.redirect_stdout(io.StringIO()):\n    rc = main(sys.argv[1:])\n"
             "print(rc, sorted(m for m in sys.modules if m.split('.')[0] in ('rich', 'yaml')))")
    r = subprocess.run([sys.executable, "-c", probe, "status", "--root", str(tree), "--format", "json"],
                       capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "0 []"


def test_this_host_as_a_user_runs_it():
    """The installed command on the machine the tests run on: a valid document whose verdict follows
    from the kernel's own configuration."""
    exe = shutil.which("crashplan", path=os.path.dirname(sys.executable)) or shutil.which("crashplan")
    cmd = [exe] if exe else [sys.executable, "-m", "crashplan"]
    r = subprocess.run([*cmd, "status", "--format", "json"], capture_output=True, text=True, check=False)
    assert r.stderr == "" and r.returncode in (0, 1, 4)
    doc = json.loads(r.stdout)
    validate(doc)
    cap = doc["kernel"]["capability"]
    if cap["can_kdump"] is False:  # e.g. a VM kernel built without kexec
        assert (r.returncode, doc["verdict"]) == (1, NOT_READY)
        s = subprocess.run([*cmd, "suggest", "--format", "json"], capture_output=True, text=True, check=False)
        assert s.returncode == 1
        assert all(p["refused"] and p["cmdline"] is None for p in json.loads(s.stdout)["plans"])
        c = subprocess.run([*cmd, "check", "crashkernel=256M", "--format", "json"], capture_output=True, text=True,
                           check=False)
        assert c.returncode == 1 and "CK130" in {d["code"] for d in json.loads(c.stdout)["diagnoses"]}


# ---------------------------------------------------------------------------------------------
# the shared capability check


@pytest.mark.parametrize(("config", "can", "loaders"), [
    (CONFIG_KDUMP, True, ("kexec_load", "kexec_file_load")),
    (CONFIG_NO_KEXEC, False, ()),
    ("CONFIG_KEXEC=y\n# CONFIG_KEXEC_FILE is not set\nCONFIG_CRASH_DUMP=y\nCONFIG_PROC_VMCORE=y\n", True,
     ("kexec_load",)),
    # 6.9+: CRASH_RESERVE (the crashkernel= parser) comes only with CRASH_DUMP
    ("CONFIG_KEXEC_FILE=y\n# CONFIG_CRASH_DUMP is not set\n", False, ("kexec_file_load",)),
    # before 6.9 KEXEC_CORE selected CRASH_CORE, the parser: memory is reserved for another capture build
    ("CONFIG_KEXEC=y\nCONFIG_KEXEC_CORE=y\nCONFIG_CRASH_CORE=y\n# CONFIG_CRASH_DUMP is not set\n", True,
     ("kexec_load",)),
])
def test_capability_from_a_kernel_config(config, can, loaders):
    cap = kdump_capability(parse_kernel_config(config, path="config"))
    assert (cap.can_kdump, cap.loaders) == (can, loaders)
    assert cap.reserves is (can is True)
    assert bool(cap.warnings) == ("CRASH_CORE" in config)  # a whole .config: PROC_VMCORE absent = off
    assert (cap.refusal() is None) == (can is not False)
    if can is False:
        assert all("(config)" in r for r in cap.reasons)


def test_a_kernel_without_proc_vmcore_is_at_risk():
    cap = kdump_capability(parse_kernel_config("CONFIG_KEXEC_FILE=y\nCONFIG_CRASH_DUMP=y\n"))
    assert cap.can_kdump is True and "CONFIG_PROC_VMCORE" in cap.warnings[0]
    s = assess(StatusFacts(capability=cap, kexec_crash_size=256 * M, crash_loaded=True))
    assert (s.verdict, [r.key for r in s.reasons]) == (AT_RISK, ["no-proc-vmcore"])


def test_capability_from_a_partial_machine_file_mapping():
    assert kdump_capability({"CONFIG_KEXEC_FILE": False}).can_kdump is None  # KEXEC not said
    cap = kdump_capability({"CONFIG_KEXEC": False, "CONFIG_KEXEC_FILE": False})
    # no loader: kdump is impossible; whether crashkernel= is read is not known (6.7/6.8's CRASH_DUMP
    # selected KEXEC_CORE, and with it the parser, by itself)
    assert cap.can_kdump is False and cap.reserves is None
    cap = kdump_capability({"CONFIG_KEXEC": False, "CONFIG_KEXEC_FILE": False, "CONFIG_CRASH_DUMP": False})
    assert cap.can_kdump is False and cap.reserves is False
    assert kdump_capability(None).can_kdump is None


def test_assess_never_says_ready_without_the_deciding_facts():
    cap = kdump_capability(parse_kernel_config(CONFIG_KDUMP))
    s = assess(StatusFacts(capability=cap))
    assert s.verdict == AT_RISK and {r.key for r in s.reasons} == {"reservation-unknown", "loaded-unknown"}
    s = assess(StatusFacts(capability=cap, kexec_crash_size=256 * M, crash_loaded=True, needed=200 * M))
    assert (s.verdict, s.enough, round(s.ratio, 2)) == (READY, True, 1.28)


# ---------------------------------------------------------------------------------------------
# check and suggest refuse such a kernel


def test_check_refuses_a_kernel_without_kdump(run_cli):
    rc, out, err = run_cli("check", "crashkernel=256M", "--machine", str(MICROVM), "--format", "json")
    doc = json.loads(out)
    assert (rc, doc["reserves"], doc["exit_status"]) == (1, False, 1)
    ck = [d for d in doc["diagnoses"] if d["code"] == "CK130"]
    assert len(ck) == 1 and ck[0]["severity"] == "error" and "CONFIG_KEXEC" in ck[0]["message"]
    rc, text, _ = run_cli("check", "crashkernel=256M", "--machine", str(MICROVM))
    assert rc == 1 and "CK130" in text and "NOTHING is reserved" in text and "no problems found" not in text


def test_check_with_another_release_does_not_take_the_running_kernels_config(run_cli):
    rc, out, _ = run_cli("check", "crashkernel=256M", "--machine", str(MICROVM), "--kernel", "6.12",
                         "--format", "json")
    assert "CK130" not in {d["code"] for d in json.loads(out)["diagnoses"]}


def test_suggest_refuses_a_kernel_without_kdump(run_cli, tmp_path):
    rc, out, _ = run_cli("suggest", "--machine", str(MICROVM), "--format", "json")
    doc = json.loads(out)
    assert rc == 1
    assert [p["cmdline"] for p in doc["plans"]] == [None, None]
    assert all(p["refused"].startswith("kdump cannot work with this kernel") for p in doc["plans"])
    # --kernel-config names the build options directly
    cfg = tmp_path / "config"
    cfg.write_text(CONFIG_NO_KEXEC)
    rc, out, _ = run_cli("suggest", "--no-probe", "--arch", "x86_64", "--kernel", "6.12", "--ram", "16G",
                         "--kernel-config", str(cfg), "--format", "json")
    assert rc == 1 and all("CONFIG_KEXEC" in p["refused"] for p in json.loads(out)["plans"])
    cfg.write_text(CONFIG_KDUMP)
    rc, out, _ = run_cli("suggest", "--no-probe", "--arch", "x86_64", "--kernel", "6.12", "--ram", "16G",
                         "--kernel-config", str(cfg), "--format", "json")
    assert rc == 0 and json.loads(out)["plans"][0]["cmdline"]


def test_kdump_tools_switched_off_is_not_ready(tmp_path, run_cli):
    tree = make_tree(tmp_path)
    (tree / "etc/default/kdump-tools").write_text('USE_KDUMP=0\nMAKEDUMP_ARGS="-c -d 31"\n')
    rc, doc, _ = status(run_cli, "--root", str(tree))
    assert (rc, keys(doc)) == (1, {"kdump-disabled"})
    assert doc["service"]["tooling"]["enabled"] is False


def test_fedora_tooling_cma_and_the_inferred_syscall(tmp_path, run_cli):
    """kdump-utils: kdump.conf and sysconfig; a CMA reservation (6.19's crash_cma_ranges); kexec -c."""
    tree = make_tree(tmp_path, cmdline="root=/dev/vda1 crashkernel=256M crashkernel=1G,cma")
    (tree / "etc/default/kdump-tools").unlink()
    (tree / "etc/kdump.conf").write_text("path /var/crash\ncore_collector makedumpfile -l --message-level 7 -d 31\n")
    (tree / "etc/sysconfig").mkdir()
    sysconfig = tree / "etc/sysconfig/kdump"
    sysconfig.write_text('KDUMP_COMMANDLINE_APPEND="irqpoll nr_cpus=1 reset_devices"\nKEXEC_ARGS="-s"\n')
    (tree / "sys/kernel/kexec").mkdir()
    (tree / "sys/kernel/kexec/crash_cma_ranges").write_text("100000000-13fffffff\n")
    rc, doc, text = status(run_cli, "--root", str(tree))
    assert doc["reservation"]["cma_ranges"] == [{"start": 1 << 32, "end": (1 << 32) + (1 << 30), "size": 1 << 30}]
    assert doc["reservation"]["cma"] == 1 << 30
    assert doc["service"]["tooling"]["flavour"] == "kdump-utils"
    assert doc["loaded"]["syscall"] == "file"
    assert doc["loaded"]["syscall_source"].startswith("inferred from the kdump configuration: kexec is given -s")
    assert "syscall inferred from the kdump configuration: file" in flat(text)
    assert doc["sizing"]["needed_cma"] and doc["sizing"]["needed_cma_classic"]
    assert (rc, doc["verdict"]) == (0, READY) and doc["sizing"]["enough"] is True
    # the same reservation loaded with kexec_load cannot use the CMA memory
    sysconfig.write_text('KEXEC_ARGS="-c"\n')
    rc, doc, _ = status(run_cli, "--root", str(tree))
    assert (rc, keys(doc)) == (4, {"cma-with-kexec-load"})


def test_boot_log_option_and_a_failed_reservation(tmp_path, run_cli):
    tree = make_tree(tmp_path, crash_mb=0, loaded="0")
    log = tmp_path / "dmesg.txt"
    log.write_text("[    0.000000] Linux version 6.12.0-test (gcc) #1 SMP\n"
                   "[    0.010000] crashkernel: memory value expected\n")
    rc, doc, text = status(run_cli, "--root", str(tree), "--boot-log", str(log))
    assert doc["reservation"]["boot_log"] == ["crashkernel: memory value expected"]
    assert rc == 1 and "nothing-reserved" in keys(doc)
    assert "Boot log  crashkernel: memory value expected" in text
    rc, _, err = run_cli("status", "--root", str(tree), "--boot-log", str(tmp_path / "missing"))
    assert rc == 2 and "missing: no such file" in err


def test_masked_service_without_a_loaded_kernel_is_not_ready(tmp_path, run_cli):
    tree = make_tree(tmp_path, service="disabled", loaded="0")
    (tree / "etc/systemd/system").mkdir(parents=True, exist_ok=True)
    (tree / "etc/systemd/system/kdump-tools.service").symlink_to("/dev/null")
    rc, doc, _ = status(run_cli, "--root", str(tree))
    assert rc == 1 and {"service-disabled", "not-loaded"} <= keys(doc)
    assert doc["service"]["units"][1]["enabled"] == "masked"


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_what_a_person_sees_in_tmux_at_80_columns(tmp_path):
    """The real command in a real 80-column terminal: the verdict on the first line, nothing cut."""
    tree = make_tree(tmp_path / "tree", crash_mb=64, cmdline="root=/dev/vda1 crashkernel=64M")
    exe = shutil.which("crashplan", path=os.path.dirname(sys.executable))
    cmd = f"{exe or sys.executable + ' -m crashplan'} status --root {tree}; echo EXIT=$?"
    sock = f"crashplan-status-{os.getpid()}"
    tmux = ["tmux", "-L", sock, "-f", "/dev/null"]
    subprocess.run([*tmux, "new-session", "-d", "-x", "80", "-y", "60", "-s", "t", "sh", "-c", cmd + "; sleep 30"],
                   check=True, cwd=ROOT)
    try:
        screen = ""
        for _ in range(100):
            screen = subprocess.run([*tmux, "capture-pane", "-p", "-t", "t"], capture_output=True, text=True,
                                    check=True).stdout
            if "EXIT=" in screen:
                break
            subprocess.run(["sleep", "0.1"], check=True)
    finally:
        subprocess.run([*tmux, "kill-server"], check=False, capture_output=True)
    lines = screen.rstrip("\n").splitlines()
    assert "EXIT=4" in screen, screen
    assert lines[0].startswith("kdump is AT RISK: 64M reserved,"), screen
    assert all(len(line) <= 80 for line in lines)
    assert any(line.startswith("Enough?   64M reserved, ") and "too small" in line for line in lines), screen


def test_systemctl_answers_on_this_host(tmp_path):
    """On the host, the service state is what `systemctl is-enabled/is-active` print. The machine the
    tests run on may have no systemd running, so a `systemctl` first on PATH answers as systemd 252
    does: the state on stdout (exit 0 or 1/3), or only an error on stderr for a unit without a file."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "systemctl"
    script.write_text(
        "#!/bin/sh\n"
        'case "$1 $2" in\n'
        '  "is-enabled kdump-tools.service") echo disabled; exit 1;;\n'
        '  "is-active kdump-tools.service") echo failed; exit 3;;\n'
        '  "is-enabled kdump.service") echo "Failed to get unit file state for kdump.service: No such file or '
        'directory" >&2; exit 1;;\n'
        '  "is-active kdump.service") echo inactive; exit 3;;\n'
        "esac\nexit 1\n")
    script.chmod(0o755)
    env = {**os.environ, "PATH": f"{bindir}:{os.environ.get('PATH', '/usr/bin:/bin')}"}
    r = subprocess.run([sys.executable, "-m", "crashplan", "status", "--format", "json"], capture_output=True,
                       text=True, check=False, env=env, cwd=ROOT)
    doc = json.loads(r.stdout)
    validate(doc)
    assert doc["service"]["units"] == [
        {"unit": "kdump.service", "enabled": "not-found", "active": None, "source": "systemctl"},
        {"unit": "kdump-tools.service", "enabled": "disabled", "active": "failed", "source": "systemctl"},
    ]
    if doc["kernel"]["capability"]["can_kdump"] is not False:
        assert {"service-disabled", "service-failed"} <= keys(doc)


def test_a_failed_service_is_not_ready_and_with_a_loaded_kernel_at_risk():
    from crashplan.readiness import ServiceState

    cap = kdump_capability(parse_kernel_config(CONFIG_KDUMP))
    failed = (ServiceState(unit="kdump.service", enabled="enabled", active="failed"),)
    s = assess(StatusFacts(capability=cap, kexec_crash_size=256 * M, crash_loaded=False, services=failed))
    assert (s.verdict, {r.key for r in s.reasons}) == (NOT_READY, {"not-loaded", "service-failed"})
    s = assess(StatusFacts(capability=cap, kexec_crash_size=256 * M, crash_loaded=True, services=failed))
    assert (s.verdict, [r.key for r in s.reasons]) == (AT_RISK, ["service-failed"])
    assert "journalctl -u kdump.service" in s.reasons[0].text
