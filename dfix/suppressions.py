"""Comments that silence findings: dfix's own and hadolint's.

- ``# dfix: ignore=ID[,ID]`` and ``# hadolint ignore=ID[,ID]`` on the comment
  lines right above an instruction silence those rules for that instruction;
- ``# dfix: ignore-file=ID[,ID]`` and ``# hadolint global ignore=ID[,ID]``
  anywhere silence them for the whole file.

IDs are rule ids or names, in any case; ids dfix does not know (such as
hadolint's ShellCheck codes) are kept and simply match nothing.

A ``# dfix:`` comment that is not one of dfix's two pragmas, or that names a
rule dfix does not have, silences nothing; ``Suppressions.problems`` lists
each such mistake (a misspelt pragma, a missing ``=``, an unknown id), for
the caller to warn about. hadolint's pragmas are not checked: they may name
hadolint and ShellCheck rules that dfix lacks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

from dfix.cst import nodes as n
from dfix.cst.positions import Positions

_NEXT = re.compile(r"#\s*(?:dfix:\s*ignore|hadolint\s+ignore)\s*=\s*([\w\-, ]+)", re.I)
_FILE = re.compile(r"#\s*(?:dfix:\s*ignore-file|hadolint\s+global\s+ignore)\s*=\s*([\w\-, ]+)", re.I)


_DFIX_PRAGMA = re.compile(r"#\s*dfix:", re.I)
_DFIX_KIND = re.compile(r"#\s*dfix:\s*([\w\-]*)[ \t]*(=?)", re.I)
_DFIX_IDS = re.compile(r"\s*([\w\-, ]+)")
_PRAGMA_FORMS = "`# dfix: ignore=ID[,ID]` or `# dfix: ignore-file=ID[,ID]`"


def _ids(text: str) -> frozenset[str]:
    return frozenset(item.strip().upper() for item in text.split(",") if item.strip())


class PragmaProblem(NamedTuple):
    """A ``# dfix:`` comment that does not do what it says: where (1-based
    line and column, in characters) and what is wrong."""

    line: int
    column: int
    message: str


@dataclass(frozen=True)
class Suppressions:
    file: frozenset[str] = frozenset()
    #: instruction start line -> ids silenced there
    lines: dict[int, frozenset[str]] = field(default_factory=dict)
    #: malformed ``# dfix:`` pragmas and unknown ids in them, in file order
    problems: tuple[PragmaProblem, ...] = ()

    @classmethod
    def of(cls, tree: n.Dockerfile, ignored: frozenset[str] = frozenset()) -> Suppressions:
        """The suppressions a file's comments make, plus ``ignored`` for the whole file."""
        whole = set(ignored)
        lines: dict[int, frozenset[str]] = {}
        pending: set[str] = set()
        problems: list[PragmaProblem] = []
        for index, line in enumerate(tree.body):
            if isinstance(line, n.Comment):
                if _DFIX_PRAGMA.match(line.text):
                    problems += _pragma_problems(tree, index, line)
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
        return cls(frozenset(whole), lines, tuple(problems))

    def silences(self, rule_id: str, rule_name: str, instruction_line: int) -> bool:
        keys = {rule_id.upper(), rule_name.upper()}
        return bool(keys & self.file) or bool(keys & self.lines.get(instruction_line, frozenset()))

    def may_silence(self, rule_id: str, rule_name: str) -> bool:
        """Whether some finding of this rule may be silenced: when none can,
        the engine need not place its findings to know."""
        keys = {rule_id.upper(), rule_name.upper()}
        return bool(keys & self.file) or any(keys & named for named in self.lines.values())


