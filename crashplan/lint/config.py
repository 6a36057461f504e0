"""Lint configuration: ``.crashplan.yaml`` or ``[tool.crashplan]`` in ``pyproject.toml``, plus command-line options.

Keys (YAML mapping / TOML table)::

    select: [CK1, CK2, CK401]        # code prefixes or rule names (default: every rule)
    ignore: [CK210, cma-caveats]
    per-file-ignores:                # glob (relative to the config file's directory) -> codes
      "boot/grub2/grub.cfg": [CK404]
    fail-level: warning              # error (default) | warning | info
    kernel: ["6.12", "7.2"]          # the target profile (as crashplan check --kernel/--arch/--ram)
    arch: [x86_64, arm64]
    ram: [4G, 16G]

Selection follows flake8: a code is on when it matches a ``select`` prefix and no ``ignore`` prefix; when it
matches both, the longer prefix wins (a tie ignores).  Names count as the full code.

Pure: the loaders take text; only ``load_yaml`` imports yaml (and only when a YAML file exists).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence

from crashplan.errors import ConfigError
from crashplan.records import NamedTuple

__all__ = [
    "DEFAULT_ARCHES",
    "DEFAULT_KERNELS",
    "DEFAULT_RAMS",
    "Decider",
    "LintConfig",
    "config_from_mapping",
    "load_pyproject",
    "load_yaml",
    "resolve_selector",
]

DEFAULT_KERNELS = ("6.1", "6.12", "6.17", "7.2")
DEFAULT_ARCHES = ("x86_64",)
DEFAULT_RAMS = ("2G", "4G", "16G", "64G")

_KEYS = ("select", "ignore", "per-file-ignores", "fail-level", "kernel", "arch", "ram")


class _Fields(NamedTuple):
    select: tuple[str, ...] = ("CK",)
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    fail_level: str = "error"
    kernels: tuple[str, ...] = ()
    arches: tuple[str, ...] = ()
    rams: tuple[str, ...] = ()
    base_dir: str = ""  # per-file-ignores patterns are relative to it
    source: str | None = None  # the file it came from


TYPE_CHECKING = False  # read by mypy as typing.TYPE_CHECKING; typing itself is not imported at run time
if TYPE_CHECKING:
    from types import ModuleType


class LintConfig(_Fields):
    """The lint options in force (fields: see ``_Fields``)."""

    __slots__ = ()

    def merged(self, *, select: tuple[str, ...] = (), ignore: tuple[str, ...] = (),
               per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = (), fail_level: str | None = None,
               kernels: tuple[str, ...] = (), arches: tuple[str, ...] = (), rams: tuple[str, ...] = ()) -> LintConfig:
        """The command line overrides (non-empty values only)."""
        return self._replace(select=select or self.select, ignore=ignore or self.ignore,
                             per_file_ignores=per_file_ignores or self.per_file_ignores,
                             fail_level=fail_level or self.fail_level, kernels=kernels or self.kernels,
                             arches=arches or self.arches, rams=rams or self.rams)


def resolve_selector(token: str) -> str | None:
    """A code prefix for ``token`` (a prefix like ``CK2`` or a rule name); None when it names nothing."""
    from crashplan.lint.rules import get_rule, valid_code_prefix  # on first use: cold start

    t = token.strip()
    if valid_code_prefix(t.upper()):
        return t.upper()
    rule = get_rule(t)
    return rule.code if rule else None


def _as_list(value: object, key: str, errors: list[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (str(value),)
    if isinstance(value, Sequence) and all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value):
        return tuple(str(v).strip() for v in value)
    errors.append(f'invalid config: "{key}" must be a list of strings')
    return ()


def _check_selectors(values: Iterable[str], key: str, errors: list[str]) -> tuple[str, ...]:
    out = []
    for v in values:
        r = resolve_selector(v)
        if r is None:
            errors.append(f'invalid config: unknown rule "{v}" in "{key}"')
        else:
            out.append(r)
    return tuple(out)


def config_from_mapping(data: object, *, source: str | None = None, base_dir: str = "",
                        line_of: Mapping[str, int] | None = None) -> LintConfig:
    """Validate a parsed configuration; every problem is collected into one ``ConfigError``."""
    from crashplan.lint.rules import SEVERITIES

    errors: list[str] = []
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(_where(source, None) + "CK005 invalid config: expected a mapping of options")
    known = set(_KEYS)
    errors.extend(f'invalid config: unknown option "{k}" (known: {", ".join(_KEYS)})' for k in data if k not in known)
    select = (_check_selectors(_as_list(data["select"], "select", errors), "select", errors) if "select" in data
              else ("CK",))
    ignore = _check_selectors(_as_list(data["ignore"], "ignore", errors), "ignore", errors) if "ignore" in data else ()
    pfi: list[tuple[str, tuple[str, ...]]] = []
    raw_pfi = data.get("per-file-ignores", {})
    if isinstance(raw_pfi, Mapping):
        for pat, codes in raw_pfi.items():
            pfi.append((str(pat), _check_selectors(_as_list(codes, f"per-file-ignores.{pat}", errors),
                                                   f"per-file-ignores.{pat}", errors)))
    elif isinstance(raw_pfi, Sequence) and not isinstance(raw_pfi, str):
        # flake8 style: ["path: CK1,CK2", …]
        for item in raw_pfi:
            if isinstance(item, str) and ":" in item:
                pat, codes = item.rsplit(":", 1)
                pfi.append((pat.strip(), _check_selectors(_as_list(codes, "per-file-ignores", errors),
                                                          "per-file-ignores", errors)))
            else:
                errors.append('invalid config: "per-file-ignores" entries must be "pattern: codes"')
    else:
        errors.append('invalid config: "per-file-ignores" must map file patterns to codes')
    fail = str(data.get("fail-level", "error")).lower()
    if fail not in SEVERITIES:
        errors.append(f'invalid config: "fail-level" must be one of {", ".join(SEVERITIES)}, not "{fail}"')
    kernels = _as_list(data["kernel"], "kernel", errors) if "kernel" in data else ()
    arches = _as_list(data["arch"], "arch", errors) if "arch" in data else ()
    rams = _as_list(data["ram"], "ram", errors) if "ram" in data else ()
    errors.extend(validate_profile(kernels, arches, rams))
    if errors:
        raise ConfigError("\n".join(_where(source, None) + "CK005 " + e for e in errors))
    return LintConfig(select=select, ignore=ignore, per_file_ignores=tuple(pfi), fail_level=fail, kernels=kernels,
                      arches=arches, rams=rams, base_dir=base_dir, source=source)


def validate_profile(kernels: Iterable[str], arches: Iterable[str], rams: Iterable[str]) -> list[str]:
    from crashplan.kernel import normalize_arch, parse_release
    from crashplan.units import parse_size

    errors = []
    for k in kernels:
        try:
            parse_release(k)
        except ValueError as e:
            errors.append(f'invalid config: kernel "{k}": {e}')
    for a in arches:
        try:
            normalize_arch(a)
        except ValueError as e:
            errors.append(f'invalid config: arch "{a}": {e}')
    from crashplan.kernel.arch import ram_limit_error

    targets_arches = []
    for a in arches or ("x86_64",):
        with contextlib.suppress(ValueError):
            targets_arches.append(normalize_arch(a))
    for r in rams:
        try:
            if parse_size(r) <= 0:
                raise ValueError("must be positive")
            why = next((w for w in (ram_limit_error(parse_size(r), a) for a in targets_arches) if w), None)
            if why:
                raise ValueError(why)
        except ValueError as e:
            errors.append(f'invalid config: ram "{r}": {e}')
    return errors


def _where(source: str | None, line: int | None) -> str:
    if source is None:
        return ""
    return f"{source}:{line}: " if line else f"{source}: "


def load_yaml(text: str, *, source: str, base_dir: str = "") -> LintConfig:
    """``.crashplan.yaml``: the options at the top level (a ``lint:`` mapping is accepted too)."""
    import yaml  # only here: a YAML config exists

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(_where(source, line)
                          + f"CK005 invalid config: not valid YAML ({getattr(e, 'problem', e)})") from None
    if isinstance(data, Mapping) and set(data) == {"lint"}:
        data = data["lint"]
    return config_from_mapping(data, source=source, base_dir=base_dir)


def load_pyproject(text: str, *, source: str, base_dir: str = "") -> LintConfig | None:
    """``[tool.crashplan]`` (or ``[tool.crashplan.lint]``); None when the table is absent."""
    toml = _toml_module()
    if toml is not None:
        try:
            doc = toml.loads(text)
        except toml.TOMLDecodeError as e:
            raise ConfigError(_where(source, None) + f"CK005 invalid config: not valid TOML ({e})") from None
    else:  # pragma: no cover - Python 3.10 without tomli
        doc = _mini_toml(text)
    table = doc.get("tool", {}).get("crashplan")
    if table is None:
        return None
    if isinstance(table, Mapping) and "lint" in table and isinstance(table["lint"], Mapping):
        table = table["lint"]
    return config_from_mapping(table, source=source, base_dir=base_dir)


def _toml_module() -> ModuleType | None:
    """tomllib (Python 3.11+), else tomli when installed, else None."""
    import importlib

    for name in ("tomllib", "tomli"):
        try:
            return importlib.import_module(name)
        except ImportError:  # pragma: no cover - Python 3.10
            continue
    return None


def _mini_toml(text: str) -> dict[str, object]:
    """A tiny TOML subset for Python 3.10 without tomli: tables, strings, arrays of strings."""
    import re

    root: dict[str, object] = {}
    cur: dict[str, object] = root
    pending_key = None
    buf = ""
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip() if '"' not in raw and "'" not in raw else raw.strip()
        if pending_key is not None:
            buf += " " + line
            if "]" in line:
                cur[pending_key] = re.findall(r"""["']([^"']*)["']""", buf)
                pending_key = None
            continue
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^\[([^\]]+)\]$", line)
        if m:
            cur = root
            for part in [p.strip().strip('"') for p in m.group(1).split(".")]:
                cur = cur.setdefault(part, {})  # type: ignore[assignment]  # a key reused as a [table] is invalid TOML, not checked here
            continue
        m = re.match(r"""^("[^"]+"|'[^']+'|[A-Za-z0-9_.\-/*]+)\s*=\s*(.*)$""", line)
        if not m:
            continue
        key, val = m.group(1).strip("\"'"), m.group(2).strip()
        if val.startswith("["):
            if "]" in val:
                cur[key] = re.findall(r"""["']([^"']*)["']""", val)
            else:
                pending_key, buf = key, val
        elif val[:1] in "\"'":
            cur[key] = val[1:val.rfind(val[0])]
        else:
            cur[key] = val
    return root


