"""Which distribution a ``uname -r`` suffix names, read from the suffix alone.

:mod:`crashplan.kernel.distros` builds a profile from what :func:`identify` returns.  The two are apart
so that a release whose suffix names no distribution (a custom build's ``6.18.44-fc-v1300``) loads
neither the profile table nor compiles a pattern: each pattern sits behind a plain substring test
that every text it can match passes (cold start, docs/benchmarks.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from crashplan.records import NamedTuple

__all__ = ["DEBIAN_FLAVOURS", "UBUNTU_FLAVOURS", "DistroMark", "identify"]

# the flavours Debian's kernel packages end in (linux-image-<release>-<flavour>)
DEBIAN_FLAVOURS = ("amd64", "arm64", "ppc64el", "s390x", "cloud-amd64", "cloud-arm64", "rt-amd64", "rt-arm64")
# Ubuntu's flavours (linux-image-<release>-<abi>-<flavour>, and -hwe/-oem variants)
UBUNTU_FLAVOURS = ("generic", "lowlatency", "aws", "azure", "gcp", "gke", "oracle", "kvm", "ibm", "nvidia",
                   "raspi", "oem", "hwe")

_RHEL = r"^-(\d+)(?:\.[0-9]+)*\.el(\d+)(?:_(\d+))?(uek)?(?:[._+-]|$)"
_SUSE = r"^-(1[56]0[0-9]00)\.[0-9.]+-(default|64kb|azure|rt|kvmsmall|zfcpdump)$"
_FEDORA = r"\.fc(\d+)(?:\.|$)"
_OPENEULER = r"\.(oe(?:1|2[0-9]{3})(?:sp[0-9]+)?)(?:\.|$)"
_AMAZON = r"\.(amzn2023|amzn2)(?:\.|$)"
_DEBIAN = r"\+deb(\d+)"
_UBUNTU = r"-(?:" + "|".join(UBUNTU_FLAVOURS) + r")(?:-[0-9a-z.]+)?$"


# in the order they are tried: (family, pattern, anchored at the start, a test that every text the
# pattern matches passes)
_PATTERNS: tuple[tuple[str, str, bool, Callable[[str], bool]], ...] = (
    ("rhel", _RHEL, True, lambda low: ".el" in low),
    ("suse", _SUSE, True, lambda low: low.startswith(("-15", "-16"))),
    ("fedora", _FEDORA, False, lambda low: ".fc" in low),
    ("openeuler", _OPENEULER, False, lambda low: ".oe" in low),
    ("amazon", _AMAZON, False, lambda low: ".amzn2" in low),
)


class DistroMark(NamedTuple):
    """What the suffix says.  ``family`` and ``groups``:

    * ``rhel``: (build, el major, el minor or None, "uek" or None) — RHEL, CentOS Stream, UEK;
    * ``suse``: (stream such as "150700", flavour);
    * ``fedora``: (fc release,); ``openeuler``: (tag such as "oe2203sp4",); ``amazon``: ("amzn2" or "amzn2023",);
    * ``debian``: (debian release or None,); ``ubuntu``: ().
    """

    family: str
    groups: tuple[str | None, ...] = ()


def identify(rest: str) -> DistroMark | None:
    """The distribution the text after ``MAJOR.MINOR[.PATCH]`` names; None when it names none.

    The checks run in this order, and the first pattern that matches decides (a RHEL-shaped suffix that
    names no modelled RHEL is still RHEL's: :func:`crashplan.kernel.distros.match` gives it no profile).
    """
    low = rest.lower()
    for family, pattern, anchored, may_match in _PATTERNS:
        m = (re.match if anchored else re.search)(pattern, low) if may_match(low) else None
        if m:
            return DistroMark(family, m.groups())
    m = re.search(_DEBIAN, low) if "+deb" in low else None
    if m or low.endswith(tuple("-" + f for f in DEBIAN_FLAVOURS)):
        return DistroMark("debian", (m.group(1) if m else None,))
    if low[:1] == "-" and low[1:2].isdecimal() and any("-" + f in low for f in UBUNTU_FLAVOURS) \
            and re.search(_UBUNTU, low):
        return DistroMark("ubuntu")
    return None