def _pragma_problems(tree: n.Dockerfile, index: int, comment: n.Comment) -> list[PragmaProblem]:
    """What is wrong with the ``# dfix:`` comment ``tree.body[index]``."""
    from dfix.rules import ALL_RULES  # dfix.rules imports this module

    text = comment.text
    kind = _DFIX_KIND.match(text)
    assert kind is not None  # the comment starts with "# dfix:"
    found: list[tuple[int, str]] = []  # (offset in the text, message)
    if kind.group(1).lower() not in ("ignore", "ignore-file"):
        what = f"unknown dfix pragma {kind.group(1)!r}" if kind.group(1) else "empty dfix pragma"
        found.append((kind.start(1), f"{what} (expected {_PRAGMA_FORMS})"))
    elif not kind.group(2):
        found.append((kind.end(1), f"malformed dfix pragma: no '=' after {kind.group(1)!r} (expected {_PRAGMA_FORMS})"))
    elif not (ids := _DFIX_IDS.match(text, kind.end())):
        found.append((kind.end(), f"no rule ids in dfix pragma (expected {_PRAGMA_FORMS})"))
    else:
        known = {rule.id for rule in ALL_RULES} | {rule.name.upper() for rule in ALL_RULES}
        offset = ids.start(1)
        for item in ids.group(1).split(","):
            name = item.strip()
            if name and name.upper() not in known:
                where = offset + len(item) - len(item.lstrip())
                hint = " (separate ids with commas)" if any(c.isspace() for c in name) else ""
                found.append((where, f"unknown rule {name} in dfix pragma{hint}"))
            offset += len(item) + 1
    if not found:
        return []
    line = 1 + sum(node.code.count("\n") for node in (*tree.directives, *tree.body[:index]))
    column = len(comment.indent) + 1
    return [PragmaProblem(line, column + offset, message) for offset, message in found]


# dfix's own pragmas, the ones an editor's "ignore" actions write and extend
_DFIX_NEXT = re.compile(r"#\s*dfix:\s*ignore\s*=\s*([\w\-]+(?:\s*,\s*[\w\-]+)*)", re.I)
_DFIX_FILE = re.compile(r"#\s*dfix:\s*ignore-file\s*=\s*([\w\-]+(?:\s*,\s*[\w\-]+)*)", re.I)


@dataclass(frozen=True)
class Insertion:
    """Text to insert at an offset of a file's text."""

    offset: int
    text: str

    def apply(self, text: str) -> str:
        return text[:self.offset] + self.text + text[self.offset:]


def ignore_for_instruction(
    tree: n.Dockerfile, positions: Positions, instruction_line: int, rule_id: str, newline: str,
) -> Insertion | None:
    """Silence ``rule_id`` for the instruction starting on ``instruction_line``:
    the id joins the ``# dfix: ignore=`` pragma right above it, or a new pragma
    line goes above it, in its indentation. None if there is no such instruction."""
    body = tree.body
    where = next((i for i, line in enumerate(body) if isinstance(line, n.Instruction)
                  and line.start_line == instruction_line), None)
    if where is None:
        return None
    above = where - 1
    while above >= 0 and isinstance(body[above], n.Comment):
        comment = body[above]
        if match := _DFIX_NEXT.match(comment.text):
            return _append_id(positions, comment, match, rule_id)
        above -= 1
    instruction = body[where]
    indent = instruction.indent.code
    return Insertion(positions.span(instruction)[0], f"{indent}# dfix: ignore={rule_id}{newline}")


def ignore_for_file(tree: n.Dockerfile, positions: Positions, rule_id: str, newline: str) -> Insertion:
    """Silence ``rule_id`` in the whole file: the id joins the file's
    ``# dfix: ignore-file=`` pragma, or a new one goes right after the parser
    directives (before them it would turn them into plain comments)."""
    for line in tree.body:
        if isinstance(line, n.Comment) and (match := _DFIX_FILE.match(line.text)):
            return _append_id(positions, line, match, rule_id)
    offset = positions.span(tree.directives[-1])[1] if tree.directives else len(tree.bom)
    if tree.directives and not tree.directives[-1].newline:  # a file of directives alone, no final line end
        return Insertion(offset, f"{newline}# dfix: ignore-file={rule_id}")
    return Insertion(offset, f"# dfix: ignore-file={rule_id}{newline}")


def _append_id(positions: Positions, comment: n.Comment, match: re.Match[str], rule_id: str) -> Insertion:
    start = positions.span(comment)[0] + len(comment.indent)
    return Insertion(start + match.end(1), f",{rule_id}")
