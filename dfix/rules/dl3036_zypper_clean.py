"""`zypper install` leaves its cache in the image without `zypper clean`.

## Why
zypper keeps packages and metadata in `/var/cache/zypp`; unless the same RUN
cleans them, they stay in the layer.

## Example
    RUN zypper install -y curl

becomes

    RUN zypper install -y curl && zypper clean

## Fix
Safe: later zypper commands fetch what they need again. `zypper clean` is
appended after the last `zypper install` (or `in`) of the RUN, in the RUN's
layout; `zypper clean` or `zypper cc` after it counts. Nothing is reported
when a cache mount serves `/var/cache/zypp`.
"""

from __future__ import annotations

from typing import Iterator

from dfix.rules._api import Context, Diagnostic, Rule
from dfix.rules._runs import missing_cleanup, mounted
from dfix.shell.commands import Invocation, has_argument

MESSAGE = "`zypper clean` is missing after `zypper install`"


def _installs(call: Invocation) -> bool:
    return call.name == "zypper" and has_argument(call, "install", "in")


def _cleans(call: Invocation) -> bool:
    return call.name == "zypper" and has_argument(call, "clean", "cc")


def check(ctx: Context) -> Iterator[Diagnostic]:
    yield from missing_cleanup(
        ctx, installs=_installs, cleans=_cleans, command="zypper clean", message=MESSAGE,
        exempt=mounted("/var/cache/zypp"), opaque=r"(?<![\w/-])zypper\b[^;&|]*\b(install|in)\b",
    )


RULE = Rule("DL3036", "zypper-clean", "zypper install without zypper clean", check, __doc__)
