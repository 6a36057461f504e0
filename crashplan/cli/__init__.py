"""The ``crashplan`` command: a thin, lazily loaded shell around the pure core.

Only click and the standard library are imported here.  Each subcommand lives in its own module
and is imported when it runs; rich and yaml are imported only by code that renders text or reads
YAML, so ``--format json`` paths never pay for them.

Exit codes (docs/cli.md):

==== =====================================================================
0    fine
1    the kernel would reserve nothing, or a problem was found
2    usage or input error (bad option, unreadable or malformed file)
3    internal error (a bug: please report it; ``--traceback`` shows it)
4    ``status`` only: kdump is at risk (docs/status.md)
130  interrupted
==== =====================================================================
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from enum import IntEnum
from typing import Any, NoReturn

import click

from crashplan import __version__
from crashplan.cli.examples import epilog as _epilog

__all__ = ["ExitStatus", "cli", "main", "run"]


class ExitStatus(IntEnum):
    OK = 0
    FINDINGS = 1
    USAGE = 2
    INTERNAL = 3
    AT_RISK = 4  # crashplan status only: kdump may work, but something is off (docs/status.md)
    INTERRUPTED = 130


# command name -> "module:attribute"; loaded only when the command runs (or --help lists it)
COMMANDS = {
    "check": ("crashplan.cli.check_cmd:check",
              "Replay the kernel's parsing and reservation of crashkernel= parameters."),
    "suggest": ("crashplan.cli.suggest_cmd:suggest",
                "Recommend crashkernel= sizes: classic and CMA plans side by side."),
    "lint": ("crashplan.cli.lint_cmd:lint", "Check boot-loader configurations for crashkernel= problems (CI)."),
    "rules": ("crashplan.cli.lint_cmd:rules", "List and explain the lint rules."),
    "snapshot": ("crashplan.cli.snapshot_cmd:snapshot", "Write this machine's description as a machine file."),
    "fleet": ("crashplan.cli.fleet_cmd:fleet", "Plan and check one crashkernel= line over many machine files."),
    "status": ("crashplan.cli.status_cmd:status", "Say whether kdump is ready here and the reservation is enough."),
}


class LazyGroup(click.Group):
    """click's documented lazy-loading group: subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = COMMANDS.get(cmd_name)
        if spec is None:
            return None
        module_name, attr = spec[0].split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:  # a command not built yet
            if e.name == module_name:
                return None
            raise
        cmd = getattr(module, attr)
        assert isinstance(cmd, click.Command)
        if cmd.epilog is None:
            from crashplan.cli.examples import epilog

            cmd.epilog = epilog(cmd_name)
        return cmd

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
             epilog=(_epilog("") or "") + "\n\nShell completion: eval \"$(_CRASHPLAN_COMPLETE=bash_source crashplan)\" "
                    "(zsh_source, fish_source); see docs/cli.md.")
@click.version_option(__version__, "--version", prog_name="crashplan")
@click.option("--traceback", is_flag=True, hidden=True, help="Show the Python traceback of internal errors.")
@click.pass_context
def cli(ctx: click.Context, traceback: bool) -> None:
    """Size, check and lint Linux kdump crashkernel= reservations exactly as the kernel does."""
    ctx.ensure_object(dict)
    ctx.obj["traceback"] = traceback


def _printable(message: str) -> str:
    # files are read with surrogateescape: an undecodable byte quoted in an error (a kernel release
    # taken from a boot log, a line of a machine file) prints as the escape \udcXX instead of making
    # the strict UTF-8 encoder of stderr fail
    return message.encode("utf-8", "backslashreplace").decode("utf-8")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (never raises, never prints a traceback)."""
    from crashplan.errors import CrashplanError

    args = sys.argv[1:] if argv is None else argv
    show_tb = "--traceback" in args or os.environ.get("CRASHPLAN_TRACEBACK") == "1"
    try:
        rv: Any = cli.main(args=args, prog_name="crashplan", standalone_mode=False)
    except click.exceptions.Exit as e:
        return int(e.exit_code)
    except click.ClickException as e:
        e.message = _printable(e.message)  # type: ignore[misc]  # Final in click's stubs, a plain attribute at run time
        e.show()
        return ExitStatus.USAGE if e.exit_code == 2 else int(e.exit_code)
    except click.Abort:
        click.echo("crashplan: interrupted", err=True)
        return ExitStatus.INTERRUPTED
    except KeyboardInterrupt:
        click.echo("crashplan: interrupted", err=True)
        return ExitStatus.INTERRUPTED
    except CrashplanError as e:
        click.echo(_printable(f"crashplan: error: {e}"), err=True)
        return ExitStatus.USAGE
    except BrokenPipeError:
        # the reader went away (| head): not an error of ours
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
        return ExitStatus.OK
    except Exception as e:
        if show_tb:
            raise
        click.echo(_printable(
            f"crashplan: internal error: {type(e).__name__}: {e} (re-run with --traceback and report it)"), err=True)
        return ExitStatus.INTERNAL
    return int(rv) if isinstance(rv, int) else ExitStatus.OK


def run() -> NoReturn:
    """The ``crashplan`` console script and ``python -m crashplan``: :func:`main`, then exit.

    A command is one short process.  Before the interpreter exits, its finalisation runs a full garbage
    collection over every object the imports created (site's, click's, rich's, crashplan's), although
    nothing it could free matters once the process ends.  ``gc.freeze()`` moves those objects out of the
    collector's view: before the command (its own collections no longer walk the startup objects) and
    after it (the final one walks nothing).  Reference counting still frees everything and every
    finaliser and ``atexit`` handler still runs; only the cyclic collector's walks are saved, about 12 ms
    of a 100 ms ``check`` (docs/benchmarks.md).  :func:`main` itself leaves the collector alone: tests
    and library callers run many commands in one process.
    """
    import gc

    gc.freeze()
    status = main()
    gc.freeze()
    sys.exit(status)
