"""Offsets in a text as LSP positions, and the smallest line edits between texts.

dfix works in character offsets; an editor counts lines split at ``\\n``,
``\\r\\n`` or a lone ``\\r`` (the LSP's three line ends, not Python's
``splitlines`` with its form feeds and separators) and columns in the code
units of the negotiated position encoding: UTF-16 unless the client offers
another, so an emoji before a finding counts two.
"""

from __future__ import annotations

import bisect
import difflib
import re

from lsprotocol import types

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# lines for diffing keep their ends, and a CRLF stays one line end
_DIFF_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def _units(chars: str, encoding: str) -> int:
    if encoding == types.PositionEncodingKind.Utf8:
        return len(chars.encode("utf-8", "surrogatepass"))
    if encoding == types.PositionEncodingKind.Utf32:
        return len(chars)
    return len(chars) + sum(1 for char in chars if ord(char) > 0xFFFF)


class LineIndex:
    """Converts between character offsets of one text and LSP positions."""

    def __init__(self, text: str, encoding: str = types.PositionEncodingKind.Utf16) -> None:
        self.text = text
        self.encoding = encoding
        self.starts = [0] + [match.end() for match in _LINE_BREAK.finditer(text)]

    def _line_end(self, line: int) -> int:
        """The offset where a line's content ends (before its line end)."""
        if line + 1 < len(self.starts):
            end = self.starts[line + 1]
            return end - (2 if self.text.startswith("\r\n", end - 2) else 1)
        return len(self.text)

    def position(self, offset: int) -> types.Position:
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.starts, offset) - 1
        offset = min(offset, self._line_end(line))  # inside a CRLF: the line's end
        return types.Position(line, _units(self.text[self.starts[line]:offset], self.encoding))

    def range(self, start: int, end: int) -> types.Range:
        return types.Range(self.position(start), self.position(end))

    def offset(self, position: types.Position) -> int:
        """The offset of a position; past a line's end is its end, past the last line the text's end."""
        if position.line >= len(self.starts):
            return len(self.text)
        start = self.starts[max(position.line, 0)]
        end = self._line_end(max(position.line, 0))
        if self.encoding == types.PositionEncodingKind.Utf32:
            return min(start + max(position.character, 0), end)
        counted = 0
        offset = start
        while offset < end and counted < position.character:
            counted += _units(self.text[offset], self.encoding)
            offset += 1
        return offset


def _lines(text: str) -> list[str]:
    return _DIFF_LINE.findall(text)


def line_edits(old: str, new: str, index: LineIndex | None = None) -> list[types.TextEdit]:
    """Edits that turn ``old`` into ``new``, each replacing whole changed
    lines, so that cursors and marks on other lines stay where they are."""
    if old == new:
        return []
    index = index if index is not None and index.text == old else LineIndex(old)
    a, b = _lines(old), _lines(new)
    # equal heads and tails first: SequenceMatcher is quadratic in what is left
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    middle_a, middle_b = a[head:len(a) - tail], b[head:len(b) - tail]
    starts = [0]
    for line in a:
        starts.append(starts[-1] + len(line))
    edits = []
    matcher = difflib.SequenceMatcher(None, middle_a, middle_b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        start, end = starts[head + i1], starts[head + i2]
        edits.append(types.TextEdit(index.range(start, end), "".join(middle_b[j1:j2])))
    return edits


def apply_edits(text: str, edits: list[types.TextEdit], encoding: str = types.PositionEncodingKind.Utf16) -> str:
    """The text with LSP edits applied, as an editor would (for tests and checks)."""
    index = LineIndex(text, encoding)
    spans = sorted(
        ((index.offset(edit.range.start), index.offset(edit.range.end), edit.new_text) for edit in edits),
        key=lambda span: (span[0], span[1]),
    )
    out, last = [], 0
    for start, end, new_text in spans:
        if start < last:
            raise ValueError("overlapping edits")
        out.append(text[last:start])
        out.append(new_text)
        last = end
    out.append(text[last:])
    return "".join(out)
