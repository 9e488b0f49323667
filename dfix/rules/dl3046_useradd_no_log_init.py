"""`useradd` with a high UID and without `-l` makes a huge image.

## Why
useradd records each user in `/var/log/lastlog` and `faillog`, sparse files
indexed by UID. Docker layers do not keep files sparse, so a UID such as
123456789 writes gigabytes of zeros into the layer. `-l` (`--no-log-init`)
skips those files.

## Example
    RUN useradd -u 123456789 app

becomes

    RUN useradd -l -u 123456789 app

## Fix
Safe: the user is the same; only the login records are not created. `-l`
goes right after `useradd`. Like hadolint, dfix looks at UIDs given as a
separate word after `-u` that are longer than five characters (or are
variables).
"""

from __future__ import annotations

import re
from typing import Iterator

from dfix.rules._api import Context, Diagnostic, Rule
from dfix.rules._runs import missing_option
from dfix.shell.commands import Invocation, hadolint_flags


def _short_of_harm(call: Invocation) -> bool:
    """True when there is nothing to fix: `-l` is there, or no long UID."""
    flags = hadolint_flags(call)
    if "l" in flags or "no-log-init" in flags or not ({"u", "uid"} & set(flags)):
        return True
    words = call.arguments
    for index, word in enumerate(words[:-1]):
        value = word.value or ""
        if value.startswith("-") and not value.startswith("--") and "u" in value[1:]:
            following = words[index + 1]
            if len(_as_hadolint_reads(following)) > 5:
                return False
    return True


def _as_hadolint_reads(word) -> str:
    """The word with quotes removed and each variable written ``${NAME}``,
    as hadolint measures a UID: ``"$uid"`` is six characters long."""
    if word.value is not None:
        return word.value
    text = re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", r"${\1}", word.text)
    return text.replace('"', "").replace("'", "")


def check(ctx: Context) -> Iterator[Diagnostic]:
    yield from missing_option(
        ctx,
        programs=frozenset({"useradd"}),
        subcommands=frozenset(),
        satisfied=_short_of_harm,
        flag="-l",
        message="`useradd` with a high UID and without `-l` writes a huge /var/log/lastlog into the image",
        after_program=True,
        opaque=r"(?<![\w/-])useradd\b[^;&|]*-\w*u\s",
    )


RULE = Rule("DL3046", "useradd-no-log-init", "useradd with a high UID without -l", check, __doc__)
