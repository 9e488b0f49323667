"""A file that does not end with exactly one line end.

## Why
Without a final line end, `cat`, `git diff` and many editors treat the last
line as incomplete (git shows "No newline at end of file"); blank lines at
the end are noise. BuildKit reads the file the same either way.

## Example
    FROM alpine:3.19
    CMD ["sh"]⏎
    ⏎
    ⏎

becomes

    FROM alpine:3.19
    CMD ["sh"]⏎

## Fix
Safe: the blank lines at the end are removed, and the last line gets the
file's line end (CRLF in a CRLF file) if it has none. A heredoc at the end
of the file gets its line end after its end line. A file whose last line ends
with an escape character (continued at the end of the file) is left as it
is. A layout rule: off by
default, on with `--select DF2`.
"""

from __future__ import annotations

from typing import Iterator

from dfix.cst import nodes as n
from dfix.cst.base import BlankLine, Comment, Node
from dfix.rules._api import Context, Diagnostic, Fix, FixAvailability, Rule

MESSAGE = "The file does not end with exactly one line end"


def check(ctx: Context) -> Iterator[Diagnostic]:
    body = ctx.tree.body
    last = len(body)
    while last and isinstance(body[last - 1], BlankLine):
        last -= 1
    if not last:
        return  # nothing but blank lines (or nothing at all): no last line to end
    if isinstance(body[last - 1], n.Instruction) and ctx.text.rstrip().endswith(ctx.tree.escape):
        return  # the last line continues at the end of the file: a line end after it would be read as part of it
    replacements: list[tuple[Node, Node | tuple[()]]] = [(blank, ()) for blank in body[last:]]
    ended = _with_line_end(body[last - 1], ctx.newline)
    if ended is not body[last - 1]:
        replacements.insert(0, (body[last - 1], ended))
    if replacements:
        where = body[last] if last < len(body) else body[last - 1]
        yield ctx.report(where, MESSAGE, Fix.replace_all(replacements, "End the file with one line end"))


def _with_line_end(line: Node, newline: str) -> Node:
    """The line with a line end, or the same node if it has one."""
    if isinstance(line, n.Instruction) and line.heredocs:
        last = line.heredocs[-1]
        if last.end.endswith(("\n", "\r")):
            return line
        return line.with_changes(heredocs=line.heredocs[:-1] + (last.with_changes(end=last.end + newline),))
    if isinstance(line, (n.Instruction, Comment)) and not line.newline:
        return line.with_changes(newline=newline)
    return line


RULE = Rule(
    "DF202", "final-newline", "The file does not end with one line end", check, __doc__,
    fix=FixAvailability.SAFE, default=False,
)
