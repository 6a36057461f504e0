"""Distribution kernels end to end: check, suggest and lint with the release strings operators see."""

from __future__ import annotations

import json

import jsonschema
import pytest

from conftest import ROOT
from crashplan.kernel import parse_release
from crashplan.kernel.distros import PROFILES

SUGGEST_SCHEMA = json.loads((ROOT / "crashplan" / "data" / "schemas" / "suggest.json").read_text())
MACHINES = {"x86_64": "x86_64-laptop-16g.yaml", "arm64": "arm64-qemu-virt-4g.yaml",
            "ppc64le": "ppc64le-lpar-50g.yaml", "s390x": "s390x-guest-2g.yaml"}

# every uname -r named in the issue, and every profile's representative release
ISSUE = ["4.18.0-553.el8_10.x86_64", "5.14.0-503.11.1.el9_5.x86_64", "5.14.21-150500.55.97-default",
         "5.10.0-35-amd64", "4.19.0-27-amd64", "4.19.90-2112.8.0.0131.oe1.x86_64",
         "5.10.0-136.12.0.86.oe2203sp1.x86_64", "5.4.0-216-generic", "4.14.355-275.572.amzn2.x86_64",
         "5.10.238-234.956.amzn2.x86_64", "6.4.0-150700.53.3-default"]
RELEASES = list(dict.fromkeys(ISSUE + [r for r, _ in PROFILES]))


def _skip_unmodelled(rel: str) -> None:
    try:
        parse_release(rel)
    except ValueError:
        pytest.skip(f"{rel}: mainline releases before 5.15 are not modelled in this tree")


def test_rhel8_auto_reserves_its_table(run_cli):
    """RHEL 8 crashkernel=auto (crashplan/kernel/distros.py, RHEL 8 __parse_crashkernel as quoted on LKML)."""
    _skip_unmodelled("4.18")
    rc, out, err = run_cli("check", "crashkernel=auto", "--kernel", "4.18.0-553.el8_10.x86_64", "--arch", "x86_64",
                           "--ram", "16G", "--no-map")
    assert (rc, err) == (0, "")
    assert "crash kernel  192M" in out
    assert "Using crashkernel=auto, the size chosen is a best effort estimation." in out
    rc, out, _ = run_cli("check", "crashkernel=auto", "--kernel", "4.18.0-553.el8_10.x86_64", "--arch", "x86_64",
                         "--ram", "16G", "--no-map", "--format", "json")
    doc = json.loads(out)
    assert (doc["parse"]["crash_size"], doc["reserves"], doc["distribution"]["profile"]) == (192 << 20, True,
                                                                                             "rhel8.10")


def test_rhel9_auto_reserves_nothing_with_diagnosis_and_fix(run_cli):
    """RHEL 9 removed crashkernel=auto (RHEL 9 documentation): nothing reserved, CK106 with the RHEL default
    table (kdump-lib.sh, 2021 era: 1G-4G:192M,4G-64G:256M,64G-:512M) as the fix."""
    rc, out, err = run_cli("check", "crashkernel=auto", "--kernel", "5.14.0-503.11.1.el9_5.x86_64", "--arch",
                           "x86_64", "--ram", "16G", "--no-map", "--format", "json")
    assert (rc, err) == (1, "")
    doc = json.loads(out)
    assert not doc["reserves"] and doc["parse"]["crash_size"] == 0
    ck106 = next(d for d in doc["diagnoses"] if d["code"] == "CK106")
    assert "RHEL 9.5 no longer has crashkernel=auto" in ck106["message"]
    assert ck106["fix"] == "crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M"
    rc, out, _ = run_cli("check", "crashkernel=auto", "--kernel", "5.14.0-503.11.1.el9_5.x86_64", "--arch",
                         "x86_64", "--ram", "16G", "--no-map")
    assert rc == 1 and "NOTHING is reserved" in out and "corrected: crashkernel=1G-4G:192M" in out


