"""Every rule dfix has: one module each, ``d[fl]NNNN_<name>.py``, found here.

Discovered rather than listed so that a new rule module is all it takes to
add a rule; tests check each module's name against its rule's id and name.
"""

from __future__ import annotations

import importlib
import pkgutil

from dfix.rules._api import Applicability, Context, Diagnostic, Fix, FixAvailability, NewFile, Place, Rule


def _discover() -> tuple[Rule, ...]:
    modules = sorted(name for _, name, _ in pkgutil.iter_modules(__path__) if not name.startswith("_"))
    return tuple(sorted((importlib.import_module(f"{__name__}.{name}").RULE for name in modules), key=lambda r: r.id))


ALL_RULES: tuple[Rule, ...] = _discover()

__all__ = ["ALL_RULES", "Applicability", "Context", "Diagnostic", "Fix", "FixAvailability", "NewFile", "Place", "Rule"]
