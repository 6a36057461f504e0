# -*- coding: utf-8 -*-
# GNU General Public License v2.0 or later (see COPYING or https://www.gnu.org/licenses/gpl-2.0.txt)
"""What the modules that run the crashplan CLI share (snapshot, check, plan): where the CLI is, its
requirement, and their full check-mode support."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  crashplan_bin:
    description:
      - The crashplan command on the managed host, a name looked up on E(PATH) or a path.
      - When not set, the module runs C(python -m crashplan) with the interpreter it runs under
        (C(ansible_python_interpreter)) if crashplan is installed for that interpreter, else
        C(crashplan) found on E(PATH).
    type: str
requirements:
  - crashplan installed on the managed host (the same version as this collection)
attributes:
  check_mode:
    support: full
"""
