"""What a given kernel does with a given command line: the public, stable API.

>>> from crashplan.kernel import evaluate
>>> o = evaluate("crashkernel=256M crashkernel=1G,cma", system_ram=16 << 30, kernel="6.12", arch="x86_64")
>>> o.accepted, o.ret, o.messages
(False, -22, (Message(level='warn', text='crashkernel: unrecognized char: ,'),))

``evaluate`` never raises on any command line or RAM value; it raises ``ValueError`` only for an
unknown kernel release or architecture.  The result (``Outcome``) carries:

``ret``         the value the architecture's code decided on: 0, -2 (``-ENOENT``) or -22 (``-EINVAL``)
``crash_size``  the size left in the kernel's ``crash_size`` (written even when ``ret`` != 0)
``crash_base``  the fixed base (``@offset``), 0 for automatic placement
``low_size``    the ``,low`` size the parser produced (generic code and arm64 ≤ 6.6: the caller's
                ``low_size``; x86 ≤ 6.6: the low size ``reserve_crashkernel_low()`` would use when
                ``high``); ``None`` where the architecture has no such variable
``cma_size``    the ``,cma`` size (``None`` where the architecture passes no CMA pointer)
``high``        whether ``,high`` placement was chosen (``None`` where not applicable)
``accepted``    whether the architecture's code goes on to reserve memory
``messages``    ``(level, text)`` pairs, ``level`` ``"warn"`` (``pr_warn``) or ``"info"``
                (``pr_info``), the text verbatim as the kernel prints it

The per-release differences are the switches of ``crashplan.kernel.versions``; which of them each
architecture follows is the table of ``crashplan.kernel.features``; both are summarised in
``docs/kernel-fidelity.md``.
"""

from __future__ import annotations

from typing import Protocol

from crashplan.records import NamedTuple

from . import _crash_reserve as cr
from . import features
from .arch import ARCHES, normalize_arch
from .features import Flow
from .versions import SWITCHES, KernelRelease, parse_release

__all__ = [
    "ARCHES",
    "DEFAULT_LOW_SIZE",
    "EINVAL",
    "ENOENT",
    "Flow",
    "KernelRelease",
    "Message",
    "Outcome",
    "Token",
    "dialect_for",
    "evaluate",
    "flow_for",
    "normalize_arch",
    "parse_release",
]

EINVAL = cr.EINVAL
ENOENT = cr.ENOENT

# DEFAULT_CRASH_KERNEL_LOW_SIZE: arch/x86 max(swiotlb_size_or_default() + 8M, 256M) with the
# default 64M swiotlb; include/linux/crash_reserve.h 128M for arm64, riscv and loongarch.
DEFAULT_LOW_SIZE = {"x86_64": 256 << 20, "arm64": 128 << 20, "riscv64": 128 << 20, "loongarch64": 128 << 20}


class Message(NamedTuple):
    level: str  # "warn" or "info"
    text: str


class Token(NamedTuple):
    """A ``crashkernel=`` token the kernel chose: character offsets in the command line."""

    start: int
    end: int
    text: str


class Outcome(NamedTuple):
    ret: int
    crash_size: int
    crash_base: int
    low_size: int | None
    cma_size: int | None
    high: bool | None
    accepted: bool
    messages: tuple[Message, ...]
    kernel: KernelRelease
    arch: str
    system_ram: int
    flow: str  # which code ran: a Flow (see flow_for()), or the function a ``variant`` called
    tokens: dict[str, Token]  # "plain", "high", "low", "cma" -> the token the kernel chose
    fadump: bool = False  # ppc64le with fadump=on: crashkernel= sizes fadump's boot memory
    fadump_size: int | None = None
    notes: tuple[str, ...] = ()  # where a distribution kernel is known to differ, and other caveats
    low_messages: tuple[Message, ...] = ()  # x86 <= 6.6: printed by reserve_crashkernel_low(), part of messages
    fadump_messages: tuple[Message, ...] = ()  # printed by fadump's sizing (fadump=on)

    @property
    def errno_name(self) -> str:
        return {0: "0", cr.ENOENT: "-ENOENT", cr.EINVAL: "-EINVAL"}.get(self.ret, str(self.ret))


