"""reserve()'s own checks before any architecture's code runs."""

from __future__ import annotations

from simhelp import G, codes, machine, regions, run

from crashplan.memmap.model import Machine, MemoryMap


def test_unknown_layout_and_fadump():
    blind = Machine(memmap=MemoryMap(ram=(), layout_known=False), arch="x86_64", system_ram=8 * G)
    _, res = run("crashkernel=256M", blind, "6.12", "x86_64")
    assert regions(res) == [] and codes(res) == ["CK300"]
    ppc = machine([(0, 64 * G)], arch="ppc64le")
    o, fa = run("fadump=on crashkernel=4G", ppc, "6.12", "ppc64le")
    assert o.fadump and regions(fa) == [] and codes(fa) == ["CK314"]


def test_size_not_below_ram():
    small = machine([(0x100000, 0x40000000)], arch="x86_64", kaslr=False)
    _, res = run("crashkernel=2G", small, "6.12", "x86_64")
    assert regions(res) == [] and codes(res)[0] == "CK309"
    assert "without a message" in res.problems[0].text


def test_a_replay_imports_only_the_code_of_its_architecture():
    # cold start: each architecture's module is imported on first use (crashplan.simulate.arch_code)
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from crashplan.kernel import evaluate\n"
        "from crashplan.memmap.model import Machine, MemoryMap, Span\n"
        "from crashplan.simulate import reserve\n"
        "m = Machine(memmap=MemoryMap(ram=(Span(0x100000, 0x80000000, 'System RAM'),)), arch=sys.argv[1])\n"
        "o = evaluate('crashkernel=256M', system_ram=m.ram_size(), kernel='6.12', arch=sys.argv[1])\n"
        "assert reserve(o, m).regions\n"
        "print(' '.join(sorted(n for n in sys.modules if n.startswith('crashplan.simulate.'))))\n"
    )
    common = {"crashplan.simulate.early", "crashplan.simulate.memblock", "crashplan.simulate.model"}
    for arch, own in (("x86_64", {"x86_64", "generic"}), ("arm64", {"arm64", "generic"}), ("s390x", {"s390x"})):
        out = subprocess.run([sys.executable, "-c", probe, arch], capture_output=True, text=True, check=True).stdout
        assert set(out.split()) == common | {f"crashplan.simulate.{m}" for m in own}, (arch, out)
