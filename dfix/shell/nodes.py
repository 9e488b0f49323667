"""The lossless syntax tree of a shell command line (RUN, CMD, ENTRYPOINT bodies).

Like the Dockerfile tree, every node prints the exact text it was read from
(``node.code``) and owns the whitespace before it. Dockerfile continuations
(the escape character at the end of a line, with the comment lines it skips)
can stand anywhere: in the whitespace between two tokens, or inside a word,
where they are parts of the word.

The shape follows the shell grammar: a :class:`CommandList` of pipelines
joined by ``&&``, ``||``, ``;``, ``&`` or newlines; a :class:`Pipeline` of
commands joined by ``|``; a command is a :class:`SimpleCommand` (words and
redirections) or a :class:`Compound` (subshell, ``{ }`` group, if, for, while,
until, case, function, ``[[ ]]``), whose parts include nested command lists.
What dfix does not read (arithmetic ``(( ))``, or a line it cannot parse)
is an :class:`Opaque` node: it prints as read and rules leave it alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterator, Union

from dfix.cst.base import Continuation, Node, Whitespace, value_of
from dfix.cst.visit import descendants

_NO_SPACE = Whitespace()
_SPACE = Whitespace((" ",))


def no_space() -> Whitespace:
    return _NO_SPACE


def one_space() -> Whitespace:
    return _SPACE


def _not_printed(default: str) -> str:
    return field(default=default, metadata={"printed": False})


# ---------------------------------------------------------------- words

Text = Union[str, Continuation]


@dataclass(frozen=True, eq=False, repr=False)
class SingleQuoted(Node):
    """``'...'``, quotes included in ``parts``."""

    parts: tuple[Text, ...] = ("''",)


@dataclass(frozen=True, eq=False, repr=False)
class Expansion(Node):
    """``$VAR``, ``${...}``, ``$(...)``, backticks, ``$((...))``, ``$'...'``, ``<(...)``."""

    parts: tuple[Text, ...] = ("$",)

    @cached_property
    def substitution(self) -> str | None:
        """The command text of a command substitution (`$( )`, backticks,
        `<( )`, `>( )`), continuations removed; None for other expansions."""
        text = "".join(part for part in self.parts if isinstance(part, str))
        if text.startswith("$((") or not text.endswith((")", "`")):
            return None
        if text.startswith(("$(", "<(", ">(")):
            return text[2:-1]
        if text.startswith("`"):
            return text[1:-1]
        return None

    @cached_property
    def script(self) -> Script | None:
        """The script of a command substitution, read once (nodes are immutable)."""
        from dfix.shell.parse import parse_script

        inner = self.substitution
        return None if inner is None else parse_script([inner])


@dataclass(frozen=True, eq=False, repr=False)
class DoubleQuoted(Node):
    """``"..."``, quotes included; expansions inside are :class:`Expansion` nodes."""

    parts: tuple[Text | Expansion, ...] = ('""',)


WordPart = Union[str, Continuation, SingleQuoted, DoubleQuoted, Expansion]

_UNESCAPE = re.compile(r"\\(.)", re.S)
_UNESCAPE_IN_DOUBLE_QUOTES = re.compile(r"\\([\\$\"`])")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\+?=")


@dataclass(frozen=True, eq=False, repr=False)
class Word(Node):
    """A shell word: literal text, quotes, expansions, run together."""

    whitespace_before: Whitespace = field(default_factory=one_space)
    parts: tuple[WordPart, ...] = ()

    # words are immutable and rules ask for these again and again: kept on the word
    @cached_property
    def text(self) -> str:
        """The word as the shell reads it, continuations removed, quotes kept."""
        return "".join(_text_of(part) for part in self.parts)

    @cached_property
    def value(self) -> str | None:
        """The word after quote removal, or None if it expands anything."""
        parts = self.parts
        if len(parts) == 1 and type(parts[0]) is str and "\\" not in parts[0]:  # most words: plain text
            return parts[0]
        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(_UNESCAPE.sub(r"\1", part) if "\\" in part else part)
            elif isinstance(part, SingleQuoted):
                out.append(value_of(part.parts)[1:-1])
            elif isinstance(part, DoubleQuoted):
                if any(isinstance(inner, Expansion) for inner in part.parts):
                    return None
                out.append(_UNESCAPE_IN_DOUBLE_QUOTES.sub(r"\1", value_of(part.parts)[1:-1]))
            elif isinstance(part, Expansion):
                return None
        return "".join(out)

    @property
    def is_assignment(self) -> bool:
        """``NAME=value`` (the word may still be an argument, see SimpleCommand)."""
        first = self.parts[0] if self.parts else ""
        return isinstance(first, str) and _ASSIGNMENT.match(first) is not None

    @classmethod
    def of(cls, text: str, whitespace_before: str = " ") -> Word:
        """A literal word, written as given (quote it yourself if needed)."""
        return cls(Whitespace.of(whitespace_before), (text,))


def _text_of(part: object) -> str:
    if isinstance(part, str):
        return part
    if isinstance(part, Continuation):
        return ""
    return "".join(_text_of(inner) for inner in part.parts)  # type: ignore[attr-defined]


@dataclass(frozen=True, eq=False, repr=False)
class Operator(Node):
    """``&&``, ``||``, ``;``, ``&``, ``|``, a newline, ``(``, ``)``, ``;;`` or ``!``."""

    whitespace_before: Whitespace = field(default_factory=one_space)
    parts: tuple[Text, ...] = ("&&",)

    @property
    def value(self) -> str:
        return value_of(self.parts)

    @classmethod
    def of(cls, value: str, whitespace_before: str = " ") -> Operator:
        return cls(Whitespace.of(whitespace_before), (value,))


@dataclass(frozen=True, eq=False, repr=False)
class Redirect(Node):
    """``> file``, ``2>&1``, ``<<EOF``: the operator (with its fd) and its target."""

    whitespace_before: Whitespace = field(default_factory=one_space)
    parts: tuple[Text, ...] = (">",)
    target: Word | None = None

    @property
    def operator(self) -> str:
        return value_of(self.parts).lstrip("0123456789")


@dataclass(frozen=True, eq=False, repr=False)
class Comment(Node):
    """``# ...`` to the end of the line."""

    whitespace_before: Whitespace = field(default_factory=one_space)
    parts: tuple[Text, ...] = ("#",)


