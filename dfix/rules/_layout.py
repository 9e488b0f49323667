"""What the layout rules (DF2xx) share: blanks as text, and where they stand.

The layout rules change only blanks, line ends and the order of lines that
hold nothing (blank lines): never a character BuildKit or the shell reads as
part of a value. Blanks between two parts of an instruction are
:class:`Whitespace` nodes, and a continuation inside them is where a line
breaks; blanks inside a word, a quoted string, a JSON string, a comment's text
or a heredoc body are in other nodes, which these rules never touch.
"""

from __future__ import annotations

from typing import Iterator

from dfix.cst import nodes as n
from dfix.cst.base import Continuation, Node, Whitespace
from dfix.shell import nodes as sh

#: what BuildKit and the shell take for blanks between words
BLANKS = " \t"


def plain(whitespace: Whitespace) -> str | None:
    """The text of blanks that stay on one line; None when they break it."""
    parts = whitespace.parts
    if not parts:
        return ""
    if len(parts) == 1 and type(parts[0]) is str:
        return parts[0]
    return None if any(type(part) is not str for part in parts) else "".join(parts)


def elements(instruction: n.Instruction) -> Iterator[Node]:
    """The flags and arguments of an instruction (and of the one an ONBUILD
    holds), each a node with ``whitespace_before``: what follows the keyword."""
    yield from instruction.flags
    if isinstance(instruction, n.Onbuild):
        return  # the inner instruction's blanks are its indent
    for name in instruction.ARGUMENTS:
        value = getattr(instruction, name)
        for item in value if type(value) is tuple else (value,):
            if item is not None and hasattr(item, "whitespace_before"):
                yield item


def instructions_and_inner(tree: n.Dockerfile) -> Iterator[n.Instruction]:
    for instruction in tree.instructions:
        yield instruction
        if isinstance(instruction, n.Onbuild) and instruction.inner is not None:
            yield instruction.inner


def top_level_shell_nodes(script: sh.Script) -> Iterator[Node]:
    """The nodes of a script's top command list that have blanks before them:
    its commands' words and redirections, and the operators between them. The
    nodes inside compound commands (``if``, loops, groups, subshells) keep the
    layout their author gave their nesting."""
    body = script.body
    if not isinstance(body, sh.CommandList):
        return
    for part in body.parts:
        if isinstance(part, sh.Pipeline):
            for item in part.parts:
                if isinstance(item, sh.SimpleCommand):
                    yield from item.parts
                elif isinstance(item, sh.Compound):
                    # its opening and closing words stand at this level, what is between them is nested
                    ends = (item.parts[0], item.parts[-1]) if len(item.parts) > 1 else item.parts[:1]
                    yield from (end for end in ends if hasattr(end, "whitespace_before"))
                elif not isinstance(item, sh.Opaque):
                    yield item
        elif not isinstance(part, sh.Opaque):
            yield part


def is_continuation(part: object) -> bool:
    return type(part) is Continuation
