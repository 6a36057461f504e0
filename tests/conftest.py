from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# The one definition of where things are: test modules live in subdirectories of tests/ (see
# docs/testing.md), so they import these instead of counting parents of their own __file__.
ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
EXAMPLES = ROOT / "examples"


def load_jsonl_gz(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def vector_diff(r: dict, o, fields: tuple[str, ...] = ("crash_size", "crash_base", "low_size", "high")) -> dict:
    """Where an ``evaluate`` outcome differs from a recorded parse vector: ``{field: (expected, got)}``.

    ``ret``, ``accepted`` and the messages always count; ``fields`` only when the kernel accepted."""
    exp = {"ret": r["ret"], "accepted": r["accepted"], "messages": [(m["level"], m["text"]) for m in r["messages"]]}
    got = {"ret": o.ret, "accepted": o.accepted, "messages": [tuple(m) for m in o.messages]}
    if r["accepted"]:
        for k in fields:
            exp[k] = r[k]
            got[k] = getattr(o, k)
    return {k: (exp[k], got[k]) for k in exp if exp[k] != got[k]}


# what cold start must not pay for on the JSON paths: rich, yaml and what rich pulls in
HEAVY = ("rich", "yaml", "pygments", "markdown_it")

_IMPORT_PROBE = textwrap.dedent("""
    import io, sys, contextlib
    from crashplan.cli import main
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        rc = main(sys.argv[1:])
    heavy = sorted({m.split(".")[0] for m in sys.modules} & set(%r))
    print(rc, ",".join(heavy))
""" % (HEAVY,))


def heavy_imports(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> tuple[int, list[str]]:
    """Run ``crashplan ARGS`` in a fresh interpreter: (exit status, the ``HEAVY`` packages it imported)."""
    r = subprocess.run([sys.executable, "-c", _IMPORT_PROBE, *args], capture_output=True, text=True, check=True,
                       cwd=cwd, env=env)
    rc, _, heavy = r.stdout.strip().partition(" ")
    return int(rc), [m for m in heavy.split(",") if m]


def drain_pty(master: int) -> bytes:
    """Everything a pseudo-terminal's child wrote, until it closes its side (EIO or EOF)."""
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    return seen


@pytest.fixture
def run_cli(capsys):
    """Run ``crashplan ARGS`` in-process; returns (exit status, stdout, stderr)."""
    from crashplan.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        rc = main(list(args))
        out, err = capsys.readouterr()
        return rc, out, err

    return run
