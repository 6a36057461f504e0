"""Properties of the /proc/iomem reader (hypothesis, bounded budget; part of the normal run).

``parse_iomem`` returns a well-formed map or raises ``InputError`` naming a line of the text, for
any text: binary, invalid UTF-8 (as surrogateescape reads it), numbers past 2^64, deep nesting,
huge files.  On a well-formed tree, System RAM is what the top-level entries say, merged and
trimmed to pages.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import DATA
from crashplan.errors import InputError
from crashplan.memmap.iomem import parse_iomem
from crashplan.memmap.model import Span, merge_spans

pytestmark = pytest.mark.property

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
U64 = (1 << 64) - 1
PAGE = 4096
FIXTURES = sorted((DATA / "iomem").glob("*.txt"))
REAL = [p.read_bytes().decode("utf-8", "surrogateescape") for p in FIXTURES]

ADDR = st.one_of(st.integers(0, U64), st.integers(0, 1 << 40), st.sampled_from([0, U64, 1 << 64, 1 << 68, 0xFFF]))
NAMES = st.sampled_from(["System RAM", "System RAM", "Reserved", "reserved", "Kernel code", "Kernel data",
                         "Crash kernel", "ACPI Tables", "PCI Bus 0000:00", "", "System RAM (kmem)", "x : y"])
ENTRY = st.tuples(st.integers(0, 4), ADDR, ADDR, NAMES, st.sampled_from([8, 8, 16, 1, 20]))
PIECES = st.sampled_from(["\udcff", "\x00", "\t", "\r", " ", "  ", "-", " : ", ":", "\n", "\n\n", "g", "0" * 40,
                          "f" * 17, "\x1b[0m", "\ufeff", "\u2028"])


def render(entries: list[tuple[int, int, int, str, int]]) -> str:
    return "".join(f"{'  ' * d}{a:0{w}x}-{b:0{w}x} : {n}\n" for d, a, b, n, w in entries)


def insert(text: str, edits: list[tuple[int, str]]) -> str:
    for pos, piece in edits:
        i = pos % (len(text) + 1)
        text = text[:i] + piece + text[i:]
    return text


EDITS = st.lists(st.tuples(st.integers(0, 1 << 20), PIECES), max_size=4)
TREE = st.lists(st.tuples(st.integers(1, 1 << 16), st.integers(1, 1 << 16), st.lists(NAMES, max_size=2)),
               min_size=1, max_size=10).map(lambda banks: render(_tree(banks)))


def _tree(banks: list[tuple[int, int, list[str]]]) -> list[tuple[int, int, int, str, int]]:
    """Sorted top-level entries (every other one System RAM) with children inside them."""
    out, cur = [], 0
    for i, (gap, size, children) in enumerate(banks):
        start, end = cur + gap * 0x400, cur + gap * 0x400 + size * 0x400
        out.append((0, start, end - 1, "System RAM" if i % 2 == 0 else "Reserved", 8))
        out += [(1, start, start + 0xFF, name, 8) for name in children]
        cur = end
    return out


TEXT = st.one_of(
    TREE,
    st.lists(ENTRY, max_size=25).map(render),
    st.tuples(st.lists(ENTRY, min_size=1, max_size=25).map(render), EDITS).map(lambda t: insert(*t)),
    st.tuples(st.sampled_from(REAL), EDITS).map(lambda t: insert(*t)),
    st.text(st.one_of(st.characters(), st.integers(0xDC80, 0xDCFF).map(chr)), max_size=200),
    st.binary(max_size=300).map(lambda b: b.decode("utf-8", "surrogateescape")),
)
ARCH = st.sampled_from([None, "x86_64", "arm64", "s390x"])


def check_error(e: InputError, text: str) -> None:
    assert e.path == "iomem.txt"
    assert e.line is not None and 1 <= e.line <= text.count("\n") + 1, (e.line, str(e))
    assert e.column is None or e.column >= 1
    assert str(e).startswith(f"iomem.txt:{e.line}:")


@SETTINGS
@given(TEXT, ARCH)
@example("10000000000000000-1ffffffffffffffff : System RAM\n", None)  # past 2^64
@example("00000000-ffffffff : System RAM\n  \udcff\n", None)  # invalid UTF-8
@example("".join("  " * i + f"{i:08x}-{i + 1:08x} : x\n" for i in range(200)), None)  # deep nesting
def test_parse_iomem_returns_a_map_or_an_input_error_with_a_line(text, arch):
    try:
        mm = parse_iomem(text, arch=arch, source="iomem.txt")
    except InputError as e:
        check_error(e, text)
        return
    prev = -1
    for s in mm.ram:
        assert prev <= s.start < s.end <= 1 << 64
        assert s.start % PAGE == 0 and s.end % PAGE == 0
        prev = s.end
    for kind in ("reserved", "nomap", "other", "crash"):
        assert all(0 <= s.start < s.end <= 1 << 64 for s in getattr(mm, kind)), kind
    assert mm == parse_iomem(text, arch=arch, source="iomem.txt")


BANKS = st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(1, 1 << 20)), min_size=1, max_size=8)


@SETTINGS
@given(BANKS, st.lists(st.integers(0, 3), max_size=8))
def test_ram_is_the_top_level_system_ram_merged_and_page_trimmed(banks, gaps):
    """Any sorted layout of RAM banks (in pages, with arbitrary byte offsets) reads back exactly."""
    spans, lines, cur = [], [], 0
    for i, (gap, size) in enumerate(banks):
        start = cur + gap * PAGE + (gaps[i] * 0x400 if i < len(gaps) else 0)
        end = start + size * PAGE
        spans.append(Span(start, end))
        lines.append(f"{start:08x}-{end - 1:08x} : System RAM")
        if i % 2:
            lines.append(f"  {start:08x}-{start + 0xFFF:08x} : Kernel code")
        cur = end
    mm = parse_iomem("\n".join(lines) + "\n", source="iomem.txt")
    expected = []
    for s in merge_spans(spans):
        lo, hi = -(-s.start // PAGE) * PAGE, s.end // PAGE * PAGE
        if hi > lo:
            expected.append((lo, hi))
    assert [(s.start, s.end) for s in mm.ram] == expected


def test_a_huge_file_is_read():
    text = REAL[0] * 2000  # > 1 MiB, tens of thousands of lines
    try:
        parse_iomem(text, source="iomem.txt")
    except InputError as e:
        check_error(e, text)


def test_every_real_capture_is_read():
    for path, text in zip(FIXTURES, REAL):
        try:
            mm = parse_iomem(text, source="iomem.txt")
        except InputError as e:  # the console paste keeps its shell prompt lines
            assert "console" in path.name, (path.name, str(e))
            check_error(e, text)
            continue
        assert mm.ram, path.name
