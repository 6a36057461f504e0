"""crashplan.records.NamedTuple builds what typing.NamedTuple builds, without checking annotations."""

from __future__ import annotations

import pickle
import re
import typing
from pathlib import Path

import pytest

from crashplan import records

ROOT = Path(__file__).resolve().parent.parent


def _make(base):
    class Span(base):
        """A range."""

        start: int
        end: int
        name: str = ""
        tags: tuple[str, ...] = ()

        @property
        def size(self) -> int:
            return self.end - self.start

        def shifted(self, by: int) -> Span:
            return self._replace(start=self.start + by, end=self.end + by)

        @classmethod
        def empty(cls) -> Span:
            return cls(0, 0)

        LIMIT = 5  # a class attribute without an annotation is not a field

    return Span


# module-level classes, so that pickle finds them by name
RecordSpan = _make(records.NamedTuple)
TypingSpan = _make(typing.NamedTuple)
RecordSpan.__qualname__ = RecordSpan.__name__ = "RecordSpan"
TypingSpan.__qualname__ = TypingSpan.__name__ = "TypingSpan"


def test_same_class_as_typing():
    a, b = RecordSpan, TypingSpan
    assert a.__bases__ == b.__bases__ == (tuple,)
    for attr in ("_fields", "_field_defaults", "__doc__", "__module__", "__match_args__", "LIMIT"):
        assert getattr(a, attr) == getattr(b, attr), attr
    assert list(a.__annotations__) == list(b.__annotations__) == ["start", "end", "name", "tags"]
    x, y = a(1, 5), b(1, 5)
    assert tuple(x) == tuple(y) == (1, 5, "", ())
    assert x == (1, 5, "", ()) and hash(x) == hash(y)
    assert repr(x) == "RecordSpan(start=1, end=5, name='', tags=())"
    assert x.size == 4 and x.shifted(2) == a(3, 7) and a.empty() == a(0, 0)
    assert x._asdict() == y._asdict() and a._make([1, 2, "n", ()]) == (1, 2, "n", ())
    assert pickle.loads(pickle.dumps(x)) == x and type(pickle.loads(pickle.dumps(x))) is a
    with pytest.raises(AttributeError):
        x.start = 3  # type: ignore[misc]


def test_same_errors_as_typing():
    for base in (records.NamedTuple, typing.NamedTuple):
        with pytest.raises(TypeError, match="^Non-default namedtuple field end cannot follow default field start$"):
            class Bad(base):  # type: ignore[misc]
                start: int = 0
                end: int
        with pytest.raises(AttributeError, match="Cannot overwrite NamedTuple attribute _replace"):
            class Worse(base):  # type: ignore[misc]
                start: int

                def _replace(self):  # type: ignore[override]
                    return self
    with pytest.raises(TypeError):
        records.NamedTuple("Span", [("start", int)])  # the functional form is typing's alone


def test_crashplan_builds_its_records_with_it():
    """One way to declare a record: typing.NamedTuple and collections.namedtuple appear only in records.py
    (which hands the first to type checkers and builds with the second)."""
    offenders = []
    for p in sorted((ROOT / "crashplan").rglob("*.py")):
        text = p.read_text(encoding="utf-8")
        if p.name != "records.py" and (re.search(r"^\s*from typing import [^\n]*\bNamedTuple\b", text, re.M)
                                       or re.search(r"\bnamedtuple\(", text)):
            offenders.append(str(p.relative_to(ROOT)))
    assert offenders == []
