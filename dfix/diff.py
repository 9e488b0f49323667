"""Unified diffs of what a fix changes, as ``git diff`` and black print them."""

from __future__ import annotations

import difflib

import click

NO_NEWLINE = "\\ No newline at end of file\n"


def unified_diff(old: str | None, new: str, path: str) -> str:
    """A unified diff with ``a/PATH`` and ``b/PATH`` headers (an absolute
    path without its leading slash, like git: ``a/abs/path``), or
    ``/dev/null`` and ``b/PATH`` for a new file (``old`` None); a last line
    without a line end gets git's "No newline at end of file" marker."""
    name = path.lstrip("/")
    lines = difflib.unified_diff(
        (old or "").splitlines(keepends=True), new.splitlines(keepends=True),
        fromfile="/dev/null" if old is None else f"a/{name}", tofile=f"b/{name}",
    )
    out = []
    for line in lines:
        if line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n" + NO_NEWLINE)
    return "".join(out)


def colored(diff: str) -> str:
    """The diff in terminal colours: headers bold, removals red, additions green."""
    out = []
    for line in diff.splitlines(keepends=True):
        if line.startswith(("+++", "---")):
            out.append(click.style(line, bold=True))
        elif line.startswith("@@"):
            out.append(click.style(line, fg="cyan"))
        elif line.startswith("+"):
            out.append(click.style(line, fg="green"))
        elif line.startswith("-"):
            out.append(click.style(line, fg="red"))
        else:
            out.append(line)
    return "".join(out)
