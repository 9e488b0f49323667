"""Several CMDs in one stage: only the last one takes effect.

## Why
A stage's image has one default command: each CMD replaces the one before
it, so only the last CMD of the stage counts. An earlier CMD looks like it
does something and does not; it is usually left over from an edit.

## Example
    CMD ["npm", "run", "dev"]
    CMD ["node", "server.js"]

becomes

    CMD ["node", "server.js"]

## Fix
Safe: the CMD that a later CMD of the same stage overrides is removed; the
image is the same. Like hadolint, dfix reports each CMD after the first one
of a stage, and removes the one before it. A CMD inside ONBUILD is not the
stage's and is not counted. Comments above the removed CMD stay, except
suppression comments (`# hadolint ignore=...`, `# dfix: ignore=...`) right
above it, which only applied to it.
"""

from __future__ import annotations

from typing import Iterator

from dfix.cst import nodes as n
from dfix.rules._api import Context, Diagnostic, Rule
from dfix.rules._overridden import overridden

MESSAGE = "Multiple CMD instructions in the stage: only the last takes effect (the one on line {line} never does)"


def check(ctx: Context) -> Iterator[Diagnostic]:
    return overridden(ctx, n.Cmd, MESSAGE)


RULE = Rule("DL4003", "multiple-cmd", "Several CMD instructions in one stage", check, __doc__)
