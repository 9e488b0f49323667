"""`cd` in a RUN: WORKDIR says where the commands run.

## Why
A `cd` lasts until the end of its RUN: the next instruction starts in the
directory WORKDIR set, not where the `cd` went. Scattered `cd`s make it hard
to tell where each command runs. `WORKDIR` sets the directory once, for the
RUNs, COPYs and ADDs that follow, and creates it if needed.

## Example
    RUN cd /usr/src/app && make install

becomes

    WORKDIR /usr/src/app
    RUN make install

## Fix
Unsafe, and only in one shape: the RUN starts with `cd DIR &&`, `DIR` is a
literal path (absolute, or relative to a working directory dfix knows from
the WORKDIRs before it), and no other `cd` is in the RUN. The WORKDIR goes
above the RUN (and above the comments right above it).

Unlike the `cd`, the WORKDIR lasts, so dfix only moves it when nothing later
in the stage runs in the working directory: up to the next absolute
WORKDIR, no RUN, no COPY or ADD to a relative destination, no relative
WORKDIR or VOLUME. When no absolute WORKDIR follows, the stage's image
keeps the new working directory: dfix then also requires that no later
stage is built FROM this one and that the stage sets no CMD, ENTRYPOINT,
HEALTHCHECK or ONBUILD; the fix stays unsafe because a CMD the base image
sets would start in the new directory, and so would `docker run`.

Also left alone: `cd` elsewhere in the RUN (after other commands, in a
subshell, a condition or a heredoc), `cd` with options, variables or `-`,
a `cd` followed by `;` or `||` (a failing `cd` would not stop the rest), a
directory a `--mount` of the RUN provides, a RUN with a relative mount
target, and a RUN that reads `$OLDPWD`. Like hadolint, dfix reports any
`cd` command in a RUN (exec form, heredocs and `$( )` included), but not in
ONBUILD.
"""

from __future__ import annotations

import re
from typing import Iterator

from dfix.cst import nodes as n
from dfix.cst.visit import walk
from dfix.rules._api import Applicability, Context, Diagnostic, Fix, FixAvailability, Rule
from dfix.rules._hadolint import all_commands, command_name
from dfix.rules._new_lines import comments_above
from dfix.rules._run_scripts import RunScript
from dfix.rules._runs import mount_targets
from dfix.rules._stages import Stage, ancestry
from dfix.rules._workdir import built_from, join, why_unknown, workdir_at
from dfix.shell import edit
from dfix.shell.nodes import CommandList, Operator, Pipeline, Script, SimpleCommand, Word

MESSAGE = "Use WORKDIR to switch to a directory, not `cd`"
_LITERAL_PATH = re.compile(r"[\w./@+,:=%-]+")
_OPAQUE_CD = re.compile(r"(?<![\w/.$-])cd(?=[\s;&|)]|$)")
_MOUNT_KINDS = ("bind", "cache", "tmpfs", "secret", "ssh")


def check(ctx: Context) -> Iterator[Diagnostic]:
    for body in ctx.run_scripts(exec_form=True, onbuild=False):
        cds = [command for command, _ in all_commands(body.script) if command_name(command) == "cd"]
        opaque = any(_OPAQUE_CD.search(part.code) for part in body.script.opaque_parts)
        if not cds and not opaque:
            continue
        if not body.in_tree:
            form = "exec form" if isinstance(body.run.body, n.JsonArray) else "a heredoc"
            yield ctx.decline(body.run, MESSAGE, f"the commands are in {form}")
        elif not body.script.posix:
            yield ctx.decline(body.run, MESSAGE, "the stage's shell is not POSIX (cmd or PowerShell)")
        elif opaque:
            yield ctx.decline(body.run, MESSAGE, "the shell text is opaque to dfix")
        else:
            yield _finding(ctx, body, cds)


def _finding(ctx: Context, body: RunScript, cds: list[SimpleCommand]) -> Diagnostic:
    script = body.script
    first = _leading_cd(script)
    if first is None or first.parts[0] is not cds[0]:
        return ctx.decline(body.run, MESSAGE, "the `cd` is not the first command of the RUN, or is nested")
    reason = _shape_problem(script, first, cds)
    if reason:
        return ctx.decline(body.run, MESSAGE, reason)
    path, reason = _directory(ctx, body, first.parts[0].words[1])
    if path is None:
        return ctx.decline(body.run, MESSAGE, reason)
    reason = _mount_problem(body.run, path) or _later_use(ctx, body.stage, body.run)
    if reason:
        return ctx.decline(body.run, MESSAGE, reason)
    return ctx.report(body.run, MESSAGE, _fix(ctx, body.run, script, first, path))


def _leading_cd(script: Script) -> Pipeline | None:
    """The RUN's first pipeline when it is a lone simple command."""
    if not isinstance(script.body, CommandList) or not script.body.parts:
        return None
    first = script.body.parts[0]
    if isinstance(first, Pipeline) and len(first.parts) == 1 and isinstance(first.parts[0], SimpleCommand):
        return first
    return None


