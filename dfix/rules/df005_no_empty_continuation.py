"""Empty lines inside an instruction continued over several lines.

## Why
After a line that ends with the escape character, BuildKit skips empty lines
and goes on with the instruction: a blank line does not end it. So in

    RUN apt-get update && \\

    RUN echo done

the second RUN is part of the first one's command. BuildKit reports such
lines as NoEmptyContinuation and says they will become an error (Docker
has warned about them since 2017, moby/moby#33719). hadolint cannot read some
of these files at all.

## Example
    RUN apk add --no-cache \\
        curl \\

        git

becomes

    RUN apk add --no-cache \\
        curl \\
        git

## Fix
Safe: BuildKit skips the empty lines, so the instruction reads the same
without them. Comment lines inside the instruction are not empty lines and
stay where they are.
"""

from __future__ import annotations

import re
from typing import Iterator

from dfix.cst import nodes as n
from dfix.cst.visit import walk
from dfix.rules._api import Context, Diagnostic, Fix, Rule

MESSAGE = "Empty continuation line: a blank line inside an instruction that goes on after it"


# a line of blanks after a line end: where an empty continuation line may be
_BLANK_LINE = re.compile(r"(?:\r\n|\n|\r)[^\S\r\n]*(?:\r\n|\n|\r)")
# an escape at a line's end, then comment lines, then a line of blanks: what
# the file must hold for an empty continuation line to be in it
_AFTER_ESCAPE = r"[^\S\r\n]*(?:\r\n|\n|\r)(?:[^\S\r\n]*#[^\r\n]*(?:\r\n|\n|\r))*[^\S\r\n]*(?:\r\n|\n|\r|$)"
_ANYWHERE = {escape: re.compile(re.escape(escape) + _AFTER_ESCAPE) for escape in ("\\", "`")}


def check(ctx: Context) -> Iterator[Diagnostic]:
    if not _ANYWHERE[ctx.tree.escape].search(ctx.text):
        return  # most files: no need to look at each instruction
    for instruction in ctx.tree.instructions:
        start, end = ctx.positions.span(instruction)
        if not _BLANK_LINE.search(ctx.text, start, end):
            continue  # no blank line in its text: no need to walk it
        # by identity: a continuation is one node of the tree, wherever it is printed from
        continuations = list({
            id(node): node for node in walk(instruction)
            if isinstance(node, n.Continuation) and any(isinstance(line, n.BlankLine) for line in node.skipped)
        }.values())
        if not continuations:
            continue
        first_blank = next(line for line in continuations[0].skipped if isinstance(line, n.BlankLine))
        replacements = [(continuation, _without_blank_lines(continuation)) for continuation in continuations]
        fix = Fix.replace_all(replacements, "Remove the empty lines")
        yield ctx.report(first_blank, MESSAGE, fix)


def _without_blank_lines(continuation: n.Continuation) -> n.Continuation:
    kept = tuple(line for line in continuation.skipped if not isinstance(line, n.BlankLine))
    return continuation.with_changes(skipped=kept)


RULE = Rule("DF005", "no-empty-continuation", "Empty lines inside a continued instruction", check, __doc__)
