"""What the package-manager rules share: mounts, the stages that reach the
image, and fixes that insert a flag or append a command in the RUN's own
layout (the RUN scripts themselves are in ``_run_scripts``)."""

from __future__ import annotations

import fnmatch
import json
import re
from typing import Callable, Iterator, Sequence

from dfix.cst import nodes as n
from dfix.rules._api import Applicability, Context, Diagnostic, Fix
from dfix.rules._run_scripts import RunScript
from dfix.rules._stages import Stage, stages
from dfix.shell import edit
from dfix.shell.commands import Invocation
from dfix.shell.nodes import Node, Operator, Pipeline, Script, SimpleCommand, Word



def insert_exec_argument(array: n.JsonArray, after: int, value: str) -> n.JsonArray:
    """``array`` with ``value`` as a new element after element ``after``
    (not the last), spaced like the element that follows it."""
    elements = list(array.elements)
    follower = elements[after + 1]
    new = n.JsonString(follower.whitespace_before, (json.dumps(value, ensure_ascii=False),), n.Whitespace(), ",")
    elements.insert(after + 1, new)
    return array.with_changes(elements=tuple(elements))



def report(ctx: Context, body: RunScript, node: Node, message: str, fix: Fix | None) -> Diagnostic:
    """A finding on ``node``; in a heredoc script, on the RUN, not fixed."""
    if body.in_heredoc:
        return ctx.decline(body.run, message, "the commands are in a heredoc")
    return ctx.report(node, message, fix)


def mount_targets(run: n.Run, kinds: tuple[str, ...] = ("cache", "tmpfs")) -> list[str]:
    """The targets of a RUN's ``--mount`` flags of the given types."""
    targets = []
    for flag in run.flags:
        if flag.name != "mount" or flag.value is None:
            continue
        fields = dict(part.partition("=")[::2] for part in flag.value.split(","))
        if fields.get("type", "bind") in kinds:
            target = fields.get("target") or fields.get("dst") or fields.get("destination")
            if target:
                targets.append(target)
    return targets


def cache_mount_overlaps(run: n.Run, path: str, kinds: tuple[str, ...] = ("cache", "tmpfs")) -> bool:
    """Whether a mount of the RUN (cache or tmpfs ones by default) is at
    ``path``, above it or inside it: what a tool keeps there then does not
    reach the image, or the author chose where it goes."""
    path = path.rstrip("/")
    for target in mount_targets(run, kinds):
        target = target.rstrip("/")
        if target == path or path.startswith(target + "/") or target.startswith(path + "/"):
            return True
    return False


def removed_path(word: Word) -> str | None:
    """What an `rm` argument names, `~` and `$HOME` read as root's home
    (/root); None when dfix cannot tell."""
    value = word.value
    if value is None:
        value = re.sub(r"^(\$HOME|\$\{HOME\})(?=/|$)", "/root", word.text.replace('"', ""))
        if "$" in value or "`" in value:
            return None
    return re.sub(r"^~(?=/|$)", "/root", value)


def removal_of(path: str, target: str) -> str:
    """What removing ``path`` (maybe a glob) does to a mount at ``target``:
    "in" when it only removes what is in the mount, or the mount point
    itself; "above" when it removes a directory above the mount point (`rm`
    then fails on it); "" when the two have nothing to do with each other."""
    path = path.rstrip("/")
    if path == target or path.startswith(target + "/"):
        return "in"
    pattern = path.split("/")
    parts = target.split("/")
    for end in range(2, len(parts) + 1):
        if len(pattern) == end and all(fnmatch.fnmatchcase(a, b) for a, b in zip(parts[:end], pattern)):
            return "above"
    return "above" if path == "" else ""


def final_image_stages(tree: n.Dockerfile) -> list[Stage]:
    """The stages that may end up in an image, as hadolint counts them: the
    last stage, every stage another one is built FROM (by name), and the
    stages built from the same image as the last one. So fixing what dfix
    reports leaves hadolint nothing to report."""
    all_stages = [stage for stage in stages(tree) if stage.from_ is not None]
    if not all_stages:
        return stages(tree)
    last = all_stages[-1]
    bases = {stage.from_.image.lower() for stage in all_stages if stage.from_.image}
    return [
        stage for stage in all_stages
        if stage is last or (stage.name and stage.name.lower() in bases) or stage.from_.image == last.from_.image
    ]


