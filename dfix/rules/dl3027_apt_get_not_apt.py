"""`apt` is meant for people at a terminal; scripts use `apt-get`.

## Why
`apt` warns that its command-line interface is not stable, and its output and
defaults are made for interactive use. `apt-get` and `apt-cache` are the
stable interfaces for scripts and builds.

## Example
    RUN apt update && apt install -y curl

becomes

    RUN apt-get update && apt-get install -y curl

## Fix
Unsafe: `apt` and `apt-get` differ in some defaults and messages. `apt install`,
`update`, `upgrade` and the like become `apt-get ...`; `apt full-upgrade`
becomes `apt-get dist-upgrade`; `apt search`, `show`, `policy`, `depends`
and `rdepends` become `apt-cache ...`. `apt list`, `apt edit-sources` and
a bare `apt` have no equivalent and are only reported.
"""

from __future__ import annotations

from typing import Iterator

from dfix.cst.visit import replace_nodes
from dfix.rules._api import Applicability, Context, Diagnostic, Fix, FixAvailability, Rule
from dfix.rules._runs import opaque_mentions, report
from dfix.shell import edit

MESSAGE = "`apt` is meant for terminals; use `apt-get` (or `apt-cache`) in a Dockerfile"
_APT_GET = {"install", "update", "upgrade", "remove", "purge", "autoremove", "dist-upgrade", "clean",
            "autoclean", "source", "build-dep", "download", "changelog", "check", "satisfy"}
_APT_CACHE = {"search", "show", "policy", "depends", "rdepends", "showsrc", "showpkg"}


def check(ctx: Context) -> Iterator[Diagnostic]:
    for body in ctx.run_scripts():
        for call in body.invocations():
            if call.name != "apt":
                continue
            sub = call.subcommand(("-o", "-c", "-t"))
            word = sub.value if sub is not None else None
            program = "apt-get" if word in _APT_GET or word == "full-upgrade" else "apt-cache" if word in _APT_CACHE else None
            if program is None:
                node = body.run if body.in_heredoc else call.command
                yield ctx.decline(node, MESSAGE, f"`apt {word or ''}` has no apt-get equivalent".replace("  ", " "))
                continue
            command = edit.replace_word(call.command, call.program, _keep_path(call.program.value, program))
            if word == "full-upgrade":
                command = replace_nodes(command, {id(sub): (sub.with_changes(parts=("dist-upgrade",)),)})
            fix = Fix.replace(call.command, command, f"Use `{program}`", Applicability.UNSAFE)
            yield report(ctx, body, call.command, MESSAGE, fix)
        if opaque_mentions(body, r"(?<![\w/-])apt\s"):
            yield ctx.decline(body.run, MESSAGE, "the shell text is opaque to dfix")


def _keep_path(written: str, program: str) -> str:
    """`/usr/bin/apt` becomes `/usr/bin/apt-get`."""
    return written[: len(written) - len("apt")] + program


RULE = Rule("DL3027", "apt-get-not-apt", "apt instead of apt-get", check, __doc__, fix=FixAvailability.UNSAFE)
