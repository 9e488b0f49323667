"""Line ends: new lines are written the way the file already writes them."""

from __future__ import annotations

from functools import lru_cache


# asked for every fix a rule builds, of the same text: counting once keeps it linear
@lru_cache(maxsize=8)
def newline_of(text: str) -> str:
    """The file's line end, for new lines: CRLF files stay CRLF (a mixed
    file gets the more common one; a file of one line, "\\n")."""
    crlf = text.count("\r\n")
    return "\r\n" if crlf and crlf >= text.count("\n") - crlf else "\n"
