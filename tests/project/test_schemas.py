"""The JSON schemas shipped in the package (crashplan/data/schemas) validate what the commands print.

One schema per document, in the package only: every example machine file (examples/*.yaml) and a few
parse-only cases go through check, suggest, status and fleet; lint and rules through their fixtures."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest

from conftest import DATA, ROOT

EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
LINT = DATA / "lint"


def schema(name: str) -> dict:
    return json.loads((files("crashplan") / "data" / "schemas" / f"{name}.json").read_text(encoding="utf-8"))


def validate(doc: dict, name: str) -> None:
    s = schema(name)
    jsonschema.Draft202012Validator(s, format_checker=jsonschema.FormatChecker()).validate(doc)
    assert doc["schema"] == s["$id"] == s["properties"]["schema"]["const"]


NAMES = ["check", "suggest", "status", "fleet", "lint", "rules"]


@pytest.mark.parametrize("name", NAMES)
def test_each_shipped_schema_is_a_valid_schema(name: str) -> None:
    jsonschema.Draft202012Validator.check_schema(schema(name))


def test_one_schema_per_document_and_only_in_the_package() -> None:
    shipped = sorted(p.stem for p in Path(str(files("crashplan") / "data" / "schemas")).glob("*.json"))
    assert shipped == sorted(NAMES)
    assert not sorted(ROOT.glob("tests/**/*.schema.json"))  # no second copy for the tests to drift from


def _objects(node: object, path: str = "$"):
    if isinstance(node, dict):
        if "properties" in node:
            yield path, node
        for k, v in node.items():
            yield from _objects(v, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _objects(v, f"{path}/{i}")


@pytest.mark.parametrize("name", NAMES)
def test_strict_schemas_close_every_fixed_object_and_describe_every_key(name: str) -> None:
    s = schema(name)
    assert s["additionalProperties"] is False
    for path, node in _objects(s):
        assert node.get("additionalProperties") is False, path
        assert set(node.get("required", [])) <= set(node["properties"]), path
        undescribed = [k for k, v in node["properties"].items() if not v.get("description")]
        assert not undescribed, f"{path}: {undescribed}"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_check_json_of_every_example_validates(run_cli, path: Path) -> None:
    for args in (("crashkernel=256M crashkernel=1G,cma",), ("crashkernel=512M,high", "--kernel", "6.1"), ()):
        rc, out, err = run_cli("check", *args, "--machine", str(path), "--format", "json")
        if not args and rc == 2:  # a machine file without a command line: nothing to check
            assert "no PARAMS" in err
            continue
        assert rc in (0, 1), err
        validate(json.loads(out), "check")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_status_json_of_every_example_validates(run_cli, path: Path) -> None:
    rc, out, err = run_cli("status", "--machine", str(path), "--format", "json")
    assert rc in (0, 1, 4), err
    validate(json.loads(out), "status")


def test_fleet_json_of_every_example_validates(run_cli) -> None:
    rc, out, err = run_cli("fleet", "check", "crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M",
                           *map(str, EXAMPLES), "--format", "json")
    assert rc in (0, 1), err
    doc = json.loads(out)
    validate(doc, "fleet")
    rc, out, err = run_cli("fleet", "plan", *map(str, EXAMPLES), "--format", "json")
    assert rc in (0, 1), err
    validate(json.loads(out), "fleet")


CHECKS = [
    ("crashkernel=256M,cma=1G", "--no-map", "--arch", "x86_64", "--ram", "16G"),
    ("crashkernel=256M crashkernel=1G,cma", "--machine", str(ROOT / "examples" / "x86_64-server-16g.yaml")),
    ("crashkernel=512M,high crashkernel=128M,low", "--machine", str(ROOT / "examples" / "arm64-rpi4-4g.yaml")),
    ("fadump=on crashkernel=4G", "--machine", str(ROOT / "examples" / "ppc64le-lpar-50g.yaml")),
    ("crashkenel=256M", "--no-map", "--arch", "s390x", "--ram", "2G"),
    ("crashkernel=384M-2G:64M@16M,2G-:128M@16M", "--no-map", "--arch", "x86_64", "--ram", "16G"),
    ("crashkernel=auto", "--no-map", "--arch", "x86_64", "--ram", "8G"),
    ("crashkernel=1G crashkernel=512M,cma crashkernel=128M,low", "--no-map", "--arch", "arm64", "--ram", "64G"),
    ("crashkernel=0M-2G:128M,2G-:256M crashkernel=4G,high", "--no-map", "--arch", "riscv64", "--ram", "8G"),
]


@pytest.mark.parametrize("args", CHECKS, ids=[a[0] for a in CHECKS])
def test_check_json_validates(run_cli, args) -> None:
    rc, out, err = run_cli("check", args[0], "--kernel", "7.2", *args[1:], "--format", "json")
    assert rc in (0, 1), err
    validate(json.loads(out), "check")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_suggest_json_validates(run_cli, path: Path) -> None:
    rc, out, err = run_cli("suggest", "--machine", str(path), "--format", "json")
    assert rc in (0, 1), err
    validate(json.loads(out), "suggest")


def test_lint_json_validates_for_every_fixture(run_cli) -> None:
    for case in sorted(p for p in LINT.iterdir() if p.is_dir() and p.name != "schema"):
        rc, out, err = run_cli("lint", "--isolated", "--format", "json", "--ram", "1G", "--ram", "64G", str(case))
        assert rc in (0, 1), err
        validate(json.loads(out), "lint")


def test_lint_json_after_fix_validates(run_cli, tmp_path: Path) -> None:
    p = tmp_path / "cmdline"
    p.write_text("crashkernel=128M crashkernel=256MB\n", encoding="utf-8")
    rc, out, _ = run_cli("lint", "--isolated", "--fix", "--format", "json", str(p))
    doc = json.loads(out)
    validate(doc, "lint")
    assert doc["summary"]["fixed"] >= 1


def test_rules_json_validates(run_cli) -> None:
    rc, out, _ = run_cli("rules", "--format", "json")
    assert rc == 0
    doc = json.loads(out)
    validate(doc, "rules")
    assert {"CK121", "CK122", "CK220"} <= {r["code"] for r in doc["rules"]}


def test_a_document_that_breaks_the_schema_is_caught(run_cli) -> None:
    rc, out, _ = run_cli("check", "crashkernel=256M", "--kernel", "7.2", "--arch", "x86_64", "--ram", "16G",
                         "--no-map", "--format", "json")
    doc = json.loads(out)
    del doc["reserves"]
    with pytest.raises(jsonschema.ValidationError):
        validate(doc, "check")
    doc = json.loads(out)
    doc["unexpected"] = 1  # strict: a key the schema does not list is caught too
    with pytest.raises(jsonschema.ValidationError):
        validate(doc, "check")
