"""``NamedTuple`` for crashplan's record types: :class:`typing.NamedTuple`, minus its start-up cost.

Under ``from __future__ import annotations`` every field's annotation is a string, and
``typing.NamedTuple`` checks each one at class creation by compiling it into a ``ForwardRef``: about
0.1 ms per class, 3 ms of each ``check`` (two dozen record types are built on every start).  The
annotations serve only type checkers, which read the source.  At run time this ``NamedTuple`` builds
the same class as ``typing.NamedTuple`` (``collections.namedtuple`` with the fields, defaults,
docstring, methods and ``__annotations__``, kept as the strings they are), without the check; type
checkers see ``typing.NamedTuple`` itself.  Usage is the same::

    from crashplan.records import NamedTuple

    class Span(NamedTuple):
        start: int
        end: int
        name: str = ""

The class syntax only; ``Generic`` bases and the functional form are not supported (TypeError).
"""

from __future__ import annotations

TYPE_CHECKING = False  # read by mypy as typing.TYPE_CHECKING; typing itself is not imported at run time
if TYPE_CHECKING:
    from typing import NamedTuple
else:
    from collections import namedtuple as _namedtuple

    # as typing's NamedTupleMeta: names the class body may not set, names it sets that are not copied
    _PROHIBITED = frozenset({"__new__", "__init__", "__slots__", "__getnewargs__", "_fields", "_field_defaults",
                             "_make", "_replace", "_asdict", "_source"})
    _SPECIAL = frozenset({"__module__", "__name__", "__annotations__"})

    class _RecordMeta(type):
        def __new__(mcls, typename, bases, ns):
            if bases != (_Record,):
                raise TypeError("a crashplan.records.NamedTuple class has exactly one base, NamedTuple")
            fields = ns.get("__annotations__", {})
            default_names = []
            for name in fields:
                if name in ns:
                    default_names.append(name)
                elif default_names:
                    raise TypeError(f"Non-default namedtuple field {name} cannot follow default field"
                                    f"{'s' if len(default_names) > 1 else ''} {', '.join(default_names)}")
            cls = _namedtuple(typename, list(fields), defaults=[ns[n] for n in default_names],
                              module=ns["__module__"])
            cls.__annotations__ = cls.__new__.__annotations__ = dict(fields)
            for key, value in ns.items():
                if key in _PROHIBITED:
                    raise AttributeError("Cannot overwrite NamedTuple attribute " + key)
                if key not in _SPECIAL and key not in cls._fields:
                    setattr(cls, key, value)
            return cls

    _Record = type.__new__(_RecordMeta, "NamedTuple", (), {})

    def NamedTuple(typename, fields=None, /, **kwargs):  # noqa: N802 - typing's name
        raise TypeError("crashplan.records.NamedTuple supports the class syntax only")

    NamedTuple.__mro_entries__ = lambda bases: (_Record,)

__all__ = ["NamedTuple"]
