"""Which rules run: ``--select`` and ``--ignore`` selectors.

A selector is a rule id (``DL4000``), a rule name (``maintainer-deprecated``),
an id prefix (``DL40``, ``DF``) or ``ALL``. Prefixes that look like ids are
accepted even when no rule matches them yet, so that configurations written
for hadolint keep working; anything else dfix does not know is an error.
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

from dfix.rules import ALL_RULES, Rule

_CODE_PREFIX = re.compile(r"(?:DL|DF)\d{0,4}|DL|DF", re.I)


class SelectorError(ValueError):
    pass


def split(values: Iterable[str] | str | None) -> list[str]:
    """Selectors from repeated and comma-separated values."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def matches(selector: str, rule: Rule) -> bool:
    upper = selector.upper()
    return upper == "ALL" or rule.id.startswith(upper) or selector.lower() == rule.name


def check_selector(selector: str) -> None:
    if selector.upper() == "ALL" or _CODE_PREFIX.fullmatch(selector):
        return
    if any(matches(selector, rule) for rule in ALL_RULES):
        return
    raise SelectorError(f"unknown rule selector {selector!r} (use a rule id such as DL4000, a prefix such as DL40, or a rule name)")


def apply(enabled: Sequence[Rule], select: Sequence[str] | None, ignore: Sequence[str]) -> tuple[Rule, ...]:
    """One layer of selection: ``select`` replaces the set (from all rules,
    off-by-default ones included), then ``ignore`` removes from it."""
    for selector in [*(select or []), *ignore]:
        check_selector(selector)
    rules = list(enabled)
    if select:
        rules = [rule for rule in ALL_RULES if any(matches(selector, rule) for selector in select)]
    return tuple(rule for rule in rules if not any(matches(selector, rule) for selector in ignore))


def default_rules() -> tuple[Rule, ...]:
    return tuple(rule for rule in ALL_RULES if rule.default)


def resolve(select: Sequence[str] | None = None, ignore: Sequence[str] = ()) -> tuple[Rule, ...]:
    return apply(default_rules(), select, ignore)
