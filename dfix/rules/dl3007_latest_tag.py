"""FROM an image tagged `latest`: the tag moves.

## Why
`latest` is whatever the image's publisher pushed last. Writing it out makes
the build look pinned when it is not: a rebuild may get another major
version. A version tag (`node:20.11`) or a digest says which image the build
was written for.

## Example
    FROM node:latest

should name a version, for instance

    FROM node:20-bookworm-slim

## Fix
None: dfix cannot know which version the Dockerfile was written for.

Like hadolint, an image pinned by digest as well (`node:latest@sha256:...`)
is not reported: the digest decides. The tag is compared as written
(`LATEST` is another tag), and a tag given by a variable (`node:$TAG`) is
not resolved: its value is given at build time.
"""

from __future__ import annotations

from typing import Iterator

from dfix.cst import nodes as n
from dfix.rules._api import Context, Diagnostic, FixAvailability, Rule
from dfix.rules._hadolint import base_image


def check(ctx: Context) -> Iterator[Diagnostic]:
    for instruction in ctx.tree.instructions:
        if not isinstance(instruction, n.From) or not instruction.args:
            continue
        image = base_image(instruction.image or "")
        if image is not None and image.tag == "latest" and image.digest is None:
            yield ctx.report(
                instruction.args[0],
                f"`{instruction.image}` changes whenever a new version is pushed: pin a version tag or a digest",
            )


RULE = Rule("DL3007", "latest-tag", "FROM an image tagged latest", check, __doc__, fix=FixAvailability.NONE)
