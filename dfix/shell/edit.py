"""Editing shell scripts in their author's layout.

Fixes add a flag after a subcommand, append a cleanup command, drop a
command, or join two RUN bodies. Each edit makes new nodes and keeps every
other byte: the new text follows the layout the script (or, failing that, the
rest of the file) already uses: operators at the start of continuation lines
(``\\`` then ``&& next``) or at their end (``&& \\`` then ``next``), the same
indentation, the file's escape character and line ends, and one line when the
result fits in the longest line the file already has.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

from dfix.cst import nodes as n
from dfix.cst.base import Continuation, Node, Whitespace
from dfix.cst.memo import kept_on
from dfix.cst.visit import walk
from dfix.shell.nodes import (
    CommandList, Comment, Compound, Opaque, Operator, Pipeline, Redirect, Script, SimpleCommand, Word,
)
from dfix.shell.parse import parse_script


@dataclass(frozen=True)
class Layout:
    """How a script breaks its lines between commands."""

    #: "\\\n    && next" (True) or "&& \\\n    next" (False)
    leading: bool = True
    indent: str = "    "
    escape: str = "\\"
    newline: str = "\n"

    def continuation(self, skipped: Sequence[n.Comment] = ()) -> Continuation:
        return Continuation(self.escape, "", self.newline, tuple(skipped))

    def break_after_semicolon(self) -> tuple[Whitespace, Whitespace]:
        """``a; \\`` then ``b``: where a ``;`` goes, whatever the ``&&`` preference."""
        return Whitespace(), Whitespace((" ", self.continuation(), self.indent))

    def break_before(self, skipped: Sequence[n.Comment] = ()) -> tuple[Whitespace, Whitespace]:
        """The blanks before an operator and after it, when a new line starts there."""
        broken = Whitespace((" ", self.continuation(skipped), self.indent))
        if self.leading:
            return broken, Whitespace((" ",))
        return Whitespace((" ",)), broken

    def joined(self, commands: Sequence[str]) -> str:
        """``commands`` as the text of a new RUN body: joined by ``&&``, each
        after the first on a line of its own."""
        if self.leading:
            separator = f" {self.escape}{self.newline}{self.indent}&& "
        else:
            separator = f" && {self.escape}{self.newline}{self.indent}"
        return separator.join(commands)


ONE_LINE = (Whitespace((" ",)), Whitespace((" ",)))


def layout_of(scripts: Iterable[Script], escape: str, newline: str) -> Layout | None:
    """The layout of the first operator that starts a new line in ``scripts``."""
    for leading, indent in _line_breaks(scripts):
        return Layout(leading, indent, escape, newline)
    return None


def operator_sides(scripts: Iterable[Script]) -> tuple[int, int]:
    """How many ``&&``, ``||`` and ``;`` in the top command lists of
    ``scripts`` start a continuation line, and how many end one."""
    sides = [leading for leading, _ in _line_breaks(scripts)]
    return sides.count(True), sides.count(False)


def _line_breaks(scripts: Iterable[Script]) -> Iterator[tuple[bool, str]]:
    """For each ``&&``, ``||`` and ``;`` of the top command lists that a
    line break stands next to: whether the operator starts the new line, and
    the new line's indentation."""
    for script in scripts:
        if not isinstance(script.body, CommandList):
            continue
        parts = script.body.parts
        for index, part in enumerate(parts[:-1]):
            if not isinstance(part, Operator) or part.value not in ("&&", ";", "||"):
                continue
            following = parts[index + 1]
            if not isinstance(following, Pipeline):
                continue
            if part.whitespace_before.continuations:
                yield True, _indent_after(part.whitespace_before)
            elif (after := leading_space(following)).continuations:
                yield False, _indent_after(after)


