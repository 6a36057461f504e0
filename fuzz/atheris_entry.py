"""Coverage-guided fuzzing of one surface with atheris (optional; fuzz/run.py is the documented driver).

    pip install atheris
    python3 fuzz/atheris_entry.py iomem [libFuzzer options, e.g. -max_total_time=600 -jobs=2 corpus/]

The bytes libFuzzer produces become the surface's input: the text of a file (decoded with
surrogateescape, as crashplan reads files) for iomem, bootlog, machine and lint, the command line for
kernel and diagnose.  The same checks as fuzz/run.py apply (fuzz/surfaces.py): InputError is fine,
anything else propagates and libFuzzer saves the input.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def case_from_bytes(surface: str, data: bytes) -> dict[str, Any]:
    """The fuzz/surfaces.py case for ``data`` (the first byte picks the release/arch/path variants)."""
    from fuzz import generators as G

    pick = data[0] if data else 0
    text = data[1:].decode("utf-8", "surrogateescape")
    if surface == "kernel":
        return {"cmdline": text, "ram": (pick + 1) << 28, "kernel": G.RELEASES[pick % len(G.RELEASES)],
                "arch": G.ARCH_NAMES[pick % len(G.ARCH_NAMES)]}
    if surface == "diagnose":
        return {"cmdline": text, "ram": (pick + 1) << 28, "kernel": "7.2", "arch": "x86_64",
                "targets": [[G.RELEASES[pick % len(G.RELEASES)], "arm64", 4 << 30]]}
    if surface == "iomem":
        return {"text": text, "arch": (None, "x86_64", "arm64", "s390x")[pick % 4]}
    if surface in ("bootlog", "machine"):
        return {"text": text}
    if surface == "lint":
        paths = [p for group in G.LINT_PATHS.values() for p in group]
        return {"files": [[paths[pick % len(paths)], text]], "targets": [["7.2", "x86_64", 16 << 30]]}
    raise SystemExit(f"unknown surface {surface!r} (kernel, diagnose, iomem, bootlog, machine, lint)")


def main() -> None:
    import atheris  # type: ignore[import-not-found]

    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        raise SystemExit(__doc__)
    name = sys.argv.pop(1)
    with atheris.instrument_imports():
        import crashplan.check  # noqa: F401
        import crashplan.diagnose  # noqa: F401
        import crashplan.lint.engine  # noqa: F401
        import crashplan.memmap.bootlog  # noqa: F401
        import crashplan.memmap.iomem  # noqa: F401
        import crashplan.memmap.machine  # noqa: F401
        import crashplan.simulate  # noqa: F401
    from crashplan.errors import InputError
    from fuzz.surfaces import SURFACES, LinelessInputError

    surface = SURFACES[name]
    case_from_bytes(name, b"")  # fail early on an unknown name

    def test_one_input(data: bytes) -> None:
        try:
            surface.run(case_from_bytes(name, data))
        except (InputError, LinelessInputError):  # lineless ones are tallied by fuzz/run.py
            pass

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
