"""JSON, SARIF 2.1.0 and GitHub workflow-command output: standard library only, deterministic."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from crashplan import __version__
from crashplan.lint.engine import Finding, Report
from crashplan.severity import Severity

if TYPE_CHECKING:
    from crashplan.lint.rules import Rule

__all__ = ["JSON_SCHEMA_ID", "render_github", "render_json", "render_sarif", "rules_json"]

JSON_SCHEMA_ID = "crashplan/lint@1"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_GITHUB_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _dump(doc: object) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _finding(f: Finding) -> dict[str, Any]:
    loc = f.location
    return {
        "code": f.code,
        "name": f.name,
        "severity": f.severity,
        "message": f.message,
        "path": loc.path,
        "line": loc.line,
        "column": loc.column,
        "end_line": loc.end_line,
        "end_column": loc.end_column,
        "context": f.context,
        "targets": list(f.targets),
        "fix": f.fix,
    }


def render_json(report: Report, *, fixed: int = 0, **_: Any) -> str:
    """``crashplan/lint@1``: keys are stable; a breaking change bumps the version."""
    doc = {
        "schema": JSON_SCHEMA_ID,
        "tool": {"name": "crashplan", "version": __version__},
        "targets": list(report.targets),
        "files": [{"path": s.path, "kind": s.kind, "cmdlines": s.cmdlines} for s in report.files],
        "summary": {
            "files": sum(1 for s in report.files if s.kind is not None),
            "error": report.count(Severity.ERROR),
            "warning": report.count(Severity.WARNING),
            "info": report.count(Severity.INFO),
            "fixed": fixed,
        },
        "findings": [_finding(f) for f in report.findings],
    }
    return _dump(doc)


def _uri(path: str) -> str:
    from urllib.parse import quote  # SARIF only

    return quote(path.replace("\\", "/"), safe="/:@")


def _rule_sarif(r: Rule) -> dict[str, Any]:
    return {
        "id": r.code,
        "name": r.name,
        "shortDescription": {"text": r.summary},
        "fullDescription": {"text": r.description},
        "help": {"text": r.description, "markdown": f"**{r.code} {r.name}**: {r.description}"},
        "defaultConfiguration": {"level": _SARIF_LEVEL[r.severity]},
        "properties": {"tags": [r.origin]},
    }


def render_sarif(report: Report, **_: Any) -> str:
    """SARIF 2.1.0 (OASIS); columns are 1-based, ``endColumn`` exclusive; no timestamps (stable output)."""
    from crashplan.lint.rules import all_rules  # SARIF only: json and github output never need the registry

    rules = all_rules()
    used = sorted({f.code for f in report.findings} | set())
    index = {c: i for i, c in enumerate(used)}
    results = []
    for f in report.findings:
        loc = f.location
        result: dict[str, Any] = {
            "ruleId": f.code,
            "ruleIndex": index[f.code],
            "level": _SARIF_LEVEL[f.severity],
            "message": {"text": f.message + (f" ({f.context})" if f.context else "")},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": {"uri": _uri(loc.path)},
                    "region": {"startLine": loc.line, "startColumn": loc.column,
                               "endLine": loc.end_line, "endColumn": max(loc.end_column, loc.column)},
                },
            }],
        }
        if f.targets:
            result["properties"] = {"targets": list(f.targets)}
        results.append(result)
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "crashplan",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_rule_sarif(rules[c]) for c in used if c in rules],
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
    return _dump(doc)


def _gh_escape(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def render_github(report: Report, **_: Any) -> str:
    """GitHub Actions workflow commands: ``::error file=…,line=…,col=…,title=…::message``."""
    lines = []
    for f in report.findings:
        loc = f.location
        props = (f"file={_gh_escape(loc.path, prop=True)},line={loc.line},col={loc.column},"
                 f"endLine={loc.end_line},endColumn={loc.end_column},"
                 f"title={_gh_escape(f'{f.code} {f.name}', prop=True)}")
        msg = f.message + (f" ({f.context})" if f.context else "")
        lines.append(f"::{_GITHUB_LEVEL[f.severity]} {props}::{_gh_escape(msg)}")
    return "".join(line + "\n" for line in lines)


def rules_json(rules: list[Rule]) -> str:
    return _dump({
        "schema": "crashplan/rules@1",
        "rules": [{
            "code": r.code, "name": r.name, "severity": r.severity, "summary": r.summary,
            "description": r.description, "origin": r.origin,
            "examples": [{"files": [{"path": p, "text": t} for p, t in e.files], "expect": list(e.expect),
                          "target": dict(e.target), "note": e.note} for e in r.examples],
        } for r in rules],
    })
