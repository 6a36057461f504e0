#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v2.0 or later (see COPYING or https://www.gnu.org/licenses/gpl-2.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: crashplan_apply
short_description: Put a crashkernel= line on the host's boot command line with its boot-loader tool
description:
  - Applies crashkernel= parameters the way C(crashplan suggest) prints it for the host's boot loader
    (crashplan/sizing/apply.py), with the tool the host has.
  - C(grubby) (Fedora, RHEL and relatives, BLS entries) runs C(grubby --update-kernel=ALL --args=LINE),
    then reads C(grubby --info=ALL) back and fails unless every entry holds exactly the line's
    crashkernel= parameters.
  - C(grub-drop-in) (Debian, Ubuntu; C(update-grub)) writes C(/etc/default/grub.d/kdump-crashplan.cfg),
    which removes earlier crashkernel= parameters and adds the line, moves kdump-tools' own
    C(/etc/default/grub.d/kdump-tools.cfg) aside with C(dpkg-divert) when it exists (it is read later
    and would win), and runs C(update-grub).
  - Nothing runs when the boot configuration already holds the line. In check mode the module only
    reports whether it would change it. Other boot loaders fail the task with the line to add by hand.
  - The new reservation takes effect at the next boot.
version_added: 0.1.0
options:
  line:
    description: The crashkernel= parameters to set (they replace every crashkernel= already there).
    type: str
    required: true
  method:
    description: The boot-loader tool; C(auto) takes C(grubby) when it is on E(PATH), else C(update-grub).
    type: str
    choices: [auto, grubby, grub-drop-in]
    default: auto
attributes:
  check_mode:
    support: full
author:
  - crashplan contributors
"""

EXAMPLES = r"""
- name: Apply the fleet's line
  crashplan.kdump.crashplan_apply:
    line: "{{ crashplan_plan.cmdline }}"
  become: true
"""

RETURN = r"""
method:
  description: The tool used (C(grubby) or C(grub-drop-in)).
  returned: always
  type: str
commands:
  description: The commands run (or that would run, in check mode).
  returned: always
  type: list
  elements: str
"""

import os
import re
import shlex

from ansible.module_utils.basic import AnsibleModule

DROP_IN = "/etc/default/grub.d/kdump-crashplan.cfg"  # the path crashplan/sizing/apply.py prints
KDUMP_TOOLS_CFG = "/etc/default/grub.d/kdump-tools.cfg"
_TOKEN = re.compile(r"(?:^|\s)(crashkernel=\S*)")


def drop_in(line):
    """The GRUB drop-in of crashplan/sizing/apply.py (method grub-drop-in) for ``line``."""
    strip = "sed -E 's/(^|[[:space:]])crashkernel=[^[:space:]]*//g'"
    return (
        "# crashkernel= for the kdump capture kernel, from `crashplan fleet plan`.\n"
        "# Earlier crashkernel= parameters are removed: the kernel uses the last one of each kind.\n"
        'GRUB_CMDLINE_LINUX="$(printf \'%s\' "$GRUB_CMDLINE_LINUX" | ' + strip + ')"\n'
        'GRUB_CMDLINE_LINUX_DEFAULT="$(printf \'%s\' "$GRUB_CMDLINE_LINUX_DEFAULT" | ' + strip + ") " + line + '"\n'
    )


def grubby_entries(module, grubby):
    """The crashkernel= parameters of each boot entry, from ``grubby --info=ALL``."""
    rc, out, err = module.run_command([grubby, "--info=ALL"])
    if rc != 0:
        module.fail_json(msg="grubby --info=ALL failed: %s" % (err or out).strip(), rc=rc)
    entries = []
    for raw in out.splitlines():
        if raw.startswith("args="):
            args = raw[len("args="):].strip().strip('"')
            entries.append(_TOKEN.findall(args))
    return entries


def main():
    module = AnsibleModule(
        argument_spec=dict(
            line=dict(type="str", required=True),
            method=dict(type="str", default="auto", choices=["auto", "grubby", "grub-drop-in"]),
        ),
        supports_check_mode=True,
    )
    line = " ".join(module.params["line"].split())
    tokens = _TOKEN.findall(line)
    if not tokens or len(tokens) != len(line.split()):
        module.fail_json(msg="line %r must hold crashkernel= parameters only" % line)
    method = module.params["method"]
    grubby = module.get_bin_path("grubby") if method in ("auto", "grubby") else None
    update_grub = module.get_bin_path("update-grub") if method in ("auto", "grub-drop-in") else None
    if method == "auto":
        method = "grubby" if grubby else "grub-drop-in" if update_grub else None
    if method is None:
        module.fail_json(msg="no boot-loader tool crashplan knows (grubby, update-grub) on this host: add %s to the "
                             "kernel command line where its boot loader keeps it, removing older crashkernel= "
                             "parameters" % line)

    if method == "grubby":
        if not grubby:
            module.fail_json(msg="grubby is not on PATH")
        commands = ["%s --update-kernel=ALL --args=%s" % (grubby, shlex.quote(line))]
        entries = grubby_entries(module, grubby)
        changed = not entries or any(e != tokens for e in entries)
        if changed and not module.check_mode:
            rc, out, err = module.run_command([grubby, "--update-kernel=ALL", "--args=" + line])
            if rc != 0:
                module.fail_json(msg="grubby failed: %s" % (err or out).strip(), rc=rc, commands=commands)
            after = grubby_entries(module, grubby)
            wrong = [e for e in after if e != tokens]
            if not after or wrong:
                module.fail_json(msg="after grubby the boot entries hold %s, not %s: fix them by hand"
                                     % (" | ".join(" ".join(e) or "no crashkernel=" for e in wrong or [[]]), line),
                                 commands=commands)
        module.exit_json(changed=changed, method=method, commands=commands if changed else [],
                         msg=("would set " if module.check_mode else "set ") + line if changed else line + " is set")

    if not update_grub:
        module.fail_json(msg="update-grub is not on PATH")
    content = drop_in(line)
    try:
        with open(DROP_IN, encoding="utf-8") as f:
            changed = f.read() != content
    except (IOError, OSError):
        changed = True
    divert = os.path.exists(KDUMP_TOOLS_CFG)
    commands = ["write " + DROP_IN]
    if divert:
        commands.append("dpkg-divert --local --rename --divert %s.disabled --add %s" % (KDUMP_TOOLS_CFG, KDUMP_TOOLS_CFG))
    commands.append(update_grub)
    changed = changed or divert
    if changed and not module.check_mode:
        d = os.path.dirname(DROP_IN)
        if not os.path.isdir(d):
            os.makedirs(d, 0o755)
        staged = DROP_IN + ".crashplan-tmp"
        with open(staged, "w", encoding="utf-8") as f:
            f.write(content)
        module.atomic_move(staged, DROP_IN)
        if divert:
            module.run_command(["dpkg-divert", "--local", "--rename", "--divert", KDUMP_TOOLS_CFG + ".disabled",
                                "--add", KDUMP_TOOLS_CFG], check_rc=True)
        module.run_command([update_grub], check_rc=True)
    module.exit_json(changed=changed, method=method, commands=commands if changed else [],
                     msg=("would set " if module.check_mode else "set ") + line if changed else line + " is set")


if __name__ == "__main__":
    main()
