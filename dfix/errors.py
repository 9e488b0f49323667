"""Errors dfix reports to its users."""

from __future__ import annotations


class ParseError(ValueError):
    """The text is not a Dockerfile BuildKit would read.

    ``line`` and ``column`` are 1-based; ``message`` says what was expected where.
    """

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(f"{line}:{column}: {message}")
        self.message = message
        self.line = line
        self.column = column
