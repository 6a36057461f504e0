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
  - C(grub-drop-in) (Debian, Ubuntu; C(update-grub)) writes O(grub_drop_in),
    which removes earlier crashkernel= parameters and adds the line, moves kdump-tools' own
    C(/etc/default/grub.d/kdump-tools.cfg) aside with C(dpkg-divert) when it exists (it is read later
    and would win), and runs C(update-grub).
  - C(grub-mkconfig) (SUSE and other GRUB systems without grubby or update-grub) removes crashkernel= from
    C(GRUB_CMDLINE_LINUX) and C(GRUB_CMDLINE_LINUX_DEFAULT) in O(grub_default), adds the line to the last
    C(GRUB_CMDLINE_LINUX_DEFAULT), and runs C(grub2-mkconfig -o) O(grub_cfg) (or C(grub-mkconfig)).
  - Nothing runs when the boot configuration already holds the line. In check mode the module only
    reports whether it would change it. Other boot loaders (zipl, rpm-ostree, extlinux, Raspberry Pi
    C(cmdline.txt)) fail the task with the line to add by hand.
  - The new reservation takes effect at the next boot.
version_added: 0.1.0
options:
  line:
    description: The crashkernel= parameters to set (they replace every crashkernel= already there).
    type: str
    required: true
  method:
    description:
      - The boot-loader tool. C(auto) takes the first on E(PATH) of C(grubby), C(update-grub),
        C(grub2-mkconfig) and C(grub-mkconfig).
    type: str
    choices: [auto, grubby, grub-drop-in, grub-mkconfig]
    default: auto
  grub_drop_in:
    description:
      - The file the C(grub-drop-in) method writes; C(kdump-tools.cfg) is looked for in its directory.
    type: path
    default: /etc/default/grub.d/kdump-crashplan.cfg
  grub_default:
    description: The GRUB defaults file the C(grub-mkconfig) method edits.
    type: path
    default: /etc/default/grub
  grub_cfg:
    description:
      - Where the C(grub-mkconfig) method writes C(grub.cfg). Default C(/boot/grub2/grub.cfg) with
        C(grub2-mkconfig) (as C(crashplan suggest) prints for SUSE), C(/boot/grub/grub.cfg) with C(grub-mkconfig).
    type: path
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
  description: The method used (C(grubby), C(grub-drop-in) or C(grub-mkconfig)).
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


def _done(module, method, line, changed, commands):
    module.exit_json(changed=changed, method=method, commands=commands if changed else [],
                     msg=(("would set " if module.check_mode else "set ") + line) if changed else line + " is set")


def apply_grubby(module, grubby, line, tokens):
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
    _done(module, "grubby", line, changed, commands)


def _replace(module, path, content):
    """Replace ``path`` atomically (atomic_move keeps an existing file's mode and owner)."""
    d = os.path.dirname(path)
    if not os.path.isdir(d):
        os.makedirs(d, 0o755)
    staged = os.path.join(d, ".%s.crashplan-tmp" % os.path.basename(path))
    with open(staged, "w", encoding="utf-8") as f:
        f.write(content)
    module.atomic_move(staged, path)


def apply_drop_in(module, update_grub, line):
    path = module.params["grub_drop_in"]
    kdump_tools = os.path.join(os.path.dirname(path), os.path.basename(KDUMP_TOOLS_CFG))
    content = drop_in(line)
    try:
        with open(path, encoding="utf-8") as f:
            changed = f.read() != content
    except (IOError, OSError):
        changed = True
    divert = os.path.exists(kdump_tools)
    commands = ["write " + path]
    if divert:
        commands.append("dpkg-divert --local --rename --divert %s.disabled --add %s" % (kdump_tools, kdump_tools))
    commands.append(update_grub)
    changed = changed or divert
    if changed and not module.check_mode:
        _replace(module, path, content)
        if divert:
            module.run_command([module.get_bin_path("dpkg-divert", required=True), "--local", "--rename", "--divert",
                                kdump_tools + ".disabled", "--add", kdump_tools], check_rc=True)
        module.run_command([update_grub], check_rc=True)
    _done(module, "grub-drop-in", line, changed, commands)


