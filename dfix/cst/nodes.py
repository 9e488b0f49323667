"""The typed, immutable syntax tree of a Dockerfile.

Every node is a frozen dataclass whose fields hold, in source order, all the
text it was parsed from: printing a node (``node.code``) concatenates its
fields, and a tree that nobody changed prints the input byte for byte. A node
owns the whitespace before it (``whitespace_before``), an instruction owns its
indentation, trailing whitespace, line end and heredoc bodies. To change a
tree, make new nodes with ``with_changes`` and put them in place of the old
ones; untouched nodes keep their text.

Text that BuildKit joins across lines is a tuple of ``parts``: strings and
:class:`Continuation` nodes. Its ``value`` is what BuildKit sees, the strings
alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, ClassVar, Union

from dfix.cst.base import (  # noqa: F401 - the shared node classes are in this tree's namespace too (n.Continuation)
    BlankLine, Comment, Continuation, Fragment, Node, Part, Whitespace, no_space, one_space, value_of,
)
from dfix.cst.buildkit import flag_word

if TYPE_CHECKING:
    from typing_extensions import Self

    from dfix.shell.nodes import Script


def _position() -> int:
    """A line number of the text a node was parsed from; not part of its value."""
    return field(default=0, compare=False, repr=False, metadata={"printed": False})


@dataclass(frozen=True, eq=False, repr=False)
class Directive(Node):
    """A parser directive at the top of the file: ``# escape=`` and friends."""

    indent: Whitespace = field(default_factory=no_space)
    #: ``#`` and the blanks after it
    hash: str = "# "
    #: the name as written; ``key`` is its lower-case form
    name: str = "syntax"
    equals: str = "="
    value: str = ""
    trailing: Whitespace = field(default_factory=no_space)
    newline: str = "\n"

    @property
    def key(self) -> str:
        return self.name.lower()


# ---------------------------------------------------------------- instruction parts


@dataclass(frozen=True, eq=False, repr=False)
class _Element(Node):
    """A piece of an instruction line with the blanks before it."""

    whitespace_before: Whitespace = field(default_factory=one_space)
    parts: tuple[Part, ...] = ()

    @property
    def text(self) -> str:
        """The text as BuildKit sees it: continuations removed, quotes kept."""
        return value_of(self.parts)

    @classmethod
    def of(cls, text: str, whitespace_before: str = " ") -> Self:
        return cls(Whitespace.of(whitespace_before), (text,))


@dataclass(frozen=True, eq=False, repr=False)
class Word(_Element):
    """A whitespace-separated word: an image, a path, a port, a keyword."""

    @property
    def value(self) -> str:
        return self.text


@dataclass(frozen=True, eq=False, repr=False)
class Text(_Element):
    """The rest of an instruction line, taken as one piece (USER, WORKDIR, ...)."""

    @property
    def value(self) -> str:
        return self.text


@dataclass(frozen=True, eq=False, repr=False)
class Flag(_Element):
    """``--name=value`` right after the keyword."""

    @property
    def name(self) -> str:
        """The name without dashes, lower case: ``mount`` for ``--mount=...``."""
        return flag_word(self.text)[2:].partition("=")[0].lower()

    @property
    def value(self) -> str | None:
        """What follows the first ``=``, quotes removed; None for ``--link``."""
        _, equals, value = flag_word(self.text)[2:].partition("=")
        return value if equals else None


@dataclass(frozen=True, eq=False, repr=False)
class KeyValue(Node):
    """``key=value`` in ENV and LABEL, ``name`` or ``name=default`` in ARG.

    ``key`` and ``value`` are as written, quotes included; ``equals`` is empty
    for an ARG without a default.
    """

    whitespace_before: Whitespace = field(default_factory=one_space)
    key: Fragment = field(default_factory=Fragment)
    equals: str = "="
    value: Fragment = field(default_factory=Fragment)


@dataclass(frozen=True, eq=False, repr=False)
class LegacyKeyValue(Node):
    """The old ``ENV KEY value with spaces`` form: one key, the rest is its value."""

    whitespace_before: Whitespace = field(default_factory=one_space)
    key: Fragment = field(default_factory=Fragment)
    separator: Whitespace = field(default_factory=one_space)
    value: Fragment = field(default_factory=Fragment)


@dataclass(frozen=True, eq=False, repr=False)
class JsonString(Node):
    """One string of a JSON array, with the blanks and comma around it."""

    whitespace_before: Whitespace = field(default_factory=no_space)
    #: the string as written, quotes and escapes included
    parts: tuple[Part, ...] = ('""',)
    whitespace_after: Whitespace = field(default_factory=no_space)
    comma: str = ""

    @property
    def value(self) -> str:
        return json.loads(value_of(self.parts))


