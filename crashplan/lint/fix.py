"""``--fix``: turn a diagnosis' corrected command line into edits of the file's own characters.

A diagnosis offers the whole corrected command line (``Diagnosis.fix``).  The difference between the old and
the new command line is mapped back through the characters' origins to byte-exact edits of the file; the
quotes, comments and every other variable stay as they are.  An edit is only made when

* every character it removes or replaces was written literally in one place of one file (not produced by
  a ``$VAR`` used twice, not a space the boot loader adds),
* the text it inserts contains no quote, backslash, ``$``, backquote, ``;``, ``#`` or newline (so the file's
  quoting cannot change), and no blank where a blank would end a shell word,
* reading the edited files again yields exactly the corrected command line (compared token by token).

Otherwise the finding stays and says that no automatic fix applies.  Pure: texts in, texts out.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from crashplan.lint.config import LintConfig
from crashplan.lint.engine import Finding, LintRun, Report, _diagnose, crash_values, default_targets
from crashplan.lint.located import SYNTH, unpack
from crashplan.lint.sources import CmdlineDef, SourceFile, group_root
from crashplan.severity import RANK, Severity

TYPE_CHECKING = False  # read by mypy as typing.TYPE_CHECKING; typing itself is not imported at run time
if TYPE_CHECKING:
    from crashplan.diagnose import Target

__all__ = ["Edit", "FixResult", "edits_for", "fix_files", "fixable_only"]

_UNSAFE = set("\"'\\$`;#\n\r")


@dataclass(frozen=True, slots=True)
class Edit:
    fid: int
    start: int
    end: int
    text: str


@dataclass(slots=True)
class FixResult:
    texts: dict[str, str]  # path -> new text, for the files that changed
    applied: int  # fixes applied
    report: Report  # the findings that remain


def _tokens(s: str) -> list[str]:
    return [t for t in s.split(" ") if t]


def _token_spans(s: str) -> list[tuple[int, int]]:
    out = []
    i, n = 0, len(s)
    while i < n:
        while i < n and s[i] == " ":
            i += 1
        j = i
        while j < n and s[j] != " ":
            j += 1
        if j > i:
            out.append((i, j))
        i = j
    return out


def _char_ops(old: str, new: str) -> list[tuple[int, int, str]]:
    """(start, end, replacement) on ``old``: a token-level diff, so whole parameters move and vanish."""
    a = _token_spans(old)
    ta = [old[s:e] for s, e in a]
    tb = _tokens(new)
    ops: list[tuple[int, int, str]] = []
    sm = difflib.SequenceMatcher(None, ta, tb, autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            continue
        repl = " ".join(tb[j1:j2])
        if tag == "insert":
            if i1 < len(a):
                ops.append((a[i1][0], a[i1][0], repl + " "))
            elif a:
                ops.append((a[-1][1], a[-1][1], " " + repl))
            else:
                ops.append((0, 0, repl))
            continue
        s, e = a[i1][0], a[i2 - 1][1]
        if tag == "delete":
            # take the separating blank with it: the one after, or before when it is the last parameter
            if i2 < len(a):
                e = a[i2][0]
            elif i1 > 0:
                s = a[i1 - 1][1]
        ops.append((s, e, repl))
    return ops


def edits_for(cl: CmdlineDef, new: str, texts: Sequence[str | None]) -> list[Edit] | None:
    """File edits that turn ``cl`` into ``new``; None when no safe mapping exists."""
    old = cl.text
    edits: list[Edit] = []
    for i1, i2, repl in _char_ops(old.text, new):
        if _UNSAFE & set(repl):
            return None
        if i1 < i2:
            origins = old.origins[i1:i2]
            real = [(k, o) for k, o in enumerate(origins) if o != SYNTH]
            if any(o == SYNTH and old.text[i1 + k] != " " for k, o in enumerate(origins)):
                return None
            if not real:
                if repl.strip(" "):
                    return None
                continue  # only joining spaces removed: the separator stays, the tokens are the same
            for (_, a), (_, b) in pairwise(real):
                if b - a == 1:
                    continue
                # a blank the boot loader joins words with stands for the file's own blanks between them
                (fa, oa), (fb, ob) = unpack(a), unpack(b)
                gap = (texts[fa] or "")[oa + 1:ob] if fa == fb and ob > oa else "\n"
                if not gap or gap.strip(" \t"):
                    return None
            first, last = real[0][1], real[-1][1]
            fid, start = unpack(first)
            end = unpack(last)[1] + 1
            ctx = old.ctx[i1 + real[0][0]]
        else:
            if i1 > 0 and old.origins[i1 - 1] != SYNTH:
                fid, start = unpack(old.origins[i1 - 1])
                start += 1
                ctx = old.ctx[i1 - 1]
            elif i1 < len(old) and old.origins[i1] != SYNTH:
                fid, start = unpack(old.origins[i1])
                ctx = old.ctx[i1]
            else:
                return None
            end = start
        text = texts[fid] or ""
        if ctx == "b" and cl.kind == "grub-default" and any(c in " \t" for c in repl):
            return None
        if start > 0 and text[start - 1] == "\\" and ctx in "bd":
            return None
        if not repl and end > start:
            # a whole quoted word goes with its quotes
            if (ctx in "ds" and start > 0 and end < len(text)
                    and text[start - 1] == text[end] == ('"' if ctx == "d" else "'")
                    and (start < 2 or text[start - 2] in " \t") and (end + 1 >= len(text) or text[end + 1] in " \t\n")):
                start, end = start - 1, end + 1
            # the boot loader joins words with its own blanks: remove the file's blank next to the word too
            if text[end - 1] in " \t":
                while end < len(text) and text[end] in " \t":
                    end += 1  # the separator is the file's own: take the whole run
            elif text[start] in " \t":
                pass
            elif end < len(text) and text[end] in " \t":
                while end < len(text) and text[end] in " \t":
                    end += 1
            elif start > 0 and text[start - 1] in " \t":
                while start > 0 and text[start - 1] in " \t":
                    start -= 1
        edits.append(Edit(fid, start, end, repl))
    return edits


def _apply(edits: list[Edit], texts: list[str | None]) -> list[str | None] | None:
    out = list(texts)
    by_file: dict[int, list[Edit]] = {}
    for e in edits:
        by_file.setdefault(e.fid, []).append(e)
    for fid, es in by_file.items():
        es.sort(key=lambda e: (e.start, e.end))
        for a, b in pairwise(es):
            if b.start < a.end:
                return None
        t = out[fid] or ""
        for e in reversed(es):
            t = t[:e.start] + e.text + t[e.end:]
        out[fid] = t
    return out


def _serious(cl: CmdlineDef, targets: Sequence[Target]) -> set[str]:
    return {d.code for d in _diagnose(cl.text.text, tuple(targets)) if RANK[d.severity] <= RANK[Severity.WARNING]}


def _worsens(before: LintRun, after: LintRun, fixed_key: tuple[object, ...], targets: Sequence[Target]) -> bool:
    """Whether the edit brings a new error or warning to any *other* command line sharing the edited text."""
    for key, cl in before.defs.items():
        if key == fixed_key:
            continue
        cl2 = after.defs.get(key)
        if cl2 is None:
            return True
        if cl2.text.text == cl.text.text:
            continue
        if crash_values(cl.text.text) and not crash_values(cl2.text.text):
            return True  # e.g. the recovery entries would lose their only crashkernel=
        if not _serious(cl2, targets) <= _serious(cl, targets):
            return True
    return False


def _keep_grubenv_size(new: list[str | None], old: list[str | None],
                       kinds: list[str | None]) -> list[str | None] | None:
    """GRUB's environment block has a fixed size (1024 bytes): give or take ``#`` padding at its end."""
    out = list(new)
    for i, kind in enumerate(kinds):
        if kind != "grubenv" or new[i] == old[i] or new[i] is None or old[i] is None:
            continue
        t = new[i] or ""
        old_size = len((old[i] or "").encode("utf-8", "surrogateescape"))
        delta = len(t.encode("utf-8", "surrogateescape")) - old_size
        if delta > 0:
            pad = len(t) - len(t.rstrip("#"))
            if pad < delta:
                return None  # no room in the block
            t = t[: len(t) - delta]
        elif delta < 0:
            t = t + "#" * -delta
        out[i] = t
    return out


