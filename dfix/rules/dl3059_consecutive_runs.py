"""Consecutive RUN instructions that could be one.

## Why
Every RUN makes a layer and a cache entry. Two RUNs in a row of one command
each are usually one step split in two: one RUN is smaller and faster to
build and pull.

## Example
    RUN mkdir -p /app
    RUN chown app /app

becomes

    RUN mkdir -p /app && chown app /app

## Fix
Unsafe: joining two RUNs changes the layers and what the build cache reuses,
and a command can behave differently in the other's shell. dfix only joins
when the RUNs have the same flags, no heredoc, shell form, and the first
leaves no shell state (`cd`, `export`, `set`, `source`, `.`, `umask`,
`trap`, a variable) the second would inherit; otherwise it reports why not.
Like hadolint, dfix reports a RUN of one command that follows, with only
comments and blank lines between, a RUN of one command with the same flags.
"""

from __future__ import annotations

from typing import Iterator

from dfix.cst import nodes as n
from dfix.cst.visit import walk
from dfix.rules._api import Applicability, Context, Diagnostic, FixAvailability, Rule
from dfix.rules._merge import between, blocker, merge_fix
from dfix.shell.nodes import Opaque, SimpleCommand

MESSAGE = "Consecutive RUN instructions; join them into one"


def _count(run: n.Run) -> int:
    """How many commands a RUN runs, as hadolint counts them: a `[ ]` test
    does not count, an exec-form RUN runs one."""
    if not isinstance(run.body, n.ShellForm):
        return 1
    return sum(
        isinstance(node, Opaque) or (isinstance(node, SimpleCommand) and bool(node.words) and node.name != "[")
        for node in walk(run.body.script)
    )


def check(ctx: Context) -> Iterator[Diagnostic]:
    remembered: n.Run | None = None  # the RUN the next one is compared with, as hadolint does
    last: n.Run | None = None  # the RUN right before, which a reported one joins
    for instruction in ctx.tree.instructions:
        if not isinstance(instruction, n.Run):
            remembered = last = None
            continue
        if (
            remembered is not None
            and [f.text for f in remembered.flags] == [f.text for f in instruction.flags]
            and _count(remembered) <= 1
            and _count(instruction) <= 1
        ):
            reason = blocker(last, instruction)
            if reason:
                yield ctx.decline(instruction, MESSAGE, reason)
            else:
                lines = between(ctx.tree, last, instruction) or []
                fix = merge_fix(ctx, last, instruction, lines, "Join with the RUN before", Applicability.UNSAFE)
                yield ctx.report(instruction, MESSAGE, fix)
        else:
            remembered = instruction
        last = instruction


RULE = Rule("DL3059", "consecutive-runs", "Consecutive RUN instructions", check, __doc__, fix=FixAvailability.UNSAFE)
