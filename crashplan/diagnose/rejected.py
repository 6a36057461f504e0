"""Why the kernel reserves nothing: CK1xx for the token it chose (or the lack of one)."""

from __future__ import annotations

import re

from crashplan.kernel import Outcome, cma_first_release, cma_supported, high_low_supported
from crashplan.kernel.features import releases_text, switch_release
from crashplan.kernel.versions import SWITCHES, KernelRelease

from .accepted import range_miss
from .collect import Chosen, Collector, fix_accepted, kernel_says, replace
from .model import ERROR, WARNING, Target
from .tokens import CrashToken, fraction, strip_unit_text

__all__ = ["rejected"]


def rejected(cmdline: str, toks: list[CrashToken], kinds: dict[str, list[CrashToken]], t: Target,
             release: KernelRelease, arch: str, o: Outcome, col: Collector,
             plain: CrashToken | None, chosen: Chosen) -> None:
    """The kernel reserves nothing: say why, for the token it chose (or the lack of one)."""
    del toks  # the same signature as accepted(); the kinds say all this needs
    kmsg = kernel_says(o)
    if plain is None:
        _no_plain(cmdline, kinds, t, release, arch, o, col, chosen, kmsg)
    elif not _plain_spelling(cmdline, kinds, t, release, arch, col, plain, kmsg):
        _plain_value(cmdline, kinds, t, release, o, col, plain, chosen, kmsg)


def _plain_spelling(cmdline: str, kinds: dict[str, list[CrashToken]], t: Target, release: KernelRelease,
                    arch: str, col: Collector, plain: CrashToken, kmsg: str) -> bool:
    """CK102, CK122, CK103, CK104, CK105, CK106: the plain token is written wrong; True when one was reported."""
    cma_ok = cma_supported(arch, release)
    first_cma = cma_first_release(arch)
    span = (plain.start, plain.end)
    v = plain.value
    m = re.match(r"^([^ ,]+),cma=(\S+)$", v)
    if m:
        a, b = m.group(1), m.group(2)
        # the plain token last: every release reads it (before 6.17 the ,cma token counts as a plain
        # candidate, and the last one wins), and releases with ,cma read both
        two = f"crashkernel={a} crashkernel={b},cma" if cma_ok else f"crashkernel={b},cma crashkernel={a}"
        cma_note = (f" (,cma needs Linux {releases_text('cma', style='plus')})" if cma_ok else
                    f"; Linux {release.label} on {arch} ignores the ,cma part"
                    + (f" (CMA crash memory from {first_cma})" if first_cma else ""))
        col.add("CK102", f"`{plain.text}` is one token: the kernel rejects all of it{kmsg}; kdump is disabled, "
                f"no CMA is reserved and cma= is not set. Write `{two}`{cma_note}", t, span=span,
                fix=replace(cmdline, plain.start, plain.end, two),
                detail=f"Keep the plain token last: before {switch_release('cma_suffix')} `,cma` is not a suffix, so "
                "the last plain-looking token wins. `crashkernel=Y,cma crashkernel=X` reserves X everywhere and the "
                f"CMA part where supported ({releases_text('cma', style='paren')}).")
        return True
    if re.search(r"\\?[<>]|,below=", v):
        xm = re.match(r"([^\\<>,]*)", v)
        size = xm.group(1) if xm else ""
        plain_fix = replace(cmdline, plain.start, plain.end, f"crashkernel={size}") if size else None
        col.add("CK122", f"`{plain.text}` is Xen hypervisor syntax (an upper bound for the region): Linux "
                f"rejects it{kmsg} and reserves nothing. If it is meant for Xen, put it on the hypervisor's line "
                "(GRUB_CMDLINE_XEN); for Linux write a plain size"
                + (f" (`crashkernel={size}` is placed below 4 GiB when it fits)" if size else ""),
                t, span=span, fix=plain_fix)
        return True
    if plain.suffix == "cma" and not SWITCHES["cma_suffix"].on(release):
        others = [tok for tok in kinds["plain"] if tok is not plain and tok.suffix != "cma"]
        if others:
            keep = others[-1]
            fix = replace(cmdline, plain.start, plain.end, keep.text)
            fix = replace(fix, keep.start, keep.end, plain.text) if keep.start < plain.start else fix
            col.add("CK103", f"Linux {release.label} does not know ,cma: `{plain.text}` is the last plain-looking "
                    f"token and is rejected{kmsg}; kdump is disabled. Put `{keep.text}` last", t, span=span,
                    fix=fix)
        else:
            col.add("CK103", f"Linux {release.label} does not know ,cma: `{plain.text}` is rejected{kmsg}; "
                    f"kdump is disabled (,cma needs {first_cma or 'a newer kernel'} on {arch})", t, span=span)
        return True
    if '"' in v or (plain.start > 0 and cmdline[plain.start - 1] == '"'):
        unq = plain.text.replace('"', "")
        s = plain.start - 1 if plain.start > 0 and cmdline[plain.start - 1] == '"' else plain.start
        col.add("CK104", f"`{cmdline[s:plain.end]}`: quotes are part of the value for the crashkernel parser{kmsg}; "
                "kdump is disabled", t, span=(s, plain.end), fix=replace(cmdline, s, plain.end, unq))
        return True
    ws = re.search(r"[\t\n\r\v\f]", v)
    if ws:
        pos = plain.start + len("crashkernel=") + ws.start()
        col.add("CK105", f"a {'TAB' if ws.group() == chr(9) else 'newline'} after `{plain.text[:pos - plain.start]}` "
                f"is part of the value (only a space ends it){kmsg}; kdump is disabled", t, span=(pos, pos + 1),
                fix=re.sub(r"[\t\n\r\v\f]", " ", cmdline))
        return True
    if (v.strip() == "auto" or v.startswith("auto")) and release.profile is not None:
        from crashplan.kernel.distros import get

        prof = get(release.profile)
        if prof.auto_removed or prof.family == "rhel":
            from crashplan.sizing.distro_defaults import distribution_default

            dd = distribution_default(t.kernel, arch, t.system_ram)
            new = dd.cmdline if dd is not None and dd.cmdline else "crashkernel=2G-64G:256M,64G-:512M"
            col.add("CK106", f"`{plain.text}`: {prof.name} no longer has crashkernel=auto (RHEL 8 only); it "
                    f"rejects it{kmsg} and reserves nothing. A RHEL 8 line kept across an upgrade does this: "
                    f"use the RHEL default `{new}` (what `kdumpctl reset-crashkernel` writes)", t, span=span,
                    fix=replace(cmdline, plain.start, plain.end, new))
            return True
    if v.strip() == "auto" or v.startswith("auto"):
        example = next((c for c in ("crashkernel=2G-64G:256M,64G-:512M", "crashkernel=1G-64G:256M,64G-:512M",
                                    "crashkernel=256M", "crashkernel=128M")
                        if fix_accepted(replace(cmdline, plain.start, plain.end, c), t)), None)
        col.add("CK106", f"`{plain.text}` is a RHEL-only patch; Linux {release.label} rejects it{kmsg} and "
                "reserves nothing. Use a size or a range ("
                + (f"e.g. `{example}`, or " if example else "") + "run `crashplan suggest`)", t, span=span)
        return True
    return False


