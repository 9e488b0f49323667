"""`wget` fills the build log with its progress bar.

## Why
wget's default progress bar writes a line per redraw when its output is not a
terminal: build logs of thousands of lines for one download.
`--progress=dot:giga` prints a dot per megabyte instead.

## Example
    RUN wget https://example.com/app.tar.gz

becomes

    RUN wget --progress=dot:giga https://example.com/app.tar.gz

## Fix
Safe: only what wget prints changes. The option goes right after `wget`.
BusyBox's wget (Alpine and BusyBox images, unless the stage installs GNU
wget) has no `--progress`; there dfix adds `-q` instead, which both accept.
`-q`, `-nv`, `-o` and `-a` already quiet wget and are left as they are.
"""

from __future__ import annotations

from typing import Iterator

from dfix.cst import nodes as n
from dfix.images import ALPINE, BUSYBOX, UNKNOWN
from dfix.rules._api import Context, Diagnostic, Rule
from dfix.rules._images import family
from dfix.rules._run_scripts import RunScript
from dfix.rules._runs import insert_flag, opaque_mentions, report
from dfix.shell.commands import Invocation, hadolint_flags, invocations

MESSAGE = "`wget` without `--progress` fills the build log with its progress bar"
_QUIET = {"progress", "q", "quiet", "o", "output-file", "a", "append-output", "no-verbose"}


def _quiet(call: Invocation) -> bool:
    return bool(_QUIET & set(hadolint_flags(call))) or any(w.value == "-nv" for w in call.arguments)


def _busybox_wget(ctx: Context, body: RunScript) -> bool:
    """Whether `wget` may be BusyBox's: on Alpine or BusyBox, or an image of
    unknown family, unless the stage installed GNU wget before."""
    kind = family(ctx.tree, body.stage)
    if kind not in (ALPINE, BUSYBOX, UNKNOWN):
        return False
    for instruction in body.stage.instructions:
        run = getattr(instruction, "body", None)
        if isinstance(run, n.ShellForm):
            for call in invocations(run.script):
                if call.name in ("apk", "apt-get", "yum", "dnf") and any(w.value == "wget" for w in call.arguments):
                    return False
        if instruction is body.instruction:
            break
    return True


def check(ctx: Context) -> Iterator[Diagnostic]:
    for body in ctx.run_scripts():
        flag = "-q" if _busybox_wget(ctx, body) else "--progress=dot:giga"
        for call in body.invocations():
            if call.name != "wget" or _quiet(call):
                continue
            fix = insert_flag(call.command, call.program, flag, f"Add `{flag}`")
            yield report(ctx, body, call.command, MESSAGE, fix)
        if opaque_mentions(body, r"(?<![\w/-])wget\b"):
            yield ctx.decline(body.run, MESSAGE, "the shell text is opaque to dfix")


RULE = Rule("DL3047", "wget-progress", "wget without --progress", check, __doc__)
