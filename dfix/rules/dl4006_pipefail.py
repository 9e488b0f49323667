"""RUN with a pipe, without `pipefail`: a failure on the left goes unnoticed.

## Why
A pipeline's status is its last command's: in `RUN wget -O- $URL | tar xz`,
a failed download gives tar empty input, tar may still succeed, and the
build goes on with a broken layer. With the shell option `pipefail`, the
pipeline fails when any of its commands fails. `/bin/sh` on Debian (dash)
has no `pipefail` option; bash has, and so has Alpine's BusyBox ash.

## Example
    FROM debian:12
    RUN wget -qO- https://example.com/app.tar.gz | tar xz

becomes

    FROM debian:12
    SHELL ["/bin/bash", "-o", "pipefail", "-c"]
    RUN wget -qO- https://example.com/app.tar.gz | tar xz

## Fix
Unsafe. dfix inserts a `SHELL` right before the first such RUN of the stage
(before the comment lines right above it, so that they stay with the RUN):
`["/bin/bash", "-o", "pipefail", "-c"]` on Debian, Ubuntu and Red Hat family
images, which all have bash, and `["/bin/ash", "-o", "pipefail", "-c"]` on
Alpine. The SHELL holds for every later RUN, and shell-form CMD, ENTRYPOINT
and HEALTHCHECK, of the stage, of the stages built FROM it, and of images
built from the image. That changes what they do:

- a pipeline whose left side fails now fails the build (`grep x file | wc -l`
  fails when grep finds nothing), which is the point, but can break a build
  that relied on it;
- on Debian and Red Hat images the shell changes from `sh` (dash) to bash:
  bashisms start to work and a few commands behave differently (`echo -e`,
  `echo '\\n'`, `source`, `[[ ]]`).

In a stage that inherits a SHELL with `pipefail` from the stage it is built
FROM, `pipefail` is already on; hadolint still reports the stage, and the
fix repeats the same SHELL, which changes nothing (safe).

Not fixed: a stage whose SHELL is set by a SHELL instruction (other than
one with `pipefail`), an exec-form RUN (SHELL does not apply to it) or a
heredoc RUN, images of an unknown family (dfix does not know which shell
they have), Windows images, and images with no shell (scratch, distroless).

A RUN whose finding is silenced (`# hadolint ignore=DL4006`) gets no SHELL
before it; the SHELL goes before the next RUN with a pipe. Like hadolint, a
SHELL counts as setting `pipefail` when it runs bash, zsh or ash with
`-o pipefail`; shells whose name starts with `pwsh`,
`powershell` or `cmd` are not checked. ONBUILD RUNs are not checked.
"""

from __future__ import annotations

import posixpath
import re
from typing import Iterator, Sequence

from dfix.cst import nodes as n
from dfix.images import ALPINE, DEBIAN, DISTROLESS, RHEL, SCRATCH, WINDOWS
from dfix.rules._api import Applicability, Context, Diagnostic, Fix, FixAvailability, Rule
from dfix.rules._hadolint import has_pipe
from dfix.rules._images import family, image_of
from dfix.rules._new_lines import comments_above
from dfix.rules._run_scripts import RunScript
from dfix.rules._stages import Stage, ancestry, explicit_shell
from dfix.shell.commands import flags_of
from dfix.shell.parse import parse_script

MESSAGE = "RUN with a pipe but no `pipefail`: a failure on the left of `|` does not fail the build"
BASH = ["/bin/bash", "-o", "pipefail", "-c"]
ASH = ["/bin/ash", "-o", "pipefail", "-c"]
_PIPEFAIL_SHELLS = frozenset(("bash", "zsh", "ash"))
_NOT_POSIX = ("pwsh", "powershell", "cmd")
# Red Hat family images without bash, or where dfix is not sure it is there
_NO_BASH = re.compile(r"micro|photon")
# a `|` that is not part of `||`, for text dfix cannot read
_LONE_PIPE = re.compile(r"(?<!\|)\|(?!\|)")


