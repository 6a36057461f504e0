"""Machine files: the examples, round trips, and every way a document can be wrong."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import DATA, ROOT
from crashplan.errors import InputError
from crashplan.memmap.iomem import parse_iomem
from crashplan.memmap.machine import MAX_DOCUMENT_CHARS, SCHEMA, dump_machine, load_machine
from crashplan.memmap.model import Machine, MemoryMap, Span

EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
HEAD = f"schema: {SCHEMA}\n"
RAM = "memory:\n  ram:\n    - {start: 0x100000, end: 16G}\n"


def load(text: str) -> Machine:
    return load_machine(text, source="m.yaml")


# --- the examples -----------------------------------------------------------------------------------


def test_the_required_examples_exist() -> None:
    names = {p.name for p in EXAMPLES}
    assert {
        "x86_64-server-16g.yaml", "x86_64-vm-2g.yaml", "arm64-orin-64g.yaml", "arm64-rpi4-4g.yaml",
        "ppc64le-lpar-50g.yaml", "s390x-guest-2g.yaml", "x86_64-host-1t.yaml",
    } <= names
    readme = (ROOT / "examples" / "README.md").read_text()
    assert set(re.findall(r"^\| `([^`]+\.yaml)` \|", readme, re.M)) == names


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_loads_and_round_trips(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    m = load_machine(text, source=str(path))
    assert m.name == path.stem and m.provenance and m.arch
    assert dump_machine(m) == text  # the files are in canonical form
    assert load_machine(dump_machine(m), source="again") == m


def example(name: str) -> Machine:
    path = ROOT / "examples" / name
    return load_machine(path.read_text(encoding="utf-8"), source=str(path))


def test_example_facts() -> None:
    rpi = example("arm64-rpi4-4g.yaml")
    assert (rpi.arch, rpi.dma_limit, rpi.memmap.start_of_dram()) == ("arm64", 1 << 30, 0)
    orin = example("arm64-orin-64g.yaml")
    assert len(orin.memmap.nomap) == 7 and orin.dma_limit == 4 << 30
    assert orin.ram_size() == orin.memmap.system_ram() > sum(s.size for s in orin.memmap.ram)
    assert example("x86_64-server-16g.yaml").ram_size() == 16 << 30
    assert example("x86_64-host-1t.yaml").ram_size() == 1 << 40
    q = example("x86_64-qemu-4g.yaml")
    assert q.memmap.crash == (Span(0x6F000000, 0x7F000000, "Crash kernel"),)
    assert q.kdump["kernel_image"] == {"path": "/boot/vmlinuz-7.3.4+deb13-amd64", "image_size": 14505920,
                                       "init_size": 65331200}
    assert q.kdump["kernel_config"] == {"CONFIG_CMA": True, "CONFIG_KEXEC_FILE": True, "CONFIG_CRASH_DUMP": True}
    lpar = example("ppc64le-lpar-50g.yaml")
    assert (lpar.arch, lpar.page_size, lpar.fadump, lpar.ram_size()) == ("ppc64le", 65536, False, 50 << 30)
    s390 = example("s390x-guest-2g.yaml")
    assert s390.memmap.crash == (Span(0x70000000, 0x80000000, "Crash kernel"),)
    nonroot = example("x86_64-nonroot-snapshot.yaml")
    assert not nonroot.memmap.layout_known and nonroot.memmap.ram == () and nonroot.ram_size() == 25769402368


def test_the_examples_match_their_captures() -> None:
    """Where an example is a capture unchanged, its map is exactly what the reader makes of the capture."""
    pairs = {"x86_64-vm-2g.yaml": ("x86_64-vmware-avml-3.txt", None),
             "x86_64-laptop-16g.yaml": ("x86_64-laptop-crashkernel.txt", None),
             "arm64-orin-64g.yaml": ("arm64-jetson-orin.txt", "arm64"),
             "arm64-rpi4-4g.yaml": ("arm64-rpi4-excerpt.txt", "arm64"),
             "s390x-guest-2g.yaml": ("s390x-guest-crashkernel.txt", "s390x")}
    for name, (capture, arch) in pairs.items():
        m = parse_iomem((DATA / "iomem" / capture).read_text(), arch=arch)
        assert example(name).memmap.replace(source="") == m.replace(source=""), name


def test_documentation_examples_load() -> None:
    doc = (ROOT / "docs" / "machine-format.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", doc, re.S)
    assert len(blocks) == 2
    first = load_machine(blocks[0], source="doc")
    assert first.name == "s390x-guest-2g" and first.kexec_crash_size == 256 << 20
    assert first.memmap == example("s390x-guest-2g.yaml").memmap.__class__(
        **{**{f: getattr(first.memmap, f) for f in ("ram", "reserved", "nomap", "other", "crash", "layout_known")},
           "source": "/proc/iomem"})
    second = load_machine(blocks[1], source="doc")
    assert second.system_ram == 16 << 30 and not second.memmap.layout_known


# --- round trips of what the readers make ---------------------------------------------------------


@pytest.mark.parametrize("capture", sorted(p.name for p in (DATA / "iomem").glob("*.txt") if "console" not in p.name))
def test_every_capture_round_trips_as_a_machine(capture: str) -> None:
    arch = capture.split("-")[0]
    mm = parse_iomem((DATA / "iomem" / capture).read_text(), source=capture, arch=arch)
    m = Machine(memmap=mm, name=capture, arch="arm" if arch == "arm" else arch)
    assert load(dump_machine(m)) == m


names = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@st.composite
def machines(draw) -> Machine:  # type: ignore[no-untyped-def]
    cuts = sorted(draw(st.sets(st.integers(0, 1 << 36).map(lambda x: x * 4096), min_size=2, max_size=12)))  # RAM is whole pages
    ram = tuple(Span(a, b, draw(names)) for a, b in zip(cuts[::2], cuts[1::2]) if b > a)
    if not ram:
        ram = (Span(0, 1 << 30, "System RAM"),)
    inner = [Span(s.start, s.start + max(1, s.size // 2), draw(names)) for s in ram[: draw(st.integers(0, len(ram)))]]
    maybe = lambda s: draw(st.one_of(st.none(), s))  # noqa: E731
    size = st.integers(1, 1 << 64)
    return Machine(
        memmap=MemoryMap(ram=ram, reserved=tuple(sorted(inner)), other=(Span(1 << 50, (1 << 50) + 4096, "x"),),
                         source=draw(names)),
        name=draw(names), provenance=draw(names), arch=maybe(st.sampled_from(["x86_64", "arm64", "s390x"])),
        kernel=maybe(names), cmdline=maybe(names), system_ram=maybe(size), swiotlb_size=maybe(size),
        mem_encrypt=maybe(st.sampled_from(["sev", "tdx", "sme"])), kaslr=maybe(st.booleans()),
        cpus=maybe(st.integers(1, 4096)), page_size=draw(st.sampled_from([4096, 16384, 65536])),
        dma_limit=maybe(size), fadump=maybe(st.booleans()), kexec_crash_size=maybe(st.integers(0, 1 << 40)),
        crash_cma_ranges=tuple(sorted(inner[:1])), notes=tuple(draw(st.lists(names, max_size=3))),
        kdump=draw(st.fixed_dictionaries({}, optional={
            "dump_level": st.integers(0, 31), "collector": names, "kexec_file_load": st.booleans(),
            "luks_memory": st.integers(0, 1 << 40), "nr_cpus": st.integers(1, 64),
            "kernel_image": st.fixed_dictionaries({}, optional={"path": names, "image_size": st.integers(0, 1 << 32)}),
            "kernel_config": st.dictionaries(st.sampled_from(["CONFIG_CMA", "CONFIG_KEXEC_FILE"]), st.booleans()),
        })),
        boot_facts=draw(st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True),
                                        st.one_of(st.none(), st.booleans(), st.integers(0, 1 << 64), names),
                                        max_size=4)),
    )


@settings(max_examples=150, deadline=None)
@given(machines())
@pytest.mark.property
def test_any_machine_round_trips(m: Machine) -> None:
    text = dump_machine(m)
    text.encode("ascii")
    assert load(text) == m


# --- accepted spellings -------------------------------------------------------------------------------


def test_sizes_addresses_and_plain_strings() -> None:
    m = load(HEAD + "kernel: 6.12\nsystem_ram: 1.5G\ndma_limit: 0x40000000\ncpus: 8\nswiotlb_size: 65536\n"
             "memory:\n  ram:\n    - {start: 0, size: 1G}\n    - {start: 0x40000000, end: 1536M, name: high}\n"
             "  reserved:\n    - {start: 16M, size: 32M, name: Kernel code}\n")
    assert m.kernel == "6.12"
    assert (m.system_ram, m.dma_limit, m.cpus, m.swiotlb_size) == (3 << 29, 1 << 30, 8, 65536)
    assert m.memmap.ram == (Span(0, 1 << 30), Span(1 << 30, 3 << 29, "high"))
    assert m.memmap.reserved == (Span(16 << 20, 48 << 20, "Kernel code"),)
    assert m.memmap.source == ""
    assert m.page_size == 4096 and m.kdump == {}


def test_layout_unknown_needs_only_the_total() -> None:
    m = load(HEAD + "system_ram: 8G\n")
    assert not m.memmap.layout_known and m.ram_size() == 8 << 30
    m = load(HEAD + "system_ram: 8G\nmemory:\n  layout: unknown\n  source: /proc/zoneinfo\n")
    assert not m.memmap.layout_known and m.memmap.source == "/proc/zoneinfo"


def test_kdump_section_normalises() -> None:
    m = load(HEAD + RAM + "kdump:\n  kernel_image: {path: /boot/vmlinuz, image_size: 14M, init_size: 0x3e4e000}\n"
             "  initrd: {size: 30M, unpacked_size: 90M}\n  dump_level: 31\n  kexec_file_load: yes\n"
             "  luks_memory: 1G\n  nr_cpus: 1\n  kernel_config: {CONFIG_CMA: y, CONFIG_KEXEC_FILE: n, CONFIG_FOO: m,"
             " CONFIG_NR_CPUS: 8192}\n  platform: {mlx5: true, smmu: false, page_size: 64K}\n")
    assert m.kdump == {
        "kernel_image": {"path": "/boot/vmlinuz", "image_size": 14 << 20, "init_size": 0x3E4E000},
        "initrd": {"size": 30 << 20, "unpacked_size": 90 << 20},
        "dump_level": 31, "kexec_file_load": True, "luks_memory": 1 << 30, "nr_cpus": 1,
        "kernel_config": {"CONFIG_CMA": True, "CONFIG_KEXEC_FILE": False, "CONFIG_FOO": "m", "CONFIG_NR_CPUS": 8192},
        "platform": {"mlx5": True, "smmu": False, "page_size": 65536},
    }
    assert load(dump_machine(m)) == m


# --- wrong documents: one InputError at the node --------------------------------------------------------

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8))


@pytest.mark.parametrize(
    ("text", "line", "column", "expected"),
    [
        ("", 1, None, "empty document"),
        ("# only a comment\n", 1, None, "empty document"),
        ("schema: [1\n", 2, 1, "invalid YAML"),
        ("schema: 'x\n", 2, 1, "invalid YAML"),
        ("- 1\n- 2\n", 1, 1, "expected the machine file (a mapping), found a list"),
        ("just text\n", 1, 1, "expected the machine file (a mapping)"),
        (HEAD + "---\n" + HEAD, 2, 1, "expected a single document"),
        ("name: x\n" + RAM, 1, 1, "missing 'schema: crashplan/machine@1'"),
        ("schema: crashplan/machine@2\n" + RAM, 1, 9, "unsupported schema version 2"),
        ("schema: kubernetes/v1\n", 1, 9, "not a crashplan machine file"),
        (HEAD + "colour: blue\n", 2, 1, "unknown key 'colour'"),
        (HEAD + "name: a\nname: b\n", 3, 1, "duplicate key 'name'"),
        (HEAD + "system_ram: true\n", 2, 13, "expected the RAM size"),
        (HEAD + "system_ram: 16X\n", 2, 13, "'16X' is not a size"),
        (HEAD + "system_ram: -1\n", 2, 13, "between 0 and 2^64"),
        (HEAD + "system_ram: 0\n", 2, 13, "above zero"),
        (HEAD + "system_ram: 1.5\n", 2, 13, "expected the RAM size"),
        (HEAD + RAM + "cpus: many\n", 5, 7, "expected a CPU count"),
        (HEAD + RAM + "cpus: 0\n", 5, 7, "between 1"),
        (HEAD + RAM + "kaslr: 3\n", 5, 8, "expected true or false"),
        (HEAD + RAM + "arch: vax\n", 5, 7, "unknown architecture 'vax'"),
        (HEAD + RAM + "mem_encrypt: yes\n", 5, 14, "expected sev, tdx, sme or null"),
        (HEAD + RAM + "page_size: 5000\n", 5, 12, "power of two"),
        (HEAD + RAM + "notes: hello\n", 5, 8, "expected notes (a list)"),
        (HEAD + "memory:\n  ram:\n    - {start: 0, size: 16G}\n    - {start: 8G, size: 1G}\n", 5, 7,
         "memory.ram span 0x200000000-0x240000000 overlaps memory.ram span 0x0-0x400000000"),
        (HEAD + "memory:\n  ram:\n    - {start: 0, size: 1G}\n  nomap:\n    - {start: 512M, size: 1M}\n", 6, 7,
         "memory.nomap span 0x20000000-0x20100000 overlaps memory.ram"),
        (HEAD + "memory:\n  ram:\n    - {start: 0, size: 1G}\n  reserved:\n    - {start: 2G, size: 4K}\n", 6, 7,
         "memory.reserved span 0x80000000-0x80001000 is not inside memory.ram"),
        (HEAD + "memory:\n  ram:\n    - {start: 0, size: 1G}\n  crash:\n    - {start: 1020M, size: 8M}\n", 6, 7,
         "memory.crash span"),
        (HEAD + "memory:\n  ram:\n    - {start: 1G, end: 1G}\n", 4, 24, "empty or negative span"),
        (HEAD + "memory:\n  ram:\n    - {start: 0, end: 1G, size: 1G}\n", 4, 27, "'end' or 'size', not both"),
        (HEAD + "memory:\n  ram:\n    - {start: 0}\n", 4, 7, "needs 'end' (exclusive) or 'size'"),
        (HEAD + "memory:\n  ram:\n    - {end: 1G}\n", 4, 7, "needs 'start'"),
        (HEAD + "memory:\n  ram:\n    - {start: 0, size: 1G, colour: red}\n", 4, 28, "unknown key 'colour'"),
        (HEAD + "memory:\n  ram:\n    - 0x1000-0x2000\n", 4, 7, "expected a span of memory.ram (a mapping)"),
        (HEAD + "memory:\n  ram: []\n", 3, 8, "memory.ram is empty"),
        (HEAD + "memory:\n  source: x\n", 2, 1, "memory.ram is empty"),
        (HEAD + "memory:\n  layout: unknown\n", 2, 1, "layout: unknown needs system_ram"),
        (HEAD + "system_ram: 1G\nmemory:\n  layout: unknown\n  ram:\n    - {start: 0, size: 1G}\n", 5, 3,
         "memory.ram given with layout: unknown"),
        (HEAD + "system_ram: 1G\nmemory:\n  layout: maybe\n", 4, 11, "expected known or unknown"),
        (HEAD + "", 1, 1, "no memory map"),
        (HEAD + RAM + "reservation:\n  kexec_crash_size: lots\n", 6, 21, "'lots' is not a size"),
        (HEAD + RAM + "reservation:\n  crash_cma_ranges: [{start: 0}]\n", 6, 22, "needs 'end'"),
        (HEAD + RAM + "kdump:\n  dump_level: 32\n", 6, 15, "between 0 and 31"),
        (HEAD + RAM + "kdump:\n  initrd: {size: big}\n", 6, 18, "'big' is not a size"),
        (HEAD + RAM + "kdump:\n  vmlinux: /boot/x\n", 6, 3, "unknown key 'vmlinux' in kdump"),
        (HEAD + RAM + "kdump:\n  kernel_config: {CONFIG_CMA: m}\n", 6, 31, "expected y or n"),
        (HEAD + RAM + "kdump:\n  kernel_config: {cma: y}\n", 6, 19, "expected a kernel config option"),
        (HEAD + RAM + "kdump:\n  platform: {page_size: 3}\n", 6, 25, "power of two"),
        (HEAD + RAM + "name: !!python/object:os.system x\n", 5, 7, "unsupported YAML tag"),
        (HEAD + RAM + "name: !!binary aGVsbG8=\n", 5, 7, "unsupported YAML tag 'tag:yaml.org,2002:binary'"),
        (HEAD + RAM + "a: &x 1\n", 5, 4, "YAML anchors"),
        (HEAD + RAM + "boot_facts: {Kernel: 1}\n", 5, 14, "lower-case identifier"),
        (HEAD + RAM + "boot_facts: {efi: [1]}\n", 5, 19, "expected a number, string or true/false for efi"),
        (HEAD + RAM + "boot_facts: {ratio: 0.5}\n", 5, 21, "expected a number, string or true/false"),
        (BOMB, 1, 4, "YAML anchors (&name, *name) are not allowed"),
        (HEAD + RAM + "notes: [" + "[" * 40 + "]" * 40 + "]\n", 5, 39, "nested more than 32 levels deep"),
        (HEAD + "name: caf\udce9\n", 2, 10, "a byte that is not UTF-8"),
        (HEAD + "name: a\x07b\n", 2, 8, "the character '\\x07'"),
    ],
)
def test_bad_document(text: str, line: int, column: int | None, expected: str) -> None:
    with pytest.raises(InputError) as e:
        load(text)
    assert (e.value.path, e.value.line, e.value.column) == ("m.yaml", line, column), e.value
    assert expected in e.value.message
    str(e.value).encode("ascii")


def test_huge_document_is_refused_before_parsing() -> None:
    text = HEAD + RAM + "notes:\n" + '  - "' + "x" * MAX_DOCUMENT_CHARS + '"\n'
    with pytest.raises(InputError, match="document too large"):
        load(text)


def test_wide_flat_document_is_fine() -> None:
    spans = "".join(f"    - {{start: {i << 30:#x}, size: 512M}}\n" for i in range(5000))
    m = load(HEAD + "memory:\n  ram:\n" + spans)
    assert len(m.memmap.ram) == 5000


def test_yaml_is_imported_only_when_a_machine_file_is_read() -> None:
    code = ("import sys; import crashplan.memmap.machine as m; a = 'yaml' in sys.modules; "
            "m.load_machine(open(sys.argv[1]).read(), source='x'); print(a, 'yaml' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(EXAMPLES[0])], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.split() == ["False", "True"]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("schema: crashplan/machine@1\nmemory ram start end size 0x1G-[]{},&*!|>'\"#\t")
                                        + ["\x00", "\udc80", "\x85"]), max_size=200))
@pytest.mark.property
def test_any_text_is_a_machine_or_one_input_error(text: str) -> None:
    try:
        load(HEAD + text)
    except InputError as e:
        assert e.path == "m.yaml"
        str(e).encode("ascii")


def test_numeric_boot_facts_must_be_numbers():
    """The simulator computes with these; a machine file that holds text there is an input error."""
    text = ("schema: crashplan/machine@1\nmemory:\n  ram:\n    - {start: 0x100000, end: 0x80000000}\n"
            "boot_facts:\n  initrd_size: 9X7136\n")
    with pytest.raises(InputError) as ei:
        load_machine(text, source="m.yaml")
    assert (ei.value.line, "initrd_size" in ei.value.message) == (6, True)


def test_machine_and_map_are_frozen_values_with_replace():
    """Machine and MemoryMap are values: equal by fields, hashable, immutable, copied with changes by
    replace() through __init__ (its defaults apply), and an unknown field is a TypeError."""
    import pickle

    import pytest

    from crashplan.memmap.model import FrozenError, Machine, MemoryMap, Span

    mm = MemoryMap(ram=(Span(0x100000, 0x40000000, "System RAM"),))
    m = Machine(memmap=mm, name="a", arch="x86_64")
    assert m == Machine(memmap=MemoryMap(ram=mm.ram), name="a", arch="x86_64") and hash(m) == hash(m.replace())
    b = m.replace(name="b", kdump=None)
    assert (b.name, b.kdump, b.arch, m.name) == ("b", {}, "x86_64", "a")
    assert mm.replace(source="x").source == "x" and mm.replace(source="x") != mm
    assert repr(mm).startswith("MemoryMap(ram=(Span(start=1048576")
    assert pickle.loads(pickle.dumps(m)) == m
    with pytest.raises(FrozenError):
        m.name = "c"  # type: ignore[misc]
    with pytest.raises(TypeError, match="Machine has no field 'nmae'"):
        m.replace(nmae="c")
    assert not hasattr(m, "__dict__")
