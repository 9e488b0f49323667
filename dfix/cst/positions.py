"""Where each node of a parsed tree stands in its text.

Nodes do not carry positions (a node can be moved or copied); this index is
built once per tree, by printing it and noting where each node starts and
ends, so that diagnostics can say line and column and fixes can tell whether
they overlap.
"""

from __future__ import annotations

import bisect
import re

from dfix.cst.memo import last_tree
from dfix.cst.nodes import Dockerfile, Instruction, Node

_NEWLINE = re.compile("\n")


def positions_of(tree: Dockerfile) -> Positions:
    """The positions of ``tree``, kept for the last tree asked about: the
    engine asks twice per round of fixes (findings, then overlaps)."""
    return _positions_of_last(tree)


class Positions:
    """Offsets, lines and columns of the nodes of one tree."""

    def __init__(self, tree: Dockerfile) -> None:
        self.spans: dict[int, tuple[int, int]] = {}
        self.instructions: dict[int, Instruction] = {}
        self._offset = 0
        self._instruction: Instruction | None = None
        self._parts: list[str] = []  # the text, as the index goes: no second walk to print it
        self._index(tree)
        self.text = "".join(self._parts)
        del self._parts
        self._line_starts = [0] + [match.end() for match in _NEWLINE.finditer(self.text)]

    def _index(self, node: Node) -> None:
        start = self._offset
        outer = self._instruction
        if isinstance(node, Instruction) and outer is None:
            self._instruction = node
        for name in node.printed_fields():
            self._index_value(getattr(node, name))
        self.spans[id(node)] = (start, self._offset)
        if self._instruction is not None:
            self.instructions[id(node)] = self._instruction
        self._instruction = outer

    def _index_value(self, value: object) -> None:
        if value is None:
            return
        if isinstance(value, str):
            self._offset += len(value)
            self._parts.append(value)
        elif isinstance(value, Node):
            self._index(value)
        else:
            for item in value:  # type: ignore[attr-defined]
                self._index_value(item)

    def span(self, node: Node) -> tuple[int, int]:
        """The offsets [start, end) of a node of this tree."""
        return self.spans[id(node)]

    def line_column(self, offset: int) -> tuple[int, int]:
        """1-based line and column (in characters) of an offset."""
        line = bisect.bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1

    def instruction_of(self, node: Node) -> Instruction | None:
        """The top-level instruction a node belongs to (None for comments and blank lines)."""
        return self.instructions.get(id(node))


_positions_of_last = last_tree(Positions)