@dataclass(frozen=True, eq=False, repr=False)
class JsonArray(Node):
    """The exec form: a JSON array of strings, e.g. ``["nginx", "-g", "daemon off;"]``."""

    whitespace_before: Whitespace = field(default_factory=one_space)
    open: str = "["
    elements: tuple[JsonString, ...] = ()
    #: the blanks inside ``[ ]`` when there is no element
    inner: Whitespace = field(default_factory=no_space)
    close: str = "]"
    #: text after the array, which BuildKit ignores
    ignored: Text | None = None

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(element.value for element in self.elements)

    @classmethod
    def of(cls, values: tuple[str, ...] | list[str], whitespace_before: str = " ") -> JsonArray:
        """A new array in the usual layout: ``["a", "b"]``."""
        count = len(values)
        elements = tuple(
            JsonString(
                Whitespace.of(" " if index else ""),
                (json.dumps(value, ensure_ascii=False),),
                Whitespace(),
                "," if index < count - 1 else "",
            )
            for index, value in enumerate(values)
        )
        return cls(Whitespace.of(whitespace_before), "[", elements)


@dataclass(frozen=True, eq=False, repr=False)
class ShellForm(Node):
    """A shell-form command line, parsed by the shell layer (:mod:`dfix.shell`)."""

    whitespace_before: Whitespace = field(default_factory=one_space)
    #: always there: the builder parses every shell form (an opaque script where it cannot read it)
    script: Script = field(kw_only=True)

    @property
    def value(self) -> str:
        """The command line as BuildKit passes it to the shell."""
        return self.script.value


@dataclass(frozen=True, eq=False, repr=False)
class Heredoc(Node):
    """The body of a heredoc and the line that ends it, after its instruction."""

    #: the body lines, each with its line end
    body: str = ""
    #: the end line (``EOF``), with its line end
    end: str = "EOF\n"

    @property
    def name(self) -> str:
        return self.end.rstrip("\r\n").lstrip("\t")


# ---------------------------------------------------------------- instructions

Command = Union[ShellForm, JsonArray]


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Instruction(Node):
    """The fields every instruction has; subclasses add their arguments.

    Printing order: indent, keyword, flags, the subclass's ``ARGUMENTS`` fields,
    trailing whitespace, line end, heredoc bodies.
    """

    KEYWORD: ClassVar[str] = ""
    ARGUMENTS: ClassVar[tuple[str, ...]] = ()

    #: blanks before the keyword
    indent: Whitespace = field(default_factory=no_space)
    #: the keyword as written (``run``, ``Run``, ``RUN``)
    keyword_text: Fragment = field(default_factory=Fragment)
    flags: tuple[Flag, ...] = ()
    #: blanks after the last argument
    trailing: Whitespace = field(default_factory=no_space)
    #: ``"\n"``, ``"\r\n"``, or ``""`` on a last line without one
    newline: str = "\n"
    heredocs: tuple[Heredoc, ...] = ()
    #: lines of the parsed text (1-based, inclusive, heredoc bodies included);
    #: 0 for nodes made by hand
    start_line: int = _position()
    end_line: int = _position()

    @classmethod
    def printed_fields(cls) -> tuple[str, ...]:
        if not cls._printed:
            cls._printed = (
                ("indent", "keyword_text", "flags")
                + cls.ARGUMENTS
                + ("trailing", "newline", "heredocs")
            )
        return cls._printed

    @property
    def keyword(self) -> str:
        """The keyword in upper case: ``"RUN"``."""
        return self.keyword_text.value.upper()

    def flag(self, name: str) -> Flag | None:
        """The last flag called ``name`` (without dashes), if any."""
        for each in reversed(self.flags):
            if each.name == name:
                return each
        return None