def sets_pipefail(shell: Sequence[str]) -> bool:
    """Whether a SHELL sets pipefail, as hadolint tells: bash, zsh or ash
    with an option `o` and an argument `pipefail`."""
    if not shell:
        return False
    options = [flag for arg in shell[1:] for flag in flags_of(arg)]
    return posixpath.basename(shell[0]) in _PIPEFAIL_SHELLS and "o" in options and "pipefail" in shell[1:]


def _exempt(shell: Sequence[str]) -> bool:
    """hadolint's state after a SHELL: satisfied by pipefail, or not checked."""
    return " ".join(shell).startswith(_NOT_POSIX) or sets_pipefail(shell)


def check(ctx: Context) -> Iterator[Diagnostic]:
    scripts = {id(body.run): body for body in ctx.run_scripts(exec_form=True, onbuild=False)}
    # a RUN whose finding a comment silences is left as it is: no SHELL before it
    suppressions = ctx.suppressions
    for stage in ctx.stages:
        if stage.from_ is None:
            continue
        # hadolint starts each stage without pipefail, whatever it is built FROM
        satisfied = False
        target: RunScript | None = None
        for instruction in stage.instructions:
            if isinstance(instruction, n.Shell) and isinstance(instruction.body, n.JsonArray):
                satisfied = _exempt(instruction.body.values)
                target = None
                continue
            body = scripts.get(id(instruction))
            if satisfied or body is None or not _piped(body):
                continue
            if suppressions.silences(ctx.rule.id, ctx.rule.name, instruction.start_line):
                continue
            reason = _why_not(ctx, stage, body)
            if reason is not None:
                yield ctx.decline(body.run, MESSAGE, reason)
                continue
            # one SHELL, before the first RUN it can go before, serves the rest
            target = target or body
            yield ctx.report(body.run, MESSAGE, _fix(ctx, stage, target))


def _piped(body: RunScript) -> bool:
    script = body.script
    if not script.posix:
        # hadolint reads PowerShell and cmd text as shell all the same, and
        # sees nothing where that fails
        return has_pipe(parse_script([script.value]))
    return has_pipe(script) or any(_LONE_PIPE.search(part.code) for part in script.opaque_parts)


def _why_not(ctx: Context, stage: Stage, body: RunScript) -> str | None:
    if isinstance(body.run.body, n.JsonArray):
        return "an exec-form RUN does not run in the SHELL; add `-o pipefail` to the shell it runs"
    if not body.in_tree:
        return "the commands are in a heredoc"
    script = body.script
    if script.posix and not has_pipe(script):
        return "the shell text is opaque to dfix"
    shell = explicit_shell(ctx.tree, stage, body.run)
    if shell is not None:
        return None if sets_pipefail(shell) else "the stage sets its own SHELL"
    kind = family(ctx.tree, stage)
    if kind == WINDOWS or not script.posix:
        return "the image runs Windows"
    if kind in (SCRATCH, DISTROLESS):
        return "the image has no shell dfix can use"
    if _pipefail_shell(ctx, stage) is None:
        return "dfix does not know which shell the image has"
    return None


def _pipefail_shell(ctx: Context, stage: Stage) -> list[str] | None:
    kind = family(ctx.tree, stage)
    if kind == ALPINE:
        return ASH
    root = ancestry(ctx.tree, stage)[-1]
    if kind == DEBIAN or (kind == RHEL and not _NO_BASH.search(image_of(ctx.tree, root).lower())):
        return BASH
    return None


def _fix(ctx: Context, stage: Stage, body: RunScript) -> Fix:
    inherited = explicit_shell(ctx.tree, stage, body.run)
    values = inherited if inherited is not None else _pipefail_shell(ctx, stage)
    applicability = Applicability.SAFE if inherited is not None else Applicability.UNSAFE
    run = body.run
    keyword = "shell" if run.keyword_text.value.islower() else "SHELL"
    shell = n.Shell(
        indent=run.indent, keyword_text=n.Fragment.of(keyword), body=n.JsonArray.of(values), newline=ctx.newline
    )
    anchor = comments_above(ctx.tree, run)
    return Fix.replace(anchor, (shell, anchor), f"Insert `{shell.code.strip()}`", applicability)


RULE = Rule("DL4006", "pipefail", "RUN with a pipe without pipefail", check, __doc__, fix=FixAvailability.SOMETIMES)
