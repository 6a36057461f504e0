"""click parameter types shared by the commands: a bad value is a usage error (exit 2) with one line."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar, overload

import click

F = TypeVar("F", bound=Callable[..., Any])


class SizeType(click.ParamType):  # type: ignore[type-arg]  # generic in click's types, not at run time in every click
    """A size as people write it: 16G, 1536M, 0x40000000, 4294967296."""

    name = "size"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        from crashplan.units import parse_size

        try:
            return parse_size(str(value))
        except ValueError as e:
            self.fail(str(e), param, ctx)


class KernelType(click.ParamType):  # type: ignore[type-arg]  # as SizeType
    """A kernel release: 6.12, 6.12.107, 6.12.0-55.el10.x86_64."""

    name = "release"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from crashplan.kernel import parse_release

        try:
            parse_release(str(value))
        except ValueError as e:
            self.fail(str(e), param, ctx)
        return str(value)


class ArchType(click.ParamType):  # type: ignore[type-arg]  # as SizeType
    """An architecture: uname -m, Debian or kernel names."""

    name = "arch"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from crashplan.kernel import normalize_arch

        try:
            return normalize_arch(str(value))
        except ValueError as e:
            self.fail(str(e), param, ctx)


def _one_machine(hint: str) -> Callable[[click.Context, click.Parameter, tuple[str, ...]], str | None]:
    """A --machine given more than once is a usage error (click would silently keep the last one)."""

    def callback(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> str | None:
        if len(value) > 1:
            raise click.UsageError(f"--machine given {len(value)} times: this command takes one machine file; "
                                   f"{hint}", ctx)
        return value[0] if value else None

    return callback


@overload
def machine_source_options(f: F, *, repeated_machine_hint: str | None = None) -> F: ...
@overload
def machine_source_options(f: None = None, *, repeated_machine_hint: str | None = None) -> Callable[[F], F]: ...
def machine_source_options(f: F | None = None, *, repeated_machine_hint: str | None = None) -> Any:
    """--iomem/--boot-log/--machine/--fallback-machine: where the memory map comes from (check, suggest).

    With ``repeated_machine_hint``, a repeated ``--machine`` is refused with that hint."""
    path = click.Path(dir_okay=False, allow_dash=True)
    machine_help = "A machine file (YAML, docs/machine-format.md); its kdump: section gives sizing inputs."
    if repeated_machine_hint is None:
        machine_opt = click.option("--machine", type=path, metavar="FILE", help=machine_help)
    else:
        machine_opt = click.option("--machine", type=path, metavar="FILE", help=machine_help, multiple=True,
                                   callback=_one_machine(repeated_machine_hint))

    def deco(f: F) -> F:
        for opt in reversed((
            click.option("--iomem", type=path, metavar="FILE",
                         help="Memory map from a saved /proc/iomem (read as root)."),
            click.option("--boot-log", type=path, metavar="FILE",
                         help="Memory map from a kernel boot log (dmesg, journalctl -k, serial console)."),
            machine_opt,
            click.option("--fallback-machine", type=click.Path(dir_okay=False), metavar="FILE",
                         help="Without a source option: use this machine file when this machine's map cannot be read."),
        )):
            f = opt(f)
        return f

    return deco(f) if f is not None else deco


def write_atomically(path: str, text: str | Iterable[str]) -> None:
    """Replace ``path`` with ``text`` (a string, or chunks written as they come): a temporary file in the
    same directory, fsync, rename, then fsync of the directory.  A reader never sees half a file.

    The mode of an existing file is kept (a new one gets 0666 minus the umask); characters UTF-8 cannot
    encode are written as ``\\udcXX``.  On any failure the temporary file is removed, ``path`` is
    untouched, and an :class:`~crashplan.errors.InputError` names ``path``.  Every file crashplan writes
    (``-o``, ``snapshot``, ``fleet``'s streamed reports) goes through here; ``lint --fix`` stages several
    files and renames them together in ``crashplan.cli.lint_cmd``.
    """
    import contextlib
    import os
    import tempfile

    from crashplan.errors import InputError

    if os.path.isdir(path):
        raise InputError("is a directory, expected a file name", path=path)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        mode = os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    except OSError as e:
        raise InputError(f"cannot write: {e.strerror or e}", path=path) from None
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace", newline="\n") as f:
            for chunk in (text,) if isinstance(text, str) else text:
                f.write(chunk)
            f.flush()
            os.fchmod(f.fileno(), mode)
            os.fsync(f.fileno())
        os.replace(tmp, path)
        tmp = None
        with contextlib.suppress(OSError):
            dfd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
    except OSError as e:
        raise InputError(f"cannot write: {e.strerror or e}", path=path) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def output_option(f: F) -> F:
    """``-o/--output FILE``: what the command prints goes to FILE (written atomically, only on success)."""
    import functools

    @functools.wraps(f)
    def wrapper(*args: Any, output: str | None = None, **kwargs: Any) -> Any:
        if output is None or output == "-":
            return f(*args, **kwargs)
        import contextlib
        import io

        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            rv = f(*args, **kwargs)
        write_atomically(output, buf.getvalue())
        return rv

    opt = click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), metavar="FILE",
                       default=None, help="Write the report to FILE instead of stdout (atomically).")
    return opt(wrapper)  # type: ignore[return-value]  # the wrapper takes f's parameters and -o