class _Done(Protocol):
    """The Outcome builder of one evaluation (``evaluate``'s closure over the parser and the release)."""

    def __call__(self, out: cr.Result, ret: int, *, low: int | None, cma: int | None, high: bool | None,
                 accepted: bool, flow: str, low_msgs: tuple[Message, ...] = ()) -> Outcome: ...


def dialect_for(release: KernelRelease, arch: str | None = None) -> cr.Dialect:
    """The parser's release-dependent details (suffix table, round-up, number rules, message texts).

    ``arch`` matters only for a distribution kernel with ``crashkernel=auto`` (RHEL 8): its table is
    per architecture.
    """
    suffixes: tuple[bytes, ...] = (cr.SUFFIX_HIGH, cr.SUFFIX_LOW)
    if SWITCHES["cma_suffix"].on(release):
        suffixes += (cr.SUFFIX_CMA,)
    if SWITCHES["typo_fixed"].on(release):
        after_at = "crashkernel: Memory value expected after '@'"
    elif SWITCHES["prefix_messages"].on(release):
        after_at = "crahskernel: Memory value expected after '@'"
    else:
        after_at = "Memory value expected after '@'"
    size_expected = (
        "crashkernel: Memory value expected" if SWITCHES["prefix_messages"].on(release) else "Memory value expected"
    )
    return cr.Dialect(
        suffix_tbl=suffixes,
        roundup=SWITCHES["roundup_128m"].on(release),
        saturate=SWITCHES["memparse_saturates"].on(release),
        missing=cr.ENOENT if SWITCHES["enoent"].on(release) else cr.EINVAL,
        msg_size_expected=size_expected,
        msg_after_at=after_at,
        zero_msg=SWITCHES["zero_size_message"].on(release),
        auto=_auto_tables(release, arch),
    )


def _auto_tables(release: KernelRelease, arch: str | None) -> tuple[bytes, bytes | None] | None:
    if release.profile is None or arch is None:
        return None
    from .distros import get

    auto = get(release.profile).auto
    if not auto or arch not in auto:
        return None
    fadump = auto.get(arch + "-fadump")
    return auto[arch].encode(), fadump.encode() if fadump else None


def flow_for(arch: str, release: KernelRelease) -> Flow:
    """Which architecture code decides, for this release (``crashplan.kernel.features``, kernel-semantics
    §4.4, §5.4–§5.6).

    ``generic``      parse_crashkernel() with the pointers the architecture passes (6.7+)
    ``x86-legacy``   arch/x86/kernel/setup.c reserve_crashkernel(), 4.14 … 6.6
    ``arm64-legacy`` arch/arm64/mm/init.c reserve_crashkernel(), 5.19 … 6.6 (riscv 6.6 likewise)
    ``plain``        parse_crashkernel() for crashkernel=X[@Y] and ranges only; reserve when ret == 0
                     and size > 0 (arm64 4.14–5.18, riscv 5.13–6.5, loongarch 6.3–6.7, powerpc ≤ 6.14,
                     s390, arm, mips)
    ``none``         no crashkernel support (loongarch before 6.3, riscv before 5.13)
    """
    return features.flow(arch, release)


