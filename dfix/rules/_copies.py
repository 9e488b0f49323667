"""What COPY and ADD take: their sources and destination, and which of them
read the build context (not another stage, an image, a URL or a heredoc)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from dfix.cst import nodes as n
from dfix.rules._stages import Stage

_GIT = re.compile(r"^[\w.-]+@[\w.-]+:|\.git(#.*)?$")
#: the sources that name the whole context
_WHOLE = frozenset((".", "./", "./.", "/", "./*", "*"))


def unquoted(path: str) -> str:
    return path.strip("\"'")


def paths_of(copy: n.Copy | n.Add) -> tuple[list[str], int, str]:
    """The sources (heredocs apart, counted) and the destination, as written."""
    if isinstance(copy.args, n.JsonArray):
        values = list(copy.args.values)
        return values[:-1], 0, values[-1] if values else ""
    words = [word.value for word in copy.args]
    if not words:
        return [], 0, ""
    opened = len(copy.heredocs)
    heredocs = [w for w in words[:-1] if w.startswith("<<")][:opened] if opened else []
    sources = [w for w in words[:-1] if w not in heredocs]
    return sources, len(heredocs), words[-1]


def is_remote(source: str) -> bool:
    """A URL or a git repository (ADD fetches those), not a context path."""
    return "://" in source or bool(_GIT.search(source))


@dataclass(frozen=True)
class ContextCopy:
    """A COPY or ADD that reads the build context."""

    instruction: n.Copy | n.Add
    stage: Stage
    #: its context paths, unquoted, as written (wildcards and variables included)
    sources: tuple[str, ...]
    destination: str

    @property
    def whole(self) -> bool:
        """Whether it sends the whole context (``COPY . /app``)."""
        return any(source in _WHOLE for source in self.sources)


def context_copies(stages: tuple[Stage, ...] | list[Stage]) -> Iterator[ContextCopy]:
    """Every COPY and ADD of the stages that reads the build context, in order."""
    for stage in stages:
        for instruction in stage.instructions:
            if not isinstance(instruction, (n.Copy, n.Add)) or instruction.flag("from") is not None:
                continue
            sources, _, destination = paths_of(instruction)
            local = tuple(unquoted(s) for s in sources if not (isinstance(instruction, n.Add) and is_remote(unquoted(s))))
            if local:
                yield ContextCopy(instruction, stage, local, unquoted(destination))
