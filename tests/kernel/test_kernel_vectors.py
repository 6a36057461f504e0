"""Every shared parse vector, replayed through the public API.

The vectors (tests/data/oracle/parse-vectors.jsonl.gz, see README.md there) were recorded by running the
kernel's own crashkernel= parsing code of 6.1.176, 6.12.107 and 7.2.8 in userspace.
"""

from __future__ import annotations

import collections

import pytest

from conftest import DATA, load_jsonl_gz, vector_diff
from crashplan.kernel import evaluate

VECTORS = load_jsonl_gz(DATA / "oracle" / "parse-vectors.jsonl.gz")


def _check(r: dict) -> dict:
    variant = r["variant"] if r["variant"].startswith(("fn:", "seq:")) else r["variant"]
    o = evaluate(r["cmdline"], system_ram=r["system_ram"], kernel=r["kernel"], arch=r["arch"], variant=variant)
    return vector_diff(r, o, ("crash_size", "crash_base", "low_size", "cma_size", "high"))


def test_vector_file_is_complete():
    assert len(VECTORS) == 13253
    kernels = collections.Counter(r["kernel"] for r in VECTORS)
    assert kernels == {"6.1": 4964, "6.12": 2881, "7.2.8": 5408}


@pytest.mark.parametrize("kernel", ["6.1", "6.12", "7.2.8"])
def test_every_parse_vector_agrees(kernel):
    mismatches = []
    for r in VECTORS:
        if r["kernel"] != kernel:
            continue
        diff = _check(r)
        if diff:
            mismatches.append((r["id"], r["cmdline"], r["system_ram"], diff))
    assert mismatches[:5] == []


def test_real_arch_sequences_match_the_recorded_arch_variants():
    """The arch names a user passes select the same code path the vectors recorded."""
    for r in VECTORS:
        if r["variant"] == "seq:x86_64":
            arch = "amd64"
        elif r["variant"] == "seq:arm64":
            arch = "aarch64"
        elif r["kernel"] == "7.2.8" and r["variant"] == "cma":
            arch = "ppc64el"
        elif r["kernel"] == "6.12" and r["variant"] == "high,low" and r["arch"] == "x86_64":
            arch = "x86_64"
        else:
            continue
        kernel = {"6.1": "6.1.176", "6.12": "6.12.107", "7.2.8": "7.2.8"}[r["kernel"]]
        o = evaluate(r["cmdline"], system_ram=r["system_ram"], kernel=kernel, arch=arch)
        assert (o.ret, o.accepted, [tuple(m) for m in o.messages]) == (
            r["ret"], r["accepted"], [(m["level"], m["text"]) for m in r["messages"]]), r["id"]
        if r["accepted"]:
            assert (o.crash_size, o.crash_base, o.low_size, o.cma_size, o.high) == (
                r["crash_size"], r["crash_base"], r["low_size"], r["cma_size"], r["high"]), r["id"]
