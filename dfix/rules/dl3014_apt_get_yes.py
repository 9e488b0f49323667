"""`apt-get install` asks for confirmation without `-y`.

## Why
A build has no one to answer apt-get's "Do you want to continue? [Y/n]": when
apt-get asks, the build fails. `-y` answers yes.

## Example
    RUN apt-get update && apt-get install curl

becomes

    RUN apt-get update && apt-get install -y curl

## Fix
Safe: `-y` only answers the question apt-get would otherwise fail on. It is
inserted right after `install`. Like hadolint, dfix also accepts `--yes`,
`--assume-yes` and `-qq` (which implies `-y`).
"""

from __future__ import annotations

from typing import Iterator

from dfix.rules._api import Context, Diagnostic, Rule
from dfix.rules._runs import missing_option
from dfix.shell.commands import Invocation, hadolint_flags


def is_yes(call: Invocation) -> bool:
    flags = hadolint_flags(call)
    return (
        bool({"y", "yes", "qq", "assume-yes"} & set(flags))
        or flags.count("q") == 2
        or flags.count("quiet") == 2
        or any(word.value == "-q=2" for word in call.arguments)
    )


def check(ctx: Context) -> Iterator[Diagnostic]:
    yield from missing_option(
        ctx,
        programs=frozenset({"apt-get"}),
        subcommands=frozenset({"install"}),
        satisfied=is_yes,
        flag="-y",
        message="`apt-get install` without `-y` waits for an answer",
        opaque=r"(?<![\w-])apt-get\b[^;&|]*\binstall\b",
    )


RULE = Rule("DL3014", "apt-get-yes", "apt-get install without -y", check, __doc__)
