"""``crashplan lint`` and ``crashplan rules``: the I/O shell around ``crashplan.lint``.

This module reads files (walking directories), finds the configuration, writes fixed files atomically and
prints the report; everything it calls is pure.  ``--format json|sarif|github`` never imports rich or yaml.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import time
from collections.abc import Sequence

import click

TYPE_CHECKING = False  # read by mypy as typing.TYPE_CHECKING
if TYPE_CHECKING:
    from crashplan.lint.config import LintConfig
    from crashplan.lint.sources import SourceFile

__all__ = ["SYSTEM_PATHS", "atomic_write_all", "lint", "read_sources", "rules"]

# what `crashplan lint` with no path reads: this machine's boot configuration
SYSTEM_PATHS = (
    "/etc/default/grub",
    "/etc/default/grub.d",
    "/boot/grub/grub.cfg",
    "/boot/grub2/grub.cfg",
    "/boot/grub2/grubenv",
    "/boot/grub/grubenv",
    "/boot/loader/entries",
    "/boot/efi/loader/entries",
    "/efi/loader/entries",
    "/etc/kernel/cmdline",
    "/etc/zipl.conf",
    "/proc/cmdline",
)
MAX_SIZE = 4 << 20  # larger files are not boot-loader configuration
_SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", ".tox", ".venv", "node_modules", ".mypy_cache", ".pytest_cache"}
PAUSE_ENV = "CRASHPLAN_FIX_PAUSE_BEFORE_REPLACE"  # test hook: see atomic_write_all()


def _split_csv(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(v.strip() for item in values for v in item.split(",") if v.strip())


def _display(path: str) -> str:
    return path.removeprefix("./")


def _read(path: str, explicit: bool) -> SourceFile:
    from crashplan.lint.sources import SourceFile

    try:
        size = os.path.getsize(path)
        if size > MAX_SIZE:
            return SourceFile(_display(path), None, f"{size} bytes: too large for a boot-loader file", explicit)
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as e:
        return SourceFile(_display(path), None, e.strerror or str(e), explicit)
    return SourceFile(_display(path), data.decode("utf-8", "surrogateescape"), None, explicit)


def _read_stdin() -> str:
    """stdin as the files are read: bytes decoded as UTF-8 with surrogateescape, whatever the locale."""
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is None:  # a text stream without bytes underneath (tests)
        return sys.stdin.read()
    data: bytes = buffer.read()
    return data.decode("utf-8", "surrogateescape")


class _ScanProgress:
    """``scanned N files …`` on stderr, rewritten in place, only when stderr is a terminal."""

    def __init__(self) -> None:
        self.on = sys.stderr.isatty() and not os.environ.get("CRASHPLAN_NO_PROGRESS")
        self.last = time.monotonic()
        self.shown = False
        try:  # seconds between updates (tests set 0)
            self.interval = float(os.environ.get("CRASHPLAN_PROGRESS_INTERVAL", "0.25"))
        except ValueError:
            self.interval = 0.25

    def tick(self, scanned: int, found: int, where: str) -> None:
        if not self.on:
            return
        now = time.monotonic()
        if now - self.last < self.interval:
            return
        self.last = now
        line = f"crashplan lint: {scanned} files scanned, {found} boot-loader files: {where}"
        cols = shutil_columns()
        sys.stderr.write("\r" + line[: cols - 1].ljust(cols - 1))
        sys.stderr.flush()
        self.shown = True

    def done(self) -> None:
        if self.shown:
            sys.stderr.write("\r" + " " * (shutil_columns() - 1) + "\r")
            sys.stderr.flush()


def shutil_columns() -> int:
    from crashplan.output.terminal import Terminal

    return Terminal().columns(lo=20)


def _walk(root: str, progress: _ScanProgress | None = None) -> list[str]:
    """The boot-loader files under ``root`` (by name and path: ``sources.walk_candidate``), sorted."""
    from crashplan.lint.sources import walk_candidate

    out = []
    scanned = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        for name in sorted(filenames):
            scanned += 1
            path = os.path.join(dirpath, name)
            if walk_candidate(path):
                out.append(path)
        if progress is not None:
            progress.tick(scanned, len(out), dirpath)
    return out


def _companions(path: str) -> list[str]:
    """grubenv files a BLS entry or a grub.cfg expands ``$kernelopts`` from."""
    p = path.replace("\\", "/")
    d = os.path.dirname(p)
    out = []
    if os.path.basename(d) == "entries" and os.path.basename(os.path.dirname(d)) == "loader":
        base = os.path.dirname(os.path.dirname(d))
        out += [os.path.join(base, "grub2", "grubenv"), os.path.join(base, "grub", "grubenv")]
    elif os.path.basename(p) in ("grub.cfg", "grub2.cfg"):
        out.append(os.path.join(d, "grubenv"))
    return [c for c in out if os.path.isfile(c)]


def read_sources(paths: Sequence[str], *, stdin_text: str | None = None) -> list[SourceFile]:
    """Read every named file and every file under named directories; never raises for a bad file."""
    from crashplan.lint.sources import SourceFile

    files: list[SourceFile] = []
    seen: set[str] = set()
    progress = _ScanProgress()

    def add(path: str, explicit: bool) -> None:
        key = os.path.normpath(path)
        if key in seen:
            return
        seen.add(key)
        f = _read(path, explicit)
        if not explicit and f.text is not None and "\0" in f.text[:8192]:
            return  # a binary file that happens to carry a boot-loader name (found by walking): not ours
        files.append(f)

    for path in paths:
        if path == "-":
            text = stdin_text if stdin_text is not None else _read_stdin()
            files.append(SourceFile("-", text, None, True, kind="cmdline"))
            continue
        if os.path.isdir(path):
            for p in _walk(path, progress):
                add(p, False)
            continue
        add(path, True)
    progress.done()
    for f in files:
        if f.path != "-" and f.text is not None:
            for c in _companions(f.path):
                add(c, False)
    return files


def _find_config(start: str) -> tuple[str, str] | None:
    d = os.path.abspath(start)
    while True:
        for name in (".crashplan.yaml", ".crashplan.yml"):
            p = os.path.join(d, name)
            if os.path.isfile(p):
                return p, "yaml"
        p = os.path.join(d, "pyproject.toml")
        if os.path.isfile(p):
            try:
                with open(p, encoding="utf-8") as fh:
                    if "[tool.crashplan" in fh.read():
                        return p, "toml"
            except OSError:
                pass
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def load_config(path: str | None, isolated: bool) -> LintConfig:
    from crashplan.errors import ConfigError
    from crashplan.lint.config import LintConfig, load_pyproject, load_yaml

    if isolated:
        return LintConfig()
    if path is not None:
        kind = "toml" if path.endswith(".toml") else "yaml"
        found: tuple[str, str] | None = (path, kind)
    else:
        found = _find_config(os.getcwd())
    if found is None:
        return LintConfig()
    cpath, kind = found
    try:
        with open(cpath, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as e:
        raise ConfigError(f"{cpath}: CK005 cannot read the configuration: {e.strerror or e}") from None
    base = os.path.dirname(os.path.abspath(cpath))
    shown = os.path.relpath(cpath) if not os.path.isabs(path or "") else cpath
    if kind == "toml":
        return load_pyproject(text, source=shown, base_dir=base) or LintConfig()
    return load_yaml(text, source=shown, base_dir=base)


def atomic_write_all(changes: dict[str, str]) -> None:
    """Replace every file atomically: all temp files are written and fsynced first, then renamed.

    Each file's mode (and owner, when permitted) is kept; a symlink is followed so the link stays.  An
    interruption leaves every file either old or new, and a failure before the renames writes nothing.
    """
    import tempfile  # only --fix writes: tempfile (and shutil behind it) stays off the lint path

    staged: list[tuple[str, str]] = []
    try:
        for path, text in changes.items():
            real = os.path.realpath(path)
            st = os.stat(real)
            d = os.path.dirname(real) or "."
            fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(real)}.", suffix=".crashplan", dir=d)
            staged.append((tmp, real))
            with os.fdopen(fd, "wb") as fh:
                fh.write(text.encode("utf-8", "surrogateescape"))
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, stat.S_IMODE(st.st_mode))
            with contextlib.suppress(OSError):
                os.chown(tmp, st.st_uid, st.st_gid)
    except BaseException:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise
    pause = os.environ.get(PAUSE_ENV)
    for tmp, real in staged:
        if pause:  # testing hook: announce the temp file, then wait to be killed
            with open(pause, "w", encoding="utf-8") as fh:
                fh.write(tmp + "\n")
            time.sleep(60)
        os.replace(tmp, real)
        try:
            dfd = os.open(os.path.dirname(real) or ".", os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError:
            pass


def _profile_check(kernels: tuple[str, ...], arches: tuple[str, ...], rams: tuple[str, ...]) -> None:
    from crashplan.lint.config import validate_profile

    errs = validate_profile(kernels, arches, rams)
    if errs:
        raise click.UsageError("; ".join(e.replace("invalid config: ", "") for e in errs))


def _selectors(values: tuple[str, ...], option: str) -> tuple[str, ...]:
    from crashplan.lint.config import resolve_selector

    out = []
    for v in values:
        r = resolve_selector(v)
        if r is None:
            raise click.BadParameter(f"{v!r} is not a rule code prefix (CK, CK2, CK201) or a rule name",
                                     param_hint=option)
        out.append(r)
    return tuple(out)


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.argument("paths", nargs=-1, metavar="[PATH]...")
@click.option("--kernel", "kernels", multiple=True, metavar="RELEASE",
              help="Target kernel release (repeatable; default 6.1 6.12 6.17 7.2).")
@click.option("--arch", "arches", multiple=True, metavar="ARCH",
              help="Target architecture (repeatable; default x86_64).")
@click.option("--ram", "rams", multiple=True, metavar="SIZE",
              help="Target RAM size (repeatable; default 2G 4G 16G 64G).")
@click.option("--select", multiple=True, metavar="CODES",
              help="Only these rules: code prefixes or names, comma-separated.")
@click.option("--ignore", multiple=True, metavar="CODES",
              help="Skip these rules: code prefixes or names, comma-separated.")
@click.option("--fail-level", type=click.Choice(["error", "warning", "info"]), default=None,
              help="Exit 1 when a finding at or above this severity remains (default error).")
@click.option("--format", "fmt", type=click.Choice(["auto", "text", "json", "sarif", "github"]), default="auto",
              show_default=True, help="auto: github under GitHub Actions, text otherwise.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), metavar="FILE", default=None,
              help="Write the report to FILE instead of stdout.")
@click.option("--fix", is_flag=True, help="Apply the fixes that are safe, in place (atomically).")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff; write nothing.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="Configuration file (default: .crashplan.yaml or pyproject.toml found upward).")
@click.option("--isolated", is_flag=True, help="Ignore configuration files.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="Colour the text report (auto: on a terminal, unless NO_COLOR is set).")
@click.option("-v", "--verbose", is_flag=True, help="Show the targets each finding applies to.")
def lint(paths: tuple[str, ...], kernels: tuple[str, ...], arches: tuple[str, ...], rams: tuple[str, ...],
         select: tuple[str, ...], ignore: tuple[str, ...], fail_level: str | None, fmt: str, output: str | None,
         fix: bool, diff: bool, config_path: str | None, isolated: bool, color: str, verbose: bool) -> int:
    """Check boot-loader configurations for crashkernel= problems.

    PATH is a file or a directory (walked); - reads a command line from stdin.  Without PATH the
    running system's files are read (/etc/default/grub, grub.cfg, BLS entries, /proc/cmdline …).
    Exit status: 0 clean, 1 findings at or above --fail-level, 2 usage, configuration or input error
    (a file that cannot be read).
    """
    from crashplan.lint.engine import lint as run_lint

    config = load_config(config_path, isolated)
    _profile_check(kernels, arches, rams)
    config = config.merged(select=_selectors(_split_csv(select), "--select"),
                           ignore=_selectors(_split_csv(ignore), "--ignore"),
                           fail_level=fail_level, kernels=kernels, arches=arches, rams=rams)
    if not paths:
        paths = tuple(p for p in SYSTEM_PATHS if os.path.exists(p))
        if not paths:
            raise click.UsageError("no boot-loader configuration found on this machine; name the files to lint")
    files = read_sources(paths)
    # a file that cannot be read (missing, permissions, binary) is a finding (CK001) and an input error:
    # the report still lists everything, the exit status is 2 and --fix writes nothing
    unreadable = [f for f in files if f.path != "-" and (f.text is None or (f.explicit and "\0" in f.text))]
    if fmt == "auto":
        fmt = "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"

    fixed = 0
    if fix or diff:
        from crashplan.lint.fix import fix_files

        writable = [f for f in files if f.path != "-"]
        result = fix_files(files, config=config)
        changes = {f.path: result.texts[f.path] for f in writable if f.path in result.texts}
        if diff:
            import difflib  # only here: --diff

            out: list[str] = []
            for f in writable:
                if f.path in changes:
                    out.extend(difflib.unified_diff((f.text or "").splitlines(keepends=True),
                                                    changes[f.path].splitlines(keepends=True),
                                                    fromfile=f"a/{f.path}", tofile=f"b/{f.path}"))
            text = "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in out)
            _emit(text, output)
            if unreadable:
                _unreadable(unreadable)
                return 2
            return 1 if changes else 0
        if not unreadable:
            atomic_write_all(changes)
        fixed = result.applied if not unreadable else 0
        report = result.report
    else:
        report = run_lint(files, config=config)
    if any(f.fix is not None for f in report.findings):
        from crashplan.lint.fix import fixable_only

        # announce only the fixes --fix can make (a fix it must refuse is not marked [*])
        report = fixable_only(files, report, config=config)

    from crashplan.lint.formats import render

    use_color = False  # json, sarif and github carry no colour: they never import the terminal module
    if fmt == "text":
        from crashplan.output.terminal import Terminal

        use_color = Terminal.from_options(color, to_file=output is not None).color
    _emit(render(fmt, report, color=use_color, verbose=verbose, fixed=fixed), output, color=use_color)
    if unreadable:
        _unreadable(unreadable)
        return 2
    return 1 if report.failed(config.fail_level) else 0


def _unreadable(files: Sequence[SourceFile]) -> None:
    for f in files:
        why = f.error or "binary content (a NUL byte): not a text file"
        click.echo(f"crashplan: error: {f.path}: cannot read the file: {why}", err=True)


def _emit(text: str, output: str | None, *, color: bool = False) -> None:
    # files are read with surrogateescape: an undecodable byte quoted in a message is written as the
    # escape \udcXX (valid in JSON strings) instead of failing the strict UTF-8 encoder
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    if output is None:
        click.echo(text, nl=False, color=color)  # click strips colour codes unless asked to keep them
        return
    try:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as e:
        from crashplan.errors import InputError

        raise InputError(f"cannot write the report: {e.strerror or e}", path=output) from None


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.argument("codes", nargs=-1, metavar="[CODE|NAME]...")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), metavar="FILE", default=None,
              help="Write to this file instead of stdout (docs/rules.md).")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="Colour the text list (auto: on a terminal, unless NO_COLOR is set).")
def rules(codes: tuple[str, ...], fmt: str, output: str | None, color: str = "auto") -> int:
    """List the lint rules, or explain the named ones (CK103, cma-typo, CK1 …)."""
    from crashplan.lint.rules import all_rules, get_rule

    every = list(all_rules().values())
    chosen = every
    if codes:
        chosen = []
        for c in codes:
            r = get_rule(c)
            if r is not None:
                chosen.append(r)
                continue
            prefix = [x for x in every if x.code.startswith(c.upper())] if c.upper().startswith("CK") else []
            if not prefix:
                raise click.BadParameter(f"no rule {c!r} (see `crashplan rules`)", param_hint="CODE")
            chosen.extend(prefix)
    if fmt == "markdown":
        from crashplan.lint.formats.docs import rules_markdown

        text = rules_markdown(chosen)
    elif fmt == "json":
        from crashplan.lint.formats.machine import rules_json

        text = rules_json(chosen)
    elif codes:
        from crashplan.lint.formats.docs import rule_text

        text = "\n".join(rule_text(r) for r in chosen)
    else:
        from crashplan.lint.formats.text import render_rules
        from crashplan.output.terminal import Terminal

        use = Terminal.from_options(color, to_file=output is not None).color
        text = render_rules(chosen, color=use)
        _emit(text, output, color=use)
        return 0
    _emit(text, output)
    return 0
