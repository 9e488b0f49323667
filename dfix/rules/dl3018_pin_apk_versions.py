"""`apk add` of packages without a version: builds drift.

## Why
`apk add curl` installs whatever version the Alpine repository has on the
day of the build, so two builds of the same Dockerfile can differ.
`curl=8.5.0-r0`, or `curl~8.5` for any 8.5 release, pins it, so that a
change of version is a change of the Dockerfile.

## Example
    RUN apk add --no-cache curl

should pin the version:

    RUN apk add --no-cache curl~8.5

## Fix
None: dfix does not know which versions the build was tested with (look
them up with `apk policy <package>` in the base image). Alpine keeps only
the latest version of a package in each release's repository, so an exact
pin (`=`) breaks the build when the package is updated; `~` pins less
tightly.

What counts as pinned is what hadolint accepts: `=`, `~`, `<` or `>` in the
name, or an `.apk` file. The word after `-t`/`--virtual`, `-X`/`--repository`
is not a package. Like the other package rules, dfix also sees `apk` behind
`sudo` and `env`.
"""

from __future__ import annotations

from typing import Iterator

from dfix.rules._api import Context, Diagnostic, FixAvailability, Rule
from dfix.rules._hadolint import unpinned

_VALUE_FLAGS = frozenset(("t", "virtual", "repository", "X"))


def _pinned(package: str) -> bool:
    return any(mark in package for mark in "=~<>") or package.endswith(".apk")


def check(ctx: Context) -> Iterator[Diagnostic]:
    for _, node, loose in unpinned(ctx.tree, "apk", "add", _VALUE_FLAGS, _pinned):
        names = ", ".join(f"`{name}`" for name in loose)
        yield ctx.report(node, f"Pin the versions of the packages `apk add` installs ({names}): `<package>=<version>`")


RULE = Rule("DL3018", "pin-apk-versions", "apk add without pinned versions", check, __doc__, fix=FixAvailability.NONE)
