"""Where each node of a parsed tree stands in its text.

Nodes do not carry positions (a node can be moved or copied); this index is
built once per tree, by printing it and noting where each node starts and
ends, so that diagnostics can say line and column and fixes can tell whether
they overlap.
"""

from __future__ import annotations

import bisect
import re
from typing import Callable

from dfix.cst.memo import last_tree
from dfix.cst.nodes import Dockerfile, Instruction, Node
from dfix.cst.visit import fields_getter

_NEWLINE = re.compile("\n")


def positions_of(tree: Dockerfile) -> Positions:
    """The positions of ``tree``, kept for the last tree asked about: the
    engine asks twice per round of fixes (findings, then overlaps)."""
    return _positions_of_last(tree)


class Positions:
    """Offsets, lines and columns of the nodes of one tree.

    A tree dfix parsed knows where each of its lines starts, so its lines
    are indexed one at a time, as far as the nodes asked about need (a round
    of fixes asks about a few); other trees are indexed whole at once."""

    def __init__(self, tree: Dockerfile, *, whole: bool = False) -> None:
        self.spans: dict[int, tuple[int, int]] = {}
        self.instructions: dict[int, Instruction] = {}
        self._index = _Index(self.spans, self.instructions)
        self.text = tree.code  # kept on the tree (a parsed one holds the text it was read from)
        starts = getattr(tree.__dict__.get("_layout"), "starts", None)
        if whole or starts is None or len(starts) != len(tree.body):
            self._index.node(tree, 0, None)
            self._lines: tuple = ()
        else:
            self.spans[id(tree)] = (0, len(self.text))
            offset = len(tree.bom)
            for directive in tree.directives:
                offset = self._index.node(directive, offset, None)
            self._lines = tuple(zip(tree.body, starts))
        self._next = 0  # the first line not indexed yet
        #: whether a node object stands twice in the tree (then ``span`` gives
        #: one of its places; a parsed tree never has one)
        self.shared = self._index.shared
        self._line_starts = [0] + [match.end() for match in _NEWLINE.finditer(self.text)]

    def _find(self, node: Node) -> bool:
        """Index lines until ``node`` is found; whether it was."""
        key = id(node)
        while key not in self.spans and self._next < len(self._lines):
            line, start = self._lines[self._next]
            self._index.node(line, start, None)
            self._next += 1
        return key in self.spans

    def span(self, node: Node) -> tuple[int, int]:
        """The offsets [start, end) of a node of this tree."""
        found = self.spans.get(id(node))
        if found is None and self._find(node):
            found = self.spans[id(node)]
        if found is None:
            raise KeyError(node)
        return found

    def line_column(self, offset: int) -> tuple[int, int]:
        """1-based line and column (in characters) of an offset."""
        line = bisect.bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1

    def instruction_of(self, node: Node) -> Instruction | None:
        """The top-level instruction a node belongs to (None for comments and blank lines)."""
        self._find(node)
        return self.instructions.get(id(node))


class _Index:
    """One walk over a tree, noting each node's span and instruction.

    It runs once per round of fixes over every node, so it is written for
    speed: one call per node, its fields read at once by an ``attrgetter``
    made once per node type."""

    def __init__(self, spans: dict[int, tuple[int, int]], instructions: dict[int, Instruction]) -> None:
        self.spans, self.instructions = spans, instructions
        self.fields: dict[type, Callable[[Node], tuple]] = {}
        self.shared = False

    def node(self, node: Node, offset: int, instruction: Instruction | None) -> int:
        """Index ``node``, which starts at ``offset``; return where it ends."""
        kind = type(node)
        fields = self.fields.get(kind)
        if fields is None:
            fields = self.fields[kind] = fields_getter(kind)
        if instruction is None and isinstance(node, Instruction):
            instruction = node
        start = offset
        for value in fields(node):  # the values of ``items``, read here: one call per node, not two
            if value is None:
                continue
            if type(value) is str:
                offset += len(value)
            elif type(value) is tuple:
                for item in value:
                    if type(item) is str:
                        offset += len(item)
                    elif type(item) is tuple:
                        offset = self.items(item, offset, instruction)
                    elif item is not None:
                        offset = self.node(item, offset, instruction)
            else:
                offset = self.node(value, offset, instruction)
        if id(node) in self.spans:
            self.shared = True
        self.spans[id(node)] = (start, offset)
        if instruction is not None:
            self.instructions[id(node)] = instruction
        return offset

    def items(self, values: tuple, offset: int, instruction: Instruction | None) -> int:
        """Index ``values`` (a tuple in a field's tuple) from ``offset``."""
        for value in values:
            if value is None:
                continue
            if type(value) is str:
                offset += len(value)
            elif type(value) is tuple:
                offset = self.items(value, offset, instruction)
            else:
                offset = self.node(value, offset, instruction)
        return offset


_positions_of_last = last_tree(Positions)
