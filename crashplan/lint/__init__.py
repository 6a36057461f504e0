"""``crashplan lint``: boot-loader configurations checked for ``crashkernel=`` problems (pure core).

>>> from crashplan.lint import lint, SourceFile
>>> report = lint([SourceFile("proc/cmdline", "quiet crashkernel=auto\\n")])
>>> [(f.code, f.location.line, f.location.column) for f in report.findings]
[('CK106', 1, 7)]

``lint`` takes ``SourceFile`` objects (path and text; the caller reads the files) and returns a ``Report``;
``fix_files`` returns the fixed texts; ``all_rules`` is the rule registry.  See docs/lint.md.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Finding", "LintConfig", "Report", "SourceFile", "all_rules", "fix_files", "lint"]

_EXPORTS = {
    "lint": "crashplan.lint.engine",
    "Report": "crashplan.lint.engine",
    "Finding": "crashplan.lint.engine",
    "fix_files": "crashplan.lint.fix",
    "SourceFile": "crashplan.lint.sources",
    "LintConfig": "crashplan.lint.config",
    "all_rules": "crashplan.lint.rules",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'crashplan.lint' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)
