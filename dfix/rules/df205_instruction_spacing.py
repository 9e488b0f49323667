"""More than one blank between an instruction's keyword, flags and arguments.

## Why
`COPY  --chown=app   src/ /app/` reads worse than
`COPY --chown=app src/ /app/`, and tabs line up differently in every editor.
One space between the parts of an instruction is the layout every example in
Docker's documentation uses.

## Example
    FROM   alpine:3.19   AS base
    ENV A=1	B=2

becomes

    FROM alpine:3.19 AS base
    ENV A=1 B=2

## Fix
Safe: BuildKit splits an instruction's flags and arguments at any run of
blanks, so one space reads the same. Only blanks on one line between two
parts are changed: blanks inside a value (`MAINTAINER Jane  Doe`, a quoted
string) and line breaks (DF208's) are kept, and so are the blanks between
a legacy `ENV key value` pair's key and value (DF004 rewrites those). The
blanks between shell words are DF207's. A layout rule: off by default, on
with `--select DF2`.
"""

from __future__ import annotations

from typing import Iterator

from dfix.cst.base import Whitespace
from dfix.rules._api import Context, Diagnostic, Fix, FixAvailability, Rule
from dfix.rules._layout import elements, instructions_and_inner, plain
from dfix.cst import nodes as n

MESSAGE = "More than one space between the parts of an instruction"
ONE = Whitespace((" ",))


def check(ctx: Context) -> Iterator[Diagnostic]:
    for instruction in instructions_and_inner(ctx.tree):
        blanks = [element.whitespace_before for element in elements(instruction)]
        if isinstance(instruction, n.Onbuild) and instruction.inner is not None:
            blanks.append(instruction.inner.indent)
        wrong = [whitespace for whitespace in blanks if plain(whitespace) not in (None, "", " ")]
        if wrong:
            yield ctx.report(wrong[0], MESSAGE, Fix.replace_all([(old, ONE) for old in wrong], "Use one space"))


RULE = Rule(
    "DF205", "instruction-spacing", "More than one space between the parts of an instruction", check, __doc__,
    fix=FixAvailability.SAFE, default=False,
)
