"""`apk add` keeps the package index in the image without `--no-cache`.

## Why
Without `--no-cache`, apk needs `apk update` first and leaves its index in
`/var/cache/apk`, which then has to be removed by hand in the same RUN.
`apk add --no-cache` fetches a fresh index, uses it and keeps nothing.

## Example
    RUN apk update && apk add curl && rm -rf /var/cache/apk/*

becomes

    RUN apk add --no-cache curl

## Fix
Safe: the same packages are installed from a fresh index, and nothing is left
in the cache. `--no-cache` goes right after `add`. Once every `apk add` of the
RUN has it, an `apk update` of that RUN (joined by `&&` or `;`) and the
removal of `/var/cache/apk/*` have nothing left to do and go away; an
`apk update` stays when the RUN also runs other apk commands that read the
index (such as `apk upgrade`). Nothing is reported when a cache mount serves
`/var/cache/apk`; a cache mount on `/etc/apk/cache` (apk's package cache
when it is a directory, as DF111 mounts it) is reported, as hadolint does,
but not fixed.
"""

from __future__ import annotations

from typing import Iterator

from dfix.cst.visit import replace_nodes
from dfix.rules._api import Context, Diagnostic, Fix, Rule
from dfix.rules._run_scripts import RunScript
from dfix.rules._runs import cache_mount_overlaps, opaque_mentions, removable, report
from dfix.shell import edit
from dfix.shell.commands import Invocation, hadolint_flags, invocation
from dfix.shell.nodes import Pipeline, Script, SimpleCommand

MESSAGE = "`apk add` without `--no-cache` keeps the package index in the image"
_APK_CACHE = ("/var/cache/apk/*", "/var/cache/apk", "/var/cache/apk/")
# apk subcommands that read the index apk update fetched
_READS_INDEX = {"upgrade", "search", "info", "fetch", "policy", "dot", "list", "version", "fix", "cache"}


def _add_word(call: Invocation):
    return next((w for w in call.arguments if w.value == "add"), None)


def check(ctx: Context) -> Iterator[Diagnostic]:
    for body in ctx.run_scripts():
        if cache_mount_overlaps(body.run, "/var/cache/apk"):
            continue
        calls = [call for call in body.invocations() if call.name == "apk"]
        adds = [c for c in calls if _add_word(c) is not None and "no-cache" not in hadolint_flags(c)]
        if adds and cache_mount_overlaps(body.run, "/etc/apk/cache"):
            # apk's package cache when it is a directory (DF111 mounts it): hadolint still reports it
            yield ctx.decline(body.run, MESSAGE, "a cache mount serves apk's cache")
        elif adds:
            fix = None if body.in_heredoc else Fix.replace(body.script, _fixed(body, calls, adds), "Add `--no-cache`")
            yield report(ctx, body, body.run, MESSAGE, fix)
        if opaque_mentions(body, r"(?<![\w/-])apk\b[^;&|]*\badd\b"):
            yield ctx.decline(body.run, MESSAGE, "the shell text is opaque to dfix")


def _fixed(body: RunScript, calls: list[Invocation], adds: list[Invocation]) -> Script:
    script = replace_nodes(
        body.script,
        {id(c.command): (edit.insert_word_after(c.command, _add_word(c), "--no-cache"),) for c in adds},
    )
    others = [c for c in calls if _add_word(c) is None and c.subcommand() is not None]
    if not any(c.subcommand().value in _READS_INDEX for c in others):
        script = _drop(script, lambda call: call.name == "apk" and (call.subcommand() or call.program).value == "update")
    return _drop_cache_removal(script)


def _single_call(pipeline: Pipeline) -> Invocation | None:
    if len(pipeline.parts) != 1 or not isinstance(pipeline.parts[0], SimpleCommand):
        return None
    return invocation(pipeline.parts[0])


def _drop(script: Script, matches) -> Script:
    for pipeline in edit.top_level_pipelines(script):
        call = _single_call(pipeline)
        if call is not None and matches(call) and removable(script, pipeline):
            script = edit.remove_pipeline(script, pipeline)
    return script


def _drop_cache_removal(script: Script) -> Script:
    """Remove `rm -rf /var/cache/apk/*`, or that path from a longer `rm`."""
    for pipeline in edit.top_level_pipelines(script):
        call = _single_call(pipeline)
        if call is None or call.name != "rm":
            continue
        paths = [w for w in call.arguments if not (w.value or "-").startswith("-")]
        cache = [w for w in paths if w.value in _APK_CACHE]
        if not cache:
            continue
        if len(cache) == len(paths):
            if removable(script, pipeline):
                script = edit.remove_pipeline(script, pipeline)
        else:
            command = call.command
            kept = tuple(part for part in command.parts if not any(part is w for w in cache))
            script = replace_nodes(script, {id(command): (command.with_changes(parts=kept),)})
    return script


RULE = Rule("DL3019", "apk-no-cache", "apk add without --no-cache", check, __doc__)
