"""The benchmark and fuzzing tools work (small sizes, no timings): their inputs are what they claim,
and a saved fuzz input replays.  The real runs are ``python3 benchmarks/run.py`` and
``python3 fuzz/run.py`` (docs/benchmarks.md, docs/fuzzing.md)."""

from __future__ import annotations

import json
import random
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT))

from benchmarks import run as bench  # noqa: E402
from fuzz import run as fuzz_run  # noqa: E402
from fuzz.surfaces import SURFACES, LinelessInputError, make_case  # noqa: E402


def test_synthetic_iomem_has_the_lines_asked_for_and_reserves():
    from crashplan.kernel import evaluate
    from crashplan.memmap.iomem import parse_iomem
    from crashplan.memmap.model import Machine
    from crashplan.simulate import reserve

    text = bench.synthetic_iomem(2_000)
    assert text.count("\n") == 2_000
    mm = parse_iomem(text, arch="x86_64")
    assert len(mm.ram) == 40 and len(mm.reserved) == 800 + 2
    m = Machine(memmap=mm, arch="x86_64", kernel="7.2", kaslr=False)
    o = evaluate("crashkernel=1G-64G:256M,64G-:1G", system_ram=m.ram_size(), kernel="7.2", arch="x86_64")
    assert [r.kind for r in reserve(o, m).regions] == ["crashkernel"]


def test_the_lint_fleet_is_read_as_boot_loader_files(tmp_path):
    from crashplan.cli.lint_cmd import read_sources
    from crashplan.lint.engine import lint

    assert bench.lint_tree(tmp_path / "fleet", 40) == 40
    files = read_sources([str(tmp_path / "fleet")])
    report = lint(files)
    assert len(files) == 40 and all(f.kind is not None for f in report.files)
    assert not [f for f in report.findings if f.code.startswith("CK0")]


@pytest.mark.parametrize("name", sorted(SURFACES))
def test_every_surface_makes_and_runs_inputs(name):
    from crashplan.errors import InputError

    surface = SURFACES[name]
    pool = surface.seeds()
    assert pool, name
    for i in range(5):
        how, case = make_case(surface, random.Random(i), pool, hostile_rate=0.0)
        json.dumps(case)  # saved inputs are JSON
        try:
            surface.run(case)
        except (InputError, LinelessInputError):
            pass
        except AssertionError:
            pass  # a broken invariant is a finding of the fuzzer, not of this test


def test_a_saved_input_replays(tmp_path, capsys):
    rc = fuzz_run.main(["--surface", "iomem", "--inputs", "30", "--out", str(tmp_path), "--report-every", "999"])
    summary = json.loads((tmp_path / "last-run.json").read_text(encoding="utf-8"))
    assert summary["surfaces"]["iomem"]["counts"]["tried"] == 30
    assert rc in (0, 1)
    case = {"surface": "iomem", "index": 0, "seed": 1, "how": "test",
            "case": {"text": "00000000-00000fff : System RAM\n  zz\n", "arch": None}}
    p = tmp_path / "saved.json"
    p.write_text(json.dumps(case), encoding="utf-8")
    assert fuzz_run.replay(p) == 0
    assert "InputError (documented): iomem.txt:2:3:" in capsys.readouterr().out


def test_the_fuzzer_refuses_an_interpreter_without_crashplans_dependencies(tmp_path, monkeypatch, capsys):
    """Run by an interpreter without rich, the cli surface counted every text-output input as a crash of
    crashplan; the driver now says which interpreter to use and runs nothing."""
    monkeypatch.setitem(sys.modules, "rich", None)  # importlib.util.find_spec: not importable
    rc = fuzz_run.main(["--surface", "cli", "--inputs", "5", "--out", str(tmp_path)])
    assert rc == 2
    assert "cannot import rich" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_fleet_benchmark_generates_varied_valid_machine_files(tmp_path, monkeypatch):
    from benchmarks import fleet as fleet_bench
    from crashplan.memmap.machine import load_machine

    counts = fleet_bench.generate(tmp_path / "fleet", 300)
    files = sorted((tmp_path / "fleet").rglob("*.yaml"))
    assert counts["files"] == len(files) == 300 and counts["distinct"] == 300
    machines = [load_machine(f.read_text(), source=str(f)) for f in files]
    assert len({m.name for m in machines}) == 300
    assert len({m.arch for m in machines}) >= 3
    assert len({m.kernel for m in machines}) >= 8
    assert len({m.ram_size() >> 30 for m in machines}) >= 10
    assert any(s.name == "reserved by firmware" for m in machines for s in m.memmap.reserved)
    # a fleet larger than the combinations repeats machines under new names
    monkeypatch.setattr(fleet_bench, "RAM_SIZES", (2, 16))
    more = fleet_bench.generate(tmp_path / "big", 1000)
    assert more["files"] == 1000 and more["distinct"] < 500


def test_fleet_benchmark_runs_fleet_check_end_to_end(tmp_path):
    from benchmarks import fleet as fleet_bench

    fleet_bench.generate(tmp_path / "fleet", 120)
    res = fleet_bench.run(tmp_path / "fleet", fleet_bench.LINE, tmp_path / "r.json", jobs=2)
    assert res["machines"] == 120 and res["errors"] == 0 and res["exit_status"] in (0, 1)
    assert res["peak_rss_mib"] > 0