_CMDLINE_VAR = re.compile(r"""^(\s*(?:export\s+)?(GRUB_CMDLINE_LINUX(?:_DEFAULT)?)=)(["']?)(.*?)\3(\s*(?:#.*)?)$""")


def edit_grub_default(text, line):
    """``/etc/default/grub`` with every crashkernel= removed from GRUB_CMDLINE_LINUX(_DEFAULT) and
    ``line`` added to the last GRUB_CMDLINE_LINUX_DEFAULT (appended when there is none)."""
    lines = text.splitlines(True)
    last_default = None
    for i, raw in enumerate(lines):
        m = _CMDLINE_VAR.match(raw.rstrip("\n"))
        if not m:
            continue
        kept = [t for t in m.group(4).split() if not t.startswith("crashkernel=")]
        if len(kept) != len(m.group(4).split()):  # lines without crashkernel= stay as they are
            quote = m.group(3) or '"'
            lines[i] = "%s%s%s%s%s\n" % (m.group(1), quote, " ".join(kept), quote, m.group(5))
        if m.group(2) == "GRUB_CMDLINE_LINUX_DEFAULT":
            last_default = i
    if last_default is None:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        lines.append('GRUB_CMDLINE_LINUX_DEFAULT="%s"\n' % line)
    else:
        m = _CMDLINE_VAR.match(lines[last_default].rstrip("\n"))
        value = " ".join(m.group(4).split() + line.split())
        quote = m.group(3) or '"'
        lines[last_default] = "%s%s%s%s%s\n" % (m.group(1), quote, value, quote, m.group(5))
    return "".join(lines)


def apply_grub_mkconfig(module, mkconfig, line):
    path = module.params["grub_default"]
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (IOError, OSError) as e:
        module.fail_json(msg="cannot read %s: %s" % (path, e))
    new = edit_grub_default(text, line)
    cfg = module.params["grub_cfg"] or ("/boot/grub2/grub.cfg" if "grub2" in os.path.basename(mkconfig)
                                        else "/boot/grub/grub.cfg")
    commands = ["edit GRUB_CMDLINE_LINUX_DEFAULT in " + path, "%s -o %s" % (mkconfig, cfg)]
    changed = new != text
    if changed and not module.check_mode:
        _replace(module, path, new)
        module.run_command([mkconfig, "-o", cfg], check_rc=True)
    _done(module, "grub-mkconfig", line, changed, commands)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            line=dict(type="str", required=True),
            method=dict(type="str", default="auto", choices=["auto", "grubby", "grub-drop-in", "grub-mkconfig"]),
            grub_default=dict(type="path", default="/etc/default/grub"),
            grub_drop_in=dict(type="path", default=DROP_IN),
            grub_cfg=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    line = " ".join(module.params["line"].split())
    tokens = _TOKEN.findall(line)
    if not tokens or len(tokens) != len(line.split()):
        module.fail_json(msg="line %r must hold crashkernel= parameters only" % line)
    method = module.params["method"]
    tools = {
        "grubby": module.get_bin_path("grubby") if method in ("auto", "grubby") else None,
        "grub-drop-in": module.get_bin_path("update-grub") if method in ("auto", "grub-drop-in") else None,
        "grub-mkconfig": (module.get_bin_path("grub2-mkconfig") or module.get_bin_path("grub-mkconfig"))
        if method in ("auto", "grub-mkconfig") else None,
    }
    if method == "auto":
        method = next((m for m in ("grubby", "grub-drop-in", "grub-mkconfig") if tools[m]), None)
        if method is None:
            module.fail_json(msg="no boot-loader tool crashplan knows (grubby, update-grub, grub2-mkconfig, "
                                 "grub-mkconfig) on this host: add %s to the kernel command line where its boot "
                                 "loader keeps it, removing older crashkernel= parameters" % line)
    if not tools[method]:
        module.fail_json(msg="%s is not on PATH" % {"grubby": "grubby", "grub-drop-in": "update-grub",
                                                    "grub-mkconfig": "grub2-mkconfig or grub-mkconfig"}[method])
    if method == "grubby":
        apply_grubby(module, tools[method], line, tokens)
    elif method == "grub-drop-in":
        apply_drop_in(module, tools[method], line)
    else:
        apply_grub_mkconfig(module, tools[method], line)


if __name__ == "__main__":
    main()
