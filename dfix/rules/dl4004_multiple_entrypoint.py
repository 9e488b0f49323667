"""Several ENTRYPOINTs in one stage: only the last one takes effect.

## Why
A stage's image has one entrypoint: each ENTRYPOINT replaces the one before
it, so only the last ENTRYPOINT of the stage counts. An earlier one looks
like it does something and does not.

## Example
    ENTRYPOINT ["python"]
    ENTRYPOINT ["/docker-entrypoint.sh"]

becomes

    ENTRYPOINT ["/docker-entrypoint.sh"]

## Fix
Safe: the ENTRYPOINT that a later ENTRYPOINT of the same stage overrides is
removed, and the image is the same. (An ENTRYPOINT clears a CMD inherited
from the base image unless the stage set one before it; the last
ENTRYPOINT does that alone, so removing an earlier one changes nothing.)
Like hadolint, dfix reports each ENTRYPOINT after the first one of a stage,
and removes the one before it. An ENTRYPOINT inside ONBUILD is not counted.
Comments above the removed ENTRYPOINT stay, except suppression comments
right above it, which only applied to it.
"""

from __future__ import annotations

from typing import Iterator

from dfix.cst import nodes as n
from dfix.rules._api import Context, Diagnostic, Rule
from dfix.rules._overridden import overridden

MESSAGE = (
    "Multiple ENTRYPOINT instructions in the stage: only the last takes effect (the one on line {line} never does)"
)


def check(ctx: Context) -> Iterator[Diagnostic]:
    return overridden(ctx, n.Entrypoint, MESSAGE)


RULE = Rule("DL4004", "multiple-entrypoint", "Several ENTRYPOINT instructions in one stage", check, __doc__)
