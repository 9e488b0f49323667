"""More than one blank between the words of a shell command.

## Why
`RUN apt-get  install   -y curl` reads like a typo, and blanks lined up
with tabs fall apart in another editor. The shell splits words at any run
of blanks, so one space says the same.

## Example
    RUN apt-get update  &&   apt-get install -y	curl

becomes

    RUN apt-get update && apt-get install -y curl

## Fix
Safe: only runs of blanks between shell words, operators and redirections
on one line become one space. Blanks inside quotes, inside `$(...)` and
backticks, in heredoc bodies, in scripts dfix cannot read, and at a line's
start after a continuation (DF208's) are kept. A layout rule: off by
default, on with `--select DF2`.
"""

from __future__ import annotations

from typing import Iterator

from dfix.cst import nodes as n
from dfix.cst.base import Whitespace
from dfix.rules._api import Context, Diagnostic, Fix, FixAvailability, Rule
from dfix.rules._layout import instructions_and_inner, plain
from dfix.shell import nodes as sh

MESSAGE = "More than one space between shell words"
ONE = Whitespace((" ",))


def check(ctx: Context) -> Iterator[Diagnostic]:
    if "  " not in ctx.text and "\t" not in ctx.text:
        return
    for instruction in instructions_and_inner(ctx.tree):
        body = getattr(instruction, "body", None)
        if not isinstance(body, n.ShellForm) or not body.script.posix:
            continue
        wrong = [
            node.whitespace_before for node in body.script.nodes
            if isinstance(node, (sh.Word, sh.Operator, sh.Redirect, sh.Comment))
            and plain(node.whitespace_before) not in (None, "", " ")
        ]
        if wrong:
            yield ctx.report(wrong[0], MESSAGE, Fix.replace_all([(old, ONE) for old in wrong], "Use one space"))


RULE = Rule(
    "DF207", "shell-spacing", "More than one space between shell words", check, __doc__,
    fix=FixAvailability.SAFE, default=False,
)
