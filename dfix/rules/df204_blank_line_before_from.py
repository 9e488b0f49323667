"""A build stage that does not start after a blank line.

## Why
Each `FROM` starts a new image; a blank line before it (and before the
comments that introduce it) shows where one stage ends and the next begins.

## Example
    FROM golang:1.22 AS build
    RUN go build -o /app .
    # the runtime image
    FROM gcr.io/distroless/static
    COPY --from=build /app /app

becomes

    FROM golang:1.22 AS build
    RUN go build -o /app .

    # the runtime image
    FROM gcr.io/distroless/static
    COPY --from=build /app /app

## Fix
Safe: a blank line goes before the comment lines right above the `FROM`
(they stay with it, pragmas included). The first `FROM` is left as it is. A
layout rule: off by default, on with `--select DF2`.
"""

from __future__ import annotations

from typing import Iterator

from dfix.cst import nodes as n
from dfix.cst.base import BlankLine, Comment, Whitespace
from dfix.rules._api import Context, Diagnostic, Fix, FixAvailability, Rule

MESSAGE = "No blank line before this build stage"


def check(ctx: Context) -> Iterator[Diagnostic]:
    body = ctx.tree.body
    first = True
    for index, line in enumerate(body):
        if not isinstance(line, n.From):
            continue
        if first:
            first = False
            continue
        top = index
        while top > 0 and isinstance(body[top - 1], Comment):
            top -= 1
        if top == 0 or isinstance(body[top - 1], BlankLine):
            continue
        blank = BlankLine(Whitespace(), ctx.newline)
        yield ctx.report(line.keyword_text, MESSAGE, Fix.replace(body[top], (blank, body[top]), "Add a blank line"))


RULE = Rule(
    "DF204", "blank-line-before-from", "No blank line before a build stage", check, __doc__,
    fix=FixAvailability.SAFE, default=False,
)