def _plain_value(cmdline: str, kinds: dict[str, list[CrashToken]], t: Target, release: KernelRelease,
                 o: Outcome, col: Collector, plain: CrashToken, chosen: Chosen, kmsg: str) -> None:
    """CK112, CK108, CK109, CK120, CK114, CK212, CK101, CK110, CK107: the plain token's value."""
    from crashplan.units import format_size

    span = (plain.start, plain.end)
    v = plain.value
    if re.match(r"^[^ :]*[@]\S*,(high|low|cma)$", v) or (":" in v and re.search(r",(high|low)$", v)):
        col.add("CK112", f"`{plain.text}`{kmsg}: @offset and ranges cannot be combined with a suffix", t, span=span)
        return
    if any(m.text == "crashkernel: invalid size" for m in o.messages):
        col.add("CK108", f"`{plain.text}`: an entry's size is not below this RAM "
                f"({format_size(t.system_ram)}, rounded up to 128M){kmsg}; the whole parameter is rejected", t,
                span=span)
        return
    if any(m.text == "crashkernel size resulted in zero bytes" for m in o.messages):
        range_miss(cmdline, plain, t, release, col)
        return
    unit_fixed = strip_unit_text(v)
    if unit_fixed != v and any(m.level == "warn" for m in o.messages):
        col.add("CK120", f"`{plain.text}`: the kernel reads one unit letter (K, M, G…), not MB or GiB{kmsg}; "
                "kdump is disabled", t, span=span,
                fix=replace(cmdline, plain.start, plain.end, "crashkernel=" + unit_fixed))
        return
    if any(m.level == "warn" for m in o.messages):
        if chosen("high") is not None or kinds["high"]:
            hi = kinds["high"][-1] if kinds["high"] else None
            col.add("CK114", f"`{plain.text}` is rejected{kmsg}; because a plain token exists, "
                    f"`{hi.text if hi else ',high'}` is never read: kdump is disabled", t, span=span)
            return
        if fraction(v) >= 0:
            col.add("CK212", f"`{plain.text}`: sizes cannot have fractions{kmsg}; kdump is disabled", t, span=span)
            return
        col.add("CK101", f"the kernel rejects `{plain.text}`{kmsg}; kdump is disabled", t, span=span)
        return
    if o.crash_size == 0:
        col.add("CK110", f"`{plain.text}` is a zero size: nothing is reserved", t, span=span)
        return
    if o.crash_size >= t.system_ram:
        col.add("CK107", f"`{plain.text}` asks for {format_size(o.crash_size)}, not less than RAM "
                f"({format_size(t.system_ram)}): nothing is reserved", t, span=span)
        return
    col.add("CK101", f"the kernel does not reserve `{plain.text}`{kmsg}", t, span=span)
    return