def opaque_mentions(body: RunScript, pattern: str) -> bool:
    """Whether text dfix cannot read in the body matches ``pattern``."""
    regex = re.compile(pattern)
    return any(regex.search(node.code) for node in body.script.opaque_parts)


# ---------------------------------------------------------------- fixes


def insert_flag(command: SimpleCommand, anchor: Word, flag: str, title: str,
                applicability: Applicability = Applicability.SAFE) -> Fix:
    """Insert ``flag`` right after ``anchor`` (the subcommand, or the program)."""
    return Fix.replace(command, edit.insert_word_after(command, anchor, flag), title, applicability)


def removable(script: Script, pipeline: Pipeline) -> bool:
    """Whether a top-level pipeline can go: joined by `&&`, `;` or a newline
    on both sides (so that no `||` or `&` changes meaning), and not the only
    command."""
    parts = script.body.parts
    index = next(i for i, part in enumerate(parts) if part is pipeline)
    around = [p for p in (parts[index - 1] if index else None, parts[index + 1] if index + 1 < len(parts) else None)
              if isinstance(p, Operator)]
    return len(script.body.pipelines) > 1 and all(op.value in ("&&", ";", "\n") for op in around)


def append_command(ctx: Context, body: RunScript, anchor: Pipeline, text: str, title: str,
                   applicability: Applicability = Applicability.SAFE) -> Fix | None:
    """``anchor && text`` in the body's layout: on the same line when the body
    is one line and the result fits in the file's longest line; else on a new
    line, the way the body (or the file) breaks its lines. None when the body
    cannot take another command (see ``edit.is_joinable``)."""
    script = body.script
    if not edit.is_joinable(script):
        return None
    if body.run.heredocs and not body.in_heredoc:
        # the RUN's line may go on after a heredoc's body (`cat <<EOF && \`): an
        # edit placed by the script's layout could land inside that body
        return None
    # `a; b` under set -e only when a failing `a` stops the script: not
    # after `! a`, whose status set -e ignores and only the RUN's end reports
    negated = isinstance(anchor.parts[0], Operator) and anchor.parts[0].value == "!"
    operator = ";" if edit.joins_with_semicolons_under_set_e(script) and not negated else "&&"
    layout = edit.file_layout(ctx.tree, ctx.newline, prefer=script)
    if fits_on_one_line(ctx, body, f" {operator} {text}"):
        # `cat <<EOF; rm` would name BuildKit's heredoc `EOF;`: a blank keeps the word apart
        before = n.Whitespace((" ",)) if "<<" in anchor.code else n.Whitespace()
        spaces = edit.ONE_LINE if operator == "&&" else (before, n.Whitespace((" ",)))
    else:
        spaces = layout.break_before() if operator == "&&" else layout.break_after_semicolon()
    return Fix.replace(script, edit.append_after(script, anchor, text, spaces, operator), title, applicability)


def with_flags(run: n.Run, flags: Sequence[str], layout: edit.Layout | None) -> n.Run:
    """``run`` with ``flags`` after its own: on its line without ``layout``,
    else each on a continuation line of its own, and the command too."""
    broken = n.Whitespace((" ", layout.continuation(), layout.indent)) if layout else n.Whitespace((" ",))
    new = tuple(n.Flag(n.Whitespace((" ",)) if i == 0 and not run.flags else broken, (flag,)) for i, flag in enumerate(flags))
    space = run.body.whitespace_before
    if layout is not None and not space.continuations:
        space = broken
    return run.with_changes(flags=(*run.flags, *new), body=run.body.with_changes(whitespace_before=space))


def fits_on_one_line(ctx: Context, body: RunScript, added: str) -> bool:
    if "\n" in body.script.code:
        return False
    line = body.instruction.with_changes(heredocs=(), newline="").code
    return len(line) + len(added) <= edit.line_limit(ctx.text)


def last_anchor(body: RunScript, commands: list[SimpleCommand]) -> Pipeline | None:
    """The top-level pipeline after which a cleanup of ``commands`` goes: the
    one holding the last of them."""
    pipelines = [body.top_level_of(command) for command in commands]
    pipelines = [p for p in pipelines if p is not None]
    if not pipelines:
        return None
    order = {id(pipeline): i for i, pipeline in enumerate(edit.top_level_pipelines(body.script))}
    return max(pipelines, key=lambda p: order[id(p)])


# ---------------------------------------------------------------- the two rule shapes


