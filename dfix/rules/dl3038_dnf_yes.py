"""`dnf install` asks for confirmation without `-y`.

## Why
A build cannot answer dnf's prompt; without `-y` the install stops there.
The same holds for `microdnf`.

## Example
    RUN dnf install nginx

becomes

    RUN dnf install -y nginx

## Fix
Safe: `-y` only answers the prompt. It goes right after the install
subcommand (`install`, `groupinstall` or `localinstall`); `--assumeyes` is
accepted too.
"""

from __future__ import annotations

from typing import Iterator

from dfix.rules._api import Context, Diagnostic, Rule
from dfix.rules._packages import YUM_INSTALLS, answers_yes
from dfix.rules._runs import missing_option


def check(ctx: Context) -> Iterator[Diagnostic]:
    yield from missing_option(
        ctx,
        programs=frozenset({"dnf", "microdnf"}),
        subcommands=YUM_INSTALLS,
        satisfied=answers_yes,
        flag="-y",
        message="`dnf install` without `-y` waits for an answer",
        opaque=r"(?<![\w-])(micro)?dnf\b[^;&|]*\b(install|groupinstall|localinstall)\b",
    )


RULE = Rule("DL3038", "dnf-yes", "dnf install without -y", check, __doc__)
