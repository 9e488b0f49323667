"""Every rule dfix has: one module each, listed here by id."""

from __future__ import annotations

from dfix.rules import df001_keyword_casing, dl4000_maintainer_deprecated
from dfix.rules._api import Applicability, Context, Diagnostic, Fix, Rule

ALL_RULES: tuple[Rule, ...] = (
    df001_keyword_casing.RULE,
    dl4000_maintainer_deprecated.RULE,
)

__all__ = ["ALL_RULES", "Applicability", "Context", "Diagnostic", "Fix", "Rule"]
