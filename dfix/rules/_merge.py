"""Joining two RUN instructions into one, and when that keeps their meaning.

Two RUNs can become one ``first && second`` when nothing the first leaves
behind changes how the second runs: the same flags (mounts, network), both
shell form (no heredoc), both read by dfix, and no shell state set by the
first (a `cd`, an `export`, a `set -e`, a variable...) that the second
would now inherit. The comment lines between them move into the joined RUN,
as comment lines of its continuation; blank lines between them go.
"""

from __future__ import annotations

from typing import Sequence

from dfix.cst import nodes as n
from dfix.cst.visit import walk
from dfix.rules._api import Applicability, Context, Fix
from dfix.shell import edit
from dfix.shell.commands import invocation
from dfix.shell.nodes import Compound, Script, SimpleCommand

# Builtins whose effect outlives the command: the next command of the same
# shell sees it, the next RUN does not.
STATEFUL = frozenset((
    "cd", "pushd", "popd", "export", "set", "source", ".", "umask", "trap", "alias", "unalias", "shopt",
    "unset", "exit", "exec", "declare", "typeset", "readonly", "local", "ulimit", "eval", "return", "hash",
    "enable", "builtin", "shift", "getopts", "wait", "disown", "read",
))


def between(tree: n.Dockerfile, first: n.Instruction, second: n.Instruction) -> list[n.Line] | None:
    """The lines between two instructions when they are only comments and
    blank lines; None when an instruction stands between them."""
    body = tree.body
    start = next(i for i, line in enumerate(body) if line is first)
    end = next(i for i, line in enumerate(body) if line is second)
    lines = list(body[start + 1 : end])
    return None if any(isinstance(line, n.Instruction) for line in lines) else lines


def blocker(first: n.Instruction, second: n.Instruction) -> str | None:
    """Why the two RUNs cannot be joined safely, or None."""
    if not isinstance(first, n.Run) or not isinstance(second, n.Run):
        return "one of them is not a RUN"
    if not isinstance(first.body, n.ShellForm) or not isinstance(second.body, n.ShellForm):
        return "one of them is in exec (JSON) form"
    if first.heredocs or second.heredocs:
        return "one of them has a heredoc"
    if [f.text for f in first.flags] != [f.text for f in second.flags]:
        return "their flags (such as --mount) differ"
    one, two = first.body.script, second.body.script
    if not one.posix or not two.posix or one.is_opaque or two.is_opaque:
        return "the shell text is opaque to dfix"
    if not edit.is_joinable(one):
        return "the first RUN ends with a shell comment or `&`"
    return state_left_by(one)


def state_left_by(script: Script) -> str | None:
    for node in walk(script):
        if isinstance(node, Compound) and node.kind == "function":
            return "the first RUN defines a shell function, which the second would inherit"
        if isinstance(node, SimpleCommand):
            call = invocation(node)
            if call is None and node.assignments:
                return "the first RUN sets a shell variable, which the second would inherit"
            if call is not None and call.name in STATEFUL:
                return f"the first RUN runs `{call.name}`, which the second would inherit"
    return None


def merge_fix(
    ctx: Context, first: n.Run, second: n.Run, lines: Sequence[n.Line], title: str, applicability: Applicability
) -> Fix:
    """``first && second`` in the first RUN's place; the lines between and
    the second RUN go."""
    one, two = first.body.script, second.body.script
    comments = [line for line in lines if isinstance(line, n.Comment)]
    layout = edit.layout_of([one, two], ctx.tree.escape, ctx.newline) or edit.file_layout(ctx.tree, ctx.newline)
    single = "\n" not in one.code and "\n" not in two.code and not comments
    joined_line = len(first.with_changes(newline="").code) + len(" && ") + len(two.code)
    if single and joined_line <= edit.line_limit(ctx.text):
        spaces = edit.ONE_LINE
    else:
        spaces = layout.break_before([_as_skipped(c, ctx.newline) for c in comments])
    merged = first.with_changes(
        body=first.body.with_changes(script=edit.join(one, two, spaces)),
        trailing=second.trailing,
        newline=second.newline,
    )
    replacements: list[tuple[n.Node, Sequence[n.Node]]] = [(first, merged), *((line, ()) for line in lines), (second, ())]
    return Fix.replace_all(replacements, title, applicability)


def _as_skipped(comment: n.Comment, newline: str) -> n.Comment:
    return comment.with_changes(newline=comment.newline or newline)
