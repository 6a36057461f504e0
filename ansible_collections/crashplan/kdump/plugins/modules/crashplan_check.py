#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v2.0 or later (see COPYING or https://www.gnu.org/licenses/gpl-2.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: crashplan_check
short_description: Check that a crashkernel= line reserves enough for this host's kdump
description:
  - Replays crashkernel= parameters on the managed host exactly as its kernel release and architecture
    parse and place them (C(crashplan check LINE --format json)), and compares what they reserve with
    what the host's kdump needs by crashplan's sizing model (C(crashplan fleet check LINE FILE --format json),
    the per-machine verdict of docs/fleet.md).
  - The task fails when the line reserves nothing, reserves less than the host's kdump needs, or cannot be
    placed in the host's memory map. It changes nothing, so it runs the same in check mode.
  - A host the line cannot be judged on (its kernel cannot run kdump, C(no-kdump); its memory layout is
    unknown, C(unplaced)) does not fail the task (RV(judged) is false, RV(ok) false), unless O(strict=true).
  - Without O(machine) the host is probed first (C(crashplan snapshot), into a temporary file); run it as
    root, so that the memory map has addresses.
version_added: 0.1.0
extends_documentation_fragment:
  - crashplan.kdump.crashplan
options:
  line:
    description:
      - The crashkernel= parameters, e.g. C(crashkernel=2G-64G:256M,64G-:512M) or
        C(crashkernel=512M,high crashkernel=72M,low). They replace the crashkernel= parameters of the
        host's own command line, as C(crashplan check) does.
    type: str
    required: true
  machine:
    description: Check against this machine file on the host instead of probing the host.
    type: path
  strict:
    description: Fail a host the line cannot be judged on (no kdump support, layout unknown), as
      C(crashplan fleet check --strict) does.
    type: bool
    default: false
author:
  - crashplan contributors
"""

EXAMPLES = r"""
- name: The fleet's line must serve every host
  crashplan.kdump.crashplan_check:
    line: "crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M"
"""

RETURN = r"""
ok:
  description: The line reserves at least what this host's kdump needs, where the kernel can place it.
  returned: always
  type: bool
status:
  description: >-
    C(ok), C(reserves-nothing), C(too-small), C(placement-failed), C(no-kdump) or C(unplaced)
    (the status of docs/fleet.md).
  returned: always
  type: str
judged:
  description: >-
    The line can be judged on this host: false when its kernel cannot run kdump (C(no-kdump)) or its
    memory layout is unknown (C(unplaced)); such a host fails the task only with O(strict).
  returned: always
  type: bool
reason:
  description: One sentence saying why the host is not served; null when RV(ok).
  returned: always
  type: str
reserves:
  description: The kernel reserves a crash region with the line.
  returned: always
  type: bool
size:
  description: Bytes of the crashkernel region(s) (classic and low region).
  returned: always
  type: int
cma:
  description: Bytes reserved as CMA.
  returned: always
  type: int
needed:
  description: Bytes the classic region must hold for this host's kdump (crashplan's sizing model).
  returned: always
  type: int
lost:
  description: Bytes production loses to the reservation.
  returned: always
  type: int
reservations:
  description: The regions the kernel reserves, in its order, C({kind, start, end, size}) (crashplan/check@1).
  returned: always
  type: list
  elements: dict
messages:
  description: The kernel's log lines for the reservation.
  returned: always
  type: list
  elements: str
diagnoses:
  description: crashplan's findings on the line for this host, C({code, severity, message, fix}).
  returned: always
  type: list
  elements: dict
machine:
  description: The machine's name, architecture, kernel release and RAM as crashplan read them.
  returned: always
  type: dict
"""

import os
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.crashplan.kdump.plugins.module_utils.crashplan import (
    crashplan_command,
    run_crashplan,
    run_json,
)


def _mib(n):
    return "%dM" % (n >> 20) if n is not None else "?"


def main():
    module = AnsibleModule(
        argument_spec=dict(
            line=dict(type="str", required=True),
            machine=dict(type="path"),
            strict=dict(type="bool", default=False),
            crashplan_bin=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    line = module.params["line"].strip()
    if "crashkernel=" not in line:
        module.fail_json(msg="line %r has no crashkernel= parameter" % line)
    cmd = crashplan_command(module)
    workdir = tempfile.mkdtemp(prefix="crashplan-check-")
    try:
        machine = module.params["machine"]
        if machine is None:
            machine = os.path.join(workdir, "machine.yaml")
            run_crashplan(module, cmd, ["snapshot", "-o", machine])
        elif not os.path.isfile(machine):
            module.fail_json(msg="machine file %s does not exist on this host" % machine)
        rc, check = run_json(module, cmd, ["check", line, "--machine", machine, "--format", "json"],
                             "crashplan/check@1")
        args = ["fleet", "check", line, machine, "--format", "json"]
        if module.params["strict"]:
            args.append("--strict")
        rc, fleet = run_json(module, cmd, args, "crashplan/fleet@1", ok=(0, 1, 2))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if fleet.get("errors"):
        e = fleet["errors"][0]
        module.fail_json(msg="crashplan cannot read %s: %s" % (e.get("file"), e.get("message")), errors=fleet["errors"])
    verdict = fleet["machines"][0]
    result = dict(
        changed=False,
        line=line,
        ok=bool(verdict["ok"]),
        judged=verdict["name"] not in (fleet.get("not_judged") or []),
        status=verdict["status"],
        reason=verdict["reason"],
        reserves=bool(verdict["reserves"]),
        size=verdict["size"],
        cma=verdict["cma"],
        needed=verdict["needed"],
        cma_needed=verdict.get("cma_needed"),
        lost=verdict["lost"],
        reservations=check.get("reservations") or [],
        messages=[m.get("text") for m in check.get("messages") or []],
        diagnoses=[{k: d.get(k) for k in ("code", "severity", "message", "fix")} for d in check.get("diagnoses") or []],
        machine={k: verdict.get(k) for k in ("name", "arch", "kernel", "ram")},
    )
    if fleet.get("exit_status") != 0:  # crashplan's rule: with --strict, a host not judged fails too
        module.fail_json(msg="%s: %s" % (verdict["status"], verdict["reason"]), **result)
    if not result["judged"]:
        result["msg"] = "not judged (%s): %s" % (verdict["status"], verdict["reason"])
        module.exit_json(**result)
    result["msg"] = "reserves %s (needs %s), production loses %s" % (_mib(result["size"]), _mib(result["needed"]),
                                                                    _mib(result["lost"]))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
