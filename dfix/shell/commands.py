"""Reading commands: which program runs, its subcommand, its flags.

``Invocation`` looks through assignments and the wrappers people put in
front of package managers (``sudo``, ``env FOO=bar``), so that
``DEBIAN_FRONTEND=noninteractive sudo apt-get -q install curl`` is apt-get
with the subcommand ``install``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

from dfix.shell.nodes import Script, SimpleCommand, Word

#: the shells that read a POSIX script (`sh -c`, `bash <<EOF`), by program name
POSIX_SHELLS = frozenset(("sh", "bash", "ash", "dash", "zsh", "ksh", "mksh"))

_SUDO_OPTIONS_WITH_VALUES = frozenset(("-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U"))


@dataclass(frozen=True)
class Invocation:
    command: SimpleCommand
    #: the word naming the program
    program: Word
    #: the words after it
    arguments: tuple[Word, ...]

    @property
    def name(self) -> str:
        """The program's name without its directory: ``apt-get``."""
        return program_name(self.program)

    def subcommand(self, options_with_values: Iterable[str] = ()) -> Word | None:
        """The first argument that is not an option (nor an option's value)."""
        takes_value = frozenset(options_with_values)
        skip = False
        for word in self.arguments:
            value = word.value
            if skip:
                skip = False
                continue
            if value is None:
                return None  # an expansion: dfix cannot tell
            if value == "--":
                continue
            if value.startswith("-") and value != "-":
                skip = value in takes_value
                continue
            return word
        return None

    def has_option(self, *spellings: str) -> bool:
        """Whether any argument is one of ``spellings``: ``--yes``,
        ``--progress`` (also as ``--progress=x``), or a short ``-y`` (also
        inside a cluster such as ``-qy``)."""
        return any(option_matches(word, spellings) for word in self.arguments)

    def words_after(self, word: Word) -> tuple[Word, ...]:
        index = next(i for i, each in enumerate(self.arguments) if each is word)
        return self.arguments[index + 1:]


def program_name(word: Word) -> str:
    value = word.value  # None when the word expands
    return value.rpartition("/")[2] if value else ""  # posixpath.basename, without its cost (called per word)


def option_matches(word: Word, spellings: Iterable[str]) -> bool:
    value = word.value
    if not value or not value.startswith("-") or value == "-":
        return False
    for spelling in spellings:
        if spelling.startswith("--"):
            if value == spelling or value.startswith(spelling + "="):
                return True
        elif value == spelling:
            return True
        elif len(spelling) == 2 and not value.startswith("--") and spelling[1] in value[1:]:
            return True
    return False


def invocation(command: SimpleCommand) -> Invocation | None:
    """The program a simple command runs, through ``sudo`` and ``env``."""
    words = list(command.words)
    while words:
        name = program_name(words[0])
        if name == "sudo":
            words = _after_options(words[1:], _SUDO_OPTIONS_WITH_VALUES)
        elif name == "env":
            words = [w for w in _after_options(words[1:], frozenset(("-u", "-C", "-S")))]
            while words and words[0].is_assignment:
                words = words[1:]
        else:
            return Invocation(command, words[0], tuple(words[1:]))
    return None


def _after_options(words: list[Word], with_values: frozenset[str]) -> list[Word]:
    index = 0
    while index < len(words):
        value = words[index].value or ""
        if not value.startswith("-"):
            break
        index += 2 if value in with_values else 1
    return words[index:]


def invocations(script: Script) -> Iterator[Invocation]:
    """Every program a script runs, nested ones included, in order."""
    return iter(script.invocations)


def hadolint_flags(call: Invocation) -> list[str]:
    """The options of a command the way hadolint counts them (rules that
    mirror a hadolint check accept exactly what it accepts)."""
    return [flag for word in call.arguments for flag in flags_of(word.value or "")]


def flags_of(text: str) -> list[str]:
    """hadolint's options of one argument: ``--name=v`` is ``name``, ``-abc``
    is ``a``, ``b`` and ``c``; ``-`` and ``--`` are none."""
    if text in ("-", "--"):
        return []
    if text.startswith("--"):
        return [text[2:].split("=", 1)[0]]
    if text.startswith("-"):
        return list(text[1:])
    return []


def has_argument(call: Invocation, *values: str) -> bool:
    """Whether any argument is exactly one of ``values`` (quotes removed)."""
    return any(word.value in values for word in call.arguments)