def file_layout(tree: n.Dockerfile, newline: str, prefer: Script | None = None) -> Layout:
    """The layout of ``prefer``; else the operators of the file's other RUN
    bodies, with the indentation ``prefer`` already gives its continuation
    lines; else the commonest one: ``\\`` then four spaces and ``&&``."""
    own = layout_of([prefer], tree.escape, newline) if prefer is not None else None
    if own is not None:
        return own

    def layout_of_the_file() -> Layout:
        scripts = [i.body.script for i in tree.instructions if isinstance(i, n.Run) and isinstance(i.body, n.ShellForm)]
        return layout_of(scripts, tree.escape, newline) or Layout(True, "    ", tree.escape, newline)

    # the same for every RUN of the tree: found once
    found = kept_on(tree, ("_file_layout", newline), layout_of_the_file)
    indent = continuation_indent(prefer) if prefer is not None else None
    return found if indent is None else Layout(found.leading, indent, found.escape, found.newline)


def continuation_indent(script: Script) -> str | None:
    """The indentation of a script's last continuation line, if it has one."""
    found = None
    for node in walk(script):
        space = getattr(node, "whitespace_before", None)
        if isinstance(space, Whitespace) and space.continuations:
            found = _indent_after(space)
    return found


def _indent_after(space: Whitespace) -> str:
    last = space.parts[-1] if space.parts else ""
    return last if isinstance(last, str) else ""


# Lines this short are never too long, whatever the file's longest line is.
SHORT_LINE = 80


@functools.lru_cache(maxsize=4)  # asked once per fix in the same text; a str keeps its hash
def longest_line(text: str) -> int:
    """How long a line may be in this file: its longest line, or SHORT_LINE."""
    return max((len(line.rstrip("\r")) for line in text.split("\n")), default=0) if text else 0


def line_limit(text: str) -> int:
    return max(longest_line(text), SHORT_LINE)


# ---------------------------------------------------------------- leading whitespace


def leading_space(node: Node) -> Whitespace:
    """The blanks before the first token of a command or pipeline."""
    first = _first_leaf(node)
    return first.whitespace_before if first is not None else Whitespace()


def with_leading_space(node: Node, space: Whitespace) -> Node:
    """The node with new blanks before its first token."""
    if hasattr(node, "whitespace_before"):
        return node.with_changes(whitespace_before=space)
    parts = getattr(node, "parts", ())
    if not parts:
        return node
    return node.with_changes(parts=(with_leading_space(parts[0], space), *parts[1:]))


def _first_leaf(node: Node) -> Node | None:
    while not hasattr(node, "whitespace_before"):
        parts = getattr(node, "parts", ())
        if not parts:
            return None
        node = parts[0]
    return node


# ---------------------------------------------------------------- words


def insert_word_after(command: SimpleCommand, anchor: Word | Redirect, text: str) -> SimpleCommand:
    """``command`` with a new word ``text`` right after ``anchor``."""
    index = next(i for i, part in enumerate(command.parts) if part is anchor)
    new = Word.of(text, " ")
    return command.with_changes(parts=(*command.parts[: index + 1], new, *command.parts[index + 1:]))


def replace_word(command: SimpleCommand, word: Word, text: str) -> SimpleCommand:
    """``command`` with ``word`` written as ``text``; its blanks are kept."""
    new = Word(word.whitespace_before, (text,))
    return command.with_changes(parts=tuple(new if part is word else part for part in command.parts))


# ---------------------------------------------------------------- commands in a script


def parse_pipeline(text: str) -> Pipeline:
    """A pipeline made from shell text, such as ``rm -rf /var/lib/apt/lists/*``."""
    script = parse_script([text])
    if not isinstance(script.body, CommandList) or len(script.body.parts) != 1:
        raise ValueError(f"not one pipeline: {text!r}")
    return script.body.parts[0]


def top_level_pipelines(script: Script) -> list[Pipeline]:
    return list(script.body.pipelines) if isinstance(script.body, CommandList) else []


def ends_in_comment(script: Script) -> bool:
    return isinstance(script.body, CommandList) and any(isinstance(p, Comment) for p in script.body.parts)


