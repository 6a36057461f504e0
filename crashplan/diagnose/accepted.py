"""What goes wrong although the kernel reserves memory: CK2xx; and a range list that matches nothing."""

from __future__ import annotations

import re

from crashplan.kernel import Outcome, cma_first_release, cma_supported, high_low_supported
from crashplan.kernel._cmdline import memparse
from crashplan.kernel.features import has, switch_release
from crashplan.kernel.versions import SWITCHES, KernelRelease

from .collect import Chosen, Collector, fix_accepted, kernel_says, replace
from .model import ERROR, WARNING, Target
from .tokens import CrashToken

__all__ = ["accepted", "range_miss"]

def range_miss(cmdline: str, plain: CrashToken, t: Target, release: KernelRelease, col: Collector) -> None:
    from crashplan.units import format_size

    ram = t.system_ram
    rounded = -(-ram // (128 << 20)) * (128 << 20) if SWITCHES["roundup_128m"].on(release) else ram
    v = plain.value
    # an @offset after an entry that is not the last one: parse_crashkernel_mem() (kernel/crash_reserve.c)
    # reads the list with `} while (*cur++ == ',');`, so the `@` after a size that did not match ends the
    # list; only after a matching entry does it scan on to the `@` and read the offset
    at = re.search(r"@((?:0[xX][0-9a-fA-F]+|\d+)[kKmMgGtTpPeE]?)(?=,)", v)
    if at and ":" in v[:at.start()]:
        before = v[:at.start()].split(",")[-1]
        rest = v[at.end() + 1:]
        offs = re.findall(r"@((?:0[xX][0-9a-fA-F]+|\d+)[kKmMgGtTpPeE]?)", v)
        moved = None
        if len(set(offs)) == 1:  # one offset written after several entries: it belongs after the last one
            moved = "crashkernel=" + re.sub(r"@((?:0[xX][0-9a-fA-F]+|\d+)[kKmMgGtTpPeE]?)", "", v) + "@" + offs[0]
        col.add("CK218", f"`@{at.group(1)}` after `{before}` ends the range list: the kernel reads an @offset only "
                f"after the last entry, so `{rest}` is never read and nothing is reserved on {format_size(ram)}"
                + (f". Write `{moved}`" if moved and fix_accepted(replace(cmdline, plain.start, plain.end, moved), t)
                   else ""),
                t, span=(plain.start, plain.end),
                fix=replace(cmdline, plain.start, plain.end, moved) if moved else None)
        return
    # did junk in a non-matching entry cut the list short?
    entries = v.split("@")[0].split(",")
    for i, ent in enumerate(entries[:-1]):
        if not re.fullmatch(r"\s*(0[xX][0-9a-fA-F]+|\d+)[kKmMgGtTpPeE]?-((0[xX][0-9a-fA-F]+|\d+)[kKmMgGtTpPeE]?)?:"
                            r"(0[xX][0-9a-fA-F]+|\d+)[kKmMgGtTpPeE]?", ent):
            col.add("CK218", f"`{ent}` in `{plain.text}` is not a clean range entry: the kernel stops reading there "
                    f"and never sees `{','.join(entries[i + 1:])}`; nothing is reserved on {format_size(ram)}", t,
                    span=(plain.start, plain.end))
            return
    col.add("CK109", f"no entry of `{plain.text}` matches {format_size(ram)} of RAM"
            + (f" (rounded up to {format_size(rounded)})" if rounded != ram else "")
            + ": the kernel reserves nothing (“crashkernel size resulted in zero bytes”)", t,
            span=(plain.start, plain.end), severity=ERROR if t.declared else WARNING)


def accepted(cmdline: str, toks: list[CrashToken], kinds: dict[str, list[CrashToken]], t: Target,
             release: KernelRelease, arch: str, o: Outcome, col: Collector,
             plain: CrashToken | None, chosen: Chosen) -> None:
    from crashplan.units import format_size

    cma_ok = cma_supported(arch, release) and not o.fadump
    hl_ok = high_low_supported(arch, release)
    # ,high / ,low ignored
    if plain is not None:
        for hi in kinds["high"][-1:]:
            if hl_ok:
                col.add("CK206", f"`{hi.text}` is ignored because `{plain.text}` exists (a plain token wins)", t,
                        span=(hi.start, hi.end))
            else:
                col.add("CK208", f"Linux {release.label} on {arch} ignores `{hi.text}`", t, span=(hi.start, hi.end))
        for lo in kinds["low"][-1:]:
            if not hl_ok:
                col.add("CK208", f"Linux {release.label} on {arch} ignores `{lo.text}`", t, span=(lo.start, lo.end))
            elif o.flow != "x86-legacy":
                col.add("CK207", f"`{lo.text}` is ignored: with a plain crashkernel= the kernel never reads ,low "
                        "(on fallback above 4 GiB it uses its default low size)", t, span=(lo.start, lo.end))
    # ,cma
    cmas = [tok for tok in toks if tok.suffix == "cma"]
    if cmas:
        ct = cmas[-1]
        if not cma_ok:
            why = "fadump is active" if o.fadump else (
                f"Linux {release.label} does not reserve CMA crash memory on {arch}"
                + (f" (from {cma_first_release(arch)})" if cma_first_release(arch) else ""))
            col.add("CK209", f"`{ct.text}` is ignored: {why}", t, span=(ct.start, ct.end))
        else:
            if any(m.level == "warn" for m in o.messages) and o.tokens.get("cma") and chosen("cma") is ct:
                col.add("CK113", f"`{ct.text}` is malformed{kernel_says(o)}; the kernel still reserves "
                        f"{format_size(o.cma_size or 0)} of CMA from its first number", t, span=(ct.start, ct.end))
            col.add("CK210", "CMA crash memory: pages production allocates there are not in the dump (filter user "
                    "pages, dump level with bit 8), the kernel waits 10 s for DMA before starting the capture kernel, "
                    "and only kexec_file_load (kexec -s) gives the capture kernel the CMA memory", t,
                    span=(ct.start, ct.end))
    tok = plain or chosen("high")
    if tok is None:
        return
    span = (tok.start, tok.end)
    v = tok.value
    # trailing garbage that the kernel tolerates
    if ":" in v.split(" ")[0] and tok is plain:
        _range_checks(tok, t, release, o, col)
    elif "@" in v:
        off_part = v.split("@", 1)[1]
        mm = re.match(r"(0[xX][0-9a-fA-F]+|\d+)[kKmMgGtTpPeE]?", off_part)
        if mm and mm.end() < len(off_part):
            col.add("CK204", f"`{off_part[mm.end():]}` after the offset in `{tok.text}` is ignored by the kernel", t,
                    span=span)
    # fixed offset
    if o.crash_base:
        align = {"x86_64": (16 << 20) if o.flow == "generic" else (1 << 20), "arm64": 2 << 20,
                 "riscv64": 2 << 20, "loongarch64": 2 << 20}.get(arch)
        notes = []
        if align and o.crash_base % align:
            notes.append(f"{format_size(o.crash_base)} is not {format_size(align)}-aligned, so the kernel will fail "
                         "with “crashkernel reservation failed - memory is in use.”")
        if o.flow == "generic" and o.crash_base >= 1 << 32 and arch in ("x86_64", "arm64", "riscv64", "loongarch64"):
            notes.append(f"at or above 4 GiB no low region is reserved ({switch_release('generic_x86_arm64_riscv')}+)")
        if arch == "ppc64le" or arch == "s390x":
            notes.append("the kernel rounds the base up silently")
        msg = f"`{tok.text}` asks for a fixed base: the kernel reserves exactly there or nothing"
        if notes:
            msg += "; " + "; ".join(notes)
        msg += ". Prefer automatic placement (drop @offset)"
        col.add("CK213", msg, t, span=span)
    # large plain sizes on x86 and friends
    if tok is plain and not o.crash_base and arch == "x86_64" and o.crash_size >= (2 << 30):
        low = "256M" if o.flow == "generic" else "256M (or the ,low size)"
        col.add("CK214", f"{format_size(o.crash_size)} will probably not fit below 4 GiB: the kernel then places it "
                f"high and adds a {low} low region; production loses both", t, span=span)
    if has(arch, "dma_fallback", release) is False:  # arm64 before its fallback above the DMA limit
        if o.high and not o.low_size:
            col.add("CK215", f"Linux {release.label} on arm64 reserves no low region for `{tok.text}` "
                    "(add crashkernel=…,low)", t, span=span)
        elif tok is plain and o.crash_size >= (1 << 30):
            col.add("CK215", f"Linux {release.label} on arm64 cannot fall back above the DMA limit: "
                    f"{format_size(o.crash_size)} must fit below it", t, span=span)


def _range_checks(tok: CrashToken, t: Target, release: KernelRelease, o: Outcome, col: Collector) -> None:
    from crashplan.units import format_size

    span = (tok.start, tok.end)
    ram = t.system_ram
    roundup = SWITCHES["roundup_128m"].on(release)
    rounded = -(-ram // (128 << 20)) * (128 << 20) if roundup else ram
    entries = tok.value.split("@")[0].split(",")
    ent_re = re.compile(r"(0[xX][0-9a-fA-F]+|\d+[kKmMgGtTpPeE]?)-((?:0[xX][0-9a-fA-F]+|\d+)[kKmMgGtTpPeE]?)?:"
                        r"((?:0[xX][0-9a-fA-F]+|\d+)[kKmMgGtTpPeE]?)(.*)")
    for ent in entries:
        m = ent_re.fullmatch(ent)
        if not m:
            continue
        start = memparse(m.group(1).encode(), 0)[0]
        end = memparse(m.group(2).encode(), 0)[0] if m.group(2) else None
        size = memparse(m.group(3).encode(), 0)[0]
        matched = start <= rounded and (end is None or rounded < end)
        if matched and size == o.crash_size and m.group(4) and not re.match(r"\.\d", m.group(4)):
            col.add("CK204", f"`{m.group(4)}` after `{m.group(3)}` in `{tok.text}` is ignored by the kernel "
                    "(probably a typo)", t, span=span)
        if end is not None and end == rounded:
            col.add("CK211", f"`{ent}` ends at {format_size(end)}: the end is exclusive, so {format_size(ram)} of RAM"
                    + (f" (rounded up to {format_size(rounded)})" if rounded != ram else "")
                    + " does not match it", t, span=span)
        elif roundup and ram < start <= rounded:
            col.add("CK211", f"`{ent}` starts at {format_size(start)}: {format_size(ram)} of RAM is rounded up to "
                    f"{format_size(rounded)} and matches it", t, span=span)
        elif not roundup and start > ram and start - ram < (256 << 20):
            col.add("CK211", f"`{ent}` starts at {format_size(start)}: this kernel does not round RAM up, so "
                    f"{format_size(ram)} misses it", t, span=span)
