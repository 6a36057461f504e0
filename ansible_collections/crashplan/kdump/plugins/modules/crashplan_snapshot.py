#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v2.0 or later (see COPYING or https://www.gnu.org/licenses/gpl-2.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: crashplan_snapshot
short_description: Describe a host's memory map and kdump setup as a crashplan machine file
description:
  - Runs C(crashplan snapshot) on the managed host and returns the machine file
    (docs/machine-format.md) it writes, as a return value and as the fact C(crashplan_machine).
  - Run it as root, so that C(/proc/iomem) shows addresses; without root the file holds the RAM total
    only, and the module warns.
  - With O(machine), O(iomem) or O(boot_log) the module converts a saved source instead of probing the
    host (C(crashplan snapshot --machine/--iomem/--boot-log)).
  - It only reads the host, so check mode runs it too; only writing O(dest) is skipped in check mode.
version_added: 0.1.0
extends_documentation_fragment:
  - crashplan.kdump.crashplan
options:
  dest:
    description:
      - Keep the machine file at this path on the managed host (replaced atomically, only when its
        content changes). When not set, the file is written to a temporary file and removed.
    type: path
  machine:
    description: Normalise this existing machine file instead of probing the host.
    type: path
  iomem:
    description: Convert this saved C(/proc/iomem) (read as root) instead of probing.
    type: path
  boot_log:
    description: Convert this saved boot log (dmesg) instead of probing.
    type: path
  arch:
    description: Architecture of a saved O(iomem) or O(boot_log) (arm64 reads NOMAP).
    type: str
  name:
    description: The machine's name in the file; crashplan's default is the host name.
    type: str
author:
  - crashplan contributors
"""

EXAMPLES = r"""
- name: Snapshot each host into /var/lib/crashplan
  crashplan.kdump.crashplan_snapshot:
    dest: /var/lib/crashplan/machine.yaml
    name: "{{ inventory_hostname }}"

- name: Use a machine file captured earlier instead of probing
  crashplan.kdump.crashplan_snapshot:
    machine: /srv/machines/db1.yaml
    name: db1
"""

RETURN = r"""
content:
  description: The machine file (YAML, schema C(crashplan/machine@1)).
  returned: always
  type: str
path:
  description: Where the file is kept on the host (O(dest)), or null.
  returned: always
  type: str
machine:
  description: >-
    The fields of the file that name the machine: name, arch, kernel, layout_known (false when the map
    has no addresses) and system_ram (bytes of RAM in the map; null without PyYAML on the host).
  returned: always
  type: dict
ansible_facts:
  description: C(crashplan_machine), the same as RV(machine) plus RV(content) and RV(path).
  returned: always
  type: dict
"""

import os
import re
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.crashplan.kdump.plugins.module_utils.crashplan import crashplan_command, run_crashplan


def _summary(text):
    """Name, arch, kernel and RAM of a machine file: the YAML is parsed when PyYAML is there."""
    out = {"name": None, "arch": None, "kernel": None, "layout_known": None, "system_ram": None}
    try:
        import yaml
    except ImportError:  # crashplan_bin on a host whose module interpreter has no PyYAML
        for key in ("name", "arch", "kernel"):
            m = re.search(r'^%s:\s*"?([^"\n]*)"?\s*$' % key, text, re.M)
            out[key] = m.group(1) if m else None
        return out
    doc = yaml.safe_load(text) or {}
    for key in ("name", "arch", "kernel"):
        out[key] = None if doc.get(key) is None else str(doc.get(key))
    memory = doc.get("memory") or {}
    ram = memory.get("ram")
    out["layout_known"] = bool(ram) and memory.get("layout") != "unknown"
    out["system_ram"] = _size(doc.get("system_ram"))
    if out["system_ram"] is None and ram:
        spans = list(ram) + list(memory.get("nomap") or [])
        out["system_ram"] = sum(int(r["end"]) - int(r["start"]) for r in spans)
    return out


def _size(value):
    """A machine file's size (an integer, or digits with K/M/G/T: docs/machine-format.md) in bytes."""
    if value is None:
        return None
    m = re.match(r"^(\d+)([KMGT]?)$", str(value).strip())
    if not m:
        return None
    return int(m.group(1)) << (10 * " KMGT".index(m.group(2) or " "))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dest=dict(type="path"),
            machine=dict(type="path"),
            iomem=dict(type="path"),
            boot_log=dict(type="path"),
            arch=dict(type="str"),
            name=dict(type="str"),
            crashplan_bin=dict(type="str"),
        ),
        mutually_exclusive=[("machine", "iomem", "boot_log")],
        supports_check_mode=True,
    )
    p = module.params
    cmd = crashplan_command(module)
    workdir = tempfile.mkdtemp(prefix="crashplan-snapshot-")
    tmp = os.path.join(workdir, "machine.yaml")
    args = ["snapshot", "-o", tmp]
    for opt in ("machine", "iomem", "boot_log", "arch", "name"):
        if p[opt]:
            args += ["--" + opt.replace("_", "-"), p[opt]]
    try:
        rc, out, err = run_crashplan(module, cmd, args)
        with open(tmp, encoding="utf-8") as f:
            content = f.read()
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
        os.rmdir(workdir)
    for line in (err or "").splitlines():
        if line.strip():
            module.warn(line.strip())

    changed = False
    if p["dest"]:
        try:
            with open(p["dest"], encoding="utf-8") as f:
                changed = f.read() != content
        except (IOError, OSError):
            changed = True
        if changed and not module.check_mode:
            d = os.path.dirname(os.path.abspath(p["dest"]))
            if not os.path.isdir(d):
                module.fail_json(msg="the directory of dest %s does not exist" % p["dest"])
            fd, staged = tempfile.mkstemp(prefix=".machine.", suffix=".tmp", dir=d)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(content)
            module.atomic_move(staged, p["dest"])

    machine = _summary(content)
    facts = dict(machine, content=content, path=p["dest"])
    module.exit_json(changed=changed, content=content, path=p["dest"], machine=machine,
                     ansible_facts={"crashplan_machine": facts})


if __name__ == "__main__":
    main()