def test_sles15_sp7_accepts_cma(run_cli):
    """openSUSE/kernel-source patches.suse/kdump-add-crashkernel-cma-suffix.patch (jsc#PED-7249) on SLES 15
    SP7: ,cma is known and x86_64 reserves 1G from CMA."""
    rc, out, err = run_cli("check", "crashkernel=256M crashkernel=1G,cma", "--kernel", "6.4.0-150700.53.3-default",
                           "--arch", "x86_64", "--ram", "16G", "--no-map", "--format", "json")
    assert (rc, err) == (0, "")
    doc = json.loads(out)
    assert (doc["parse"]["accepted"], doc["parse"]["cma_size"], doc["kernel"]["flow"]) == (True, 1 << 30, "generic")
    assert not [d for d in doc["diagnoses"] if d["code"] in ("CK103", "CK101")]


def test_sles15_sp7_cma_is_replayed_on_a_machine(run_cli):
    """The simulator follows the profile: SLES 15 SP7 places the CMA area on a real memory map."""
    rc, out, err = run_cli("check", "crashkernel=256M crashkernel=1G,cma", "--kernel", "6.4.0-150700.53.3-default",
                           "--machine", str(ROOT / "examples" / MACHINES["x86_64"]), "--format", "json")
    assert err == "" and rc in (0, 1)
    doc = json.loads(out)
    assert doc["replayed"] and doc["cma"] == 1 << 30
    assert {r["kind"] for r in doc["reservations"]} >= {"crashkernel", "cma"}


@pytest.mark.parametrize("rel", RELEASES)
def test_every_release_works_in_check(run_cli, rel):
    _skip_unmodelled(rel)
    arch = _arch(rel)
    rc, out, err = run_cli("check", "crashkernel=256M", "--kernel", rel, "--arch", arch, "--ram", "16G",
                           "--no-map", "--format", "json")
    assert err == "" and rc in (0, 1), out
    doc = json.loads(out)
    assert doc["kernel"]["release"] == rel and doc["notes"]  # the profile, or the fallback, says something


@pytest.mark.parametrize("rel", RELEASES)
def test_every_release_works_in_suggest(run_cli, rel):
    _skip_unmodelled(rel)
    arch = _arch(rel)
    rc, out, err = run_cli("suggest", "--machine", str(ROOT / "examples" / MACHINES[arch]), "--kernel", rel,
                           "--format", "json")
    assert err == "" and rc in (0, 1)
    doc = json.loads(out)
    jsonschema.validate(doc, SUGGEST_SCHEMA)
    assert doc["machine"]["kernel"] == rel


@pytest.mark.parametrize("rel", RELEASES)
def test_every_release_works_in_lint(run_cli, tmp_path, rel):
    _skip_unmodelled(rel)
    grub = tmp_path / "grub"
    grub.write_text('GRUB_CMDLINE_LINUX="crashkernel=512M quiet"\n')
    rc, out, err = run_cli("lint", str(grub), "--kernel", rel, "--arch", _arch(rel), "--format", "json")
    assert err == "" and rc in (0, 1)
    json.loads(out)


def test_suggest_shows_the_distribution_default(run_cli):
    """kdump-utils' table for RHEL 9.5 beside crashplan's plan (JSON field and one text row)."""
    m = str(ROOT / "examples" / MACHINES["x86_64"])
    rc, out, err = run_cli("suggest", "--machine", m, "--kernel", "5.14.0-503.11.1.el9_5.x86_64", "--format", "json")
    doc = json.loads(out)
    dd = doc["distribution_default"]
    assert dd["cmdline"] == "crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M" and dd["size"] == 256 << 20
    classic = next(p for p in doc["plans"] if p["name"] == "classic")["sizes"]["crashkernel"]
    assert dd["verdict"] == ("too small" if classic > 256 << 20 else "fits")
    rc, out, err = run_cli("suggest", "--machine", m, "--kernel", "5.14.0-503.11.1.el9_5.x86_64", "--width", "80")
    row = next(line for line in out.splitlines() if line.startswith("distro"))
    assert "crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M" in row and "256M" in row
    assert "the default of kdumpctl get-default-crashkernel (RHEL 9.5)" in " ".join(out.split())
    assert max(len(line) for line in out.splitlines()) <= 80
    rc, out, _ = run_cli("suggest", "--machine", m, "--kernel", "6.12", "--format", "json")
    assert json.loads(out)["distribution_default"] is None


