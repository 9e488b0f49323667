"""Configuration files, found upward from each Dockerfile.

``.dfix.toml`` (top-level keys, or a ``[tool.dfix]`` table as in
``pyproject.toml``, not both) or ``[tool.dfix]`` in ``pyproject.toml``; the
nearest one wins::

    select = ["DL", "DF"]          # rules to run (ids, names, prefixes, ALL)
    ignore = ["DL3008"]
    unsafe-fixes = false
    exclude = ["vendor/", "*.generated.Dockerfile"]
    line-length = 100              # for the rules that break long lines (DF209, DF210)
    context = "."                  # the build context, from this file's folder (default: each Dockerfile's)

    [rules.DL3059]                 # per-rule options ([tool.dfix.rules.DL3059])
    some-option = 1

A ``select`` or ``ignore`` entry that matches no rule is an error (a typo
would otherwise turn checks off without a word).

hadolint's ``.hadolint.yaml`` (or ``.yml``) is read too, nearest one upward:
its ``ignored`` list is ignored by dfix as well, so that existing
repositories need no edits.
"""

from __future__ import annotations

import functools
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from dfix.rules import ALL_RULES
from dfix.selection import SelectorError, check_selector

_KEYS = {"select", "ignore", "unsafe-fixes", "exclude", "line-length", "context", "rules"}
#: the setting every rule with a ``line-length`` option takes, unless its own table sets it
LINE_LENGTH = "line-length"


class ConfigError(ValueError):
    def __init__(self, path: Path, message: str) -> None:
        super().__init__(f"{path}: error: {message}")
        self.path = path
        self.message = message


@dataclass(frozen=True)
class Config:
    """The settings one configuration file gives; empty when there is none."""

    source: Path | None = None
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    unsafe_fixes: bool | None = None
    exclude: tuple[str, ...] = ()
    #: rule id -> option name -> value
    rule_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: the ``ignored`` list of the nearest .hadolint.yaml
    hadolint_ignored: frozenset[str] = frozenset()
    #: the build context folder the ``context`` setting names (resolved), if it does
    context: Path | None = None

    @property
    def root(self) -> Path | None:
        """The directory ``exclude`` patterns are relative to."""
        return self.source.parent if self.source else None


@functools.lru_cache(maxsize=None)
def config_for(directory: Path) -> Config:
    """The configuration that applies to files in ``directory``."""
    directory = directory.resolve()
    config = Config()
    for folder in (directory, *directory.parents):
        found = _read_dfix(folder)
        if found is not None:
            config = found
            break
    ignored = _hadolint_ignored(directory)
    if ignored:
        config = Config(**{**config.__dict__, "hadolint_ignored": ignored})
    return config


def _read_dfix(folder: Path) -> Config | None:
    dedicated = folder / ".dfix.toml"
    if dedicated.is_file():
        return _parse(dedicated, _dedicated_table(dedicated, _load(dedicated)))
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file():
        table = _load(pyproject).get("tool", {}).get("dfix")
        if table is not None:
            return _parse(pyproject, table)
    return None


