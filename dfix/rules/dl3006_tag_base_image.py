"""FROM an image without a tag: the build takes whatever `latest` is today.

## Why
`FROM debian` means `debian:latest`, which moves: a rebuild next month may
get another major release, and builds of the same Dockerfile stop being
reproducible. A tag (`debian:12.5`) or a digest (`debian@sha256:...`) says
which image the build was written for.

## Example
    FROM python

should name a version, for instance

    FROM python:3.12-slim

## Fix
None: dfix cannot know which version the Dockerfile was written for; the
finding says which image needs one.

Like hadolint, dfix does not report `scratch`, images pinned by digest, the
names of earlier stages (`FROM build`, compared case-sensitively as hadolint
does), and images that start with a variable (`FROM $BASE`, `FROM
${REGISTRY}/app`): their value is given at build time. A registry with a
port but no dot (`localhost:5000/app`) reads as the image `localhost` with a
tag, as hadolint reads it.
"""

from __future__ import annotations

from typing import Iterator

from dfix.cst import nodes as n
from dfix.rules._api import Context, Diagnostic, FixAvailability, Rule
from dfix.rules._hadolint import BaseImage, base_image


def check(ctx: Context) -> Iterator[Diagnostic]:
    aliases: set[str] = set()
    for instruction in ctx.tree.instructions:
        if not isinstance(instruction, n.From) or not instruction.args:
            continue
        image = base_image(instruction.image or "")
        if image is not None and _untagged(image, aliases):
            yield ctx.report(
                instruction.args[0],
                f"Tag the image `{instruction.image}` with a version (or pin a digest): "
                "without one the build takes whatever `latest` is",
            )
        # hadolint adds the alias after checking: `FROM x AS x` is reported
        if instruction.stage_name:
            aliases.add(instruction.stage_name)


def _untagged(image: BaseImage, aliases: set[str]) -> bool:
    return (
        image.tag is None
        and image.digest is None
        and image.name != "scratch"
        and not image.name.startswith("$")
        and image.name not in aliases
    )


RULE = Rule("DL3006", "tag-base-image", "FROM an image without a tag", check, __doc__, fix=FixAvailability.NONE)
