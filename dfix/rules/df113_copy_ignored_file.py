"""A COPY or ADD names a path the `.dockerignore` leaves out of the context.

## Why
The builder never receives a path the `.dockerignore` excludes, so a COPY
of it fails ("not found") or, with a wildcard, silently copies less than it
says. BuildKit reports the same as its check `CopyIgnoredFile`. Either the
COPY is stale or the `.dockerignore` excludes too much.

## Example
With a `.dockerignore` holding `*.md`,

    COPY README.md /app/

is reported.

## Fix
None: dfix cannot tell which of the two is wrong. The ignore file is the one
BuildKit reads (`<Dockerfile>.dockerignore` beside the Dockerfile, else the
context's `.dockerignore`, with its `!` exceptions); sources with variables
or wildcards, and COPY from other stages, are not looked at. Nothing is
reported without a build context.
"""

from __future__ import annotations

import os
from typing import Iterator

from dfix.rules._api import Context, Diagnostic, FixAvailability, Rule
from dfix.rules._copies import context_copies


def check(ctx: Context) -> Iterator[Diagnostic]:
    build = ctx.build_context
    if not build.available or build.ignore_patterns is None:
        return
    ignore_file = os.path.basename(build.dockerignore_path or ".dockerignore")
    for copy in context_copies(ctx.stages):
        for source in copy.sources:
            if "$" in source or any(c in source for c in "*?["):
                continue
            if source.strip("./") and build.ignores(source):
                yield ctx.report(copy.instruction, f"{copy.instruction.keyword} source {source!r} is excluded by {ignore_file}")


RULE = Rule("DF113", "copy-ignored-file", "A COPY or ADD names a path the .dockerignore excludes", check, __doc__,
            fix=FixAvailability.NONE)
