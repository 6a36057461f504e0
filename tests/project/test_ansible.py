"""The crashplan.kdump collection run by the real ansible-core (the ``test`` extra installs it).

Each test runs ``ansible-playbook`` from this interpreter's environment as a subprocess, exactly as
docs/ansible.md tells a user to (from the repository's top directory, the example inventory and
playbook, the collection found through ``examples/ansible/collections``), with ANSIBLE_HOME, the local
temporary directory and the configuration file isolated in ``tmp_path``.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

BIN = Path(sys.executable).parent
INVENTORY = "examples/ansible/inventory.ini"
PLAYBOOK = "examples/ansible/site.yml"
# the local hosts of the example inventory and the machine file each one stands for: those the line
# serves, and those it cannot be judged on (listed, failing nothing)
SERVED = {
    "vm-2g": "x86_64-vm-2g.yaml",
    "qemu-4g": "x86_64-qemu-4g.yaml",
    "server-16g": "x86_64-server-16g.yaml",
    "laptop-16g": "x86_64-laptop-16g.yaml",
    "host-1t": "x86_64-host-1t.yaml",
}
NOT_JUDGED = {"microvm-24g": ("x86_64-microvm-24g.yaml", "no-kdump"),
              "nonroot-snapshot": ("x86_64-nonroot-snapshot.yaml", "unplaced")}
HOSTS = {**SERVED, **{h: f for h, (f, _) in NOT_JUDGED.items()}}
MODULES = ["crashplan_snapshot", "crashplan_check", "crashplan_plan", "crashplan_apply"]


def _tool(name: str) -> str:
    path = BIN / name
    assert path.exists(), f"{path} is missing: ansible-core is part of the test extra (pip install -e '.[test]')"
    return str(path)


@pytest.fixture
def ansible_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a CI job, with nothing of the user's Ansible setup leaking in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_") and k not in ("PY_COLORS", "FORCE_COLOR")}
    (tmp_path / "ansible-home").mkdir()
    (tmp_path / "ansible-tmp").mkdir()
    (tmp_path / "ansible.cfg").write_text("[defaults]\n", encoding="utf-8")
    env.update(
        ANSIBLE_HOME=str(tmp_path / "ansible-home"),
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
        ANSIBLE_CONFIG=str(tmp_path / "ansible.cfg"),  # an /etc/ansible/ansible.cfg must not change the run
        ANSIBLE_NOCOLOR="1",
        CI="true",
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    effective = next((env[k] for k in ("LC_ALL", "LC_CTYPE", "LANG") if env.get(k)), "C")
    if "utf8" not in effective.lower().replace("-", ""):
        env["LC_ALL"] = "C.UTF-8"  # ansible-core refuses to start without a UTF-8 locale
    return env


def _playbook(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([_tool("ansible-playbook"), "-i", INVENTORY, PLAYBOOK, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)


def _task(out: str, title: str) -> str:
    """The lines of one task's section of the default callback's output."""
    m = re.search(r"^TASK \[[^\]]*" + re.escape(title) + r"[^\]]*\] \**\n(.*?)(?=^TASK \[|^PLAY RECAP)", out, re.M | re.S)
    assert m, f"no task {title!r} in:\n{out}"
    return m.group(1)


def _recap(out: str) -> dict[str, dict[str, int]]:
    recap = out[out.index("PLAY RECAP"):]
    rows = {}
    for host, counts in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", recap, re.M):
        rows[host] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counts)}
    return rows


def _run_check(*args: str) -> dict:
    r = subprocess.run([sys.executable, "-m", "crashplan", *args], cwd=ROOT, capture_output=True, text=True)
    return json.loads(r.stdout)


def test_the_example_plans_one_line_checks_it_on_every_host_and_applies_nothing(
        tmp_path: Path, ansible_env: dict[str, str]) -> None:
    out_dir = tmp_path / "plan"
    r = _playbook(ansible_env, "-e", f"crashplan_output_dir={out_dir}")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Traceback" not in r.stdout + r.stderr

    # the plan: one line, the crashplan/fleet@1 document, the machine files gathered from the hosts
    line_file = out_dir / "crashkernel.txt"
    text = line_file.read_text(encoding="utf-8")
    assert text.endswith("\n") and text.count("\n") == 1
    line = text.strip()
    assert line.startswith("crashkernel=")
    doc = json.loads((out_dir / "fleet-plan.json").read_text(encoding="utf-8"))
    assert doc["schema"] == "crashplan/fleet@1" and doc["command"] == "plan"
    assert doc["cmdline"] == line and doc["exit_status"] == 0
    assert sorted(m["name"] for m in doc["machines"]) == sorted(HOSTS)
    assert doc["not_judged"] == sorted(NOT_JUDGED)
    for m in doc["machines"]:
        if m["name"] in NOT_JUDGED:
            assert not m["ok"] and m["status"] == NOT_JUDGED[m["name"]][1], m
        else:
            assert m["ok"] and m["reserves"] and m["needed"] and m["size"] >= m["needed"], m
        assert m["file"] == str(out_dir / "machines" / f"{m['name']}.yaml")
    assert sorted(p.name for p in (out_dir / "machines").iterdir()) == sorted(f"{h}.yaml" for h in HOSTS)

    # the machine file each host returned is its example machine, renamed after the host
    for host, example in SERVED.items():
        gathered = _run_check("check", line, "--machine", str(out_dir / "machines" / f"{host}.yaml"), "--format", "json")
        original = _run_check("check", line, "--machine", f"examples/{example}", "--format", "json")
        assert gathered["reservations"] == original["reservations"] != []

    # the output says where the plan is, and the line
    plan_section = _task(r.stdout, "Show the plan")
    assert f"wrote the plan to {line_file}" in plan_section
    assert f"crashplan: {line}" in plan_section
    assert f"{len(HOSTS)} machines, {len(SERVED)} served, {len(NOT_JUDGED)} not judged (below)" in plan_section
    # the machines the line cannot be judged on are printed, with crashplan's reason
    apart = _task(r.stdout, "Show the machines the line cannot be judged on")
    by = {m["name"]: m for m in doc["machines"]}
    for host, (_, status) in NOT_JUDGED.items():
        assert f'"{host}: {status}: {by[host]["reason"]}"' in apart, apart

    # every host's check passed, and the apply step was skipped on every host
    check = _task(r.stdout, "Check the line on the host")
    apply = _task(r.stdout, "Apply the line")
    for host in HOSTS:
        assert re.search(rf"^ok: \[{re.escape(host)}\]", check, re.M), check
        assert re.search(rf"^skipping: \[{re.escape(host)}\]", apply, re.M), apply
    shown = _task(r.stdout, "Show the check")
    for m in doc["machines"]:
        said = re.search(r'^ok: \[' + re.escape(m["name"]) + r'\] => \{\n\s+"msg": "(.*)"\n\}', shown, re.M)
        assert said, shown
        if m["name"] in NOT_JUDGED:
            assert said.group(1) == f"not judged ({m['status']}): {m['reason']}"
            continue
        assert said.group(1) == f"reserves {m['size'] >> 20}M (needs {m['needed'] >> 20}M), production loses {m['lost'] >> 20}M"
    recap = _recap(r.stdout)
    assert sorted(recap) == sorted(HOSTS)
    assert all(row["failed"] == 0 and row["unreachable"] == 0 for row in recap.values()), recap
    # the only change is the plan written on the controller (reported by the host that ran it once)
    assert sum(row["changed"] for row in recap.values()) == 1, recap


def test_check_mode_plans_and_checks_but_writes_nothing(tmp_path: Path, ansible_env: dict[str, str]) -> None:
    out_dir = tmp_path / "plan"
    r = _playbook(ansible_env, "--check", "-e", f"crashplan_output_dir={out_dir}")
    assert r.returncode == 0, r.stdout + r.stderr
    assert not out_dir.exists()
    assert f"would write the plan to {out_dir / 'crashkernel.txt'}" in _task(r.stdout, "Show the plan")
    check = _task(r.stdout, "Check the line on the host")
    assert all(re.search(rf"^ok: \[{re.escape(h)}\]", check, re.M) for h in HOSTS), check


def _fake_grubby(tmp_path: Path) -> Path:
    """A grubby in ``tmp_path/bin`` that keeps one boot entry's arguments in a file (returned) and
    records its calls next to it (the real one edits BLS entries)."""
    (tmp_path / "bin").mkdir()
    state = tmp_path / "entry-args"
    script = tmp_path / "bin" / "grubby"
    script.write_text(
        "#!/bin/sh\n"
        f"STATE='{state}'\n"
        'echo "$@" >> "$STATE.calls"\n'
        'case "$1" in\n'
        '  --info=ALL) printf \'index=0\\nkernel="/boot/vmlinuz"\\nargs="%s"\\n\' "$(cat "$STATE")" ;;\n'
        '  --update-kernel=ALL)\n'
        '    new=$(echo "${2#--args=}")\n'
        '    old=$(cat "$STATE" | tr " " "\\n" | grep -v "^crashkernel=" | tr "\\n" " ")\n'
        '    printf "%s%s" "$old" "$new" > "$STATE" ;;\n'
        "  *) exit 64 ;;\n"
        "esac\n",
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    state.write_text("ro quiet crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M", encoding="utf-8")
    return state


def _calls(state: Path) -> list[str]:
    calls = state.with_name(state.name + ".calls")
    return calls.read_text(encoding="utf-8").splitlines() if calls.exists() else []


def test_check_mode_with_apply_asked_fails_a_host_the_line_is_too_small_for_and_applies_nothing(
        tmp_path: Path, ansible_env: dict[str, str]) -> None:
    line = "crashkernel=128M"
    hosts = ["vm-2g", "qemu-4g"]
    verdicts = {h: _run_check("fleet", "check", line, f"examples/{HOSTS[h]}", "--format", "json")["machines"][0]
                for h in hosts}
    # crashplan's own verdicts: 128M is too little for the 2 GiB RHEL guest, enough for the 4 GiB Debian one
    assert verdicts["vm-2g"]["status"] == "too-small" and verdicts["qemu-4g"]["ok"], verdicts
    state = _fake_grubby(tmp_path)
    env = dict(ansible_env, PATH=f"{tmp_path / 'bin'}{os.pathsep}{ansible_env['PATH']}")
    r = _playbook(env, "--check", "--limit", ",".join(hosts), "-e", f"crashplan_line={line}",
                  "-e", "crashplan_apply=true", "-e", "crashplan_apply_method=grubby",
                  "-e", f"crashplan_output_dir={tmp_path / 'x'}")
    assert r.returncode == 2, r.stdout + r.stderr  # ansible-playbook: a host failed
    check = _task(r.stdout, "Check the line on the host")
    m = re.search(r"^fatal: \[vm-2g\]: FAILED! => (.*)$", check, re.M)
    assert m, check
    result = json.loads(m.group(1))
    assert result["status"] == "too-small" and result["reason"] == verdicts["vm-2g"]["reason"]
    assert result["size"] == 128 << 20 and result["needed"] == verdicts["vm-2g"]["needed"] > result["size"]
    assert result["reserves"] and result["reservations"][0]["size"] == 128 << 20
    assert re.search(r"^ok: \[qemu-4g\]", check, re.M), check
    assert {h for h, row in _recap(r.stdout).items() if row["failed"]} == {"vm-2g"}
    assert not (tmp_path / "x").exists()

    # the failed host never reaches the apply step; in check mode the served one only reads its entries
    apply = _task(r.stdout, "Apply the line")
    assert "vm-2g" not in apply
    assert re.search(r"^changed: \[qemu-4g\]", apply, re.M), apply
    assert _calls(state) == ["--info=ALL"]
    assert state.read_text(encoding="utf-8") == "ro quiet crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M"


def test_apply_with_grubby_runs_it_once_and_reads_the_entries_back(tmp_path: Path, ansible_env: dict[str, str]) -> None:
    state = _fake_grubby(tmp_path)
    env = dict(ansible_env, PATH=f"{tmp_path / 'bin'}{os.pathsep}{ansible_env['PATH']}")
    # the line the example plans (the first test runs the planning through Ansible)
    line = _run_check("fleet", "plan", *(f"examples/{f}" for f in HOSTS.values()), "--format", "json")["cmdline"]
    assert line.startswith("crashkernel=")
    args = {"line": line, "method": "grubby"}

    status, result = _adhoc(env, "crashplan_apply", args)
    assert status == "CHANGED" and result["method"] == "grubby", result
    assert state.read_text(encoding="utf-8") == f"ro quiet {line}"
    assert _calls(state) == ["--info=ALL", f"--update-kernel=ALL --args={line}", "--info=ALL"]

    # applied already: the entries are read and nothing changes
    status, result = _adhoc(env, "crashplan_apply", args)
    assert status == "SUCCESS" and result["msg"] == f"{line} is set"
    assert _calls(state)[3:] == ["--info=ALL"]
    assert state.read_text(encoding="utf-8") == f"ro quiet {line}"

    # a grubby that leaves another crashkernel= behind fails the task
    state.write_text("ro quiet crashkernel=64M", encoding="utf-8")
    script = tmp_path / "bin" / "grubby"
    script.write_text(script.read_text(encoding="utf-8").replace('grep -v "^crashkernel="', 'grep -v "^nothing="'),
                      encoding="utf-8")
    status, result = _adhoc(env, "crashplan_apply", args)
    assert status == "FAILED!", result
    assert result["msg"] == f"after grubby the boot entries hold crashkernel=64M {line}, not {line}: fix them by hand"


def _adhoc(env: dict[str, str], module: str, args: dict, *options: str) -> tuple[str, dict]:
    """One module on the implicit localhost (``ansible localhost -m``): its state and its result."""
    env = dict(env, ANSIBLE_COLLECTIONS_PATH=str(ROOT))
    r = subprocess.run([_tool("ansible"), "localhost", "-m", f"crashplan.kdump.{module}", "-a", json.dumps(args),
                        *options], cwd=ROOT, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                       timeout=120)
    m = re.search(r"^localhost \| (\S+!?) => (\{.*\})\s*$", r.stdout, re.M | re.S)
    assert m, r.stdout + r.stderr
    return m.group(1), json.loads(m.group(2))


def test_plan_lists_a_machine_it_cannot_judge_and_fails_on_it_only_when_strict(
        tmp_path: Path, ansible_env: dict[str, str]) -> None:
    files = [str(ROOT / "examples" / "x86_64-microvm-24g.yaml"), str(ROOT / "examples" / "x86_64-vm-2g.yaml")]
    fleet = _run_check("fleet", "plan", *files, "--strict", "--format", "json")
    (unserved,) = fleet["plan"]["unserved"]
    assert unserved["status"] == "no-kdump"
    # strict: the machine is not served; the task names it with crashplan's reason and writes nothing
    state, result = _adhoc(ansible_env, "crashplan_plan", {"snapshots": files, "dest": str(tmp_path / "plan"),
                                                            "strict": True})
    assert state == "FAILED!"
    assert f"{unserved['name']}: {unserved['reason']}" in result["msg"]
    assert result["cmdline"] == fleet["cmdline"]
    assert not (tmp_path / "plan").exists()

    # by default it is listed as not judged and the plan is written
    state, result = _adhoc(ansible_env, "crashplan_plan", {"snapshots": files, "dest": str(tmp_path / "plan")})
    assert state == "CHANGED", result
    assert result["unserved"] == [] and result["not_judged"] == [
        {"name": unserved["name"], "file": unserved["file"], "status": "no-kdump", "reason": unserved["reason"]}]
    written = json.loads((tmp_path / "plan" / "fleet-plan.json").read_text(encoding="utf-8"))
    assert written["exit_status"] == 0 and written["not_judged"] == [unserved["name"]]

    # left out, it no longer stands in the way even when strict; the plan records it as excluded
    state, result = _adhoc(ansible_env, "crashplan_plan", {"snapshots": files, "dest": str(tmp_path / "plan"),
                                                            "exclude": [unserved["name"]], "strict": True})
    assert state == "CHANGED", result
    written = json.loads((tmp_path / "plan" / "fleet-plan.json").read_text(encoding="utf-8"))
    assert {m["name"]: m["status"] for m in written["machines"]}[unserved["name"]] == "excluded"
    assert (tmp_path / "plan" / "crashkernel.txt").read_text(encoding="utf-8") == written["cmdline"] + "\n"


def test_check_passes_a_host_it_cannot_judge_unless_strict(ansible_env: dict[str, str]) -> None:
    machine = str(ROOT / "examples" / "x86_64-microvm-24g.yaml")
    line = "crashkernel=256M"
    verdict = _run_check("fleet", "check", line, machine, "--format", "json")["machines"][0]
    state, result = _adhoc(ansible_env, "crashplan_check", {"line": line, "machine": machine}, "--check")
    assert state == "SUCCESS", result
    assert result["judged"] is False and result["ok"] is False and result["status"] == "no-kdump"
    assert result["msg"] == f"not judged (no-kdump): {verdict['reason']}"
    state, result = _adhoc(ansible_env, "crashplan_check", {"line": line, "machine": machine, "strict": True})
    assert state == "FAILED!" and result["msg"] == f"no-kdump: {verdict['reason']}"


def test_snapshot_keeps_its_file_only_outside_check_mode_and_only_when_it_changes(
        tmp_path: Path, ansible_env: dict[str, str]) -> None:
    dest = tmp_path / "machine.yaml"
    args = {"machine": str(ROOT / "examples" / "x86_64-qemu-4g.yaml"), "name": "db1", "dest": str(dest)}
    state, result = _adhoc(ansible_env, "crashplan_snapshot", args, "--check")
    assert state == "CHANGED" and not dest.exists()
    ram = _run_check("check", "crashkernel=64M", "--machine", args["machine"], "--format", "json")["system_ram"]
    assert result["machine"] == {"name": "db1", "arch": "x86_64", "kernel": "7.3.4+deb13-amd64",
                                 "layout_known": True, "system_ram": ram}
    assert result["ansible_facts"]["crashplan_machine"]["content"] == result["content"]
    state, result = _adhoc(ansible_env, "crashplan_snapshot", args)
    assert state == "CHANGED" and dest.read_text(encoding="utf-8") == result["content"]
    assert 'name: "db1"' in result["content"]
    state, result = _adhoc(ansible_env, "crashplan_snapshot", args)
    assert state == "SUCCESS"


def test_check_without_a_machine_file_probes_the_host_it_runs_on(tmp_path: Path, ansible_env: dict[str, str]) -> None:
    """The answer depends on the machine the tests run on: it must be crashplan's own for this machine."""
    line = "crashkernel=256M"
    subprocess.run([sys.executable, "-m", "crashplan", "snapshot", "-o", str(tmp_path / "here.yaml")], check=True,
                   capture_output=True)
    doc = _run_check("fleet", "check", line, str(tmp_path / "here.yaml"), "--format", "json")
    expected = doc["machines"][0]
    state, result = _adhoc(ansible_env, "crashplan_check", {"line": line}, "--check")
    # fails exactly when crashplan's exit status does (a host that cannot run kdump is not judged)
    assert state == ("SUCCESS" if doc["exit_status"] == 0 else "FAILED!"), result
    assert result["judged"] is (expected["name"] not in doc["not_judged"])
    for key in ("ok", "status", "reason", "reserves", "size", "needed", "lost"):
        assert result[key] == expected[key], key