def _shape_problem(script: Script, first: Pipeline, cds: list[SimpleCommand]) -> str:
    """Why ``cd DIR && rest`` cannot be taken apart ("" when it can)."""
    command = first.parts[0]
    parts = script.body.parts
    words = command.words
    if command.assignments or command.redirects or len(words) != 2 or words[0].value != "cd":
        return "the `cd` has options, redirections or no single directory"
    if len(cds) > 1:
        return "the RUN has another `cd`"
    if len(parts) < 3 or not isinstance(parts[1], Operator) or not isinstance(parts[2], Pipeline):
        return "nothing follows the `cd`" if len(parts) == 1 else "the `cd` is not followed by `&&`"
    if parts[1].value != "&&":
        return f"the `cd` is followed by `{parts[1].value.strip() or 'a new line'}`, not `&&`: the rest would run if it failed"
    if "OLDPWD" in script.code:
        return "the RUN reads `$OLDPWD`, which the `cd` sets"
    if _skipped_comments(first, parts[1], parts[2]):
        return "comment lines stand between the `cd` and the next command"
    return ""


def _skipped_comments(*nodes: n.Node) -> bool:
    """Whether continuation lines in the text that moves hold comments
    (they would be lost with the `cd`)."""
    first_space = edit.leading_space(nodes[2])
    for node in (*nodes[:2], first_space):
        for each in walk(node):
            if isinstance(each, n.Continuation) and any(isinstance(line, n.Comment) for line in each.skipped):
                return True
    return False


def _directory(ctx: Context, body: RunScript, word: Word) -> tuple[str | None, str]:
    """The absolute directory the `cd` goes to, or None and why not."""
    target = word.value or ""
    if word.value != word.text or not _LITERAL_PATH.fullmatch(target) or target.startswith("-"):
        return None, "the directory is not a literal path"
    if target.startswith("/"):
        return target, ""
    if any(isinstance(i, (n.Env, n.Arg)) and "CDPATH" in i.code for i in ctx.tree.instructions):
        return None, "CDPATH is set, so a relative `cd` may go elsewhere"
    current = workdir_at(ctx.tree, body.stage, body.run)
    if current is None:
        return None, f"the directory is relative and {why_unknown(ctx.tree, body.stage, body.run)}"
    return join(current, target), ""


def _mount_problem(run: n.Run, path: str) -> str:
    clean = join("/", path)
    for target in mount_targets(run, _MOUNT_KINDS):
        if not target.startswith("/"):
            return "a `--mount` target of the RUN is relative to the working directory"
        mount = join("/", target)
        if clean == mount or clean.startswith(mount.rstrip("/") + "/"):
            return "the directory is a `--mount` of the RUN"
    return ""


def _later_use(ctx: Context, stage: Stage, run: n.Run) -> str:
    """Why a WORKDIR that lasts would change what later instructions do ("" when it would not)."""
    instructions = stage.instructions
    index = stage.index(run)
    assert index is not None  # the RUN was found in this stage
    for instruction in instructions[index + 1:]:
        if isinstance(instruction, n.Workdir):
            value = instruction.value.value if instruction.value else ""
            if value.startswith("/"):
                return ""
            return "a later WORKDIR is relative to the working directory"
        if isinstance(instruction, n.Run):
            return "a later RUN in the stage runs in the working directory"
        if isinstance(instruction, (n.Copy, n.Add)):
            values = instruction.values
            if not values or not values[-1].strip("\"'").startswith("/"):
                return "a later COPY or ADD in the stage has a relative destination"
        if isinstance(instruction, n.Volume) and not all(v.strip("\"'").startswith("/") for v in instruction.values):
            return "a later VOLUME is relative to the working directory"
    # the stage ends in the new directory: its image keeps it
    if built_from(ctx.tree, stage):
        return "a later stage is built FROM this one and would start in the new directory"
    runtime = (n.Cmd, n.Entrypoint, n.Healthcheck, n.Onbuild)
    if any(isinstance(i, runtime) for each in ancestry(ctx.tree, stage) for i in each.instructions):
        return "the stage's CMD, ENTRYPOINT, HEALTHCHECK or ONBUILD would start in the new directory"
    return ""


def _fix(ctx: Context, run: n.Run, script: Script, first: Pipeline, path: str) -> Fix:
    new_run = run.with_changes(body=run.body.with_changes(script=edit.remove_pipeline(script, first)))
    keyword = "workdir" if run.keyword_text.value.islower() else "WORKDIR"
    workdir = n.Workdir(
        indent=run.indent, keyword_text=n.Fragment.of(keyword), value=n.Text.of(path), newline=ctx.newline,
    )
    anchor = comments_above(ctx.tree, run)
    title = f"Move the `cd` to `WORKDIR {path}`"
    if anchor is run:
        return Fix.replace(run, (workdir, new_run), title, Applicability.UNSAFE)
    return Fix.replace_all([(anchor, (workdir, anchor)), (run, new_run)], title, Applicability.UNSAFE)


RULE = Rule("DL3003", "cd-to-workdir", "cd in a RUN instead of WORKDIR", check, __doc__, fix=FixAvailability.UNSAFE)
