"""click parameter types shared by the commands: a bad value is a usage error (exit 2) with one line."""

from __future__ import annotations

import click


class SizeType(click.ParamType):
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


class KernelType(click.ParamType):
    """A kernel release: 6.12, 6.12.107, 6.12.0-55.el10.x86_64."""

    name = "release"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from crashplan.kernel import parse_release

        try:
            parse_release(str(value))
        except ValueError as e:
            self.fail(str(e), param, ctx)
        return str(value)


class ArchType(click.ParamType):
    """An architecture: uname -m, Debian or kernel names."""

    name = "arch"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from crashplan.kernel import normalize_arch

        try:
            return normalize_arch(str(value))
        except ValueError as e:
            self.fail(str(e), param, ctx)
