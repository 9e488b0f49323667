"""The image a runtime stage starts from, named after the build's."""

from __future__ import annotations

import re

from dfix.rules._split.plan import Blocked


def slim(image: str, name: str) -> str:
    """The slim variant of an official image: `python:3.12` -> `python:3.12-slim`,
    `node:20-bookworm` -> `node:20-bookworm-slim`; Alpine and slim ones stay."""
    repository, _, tag = image.partition(":")
    if "@" in image:
        raise Blocked("the image is pinned by digest: dfix does not know its slim variant's")
    if "slim" in tag or "alpine" in tag:
        return image
    if not tag or tag == "latest":
        return f"{repository}:slim"
    if name == "python":
        version, dash, release = tag.partition("-")
        return f"{repository}:{version}-slim{dash}{release}" if release else f"{repository}:{tag}-slim"
    return f"{repository}:{tag}-slim"


def debian_release(image: str) -> str | None:
    """The Debian release an image's tag names (`golang:1.22-bookworm`), if it does."""
    found = re.search(r"(bookworm|bullseye|trixie|buster)", image)
    return found.group(1) if found else None