def _groups(files: Sequence[SourceFile]) -> list[list[int]]:
    groups: dict[object, list[int]] = {}
    for i, f in enumerate(files):
        root = group_root(f.path)
        groups.setdefault(("root", root) if root is not None else ("file", i), []).append(i)
    return list(groups.values())


def _try(run: LintRun, f: Finding, sub: list[SourceFile], cur: list[str | None], targets: Sequence[Target],
         config: LintConfig) -> list[str | None] | None:
    """The texts after applying finding ``f``'s fix, or None when it cannot be made safely."""
    key, fix = f.cmdline_key, f.fix
    if key is None or fix is None:
        return None  # not a fixable finding
    cl = run.defs.get(key)
    if cl is None or (crash_values(cl.text.text) and not crash_values(fix)):
        return None  # a fix never removes every crashkernel= (overlapping tokens)
    edits = edits_for(cl, fix, cur)
    if not edits:
        return None
    new = _apply(edits, cur)
    if new is not None:
        new = _keep_grubenv_size(new, cur, [x.kind for x in run.files])
    if new is None:
        return None
    check = LintRun([s._replace(text=t) for s, t in zip(sub, new, strict=True)], targets, config)
    check.run()
    cl2 = check.defs.get(key)
    if cl2 is None or _tokens(cl2.text.text) != _tokens(fix):
        return None
    if _worsens(run, check, key, targets):
        return None  # e.g. removing a token from GRUB_CMDLINE_LINUX that recovery entries need
    return new


