"""`zypper install` asks for confirmation without `-y`.

## Why
A build cannot answer zypper's prompt; without a non-interactive switch the
command stops there.

## Example
    RUN zypper install curl

becomes

    RUN zypper install -y curl

## Fix
Safe: `-y` (`--no-confirm`) only answers the prompt. It goes right after the
subcommand (`install`, `in`, `remove`, `rm`, `source-install`, `si`, `patch`);
the global `-n` (`--non-interactive`) is accepted too.
"""

from __future__ import annotations

from typing import Iterator

from dfix.rules._api import Context, Diagnostic, Rule
from dfix.rules._runs import missing_option
from dfix.shell.commands import Invocation, hadolint_flags


def is_yes(call: Invocation) -> bool:
    return bool({"y", "no-confirm", "n", "non-interactive"} & set(hadolint_flags(call)))


def check(ctx: Context) -> Iterator[Diagnostic]:
    yield from missing_option(
        ctx,
        programs=frozenset({"zypper"}),
        subcommands=frozenset({"install", "in", "remove", "rm", "source-install", "si", "patch"}),
        satisfied=is_yes,
        flag="-y",
        message="`zypper install` without `-y` waits for an answer",
        opaque=r"(?<![\w-])zypper\b[^;&|]*\b(install|in|remove|rm|source-install|si|patch)\b",
    )


RULE = Rule("DL3034", "zypper-yes", "zypper install without -y", check, __doc__)
