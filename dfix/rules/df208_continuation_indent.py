"""Continuation lines not indented the same way.

## Why
An instruction continued over several lines reads as one block when each
continuation line is indented by the same amount: `RUN` at the left, its
commands (or flags, or `ENV` pairs) one level in. Mixed tabs and spaces, or
lines that start at the left edge, hide where an instruction ends.

## Example
    RUN apt-get update \\
      && apt-get install -y \\
    curl \\
    	git

becomes

    RUN apt-get update \\
        && apt-get install -y \\
        curl \\
        git

## Options
`indent` (default 4): how many spaces a continuation line starts with.

## Fix
Safe: the blanks at the start of a continuation line are blanks between two
words, which BuildKit joins to the line before and the shell splits at.
Only lines that start between two parts of an instruction are changed: a
line that starts inside a quoted string, a word, `$(...)` or a heredoc body
keeps its blanks (they are part of the value), and so do the lines inside
compound shell commands (`if`, loops, groups), whose nesting their author
laid out. Comment lines inside the instruction get the same indentation. A
layout rule: off by default, on with `--select DF2`.
"""

from __future__ import annotations

from typing import Iterator

from dfix.cst import nodes as n
from dfix.cst.base import Comment, Continuation, Whitespace
from dfix.rules._api import Context, Diagnostic, Fix, FixAvailability, Rule
from dfix.rules._layout import elements, instructions_and_inner, is_continuation, top_level_shell_nodes

MESSAGE = "Continuation line not indented by {indent} spaces"


def check(ctx: Context) -> Iterator[Diagnostic]:
    indent = " " * max(0, int(ctx.options["indent"]))
    for instruction in instructions_and_inner(ctx.tree):
        if instruction.start_line == instruction.end_line:
            continue  # one line: nothing continued
        fixes = [(old, new) for old in _line_breaking_blanks(instruction) if (new := _indented(old, indent)) is not None]
        if fixes:
            message = MESSAGE.format(indent=len(indent))
            yield ctx.report(fixes[0][0], message, Fix.replace_all(fixes, "Indent the continuation lines"))


def _line_breaking_blanks(instruction: n.Instruction) -> Iterator[Whitespace]:
    """The blanks between two parts of the instruction that may break its line."""
    for element in elements(instruction):
        yield element.whitespace_before
        if isinstance(element, n.ShellForm) and element.script.posix:
            for node in top_level_shell_nodes(element.script):
                yield node.whitespace_before
        if isinstance(element, n.JsonArray):
            for string in element.elements:
                yield string.whitespace_before
                yield string.whitespace_after
    if isinstance(instruction, n.Onbuild) and instruction.inner is not None:
        yield instruction.inner.indent


def _indented(whitespace: Whitespace, indent: str) -> Whitespace | None:
    """The blanks with each line after a continuation starting with
    ``indent``, or None when they already do (or break no line)."""
    parts = list(whitespace.parts)
    if not any(is_continuation(part) for part in parts):
        return None
    out: list[str | Continuation] = []
    for index, part in enumerate(parts):
        if is_continuation(part):
            out.append(_with_comments_indented(part, indent))
            following = parts[index + 1] if index + 1 < len(parts) else None
            if following is None or is_continuation(following):
                out.append(indent)
        elif index and is_continuation(parts[index - 1]):
            out.append(indent)
        else:
            out.append(part)
    fixed = Whitespace(tuple(part for part in out if part != ""))
    return None if fixed.code == whitespace.code else fixed


def _with_comments_indented(continuation: Continuation, indent: str) -> Continuation:
    skipped = tuple(
        line.with_changes(indent=indent) if isinstance(line, Comment) else line for line in continuation.skipped
    )
    return continuation if skipped == continuation.skipped else continuation.with_changes(skipped=skipped)


RULE = Rule(
    "DF208", "continuation-indent", "Continuation lines not indented the same way", check, __doc__,
    fix=FixAvailability.SAFE, default=False, options={"indent": 4},
)
