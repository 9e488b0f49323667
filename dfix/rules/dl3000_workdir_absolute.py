"""A relative WORKDIR: where it leads depends on the WORKDIRs before it.

## Why
`WORKDIR src` is relative to the working directory already set, by this
stage, by the stage it is built FROM, or by the base image. Reading the
Dockerfile, or moving one WORKDIR, then no longer tells where commands run.
An absolute path says it at once.

## Example
    WORKDIR /app
    WORKDIR src

becomes

    WORKDIR /app
    WORKDIR /app/src

## Fix
Safe: the new path is the one BuildKit computes, joined to the working
directory the earlier WORKDIRs of the stage (and of the stages it is built
FROM by name) set, and cleaned the same way (`.`, `..`, repeated and final
slashes). Variables in the relative path are kept as written: BuildKit
expands them at the same place, and a `..` after one is left for BuildKit
to resolve.

Declined when the working directory before it is unknown: the base image's
(a stage that starts from an image other than `scratch` with no absolute
WORKDIR yet), or an earlier WORKDIR with a variable, quotes or a Windows
path. Like hadolint, dfix accepts paths that start with `$` or a Windows
drive (`C:`); relative paths with quotes, blanks or backslashes, and
relative paths of Windows stages, are reported and not fixed.
"""

from __future__ import annotations

from typing import Iterator

from dfix.cst import nodes as n
from dfix.rules._api import Context, Diagnostic, Fix, Rule
from dfix.rules._stages import Stage
from dfix.rules._workdir import is_plain, is_windows_path, join, on_windows, why_unknown, workdir_at

MESSAGE = "Use an absolute WORKDIR"


def _unquoted(value: str) -> str:
    """hadolint's dropQuotes: quotes removed from both ends."""
    return value.strip("\"'")


def is_relative(value: str) -> bool:
    """Whether hadolint reports the path (DL3000): not starting with `/` or
    `$` and not a Windows drive path."""
    path = _unquoted(value)
    if not path:
        return False
    return not (path.startswith(("/", "$")) or (len(path) > 1 and path[0].isalpha() and path[1] == ":"))


def check(ctx: Context) -> Iterator[Diagnostic]:
    for stage in ctx.stages:
        for instruction in stage.instructions:
            if not isinstance(instruction, n.Workdir) or instruction.value is None:
                continue
            value = instruction.value.value
            if not is_relative(value):
                continue
            path, reason = _absolute(ctx, stage, instruction, value)
            if path is None:
                yield ctx.decline(instruction, MESSAGE, reason)
                continue
            text = instruction.value.with_changes(parts=(path,))
            yield ctx.report(instruction, MESSAGE, Fix.replace(instruction.value, text, f"Write `{path}`"))


def _absolute(ctx: Context, stage: Stage, instruction: n.Workdir, value: str) -> tuple[str | None, str]:
    """The absolute path the WORKDIR leads to, or None and why dfix cannot tell."""
    if not is_plain(value) or is_windows_path(value):
        return None, "the path has quotes, blanks or backslashes"
    if on_windows(ctx.tree, stage):
        return None, "the stage is built on Windows"
    current = workdir_at(ctx.tree, stage, instruction)
    if current is None:
        return None, why_unknown(ctx.tree, stage, instruction)
    return join(current, value), ""


RULE = Rule("DL3000", "workdir-absolute", "Relative WORKDIR", check, __doc__)