def test_apply_with_grub_mkconfig_edits_the_defaults_file_and_regenerates_once(
        tmp_path: Path, ansible_env: dict[str, str]) -> None:
    (tmp_path / "bin").mkdir()
    mkconfig = tmp_path / "bin" / "grub2-mkconfig"
    mkconfig.write_text(f"#!/bin/sh\necho \"$@\" >> '{tmp_path / 'mkconfig.calls'}'\n", encoding="utf-8")
    mkconfig.chmod(0o755)
    defaults = tmp_path / "grub"
    original = ('GRUB_TIMEOUT=8\n'
                'GRUB_CMDLINE_LINUX_DEFAULT="splash=silent crashkernel=256M,high crashkernel=72M,low quiet"\n'
                'GRUB_CMDLINE_LINUX="root=/dev/sda2  rw"\n')
    defaults.write_text(original, encoding="utf-8")
    env = dict(ansible_env, PATH=f"{tmp_path / 'bin'}{os.pathsep}{ansible_env['PATH']}")
    line = "crashkernel=2G-4G:232M,4G-:256M"
    args = {"line": line, "method": "grub-mkconfig", "grub_default": str(defaults), "grub_cfg": str(tmp_path / "grub.cfg")}

    state, result = _adhoc(env, "crashplan_apply", args, "--check")
    assert state == "CHANGED" and result["msg"] == f"would set {line}"
    assert defaults.read_text(encoding="utf-8") == original and not (tmp_path / "mkconfig.calls").exists()

    state, result = _adhoc(env, "crashplan_apply", args)
    assert state == "CHANGED" and result["method"] == "grub-mkconfig"
    assert defaults.read_text(encoding="utf-8") == ('GRUB_TIMEOUT=8\n'
                                                    f'GRUB_CMDLINE_LINUX_DEFAULT="splash=silent quiet {line}"\n'
                                                    'GRUB_CMDLINE_LINUX="root=/dev/sda2  rw"\n')
    assert (tmp_path / "mkconfig.calls").read_text(encoding="utf-8") == f"-o {tmp_path / 'grub.cfg'}\n"

    state, result = _adhoc(env, "crashplan_apply", args)
    assert state == "SUCCESS" and result["msg"] == f"{line} is set"
    assert (tmp_path / "mkconfig.calls").read_text(encoding="utf-8").count("\n") == 1


