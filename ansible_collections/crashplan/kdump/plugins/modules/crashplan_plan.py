#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v2.0 or later (see COPYING or https://www.gnu.org/licenses/gpl-2.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: crashplan_plan
short_description: Plan one crashkernel= line for a fleet from its machine files
description:
  - "Runs C(crashplan fleet plan --format json) (docs/fleet.md) over machine files, usually on the
    controller (C(delegate_to: localhost), C(run_once: true)) after M(crashplan.kdump.crashplan_snapshot)
    ran on every host."
  - The machine files are given as paths (O(snapshots)) or as their text (O(machines), e.g. the
    C(content) that M(crashplan.kdump.crashplan_snapshot) returns), so that nothing has to be copied
    before planning and check mode plans too.
  - With O(dest) the plan is written in that directory, C(crashkernel.txt) (the line, one line), C(fleet-plan.json)
    (the C(crashplan/fleet@1) document) and C(machines/NAME.yaml) for each of O(machines). Nothing is
    written in check mode, or when the task fails.
  - The task fails when no line serves every machine (excluded ones aside), naming each machine that is
    not served and why, unless O(fail_on_unserved=false).
  - Machines the line cannot be judged on (their kernel cannot run kdump, C(no-kdump); a snapshot
    taken without root, C(unplaced)) do not fail the task; they are returned in RV(not_judged). With
    O(strict=true) they are not served machines like the others.
version_added: 0.1.0
extends_documentation_fragment:
  - crashplan.kdump.crashplan
