"""The kernel command line as ``parse_args()`` splits it (``lib/cmdline.c:next_arg``), with positions.

This is *not* how the crashkernel= parser finds its tokens (that is a raw substring search, see
``crashplan.kernel``); it is how every other parameter is read (``fadump=``, ``mem=``, ``swiotlb=``,
``nr_cpus=``…), and how people think of the command line.  Positions are character offsets into the
original string, so linters can point at a parameter.
"""

from __future__ import annotations

from crashplan.records import NamedTuple

__all__ = ["Param", "param_value", "param_values", "split_params"]

_SPACE = " \t\n\v\f\r"  # isspace() in the kernel's ctype table (ASCII part)


class Param(NamedTuple):
    """One parameter: ``name`` and ``value`` as next_arg() returns them (quotes removed)."""

    name: str
    value: str | None
    start: int  # offset of the parameter's first character (including a leading quote)
    end: int  # offset just past it
    after_dashdash: bool = False  # after a bare "--": handed to init, never parsed by the kernel

    @property
    def raw(self) -> str:
        return f"{self.name}={self.value}" if self.value is not None else self.name


def split_params(cmdline: str) -> list[Param]:
    """Split like ``next_arg()``: spaces outside double quotes separate, ``"`` toggles quoting."""
    params: list[Param] = []
    i = 0
    n = len(cmdline)
    dashdash = False
    while i < n and cmdline[i] in _SPACE:
        i += 1
    while i < n:
        start = i
        args = i
        in_quote = quoted = False
        if cmdline[args] == '"':
            args += 1
            in_quote = quoted = True
        j = args
        equals = -1
        while j < n:
            c = cmdline[j]
            if c in _SPACE and not in_quote:
                break
            if equals < 0 and c == "=":
                equals = j
            if c == '"':
                in_quote = not in_quote
            j += 1
        # j is one past the last character of the parameter
        last = j - 1
        if equals < 0:
            name = cmdline[args:j]
            value = None
            if quoted and j > args and cmdline[last] == '"':
                name = cmdline[args:last]
        else:
            name = cmdline[args:equals]
            vstart = equals + 1
            vend = j
            if vstart < n and cmdline[vstart:vstart + 1] == '"':
                vstart += 1
                if cmdline[last] == '"' and last >= vstart:
                    vend = last
            elif quoted and cmdline[last] == '"' and last > equals:
                vend = last
            value = cmdline[vstart:vend]
        if name == "--" and value is None and not dashdash:
            dashdash = True
            params.append(Param(name, value, start, j, after_dashdash=False))
        else:
            params.append(Param(name, value, start, j, after_dashdash=dashdash))
        i = j
        while i < n and cmdline[i] in _SPACE:
            i += 1
    return params


def param_values(cmdline: str, name: str) -> list[str | None]:
    """Every value of ``name`` the kernel parses (before ``--``), in order."""
    return [p.value for p in split_params(cmdline) if p.name == name and not p.after_dashdash]


def param_value(cmdline: str, name: str) -> str | None:
    """The last value of ``name`` (early parameters: the last one wins), or None."""
    vals = param_values(cmdline, name)
    return vals[-1] if vals else None
