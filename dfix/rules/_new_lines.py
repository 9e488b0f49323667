"""New instructions for fixes that add lines: written as text in the
file's style (keyword casing, indentation, escape character, line ends),
then parsed, so that they are exactly what dfix would read from a file."""

from __future__ import annotations

import dataclasses
from typing import Sequence

from dfix.cst import nodes as n
from dfix.rules._api import Context
from dfix.rules._stages import Stage

# What builds the image's files; the runtime settings (CMD, ENTRYPOINT,
# EXPOSE, ...) conventionally follow them.
_BUILDING = (n.From, n.Run, n.Copy, n.Add, n.Workdir, n.User, n.Shell, n.Onbuild)


def instructions_from_text(ctx: Context, lines: Sequence[str], like: n.Instruction | None = None) -> tuple[n.Line, ...]:
    """``lines`` (one instruction each, maybe with continuations) as nodes,
    indented like ``like`` and ending with the file's line end."""
    from dfix.cst.build import parse

    newline = ctx.newline
    escape = ctx.tree.escape
    header = f"# escape={escape}{newline}" if escape != "\\" else ""
    tree = parse(header + "".join(line + newline for line in lines))
    indent = like.indent if like is not None else n.Whitespace()
    return tuple(
        dataclasses.replace(line, indent=indent) if isinstance(line, n.Instruction) else line for line in tree.body
    )


def keyword_like(instruction: n.Instruction, line: str) -> str:
    """``line`` with its keyword lower case when ``instruction``'s is."""
    keyword, space, rest = line.partition(" ")
    return (keyword.lower() if instruction.keyword_text.code.islower() else keyword.upper()) + space + rest


def insertion_point(tree: n.Dockerfile, stage: Stage) -> tuple[n.Line, bool, n.Instruction]:
    """Where runtime instructions go in ``stage``: before its first CMD or
    ENTRYPOINT after the last instruction that builds (and before the
    comments right above it), or else after that last instruction.

    Returns the line to insert at, whether the new lines go after it, and the
    instruction whose style they copy.
    """
    instructions = stage.instructions
    last_build = max(i for i, each in enumerate(instructions) if isinstance(each, _BUILDING))
    runtime = next(
        (each for each in instructions[last_build + 1:] if isinstance(each, (n.Cmd, n.Entrypoint))), None
    )
    if runtime is None:
        return instructions[last_build], True, instructions[last_build]
    return comments_above(tree, runtime), False, runtime


def comments_above(tree: n.Dockerfile, instruction: n.Instruction) -> n.Line:
    """The first of the comment lines right above ``instruction`` (they
    describe it, or hold its `# hadolint ignore=`, so what goes before it
    goes before them), or the instruction itself."""
    body = tree.body
    index = next(i for i, line in enumerate(body) if line is instruction)
    while index > 0 and isinstance(body[index - 1], n.Comment):
        index -= 1
    return body[index]


def with_line_end(line: n.Line, newline: str) -> list[n.Line]:
    """``line`` ended by a line break, for new lines to follow it. The last
    line of a file may have none, end in a lone CR (a line end only at the end
    of the file), or end in a heredoc's terminator: then a ``newline`` follows it."""
    if line.code.endswith("\n"):
        return [line]
    if not line.newline and not line.code.endswith(("\r", "\n")) and not getattr(line, "heredocs", None):
        return [dataclasses.replace(line, newline=newline)]
    return [line, n.BlankLine(newline=newline)]
