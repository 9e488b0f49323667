"""More blank lines in a row than the layout allows.

## Why
Runs of blank lines spread a Dockerfile out without saying anything: one
blank line is enough to separate two groups of instructions.

## Example
    FROM alpine:3.19


    RUN apk add --no-cache curl

becomes

    FROM alpine:3.19

    RUN apk add --no-cache curl

## Options
`max-blank-lines` (default 1): how many blank lines may stand in a row.

## Fix
Safe: BuildKit skips blank lines. The blank lines at the end of the file are
DF202's. A blank line that keeps a comment at the top of the file from being
read as a parser directive (`# escape=`) is never removed. Blank lines inside
a continued instruction are DF005's. A layout rule: off by default, on with
`--select DF2`.
"""

from __future__ import annotations

from typing import Iterator

from dfix.cst.base import BlankLine, Comment
from dfix.rules._api import Context, Diagnostic, Fix, FixAvailability, Rule


def check(ctx: Context) -> Iterator[Diagnostic]:
    allowed = max(0, int(ctx.options["max-blank-lines"]))
    body = ctx.tree.body
    index = 0
    while index < len(body):
        if not isinstance(body[index], BlankLine):
            index += 1
            continue
        end = index
        while end < len(body) and isinstance(body[end], BlankLine):
            end += 1
        keep = allowed
        if index == 0 and end < len(body) and isinstance(body[end], Comment):
            keep = max(keep, 1)  # without it, the comment could become a parser directive
        if end < len(body) and end - index > keep:
            extra = body[index + keep:end]
            message = f"{end - index} blank lines in a row (at most {allowed})"
            yield ctx.report(extra[0], message, Fix.replace_all([(line, ()) for line in extra], "Remove the extra blank lines"))
        index = end


RULE = Rule(
    "DF203", "blank-lines", "Too many blank lines in a row", check, __doc__,
    fix=FixAvailability.SAFE, default=False, options={"max-blank-lines": 1},
)
