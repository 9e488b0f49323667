"""Which rules run: ``--select`` and ``--ignore`` selectors.

A selector is a rule id (``DL4000``), a rule name (``maintainer-deprecated``),
an id prefix (``DL40``, ``DF``) or ``ALL``. A selector that matches no rule is
an error, hadolint ids dfix does not implement included (``--select DL3013``
would otherwise run nothing and pass): a typo must not turn checks off
silently. hadolint's own ignore lists (``.hadolint.yaml``, ``# hadolint``
pragmas) are not selectors: they are read by ``dfix.suppressions`` and may
name rules dfix lacks.
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

from dfix.rules import ALL_RULES, Rule

# what looks like a rule id or an id prefix (dfix's, hadolint's or ShellCheck's)
_CODE_LIKE = re.compile(r"[A-Z]{2}\d{1,4}", re.I)


class SelectorError(ValueError):
    """A selector that matches no rule: ``message`` names it, ``hint`` says
    what would do."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(f"{message} {hint}".strip())
        self.message = message
        self.hint = hint


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
    """SelectorError unless ``selector`` matches at least one rule."""
    if selector.upper() == "ALL" or any(matches(selector, rule) for rule in ALL_RULES):
        return
    if _CODE_LIKE.fullmatch(selector):
        raise SelectorError(f"unknown rule {selector.upper()}", "(no dfix rule has this id or prefix; see --list-rules)")
    raise SelectorError(
        f"unknown rule selector {selector!r}", "(use a rule id such as DL4000, a prefix such as DL40, or a rule name)"
    )


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
