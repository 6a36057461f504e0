"""`crashplan lint` end to end: exit statuses, formats, selection, configuration, suppression comments."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from conftest import DATA as TEST_DATA
from conftest import ROOT, drain_pty

from crashplan.cli import main

DATA = TEST_DATA / "lint"
SCHEMA = json.loads((DATA / "schema" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))

PROFILE = ["--kernel", "7.2", "--ram", "16G"]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = main(["lint", "--isolated", *args])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "etc" / "default").mkdir(parents=True)
    (tmp_path / "etc" / "default" / "grub").write_text(
        "# managed\n"
        'GRUB_CMDLINE_LINUX_DEFAULT="quiet"\n'
        'GRUB_CMDLINE_LINUX="crashkernel=128M rhgb crashkernel=0256M"\n'
        "GRUB_DISABLE_RECOVERY=true\n", encoding="utf-8")
    return tmp_path


# ------------------------------------------------------------------------------------------------
# exit statuses


def test_clean_is_0_and_warnings_pass_below_fail_level(capsys: pytest.CaptureFixture[str], tree: Path) -> None:
    clean = tree / "clean"
    clean.write_text("root=/dev/sda1 crashkernel=256M\n", encoding="utf-8")
    assert run(capsys, *PROFILE, str(clean))[0] == 0
    assert run(capsys, *PROFILE, "--format", "json", str(tree / "etc"))[0] == 0  # CK201, CK202: warnings
    assert run(capsys, *PROFILE, "--format", "json", "--fail-level", "warning", str(tree / "etc"))[0] == 1


def test_usage_errors_are_2(capsys: pytest.CaptureFixture[str], tree: Path) -> None:
    rc, out, err = run(capsys, "--select", "XY1", str(tree))
    assert (rc, out) == (2, "")
    assert "'XY1' is not a rule code prefix" in err
    rc, _, err = run(capsys, "--kernel", "banana", str(tree))
    assert rc == 2 and "kernel \"banana\"" in err
    rc, _, err = run(capsys, "--format", "xml", str(tree))
    assert rc == 2


def test_json_report(capsys: pytest.CaptureFixture[str], tree: Path) -> None:
    rc, out, err = run(capsys, *PROFILE, "--format", "json", str(tree / "etc" / "default" / "grub"))
    doc = json.loads(out)
    path = str(tree / "etc" / "default" / "grub")
    assert (rc, err) == (0, "")
    assert doc["schema"] == "crashplan/lint@1"
    assert doc["targets"] == ["7.2/x86_64/16G"]
    assert doc["files"] == [{"cmdlines": 1, "kind": "grub-default", "path": path}]
    assert doc["summary"] == {"error": 0, "files": 1, "fixed": 0, "info": 0, "warning": 2}
    got = [(f["code"], f["name"], f["severity"], f["line"], f["column"], f["end_line"], f["end_column"], f["context"])
           for f in doc["findings"]]
    ctx = "GRUB_CMDLINE_LINUX + GRUB_CMDLINE_LINUX_DEFAULT (normal entries)"
    assert got == [
        ("CK201", "duplicate-crashkernel", "warning", 3, 21, 3, 37, ctx),
        ("CK202", "octal-number", "warning", 3, 55, 3, 59, ctx),
    ]
    assert doc["findings"][0]["fix"] == "rhgb crashkernel=0256M quiet"
    assert out.endswith("}\n") and out == json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_sarif_validates_against_the_official_schema(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "--format", "sarif", str(DATA))
    assert rc == 1
    doc = json.loads(out)
    jsonschema.Draft7Validator(SCHEMA).validate(doc)
    (the_run,) = doc["runs"]
    levels = {r["level"] for r in the_run["results"]}
    assert levels == {"error", "warning", "note"}
    rules = [r["id"] for r in the_run["tool"]["driver"]["rules"]]
    assert rules == sorted(rules)
    for r in the_run["results"]:
        assert rules[r["ruleIndex"]] == r["ruleId"]
        region = r["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1


def test_sarif_of_a_clean_run_validates(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    f = tmp_path / "cmdline"
    f.write_text("crashkernel=256M\n", encoding="utf-8")
    rc, out, _ = run(capsys, *PROFILE, "--format", "sarif", str(f))
    doc = json.loads(out)
    jsonschema.Draft7Validator(SCHEMA).validate(doc)
    assert (rc, doc["runs"][0]["results"], doc["runs"][0]["tool"]["driver"]["rules"]) == (0, [], [])


def test_github_annotations(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "--format", "github", str(DATA / "debian-kdump"))
    base = str(DATA / "debian-kdump")
    assert rc == 0
    assert out.splitlines() == [
        f"::notice file={base}/etc/default/grub,line=10,col=1,endLine=10,endColumn=2,title=CK116 no-crashkernel::"
        "no crashkernel= parameter: nothing is reserved for kdump (GRUB_CMDLINE_LINUX (recovery entries))",
        f"::notice file={base}/etc/default/grub.d/kdump-tools.cfg,line=1,col=57,endLine=1,endColumn=69,"
        "title=CK406 default-only-crashkernel::crashkernel= is only in GRUB_CMDLINE_LINUX_DEFAULT: recovery entries "
        "boot without a crash kernel reservation (move it to GRUB_CMDLINE_LINUX) (GRUB_CMDLINE_LINUX_DEFAULT)",
    ]


def test_format_auto_picks_github_under_actions(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    _, out, _ = run(capsys, str(DATA / "rhel7-proc"))
    assert out.startswith("::error file=")


def test_text_report(capsys: pytest.CaptureFixture[str], tree: Path) -> None:
    rc, out, _ = run(capsys, *PROFILE, "--color", "never", str(tree / "etc"))
    p = tree / "etc" / "default" / "grub"
    lines = out.splitlines()
    assert rc == 0
    assert lines[0].startswith(f"{p}:3:21: CK201 [warning] `crashkernel=128M` is ignored")
    assert lines[0].endswith("[*]  (GRUB_CMDLINE_LINUX + GRUB_CMDLINE_LINUX_DEFAULT (normal entries))")
    assert lines[1].startswith(f"{p}:3:55: CK202 [warning] `0256M` is octal")
    assert lines[-1] == ("2 warnings in 1 file checked; 1 marked [*] can be fixed with --fix "
                         "(targets: 1 kernel/arch/RAM combinations)")


def test_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("quiet crashkernel=256M,cma=1G\n"))
    rc, out, _ = run(capsys, *PROFILE, "--format", "json", "-")
    doc = json.loads(out)
    assert rc == 1
    assert [(f["code"], f["path"], f["column"], f["fix"]) for f in doc["findings"]] == [
        ("CK102", "-", 7, "quiet crashkernel=256M crashkernel=1G,cma")]


# ------------------------------------------------------------------------------------------------
# unreadable and unknown files


def test_bad_files_are_findings_not_crashes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello\n", encoding="utf-8")
    (tmp_path / "grub.cfg").write_bytes(b"menuentry 'x' {\n\tlinux /v\x00\n}\n")
    (tmp_path / "walked").mkdir()
    (tmp_path / "walked" / "README").write_text("not a boot file\n", encoding="utf-8")
    (tmp_path / "cmdline").write_text("crashkernel=auto\n", encoding="utf-8")
    rc, out, err = run(capsys, *PROFILE, "--format", "json", str(tmp_path / "missing"), str(tmp_path / "notes.txt"),
                       str(tmp_path / "grub.cfg"), str(tmp_path / "walked"), str(tmp_path / "cmdline"))
    doc = json.loads(out)
    got = [(f["code"], os.path.basename(f["path"]), f["line"]) for f in doc["findings"]]
    assert rc == 2  # an unreadable or missing file is an input error, as in every command
    assert f"{tmp_path / 'missing'}: cannot read the file: No such file or directory" in err
    assert f"{tmp_path / 'grub.cfg'}: cannot read the file: binary content" in err
    assert got == [("CK106", "cmdline", 1), ("CK001", "grub.cfg", 1), ("CK001", "missing", 1), ("CK003", "notes.txt", 1)]
    assert doc["findings"][2]["message"] == "cannot read the file: No such file or directory"


# ------------------------------------------------------------------------------------------------
# selection and configuration


@pytest.mark.parametrize(("args", "codes"), [
    ([], ["CK201", "CK202"]),
    (["--select", "CK202"], ["CK202"]),
    (["--ignore", "CK2"], []),
    (["--ignore", "CK2", "--select", "CK201"], ["CK201"]),  # the longer prefix wins
    (["--select", "CK2", "--ignore", "CK2"], []),  # a tie ignores
    (["--ignore", "octal-number"], ["CK201"]),
    (["--select", "CK1,duplicate-crashkernel"], ["CK201"]),
])
def test_select_ignore(capsys: pytest.CaptureFixture[str], tree: Path, args: list[str], codes: list[str]) -> None:
    _, out, _ = run(capsys, *PROFILE, "--format", "json", *args, str(tree / "etc"))
    assert [f["code"] for f in json.loads(out)["findings"]] == codes


def test_yaml_config_found_upward(capsys: pytest.CaptureFixture[str], tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tree / ".crashplan.yaml").write_text(
        "ignore: [CK201]\nfail-level: warning\nkernel: ['7.2']\nram: [16G]\n"
        "per-file-ignores:\n  'boot/*': [CK116]\n", encoding="utf-8")
    (tree / "boot").mkdir()
    (tree / "boot" / "cmdline").write_text("quiet\n", encoding="utf-8")
    sub = tree / "etc" / "default"
    monkeypatch.chdir(sub)
    rc = main(["lint", "--format", "json", str(tree)])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 1  # CK202 is a warning, and fail-level is warning
    assert [f["code"] for f in doc["findings"]] == ["CK202"]
    assert doc["targets"] == ["7.2/x86_64/16G"]
    rc = main(["lint", "--format", "json", "--fail-level", "error", str(tree)])  # the command line wins
    assert rc == 0
    capsys.readouterr()


def test_pyproject_config(capsys: pytest.CaptureFixture[str], tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tree / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.crashplan]\nselect = ["CK202"]\nkernel = ["7.2"]\nram = ["16G"]\n',
        encoding="utf-8")
    monkeypatch.chdir(tree)
    main(["lint", "--format", "json", "etc"])
    doc = json.loads(capsys.readouterr().out)
    assert [(f["code"], f["path"]) for f in doc["findings"]] == [("CK202", "etc/default/grub")]


def test_invalid_config_lists_every_problem(capsys: pytest.CaptureFixture[str], tree: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    (tree / ".crashplan.yaml").write_text("selekt: [CK1]\nignore: [CK999x]\nfail-level: fatal\nram: [lots]\n",
                                          encoding="utf-8")
    monkeypatch.chdir(tree)
    rc = main(["lint", "etc"])
    out, err = capsys.readouterr()
    assert (rc, out) == (2, "")
    lines = err.splitlines()
    assert lines[0].startswith('crashplan: error: .crashplan.yaml: CK005 invalid config: unknown option "selekt"')
    assert '.crashplan.yaml: CK005 invalid config: unknown rule "CK999x" in "ignore"' in lines[1]
    assert 'CK005 invalid config: "fail-level" must be one of error, warning, info, not "fatal"' in lines[2]
    assert 'CK005 invalid config: ram "lots"' in lines[3]
    (tree / ".crashplan.yaml").write_text("select: [CK1\n", encoding="utf-8")
    assert main(["lint", "etc"]) == 2
    assert "CK005 invalid config: not valid YAML" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------
# suppression comments


def test_suppression_comments(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    f = tmp_path / "etc" / "default" / "grub"
    f.parent.mkdir(parents=True)
    f.write_text(
        "# crashplan: disable=CK202\n"
        'GRUB_CMDLINE_LINUX="crashkernel=0128M"\n'
        'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX crashkernel=0256M"  # crashplan: disable=duplicate-crashkernel\n'
        "# crashplan: disable=CK9999,octal-numbr\n"
        'GRUB_CMDLINE_LINUX_DEFAULT="crashkernel=010M"\n'
        "GRUB_DISABLE_RECOVERY=true\n", encoding="utf-8")
    _, out, _ = run(capsys, *PROFILE, "--format", "json", str(tmp_path))
    got = [(f["code"], f["line"], f["column"]) for f in json.loads(out)["findings"]]
    assert got == [
        ("CK201", 2, 21),  # line 1 disables CK202 only
        # line 3: CK201 disabled by name on the line itself
        ("CK006", 4, 1),
        ("CK202", 5, 41),  # the comment before names no valid rule
    ]
    (ck006,) = [f for f in json.loads(out)["findings"] if f["code"] == "CK006"]
    assert ck006["message"] == "`CK9999`, `octal-numbr` are not a rule code or name: this comment does not suppress it"


def test_suppress_everything_on_a_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    f = tmp_path / "grub.cfg"
    f.write_text("menuentry 'x' {\n\t# crashplan: disable\n\tlinux /v crashkernel=auto\n}\n", encoding="utf-8")
    assert run(capsys, *PROFILE, "--format", "json", str(f))[1].count('"code"') == 0


# ------------------------------------------------------------------------------------------------
# light imports


def test_json_and_sarif_runs_import_neither_rich_nor_yaml() -> None:
    code = (
        "import sys\nfrom crashplan.cli import main\n"
        "for fmt in ('json', 'sarif', 'github'):\n"
        "    main(['lint', '--isolated', '--format', fmt, sys.argv[1]])\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'rich', 'yaml'}), file=sys.stderr)\n"
    )
    r = subprocess.run([sys.executable, "-c", code, str(DATA)], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)), cwd=ROOT)
    assert r.stderr.strip().splitlines()[-1] == "[]"


def test_yaml_is_imported_only_when_a_yaml_config_exists(tmp_path: Path) -> None:
    (tmp_path / "cmdline").write_text("crashkernel=256M\n", encoding="utf-8")
    code = ("import sys\nfrom crashplan.cli import main\nmain(['lint', '--format', 'json', 'cmdline'])\n"
            "print('yaml' in sys.modules, file=sys.stderr)\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.stderr.strip().splitlines()[-1] == "False"
    (tmp_path / ".crashplan.yaml").write_text("fail-level: warning\n", encoding="utf-8")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.stderr.strip().splitlines()[-1] == "True"


def test_no_path_reads_the_system_locations(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    proc = tmp_path / "proc" / "cmdline"
    proc.parent.mkdir()
    proc.write_text("BOOT_IMAGE=/vmlinuz crashkernel=auto\n", encoding="utf-8")
    monkeypatch.setattr("crashplan.cli.lint_cmd.SYSTEM_PATHS", (str(tmp_path / "nothing"), str(proc)))
    rc, out, _ = run(capsys, *PROFILE, "--format", "json")
    assert rc == 1
    assert [f["code"] for f in json.loads(out)["findings"]] == ["CK106"]
    monkeypatch.setattr("crashplan.cli.lint_cmd.SYSTEM_PATHS", (str(tmp_path / "nothing"),))
    rc, out, err = run(capsys)
    assert rc == 2 and "no boot-loader configuration found" in err


def test_help_works(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "--help"]) == 0
    assert "--fail-level" in capsys.readouterr().out
    assert main(["rules", "--help"]) == 0


# ------------------------------------------------------------------------------------------------
# walking directories: boot-loader files only, progress on a terminal


def test_walking_reads_boot_loader_files_only(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "etc" / "default").mkdir(parents=True)
    (tmp_path / "etc" / "default" / "grub").write_text('GRUB_CMDLINE_LINUX="crashkernel=auto"\n', encoding="utf-8")
    (tmp_path / "etc" / "ld.so.cache").write_bytes(b"\x00\x01binary\x00" * 100)
    (tmp_path / "etc" / "motd").write_text("GRUB_CMDLINE_LINUX=\"crashkernel=auto\"\n", encoding="utf-8")
    (tmp_path / "boot" / "loader" / "entries").mkdir(parents=True)
    (tmp_path / "boot" / "loader" / "entries" / "a.conf").write_text(
        "title A\nlinux /vmlinuz\noptions crashkernel=auto\n", encoding="utf-8")
    (tmp_path / "boot" / "grub2").mkdir()
    (tmp_path / "boot" / "grub2" / "grub.cfg").write_bytes(b"\x7fELF\x00\x00 not text")  # a binary with our name
    (tmp_path / "ks").mkdir()
    (tmp_path / "ks" / "server.ks").write_text('bootloader --append="crashkernel=auto"\n', encoding="utf-8")
    rc, out, err = run(capsys, *PROFILE, "--format", "json", str(tmp_path))
    doc = json.loads(out)
    assert sorted(os.path.relpath(f["path"], tmp_path) for f in doc["files"]) == [
        "boot/loader/entries/a.conf", "etc/default/grub", "ks/server.ks"]
    assert {f["code"] for f in doc["findings"]} == {"CK106"}  # the same value everywhere: no CK402
    assert rc == 1 and err == ""


def test_walking_shows_progress_on_a_terminal_only(tmp_path: Path) -> None:
    import pty

    for i in range(30):
        (tmp_path / f"d{i}").mkdir()
        (tmp_path / f"d{i}" / "cmdline").write_text("quiet crashkernel=256M\n", encoding="utf-8")
    env = dict(os.environ, CRASHPLAN_PROGRESS_INTERVAL="0")
    cmd = [sys.executable, "-m", "crashplan", "lint", "--isolated", "--format", "json", str(tmp_path)]
    # stderr a terminal: the progress line is written there, and cleared at the end
    master, slave = pty.openpty()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=slave, env=env, timeout=60)
    os.close(slave)
    seen = drain_pty(master)
    os.close(master)
    assert p.returncode == 0 and json.loads(p.stdout)["summary"]
    assert b"files scanned" in seen and b"boot-loader files" in seen
    # stderr not a terminal: nothing at all
    p = subprocess.run(cmd, capture_output=True, env=env, timeout=60)
    assert p.returncode == 0 and p.stderr == b""


def test_fix_writes_nothing_when_a_file_cannot_be_read(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    good = tmp_path / "cmdline"
    good.write_text("crashkernel=128M crashkernel=256M\n", encoding="utf-8")
    rc, _, err = run(capsys, "--fix", str(good), str(tmp_path / "missing"))
    assert rc == 2 and "missing: cannot read the file" in err
    assert good.read_text(encoding="utf-8") == "crashkernel=128M crashkernel=256M\n"


def test_reserving_nothing_is_an_error_only_on_declared_ram_sizes(capsys: pytest.CaptureFixture[str],
                                                                   tmp_path: Path) -> None:
    p = tmp_path / "cmdline"
    p.write_text("crashkernel=2G-16G:256M\n", encoding="utf-8")
    # the built-in profile's 64G only probes the range: a warning, exit 0 at the default fail level
    rc, out, _ = run(capsys, "--format", "json", str(p))
    (f,) = [f for f in json.loads(out)["findings"] if f["code"] == "CK109"]
    assert f["severity"] == "warning" and rc == 0
    # a RAM size the user declares: an error
    rc, out, _ = run(capsys, "--format", "json", "--ram", "64G", str(p))
    (f,) = [f for f in json.loads(out)["findings"] if f["code"] == "CK109"]
    assert f["severity"] == "error" and rc == 1
    (tmp_path / ".crashplan.yaml").write_text("ram: [1G]\n", encoding="utf-8")
    rc = main(["lint", "--config", str(tmp_path / ".crashplan.yaml"), "--format", "json", str(p)])
    out, _ = capsys.readouterr()
    assert rc == 1 and [f["severity"] for f in json.loads(out)["findings"] if f["code"] == "CK109"] == ["error"]