def fixable_only(files: Sequence[SourceFile], report: Report, *, targets: Sequence[Target] | None = None,
                 config: LintConfig | None = None) -> Report:
    """``report`` with ``fix`` cleared on every finding ``--fix`` could not make.

    A finding is marked fixable (``[*]``, ``fix`` in JSON/SARIF) only when ``fix_files`` would apply it: the
    edit maps onto the file's own characters, re-reading gives the corrected line, and no other command line
    sharing the edited text gets worse (removing a duplicate from GRUB_CMDLINE_LINUX that the recovery
    entries need, for example).
    """
    if not any(f.fix is not None for f in report.findings):
        return report
    config = config or LintConfig()
    if targets is None:
        targets = default_targets(config)
    out = list(report.findings)
    by_path: dict[str, list[int]] = {}
    for k, f in enumerate(out):
        if f.fix is not None:
            by_path.setdefault(f.location.path, []).append(k)
    # a fleet repeats itself: machines whose files are the same text at the same place in their tree give
    # the same answer, so each distinct tree is tried once
    cache: dict[tuple[object, ...], set[tuple[object, ...]]] = {}
    for members in _groups(files):
        sub = [files[i] for i in members]
        idx = [k for f in sub for k in by_path.get(f.path, ())]
        if not idx:
            continue
        root = group_root(sub[0].path)
        cut = len(root) if root is not None else 0

        def rel(path: str, cut: int = cut) -> str:
            return path[cut:]

        key = tuple((rel(f.path), f.text, f.kind) for f in sub)
        ok = cache.get(key)
        if ok is None:
            cur = [f.text for f in sub]
            run = LintRun(list(sub), targets, config)
            raw = run.run()
            ok = {(f.code, rel(f.location.path), f.location[1:], f.fix) for f in raw.findings
                  if f.fix is not None and f.cmdline_key is not None
                  and _try(run, f, sub, cur, targets, config) is not None}
            cache[key] = ok
        for k in idx:
            f = out[k]
            if (f.code, rel(f.location.path), f.location[1:], f.fix) not in ok:
                out[k] = f._replace(fix=None)
    return Report(findings=out, files=report.files, targets=report.targets)


def fix_files(files: Sequence[SourceFile], *, targets: Sequence[Target] | None = None,
              config: LintConfig | None = None, max_rounds: int = 50) -> FixResult:
    """Apply every safe fix, one at a time, re-reading the files after each; returns the new texts."""
    config = config or LintConfig()
    if targets is None:
        targets = default_targets(config)
    texts: list[str | None] = [f.text for f in files]
    applied = 0
    for members in _groups(files):
        sub = [files[i] for i in members]
        cur = [f.text for f in sub]
        tried: set[tuple[object, ...]] = set()
        for _ in range(max_rounds):
            run = LintRun([f._replace(text=t) for f, t in zip(sub, cur, strict=True)], targets, config)
            report = run.run()
            progress = False
            for f in sorted(report.findings, key=lambda f: (RANK[f.severity], f.sort_key())):
                if f.fix is None or f.cmdline_key is None:
                    continue
                key = (f.code, f.cmdline_key, f.fix)
                if key in tried:
                    continue
                tried.add(key)
                new = _try(run, f, sub, cur, targets, config)
                if new is None:
                    continue
                cur = new
                applied += 1
                progress = True
                break
            if not progress:
                break
        for i, t in zip(members, cur, strict=True):
            texts[i] = t
    changed = {f.path: t for f, t in zip(files, texts, strict=True) if t is not None and t != f.text}
    final = LintRun([f._replace(text=t) for f, t in zip(files, texts, strict=True)], targets, config).run()
    return FixResult(changed, applied, final)
