"""Byte-level mutations (dependency-free, deterministic for a given ``random.Random``).

The operators are the classic ones of AFL/libFuzzer's mutators: flip a bit, set a byte to an
"interesting" value, insert/erase/duplicate/shuffle a range, splice another input in, insert a token
from a per-format dictionary, replace a number by a boundary number, repeat or drop whole lines and
truncate.  Text is mutated as bytes (UTF-8 with ``surrogateescape``) and decoded back the same way,
so invalid UTF-8 reaches the readers as the lone surrogates a ``surrogateescape`` read produces.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

__all__ = ["mutate_bytes", "mutate_text", "to_bytes", "from_bytes", "INTERESTING_NUMBERS"]

INTERESTING_BYTES = (b"\x00", b"\xff", b"\x7f", b"\x80", b"\xc3", b"\xe2\x80", b"\xf0\x9f\x98", b"\xed\xa0\x80",
                     b"\n", b"\r", b"\t", b" ", b"\x1b[", b"\\", b'"', b"'", b"#", b":", b"-", b"[", b"]", b"{",
                     b"}", b"=", b",", b"@", b"$", b"&", b"*", b"!", b"%", b"|", b">", b"\x0c", b"\x0b",
                     b"\xc2\x85", b"\xe2\x80\xa8", b"\xef\xbb\xbf")

INTERESTING_NUMBERS = (
    "0", "1", "-1", "7", "8", "9", "4095", "4096", "65535", "65536", "2147483647", "2147483648", "4294967295",
    "4294967296", "9223372036854775807", "9223372036854775808", "18446744073709551615", "18446744073709551616",
    "340282366920938463463374607431768211456", "0x0", "0x1", "0xffffffff", "0x100000000",
    "0xffffffffffffffff", "0x10000000000000000", "0xfffffffffffffffff", "ffffffffffffffff", "10000000000000000",
    "0000000000000000", "fffffffffffffffffffffffffffffffff", "00000000000000000000000000000001", "0777",
    "010", "08", "1e9", "1_000", "٣", "１", "-0", "+1", "0x", "0b101", "16E", "17179869184E", "99999999999999999999G",
    "1" * 400,
)

_NUMBER = re.compile(rb"(?:0x)?[0-9a-fA-F]+")
_TEXT_INTERESTING = [n.encode("utf-8") for n in INTERESTING_NUMBERS]


def to_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def from_bytes(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _rand_range(rng: random.Random, n: int, max_len: int = 64) -> tuple[int, int]:
    if n == 0:
        return 0, 0
    a = rng.randrange(n)
    b = min(n, a + 1 + int(rng.expovariate(1 / 8)) % max_len)
    return a, b


def _one(data: bytearray, rng: random.Random, tokens: Sequence[bytes], others: Sequence[bytes]) -> bytearray:
    n = len(data)
    op = rng.randrange(16)
    if op == 0 and n:  # flip a bit
        i = rng.randrange(n)
        data[i] ^= 1 << rng.randrange(8)
    elif op == 1 and n:  # set a byte
        data[rng.randrange(n)] = rng.randrange(256)
    elif op == 2:  # insert an interesting byte sequence
        i = rng.randrange(n + 1)
        data[i:i] = rng.choice(INTERESTING_BYTES)
    elif op == 3 and n:  # erase a range
        a, b = _rand_range(rng, n)
        del data[a:b]
    elif op == 4 and n:  # duplicate a range (possibly many times)
        a, b = _rand_range(rng, n)
        times = 1 if rng.random() < 0.8 else rng.randrange(2, 64)
        data[b:b] = data[a:b] * times
    elif op == 5 and n > 1:  # swap two ranges
        a, b = _rand_range(rng, n, 16)
        c, d = _rand_range(rng, n, 16)
        if b <= c:
            data[a:d] = data[c:d] + data[b:c] + data[a:b]
    elif op in (6, 7) and tokens:  # insert or overwrite with a dictionary token
        tok = rng.choice(tokens)
        i = rng.randrange(n + 1)
        if op == 6 or not n:
            data[i:i] = tok
        else:
            data[i:i + len(tok)] = tok
    elif op == 8:  # replace a number by a boundary number
        found = list(_NUMBER.finditer(data))
        if found:
            m = rng.choice(found)
            data[m.start():m.end()] = rng.choice(_TEXT_INTERESTING)
    elif op == 9 and others:  # splice in part of another input
        other = rng.choice(others)
        if other:
            a, b = _rand_range(rng, len(other), 256)
            i = rng.randrange(n + 1)
            data[i:i] = other[a:b]
    elif op == 10 and n:  # drop, repeat or move whole lines
        lines = bytes(data).split(b"\n")
        i = rng.randrange(len(lines))
        k = rng.randrange(3)
        if k == 0:
            del lines[i]
        elif k == 1:
            lines[i:i] = [lines[i]] * rng.choice((1, 2, 3, 17))
        else:
            lines.insert(rng.randrange(len(lines) + 1), lines.pop(i))
        data[:] = b"\n".join(lines)
    elif op == 11 and n:  # truncate
        del data[rng.randrange(n):]
    elif op == 12 and n:  # change indentation of a line
        lines = bytes(data).split(b"\n")
        i = rng.randrange(len(lines))
        lines[i] = rng.choice((b"", b" ", b"  ", b"\t", b"    " * rng.randrange(1, 9))) + lines[i].lstrip()
        data[:] = b"\n".join(lines)
    elif op == 13 and n:  # arithmetic on a byte
        i = rng.randrange(n)
        data[i] = (data[i] + rng.choice((-1, 1, -16, 16, 32, -32))) & 0xFF
    elif op == 14:  # insert random bytes
        i = rng.randrange(n + 1)
        data[i:i] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 9)))
    elif op == 15 and n:  # case flip of a range
        a, b = _rand_range(rng, n, 16)
        data[a:b] = bytes(data[a:b]).swapcase()
    return data


def mutate_bytes(data: bytes, rng: random.Random, *, tokens: Sequence[bytes] = (), others: Sequence[bytes] = (),
                 max_len: int = 1 << 20) -> bytes:
    """``data`` with 1–8 stacked mutations (more often few)."""
    buf = bytearray(data)
    for _ in range(1 + int(rng.expovariate(0.6)) % 8):
        buf = _one(buf, rng, tokens, others)
        if len(buf) > max_len:
            del buf[max_len:]
    return bytes(buf)


def mutate_text(text: str, rng: random.Random, *, tokens: Sequence[bytes] = (), others: Sequence[bytes] = (),
                max_len: int = 1 << 20) -> str:
    return from_bytes(mutate_bytes(to_bytes(text), rng, tokens=tokens, others=others, max_len=max_len))
