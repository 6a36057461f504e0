"""crashplan.units: the human sizes every report prints."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crashplan.units import format_size


@pytest.mark.parametrize("n,text", [
    (0, "0B"), (1023, "1023B"), (1024, "1K"), (1536 * 1024, "1.5M"), (256 << 20, "256M"), (1 << 30, "1G"),
    (int(3.84 * (1 << 30)), "3.84G"), ((1 << 30) + 5 * (1 << 20), "1G"),
    (-(512 << 20), "-512M"), ((1 << 64) - 1, "16E"), (1 << 64, "16E"), ((1 << 70) + 12345, "1024E"),
])
def test_format_size(n, text):
    assert format_size(n) == text


def test_sizes_past_what_a_float_holds_still_print():
    # a damaged map may add up to more than 2^1024 bytes: n / 2^60 as a float raised OverflowError
    text = format_size((1 << 1600) + 1)
    assert text.endswith("E") and text[:-1].isdigit()


@given(st.integers(min_value=1024, max_value=(1 << 53) - 1))
def test_two_decimals_agree_with_float_formatting_where_floats_are_exact(n):
    shift = max(s for s in (10, 20, 30, 40, 50) if n >= 1 << s)
    if n % (1 << shift) == 0:
        return
    expected = f"{n / (1 << shift):.2f}".rstrip("0").rstrip(".")
    assert format_size(n) == expected + "KMGTP"[shift // 10 - 1]
