"""Comments that silence findings: dfix's own and hadolint's.

- ``# dfix: ignore=ID[,ID]`` and ``# hadolint ignore=ID[,ID]`` on the comment
  lines right above an instruction silence those rules for that instruction;
- ``# dfix: ignore-file=ID[,ID]`` and ``# hadolint global ignore=ID[,ID]``
  anywhere silence them for the whole file.

IDs are rule ids or names, in any case; ids dfix does not know (such as
hadolint's ShellCheck codes) are kept and simply match nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dfix.cst import nodes as n

_NEXT = re.compile(r"#\s*(?:dfix:\s*ignore|hadolint\s+ignore)\s*=\s*([\w\-, ]+)", re.I)
_FILE = re.compile(r"#\s*(?:dfix:\s*ignore-file|hadolint\s+global\s+ignore)\s*=\s*([\w\-, ]+)", re.I)


def _ids(text: str) -> frozenset[str]:
    return frozenset(item.strip().upper() for item in text.split(",") if item.strip())


@dataclass(frozen=True)
class Suppressions:
    file: frozenset[str] = frozenset()
    #: instruction start line -> ids silenced there
    lines: dict[int, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, tree: n.Dockerfile, ignored: frozenset[str] = frozenset()) -> Suppressions:
        """The suppressions a file's comments make, plus ``ignored`` for the whole file."""
        whole = set(ignored)
        lines: dict[int, frozenset[str]] = {}
        pending: set[str] = set()
        for line in tree.body:
            if isinstance(line, n.Comment):
                if match := _FILE.match(line.text):
                    whole |= _ids(match.group(1))
                elif match := _NEXT.match(line.text):
                    pending |= _ids(match.group(1))
            elif isinstance(line, n.Instruction):
                if pending:
                    lines[line.start_line] = frozenset(pending)
                pending = set()
            else:  # a blank line ends the comment block above an instruction
                pending = set()
        return cls(frozenset(whole), lines)

    def silences(self, rule_id: str, rule_name: str, instruction_line: int) -> bool:
        keys = {rule_id.upper(), rule_name.upper()}
        return bool(keys & self.file) or bool(keys & self.lines.get(instruction_line, frozenset()))
