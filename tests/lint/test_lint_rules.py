"""The rule registry: stable codes, documentation with PASS/FAIL examples, and every example run as a test."""

from __future__ import annotations

import re

import pytest

from conftest import ROOT
from crashplan.cli import main
from crashplan.diagnose import Target as DTarget
from crashplan.lint.config import LintConfig
from crashplan.lint.engine import Target, default_targets, lint
from crashplan.lint.formats.docs import rules_markdown
from crashplan.lint.rules import SEVERITIES, Example, Rule, all_rules, get_rule
from crashplan.lint.sources import SourceFile

RULES = list(all_rules().values())
NO_EXAMPLES = {"CK005"}  # a configuration error stops the run (exit 2): tested in test_lint_cli.py


def test_codes_and_names_are_unique_and_well_formed() -> None:
    codes = [r.code for r in RULES]
    names = [r.name for r in RULES]
    assert len(set(codes)) == len(codes)
    assert len(set(names)) == len(names)
    for r in RULES:
        assert re.fullmatch(r"CK[0-4][0-9]{2}", r.code)
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", r.name)
        assert r.severity in SEVERITIES
        assert r.summary and r.description


def test_severities_are_one_enum_in_one_order() -> None:
    import json

    from crashplan.lint.engine import SEVERITY_RANK
    from crashplan.lint.formats.machine import render_json
    from crashplan.severity import RANK, Severity

    assert SEVERITIES == (Severity.ERROR, Severity.WARNING, Severity.INFO)
    assert SEVERITY_RANK is RANK and sorted(SEVERITIES, key=RANK.__getitem__) == list(SEVERITIES)
    assert all(type(r.severity) is Severity for r in RULES)
    # findings carry the enum, from lint's own rules and from diagnose alike; documents carry its value
    report = lint([SourceFile("etc/default/grub", 'GRUB_CMDLINE_LINUX="crashkernel=256M,hihg"\n')], config=LintConfig())
    assert report.findings and all(type(f.severity) is Severity for f in report.findings)
    doc = json.loads(render_json(report))
    assert {f["severity"] for f in doc["findings"]} <= {"error", "warning", "info"}
    assert f"{report.findings[0].severity}" == report.findings[0].severity.value
    assert report.failed("error") is (report.count("error") > 0)


def test_groups_present() -> None:
    prefixes = {r.code[:3] for r in RULES}
    assert {"CK0", "CK4"} <= prefixes
    assert {"CK1", "CK2"} <= prefixes  # from crashplan.diagnose


@pytest.mark.parametrize("rule", [r for r in RULES if r.code not in NO_EXAMPLES], ids=lambda r: r.code)
def test_rule_documents_a_pass_and_a_fail_example(rule: Rule) -> None:
    assert any(e.passing or rule.code not in e.expect for e in rule.examples)
    assert any(rule.code in e.expect for e in rule.examples)


def _targets(e: Example) -> list[object] | None:
    t = dict(e.target)
    if not t:
        return None
    return [DTarget.from_example(t)]


EXAMPLES = [(r, i, e) for r in RULES for i, e in enumerate(r.examples)]


@pytest.mark.parametrize(("rule", "index", "example"), EXAMPLES,
                         ids=[f"{r.code}-{i}-{'fail' if r.code in e.expect else 'pass'}" for r, i, e in EXAMPLES])
def test_documented_example(rule: Rule, index: int, example: Example) -> None:
    files = [SourceFile(p, t, explicit=True) for p, t in example.files]
    report = lint(files, targets=_targets(example))
    codes = {f.code for f in report.findings}
    if rule.code in example.expect:
        assert set(example.expect) <= codes
    else:
        assert rule.code not in codes
        if rule.origin == "diagnose":  # diagnose's PASS examples list every code they expect
            assert set(example.expect) <= codes


def test_lookup_by_code_and_name() -> None:
    assert get_rule("ck406") is get_rule("default-only-crashkernel") is all_rules()["CK406"]
    assert get_rule("nonsense") is None


def test_docs_rules_md_is_generated_from_the_registry() -> None:
    assert (ROOT / "docs" / "rules.md").read_text(encoding="utf-8") == rules_markdown(RULES)


def test_rules_command_lists_and_explains(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "--format", "markdown"]) == 0
    assert capsys.readouterr().out == rules_markdown(RULES)
    assert main(["rules", "CK407"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("CK407 grub-value-ends-command (error)\n\n")
    assert "FAIL\n  etc/default/grub:\n    GRUB_CMDLINE_LINUX=\"quiet\n    crashkernel=256M\"\n" in out
    assert main(["rules"]) == 0
    listing = capsys.readouterr().out
    assert all(r.code in listing for r in RULES)
    assert main(["rules", "CK9"]) == 2
    assert "no rule 'CK9'" in capsys.readouterr().err


def test_default_profile_is_documented() -> None:
    labels = [t.label() for t in default_targets(LintConfig())]  # type: ignore[attr-defined]
    assert labels[:4] == ["6.1/x86_64/2G", "6.1/x86_64/4G", "6.1/x86_64/16G", "6.1/x86_64/64G"]
    assert len(labels) == 16
    doc = (ROOT / "docs" / "lint.md").read_text(encoding="utf-8")
    assert "6.1, 6.12, 6.17 and 7.2" in doc and "2G, 4G, 16G and 64G" in doc