def append_after(
    script: Script, anchor: Pipeline, text: str, spaces: tuple[Whitespace, Whitespace], operator: str = "&&"
) -> Script:
    """``anchor && text``, with ``spaces`` before and after the ``&&``; an
    operator that ended ``anchor`` (such as a final ``;``) now ends ``text``."""
    body = script.body
    index = next(i for i, part in enumerate(body.parts) if part is anchor)
    before, after = spaces
    new = with_leading_space(parse_pipeline(text), after)
    parts = (*body.parts[: index + 1], Operator(before, (operator,)), new, *body.parts[index + 1:])
    return script.with_changes(body=body.with_changes(parts=parts))


def insert_before(
    script: Script, anchor: Pipeline, texts: Sequence[str], spaces: tuple[Whitespace, Whitespace], operator: str = "&&"
) -> Script:
    """``texts`` as commands before ``anchor``, each joined to the next by
    ``operator`` with ``spaces`` around it: the first takes ``anchor``'s
    leading blanks."""
    parts = list(script.body.parts)
    index = next(i for i, part in enumerate(parts) if part is anchor)
    before, after = spaces
    new: list[Node] = []
    for text in texts:
        new += [with_leading_space(parse_pipeline(text), after if new else leading_space(anchor)), Operator(before, (operator,))]
    parts[index:index + 1] = [*new, with_leading_space(anchor, after)]
    return script.with_changes(body=script.body.with_changes(parts=tuple(parts)))


def joins_with_semicolons_under_set_e(script: Script) -> bool:
    """A ``set -e; a; b`` script: it joins commands with ``;`` and stops at
    the first failure, so a new command can be joined the same way."""
    if not isinstance(script.body, CommandList):
        return False
    operators = {p.value for p in script.body.parts if isinstance(p, Operator)}
    pipelines = script.body.pipelines
    if operators != {";"} or not pipelines:
        return False
    first = pipelines[0].commands[0] if pipelines[0].commands else None
    if not isinstance(first, SimpleCommand) or first.name != "set":
        return False
    return any((w.value or "").startswith("-") and "e" in (w.value or "") for w in first.arguments)


def remove_pipeline(script: Script, pipeline: Pipeline) -> Script:
    """``script`` without ``pipeline`` and the operator that joined it: the
    one before it, or for the first pipeline the one after it (the next
    pipeline then takes the removed one's leading blanks)."""
    parts = list(script.body.parts)
    index = next(i for i, part in enumerate(parts) if part is pipeline)
    if index > 0 and isinstance(parts[index - 1], Operator):
        del parts[index - 1 : index + 1]
    else:
        space = leading_space(pipeline)
        del parts[index : index + 2]
        if index < len(parts) and isinstance(parts[index], Pipeline):
            parts[index] = with_leading_space(parts[index], space)
    return script.with_changes(body=script.body.with_changes(parts=tuple(parts)))


def join(first: Script, second: Script, spaces: tuple[Whitespace, Whitespace]) -> Script:
    """``first && second``: the second body's commands after the first's,
    before a final ``;`` of the first."""
    parts = list(first.body.parts)
    tail: list[Node] = []
    while parts and isinstance(parts[-1], (Operator, Comment)):
        tail.insert(0, parts.pop())
    before, after = spaces
    rest = list(second.body.parts)
    rest[0] = with_leading_space(rest[0], after)
    body = first.body.with_changes(parts=(*parts, Operator(before, ("&&",)), *rest, *tail))
    return first.with_changes(body=body, trailing=second.trailing)


def is_joinable(script: Script) -> bool:
    """A script another can be appended to with ``&&``: read by dfix, with no
    comment at its end (it would swallow what follows) and not ending with ``&``."""
    if not isinstance(script.body, CommandList) or script.is_opaque or ends_in_comment(script):
        return False
    operators = [p for p in script.body.parts if isinstance(p, Operator)]
    return bool(script.body.pipelines) and not (operators and operators[-1] is script.body.parts[-1] and operators[-1].value == "&")


def nested(node: Node) -> bool:
    return isinstance(node, (Compound, Opaque))
