"""`yarn install` leaves its cache in the image without `yarn cache clean`.

## Why
yarn (classic) keeps every package it downloads in its cache directory; in an
image that cache doubles the size of `node_modules`.

## Example
    RUN yarn install --frozen-lockfile

becomes

    RUN yarn install --frozen-lockfile && yarn cache clean

## Fix
Safe: later installs download what they need again. `yarn cache clean` is
appended after the last `yarn install` of the RUN, in the RUN's layout. Like
hadolint, dfix looks at stages that reach the final image (and ONBUILD);
nothing is reported when a cache mount serves `.cache/yarn`.
"""

from __future__ import annotations

from typing import Iterator

from dfix.rules._api import Context, Diagnostic, Rule
from dfix.rules._runs import missing_cleanup, mounted
from dfix.shell.commands import Invocation, has_argument

MESSAGE = "`yarn cache clean` is missing after `yarn install`"


def _installs(call: Invocation) -> bool:
    return call.name == "yarn" and has_argument(call, "install")


def _cleans(call: Invocation) -> bool:
    return call.name == "yarn" and has_argument(call, "cache", "clean")


def check(ctx: Context) -> Iterator[Diagnostic]:
    yield from missing_cleanup(
        ctx, installs=_installs, cleans=_cleans, command="yarn cache clean", message=MESSAGE,
        exempt=mounted(contains=".cache/yarn"), final_image_only=True,
        opaque=r"(?<![\w/-])yarn\b[^;&|]*\binstall\b",
    )


RULE = Rule("DL3060", "yarn-cache-clean", "yarn install without yarn cache clean", check, __doc__)