@dataclass(frozen=True, eq=False, repr=False)
class Opaque(Node):
    """Shell text dfix does not read; printed as is, and never changed."""

    whitespace_before: Whitespace = field(default_factory=no_space)
    parts: tuple[Text, ...] = ()


# ---------------------------------------------------------------- commands


@dataclass(frozen=True, eq=False, repr=False)
class SimpleCommand(Node):
    """Assignments, words and redirections, e.g. ``DEBIAN_FRONTEND=x apt-get install -y curl``."""

    parts: tuple[Word | Redirect, ...] = ()

    # commands are immutable and rules ask for these again and again: kept on the command
    @cached_property
    def assignments(self) -> tuple[Word, ...]:
        out = []
        for part in self.parts:
            if isinstance(part, Redirect):
                continue
            if not part.is_assignment:
                break
            out.append(part)
        return tuple(out)

    @cached_property
    def words(self) -> tuple[Word, ...]:
        """The command name and its arguments (no assignments, no redirections)."""
        words = [part for part in self.parts if isinstance(part, Word)]
        return tuple(words[len(self.assignments):])

    @property
    def redirects(self) -> tuple[Redirect, ...]:
        return tuple(part for part in self.parts if isinstance(part, Redirect))

    @property
    def name(self) -> str | None:
        """The command name after quote removal (None if it expands)."""
        words = self.words
        return words[0].value if words else None

    @property
    def arguments(self) -> tuple[Word, ...]:
        return self.words[1:]


