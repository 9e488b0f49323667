"""Blanks at the end of a line.

## Why
Blanks at the end of a line are invisible in review and noisy in diffs;
after an escape character they even hide where a line is continued
(`RUN a \\ ` continues the line, though it does not look like it). BuildKit
drops them, so removing them changes nothing it reads.

## Example
    RUN apt-get update \\  
        && apt-get install -y curl   

becomes

    RUN apt-get update \\
        && apt-get install -y curl

## Fix
Safe: only blanks BuildKit drops are removed: after the last argument of an
instruction, after an escape character that continues a line, on blank lines
and at the end of comments and parser directives. Heredoc bodies are left
alone (their blanks are the file's content), and so are blanks before an
escape character, which may stand inside a quoted string. A layout rule: off
by default, on with `--select DF2`.
"""

from __future__ import annotations

from typing import Iterator

from dfix.cst import nodes as n
from dfix.cst.base import BlankLine, Comment, Continuation, Node, Whitespace
from dfix.cst.visit import walk
from dfix.rules._api import Context, Diagnostic, Fix, FixAvailability, Rule
from dfix.rules._layout import BLANKS, plain
from dfix.shell import nodes as sh

MESSAGE = "Trailing whitespace"


def check(ctx: Context) -> Iterator[Diagnostic]:
    if not any(blank + end in ctx.text for blank in BLANKS for end in ("\n", "\r")) and ctx.text[-1:] not in BLANKS:
        return  # most files: no line ends in a blank
    for node in walk(ctx.tree):
        found = _trailing_blanks(node)
        if found is not None:
            old, new = found
            yield ctx.report(old, MESSAGE, Fix.replace(old, new, "Remove trailing whitespace"))


def _trailing_blanks(node: Node) -> tuple[Node, Node] | None:
    """The node that holds blanks at a line's end and the same without them."""
    if isinstance(node, Continuation):
        return (node, node.with_changes(whitespace="")) if node.whitespace else None
    if isinstance(node, BlankLine):
        return (node.whitespace, Whitespace()) if node.whitespace.parts else None
    if isinstance(node, Comment):
        text = node.text.rstrip(BLANKS)
        return (node, node.with_changes(text=text)) if text != node.text else None
    if isinstance(node, (n.Instruction, n.Directive, sh.Script)):
        return (node.trailing, Whitespace()) if plain(node.trailing) else None
    return None


RULE = Rule(
    "DF201", "trailing-whitespace", "Trailing whitespace", check, __doc__,
    fix=FixAvailability.SAFE, default=False,
)