def to_bytes(text: str) -> bytes:
    """The bytes the kernel sees for ``text``: UTF-8; undecodable bytes kept (surrogateescape), lone
    surrogates passed through, so that no text is refused."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")



class _Parser:
    """One evaluation: the buffer, the dialect, the log."""

    def __init__(self, cmdline: str, release: KernelRelease, arch: str | None = None) -> None:
        raw = to_bytes(cmdline)
        try:
            cmdline.encode("utf-8", "surrogateescape")
            self._escaped = True
        except UnicodeEncodeError:
            self._escaped = False
        nul = raw.find(b"\0")
        self.s = raw if nul < 0 else raw[:nul]  # the C string ends at the first NUL
        self.text = cmdline
        self.d = dialect_for(release, arch)
        self.release = release
        self.log: cr.Log = []
        self.tokens: dict[str, Token] = {}
        # byte offset -> character offset, for reporting tokens in the caller's string
        self._ascii = len(raw) == len(cmdline)

    def _char_offset(self, b: int) -> int:
        if self._ascii:
            return b
        # decode with the handler to_bytes() encoded with; a cut inside a character counts it whole
        return len(self.s[:b].decode("utf-8", "surrogateescape" if self._escaped else "surrogatepass"))

    def parse(self, suffix: bytes | None, system_ram: int, out: cr.Result, key: str) -> int:
        ret = cr._parse_crashkernel(self.s, system_ram, out, suffix, self.d, self.log)
        if out.token is not None:
            end = self.s.find(b" ", out.token)
            end = len(self.s) if end < 0 else end
            a, b = self._char_offset(out.token), self._char_offset(end)
            self.tokens[key] = Token(a, b, self.text[a:b])
        return ret

    def generic_parse(
        self, system_ram: int, low_high: bool, cma: bool
    ) -> tuple[cr.Result, int, int | None, int | None, bool | None]:
        """kernel/crash_reserve.c:parse_crashkernel (6.7+ signature; the CMA pointer from 6.17).

        Returns (out, ret, low_size, cma_size, high).
        """
        generic_checks = SWITCHES["generic_x86_arm64_riscv"].on(self.release)
        out = cr.Result()
        low = cr.Result()
        cma_out = cr.Result()
        high: bool | None = False if low_high else None
        low_size: int | None = 0 if low_high else None
        # crashkernel=X[@offset]
        ret = self.parse(None, system_ram, out, "plain")
        if low_high and ret == cr.ENOENT:
            # If non-NULL 'high' passed in and no normal crashkernel setting detected, try
            # parsing crashkernel=,high|low.
            ret = self.parse(cr.SUFFIX_HIGH, 0, out, "high")
            if ret or not out.size:
                return out, cr.EINVAL, low_size, None if not cma else 0, high
            # crashkernel=Y,low can be specified or not, but invalid value is not allowed.
            ret = self.parse(cr.SUFFIX_LOW, 0, low, "low")
            out.base = low.base  # the low parse writes crash_base too
            if ret == cr.ENOENT:
                low.size = DEFAULT_LOW_SIZE_FOR[self.arch]
                ret = 0
            elif ret:
                return out, ret, low.size, None if not cma else 0, high
            low_size = low.size
            high = True
        cma_size: int | None = None
        if cma:
            # optional CMA reservation; cma_base is ignored, and so is the return value
            self.parse(cr.SUFFIX_CMA, 0, cma_out, "cma")
            cma_size = cma_out.size
        if generic_checks:
            if not out.size:
                ret = cr.EINVAL
            if SWITCHES["size_ge_ram"].on(self.release) and out.size >= system_ram:
                ret = cr.EINVAL
        return out, ret, low_size, cma_size, high

    arch = "x86_64"


DEFAULT_LOW_SIZE_FOR = DEFAULT_LOW_SIZE


def _fadump_state(cmdline: str) -> bool:
    """``fadump=on|nocma`` as the early_param handler sees it (next_arg tokenising; the last wins)."""
    from crashplan.cmdline import split_params

    enabled = False
    for param in split_params(cmdline):
        if param.name == "fadump" and param.value is not None:
            v = param.value
            if v.startswith("on") or v == "nocma":
                enabled = True
            elif v.startswith("off"):
                enabled = False
    return enabled


def _with_fadump(o: Outcome, cmdline: str) -> Outcome:
    """powerpc with fadump=on: the same parse sizes fadump's boot memory (``fadump``, ``fadump_size``).

    The kdump fields keep what arch_reserve_crashkernel() would decide; when fadump reserves its
    memory that function does not run at all (arch/powerpc/kernel/prom.c), so callers must look at
    ``fadump`` first.
    """
    if o.arch != "ppc64le" or not _fadump_state(cmdline):
        return o
    size, msgs = _fadump_size(o)
    return o._replace(fadump=True, fadump_size=size, fadump_messages=msgs)


def _distro_notes(release: KernelRelease, cmdline: str) -> tuple[str, ...]:
    """What the distribution profile of ``release`` changes or leaves uncertain (crashplan.kernel.distros).

    A release string with a distribution suffix but no profile gets one note that the mainline base
    is modelled.  Sources are in the profile's facts (``distribution_facts``), not repeated here.
    """
    if release.profile is not None:
        from .distros import get

        p = get(release.profile)
        return tuple(f"{p.name}: {f.what}" + ("" if f.certainty.startswith("read") else f" ({f.certainty})")
                     for f in p.facts if f.about is None or f.about in cmdline)
    if release.distro is not None:
        from .distros import unknown_note

        return (unknown_note(release.text, release.series),)
    return ()


def distribution_facts(release: str | KernelRelease) -> dict[str, object] | None:
    """The profile of a distribution release as data (for JSON): key, name, base, facts with sources."""
    rel = release if isinstance(release, KernelRelease) else parse_release(release)
    if rel.profile is None:
        return None
    from .distros import get

    p = get(rel.profile)
    return {
        "profile": p.key, "name": p.name, "family": p.family, "base": f"{p.base[0]}.{p.base[1]}",
        "switches_on": sorted(p.on), "switches_off": sorted(p.off), "auto": bool(p.auto),
        "facts": [{"what": f.what, "source": f.source, "certainty": f.certainty} for f in p.facts],
    }


__all__ += ["distribution_facts"]


def evaluate(
    cmdline: str,
    *,
    system_ram: int,
    kernel: str | KernelRelease,
    arch: str,
    variant: str | None = None,
) -> Outcome:
    """Replay the kernel's parsing of ``crashkernel=`` on ``cmdline``.

    ``system_ram`` is the value the architecture passes (``memblock_phys_mem_size()`` on most, see
    kernel-semantics §4.5), 0 … 2^64-1.  ``kernel`` is a release (``6.12``, ``6.12.107``,
    ``6.12.0-55.el10.x86_64``); ``arch`` a ``uname -m`` or Debian name.

    ``variant`` calls one kernel function directly instead of the architecture's sequence, for
    testing against recorded vectors: ``fn:parse_crashkernel``, ``fn:parse_crashkernel_high``,
    ``fn:parse_crashkernel_low`` (≤ 6.6 names), ``none``, ``high,low``, ``cma``, ``high,low,cma``
    (the pointers passed to the 6.7+ ``parse_crashkernel``).
    """
    release = kernel if isinstance(kernel, KernelRelease) else parse_release(kernel)
    a = "any" if arch.strip().lower() == "any" else normalize_arch(arch)
    system_ram = int(system_ram) & ((1 << 64) - 1)
    p = _Parser(cmdline, release, a)
    p.arch = a if a in DEFAULT_LOW_SIZE else "x86_64"
    notes = _distro_notes(release, cmdline)

    def done(out: cr.Result, ret: int, *, low: int | None, cma: int | None, high: bool | None,
             accepted: bool, flow: str, low_msgs: tuple[Message, ...] = ()) -> Outcome:
        return Outcome(
            ret=ret, crash_size=out.size, crash_base=out.base, low_size=low, cma_size=cma, high=high,
            accepted=accepted, messages=tuple(Message(*m) for m in p.log), kernel=release, arch=a,
            system_ram=system_ram, flow=flow, tokens=dict(p.tokens), notes=notes, low_messages=low_msgs,
        )

    if variant is None and a == "any":
        variant = "none" if SWITCHES["parse_checks_all"].on(release) else "fn:parse_crashkernel"

    if variant is not None:
        return _variant(p, variant, system_ram, done)

    flow = flow_for(a, release)
    if flow == "none":
        return done(cr.Result(), cr.EINVAL, low=None, cma=None, high=None, accepted=False, flow=flow)

    if flow == "generic":
        low_high, cma = features.pointers(a, release)
        out, ret, low, cma_size, high = p.generic_parse(system_ram, low_high, cma)
        o = done(out, ret, low=low, cma=cma_size, high=high, accepted=ret == 0, flow=flow)
        return _with_fadump(o, cmdline)

    if flow == "plain":
        out = cr.Result()
        ret = p.parse(None, system_ram, out, "plain")
        if SWITCHES["parse_checks_all"].on(release):
            if not out.size:
                ret = cr.EINVAL
            if SWITCHES["size_ge_ram"].on(release) and out.size >= system_ram:
                ret = cr.EINVAL
        o = done(out, ret, low=None, cma=None, high=None, accepted=ret == 0 and out.size > 0, flow=flow)
        return _with_fadump(o, cmdline)

    if flow == "x86-legacy":
        return _x86_legacy(p, system_ram, done)

    return _arm64_legacy(p, system_ram, done, default_low=SWITCHES["arm64_fallback"].on(release) or a == "riscv64")


def _x86_legacy(p: _Parser, system_ram: int, done: _Done) -> Outcome:
    """arch/x86/kernel/setup.c:reserve_crashkernel(), 4.14 … 6.6 (its parse decisions).

    An invalid or zero plain token still falls through to ``,high``.  When ``high``,
    ``low_size`` is what reserve_crashkernel_low() would use: the parsed ``,low``, or
    ``max(swiotlb + 8M, 256M)`` when that parse fails.  The RAM figure passed to that parse
    (``min(RAM, 4 GiB)`` from 5.10, the RAM below 4 GiB before) is never read by a suffix parse;
    only the log line shows it (``crashplan.simulate``).
    """
    out = cr.Result()
    high = False
    # crashkernel=XM
    ret = p.parse(None, system_ram, out, "plain")
    if ret != 0 or out.size <= 0:
        # crashkernel=X,high
        ret = p.parse(cr.SUFFIX_HIGH, system_ram, out, "high")
        if ret != 0 or out.size <= 0:
            return done(out, ret, low=None, cma=None, high=False, accepted=False, flow=Flow.X86_LEGACY)
        high = True
    low: int | None = None
    low_msgs: tuple[Message, ...] = ()
    if high:
        before = len(p.log)
        lo = cr.Result()
        r = p.parse(cr.SUFFIX_LOW, min(system_ram, 1 << 32), lo, "low")
        low = DEFAULT_LOW_SIZE["x86_64"] if r else lo.size
        low_msgs = tuple(Message(*m) for m in p.log[before:])
    return done(out, ret, low=low, cma=None, high=high, accepted=True, flow=Flow.X86_LEGACY, low_msgs=low_msgs)


def _arm64_legacy(p: _Parser, system_ram: int, done: _Done, *, default_low: bool) -> Outcome:
    """arch/arm64/mm/init.c:reserve_crashkernel(), 5.19 … 6.6 (riscv 6.6 likewise): parse decisions."""
    out = cr.Result()
    low = cr.Result()
    high = False
    flow = Flow.ARM64_LEGACY
    # crashkernel=X[@offset]
    ret = p.parse(None, system_ram, out, "plain")
    if ret == cr.ENOENT:
        ret = p.parse(cr.SUFFIX_HIGH, 0, out, "high")
        if ret or not out.size:
            return done(out, ret, low=0, cma=None, high=False, accepted=False, flow=flow)
        # crashkernel=Y,low can be specified or not, but invalid value is not allowed.
        ret = p.parse(cr.SUFFIX_LOW, 0, low, "low")
        out.base = low.base
        if ret == cr.ENOENT:
            if default_low:
                low.size = DEFAULT_LOW_SIZE_FOR[p.arch]
        elif ret:
            return done(out, ret, low=low.size, cma=None, high=False, accepted=False, flow=flow)
        high = True
    elif ret or not out.size:
        # The specified value is invalid
        return done(out, ret, low=0, cma=None, high=False, accepted=False, flow=flow)
    return done(out, ret, low=low.size, cma=None, high=high, accepted=True, flow=flow)


def _fadump_size(o: Outcome) -> tuple[int, tuple[Message, ...]]:
    """arch/powerpc/kernel/fadump.c:fadump_calculate_reserve_size() (fadump=on).

    crashkernel= (plain or range, ``@offset`` ignored) sizes the boot memory, capped at RAM/4; without
    a valid one, 5% of RAM rounded down to 256 MiB, at least the platform minimum (RTAS 320 MiB
    assumed).  ``,cma`` is ignored: arch_reserve_crashkernel(), which records it, does not run.
    """
    msgs: list[Message] = []
    if o.ret == 0 and o.crash_size > 0:
        size = o.crash_size
        max_size = o.system_ram // 4
        if size > max_size:
            size = max_size
            msgs.append(Message("info", f"fadump: Adjusted boot memory size to {size >> 20}MB"))
    else:
        size = (o.system_ram // 20) & ~0x0FFFFFFF
        size = max(size, 0x14000000)
    return size, tuple(msgs)


def _variant(p: _Parser, variant: str, system_ram: int, done: _Done) -> Outcome:
    out = cr.Result()
    if variant == "fn:parse_crashkernel":
        ret = p.parse(None, system_ram, out, "plain")
        return done(out, ret, low=None, cma=None, high=None, accepted=ret == 0 and out.size > 0, flow=variant)
    if variant in ("fn:parse_crashkernel_high", "fn:parse_crashkernel_low"):
        suffix = cr.SUFFIX_HIGH if variant.endswith("high") else cr.SUFFIX_LOW
        ret = p.parse(suffix, system_ram, out, suffix.decode()[1:])
        return done(out, ret, low=None, cma=None, high=None, accepted=ret == 0 and out.size > 0, flow=variant)
    if variant == "seq:x86_64":
        return _x86_legacy(p, system_ram, done)
    if variant == "seq:arm64":
        return _arm64_legacy(p, system_ram, done, default_low=SWITCHES["arm64_fallback"].on(p.release))
    ptrs = set(variant.split(",")) if variant != "none" else set()
    unknown = ptrs - {"high", "low", "cma"}
    if unknown:
        raise ValueError(f"unknown variant {variant!r}")
    low_high = "high" in ptrs
    if low_high and p.arch not in DEFAULT_LOW_SIZE:
        p.arch = "x86_64"
    out, ret, low, cma_size, high = p.generic_parse(system_ram, low_high, "cma" in ptrs)
    return done(out, ret, low=low, cma=cma_size, high=high, accepted=ret == 0, flow=variant)


def cma_supported(arch: str, kernel: str | KernelRelease) -> bool:
    """Whether this release reserves ``crashkernel=X,cma`` on this architecture (kernel-semantics §6.1)."""
    release = kernel if isinstance(kernel, KernelRelease) else parse_release(kernel)
    return features.cma_supported(normalize_arch(arch), release)


def high_low_supported(arch: str, kernel: str | KernelRelease) -> bool:
    """Whether this release reads ``crashkernel=X,high`` / ``,low`` on this architecture."""
    release = kernel if isinstance(kernel, KernelRelease) else parse_release(kernel)
    return features.high_low_supported(normalize_arch(arch), release)


def cma_first_release(arch: str) -> str | None:
    """The first release that reserves ``,cma`` on ``arch`` (None: no release up to the newest modelled).

    Computed from the architecture table (``crashplan.kernel.features``).
    """
    return features.first_release(normalize_arch(arch), "cma")


__all__ += ["cma_first_release", "cma_supported", "high_low_supported"]


def kexec_crash_size(crash_size: int, low_size: int, kernel: str | KernelRelease) -> int:
    """What ``/sys/kernel/kexec_crash_size`` reports for these regions (never CMA).

    Up to 6.4 it is the main region only; from 6.5 the low region is included (kernel-semantics §7.2).
    """
    release = kernel if isinstance(kernel, KernelRelease) else parse_release(kernel)
    return crash_size + (low_size if SWITCHES["kexec_crash_size_low"].on(release) else 0)


def crash_res_in_iomem(arch: str, kernel: str | KernelRelease) -> bool:
    """Whether ``/proc/iomem`` shows the ``Crash kernel`` region (powerpc: only 6.15–6.17, §5.7)."""
    release = kernel if isinstance(kernel, KernelRelease) else parse_release(kernel)
    return bool(features.has(normalize_arch(arch), "crash_res_in_iomem", release))


__all__ += ["crash_res_in_iomem", "kexec_crash_size", "to_bytes"]
