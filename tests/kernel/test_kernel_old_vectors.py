"""Parse vectors of 4.14 and 5.10, replayed through the public API.

``tests/data/oracle/parse-vectors-old.jsonl.gz`` (README.md there, "parse-vectors-old"): the command
lines and RAM sizes of the 6.1 vectors, run through the crashkernel= parsing code of Debian 11's
5.10.262 source compiled in userspace, and through the same code without the one message 4.14 does not
print.  Besides the raw parser calls (``fn:*``), ``seq:x86_64`` is x86's reserve_crashkernel() parse
sequence, the same code from 4.14 to 6.6.
"""

from __future__ import annotations

import collections

import pytest

from conftest import DATA, load_jsonl_gz, vector_diff
from crashplan.kernel import evaluate

VECTORS = load_jsonl_gz(DATA / "oracle" / "parse-vectors-old.jsonl.gz")


def test_vector_file_is_complete():
    kernels = collections.Counter((r["kernel"], r["variant"]) for r in VECTORS)
    assert len(VECTORS) == 7224
    assert {k for k, _ in kernels} == {"4.14", "5.10"}
    assert kernels[("5.10", "seq:x86_64")] == kernels[("4.14", "seq:x86_64")] > 500
    # the two releases differ, and only where 4.14 prints no zero-size message
    a = [r for r in VECTORS if r["kernel"] == "4.14"]
    b = [r for r in VECTORS if r["kernel"] == "5.10"]
    differ = [(x, y) for x, y in zip(a, b) if x["messages"] != y["messages"]]
    assert differ and all(y["messages"][-1]["text"] == "crashkernel size resulted in zero bytes" for _, y in differ)


@pytest.mark.parametrize("kernel", ["4.14", "5.10"])
def test_every_old_parse_vector_agrees(kernel):
    mismatches = []
    for r in VECTORS:
        if r["kernel"] != kernel:
            continue
        o = evaluate(r["cmdline"], system_ram=r["system_ram"], kernel=kernel, arch=r["arch"], variant=r["variant"])
        d = vector_diff(r, o)
        if d:
            mismatches.append((r["id"], r["cmdline"], r["system_ram"], d))
    assert mismatches[:5] == []


@pytest.mark.parametrize("kernel,arch", [("4.14", "amd64"), ("5.10", "x86_64"), ("4.19", "x86_64"),
                                         ("5.4", "x86_64"), ("5.10", "aarch64"), ("4.19", "ppc64el"),
                                         ("5.4", "s390x")])
def test_real_arch_sequences_match_the_recorded_calls(kernel, arch):
    """The arch names a user passes select the code the vectors recorded: x86 its sequence, every other
    architecture before 5.19 a plain parse_crashkernel() with the ``ret || !size`` check."""
    base = "4.14" if kernel == "4.14" else "5.10"
    variant = "seq:x86_64" if arch in ("amd64", "x86_64") else "fn:parse_crashkernel"
    n = 0
    for r in VECTORS:
        if r["kernel"] != base or r["variant"] != variant:
            continue
        o = evaluate(r["cmdline"], system_ram=r["system_ram"], kernel=kernel, arch=arch)
        assert vector_diff(r, o) == {}, r["id"]
        n += 1
    assert n > 500
