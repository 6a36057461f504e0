"""The public API: crashplan.kernel.evaluate() as other tools script against it."""

from __future__ import annotations

import random

import pytest

from crashplan.kernel import evaluate, normalize_arch

G = 1 << 30
M = 1 << 20


@pytest.mark.parametrize("alias,canonical", [
    ("x86_64", "x86_64"), ("amd64", "x86_64"), ("aarch64", "arm64"), ("arm64", "arm64"),
    ("riscv64", "riscv64"), ("loongarch64", "loongarch64"), ("ppc64le", "ppc64le"), ("ppc64el", "ppc64le"),
    ("s390x", "s390x"), ("powerpc", "ppc64le"), ("arm64,riscv,loongarch", "arm64"),
])
def test_arch_aliases(alias, canonical):
    assert normalize_arch(alias) == canonical
    assert evaluate("crashkernel=256M", system_ram=4 * G, kernel="6.12", arch=alias).arch == canonical


def test_unknown_arch_and_release_raise_value_error():
    with pytest.raises(ValueError, match="unknown architecture"):
        evaluate("crashkernel=256M", system_ram=G, kernel="6.12", arch="vax")
    with pytest.raises(ValueError, match="not a kernel release"):
        evaluate("crashkernel=256M", system_ram=G, kernel="latest", arch="x86_64")


def test_uname_release_strings_select_the_series():
    o = evaluate("crashkernel=256M crashkernel=1G,cma", system_ram=16 * G, kernel="6.12.0-55.el10.x86_64",
                 arch="x86_64")
    assert (o.kernel.label, o.accepted) == ("6.12", False)
    assert any(n.startswith("RHEL 10.0") for n in o.notes)  # the distribution profile speaks
    o = evaluate("crashkernel=256M crashkernel=1G,cma", system_ram=16 * G, kernel="7.2.13+deb14-amd64",
                 arch="amd64")
    assert (o.accepted, o.crash_size, o.cma_size) == (True, 256 * M, G)


def test_outcome_for_the_issue_example():
    o = evaluate("crashkernel=256M,cma=1G", system_ram=16 * G, kernel="7.2", arch="x86_64")
    assert (o.ret, o.accepted, o.cma_size) == (-22, False, 0)
    assert o.messages == (("warn", "crashkernel: unrecognized char: ,"),)
    assert o.tokens["plain"].text == "crashkernel=256M,cma=1G"


def test_tokens_are_character_offsets_even_with_non_ascii_text():
    line = "root=/dev/sda1 title=“prod” crashkernel=512M"
    o = evaluate(line, system_ram=16 * G, kernel="6.12", arch="x86_64")
    t = o.tokens["plain"]
    assert line[t.start:t.end] == "crashkernel=512M"


def test_nul_ends_the_command_line_as_in_c():
    o = evaluate("crashkernel=256M\0crashkernel=1G", system_ram=16 * G, kernel="6.12", arch="x86_64")
    assert o.crash_size == 256 * M


def test_fadump_sizes_boot_memory():
    o = evaluate("fadump=on crashkernel=32G", system_ram=64 * G, kernel="6.12", arch="ppc64le")
    assert (o.fadump, o.fadump_size) == (True, 16 * G)
    assert o.fadump_messages == (("info", "fadump: Adjusted boot memory size to 16384MB"),)
    o = evaluate("fadump=on", system_ram=64 * G, kernel="6.12", arch="ppc64le")
    assert o.fadump_size == 3 * G  # 5% of 64G = 3.2G, rounded down to 256M
    assert evaluate("fadump=on crashkernel=1G", system_ram=64 * G, kernel="6.12", arch="x86_64").fadump is False


def test_never_raises_on_any_text_or_ram():
    rng = random.Random(1234)
    alphabet = "crashkernel=0123456789xXabcdefKMGTPE,:-@ \t\"highlowcma.\n"
    for _ in range(3000):
        n = rng.randrange(0, 60)
        line = "".join(rng.choice(alphabet) for _ in range(n))
        if rng.random() < 0.7:
            line = "crashkernel=" + line
        ram = rng.choice([0, 1, G, 4 * G - 1, (1 << 64) - 1, rng.randrange(1 << 64)])
        kernel = rng.choice(["5.15", "6.1", "6.6", "6.7", "6.12", "6.17", "7.2", "7.3"])
        arch = rng.choice(["x86_64", "arm64", "riscv64", "loongarch64", "ppc64le", "s390x"])
        o = evaluate(line, system_ram=ram, kernel=kernel, arch=arch)
        assert o.ret in (0, -2, -22)
        assert 0 <= o.crash_size < 1 << 64


def test_any_python_string_is_accepted_even_lone_surrogates():
    o = evaluate("\ud800 crashkernel=1G", system_ram=8 * G, kernel="6.1", arch="x86_64")
    assert (o.crash_size, o.tokens["plain"].start) == (G, 2)
    o = evaluate("\udc80é crashkernel=1G", system_ram=8 * G, kernel="6.1", arch="x86_64")
    assert o.tokens["plain"].text == "crashkernel=1G"
