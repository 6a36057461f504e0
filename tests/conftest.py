from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


def load_jsonl_gz(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@pytest.fixture
def run_cli(capsys):
    """Run ``crashplan ARGS`` in-process; returns (exit status, stdout, stderr)."""
    from crashplan.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        rc = main(list(args))
        out, err = capsys.readouterr()
        return rc, out, err

    return run
