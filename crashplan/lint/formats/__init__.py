"""Report formats: ``text`` (rich, for people), ``json`` (``crashplan/lint@1``), ``sarif`` (2.1.0), ``github``.

Only ``text`` imports rich; the machine formats use the standard library, so CI runs never load it.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["FORMATS", "render"]

FORMATS = {
    "text": "crashplan.lint.formats.text:render",
    "json": "crashplan.lint.formats.machine:render_json",
    "sarif": "crashplan.lint.formats.machine:render_sarif",
    "github": "crashplan.lint.formats.machine:render_github",
}


def render(name: str, report: Any, **options: Any) -> str:
    module, attr = FORMATS[name].split(":")
    fn = getattr(importlib.import_module(module), attr)
    text: str = fn(report, **options)
    return text