def _no_plain(cmdline: str, kinds: dict[str, list[CrashToken]], t: Target, release: KernelRelease, arch: str,
              o: Outcome, col: Collector, chosen: Chosen, kmsg: str) -> None:
    """No plain token: the ,high / ,low / ,cma tokens alone (CK115, CK112, CK118, CK107, CK101, CK208, CK111,
    CK117, CK116)."""
    from crashplan.units import format_size

    # no plain token
    high = chosen("high")
    low = chosen("low")
    cma = kinds["cma"][-1] if kinds["cma"] and SWITCHES["cma_suffix"].on(release) else None
    if high is not None:
        span = (high.start, high.end)
        if any(m.level == "warn" for m in o.messages) and low is not None and o.crash_size > 0 \
                and not any(":" in x or "@" in x for x in (high.value,)):
            col.add("CK115", f"`{low.text}` is invalid{kmsg}: the ,high reservation is dropped too", t,
                    span=(low.start, low.end))
            return
        if "@" in high.value or ":" in high.value:
            col.add("CK112", f"`{high.text}`{kmsg}: @offset and ranges cannot be combined with a suffix", t, span=span)
            return
        if o.crash_size == 0 and not any(m.level == "warn" for m in o.messages):
            col.add("CK118", f"`{high.text}` is a zero size: nothing is reserved", t, span=span)
            return
        if o.crash_size >= t.system_ram and not any(m.level == "warn" for m in o.messages):
            col.add("CK107", f"`{high.text}` asks for {format_size(o.crash_size)}, not less than RAM "
                    f"({format_size(t.system_ram)}): nothing is reserved", t, span=span)
            return
        col.add("CK101", f"the kernel rejects `{high.text}`{kmsg}; kdump is disabled", t, span=span)
        return
    if kinds["high"] and not high_low_supported(arch, release):
        h = kinds["high"][-1]
        col.add("CK208", f"Linux {release.label} on {arch} ignores `{h.text}`: nothing is reserved", t,
                span=(h.start, h.end), severity=ERROR if t.declared else WARNING)
        return
    if cma is not None:
        if arch == "ppc64le" and o.cma_size:
            col.add("CK111", f"only `{cma.text}`: powerpc reserves the CMA part but no standard region for the "
                    "capture kernel and initrd; add a plain crashkernel= for them", t, span=(cma.start, cma.end))
        else:
            add = replace(cmdline, cma.start, cma.end, f"{cma.text} crashkernel=256M")
            col.add("CK111", f"only `{cma.text}`: without a plain crashkernel= the kernel never reads ,cma and "
                    "reserves nothing; add one"
                    + (f" (e.g. `{cma.text} crashkernel=256M`)" if fix_accepted(add, t) else ""), t,
                    span=(cma.start, cma.end))
        return
    if kinds["low"]:
        lo = kinds["low"][-1]
        col.add("CK117", f"only `{lo.text}`: ,low is read only with ,high, nothing is reserved", t,
                span=(lo.start, lo.end))
        return
    col.add("CK116", "no crashkernel= token this kernel reads: nothing is reserved for kdump", t)
