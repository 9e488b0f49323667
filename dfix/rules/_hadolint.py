"""Reading RUN bodies the way hadolint does, for the rules that report what
hadolint reports: every RUN script (exec form and heredocs included), the
commands inside `$( )` and backticks, pipes, and hadolint's "oversimplified"
arguments and flags (ShellCheck's `oversimplify`, hadolint's `getAllFlags`).

Findings on commands dfix cannot point at in the tree (an exec-form RUN, a
heredoc body, a command substitution) go on the RUN instead.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Callable, Iterator

from dfix.cst import nodes as n
from dfix.cst.memo import kept_on
from dfix.cst.visit import walk
from dfix.rules._run_scripts import RunScript, run_scripts
from dfix.shell.commands import Invocation, flags_of, invocation
from dfix.shell.nodes import (
    CommandList, DoubleQuoted, Expansion, Operator, Pipeline, Script, SimpleCommand, SingleQuoted, Word,
)
from dfix.shell.parse import parse_script

# ShellCheck's getCommandName looks through these to the command they run
_WRAPPERS = frozenset(("command", "builtin", "exec", "run", "busybox", "time"))
_NAME = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-])")


# Command substitutions are read one level at a time, each level's text again:
# nesting is bounded by the shell parser (deeper scripts are opaque), and the
# text read below one script by this budget, so that a huge script nested a
# few levels deep costs a few readings of it, not one per level.
_NESTED_BUDGET_FACTOR = 2
_NESTED_BUDGET_MINIMUM = 64 * 1024


def nested_scripts(script: Script) -> Iterator[tuple[SimpleCommand | None, Script]]:
    """The scripts of the command substitutions in ``script`` (`$( )`,
    backticks, `<( )`), at any depth, each with the command of ``script`` it
    stands in (None outside any simple command, as in `for x in $(ls)`)."""
    return iter(kept_on(script, "_nested_scripts", lambda: tuple(_nested_scripts(script))))


def _nested_scripts(script: Script) -> Iterator[tuple[SimpleCommand | None, Script]]:
    substitutions = [node for node in script.nodes if isinstance(node, Expansion) and node.substitution is not None]
    if not substitutions:  # most scripts: no need to map expansions to their commands
        return
    owner: dict[int, SimpleCommand] = {}
    for command in script.commands():
        for node in walk(command):
            if isinstance(node, Expansion):
                owner[id(node)] = command
    budget = _NESTED_BUDGET_FACTOR * sum(len(node.substitution) for node in substitutions) + _NESTED_BUDGET_MINIMUM
    for node in substitutions:
        outer = owner.get(id(node))
        # depth first, in source order, as the recursion this replaces
        stack = [node]
        while stack:
            expansion = stack.pop()
            budget -= len(expansion.substitution)
            if budget < 0:
                return
            nested = expansion.script
            yield outer, nested
            stack.extend(reversed(
                [inner for inner in nested.nodes if isinstance(inner, Expansion) and inner.substitution is not None]
            ))


def _inner(expansion: Expansion) -> str | None:
    return expansion.substitution


def all_commands(script: Script) -> Iterator[tuple[SimpleCommand, SimpleCommand | None]]:
    """Every simple command hadolint sees (those in command substitutions
    too), each with the command of ``script`` to point at, if any."""
    for command in script.commands():
        yield command, command
    for outer, nested in nested_scripts(script):
        for command in nested.commands():
            yield command, outer


def command_name(command: SimpleCommand) -> str | None:
    """The program a command runs, after assignments and the wrappers
    ShellCheck looks through (`command`, `exec`, ...), as written: a path
    stays a path."""
    words = list(command.words)
    while words and words[0].value in _WRAPPERS:
        words = _after_options(words[1:])
    return oversimplify(words[0]) if words else None


def _after_options(words: list[Word]) -> list[Word]:
    while words and (words[0].value or "").startswith("-"):
        words = words[1:]
    return words


def calls(script: Script) -> Iterator[tuple[Invocation, SimpleCommand | None]]:
    """The programs a script runs (those in command substitutions too), each
    with the command of ``script`` to point at. Read the way the package
    rules read them (through sudo and env), and also through `command`,
    `exec` and the other wrappers hadolint looks through."""
    for call in script.invocations:
        yield _unwrapped(call), call.command
    for outer, nested in nested_scripts(script):
        for call in nested.invocations:
            yield _unwrapped(call), outer


def _unwrapped(call: Invocation) -> Invocation:
    while call.name in _WRAPPERS and call.arguments:
        words = _after_options(list(call.arguments))
        inner = invocation(SimpleCommand(tuple(words))) if words else None
        if inner is None:
            break
        call = Invocation(call.command, inner.program, inner.arguments)
    return call


def unpinned(
    tree: n.Dockerfile, program: str, subcommand: str, value_flags: frozenset[str], pinned: Callable[[str], bool],
) -> Iterator[tuple[RunScript, n.Node, list[str]]]:
    """For each `program ... subcommand ...` (the subcommand anywhere, as
    hadolint looks for it) with packages that are not ``pinned``: where it
    runs, the node to report on, and those packages as written."""
    for body in run_scripts(tree, exec_form=True):
        for call, command in calls(body.script):
            if call.name != program or not any(oversimplify(w) == subcommand for w in call.arguments):
                continue
            loose = [word.text for word, text in packages(call, subcommand, value_flags) if not pinned(text)]
            if loose:
                yield body, body.anchor(command), loose


def has_pipe(script: Script) -> bool:
    """Whether ``script`` has a `|` or `|&` pipe (command substitutions included)."""
    return kept_on(script, "_has_pipe", lambda: _pipes(script) or any(_pipes(nested) for _, nested in nested_scripts(script)))


def _pipes(script: Script) -> bool:
    for node in script.nodes:
        if isinstance(node, Pipeline) and any(isinstance(p, Operator) and p.value in ("|", "|&") for p in node.parts):
            return True
    return False


# ---------------------------------------------------------------- arguments


def oversimplify(word: Word) -> str:
    """A word as ShellCheck's `oversimplify` gives it to hadolint: quotes
    removed, `$VAR` as `${VAR}`, `${...}` as written, `$(cmd args)` as
    `$(cmdargs)`, backticks and `$(( ))` as `${VAR}`."""
    return "".join(_simplified(part) for part in word.parts)


def _simplified(part: object) -> str:
    if isinstance(part, str):
        return re.sub(r"\\(.)", r"\1", part, flags=re.S)
    if isinstance(part, SingleQuoted):
        return "".join(p for p in part.parts if isinstance(p, str))[1:-1]
    if isinstance(part, DoubleQuoted):
        inner = list(part.parts)
        out = []
        for index, each in enumerate(inner):
            if isinstance(each, str):
                text = each
                if index == 0:
                    text = text[1:]
                if index == len(inner) - 1:
                    text = text[:-1]
                out.append(re.sub(r"\\([\\$\"`])", r"\1", text))
            elif isinstance(each, Expansion):
                out.append(_simplified(each))
        return "".join(out)
    if isinstance(part, Expansion):
        return _simplified_expansion("".join(p for p in part.parts if isinstance(p, str)))
    return ""


@functools.lru_cache(maxsize=64)
def _parsed(text: str) -> Script:
    """``$(...)`` read once for the rules that oversimplify the same word."""
    return parse_script([text])


def _simplified_expansion(text: str) -> str:
    if text.startswith(("$((", "`")):
        return "${VAR}"
    if text.startswith("$("):
        inner = _parsed(text[2:-1])
        return "$(" + "".join(_top_level_words(inner)) + ")"
    if text.startswith(("<(", ">(")):
        return ""
    if text.startswith("${"):
        return text
    if text.startswith(("$'", '$"')):
        return text[2:-1]
    match = _NAME.match(text)
    return "${" + match.group(1) + "}" if match else text


def _top_level_words(script: Script) -> Iterator[str]:
    """The words of the plain commands of a list (ShellCheck drops `&&`
    lists, multi-command pipelines, compound commands and assignments)."""
    body = script.body
    if not isinstance(body, CommandList):
        return
    for pipeline in body.pipelines:
        commands = pipeline.commands
        if len(commands) == 1 and isinstance(commands[0], SimpleCommand) and not _joined(body, pipeline):
            for word in commands[0].words:
                yield oversimplify(word)


def _joined(body: CommandList, pipeline: Pipeline) -> bool:
    """Whether a pipeline stands in an `&&` or `||` list."""
    parts = list(body.parts)
    index = next(i for i, part in enumerate(parts) if part is pipeline)
    around = [p for p in (parts[index - 1] if index else None, parts[index + 1] if index + 1 < len(parts) else None)
              if isinstance(p, Operator)]
    return any(p.value in ("&&", "||") for p in around)


def packages(call: Invocation, subcommand: str, value_flags: frozenset[str]) -> list[tuple[Word, str]]:
    """The arguments hadolint takes for package names: neither flags nor the
    subcommand, nor the argument right after a flag in ``value_flags``
    (`-t release`, but not after `--target-release=release`)."""
    texts = [oversimplify(word) for word in call.arguments]
    # hadolint 2.15 keeps the next word after `--flag=value`
    dropped = {index + 1 for index, text in enumerate(texts) if "=" not in text and value_flags & set(flags_of(text))}
    return [
        (word, text) for index, (word, text) in enumerate(zip(call.arguments, texts))
        if index not in dropped and not flags_of(text) and text != subcommand
    ]


# ---------------------------------------------------------------- FROM


@dataclass(frozen=True)
class BaseImage:
    """A FROM image as hadolint's parser (language-docker) splits it."""

    registry: str | None
    name: str
    tag: str | None
    digest: str | None


# language-docker: a registry is `domain.tld/` (a dot before the first
# slash), the name runs to `:` or `@`, the tag to `@`, the digest to the end
_IMAGE = re.compile(r"(?:(?P<registry>[^.]+\.[^/]+)/)?(?P<name>[^@:]+)(?::(?P<tag>[^@:]+))?(?:@(?P<digest>.+))?")


def base_image(image: str) -> BaseImage | None:
    """The parts of a FROM image, or None where hadolint could not read it
    (then it reports nothing but a parse error)."""
    match = _IMAGE.fullmatch(image)
    if match is None:
        return None
    return BaseImage(match["registry"], match["name"], match["tag"], match["digest"])
