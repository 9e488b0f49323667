"""What a rule is, what it reports, and how it fixes.

A rule is one module in ``dfix/rules/`` that ends with::

    RULE = Rule("DL4000", "maintainer-deprecated", "MAINTAINER is deprecated", check, __doc__)

its id (hadolint's ``DLxxxx`` where the check is the same, otherwise
``DFxxx``), a kebab-case name, a one-line summary, a ``check`` function and
the module docstring (why it matters, an example, when its fix is unsafe;
``dfix --explain`` prints it). ``check(ctx)`` yields diagnostics made with
``ctx.report``, each with an optional :class:`Fix` that replaces nodes of the
tree with new ones.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import inspect
import operator
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Sequence

from dfix.build_context import NO_CONTEXT, BuildContext
from dfix.cst.nodes import Dockerfile, Instruction, Node
from dfix.cst.positions import Positions, positions_of
from dfix.newlines import newline_of

if TYPE_CHECKING:
    from dfix.rules._facts import TreeFacts
    from dfix.rules._run_scripts import RunScript
    from dfix.rules._stages import Stage
    from dfix.shell.nodes import SimpleCommand
    from dfix.suppressions import Suppressions


class Applicability(enum.Enum):
    """How far a fix can be trusted (after ruff's contract)."""

    #: the build keeps its meaning: applied by default
    SAFE = "safe"
    #: may change what is installed or how the container runs: only with --unsafe-fixes
    UNSAFE = "unsafe"
    #: a suggestion shown to the user, never applied
    DISPLAY_ONLY = "display-only"


class FixAvailability(enum.Enum):
    """What fixes a rule declares it makes (after ruff's ``FixAvailability``):
    the README's table, ``--list-rules`` and ``--explain`` show it, and the
    rule harness checks every fix a rule yields against it."""

    #: every fix it makes is safe
    SAFE = "safe"
    #: safe or unsafe, case by case
    SOMETIMES = "sometimes"
    #: every fix it makes is unsafe
    UNSAFE = "unsafe"
    #: findings only, never a fix
    NONE = "none"

    @property
    def description(self) -> str:
        """For people (``--explain``)."""
        return {
            "safe": "safe (applied by default)",
            "sometimes": "safe or unsafe, case by case (unsafe ones with --unsafe-fixes)",
            "unsafe": "unsafe (applied with --unsafe-fixes)",
            "none": "none (findings only)",
        }[self.value]

    def applies(self, unsafe: bool) -> bool:
        """Whether some fix this declaration allows is applied (with
        ``--unsafe-fixes`` when ``unsafe``): a rule for which it is not can
        change nothing, and a run that only fixes skips it."""
        return self in (FixAvailability.SAFE, FixAvailability.SOMETIMES) or (unsafe and self is FixAvailability.UNSAFE)

    def allows(self, applicability: Applicability) -> bool:
        """Whether a fix of ``applicability`` is one this declaration allows
        (a suggestion that is never applied always is)."""
        if applicability is Applicability.DISPLAY_ONLY:
            return True
        if self is FixAvailability.SOMETIMES:
            return applicability in (Applicability.SAFE, Applicability.UNSAFE)
        return applicability.value == self.value


@dataclass(frozen=True)
class Replacement:
    """A node of the tree and what takes its place: one node, several, or none."""

    old: Node
    new: tuple[Node, ...]


@dataclass(frozen=True)
class NewFile:
    """A file a fix writes beside the Dockerfile (a ``.dockerignore``): its
    absolute path and its text. The runner creates it; it never replaces a
    file that exists."""

    path: str
    text: str


@dataclass(frozen=True)
class Fix:
    title: str
    replacements: tuple[Replacement, ...]
    applicability: Applicability = Applicability.SAFE
    #: files it creates, besides what it changes in the tree
    files: tuple[NewFile, ...] = ()

    @classmethod
    def replace(
        cls, old: Node, new: Node | Sequence[Node], title: str, applicability: Applicability = Applicability.SAFE
    ) -> Fix:
        """Replace ``old`` with ``new`` (a node, or several in a row, or none to remove it)."""
        nodes = (new,) if isinstance(new, Node) else tuple(new)
        return cls(title, (Replacement(old, nodes),), applicability)

    @classmethod
    def replace_all(
        cls, replacements: Sequence[tuple[Node, Node | Sequence[Node]]], title: str,
        applicability: Applicability = Applicability.SAFE,
    ) -> Fix:
        return cls(
            title,
            tuple(Replacement(old, (new,) if isinstance(new, Node) else tuple(new)) for old, new in replacements),
            applicability,
        )

    @classmethod
    def create(cls, path: str, text: str, title: str, applicability: Applicability = Applicability.SAFE) -> Fix:
        """Create the file ``path`` (absolute) with ``text``; the Dockerfile stays as it is."""
        return cls(title, (), applicability, (NewFile(path, text),))


@dataclass(frozen=True)
class Place:
    """Where a finding is: lines and columns are 1-based, in characters."""

    line: int
    column: int
    end_line: int
    end_column: int
    #: the start line of the instruction it is about (0 for none), for suppressions
    instruction_line: int = 0
    #: the offsets of the node it is about, for ordering fixes
    span: tuple[int, int] = (0, 0)


@dataclass(frozen=True, eq=False)
class Diagnostic:
    """A finding, where it is, and how to fix it if dfix can.

    Its place is worked out when first asked for: in a round of fixes most
    findings are only asked whether they have a fix, and placing one needs
    the positions of the whole tree."""

    rule: Rule
    message: str
    #: where it is, or how to find out
    where: Place | Callable[[], Place]
    fix: Fix | None = None
    #: why dfix does not fix it, when it could not (a short reason, also in the message)
    declined: str = ""

    @property
    def id(self) -> str:
        return self.rule.id

    @functools.cached_property
    def place(self) -> Place:
        return self.where if isinstance(self.where, Place) else self.where()

    # where it is, read from its place (not fields: no annotations)
    line = property(operator.attrgetter("place.line"))
    column = property(operator.attrgetter("place.column"))
    end_line = property(operator.attrgetter("place.end_line"))
    end_column = property(operator.attrgetter("place.end_column"))
    instruction_line = property(operator.attrgetter("place.instruction_line"))
    span = property(operator.attrgetter("place.span"))


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    summary: str
    check: Callable[[Context], Iterator[Diagnostic]]
    #: the rule's documentation: the docstring of its module
    doc: str | None
    #: what its fixes are
    fix: FixAvailability = FixAvailability.SAFE
    #: on without --select
    default: bool = True
    #: option names and default values, set in [tool.dfix.rules.<id>]
    options: Mapping[str, Any] = field(default_factory=dict)
    #: the values an option may take, for the options limited to a few
    choices: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    #: the image config fields (as `docker inspect` names them) its fixes
    #: change by design, safe ones included; `--verify` expects those changes
    config_changes: tuple[str, ...] = ()

    @property
    def explanation(self) -> str:
        return inspect.cleandoc(self.doc or self.summary)

    def __post_init__(self) -> None:
        if not re.fullmatch(r"(DL|DF)\d{3,4}", self.id):
            raise ValueError(f"rule id {self.id!r} is not DLxxxx or DFxxx")
        if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", self.name):
            raise ValueError(f"rule name {self.name!r} is not kebab-case")
        if not isinstance(self.fix, FixAvailability):
            raise TypeError(f"rule {self.id}: fix must be a FixAvailability, not {self.fix!r}")


@dataclass
class Context:
    """What a rule's check sees: the tree, its text, the rule's options, and
    the facts about the tree every rule may look up (computed once per check
    by the engine; on first use when a Context is made without them)."""

    tree: Dockerfile
    rule: Rule
    #: the tree's positions, when they are already known (see ``positions``)
    known_positions: Positions | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    facts: TreeFacts | None = None
    #: the files beside the Dockerfile (see ``dfix.build_context``)
    build_context: BuildContext = NO_CONTEXT

    @property
    def positions(self) -> Positions:
        """Where the tree's nodes stand: indexed on first use, once per tree
        (most checks of a fixed file report nothing and need none)."""
        if self.known_positions is None:
            self.known_positions = positions_of(self.tree)
        return self.known_positions

    def _facts(self) -> TreeFacts:
        if self.facts is None:
            from dfix.rules._facts import TreeFacts

            self.facts = TreeFacts.of(self.tree)
        return self.facts

    @property
    def stages(self) -> tuple[Stage, ...]:
        return self._facts().stages

    def stage_of(self, instruction: Instruction) -> Stage:
        return self._facts().stage_of(instruction)

    @property
    def suppressions(self) -> Suppressions:
        return self._facts().suppressions

    def run_scripts(self, *, exec_form: bool = False, onbuild: bool = True) -> Iterator[RunScript]:
        return self._facts().run_scripts(exec_form=exec_form, onbuild=onbuild)

    @property
    def commands(self) -> tuple[tuple[SimpleCommand, RunScript], ...]:
        return self._facts().commands

    @property
    def text(self) -> str:
        return self.tree.code

    @property
    def newline(self) -> str:
        """The file's line end, for new lines: CRLF files stay CRLF."""
        return newline_of(self.text)

    def decline(self, node: Node, message: str, reason: str) -> Diagnostic:
        """A finding dfix will not fix, and why."""
        return dataclasses.replace(self.report(node, f"{message} (not fixed: {reason})"), declined=reason)

    def report(self, node: Node, message: str, fix: Fix | None = None) -> Diagnostic:
        return Diagnostic(self.rule, message, lambda: self.place_of(node), fix)

    def place_of(self, node: Node) -> Place:
        """Where a finding about ``node`` is: its text, not the blanks (and
        continuations) before it or the line end after it."""
        start, end = self.positions.span(node)
        text = self.text
        first = _skip_blanks(text, start, end, self.tree.escape)
        last = end
        while last > first and text[last - 1] in " \t\r\n":
            last -= 1
        if first < last:
            start, end = first, last
        else:  # nothing but blanks (a finding about them): point at the blanks, not the line end
            end = len(text[start:end].rstrip("\r\n")) + start
        line, column = self.positions.line_column(start)
        end_line, end_column = self.positions.line_column(max(start, end))
        instruction = self.positions.instruction_of(node)
        return Place(
            line, column, end_line, end_column, instruction.start_line if instruction is not None else 0, (start, end),
        )


def _skip_blanks(text: str, start: int, end: int, escape: str) -> int:
    continuation = re.compile(re.escape(escape) + r"[ \t]*\r?\n")
    while start < end:
        if text[start] in " \t":
            start += 1
        elif (found := continuation.match(text, start, end)) is not None:
            start = found.end()
        else:
            break
    return start


def instructions(tree: Dockerfile) -> Iterator[Instruction]:
    """Every instruction, the ones inside ONBUILD included (after their ONBUILD)."""
    for instruction in tree.instructions:
        yield instruction
        inner = getattr(instruction, "inner", None)
        if inner is not None:
            yield inner