options:
  snapshots:
    description: Machine files or directories of them (searched recursively for C(*.yaml), C(*.yml)).
    type: list
    elements: path
    default: []
  machines:
    description: Machine files by name, as text (YAML). The name is the file name under C(dest/machines/).
    type: dict
    default: {}
  dest:
    description: Write the plan into this directory (created if missing).
    type: path
  exclude:
    description: Leave out machines whose name or file path matches these shell patterns.
    type: list
    elements: str
    default: []
  max_ranges:
    description: At most this many ranges in the planned line (1-16; crashplan's default is 6).
    type: int
  cma:
    description: Also look for the CMA variant.
    type: bool
    default: true
  fail_on_unserved:
    description: Fail the task when a machine cannot be served by the line.
    type: bool
    default: true
  strict:
    description: Count machines that cannot be judged (no kdump support, layout unknown) as not served
      (C(crashplan fleet plan --strict)).
    type: bool
    default: false
author:
  - crashplan contributors
"""

EXAMPLES = r"""
- name: Plan the fleet's line on the controller
  crashplan.kdump.crashplan_plan:
    machines: "{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, ['crashplan_machine', 'content']))) }}"
    dest: "{{ playbook_dir }}/output"
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
cmdline:
  description: The planned crashkernel= line, or null when there is none.
  returned: always
  type: str
cma_cmdline:
  description: The CMA variant, or null (RV(cma_refused) says why).
  returned: always
  type: str
cma_refused:
  description: Why there is no CMA variant, or null.
  returned: always
  type: str
files:
  description: What was written (C(line), C(json), C(machines)), or null in check mode.
  returned: always
  type: dict
machines:
  description: Each machine's replay of the line, C({name, reserves, size, needed, ok, status, reason, ...}).
  returned: always
  type: list
  elements: dict
unserved:
  description: The machines the line cannot serve, C({name, file, status, reason}).
  returned: always
  type: list
  elements: dict
not_judged:
  description: >-
    The machines the line cannot be judged on, C({name, file, status, reason}): status C(no-kdump) (the
    kernel cannot run kdump) or C(unplaced) (memory layout unknown). Also in RV(unserved) with O(strict).
  returned: always
  type: list
  elements: dict
groups:
  description: The groups of similar machines, with the distribution default compared.
  returned: always
  type: list
  elements: dict
totals:
  description: The fleet's totals (machines, ok, failed, planned, default, saved ...).
  returned: always
  type: dict
plan:
  description: The whole C(crashplan/fleet@1) document.
  returned: always
  type: dict
"""

import json
import os
import re
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.crashplan.kdump.plugins.module_utils.crashplan import crashplan_command, run_json


def _file_name(name):
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".")
    return (safe or "machine") + ".yaml"


def _same(path, text):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read() == text
    except (IOError, OSError):
        return False


def _write(module, path, text):
    """Replace ``path`` with ``text`` when it differs (atomically); True when it changed."""
    if _same(path, text):
        return False
    fd, staged = tempfile.mkstemp(prefix=".crashplan.", suffix=".tmp", dir=os.path.dirname(path))
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    module.atomic_move(staged, path)
    return True


def _file_items(doc):
    plan = doc.get("plan") or {}
    for key in ("machines", "errors"):
        for item in doc.get(key) or []:
            yield item
    for item in (plan.get("cma") or {}).get("machines") or []:
        yield item
    for item in plan.get("unserved") or []:
        yield item


def main():
    module = AnsibleModule(
        argument_spec=dict(
            snapshots=dict(type="list", elements="path", default=[]),
            machines=dict(type="dict", default={}),
            dest=dict(type="path"),
            exclude=dict(type="list", elements="str", default=[]),
            max_ranges=dict(type="int"),
            cma=dict(type="bool", default=True),
            fail_on_unserved=dict(type="bool", default=True),
            strict=dict(type="bool", default=False),
            crashplan_bin=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if not p["snapshots"] and not p["machines"]:
        module.fail_json(msg="give the machine files: snapshots (paths) or machines (their text by name)")
    cmd = crashplan_command(module)
    workdir = tempfile.mkdtemp(prefix="crashplan-plan-")
    try:
        staged = {}
        for name, text in sorted(p["machines"].items()):
            fname = _file_name(str(name))
            if fname in staged.values():
                module.fail_json(msg="two machines share the file name %s: rename one" % fname)
            with open(os.path.join(workdir, fname), "w", encoding="utf-8") as f:
                f.write(str(text))
            staged[str(name)] = fname
        args = ["fleet", "plan", "--format", "json", "--no-progress"]
        for pattern in p["exclude"]:
            args += ["--exclude", pattern]
        if p["max_ranges"] is not None:
            args += ["--max-ranges", str(p["max_ranges"])]
        if not p["cma"]:
            args.append("--no-cma")
        if p["strict"]:
            args.append("--strict")
        args += list(p["snapshots"]) + [os.path.join(workdir, f) for f in sorted(staged.values())]
        rc, doc = run_json(module, cmd, args, "crashplan/fleet@1", ok=(0, 1, 2))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    # the staged files are gone: name them where the plan keeps them (or by machine name)
    kept = os.path.join(p["dest"], "machines") if p["dest"] else None
    for item in _file_items(doc):
        f = item.get("file")
        if isinstance(f, str) and os.path.dirname(f) == workdir:
            item["file"] = os.path.join(kept, os.path.basename(f)) if kept else os.path.basename(f)

    plan = doc.get("plan") or {}
    cma = plan.get("cma") or {}
    apart = set(doc.get("not_judged") or [])
    not_judged = [{"name": m.get("name"), "file": m.get("file"), "status": m.get("status"), "reason": m.get("reason")}
                  for m in doc.get("machines") or [] if m.get("name") in apart]
    result = dict(
        changed=False,
        cmdline=doc.get("cmdline"),
        cma_cmdline=cma.get("cmdline"),
        cma_refused=cma.get("refused"),
        machines=doc.get("machines") or [],
        unserved=plan.get("unserved") or [],
        not_judged=not_judged,
        groups=doc.get("groups") or [],
        totals=doc.get("totals") or {},
        errors=doc.get("errors") or [],
        files=None,
        plan=doc,
    )
    if doc.get("errors"):
        module.fail_json(msg="unreadable machine files: " + "; ".join(
            "%s:%s: %s" % (e.get("file"), e.get("line") or "", e.get("message")) for e in doc["errors"]), **result)
    if not doc.get("cmdline"):
        module.fail_json(msg="no crashkernel= line serves this fleet: " + "; ".join(
            "%s: %s" % (u.get("name"), u.get("reason")) for u in result["unserved"]), **result)
    if result["unserved"] and p["fail_on_unserved"]:
        module.fail_json(msg="%s serves all but %d machine(s): %s" % (doc["cmdline"], len(result["unserved"]), "; ".join(
            "%s: %s" % (u.get("name"), u.get("reason")) for u in result["unserved"])), **result)

    if p["dest"]:
        files = {"line": os.path.join(p["dest"], "crashkernel.txt"),
                 "json": os.path.join(p["dest"], "fleet-plan.json"),
                 "machines": os.path.join(p["dest"], "machines") if staged else None}
        result["files"] = files
        texts = [(files["json"], json.dumps(doc, indent=2, sort_keys=True) + "\n"), (files["line"], doc["cmdline"] + "\n")]
        texts += [(os.path.join(files["machines"], fname), str(p["machines"][name])) for name, fname in staged.items()]
        if module.check_mode:
            result["changed"] = not all(_same(path, text) for path, text in texts)
        else:
            changed = False
            for d in (p["dest"], files["machines"]):
                if d and not os.path.isdir(d):
                    os.makedirs(d)
                    changed = True
            for path, text in texts:
                changed |= _write(module, path, text)
            result["changed"] = changed
    module.exit_json(**result)


if __name__ == "__main__":
    main()
