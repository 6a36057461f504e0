"""Every fix that ``check`` or ``lint`` proposes for the project's corpora is accepted by the same kernel.

The corpora: the lint fixtures (tests/data/lint), the command lines of the shared parse vectors
(tests/data/oracle/parse-vectors.jsonl.gz, all 454 distinct ones), the rule examples, and a set of real
strings with known gotchas.  Each proposed fix is replayed here through ``crashplan.kernel.evaluate`` for
every target the finding names (not through the helper diagnose uses), and through the reservation
simulator on the example machines for ``check`` with a memory map.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import DATA, ROOT, load_jsonl_gz
from crashplan.diagnose import CODES, Target, diagnose, kernel_view
from crashplan.kernel import evaluate, normalize_arch
from crashplan.units import parse_size

KERNELS = ("6.1", "6.12", "7.2", "7.3")
ARCHES = ("x86_64", "arm64", "ppc64le")
RAMS = ("1G", "4G", "64G")
TARGETS = [Target(k, a, parse_size(r)) for k in KERNELS for a in ARCHES for r in RAMS]

REAL = [
    "crashkernel=256M,cma=1G", "quiet crashkernel=256M,cma=1G", "crashkernel=384M-2G:64M@16M,2G-:128M@16M",
    "crashkernal=auto", "crashkenel=256M@16M", "crash_kernel=256M", "crashkernel 256M", "CrashKernel=512M",
    "crashkernel:256M", "crashkernel=128M\\<4G", "crashkernel=512M,below=4G", "crashkernel=256MB",
    "crashkernel=128M crashkernel=256M", "\"crashkernel=256M\"", "crashkernel=256M\tquiet",
    "crashkernel=1G,cma crashkernel=256M", "crashkernel=256M crashkernel=1G,cma", "crashkernel=auto",
    "crashkernel=256M crashkernal=512M", "crashkernel=512M-2G:64MB,2G-:256M", "crashkernel=1G-:256MB",
]


def _accepted(cmdline: str, kernel: str, arch: str, ram: int) -> bool:
    a = normalize_arch(arch)
    o = evaluate(kernel_view(cmdline, a), system_ram=ram, kernel=kernel, arch=a)
    return o.accepted and (o.crash_size > 0 or bool(o.fadump_size))


def _corpus() -> list[str]:
    lines = {v["cmdline"] for v in load_jsonl_gz(DATA / "oracle" / "parse-vectors.jsonl.gz")}
    return sorted(lines) + REAL


def test_every_diagnose_fix_for_the_corpora_is_accepted_by_its_kernels() -> None:
    checked = 0
    refused: list[tuple[str, str, str]] = []
    for cmdline in _corpus():
        for d in diagnose(cmdline, TARGETS):
            if d.fix is None:
                continue
            for t in d.targets:
                checked += 1
                if not _accepted(d.fix, t.kernel, t.arch, t.system_ram):
                    refused.append((cmdline, d.code, f"{d.fix} on {t.label()}"))
    assert not refused, refused[:10]
    assert checked > 1000  # the corpus does propose fixes


def test_rule_examples_fixes_are_accepted() -> None:
    checked = 0
    for info in CODES.values():
        for cmdline, target, _ in info.examples:
            t = Target(target["kernel"], target["arch"], parse_size(target["ram"]))
            for d in diagnose(cmdline, [t]):
                if d.fix is not None:
                    checked += 1
                    assert _accepted(d.fix, t.kernel, t.arch, t.system_ram), (info.code, cmdline, d.code, d.fix)
    assert checked >= 10


@pytest.mark.parametrize("cmdline", REAL)
@pytest.mark.parametrize("kernel", ["6.1", "6.12", "7.2"])
def test_check_json_fixes_reserve_on_the_example_machine(run_cli, cmdline: str, kernel: str) -> None:
    machine = ROOT / "examples" / "x86_64-server-16g.yaml"
    rc, out, err = run_cli("check", cmdline, "--kernel", kernel, "--machine", str(machine), "--format", "json")
    assert rc in (0, 1), err
    doc = json.loads(out)
    for d in doc["diagnoses"]:
        if d["fix"] is None or "crashkernel" not in d["fix"] or d["code"].startswith("CK3"):
            continue  # CK3xx (the simulator's) give advice in words, not a command line
        rc2, out2, _ = run_cli("check", d["fix"], "--kernel", kernel, "--machine", str(machine), "--format", "json")
        assert json.loads(out2)["reserves"], (cmdline, d["code"], d["fix"])


def test_the_cma_typo_text_and_fix_agree_and_reserve_on_6_1(run_cli) -> None:
    rc, out, _ = run_cli("check", "crashkernel=256M,cma=1G", "--kernel", "6.1", "--arch", "x86_64", "--ram", "16G",
                         "--no-map", "--format", "json")
    (d,) = [d for d in json.loads(out)["diagnoses"] if d["code"] == "CK102"]
    assert d["fix"] == "crashkernel=1G,cma crashkernel=256M"
    assert f"`{d['fix']}`" in d["message"]
    assert _accepted(d["fix"], "6.1", "x86_64", 16 << 30)


@pytest.mark.parametrize("case", sorted(p.name for p in (DATA / "lint").iterdir() if p.is_dir() and p.name != "schema"))
def test_every_lint_fix_of_the_fixtures_is_accepted(run_cli, case: str, monkeypatch) -> None:
    monkeypatch.chdir(DATA / "lint" / case)
    args = ["lint", "--isolated", "--format", "json", "."]
    for k in KERNELS:
        args += ["--kernel", k]
    for r in RAMS:
        args += ["--ram", r]
    rc, out, err = run_cli(*args)
    assert rc in (0, 1), err
    for f in json.loads(out)["findings"]:
        if f["fix"] is None:
            continue
        for label in f["targets"]:
            kernel, arch, ram = label.split("/")
            assert _accepted(f["fix"], kernel, arch, parse_size(ram)), (case, f["code"], f["fix"], label)


def test_lint_fix_of_real_strings_is_accepted(run_cli, tmp_path: Path) -> None:
    (tmp_path / "etc" / "default").mkdir(parents=True)
    fixed = 0
    for i, cmdline in enumerate(REAL):
        if '"' in cmdline or "\t" in cmdline or "\\" in cmdline:
            continue  # not writable inside GRUB_CMDLINE_LINUX="…" as is
        p = tmp_path / f"c{i}" / "etc" / "default" / "grub"
        p.parent.mkdir(parents=True)
        p.write_text(f'GRUB_CMDLINE_LINUX="{cmdline}"\nGRUB_DISABLE_RECOVERY=true\n', encoding="utf-8")
    rc, out, _ = run_cli("lint", "--isolated", "--format", "json", "--kernel", "6.1", "--kernel", "7.2",
                         "--ram", "16G", str(tmp_path))
    for f in json.loads(out)["findings"]:
        if f["fix"] is not None:
            fixed += 1
            for label in f["targets"]:
                kernel, arch, ram = label.split("/")
                assert _accepted(f["fix"], kernel, arch, parse_size(ram)), (f["code"], f["fix"], label)
    assert fixed >= 5