@dataclass(frozen=True, eq=False, repr=False)
class Compound(Node):
    """A compound command; ``kind`` says which, ``parts`` hold its words,
    operators and nested :class:`CommandList` bodies in source order, then any
    redirections.

    Kinds: ``subshell`` ``( )``, ``group`` ``{ }``, ``if``, ``for``, ``select``,
    ``while``, ``until``, ``case``, ``function``, ``test`` ``[[ ]]``.
    """

    kind: str = _not_printed("group")
    parts: tuple[Node, ...] = ()

    @property
    def bodies(self) -> tuple[CommandList, ...]:
        return tuple(part for part in self.parts if isinstance(part, CommandList))


Command = Union[SimpleCommand, Compound, Opaque]


@dataclass(frozen=True, eq=False, repr=False)
class Pipeline(Node):
    """Commands joined by ``|`` (``parts`` alternate command, operator), maybe after ``!``."""

    parts: tuple[Command | Operator, ...] = ()

    @property
    def commands(self) -> tuple[Command, ...]:
        return tuple(part for part in self.parts if not isinstance(part, Operator))


@dataclass(frozen=True, eq=False, repr=False)
class CommandList(Node):
    """Pipelines joined by ``&&``, ``||``, ``;``, ``&`` and newlines.

    ``parts`` alternate pipeline and operator; comments and extra newlines may
    stand between them.
    """

    parts: tuple[Pipeline | Operator | Comment, ...] = ()

    @property
    def pipelines(self) -> tuple[Pipeline, ...]:
        return tuple(part for part in self.parts if isinstance(part, Pipeline))


@dataclass(frozen=True, eq=False, repr=False)
class Script(Node):
    """A whole shell command line: its command list and the blanks after it."""

    body: CommandList | Opaque = field(default_factory=CommandList)
    trailing: Whitespace = field(default_factory=no_space)
    #: False when the stage's shell is not a POSIX shell (cmd, PowerShell):
    #: then the body is one Opaque node
    posix: bool = field(default=True, metadata={"printed": False})

    # Scripts are immutable, so what is found in them is kept on them.
    @cached_property
    def value(self) -> str:
        """The text the shell runs, continuations removed."""
        out: list[str] = []
        _collect_value(self, out)
        return "".join(out)

    @cached_property
    def nodes(self) -> tuple[Node, ...]:
        """Every node of the script, in source order."""
        return tuple(descendants(self))

    @cached_property
    def opaque_parts(self) -> tuple[Opaque, ...]:
        return tuple(node for node in self.nodes if isinstance(node, Opaque))

    @property
    def is_opaque(self) -> bool:
        """Whether any part of the script is opaque to dfix."""
        return bool(self.opaque_parts)

    def commands(self) -> Iterator[SimpleCommand]:
        """Every simple command, nested ones included, in source order."""
        for node in self.nodes:
            if isinstance(node, SimpleCommand):
                yield node

    @cached_property
    def invocations(self) -> tuple:
        """The programs the script runs (``dfix.shell.commands.Invocation``)."""
        from dfix.shell.commands import invocation

        found = (invocation(command) for command in self.commands())
        return tuple(call for call in found if call is not None)


def logical(node: Node, compact: bool = False) -> str:
    """A node's text as the shell reads it: Dockerfile continuations removed.

    ``compact`` turns blanks that spanned continuation lines into one space,
    for text that moves onto one line (the shell splits words the same way).
    """
    out: list[str] = []
    _collect_value(node, out, compact)
    return "".join(out)


def _collect_value(node: Node, out: list[str], compact: bool = False) -> None:
    if compact and isinstance(node, Whitespace) and any(isinstance(part, Continuation) for part in node.parts):
        out.append(" ")
        return
    for name in node.printed_fields():
        value = getattr(node, name)
        _collect_from(value, out, compact)


def _collect_from(value: object, out: list[str], compact: bool = False) -> None:
    if value is None or isinstance(value, Continuation):
        return
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, Node):
        _collect_value(value, out, compact)
    else:
        for item in value:  # type: ignore[attr-defined]
            _collect_from(item, out, compact)