def test_check_on_the_machines_own_line_shows_the_distribution_default(run_cli, tmp_path):
    """check without PARAMS (the machine's own line) compares the distribution default with that line."""
    src = (ROOT / "examples" / MACHINES["x86_64"]).read_text()
    rc, out, err = run_cli("check", "--machine", str(ROOT / "examples" / MACHINES["x86_64"]), "--kernel",
                           "6.12.0-55.el10.x86_64", "--format", "json")
    assert err == ""
    dd = json.loads(out)["distribution_default"]
    assert dd["cmdline"] == "crashkernel=2G-64G:256M,64G-:512M" and dd["size"] == 256 << 20
    assert dd["verdict"] in ("same as this line", "smaller than this line", "larger than this line")
    rc, out, _ = run_cli("check", "crashkernel=256M", "--machine", str(ROOT / "examples" / MACHINES["x86_64"]),
                         "--kernel", "6.12.0-55.el10.x86_64", "--format", "json")
    assert json.loads(out)["distribution_default"] is None  # only for the machine's own line
    del src


def test_lint_fleet_auto_passes_for_rhel8_and_fails_for_rhel9(run_cli, tmp_path):
    """The in-place upgrade trap: crashkernel=auto is fine on RHEL 8 targets and disables kdump on RHEL 9;
    --fix writes the RHEL default table (which RHEL 8 reads as well)."""
    _skip_unmodelled("4.18")
    grub = tmp_path / "grub"
    grub.write_text('GRUB_CMDLINE_LINUX="crashkernel=auto rd.lvm.lv=rhel/root rhgb quiet"\n')
    rc, out, err = run_cli("lint", str(grub), "--kernel", "4.18.0-553.el8_10", "--arch", "x86_64",
                           "--format", "json")
    assert rc == 0 and not [f for f in json.loads(out)["findings"] if f["severity"] == "error"]
    rc, out, err = run_cli("lint", str(grub), "--kernel", "4.18.0-553.el8_10", "--kernel",
                           "5.14.0-503.11.1.el9_5", "--arch", "x86_64", "--format", "json")
    assert rc == 1
    errors = [f for f in json.loads(out)["findings"] if f["severity"] == "error"]
    assert [f["code"] for f in errors] == ["CK106"]
    # at 16G: at 4G and 64G the RHEL table draws CK211 (its ends are exclusive) in the recovery entries,
    # and --fix never adds a warning to a command line it was not asked to fix
    rc, out, err = run_cli("lint", str(grub), "--kernel", "5.14.0-503.11.1.el9_5", "--arch", "x86_64", "--ram",
                           "16G", "--fix")
    assert 'crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M rd.lvm.lv' in grub.read_text()
    rc, out, err = run_cli("lint", str(grub), "--kernel", "4.18.0-553.el8_10", "--kernel",
                           "5.14.0-503.11.1.el9_5", "--arch", "x86_64", "--ram", "16G", "--format", "json")
    assert rc == 0


def test_lint_config_takes_distribution_releases(run_cli, tmp_path, monkeypatch):
    _skip_unmodelled("4.18")
    (tmp_path / ".crashplan.yaml").write_text('kernel: ["4.18.0-553.el8_10", "5.14.0-503.11.1.el9_5"]\n'
                                              'arch: ["x86_64"]\nram: ["16G"]\n')
    (tmp_path / "cmdline").write_text("crashkernel=auto\n")
    monkeypatch.chdir(tmp_path)
    rc, out, err = run_cli("lint", "cmdline", "--format", "json")
    assert rc == 1 and err == ""
    assert [f["code"] for f in json.loads(out)["findings"] if f["severity"] == "error"] == ["CK106"]


def _arch(rel: str) -> str:
    low = rel.lower()
    for tag, arch in (("aarch64", "arm64"), ("arm64", "arm64"), ("ppc64le", "ppc64le"), ("s390x", "s390x")):
        if low.endswith(tag):
            return arch
    return "x86_64"
