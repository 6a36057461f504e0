"""The distributions' kdump configuration, reduced to what sizing and the CMA rules need.

Three families, each read from its own file text (pure functions; the CLI opens the files):

``/etc/kdump.conf`` (Fedora/RHEL, kdump-utils)
    one directive per line: the dump target (``raw``, ``nfs``, ``ssh``, ``ext4 …``, ``virtiofs``),
    ``path``, ``core_collector`` (default ``makedumpfile -l --message-level 7 -d 31``, with ``-F`` for
    raw and ssh targets), ``dracut_args`` (kdump-utils gen-kdump-conf.sh).
``/etc/sysconfig/kdump``
    shell assignments.  Fedora/RHEL: ``KDUMP_COMMANDLINE(_APPEND/_REMOVE)``, ``KEXEC_ARGS``
    (``-s`` = kexec_file_load, ``-c`` = kexec_load), ``FADUMP_COMMANDLINE_APPEND``
    (gen-kdump-sysconfig.sh).  SUSE: ``KDUMP_DUMPLEVEL``, ``KDUMP_DUMPFORMAT`` (``none``, ``ELF``,
    ``compressed``, ``lzo``, ``snappy``, ``zstd``, ``raw``), ``KDUMP_CPUS`` (0 = all),
    ``KDUMP_COMMANDLINE(_APPEND)``, ``KEXEC_OPTIONS``, ``KDUMP_SAVEDIR`` (a URL), ``KDUMP_FADUMP``
    (openSUSE/kdump sysconfig.kdump.in).  The family is told by the variables present.
``/etc/default/kdump-tools`` (Debian/Ubuntu)
    ``USE_KDUMP``, ``MAKEDUMP_ARGS`` (default ``-c -d 31``), ``KDUMP_CMDLINE(_APPEND)`` (default
    append ``reset_devices systemd.unit=kdump-tools-dump.service nr_cpus=1 irqpoll usbcore.nousb``),
    ``KDUMP_KEXEC_ARGS``, ``NFS``, ``SSH``, ``FTP`` (kdump-tools kdump-config).

Bad input raises ``InputError`` with the line and column; settings crashplan does not use are
ignored, directives it does not know are reported in ``notes``.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field, replace

from crashplan.errors import InputError
from crashplan.textlines import split_lines

TYPE_CHECKING = False  # read by mypy as typing.TYPE_CHECKING; typing itself is not imported at run time
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "KdumpConfig",
    "MakedumpfileArgs",
    "auto_reset_crashkernel",
    "capture_cpus",
    "conf_value",
    "merge_configs",
    "parse_kdump_conf",
    "parse_kdump_tools",
    "parse_makedumpfile_args",
    "parse_shell_assignments",
    "parse_sysconfig_kdump",
]

# makedumpfile(8) -d bits
DL_ZERO, DL_CACHE, DL_CACHE_PRIVATE, DL_USER, DL_FREE = 1, 2, 4, 8, 16

_FEDORA_FS = frozenset({"ext2", "ext3", "ext4", "xfs", "btrfs", "minix", "virtiofs"})
# the directives kdumpctl's parse_config() accepts (rhkdump/kdump-utils kdumpctl @ 63f248c94a4a); any other
# word makes it fail with "Invalid kdump config option …", a deprecated one with "Deprecated kdump config
# option: …", and `default` is accepted with a warning (renamed failure_action)
_FEDORA_KNOWN = _FEDORA_FS | {
    "raw", "nfs", "ssh", "sshkey", "path", "core_collector", "kdump_post", "kdump_pre", "kdump_emergency",
    "extra_bins", "extra_modules", "failure_action", "default", "final_action", "force_rebuild",
    "force_no_rebuild", "dracut_args", "fence_kdump_args", "fence_kdump_nodes", "auto_reset_crashkernel",
}
_FEDORA_DEPRECATED = frozenset({"net", "options", "link_delay", "disk_timeout", "debug_mem_level", "blacklist"})
# variables of the shell-sourced files, from the files the packages install (tests/data/sizing/PROVENANCE.md):
# kdump-utils gen-kdump-sysconfig.sh (+ what kdumpctl reads), openSUSE kdump sysconfig.kdump.in, Debian
# kdump-tools.conf; a name close to one of these but not equal is a typo the tool silently ignores
_FEDORA_SYSCONFIG_VARS = frozenset({
    "KDUMP_KERNELVER", "KDUMP_COMMANDLINE", "KDUMP_COMMANDLINE_REMOVE", "KDUMP_COMMANDLINE_APPEND", "KEXEC_ARGS",
    "KDUMP_BOOTDIR", "KDUMP_IMG", "KDUMP_IMG_EXT", "FADUMP_COMMANDLINE_APPEND", "VMCORE_CREATION_NOTIFICATION",
    "KDUMP_KMSGLOGLVL", "KDUMP_STDLOGLVL", "KDUMP_SYSLOGLVL", "MKDUMPRD_ARGS",
})
_SUSE_VARS = frozenset({
    "KDUMP_AUTO_RESIZE", "KDUMP_COMMANDLINE", "KDUMP_COMMANDLINE_APPEND", "KDUMP_CONTINUE_ON_ERROR", "KDUMP_CPUS",
    "KDUMP_DUMPFORMAT", "KDUMP_DUMPLEVEL", "KDUMP_FADUMP", "KDUMP_FADUMP_SHELL", "KDUMP_FREE_DISK_SIZE",
    "KDUMP_HOST_KEY", "KDUMP_IMMEDIATE_REBOOT", "KDUMP_KEEP_OLD_DUMPS", "KDUMP_KERNELVER", "KDUMP_NETCONFIG",
    "KDUMP_NET_TIMEOUT", "KDUMP_NOTIFICATION_CC", "KDUMP_NOTIFICATION_TO", "KDUMP_POSTSCRIPT", "KDUMP_PRESCRIPT",
    "KDUMP_REQUIRED_PROGRAMS", "KDUMP_SAVEDIR", "KDUMP_SMTP_PASSWORD", "KDUMP_SMTP_SERVER", "KDUMP_SMTP_USER",
    "KDUMP_SSH_IDENTITY", "KDUMP_TRANSFER", "KDUMP_VERBOSE", "KEXEC_OPTIONS", "KDUMPTOOL_FLAGS",
})
_KDUMP_TOOLS_VARS = frozenset({
    "USE_KDUMP", "KDUMP_KERNEL", "KDUMP_INITRD", "KDUMP_COREDIR", "KDUMP_FAIL_CMD", "KDUMP_DUMP_DMESG",
    "KDUMP_NUM_DUMPS", "KDUMP_COMPRESSION", "KDUMP_CMDLINE", "KDUMP_CMDLINE_APPEND", "KDUMP_KEXEC_ARGS",
    "MAKEDUMP_ARGS", "NFS", "NFS_TIMEO", "NFS_RETRANS", "SSH", "SSH_KEY", "HOSTTAG", "FTP", "FTP_USER",
    "FTP_PASSWORD", "FTP_PORT", "KDUMP_SYSCTL",
})


def _close(word: str, known: frozenset[str] | set[str]) -> str | None:
    import difflib

    m = difflib.get_close_matches(word, sorted(known), n=1, cutoff=0.75)
    return m[0] if m else None


def conf_value(text: str, name: str) -> str | None:
    """The value of directive ``name`` in a kdump.conf text as kdump-utils reads it, or None when absent.

    kdump_get_conf_val() (kdump-lib-initramfs.sh @ 63f248c94a4a): comment and blank lines are skipped, each
    line is ``read -r opt val`` (so the value is everything after the first word, blanks trimmed), a
    trailing ``# comment`` is cut from the value, one pair of surrounding double quotes is removed, and the
    last line of the name wins.
    """
    found: str | None = None
    for raw in split_lines(text):
        st = raw.strip()
        if not st or st.startswith("#"):
            continue
        opt, _, val = st.replace("\t", " ").partition(" ")
        val = val.strip()
        if "#" in val:
            val = val.split("#", 1)[0].rstrip()
        if len(val) >= 2 and val[0] == '"' and val[-1] == '"':
            val = val[1:-1]
        if opt == name:
            found = val
    return found


def auto_reset_crashkernel(text: str) -> bool | None:
    """kdumpctl's ``[[ $(kdump_get_conf_val auto_reset_crashkernel) != no ]]``: only ``no`` turns it off.

    None when the directive is absent (kdump-utils' default, yes, applies).
    """
    v = conf_value(text, "auto_reset_crashkernel")
    return None if v is None else v != "no"
_NETWORK_TARGETS = frozenset({"nfs", "ssh", "ftp", "sftp", "cifs", "smb", "scp", "nfs4"})


@dataclass(frozen=True, slots=True, kw_only=True)
class MakedumpfileArgs:
    """What ``makedumpfile`` options change for sizing and for the CMA rule (makedumpfile(8))."""

    dump_levels: tuple[int, ...] = ()  # -d 11,31 → (11, 31); empty = makedumpfile's default, 0
    elf: bool = False  # -E
    compression: str | None = None  # zlib (-c), lzo (-l), snappy (-p), zstd (-z)
    flattened: bool = False  # -F
    num_threads: int = 0
    split: bool = False
    cyclic_buffer_kib: int | None = None
    work_dir: str | None = None
    non_cyclic: bool = False
    dump_dmesg: bool = False  # --dump-dmesg: the dmesg only, no memory

    @property
    def effective_levels(self) -> tuple[int, ...]:
        return self.dump_levels or (0,)


@dataclass(frozen=True, slots=True, kw_only=True)
class KdumpConfig:
    """What the kdump configuration says; None = not said (the defaults apply)."""

    flavour: str | None = None  # "kdump-utils", "suse", "kdump-tools", "flags"
    enabled: bool | None = None
    collector: str | None = None  # the program: "makedumpfile", "cp", "dd", "scp", "raw", "none"
    makedumpfile: MakedumpfileArgs | None = None
    dump_format: str | None = None  # SUSE KDUMP_DUMPFORMAT, or "elf"/"flattened"/"raw"
    nr_cpus: int | None = None  # CPUs of the capture kernel (nr_cpus=/maxcpus=, KDUMP_CPUS); 0 = all
    capture_cmdline: str | None = None  # a full replacement of the capture command line
    capture_append: str | None = None  # appended to the capture command line
    kexec_mode: str | None = None  # "file", "load", "auto" (file first, then load), "default"
    kexec_reason: str | None = None
    target: str | None = None  # "local", "raw", "nfs", "ssh", "ftp", "sftp", "cifs", "virtiofs"
    path: str | None = None
    fadump: bool | None = None
    dracut_args: str | None = None
    auto_reset_crashkernel: bool | None = None  # kdump.conf; None = not said (kdump-utils' default: yes)
    sources: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())
    # an unknown or deprecated directive, a misspelt variable: what the tool would reject or silently ignore
    warnings: tuple[str, ...] = field(default=())

    @property
    def network(self) -> bool | None:
        if self.target is None:
            return None
        return self.target in _NETWORK_TARGETS

    @property
    def dump_levels(self) -> tuple[int, ...]:
        if self.makedumpfile is None:
            return ()
        return self.makedumpfile.effective_levels

    def keeps_user_pages(self) -> tuple[bool, str] | None:
        """Whether the dump would hold user pages (the ``,cma`` rule), with the reason; None = unknown."""
        coll = self.collector
        if coll is None and self.makedumpfile is None:
            return None
        if coll == "none":
            return False, "the dump format is 'none' (only the kernel log is saved)"
        if coll not in (None, "makedumpfile"):
            return True, f"the core collector is {coll!r}: it copies /proc/vmcore unfiltered, user pages included"
        mdf = self.makedumpfile or MakedumpfileArgs()
        if mdf.dump_dmesg:
            return False, "makedumpfile --dump-dmesg saves only the kernel log"
        levels = mdf.effective_levels
        bad = [lv for lv in levels if not lv & DL_USER]
        if bad:
            if not mdf.dump_levels:
                return True, "makedumpfile runs without -d: its default dump level 0 keeps user pages"
            return True, (f"dump level {bad[0]} does not have bit 8 (user process data) set: user pages are "
                          f"kept in the dump")
        return False, f"dump level {','.join(map(str, levels))} excludes user pages (bit 8)"


def _err(msg: str, path: str | None, line: int | None = None, col: int | None = None) -> InputError:
    return InputError(msg, path=path, line=line, column=col)


def parse_shell_assignments(text: str, *, path: str | None = None) -> dict[str, tuple[str, int]]:
    """``NAME=value`` lines of a shell-sourced defaults file: {NAME: (value, line number)}.

    Quotes are removed ('…' literally, "…" with backslash escapes); ``$VAR`` references are kept as
    written.  A line that is not a comment, blank or an assignment raises ``InputError``.
    """
    out: dict[str, tuple[str, int]] = {}
    lines = split_lines(text)
    i = 0
    while i < len(lines):
        raw = lines[i]
        lineno = i + 1
        i += 1
        s = raw.strip()
        if not s or s.startswith("#"):
            continue
        if s.startswith("export "):
            s = s[len("export "):].lstrip()
        eq = s.find("=")
        name = s[:eq] if eq > 0 else ""
        if eq <= 0 or not (name[0].isalpha() or name[0] == "_") or not all(c.isalnum() or c == "_" for c in name):
            col = raw.find(s) + 1
            raise _err("expected NAME=value (a shell variable assignment)", path, lineno, col)
        value_text = s[eq + 1:]
        # a double-quoted value may continue on the next lines
        while value_text.count('"') % 2 == 1 and "'" not in value_text and i < len(lines):
            value_text += "\n" + lines[i]
            i += 1
        try:
            lex = shlex.shlex(value_text, posix=True)
            lex.whitespace_split = True
            lex.commenters = "#"
            words = list(lex)
        except ValueError as e:
            col = raw.find("=") + 2
            raise _err(f"{name}: {e} (unterminated quote?)", path, lineno, col) from None
        out[name] = (" ".join(words) if len(words) > 1 else (words[0] if words else ""), lineno)
    return out


def expanded_words(value: str) -> list[str]:
    """The words of an unquoted ``$VAR`` as the shell runs it: split at spaces, tabs and newlines
    (the default IFS), quotes and backslashes kept as they are.  kdump-utils runs ``$CORE_COLLECTOR
    /proc/vmcore …`` and kdump-config ``makedumpfile $MAKEDUMP_ARGS …`` exactly so."""
    return [w for w in value.replace("\t", " ").replace("\n", " ").split(" ") if w]


def parse_makedumpfile_args(args: str | list[str], *, path: str | None = None,
                            line: int | None = None) -> MakedumpfileArgs:
    """makedumpfile(8) options (the collector's own name may lead); a string is split as the shell
    splits the unquoted variable that holds it (:func:`expanded_words`)."""
    words = expanded_words(args) if isinstance(args, str) else list(args)
    if words and words[0].rsplit("/", 1)[-1] == "makedumpfile":
        words = words[1:]
    levels: tuple[int, ...] = ()
    elf = flattened = split = non_cyclic = dump_dmesg = False
    comp = None
    threads = 0
    cyclic = None
    work_dir = None
    k = 0
    while k < len(words):
        w = words[k]
        val: str | None = None

        def take(w: str = w) -> str:
            nonlocal k
            if k + 1 >= len(words):
                raise _err(f"makedumpfile option {w} needs a value", path, line)
            k += 1
            return words[k]

        if w == "-d":
            val = take()
        elif w.startswith("-d") and len(w) > 2 and not w.startswith("--"):
            val = w[2:]
        elif w.startswith("--dump-level"):
            val = w.split("=", 1)[1] if "=" in w else take()
        if val is not None:
            try:
                levels = tuple(int(x) for x in val.split(","))
            except ValueError:
                raise _err(f"makedumpfile -d expects dump levels 0-31 (e.g. 31 or 11,31), got {val!r}", path,
                           line) from None
            if any(not 0 <= x <= 31 for x in levels):
                raise _err(f"makedumpfile dump level out of range 0-31: {val}", path, line)
        elif w == "-E":
            elf = True
        elif w == "-F":
            flattened = True
        elif w == "-c":
            comp = "zlib"
        elif w == "-l":
            comp = "lzo"
        elif w == "-p":
            comp = "snappy"
        elif w == "-z":
            comp = "zstd"
        elif w.startswith("--num-threads"):
            v = w.split("=", 1)[1] if "=" in w else take()
            try:
                threads = int(v)
            except ValueError:
                raise _err(f"--num-threads expects a number, got {v!r}", path, line) from None
        elif w == "--split":
            split = True
        elif w == "--non-cyclic":
            non_cyclic = True
        elif w == "--dump-dmesg":
            dump_dmesg = True
        elif w.startswith("--cyclic-buffer"):
            v = w.split("=", 1)[1] if "=" in w else take()
            try:
                cyclic = int(v)
            except ValueError:
                raise _err(f"--cyclic-buffer expects KiB, got {v!r}", path, line) from None
        elif w.startswith("--work-dir"):
            work_dir = w.split("=", 1)[1] if "=" in w else take()
        elif w in ("--message-level", "-b", "-x", "-i", "--config", "--eppic", "-L", "--splitblock-size"):
            take()
        # anything else (-f, --vtop, output names) does not change sizing
        k += 1
    return MakedumpfileArgs(dump_levels=levels, elf=elf, compression=comp, flattened=flattened, num_threads=threads,
                            split=split, cyclic_buffer_kib=cyclic, work_dir=work_dir, non_cyclic=non_cyclic,
                            dump_dmesg=dump_dmesg)


def capture_cpus(cmdline: str | None) -> int | None:
    """The capture kernel's CPU limit from its command line: ``nr_cpus=`` (or ``maxcpus=``); last wins."""
    if not cmdline:
        return None
    from crashplan.cmdline import split_params

    found: dict[str, int] = {}
    for p in split_params(cmdline):
        if p.name in ("nr_cpus", "maxcpus") and p.value is not None:
            try:
                found[p.name] = int(p.value, 0)  # the last one of each wins
            except ValueError:
                continue
    return min(found.values()) if found else None


def _kexec_mode(args: str) -> tuple[str | None, str | None]:
    words = args.split()
    if "-c" in words or "--kexec-syscall" in words:
        return "load", "kexec is given -c (kexec_load)"
    if "-s" in words or "--kexec-file-syscall" in words:
        return "file", "kexec is given -s (kexec_file_load)"
    if "-a" in words or "--kexec-syscall-auto" in words:
        return "auto", "kexec is given -a (kexec_file_load, falling back to kexec_load)"
    return None, None


def parse_kdump_conf(text: str, *, path: str | None = "/etc/kdump.conf") -> KdumpConfig:
    """Fedora/RHEL ``/etc/kdump.conf`` (kdump-utils)."""
    target: str | None = None
    tpath: str | None = None
    collector_line: tuple[str, int] | None = None
    dracut = None
    notes: list[str] = []
    warnings: list[str] = []
    auto_reset: bool | None = None
    for lineno, raw in enumerate(split_lines(text), 1):
        s = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not s:
            continue
        word, _, rest = s.replace("\t", " ").partition(" ")
        rest = rest.strip()
        w = word.strip()
        if w in _FEDORA_DEPRECATED:
            warnings.append(f"{path}:{lineno}: {w!r} is deprecated: kdumpctl refuses to start "
                            f"(\"Deprecated kdump config option: {w}\")")
            continue
        if w not in _FEDORA_KNOWN:
            near = _close(w, _FEDORA_KNOWN)
            warnings.append(f"{path}:{lineno}: unknown directive {w!r}"
                            + (f" (did you mean {near!r}?)" if near else "")
                            + f": kdumpctl refuses to start (\"Invalid kdump config option {w}\")")
            continue
        if w == "default":
            warnings.append(f"{path}:{lineno}: 'default' was renamed 'failure_action' (kdumpctl warns)")
        if w == "auto_reset_crashkernel":
            val = rest[1:-1] if len(rest) >= 2 and rest[0] == rest[-1] == '"' else rest
            auto_reset = val != "no"
            if val not in ("yes", "no"):
                warnings.append(f"{path}:{lineno}: auto_reset_crashkernel {rest!r}: kdumpctl turns it off only for "
                                "exactly 'no'; this value counts as yes")
        needs_value = w not in ("force_rebuild", "force_no_rebuild")
        if needs_value and not rest:
            raise _err(f"{w} needs a value", path, lineno, len(raw) - len(raw.lstrip()) + len(w) + 1)
        if w in _FEDORA_FS:
            target = "virtiofs" if w == "virtiofs" else "local"
        elif w == "raw":
            target = "raw"
        elif w in ("nfs", "nfs4"):
            target = "nfs"
        elif w == "ssh":
            target = "ssh"
        elif w == "path":
            tpath = rest
        elif w == "core_collector":
            collector_line = (rest, lineno)
        elif w == "dracut_args":
            dracut = rest
            if "--mount" in rest and "nfs" in rest:
                target = "nfs"
    if collector_line is None:
        flag = "-F " if target in ("raw", "ssh") else ""
        collector_line = (f"makedumpfile {flag}-l --message-level 7 -d 31", 0)
        notes.append("core_collector not set: kdump-utils' default 'makedumpfile -l --message-level 7 -d 31'")
    cmd, cline = collector_line
    words = expanded_words(cmd)
    prog = words[0].rsplit("/", 1)[-1] if words else ""
    mdf = None
    collector: str | None
    if prog == "makedumpfile":
        mdf = parse_makedumpfile_args(words, path=path, line=cline)
        collector = "makedumpfile"
    else:
        collector = prog or None
    return KdumpConfig(
        flavour="kdump-utils", collector=collector, makedumpfile=mdf,
        dump_format=("elf" if mdf and mdf.elf else "flattened" if mdf and mdf.flattened else None),
        target=target or "local", path=tpath or "/var/crash", dracut_args=dracut, sources=(path or "kdump.conf",),
        notes=tuple(notes), warnings=tuple(warnings), auto_reset_crashkernel=auto_reset,
    )


def parse_sysconfig_kdump(text: str, *, path: str | None = "/etc/sysconfig/kdump") -> KdumpConfig:
    """``/etc/sysconfig/kdump`` of Fedora/RHEL (kdump-utils) or SUSE (kdump), told apart by its variables."""
    env = parse_shell_assignments(text, path=path)
    suse_keys = {"KDUMP_DUMPLEVEL", "KDUMP_DUMPFORMAT", "KDUMP_SAVEDIR", "KEXEC_OPTIONS", "KDUMP_CPUS"}
    if suse_keys & env.keys():
        return replace(_suse(env, path), warnings=_typos(env, _SUSE_VARS, path, "SUSE kdump"))
    return replace(_fedora_sysconfig(env, path), warnings=_typos(env, _FEDORA_SYSCONFIG_VARS, path, "kdump-utils"))


def _typos(env: dict[str, tuple[str, int]], known: frozenset[str], path: str | None, tool: str) -> tuple[str, ...]:
    """Variables close to a known one but not equal: the tool never reads them."""
    out = []
    for name, (_, line) in sorted(env.items(), key=lambda kv: kv[1][1]):
        if name in known:
            continue
        near = _close(name, known)
        if near is not None:
            out.append(f"{path}:{line}: {name} is not a {tool} variable (did you mean {near}?): it is ignored")
    return tuple(out)


def _get(env: dict[str, tuple[str, int]], key: str) -> str | None:
    v = env.get(key)
    return v[0] if v is not None else None


def _fedora_sysconfig(env: dict[str, tuple[str, int]], path: str | None) -> KdumpConfig:
    cmdline = _get(env, "KDUMP_COMMANDLINE") or None
    append = _get(env, "KDUMP_COMMANDLINE_APPEND")
    mode, why = _kexec_mode(_get(env, "KEXEC_ARGS") or "")
    notes = []
    if mode is None:
        mode, why = ("default",
                     "KEXEC_ARGS has neither -s nor -c: kdumpctl's default applies (-s on x86_64 since kdump-utils)")
        notes.append(why)
    return KdumpConfig(
        flavour="kdump-utils", capture_cmdline=cmdline, capture_append=append, nr_cpus=capture_cpus(append),
        kexec_mode=mode, kexec_reason=why, sources=(path or "sysconfig/kdump",), notes=tuple(notes),
    )


_SUSE_FORMATS = {"none", "elf", "compressed", "lzo", "snappy", "zstd", "raw"}


def _suse(env: dict[str, tuple[str, int]], path: str | None) -> KdumpConfig:
    notes: list[str] = []
    level_s = _get(env, "KDUMP_DUMPLEVEL")
    level = 31
    if level_s not in (None, ""):
        try:
            level = int(level_s or "31")
        except ValueError:
            raise _err(f"KDUMP_DUMPLEVEL must be a number 0-31, got {level_s!r}", path,
                       env["KDUMP_DUMPLEVEL"][1]) from None
        if not 0 <= level <= 31:
            raise _err(f"KDUMP_DUMPLEVEL out of range 0-31: {level}", path, env["KDUMP_DUMPLEVEL"][1])
    fmt = (_get(env, "KDUMP_DUMPFORMAT") or "compressed").lower()
    if fmt not in _SUSE_FORMATS:
        raise _err(f"KDUMP_DUMPFORMAT must be one of none, ELF, compressed, lzo, snappy, zstd, raw; got {fmt!r}",
                   path, env["KDUMP_DUMPFORMAT"][1])
    if fmt == "none":
        collector, mdf = "none", None
    elif fmt == "raw":
        collector, mdf = "raw", None
    else:
        comp = {"compressed": "zlib", "lzo": "lzo", "snappy": "snappy", "zstd": "zstd"}.get(fmt)
        collector = "makedumpfile"
        mdf = MakedumpfileArgs(dump_levels=(level,), elf=fmt == "elf", compression=comp)
    cpus_s = _get(env, "KDUMP_CPUS")
    cpus: int | None = None
    if cpus_s not in (None, ""):
        try:
            cpus = int(cpus_s or "0")
        except ValueError:
            raise _err(f"KDUMP_CPUS must be a number, got {cpus_s!r}", path, env["KDUMP_CPUS"][1]) from None
    append = _get(env, "KDUMP_COMMANDLINE_APPEND")
    explicit = capture_cpus(append)
    if explicit is not None:
        cpus = explicit
    if cpus and cpus > 1 and mdf is not None:
        split = "NOSPLIT" not in (_get(env, "KDUMPTOOL_FLAGS") or "")
        mdf = replace(mdf, num_threads=0, split=split)
    mode, why = _kexec_mode(_get(env, "KEXEC_OPTIONS") or "")
    if mode is None:
        mode, why = "auto", "SUSE's load script tries kexec -s (kexec_file_load) first, then kexec_load"
    savedir = _get(env, "KDUMP_SAVEDIR") or "file:///var/crash"
    scheme = savedir.split("://", 1)[0].lower() if "://" in savedir else "file"
    target = {"file": "local", "nfs": "nfs", "ssh": "ssh", "sftp": "sftp", "ftp": "ftp", "cifs": "cifs",
              "smb": "cifs"}.get(scheme)
    if target is None:
        notes.append(f"KDUMP_SAVEDIR scheme {scheme!r} not known; taken as a network target")
        target = "ftp"
    fad = _get(env, "KDUMP_FADUMP")
    fadump = None if fad is None else fad.lower() in ("true", "yes", "1")
    return KdumpConfig(
        flavour="suse", collector=collector, makedumpfile=mdf, dump_format=fmt, nr_cpus=cpus,
        capture_cmdline=_get(env, "KDUMP_COMMANDLINE") or None, capture_append=append, kexec_mode=mode,
        kexec_reason=why, target=target, path=savedir, fadump=fadump, sources=(path or "sysconfig/kdump",),
        notes=tuple(notes),
    )


_DEBIAN_APPEND = "reset_devices systemd.unit=kdump-tools-dump.service nr_cpus=1 irqpoll usbcore.nousb"


def parse_kdump_tools(text: str, *, path: str | None = "/etc/default/kdump-tools") -> KdumpConfig:
    """Debian/Ubuntu ``/etc/default/kdump-tools`` (kdump-tools' kdump-config)."""
    env = parse_shell_assignments(text, path=path)
    notes: list[str] = []
    use = _get(env, "USE_KDUMP")
    enabled = None if use is None else use.strip() not in ("0", "")
    args = _get(env, "MAKEDUMP_ARGS")
    if args is None:
        args = "-c -d 31"
        notes.append("MAKEDUMP_ARGS not set: kdump-config's default '-c -d 31'")
    line = env["MAKEDUMP_ARGS"][1] if "MAKEDUMP_ARGS" in env else None
    mdf = parse_makedumpfile_args(args, path=path, line=line)
    if not mdf.flattened:
        mdf = replace(mdf, flattened=True)  # kdump-config adds -F
    append = _get(env, "KDUMP_CMDLINE_APPEND")
    if append is None:
        append = _DEBIAN_APPEND
    mode, why = _kexec_mode(_get(env, "KDUMP_KEXEC_ARGS") or "")
    if mode is None:
        mode = "default"
        why = ("KDUMP_KEXEC_ARGS has neither -s nor -c: kdump-config adds -s only when Secure Boot is on, "
               "otherwise kexec-tools chooses")
    target = "local"
    if _get(env, "NFS"):
        target = "nfs"
    elif _get(env, "SSH"):
        target = "ssh"
    elif _get(env, "FTP"):
        target = "ftp"
    return KdumpConfig(
        flavour="kdump-tools", enabled=enabled, collector="makedumpfile", makedumpfile=mdf,
        capture_cmdline=_get(env, "KDUMP_CMDLINE") or None, capture_append=append, nr_cpus=capture_cpus(append),
        kexec_mode=mode, kexec_reason=why, target=target, path=_get(env, "KDUMP_COREDIR") or "/var/crash",
        sources=(path or "kdump-tools",), notes=tuple(notes),
        warnings=_typos(env, _KDUMP_TOOLS_VARS, path, "kdump-tools"),
    )


def merge_configs(*configs: KdumpConfig | None) -> KdumpConfig:
    """Combine configurations; a later one's settings win where it says something."""
    out = KdumpConfig()
    for c in configs:
        if c is None:
            continue
        changes: dict[str, Any] = {}  # KdumpConfig's own fields, read from another KdumpConfig
        for name in KdumpConfig.__dataclass_fields__:
            if name in ("sources", "notes", "warnings"):
                continue
            v = getattr(c, name)
            if v is not None:
                changes[name] = v
        if c.makedumpfile is not None and c.collector is None:
            changes["collector"] = "makedumpfile"
        out = replace(out, **changes, sources=out.sources + c.sources, notes=out.notes + c.notes,
                      warnings=out.warnings + c.warnings)
    return out
