"""RHEL 8 crashkernel=auto: vectors from the compiled parse code, replayed through the public API.

``tests/data/oracle/parse-vectors-rhel8.jsonl.gz`` (README.md there, "parse-vectors-rhel8"): the 4.14
parse code of ``parse-vectors-old.jsonl.gz`` with RHEL 8's ``crashkernel=auto`` branch of
``__parse_crashkernel()`` added as the RHEL 8 source reads (quoted on LKML by Red Hat in 2021-02 and in
the SUSE blog "What's Wrong with crashkernel=auto", 2022-01-27), compiled in userspace, per architecture
(x86_64 and s390x, arm64, ppc64 with its fadump= lookup), for command lines around ``auto`` and RAM
sizes at every table boundary.
"""

from __future__ import annotations

import collections

import pytest

from conftest import DATA, load_jsonl_gz, vector_diff
from crashplan.kernel import evaluate, parse_release

VECTORS = load_jsonl_gz(DATA / "oracle" / "parse-vectors-rhel8.jsonl.gz")


def test_vector_file_is_complete():
    n = collections.Counter((r["arch"], r["variant"]) for r in VECTORS)
    assert len(VECTORS) == 4440
    assert set(n) == {("x86_64", "fn:parse_crashkernel"), ("x86_64", "seq:x86_64"), ("arm64", "fn:parse_crashkernel"),
                      ("ppc64le", "fn:parse_crashkernel"), ("s390x", "fn:parse_crashkernel")}
    auto = [r for r in VECTORS if r["messages"] and r["messages"][0]["text"].startswith("Using crashkernel=auto")]
    assert len(auto) > 2000 and sum(r["accepted"] for r in auto) > 1000


@pytest.mark.parametrize("arch", ["x86_64", "arm64", "ppc64le", "s390x"])
def test_every_rhel8_vector_agrees(arch):
    try:
        parse_release("4.18")
    except ValueError:
        pytest.skip("mainline releases before 5.15 are not modelled in this tree")
    kernel = f"4.18.0-553.el8_10.{arch}"
    mismatches = []
    n = 0
    for r in VECTORS:
        if r["arch"] != arch:
            continue
        o = evaluate(r["cmdline"], system_ram=r["system_ram"], kernel=kernel, arch=arch, variant=r["variant"])
        d = vector_diff(r, o)
        if d:
            mismatches.append((r["id"], r["cmdline"], r["system_ram"], d))
        n += 1
    assert mismatches[:5] == [] and n >= 888