def _keyword(word: str) -> Fragment:
    return Fragment((word,))


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class From(Instruction):
    KEYWORD = "FROM"
    ARGUMENTS = ("args",)
    keyword_text: Fragment = field(default_factory=lambda: _keyword("FROM"))
    args: tuple[Word, ...] = ()

    # cached: rules ask for the stages' images and names for every RUN
    @cached_property
    def image(self) -> str | None:
        return self.args[0].value if self.args else None

    @cached_property
    def stage_name(self) -> str | None:
        """The name after ``AS``, as written."""
        if len(self.args) >= 3 and self.args[1].value.upper() == "AS":
            return self.args[2].value
        return None


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class _CommandInstruction(Instruction):
    ARGUMENTS = ("body",)
    #: shell form, exec form, or None when nothing follows the keyword
    body: Command | None = None


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Run(_CommandInstruction):
    KEYWORD = "RUN"
    keyword_text: Fragment = field(default_factory=lambda: _keyword("RUN"))


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Cmd(_CommandInstruction):
    KEYWORD = "CMD"
    keyword_text: Fragment = field(default_factory=lambda: _keyword("CMD"))


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Entrypoint(_CommandInstruction):
    KEYWORD = "ENTRYPOINT"
    keyword_text: Fragment = field(default_factory=lambda: _keyword("ENTRYPOINT"))


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Shell(_CommandInstruction):
    KEYWORD = "SHELL"
    keyword_text: Fragment = field(default_factory=lambda: _keyword("SHELL"))


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class _PathsInstruction(Instruction):
    ARGUMENTS = ("args",)
    #: whitespace-separated words (heredoc openers among them), or a JSON array
    args: tuple[Word, ...] | JsonArray = ()

    @property
    def values(self) -> tuple[str, ...]:
        if isinstance(self.args, JsonArray):
            return self.args.values
        return tuple(word.value for word in self.args)


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Copy(_PathsInstruction):
    KEYWORD = "COPY"
    keyword_text: Fragment = field(default_factory=lambda: _keyword("COPY"))


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Add(_PathsInstruction):
    KEYWORD = "ADD"
    keyword_text: Fragment = field(default_factory=lambda: _keyword("ADD"))


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Volume(_PathsInstruction):
    KEYWORD = "VOLUME"
    keyword_text: Fragment = field(default_factory=lambda: _keyword("VOLUME"))


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class _PairsInstruction(Instruction):
    ARGUMENTS = ("pairs",)
    pairs: tuple[KeyValue | LegacyKeyValue, ...] = ()


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Env(_PairsInstruction):
    KEYWORD = "ENV"
    keyword_text: Fragment = field(default_factory=lambda: _keyword("ENV"))


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Label(_PairsInstruction):
    KEYWORD = "LABEL"
    keyword_text: Fragment = field(default_factory=lambda: _keyword("LABEL"))


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Arg(Instruction):
    KEYWORD = "ARG"
    ARGUMENTS = ("args",)
    keyword_text: Fragment = field(default_factory=lambda: _keyword("ARG"))
    args: tuple[KeyValue, ...] = ()


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Expose(Instruction):
    KEYWORD = "EXPOSE"
    ARGUMENTS = ("args",)
    keyword_text: Fragment = field(default_factory=lambda: _keyword("EXPOSE"))
    args: tuple[Word, ...] = ()


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Healthcheck(Instruction):
    KEYWORD = "HEALTHCHECK"
    ARGUMENTS = ("kind", "body")
    keyword_text: Fragment = field(default_factory=lambda: _keyword("HEALTHCHECK"))
    #: ``CMD`` or ``NONE``
    kind: Word | None = None
    body: Command | None = None


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Onbuild(Instruction):
    KEYWORD = "ONBUILD"
    ARGUMENTS = ("inner",)
    keyword_text: Fragment = field(default_factory=lambda: _keyword("ONBUILD"))
    #: the instruction to run in a child build; its ``indent`` is the blank
    #: after ONBUILD, its line end and heredocs are ONBUILD's
    inner: Instruction | None = None


def unwrapped(instruction: Instruction) -> Instruction | None:
    """What an instruction does: the one an ONBUILD holds (None for a bare
    ONBUILD), else the instruction itself."""
    return instruction.inner if isinstance(instruction, Onbuild) else instruction


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class _TextInstruction(Instruction):
    ARGUMENTS = ("value",)
    value: Text | None = None


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class User(_TextInstruction):
    KEYWORD = "USER"
    keyword_text: Fragment = field(default_factory=lambda: _keyword("USER"))


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Workdir(_TextInstruction):
    KEYWORD = "WORKDIR"
    keyword_text: Fragment = field(default_factory=lambda: _keyword("WORKDIR"))


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Stopsignal(_TextInstruction):
    KEYWORD = "STOPSIGNAL"
    keyword_text: Fragment = field(default_factory=lambda: _keyword("STOPSIGNAL"))


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Maintainer(_TextInstruction):
    KEYWORD = "MAINTAINER"
    keyword_text: Fragment = field(default_factory=lambda: _keyword("MAINTAINER"))


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Unknown(_TextInstruction):
    """A line whose first word is no instruction BuildKit knows."""


INSTRUCTION_CLASSES: dict[str, type[Instruction]] = {
    cls.KEYWORD: cls
    for cls in (
        From, Run, Cmd, Entrypoint, Shell, Copy, Add, Volume, Env, Label, Arg,
        Expose, Healthcheck, Onbuild, User, Workdir, Stopsignal, Maintainer,
    )
}

Line = Union[Comment, BlankLine, Instruction]


# ---------------------------------------------------------------- the file


@dataclass(frozen=True, eq=False, repr=False)
class Dockerfile(Node):
    """A whole Dockerfile. ``code`` gives back the text it was parsed from."""

    #: a UTF-8 byte order mark, as the character ``"\ufeff"``, or ``""``
    bom: str = ""
    directives: tuple[Directive, ...] = ()
    body: tuple[Line, ...] = ()

    @cached_property
    def code(self) -> str:  # type: ignore[override]
        """The exact text of the file: printed once (the tree never changes),
        or the text the parser read, which is the same (the round trip)."""
        return Node.code.fget(self)  # type: ignore[attr-defined]

    @cached_property  # the tree never changes, and nearly every rule asks
    def instructions(self) -> tuple[Instruction, ...]:
        return tuple(line for line in self.body if isinstance(line, Instruction))

    @property
    def escape(self) -> str:
        """The escape character: ``\\``, or the one ``# escape=`` names."""
        for directive in self.directives:
            if directive.key == "escape":
                return directive.value
        return "\\"
