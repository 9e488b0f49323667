"""What the Dockerfile tree and the shell tree share: the node base class
(printing, children, ``with_changes``, the printed-fields protocol), the
text that runs over continuation lines, and the trivia between tokens.

Both ``dfix.cst.nodes`` and ``dfix.shell.nodes`` build on this module, so
that neither imports the other.
"""

from __future__ import annotations

import dataclasses
import operator
from dataclasses import dataclass, field
from typing import Callable, ClassVar, Iterator, TypeVar, Union

_N = TypeVar("_N", bound="Node")


@dataclass(frozen=True)
class Node:
    """Base of all nodes: printing, children, and ``with_changes``."""

    _printed: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls._printed = ()  # computed on first use, once the dataclass exists

    @classmethod
    def printed_fields(cls) -> tuple[str, ...]:
        """The fields that hold the node's text, in the order it is printed
        (the tree walkers, the printer and the position index go by it)."""
        if not cls._printed:
            cls._printed = tuple(
                f.name for f in dataclasses.fields(cls) if f.metadata.get("printed", True)
            )
        return cls._printed

    @property
    def code(self) -> str:
        """The exact text of this node."""
        out: list[str] = []
        self._codegen(out)
        return "".join(out)

    def _codegen(self, out: list[str]) -> None:
        for name in self.printed_fields():
            _emit(getattr(self, name), out)

    def children(self) -> Iterator[Node]:
        """The child nodes, in source order."""
        for name in self.printed_fields():
            yield from _nodes_in(getattr(self, name))

    def with_changes(self: _N, **changes: object) -> _N:
        """A copy of this node with some fields replaced."""
        return dataclasses.replace(self, **changes)

    # What dataclasses would generate for each node class, written once here:
    # node classes are declared ``eq=False, repr=False``, as generating these
    # for some fifty classes is a tenth of dfix's start-up.
    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        compared = _compared(self.__class__)
        return compared(self) == compared(other)

    def __hash__(self) -> int:
        return hash(_compared(self.__class__)(self))

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self) if f.repr)
        return f"{self.__class__.__qualname__}({shown})"


_COMPARED: dict[type, Callable[[Node], tuple]] = {}


def _compared(kind: type) -> Callable[[Node], tuple]:
    """The values a node of ``kind`` is compared by (its fields but the
    positions), as a tuple."""
    found = _COMPARED.get(kind)
    if found is None:
        names = [f.name for f in dataclasses.fields(kind) if f.compare]
        getter = operator.attrgetter(*names) if names else (lambda node: ())
        found = _COMPARED[kind] = getter if len(names) != 1 else (lambda node: (getter(node),))
    return found


def _emit(value: object, out: list[str]) -> None:
    if value is None:
        return
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, Node):
        value._codegen(out)
    else:
        for item in value:  # a tuple of nodes or strings
            _emit(item, out)


def _nodes_in(value: object) -> Iterator[Node]:
    if isinstance(value, Node):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from _nodes_in(item)


# ---------------------------------------------------------------- lines and trivia


@dataclass(frozen=True, eq=False, repr=False)
class Comment(Node):
    """A comment line: at the top level, or skipped inside a continuation."""

    indent: str = ""
    #: from ``#`` to the end of the line, line end excluded
    text: str = "#"
    newline: str = "\n"


@dataclass(frozen=True, eq=False, repr=False)
class BlankLine(Node):
    """A line with nothing but whitespace."""

    whitespace: Whitespace = field(default_factory=lambda: Whitespace())
    newline: str = "\n"


@dataclass(frozen=True, eq=False, repr=False)
class Continuation(Node):
    """The escape character that ends a line and joins the next one to it.

    BuildKit drops the escape character, the blanks after it and the line end,
    and skips the comment and blank lines that follow.
    """

    escape: str = "\\"
    whitespace: str = ""
    newline: str = "\n"
    skipped: tuple[Comment | BlankLine, ...] = ()


Part = Union[str, Continuation]


def value_of(parts: tuple[Part, ...]) -> str:
    """What BuildKit reads of text over continuation lines: the strings alone."""
    return "".join(part for part in parts if isinstance(part, str))


@dataclass(frozen=True, eq=False, repr=False)
class Fragment(Node):
    """Text that may run over continuation lines."""

    parts: tuple[Part, ...] = ()

    @property
    def value(self) -> str:
        return value_of(self.parts)

    @classmethod
    def of(cls, text: str) -> Fragment:
        return cls((text,) if text else ())


@dataclass(frozen=True, eq=False, repr=False)
class Whitespace(Fragment):
    """Blanks between two parts of an instruction, continuations included."""

    @classmethod
    def of(cls, text: str) -> Whitespace:
        return cls((text,) if text else ())

    @property
    def continuations(self) -> tuple[Continuation, ...]:
        return tuple(part for part in self.parts if isinstance(part, Continuation))


def no_space() -> Whitespace:
    return Whitespace()


def one_space() -> Whitespace:
    return Whitespace((" ",))
