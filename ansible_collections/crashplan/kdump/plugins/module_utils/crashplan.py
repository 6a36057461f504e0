# -*- coding: utf-8 -*-
# GNU General Public License v2.0 or later (see COPYING or https://www.gnu.org/licenses/gpl-2.0.txt)
"""Shared by the crashplan.kdump modules: find the crashplan CLI on the managed host and run it.

The modules never import crashplan: they run its command line, so that the host's crashplan (any
install method) is the one that answers, and its exit codes and versioned JSON documents are the
interface (0 fine, 1 problem found, 2 usage or input error, 3 internal error).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import json
import os
import sys

def crashplan_command(module):
    """The argv prefix that runs crashplan on this host (a list), or fail the task saying why."""
    wanted = module.params.get("crashplan_bin")
    if wanted:
        if os.sep in wanted:
            if not os.access(wanted, os.X_OK):
                module.fail_json(msg="crashplan_bin %s is not an executable file" % wanted)
            return [wanted]
        return [module.get_bin_path(wanted, required=True)]
    if importlib.util.find_spec("crashplan") is not None:
        return [sys.executable, "-m", "crashplan"]
    found = module.get_bin_path("crashplan")
    if found:
        return [found]
    module.fail_json(msg="crashplan is not installed on this host: neither %s -m crashplan nor crashplan on PATH "
                         "works (pip install crashplan, or set crashplan_bin)" % sys.executable)
    return None  # not reached: fail_json exits


def run_crashplan(module, cmd, args, ok=(0,)):
    """Run ``crashplan ARGS``; return (rc, stdout, stderr).  Fails the task on an rc outside ``ok``."""
    argv = list(cmd) + list(args)
    rc, out, err = module.run_command(argv, environ_update={"NO_COLOR": "1", "COLUMNS": "100"})
    if rc not in ok:
        module.fail_json(msg="crashplan failed (exit status %d): %s" % (rc, (err or out).strip()),
                         rc=rc, cmd=argv, stdout=out, stderr=err)
    return rc, out, err


def run_json(module, cmd, args, schema, ok=(0, 1)):
    """Run a ``--format json`` command and return (rc, document); the document's schema must match."""
    rc, out, err = run_crashplan(module, cmd, args, ok=ok)
    try:
        doc = json.loads(out)
    except ValueError:
        module.fail_json(msg="crashplan printed no JSON document (exit status %d): %s" % (rc, (err or out)[:500]),
                         rc=rc, cmd=list(cmd) + list(args), stdout=out, stderr=err)
    if not isinstance(doc, dict) or doc.get("schema") != schema:
        module.fail_json(msg="crashplan printed %r, expected a %s document: is crashplan too old?"
                             % (doc.get("schema") if isinstance(doc, dict) else type(doc).__name__, schema),
                         rc=rc, cmd=list(cmd) + list(args))
    return rc, doc
