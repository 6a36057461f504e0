"""Properties of the machine-file reader (hypothesis, bounded budget; part of the normal run).

``load_machine`` returns a Machine or raises ``InputError`` naming a line, for any text: YAML alias
bombs, deep nesting, tags, numbers past 2^64, binary, invalid UTF-8.  Whatever it returns writes
back (``dump_machine``) to a document that loads to the same Machine.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import ROOT
from crashplan.errors import InputError
from crashplan.memmap.machine import MAX_DOCUMENT_CHARS, dump_machine, load_machine

pytestmark = pytest.mark.property

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EXAMPLES = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "examples").glob("*.yaml"))]
YAML_BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")  # YAML counts all of these as line breaks

NUM = st.one_of(st.integers(0, 1 << 40).map(hex), st.integers(0, 1 << 40).map(str),
                st.sampled_from(["16G", "4K", "1.5G", "0x", "-1", str(1 << 64), hex(1 << 64), "1e3", "0100", "~",
                                 "null", "true", "[]", "{}", "16GiB", "16 G", "0x" + "f" * 40]))
SPAN = st.builds(lambda a, b, k, n: f"{{start: {a}, {k}: {b}{n}}}", NUM, NUM, st.sampled_from(["end", "size"]),
                 st.sampled_from(["", ", name: x", ", name: \"Kernel code\"", ", name: [a]", ", nme: y"]))
SPANS = st.lists(SPAN, max_size=4).map(lambda xs: "".join(f"\n    - {x}" for x in xs) or " []")
SCALAR_KEYS = st.sampled_from(["name", "arch", "kernel", "cmdline", "system_ram", "page_size", "cpus",
                               "swiotlb_size", "mem_encrypt", "kaslr", "dma_limit", "fadump", "bogus"])
SCALARS = st.sampled_from(["x86_64", "arm64", "vax", "7.2", "6.12.0-55.el10.x86_64", "4.18.0", "16G", "4K", "64K",
                           "3000", "true", "no", "sev", "null", "\"crashkernel=256M\"", "[1, 2]", "{a: 1}", "-5",
                           "!!binary aGk=", "&x 1", "*x", "'\\x00'", "\"\\x00\"", "\"\\udcff\""])
DOC = st.builds(
    lambda schema, scalars, ram, reserved, extra: (
        f"{schema}\n" + "".join(f"{k}: {v}\n" for k, v in scalars)
        + f"memory:\n  ram:{ram}\n  reserved:{reserved}\n" + extra),
    st.sampled_from(["schema: crashplan/machine@1"] * 6 + ["schema: crashplan/machine@2", "", "schema: 1"]),
    st.lists(st.tuples(SCALAR_KEYS, SCALARS), max_size=5, unique_by=lambda t: t[0]),
    SPANS, SPANS,
    st.sampled_from(["", "kdump:\n  dump_level: 31\n  nr_cpus: 1\n", "kdump:\n  dump_level: 32\n",
                     "reservation:\n  kexec_crash_size: 256M\n", "notes:\n  - a\n  - {b: 1}\n", "---\nx: 1\n",
                     "boot_facts:\n  kernel_image: 1\n  Efi: true\n", "kdump:\n  kernel_config:\n    CONFIG_X: y\n"]),
)


@st.composite
def valid_doc(draw: st.DrawFn) -> str:
    """A machine file that follows docs/machine-format.md: page-aligned RAM, reserved spans inside it."""
    page = draw(st.sampled_from([4096, 65536]))
    banks, cur = [], draw(st.integers(0, 1 << 20)) * page
    for _ in range(draw(st.integers(1, 4))):
        size = draw(st.integers(1, 1 << 20)) * page
        banks.append((cur, cur + size))
        cur += size + draw(st.integers(0, 1 << 18)) * page
    reserved = []
    for a, b in draw(st.lists(st.sampled_from(banks), max_size=3)):
        off = draw(st.integers(0, b - a - 1))
        reserved.append((a + off, min(b, a + off + draw(st.integers(1, 1 << 24)))))
    w = ["schema: crashplan/machine@1", f"page_size: {page // 1024}K"]
    for key, values in (("arch", ["x86_64", "arm64", "aarch64", "ppc64le", "s390x", "riscv64"]),
                        ("kernel", ["6.1", "6.12.0-55.el10.x86_64", "7.2", "\"7.3.4+deb13-amd64\""]),
                        ("cmdline", ["\"ro crashkernel=256M\"", "\"crashkernel=1G-:512M,high\"", "''"]),
                        ("kaslr", ["true", "false", "null"]), ("mem_encrypt", ["sev", "tdx", "null"]),
                        ("swiotlb_size", ["64M", "0x4000000", "null"]), ("cpus", ["1", "64"]),
                        ("name", ["\"a\\u00e9\\x01\"", "host", "\"\""])):
        if draw(st.booleans()):
            w.append(f"{key}: {draw(st.sampled_from(values))}")
    w.append("memory:")
    w.append("  ram:")
    w += [f"    - {{start: {a:#x}, {'end' if i % 2 else 'size'}: {b if i % 2 else b - a:#x}}}"
          for i, (a, b) in enumerate(banks)]
    if reserved:
        w.append("  reserved:")
        w += [f"    - {{start: {a:#x}, end: {b:#x}, name: \"r{i}\"}}" for i, (a, b) in enumerate(reserved)]
    if draw(st.booleans()):
        w += ["kdump:", "  dump_level: 31", "  kernel_image:", "    init_size: 48M"]
    return "\n".join(w) + "\n"


PIECES = st.sampled_from(["\udcff", "\x00", "\t", "&a ", "*a", "!!python/object:os.system ", "[", "{", "\"", "'",
                          "\n", ": ", "- ", "\x85", "\ufeff", "%YAML 1.1\n", "? "])
TEXT = st.one_of(
    DOC,
    valid_doc(),
    st.sampled_from(EXAMPLES),
    st.tuples(st.one_of(DOC, st.sampled_from(EXAMPLES)), st.lists(st.tuples(st.integers(0, 1 << 20), PIECES),
                                                                  max_size=3)).map(lambda t: _insert(*t)),
    st.text(st.one_of(st.characters(), st.integers(0xDC80, 0xDCFF).map(chr)), max_size=120),
)


def _insert(text: str, edits: list[tuple[int, str]]) -> str:
    for pos, piece in edits:
        i = pos % (len(text) + 1)
        text = text[:i] + piece + text[i:]
    return text


def check_error(e: InputError, text: str) -> None:
    assert e.path == "machine.yaml"
    assert e.line is not None, str(e)
    assert 1 <= e.line <= max(text.count("\n") + 1, len(YAML_BREAKS.split(text))), (e.line, str(e))
    assert e.column is None or e.column >= 1


BOMB = ('a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n'
        'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n')


@SETTINGS
@given(TEXT)
@example(BOMB)
@example("schema: crashplan/machine@1\nmemory: " + "[" * 5000 + "]" * 5000 + "\n")
@example("schema: crashplan/machine@1\nsystem_ram: " + "9" * 5000 + "\n")
@example("schema: crashplan/machine@1\nmemory:\n  ram:\n    - {start: 0, end: 0x1ffffffffffffffff}\n")
@example("!!python/object/apply:os.system [ls]\n")
def test_load_machine_returns_a_machine_that_round_trips_or_an_input_error(text):
    try:
        m = load_machine(text, source="machine.yaml")
    except InputError as e:
        check_error(e, text)
        return
    prev = -1
    for s in m.memmap.ram:
        assert prev <= s.start < s.end <= 1 << 64
        prev = s.end
    dumped = dump_machine(m)
    assert load_machine(dumped, source="dumped.yaml") == m
    assert dump_machine(load_machine(dumped, source="dumped.yaml")) == dumped


@pytest.mark.parametrize("text", EXAMPLES, ids=[p.stem for p in sorted((ROOT / "examples").glob("*.yaml"))])
def test_every_example_round_trips(text):
    m = load_machine(text, source="machine.yaml")
    assert load_machine(dump_machine(m), source="dumped.yaml") == m


def test_an_alias_bomb_is_refused_where_it_starts():
    with pytest.raises(InputError) as ei:
        load_machine(BOMB, source="machine.yaml")
    assert (ei.value.line, ei.value.column) == (1, 4)


def test_a_document_past_the_size_limit_is_refused():
    text = "schema: crashplan/machine@1\nnotes:\n" + "  - x\n" * (MAX_DOCUMENT_CHARS // 6 + 1)
    with pytest.raises(InputError):
        load_machine(text, source="machine.yaml")


def test_a_document_past_the_size_limit_names_a_line():
    text = "schema: crashplan/machine@1\nnotes:\n" + "  - x\n" * (MAX_DOCUMENT_CHARS // 6 + 1)
    with pytest.raises(InputError) as ei:
        load_machine(text, source="machine.yaml")
    assert ei.value.line is not None


def test_ram_must_be_page_aligned():
    text = "schema: crashplan/machine@1\nmemory:\n  ram:\n    - {start: 0x100000, end: 0x1a0200}\n"
    with pytest.raises(InputError) as ei:
        load_machine(text, source="machine.yaml")
    assert ei.value.line == 4