def _load(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(path, f"cannot read: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(path, f"invalid TOML: {error}") from None


def _dedicated_table(path: Path, document: dict[str, Any]) -> Any:
    """The settings of a ``.dfix.toml``: its top-level keys, or its
    ``[tool.dfix]`` table (the form ``pyproject.toml`` uses), not both."""
    if "tool" not in document:
        return document
    tool = document["tool"]
    if not isinstance(tool, dict) or "dfix" not in tool:
        raise ConfigError(path, "unknown setting 'tool' (a .dfix.toml holds its settings at the top level "
                                "or in a [tool.dfix] table)")
    others = sorted(set(tool) - {"dfix"})
    if others:
        raise ConfigError(path, f"unknown table 'tool.{others[0]}' (a .dfix.toml holds only dfix settings)")
    top = sorted(set(document) - {"tool"})
    if top:
        raise ConfigError(path, f"settings both at the top level ({top[0]!r}) and in [tool.dfix]: "
                                "use one or the other")
    return tool["dfix"]


def _parse(path: Path, table: Any) -> Config:
    if not isinstance(table, dict):
        raise ConfigError(path, "the dfix settings must be a table")
    unknown = set(table) - _KEYS
    if unknown:
        raise ConfigError(path, f"unknown setting {sorted(unknown)[0]!r} (known: {', '.join(sorted(_KEYS))})")

    def strings(key: str) -> tuple[str, ...] | None:
        if key not in table:
            return None
        value = table[key]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ConfigError(path, f"{key!r} must be a list of strings")
        return tuple(value)

    for key in ("select", "ignore"):
        for selector in strings(key) or ():
            try:
                check_selector(selector)
            except SelectorError as error:
                raise ConfigError(path, f"{error.message} in {key!r} {error.hint}".strip()) from None

    unsafe = table.get("unsafe-fixes")
    if unsafe is not None and not isinstance(unsafe, bool):
        raise ConfigError(path, "'unsafe-fixes' must be true or false")
    rule_options = _rule_options(path, table.get("rules", {}))
    context = table.get("context")
    if context is not None and (not isinstance(context, str) or not context.strip()):
        raise ConfigError(path, "'context' must be a folder (a string)")
    if LINE_LENGTH in table:
        length = table[LINE_LENGTH]
        if type(length) is not int or length < 1:
            raise ConfigError(path, f"{LINE_LENGTH!r} must be a positive integer")
        for rule in ALL_RULES:
            if LINE_LENGTH in rule.options:
                rule_options.setdefault(rule.id, {}).setdefault(LINE_LENGTH, length)
    return Config(
        source=path,
        select=strings("select"),
        ignore=strings("ignore") or (),
        unsafe_fixes=unsafe,
        exclude=strings("exclude") or (),
        rule_options=rule_options,
        context=(path.parent / context).resolve() if context else None,
    )


def _rule_options(path: Path, table: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(table, dict):
        raise ConfigError(path, "'rules' must be a table of rule tables")
    out: dict[str, dict[str, Any]] = {}
    for key, options in table.items():
        rule = next((r for r in ALL_RULES if key.upper() == r.id or key.lower() == r.name), None)
        if rule is None:
            raise ConfigError(path, f"rules: unknown rule {key!r}")
        if not isinstance(options, dict):
            raise ConfigError(path, f"rules.{key} must be a table")
        for name, value in options.items():
            if name not in rule.options:
                known = ", ".join(rule.options) or "none"
                raise ConfigError(path, f"rules.{key}: unknown option {name!r} (options of {rule.id}: {known})")
            default = rule.options[name]
            if default is not None and type(value) is not type(default):
                raise ConfigError(path, f"rules.{key}.{name} must be a {type(default).__name__}")
            allowed = rule.choices.get(name)
            if allowed is not None and value not in allowed:
                raise ConfigError(path, f"rules.{key}.{name} must be one of {', '.join(map(repr, allowed))}")
        out[rule.id] = dict(options)
    return out


def _hadolint_ignored(directory: Path) -> frozenset[str]:
    for folder in (directory, *directory.parents):
        for name in (".hadolint.yaml", ".hadolint.yml"):
            path = folder / name
            if path.is_file():
                try:
                    return frozenset(item.upper() for item in hadolint_ignored(path.read_text(encoding="utf-8")))
                except (OSError, UnicodeDecodeError) as error:
                    raise ConfigError(path, f"cannot read: {error}") from None
    return frozenset()


def hadolint_ignored(text: str) -> list[str]:
    """The ``ignored`` list of a .hadolint.yaml: a block list or a flow list.

    Only this key is read, so a small reader does instead of a YAML library.
    """
    lines = text.splitlines()
    for index, line in enumerate(lines):
        match = re.match(r"ignored\s*:\s*(.*)$", _uncomment(line))
        if not match:
            continue
        rest = match.group(1).strip()
        if rest.startswith("["):
            inline = rest
            while not inline.rstrip().endswith("]") and index + 1 < len(lines):
                index += 1
                inline += " " + _uncomment(lines[index]).strip()
            return [_unquote(item) for item in inline.strip()[1:-1].split(",") if item.strip()]
        items = []
        for following in lines[index + 1:]:
            stripped = _uncomment(following).strip()
            if not stripped:
                continue
            if not stripped.startswith("-") or not following[:1].isspace() and not following.startswith("-"):
                break
            items.append(_unquote(stripped[1:]))
        return items
    return []


def _uncomment(line: str) -> str:
    return re.sub(r"\s+#.*$|^#.*$", "", line)


def _unquote(item: str) -> str:
    return item.strip().strip("'\"").strip()
