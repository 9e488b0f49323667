"""RUN uses `sudo`.

## Why
RUN already runs as root unless a `USER` says otherwise, so `sudo` is not
needed to get root; and where a `USER` dropped root, `sudo` only works if
the image keeps it installed and configured, which undoes the point of
dropping root. `sudo` also changes the environment the command sees (it
resets `PATH` and other variables), and it does not pass signals or a TTY
the way a container expects.

## Example
    USER app
    RUN sudo apt-get install -y curl

should run the root part as root and switch user after it:

    RUN apt-get install -y curl
    USER app

To drop privileges when the container starts, use `gosu` or `su-exec` in the
entrypoint.

## Fix
None: removing `sudo` or moving a `USER` changes who runs the command and
what it sees, which dfix cannot judge. Like hadolint, dfix reports a command
run as `sudo` (also after `VAR=x`, `exec`, `command`, `time`, and inside
`$( )`), in shell-form, exec-form, heredoc and ONBUILD RUNs; unlike
hadolint, also as `/usr/bin/sudo` and behind `env`.
"""

from __future__ import annotations

import posixpath
from typing import Iterator

from dfix.rules._api import Context, Diagnostic, FixAvailability, Rule
from dfix.rules._hadolint import all_commands, command_name
from dfix.shell.nodes import SimpleCommand

MESSAGE = "Do not use `sudo` in RUN: it runs as root already unless a USER says otherwise; use `gosu` to drop root"


def _runs_sudo(command: SimpleCommand) -> bool:
    words = list(command.words)
    # `env [-i] [VAR=x ...] sudo`: env runs what follows its assignments
    while words and posixpath.basename(words[0].value or "") == "env":
        words = [w for w in words[1:] if not (w.value or "").startswith("-")]
        while words and words[0].is_assignment:
            words = words[1:]
    name = command_name(SimpleCommand(tuple(words))) if words else None
    return posixpath.basename(name or "") == "sudo"


def check(ctx: Context) -> Iterator[Diagnostic]:
    for body in ctx.run_scripts(exec_form=True):
        for command, anchor in all_commands(body.script):
            if _runs_sudo(command):
                yield ctx.report(body.anchor(anchor), MESSAGE)


RULE = Rule("DL3004", "no-sudo", "RUN with sudo", check, __doc__, fix=FixAvailability.NONE)