def missing_option(
    ctx: Context,
    *,
    programs: frozenset[str],
    subcommands: frozenset[str],
    satisfied: Callable[[Invocation], bool],
    flag: str,
    message: str,
    applicability: Applicability = Applicability.SAFE,
    after_program: bool = False,
    exempt: Callable[[RunScript], bool] = lambda body: False,
    opaque: str | None = None,
) -> Iterator[Diagnostic]:
    """Findings for ``programs`` run with one of ``subcommands`` (as any
    argument, as hadolint reads it) but without an option ``satisfied``
    accepts. The fix inserts ``flag`` right after the subcommand, or right
    after the program with ``after_program``. Text dfix cannot read that
    matches ``opaque`` is reported as not fixed."""
    for body in ctx.run_scripts():
        if exempt(body):
            continue
        for call in body.invocations():
            if call.name not in programs:
                continue
            if after_program:
                anchor: Word | None = call.program
            else:
                anchor = next((word for word in call.arguments if word.value in subcommands), None)
            if anchor is None or satisfied(call):
                continue
            fix = insert_flag(call.command, anchor, flag, f"Add `{flag}`", applicability)
            yield report(ctx, body, call.command, message, fix)
        if opaque and opaque_mentions(body, opaque):
            yield ctx.decline(body.run, message, "the shell text is opaque to dfix")


def missing_cleanup(
    ctx: Context,
    *,
    installs: Callable[[Invocation], bool],
    cleans: Callable[[Invocation], bool],
    command: str,
    message: str,
    exempt: Callable[[RunScript], bool] = lambda body: False,
    final_image_only: bool = False,
    opaque: str | None = None,
    at_end: bool = False,
    applicability: Callable[[RunScript], Applicability] = lambda body: Applicability.SAFE,
    decline: Callable[[RunScript], str | None] = lambda body: None,
) -> Iterator[Diagnostic]:
    """Findings for RUN bodies where an install (``installs(call)``) is not
    followed, in the same body, by a cleanup (``cleans(call)``). The fix
    appends ``command`` after the top-level pipeline of the last install, or
    at the end of the body with ``at_end``. With ``final_image_only``, only
    stages that reach the final image (and ONBUILD) are looked at."""
    wanted = final_image_stages(ctx.tree) if final_image_only else None
    for body in ctx.run_scripts():
        if wanted is not None and not body.onbuild and body.stage not in wanted:
            continue
        calls = body.invocations()
        install_positions = [i for i, call in enumerate(calls) if installs(call)]
        # exempt(body) reads the RUN's flags: asked only where it matters, most RUNs install nothing
        if not install_positions:
            if opaque and opaque_mentions(body, opaque) and not exempt(body):
                yield ctx.decline(body.run, message, "the shell text is opaque to dfix")
            continue
        if exempt(body):
            continue
        last = install_positions[-1]
        if any(cleans(call) for call in calls[last + 1:]):
            continue
        reason = decline(body) or ("the commands are in a heredoc" if body.in_heredoc else None)
        if reason:
            yield ctx.decline(body.run, message, reason)
            continue
        pipelines = edit.top_level_pipelines(body.script)
        if at_end:
            anchor = pipelines[-1] if pipelines else None
        else:
            anchor = last_anchor(body, [calls[i].command for i in install_positions])
        fix = None
        if anchor is not None:
            fix = append_command(ctx, body, anchor, command, f"Append `{command}`", applicability(body))
        if fix is None:
            yield ctx.decline(body.run, message, _why_not_appendable(body))
        else:
            yield ctx.report(body.run, message, fix)


def mounted(*prefixes: str, contains: str = "") -> Callable[[RunScript], bool]:
    """Whether a cache or tmpfs mount of the RUN starts with one of
    ``prefixes`` (or contains ``contains``): then nothing lands in the image."""

    def check(body: RunScript) -> bool:
        return any(
            (prefixes and target.startswith(prefixes)) or (contains and contains in target)
            for target in mount_targets(body.run)
        )

    return check


def _why_not_appendable(body: RunScript) -> str:
    script = body.script
    if script.is_opaque:
        return "the shell text is opaque to dfix"
    if edit.ends_in_comment(script):
        return "the RUN ends with a shell comment"
    if body.run.heredocs and not body.in_heredoc:
        return "the RUN has a heredoc: dfix does not edit around heredoc bodies"
    return "the install is not at the top level of the RUN"