def test_apply_with_a_grub_drop_in_moves_kdump_tools_aside_and_wins_in_the_shell(
        tmp_path: Path, ansible_env: dict[str, str]) -> None:
    (tmp_path / "bin").mkdir()
    for tool in ("update-grub", "dpkg-divert"):  # stand-ins that record their calls
        script = tmp_path / "bin" / tool
        script.write_text(f"#!/bin/sh\necho {tool} \"$@\" >> '{tmp_path / 'calls'}'\n", encoding="utf-8")
        script.chmod(0o755)
    grub_d = tmp_path / "grub.d"
    grub_d.mkdir()
    (grub_d / "kdump-tools.cfg").write_text('GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT '
                                            'crashkernel=384M-:128M"\n', encoding="utf-8")
    env = dict(ansible_env, PATH=f"{tmp_path / 'bin'}{os.pathsep}{ansible_env['PATH']}")
    line = "crashkernel=2G-4G:232M,4G-:256M"
    drop_in = grub_d / "kdump-crashplan.cfg"
    args = {"line": line, "method": "grub-drop-in", "grub_drop_in": str(drop_in)}

    state, result = _adhoc(env, "crashplan_apply", args)
    assert state == "CHANGED" and result["method"] == "grub-drop-in", result
    kdump_tools = grub_d / "kdump-tools.cfg"
    assert (tmp_path / "calls").read_text(encoding="utf-8").splitlines() == [
        f"dpkg-divert --local --rename --divert {kdump_tools}.disabled --add {kdump_tools}", "update-grub"]
    # what GRUB's shell makes of /etc/default/grub followed by the drop-in
    shell = subprocess.run(
        ["sh", "-c", 'GRUB_CMDLINE_LINUX="root=/dev/sda2 crashkernel=512M"; '
                     'GRUB_CMDLINE_LINUX_DEFAULT="quiet crashkernel=1G,high crashkernel=72M,low"; . "$1"; '
                     'printf "%s|%s" "$GRUB_CMDLINE_LINUX" "$GRUB_CMDLINE_LINUX_DEFAULT"', "sh", str(drop_in)],
        capture_output=True, text=True, check=True)
    assert shell.stdout == f"root=/dev/sda2|quiet {line}"

    kdump_tools.unlink()  # the real dpkg-divert --rename moved it
    state, result = _adhoc(env, "crashplan_apply", args, "--check")
    assert state == "SUCCESS" and result["msg"] == f"{line} is set"
    assert (tmp_path / "calls").read_text(encoding="utf-8").count("\n") == 2


def test_ansible_doc_reads_every_module_and_the_role(ansible_env: dict[str, str]) -> None:
    env = dict(ansible_env, ANSIBLE_COLLECTIONS_PATH=str(ROOT))
    r = subprocess.run([_tool("ansible-doc"), "--json", *(f"crashplan.kdump.{m}" for m in MODULES)], cwd=ROOT,
                       env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    assert r.returncode == 0, r.stderr
    docs = json.loads(r.stdout)
    assert sorted(docs) == sorted(f"crashplan.kdump.{m}" for m in MODULES)
    for name, doc in docs.items():
        assert doc["doc"]["attributes"]["check_mode"]["support"] == "full", name
        assert doc["return"] and doc["examples"], name
    assert "crashplan_bin" in docs["crashplan.kdump.crashplan_check"]["doc"]["options"]
    r = subprocess.run([_tool("ansible-doc"), "-t", "role", "--json", "crashplan.kdump.crashkernel"], cwd=ROOT,
                       env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    assert r.returncode == 0, r.stderr
    role = json.loads(r.stdout)["crashplan.kdump.crashkernel"]
    assert role["entry_points"]["main"]["options"]["crashplan_apply"]["default"] is False
