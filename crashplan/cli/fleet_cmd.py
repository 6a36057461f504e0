"""``crashplan fleet``: plan and check one crashkernel= line over many machine files.

This module finds and reads the machine files (a process per CPU for large fleets), reports
unreadable ones per file and hands the machines to the pure core :mod:`crashplan.fleet`.  The
contract (options, JSON fields, exit codes) is in docs/fleet.md.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import click

from crashplan.cli.examples import epilog

if TYPE_CHECKING:
    from multiprocessing.pool import Pool

    from crashplan.memmap.model import Machine

__all__ = ["find_snapshots", "fleet", "load_snapshot"]

_PARALLEL_MIN = 400  # fewer files than this are read in this process: starting workers costs more
_CHUNK = 250
_SEEN_MAX = 4096  # machines kept for reuse per process (a machine file's Machine is a few KiB)


# ---------------------------------------------------------------------------------------------
# finding and reading snapshots


def find_snapshots(paths: Sequence[str]) -> Iterator[str]:
    """Each path as given; directories walked recursively (sorted) for *.yaml and *.yml, hidden ones
    skipped.  A path that does not exist is yielded as is: reading it reports the error."""
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for f in sorted(files):
                    if f.endswith((".yaml", ".yml")) and not f.startswith("."):
                        yield os.path.join(root, f)
        else:
            yield p


# A machine file that differs from one already read only in its top-level ``name:`` (and
# ``provenance:``) line describes the same machine: its Machine is reused with the new name.  Only a
# plain one-line scalar is taken this way (anything else goes through the full, strict reader).
_IDENTITY = re.compile(r'^(name|provenance): *("(?:[^"\\\n]|\\.)*"|[A-Za-z0-9_./@+-][^\n#&*!|>\'"{}\[\],]*)[ \t]*\n',
                       re.MULTILINE)


def _unquote(v: str) -> str | None:
    """The text of a one-line name/provenance value as the machine-file reader takes it, or None when
    that is not plainly the text written (escapes; YAML's null spellings, which it reads as no value)."""
    v = v.strip()
    if v in ("~", "null", "Null", "NULL"):
        return None
    if v.startswith('"'):
        body = v[1:-1]
        if "\\" in body:
            return None  # escapes: let the full reader decode them
        return body
    return v


def split_identity(text: str) -> tuple[str | None, dict[str, str]]:
    """(the text without its top-level one-line ``name:``/``provenance:`` lines, their values), or
    (None, {}) when the file has none or they are not plain one-line values."""
    if not text.startswith(("schema:", "#")):
        return None, {}
    ident: dict[str, str] = {}
    parts = []
    pos = 0
    for mt in _IDENTITY.finditer(text):
        val = _unquote(mt.group(2))
        if val is None or mt.group(1) in ident:
            return None, {}
        ident[mt.group(1)] = val
        parts.append(text[pos:mt.start()])
        pos = mt.end()
    if not ident:
        return None, {}
    parts.append(text[pos:])
    return "".join(parts), ident


class _SnapshotReader:
    """Reads machine files, reusing the Machine of a file whose content (identity lines aside) was seen."""

    def __init__(self) -> None:
        self.seen: dict[str, Machine] = {}

    def load(self, path: str) -> Any:
        from crashplan.cli.probe import read_text
        from crashplan.memmap.machine import load_machine

        text = read_text(path)
        stripped, ident = split_identity(text)
        if stripped is not None:
            hit = self.seen.get(stripped)
            if hit is not None:
                return hit.replace(name=ident.get("name", hit.name),
                                   provenance=ident.get("provenance", hit.provenance))
        m = load_machine(text, source=path)
        if (stripped is not None and m.name == ident.get("name", m.name)
                and m.provenance == ident.get("provenance", m.provenance)):
            if len(self.seen) >= _SEEN_MAX:  # bounded memory: start over
                self.seen.clear()
            self.seen[stripped] = m
        return m


def load_snapshot(reader: _SnapshotReader, path: str) -> Any:
    """(Entry or FleetError) for one path."""
    from crashplan.errors import InputError
    from crashplan.fleet import Entry, FleetError

    try:
        m = reader.load(path)
    except InputError as e:
        return FleetError(file=path, message=e.message, line=e.line, column=e.column)
    name = m.name or os.path.splitext(os.path.basename(path))[0]
    return Entry(name=name, file=path, machine=m)


# ---------------------------------------------------------------------------------------------
# workers (check): each reads its files and replays the line, returning small verdicts


_W: dict[str, Any] = {}


def _init_worker(params: str, exclude: tuple[str, ...]) -> None:
    from crashplan.fleet import Cache

    _W.update(params=params, exclude=exclude, cache=Cache(), reader=_SnapshotReader())


def _check_chunk(chunk: list[tuple[int, str]]) -> list[tuple[int, Any]]:
    from crashplan.fleet import FleetError, is_excluded, judge
    from crashplan.memmap.model import paused_gc

    out = []
    with paused_gc():
        for i, path in chunk:
            got = load_snapshot(_W["reader"], path)
            if not isinstance(got, FleetError):
                got = judge(_W["params"], got, cache=_W["cache"], excluded=is_excluded(got, _W["exclude"]))
            out.append((i, got))
    return out


def _jobs(n_files: int, jobs: int | None) -> int:
    if jobs is not None:
        return max(1, jobs)
    if n_files < _PARALLEL_MIN:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 8))


