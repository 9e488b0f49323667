"""A long list of shell commands on one line.

## Why
`RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*`
grows past the width of a review window; with one command per line, a diff
shows which command changed, and a reader sees the steps.

## Example
    RUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates && rm -rf /var/lib/apt/lists/*

becomes

    RUN apt-get update \\
        && apt-get install -y --no-install-recommends curl ca-certificates \\
        && rm -rf /var/lib/apt/lists/*

## Options
`line-length` (default 100, or `line-length` under `[tool.dfix]`): a line
longer than this breaks. `operator-position`: `"start"` (`\\` then
`&& next`), `"end"` (`&& \\` then `next`) or `"auto"` (default): the side the
file's continued commands already put their operators on, most of the time;
`"start"` when they do not say. A command list that breaks some of its
lines already keeps its own side and indentation.

## Fix
Safe: a line break (the escape character, a line end, the indentation)
goes between two commands of the shell form's top command list, at each
`&&`, `||` and `;` that has none; BuildKit joins the lines again before the
shell reads them. Commands inside `if`, loops, groups and `$(...)` stay as
they are, and so do instructions with a heredoc (its body starts after the
instruction's first line) or a shell comment. `;` always ends its line. A
layout rule: off by default, on with `--select DF2`.
"""

from __future__ import annotations

from typing import Iterator

from dfix.cst import nodes as n
from dfix.rules._api import Context, Diagnostic, Fix, FixAvailability, Rule
from dfix.rules._layout import instructions_and_inner
from dfix.shell import nodes as sh
from dfix.shell.edit import Layout, continuation_indent, layout_of, leading_space, operator_sides

OPERATORS = ("&&", "||", ";")
MESSAGE = "A line longer than {limit} characters holds several commands: one command per line"


def check(ctx: Context) -> Iterator[Diagnostic]:
    limit = int(ctx.options["line-length"])
    lines = ctx.text.splitlines()
    if not any(len(line) > limit for line in lines):
        return
    for instruction in instructions_and_inner(ctx.tree):
        body = getattr(instruction, "body", None)
        if not isinstance(body, n.ShellForm) or instruction.heredocs or not instruction.start_line:
            continue
        if not any(len(line) > limit for line in lines[instruction.start_line - 1:instruction.end_line]):
            continue
        fixes = _breaks(body.script, _layout(ctx, body.script))
        if fixes:
            message = MESSAGE.format(limit=limit)
            yield ctx.report(body, message, Fix.replace_all(fixes, "Put each command on a line of its own"))


def _layout(ctx: Context, script: sh.Script) -> Layout:
    """The script's own layout where it breaks lines already, else the option's."""
    own = layout_of([script], ctx.tree.escape, ctx.newline)
    if own is not None:
        return own
    side = ctx.options["operator-position"]
    if side == "auto":
        scripts = [i.body.script for i in instructions_and_inner(ctx.tree) if isinstance(getattr(i, "body", None), n.ShellForm)]
        starting, ending = operator_sides(scripts)
        side = "end" if ending > starting else "start"
    indent = continuation_indent(script) or " " * 4
    return Layout(side != "end", indent, ctx.tree.escape, ctx.newline)


def _breaks(script: sh.Script, layout: Layout) -> list[tuple[object, object]]:
    """The blanks to replace so that each command of the top list starts a
    line; empty when some are nested or commented (left as they are)."""
    body = script.body
    if not script.posix or not isinstance(body, sh.CommandList) or any(isinstance(p, sh.Comment) for p in body.parts):
        return []
    parts = body.parts
    fixes = []
    for index, part in enumerate(parts[:-1]):
        following = parts[index + 1]
        if not isinstance(part, sh.Operator) or part.value not in OPERATORS or not isinstance(following, sh.Pipeline):
            continue
        after = leading_space(following)
        if part.whitespace_before.continuations or after.continuations:
            continue  # a line already breaks here
        before, new_after = layout.break_after_semicolon() if part.value == ";" else layout.break_before()
        if before.code != part.whitespace_before.code:
            fixes.append((part.whitespace_before, before))
        fixes.append((after, new_after))
    return fixes


RULE = Rule(
    "DF209", "one-command-per-line", "A long line holds several shell commands", check, __doc__,
    fix=FixAvailability.SAFE, default=False, options={"line-length": 100, "operator-position": "auto"},
    choices={"operator-position": ("auto", "start", "end")},
)
