"""Two stages have the same name.

## Why
`COPY --from=builder` and `FROM builder` pick one of the stages called
`builder`, and which one depends on where the reference stands: BuildKit
resolves a `FROM` against the stages before it and a `COPY --from` against
the last stage of that name in the file. BuildKit reports it as
DuplicateStageName; the name of each stage should say which one is meant.

## Example
    FROM golang:1.22 AS builder
    RUN go build -o /app .
    FROM node:20 AS builder
    RUN npm run build

The second `AS builder` is reported.

## Fix
None: renaming a stage changes which stage the references point to, and
only the author knows which one each reference means. Like hadolint, dfix
compares the names as written; BuildKit also takes `Builder` and `builder`
for the same name (DF003 lowers stage names, and says so when it cannot
because of such a clash).
"""

from __future__ import annotations

from typing import Iterator

from dfix.cst import nodes as n
from dfix.rules._api import Context, Diagnostic, FixAvailability, Rule


def check(ctx: Context) -> Iterator[Diagnostic]:
    first_line: dict[str, int] = {}
    for instruction in ctx.tree.instructions:
        if not isinstance(instruction, n.From) or instruction.stage_name is None:
            continue
        name = instruction.stage_name
        if name in first_line:
            message = f"Stage name `{name}` is already used by the stage on line {first_line[name]}"
            yield ctx.report(instruction.args[2], message)
        else:
            first_line[name] = instruction.start_line


RULE = Rule("DL3024", "duplicate-stage-name", "Two stages with the same name", check, __doc__, fix=FixAvailability.NONE)