class _ProgressBar:
    """A progress bar on stderr (rich, imported only here) when asked or when stderr is a terminal."""

    def __init__(self, total: int, label: str, enabled: bool | None) -> None:
        self.bar: Any = None
        on = sys.stderr.isatty() if enabled is None else enabled
        if on and total > 0:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            from crashplan.output.terminal import Terminal

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TimeRemainingColumn(), console=Terminal.stderr_console(), transient=True)
            self.task = self.bar.add_task(label, total=total)
            self.bar.start()

    def advance(self, n: int = 1) -> None:
        if self.bar is not None:
            self.bar.advance(self.task, n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _digest_chunk(chunk: list[tuple[int, str]]) -> list[tuple[int, Any]]:
    """Phase 1 (workers): read each file; its content key (a digest of the text without the identity
    lines) and identity, or the FleetError that reading it gave."""
    import hashlib

    from crashplan.cli.probe import read_text
    from crashplan.errors import InputError
    from crashplan.fleet import FleetError

    out: list[tuple[int, Any]] = []
    for i, path in chunk:
        try:
            text = read_text(path)
        except InputError as e:
            out.append((i, FleetError(file=path, message=e.message, line=e.line, column=e.column)))
            continue
        stripped, ident = split_identity(text)
        if stripped is None:
            key: Any = ("file", i)  # compared with nothing: read in full
        else:
            key = hashlib.blake2b(stripped.encode("utf-8", "surrogateescape"), digest_size=16).digest()
        out.append((i, (key, ident)))
    return out


def _judge_chunk(chunk: list[tuple[int, str]]) -> list[tuple[int, Any]]:
    """Phase 2 (workers): load and replay one file of each distinct content (never excluded here)."""
    from crashplan.fleet import FleetError, judge
    from crashplan.memmap.model import paused_gc

    out = []
    with paused_gc():
        for i, path in chunk:
            got = load_snapshot(_W["reader"], path)
            if not isinstance(got, FleetError):
                got = judge(_W["params"], got, cache=_W["cache"])
            out.append((i, got))
    return out


def _pool(n: int, params: str, exclude: tuple[str, ...]) -> Pool:
    import multiprocessing

    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
    return ctx.Pool(n, initializer=_init_worker, initargs=(params, exclude))


def _chunks(items: list[tuple[int, str]], n: int) -> list[list[tuple[int, str]]]:
    size = max(1, min(_CHUNK, -(-len(items) // (4 * n))))
    return [items[i:i + size] for i in range(0, len(items), size)]


def _run_check(params: str, files: list[str], exclude: tuple[str, ...], jobs: int | None,
               progress: _ProgressBar) -> tuple[list[Any], list[Any]]:
    """Verdicts (in input order) and errors.  One process: read and replay file by file (the reader
    and the core's cache skip repeated content).  Several: first every file is read and keyed by its
    content in parallel; then one file of each distinct content is loaded and replayed, spread over
    the workers, so that no machine is replayed twice; its verdict is given to the others under
    their own names."""
    from dataclasses import replace

    from crashplan.fleet import FleetError, excluded_name, excluded_verdict

    indexed = list(enumerate(files))
    results: list[Any] = [None] * len(files)
    n = _jobs(len(files), jobs)
    if n == 1:
        _init_worker(params, exclude)
        for c in _chunks(indexed, 1):
            for i, r in _check_chunk(c):
                results[i] = r
            progress.advance(len(c))
    else:
        with _pool(n, params, exclude) as pool:
            keyed: list[Any] = [None] * len(files)
            for part in pool.imap_unordered(_digest_chunk, _chunks(indexed, n)):
                for i, r in part:
                    keyed[i] = r
            rep: dict[Any, int] = {}
            for i, k in enumerate(keyed):
                if not isinstance(k, FleetError):
                    rep.setdefault(k[0], i)
                else:
                    results[i] = k
            firsts = sorted(rep.values())
            done: dict[int, Any] = {}
            todo = [(i, files[i]) for i in firsts]
            while todo:
                for part in pool.imap_unordered(_judge_chunk, _chunks(todo, n)):
                    done.update(part)
                    progress.advance(len(part))
                # a representative that could not be read, or whose name the reader did not take as
                # written (a name such as null or ~): read every file of its content on its own (each
                # error names its own file and position)
                todo = []
                for i, k in enumerate(keyed):
                    if isinstance(k, FleetError) or i in done:
                        continue
                    first = rep[k[0]]
                    r = done[first]  # every representative was replayed in an earlier round
                    said = keyed[first][1].get("name")
                    if isinstance(r, FleetError) or (said is not None and r.name != said):
                        todo.append((i, files[i]))
                        rep[("file", i)] = i
                        keyed[i] = (("file", i), k[1])
        for i, k in enumerate(keyed):
            if isinstance(k, FleetError):
                continue
            key, ident = k
            r = done[rep[key]]
            if isinstance(r, FleetError):
                results[i] = r
                continue
            if i != rep[key]:
                name = ident.get("name") or os.path.splitext(os.path.basename(files[i]))[0]
                r = replace(r, name=name, file=files[i])
            if exclude and excluded_name(r.name, r.file, exclude):
                r = excluded_verdict(r)
            results[i] = r
    verdicts = [r for r in results if not isinstance(r, FleetError)]
    errors = [r for r in results if isinstance(r, FleetError)]
    return verdicts, errors


# ---------------------------------------------------------------------------------------------
# output


def _safe(text: str) -> str:
    # files are read with surrogateescape: an undecodable byte quoted in a message is written as the
    # escape \udcXX instead of failing the strict UTF-8 encoder
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _write(chunks: Iterable[str], output: str | None, color: bool = False) -> None:
    """To stdout, or to ``output`` atomically as the chunks come (:func:`iter_json` streams a
    100,000-machine document item by item): a reader never sees half a report."""
    if output is None:
        for c in chunks:
            click.echo(_safe(c), nl=False, color=color)
        return
    from crashplan.cli.options import write_atomically

    write_atomically(output, (_safe(c) for c in chunks))


def iter_json(report: Any) -> Iterator[str]:
    """``json.dumps(report.as_dict(), indent=2, sort_keys=True)``, the machine list one item at a time
    (a report of 100,000 machines never exists as one list of dicts)."""
    import json

    head = json.dumps(report.as_dict(machines=False), indent=2, sort_keys=True)
    marker = '\n  "machines": [],\n'
    before, found, after = head.partition(marker)
    if not found or not report.verdicts:
        yield head + "\n"
        return
    yield before + '\n  "machines": [\n'
    last = len(report.verdicts) - 1
    for k, v in enumerate(report.verdicts):
        item = json.dumps(v.as_dict(), indent=2, sort_keys=True).replace("\n", "\n    ")
        yield "    " + item + (",\n" if k < last else "\n")
    yield "  ],\n" + after + "\n"


def _render(report: Any, fmt: str, width: int, color: bool, exclude: tuple[str, ...],
            snapshots: Sequence[str]) -> Iterable[str]:
    if fmt == "json":
        return iter_json(report)
    if fmt == "csv":
        from crashplan.fleet.render import render_csv

        return (render_csv(report),)
    from crashplan.fleet.render import render_text

    return (render_text(report, width=width, color=color, snapshots=snapshots, exclude=exclude),)


def _common(f: Callable[..., Any]) -> Callable[..., Any]:
    for opt in reversed((
        click.option("--exclude", multiple=True, metavar="PATTERN",
                     help="Leave out machines whose name or file matches this shell pattern (repeatable)."),
        click.option("--strict", is_flag=True,
                     help="Count machines that cannot be judged (no kdump support, layout unknown) as failures."),
        click.option("--format", "fmt", type=click.Choice(["text", "json", "csv"]), default="text",
                     show_default=True),
        click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
                     help="Write the report to this file (atomically) instead of stdout."),
        click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True),
        click.option("--progress/--no-progress", default=None,
                     help="A progress bar on stderr (default: when stderr is a terminal)."),
        click.option("--width", type=click.IntRange(40, 400), default=None, hidden=True),
    )):
        f = opt(f)
    return f


def _finish(report: Any, *, fmt: str, output: str | None, color: str, width: int | None,
            exclude: tuple[str, ...], snapshots: Sequence[str]) -> int:
    from crashplan.output.terminal import Terminal

    term = Terminal.from_options(color, width, to_file=output is not None or fmt != "text")
    use_color = term.color
    width = term.columns(lo=40, hi=100, tty_only=True)
    if fmt != "text":
        for e in report.errors:
            click.echo(f"crashplan: error: {e}", err=True)
    _write(_render(report, fmt, width, use_color, exclude, snapshots), output, color=use_color)
    return int(report.exit_status)


def _files(snapshots: Sequence[str]) -> list[str]:
    files = list(find_snapshots(snapshots))
    if not files:
        raise click.UsageError("no machine files found (*.yaml or *.yml) in " + ", ".join(snapshots))
    return files


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def fleet() -> None:
    """Plan and check one crashkernel= line over many machines (machine files from `crashplan snapshot`).

    Exit status: 0 every machine judged is served; 1 a machine is not (or no line); 2 usage error, or
    a machine file could not be read (the rest are still planned or checked and reported). Machines
    the line cannot be judged on (the kernel cannot run kdump; a snapshot without root, layout
    unknown) are listed apart and are not failures, unless --strict.
    """


@fleet.command("plan", epilog=epilog("fleet plan"))
@click.argument("snapshots", nargs=-1, required=True, metavar="SNAPSHOT...")
@click.option("--max-ranges", type=click.IntRange(1, 16), default=6, show_default=True,
              help="At most this many ranges in the planned line.")
@click.option("--no-cma", is_flag=True, help="Do not look for the CMA variant.")
@_common
def plan_cmd(snapshots: tuple[str, ...], max_ranges: int, no_cma: bool, exclude: tuple[str, ...], strict: bool,
             fmt: str, output: str | None, color: str, progress: bool | None, width: int | None) -> int:
    """Find the crashkernel= line that serves every machine and loses the least memory.

    SNAPSHOT is a machine file or a directory of them (*.yaml, *.yml, searched recursively). Each
    machine's need is `crashplan suggest --machine FILE`'s; the line is replayed on every machine with
    its own kernel release, architecture and memory map. Machines that cannot be served are named;
    so are those it cannot be judged on (no kdump support, layout unknown), apart.

    Exit status: 0 the line serves every machine judged; 1 some cannot be served (with --strict, or
    cannot be judged); 2 usage error or an unreadable machine file (docs/fleet.md).
    """
    from crashplan.fleet import Cache, Entry, FleetError
    from crashplan.fleet import plan as run_plan
    from crashplan.memmap.model import paused_gc

    files = _files(snapshots)
    bar = _ProgressBar(2 * len(files), "planning", progress)
    reader = _SnapshotReader()
    entries: list[Any] = []
    errors: list[Any] = []
    try:
        with paused_gc():
            for path in files:
                got = load_snapshot(reader, path)
                (errors if isinstance(got, FleetError) else entries).append(got)
                bar.advance()
            assert all(isinstance(e, Entry) for e in entries)
            report = run_plan(entries, max_ranges=max_ranges, exclude=exclude, cma=not no_cma, errors=errors,
                              cache=Cache(), progress=bar.advance, strict=strict)
    finally:
        bar.close()
    return _finish(report, fmt=fmt, output=output, color=color, width=width, exclude=exclude, snapshots=snapshots)


@fleet.command("check", epilog=epilog("fleet check"))
@click.argument("params", metavar='"crashkernel=..."')
@click.argument("snapshots", nargs=-1, required=True, metavar="SNAPSHOT...")
@_common
@click.option("--jobs", type=click.IntRange(1, 64), default=None, metavar="N",
              help="Processes reading and replaying machine files (default: one per CPU from 400 files).")
def check_cmd(params: str, snapshots: tuple[str, ...], exclude: tuple[str, ...], strict: bool, fmt: str,
              output: str | None, color: str, progress: bool | None, jobs: int | None, width: int | None) -> int:
    """Replay one crashkernel= line on every machine and say which fail, grouped by cause.

    The line replaces the crashkernel= parameters of each machine's command line and is parsed and
    placed with the machine's own kernel release, architecture and memory map. A machine fails when
    the kernel reserves nothing, reserves less than its kdump needs (suggest's model) or the region
    cannot be placed. A machine whose kernel cannot run kdump, or whose memory layout is unknown (a
    snapshot taken without root), cannot be judged: it is listed apart and is not a failure, unless
    --strict.

    Exit status: 0 every machine judged is served; 1 some are not; 2 usage error or an unreadable
    machine file (docs/fleet.md).
    """
    from crashplan.cmdline import split_params
    from crashplan.fleet import FleetReport

    if not any(p.name == "crashkernel" for p in split_params(params)):
        raise click.UsageError(f"expected crashkernel= parameters as the first argument, got {params!r}")
    files = _files(snapshots)
    bar = _ProgressBar(len(files), "checking", progress)
    try:
        verdicts, errors = _run_check(params, files, exclude, jobs, bar)
    finally:
        bar.close()
    report = FleetReport(command="check", cmdline=params, verdicts=tuple(verdicts), errors=tuple(errors),
                         strict=strict)
    return _finish(report, fmt=fmt, output=output, color=color, width=width, exclude=exclude, snapshots=snapshots)