class Decider:
    """flake8's decision: selected by the longest matching prefix, ignored on a tie."""

    def __init__(self, select: Sequence[str], ignore: Sequence[str]) -> None:
        self.select = sorted(set(select), key=len, reverse=True)
        self.ignore = sorted(set(ignore), key=len, reverse=True)
        self._cache: dict[str, bool] = {}

    def __call__(self, code: str) -> bool:
        hit = self._cache.get(code)
        if hit is None:
            s = next((p for p in self.select if code.startswith(p)), None)
            i = next((p for p in self.ignore if code.startswith(p)), None)
            hit = s is not None and (i is None or len(s) > len(i))
            self._cache[code] = hit
        return hit


def per_file_ignored(config: LintConfig, path: str, code: str) -> bool:
    if not config.per_file_ignores:
        return False
    import fnmatch

    rel = _relative(path, config.base_dir)
    for pattern, codes in config.per_file_ignores:
        matches = (fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(path, pattern)
                   or fnmatch.fnmatch(rel, pattern.rstrip("/") + "/*"))
        if matches and any(code.startswith(c) for c in codes):
            return True
    return False


def _relative(path: str, base: str) -> str:
    import posixpath

    p = path.replace("\\", "/")
    if base and posixpath.isabs(p):
        try:
            return posixpath.relpath(p, base)
        except ValueError:  # pragma: no cover
            return p
    return p.removeprefix("./")


def known_codes() -> list[str]:
    from crashplan.lint.rules import all_rules

    return list(all_rules())

