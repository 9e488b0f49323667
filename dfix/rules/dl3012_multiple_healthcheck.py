"""Several HEALTHCHECKs in one stage: only the last one takes effect.

## Why
A stage's image has one health check: each HEALTHCHECK (`HEALTHCHECK NONE`
included) replaces the whole previous one, options and all, so only the
last one of the stage counts. An earlier one looks like it does something
and does not.

## Example
    HEALTHCHECK CMD curl -f http://localhost/ || exit 1
    HEALTHCHECK --interval=30s CMD curl -f http://localhost:8080/ || exit 1

becomes

    HEALTHCHECK --interval=30s CMD curl -f http://localhost:8080/ || exit 1

## Fix
Safe: the HEALTHCHECK that a later HEALTHCHECK of the same stage overrides
is removed, and the image is the same. Like hadolint, dfix reports each
HEALTHCHECK after the first one of a stage (`HEALTHCHECK NONE` counts), and
removes the one before it. A HEALTHCHECK inside ONBUILD is not counted.
Comments above the removed HEALTHCHECK stay, except suppression comments
right above it, which only applied to it.
"""

from __future__ import annotations

from typing import Iterator

from dfix.cst import nodes as n
from dfix.rules._api import Context, Diagnostic, Rule
from dfix.rules._overridden import overridden

MESSAGE = (
    "Multiple HEALTHCHECK instructions in the stage: only the last takes effect (the one on line {line} never does)"
)


def check(ctx: Context) -> Iterator[Diagnostic]:
    return overridden(ctx, n.Healthcheck, MESSAGE)


RULE = Rule("DL3012", "multiple-healthcheck", "Several HEALTHCHECK instructions in one stage", check, __doc__)
