"""`apt-get install` also installs recommended packages without `--no-install-recommends`.

## Why
By default apt-get installs every package the requested ones *recommend*:
documentation, extra tools, often tens of megabytes the image never uses.
`--no-install-recommends` installs what was asked for and what it depends on.

## Example
    RUN apt-get install -y curl

becomes

    RUN apt-get install -y --no-install-recommends curl

## Fix
Unsafe: the set of installed packages changes, and software can rely on a
recommended package without depending on it (curl and `ca-certificates` are
the classic case). Apply it with `--unsafe-fixes` and check the build.
"""

from __future__ import annotations

from typing import Iterator

from dfix.rules._api import Applicability, Context, Diagnostic, FixAvailability, Rule
from dfix.rules._runs import missing_option
from dfix.shell.commands import Invocation, has_argument, hadolint_flags


def _no_recommends(call: Invocation) -> bool:
    return "no-install-recommends" in hadolint_flags(call) or has_argument(call, "APT::Install-Recommends=false")


def check(ctx: Context) -> Iterator[Diagnostic]:
    yield from missing_option(
        ctx,
        programs=frozenset({"apt-get"}),
        subcommands=frozenset({"install"}),
        satisfied=_no_recommends,
        flag="--no-install-recommends",
        message="`apt-get install` without `--no-install-recommends` also installs recommended packages",
        applicability=Applicability.UNSAFE,
        opaque=r"(?<![\w-])apt-get\b[^;&|]*\binstall\b",
    )


RULE = Rule(
    "DL3015", "apt-no-install-recommends", "apt-get install without --no-install-recommends", check, __doc__,
    fix=FixAvailability.UNSAFE,
)
