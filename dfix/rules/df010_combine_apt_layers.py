"""Package installs split over several RUN instructions.

## Why
`RUN apt-get update` on its own is cached by the builder: when a later
`RUN apt-get install ...` changes, it runs against package lists of whenever
that first layer was built, and fails on packages that moved or installs
stale ones. The update and the install belong in one RUN. The same goes for
consecutive RUNs that only install packages with the same package manager:
one RUN is one layer and one cache entry instead of several.

## Example
    RUN apt-get update
    RUN apt-get install -y curl

becomes

    RUN apt-get update && apt-get install -y curl

## Fix
Safe: the commands run in the same order, and the second only runs if the
first succeeded, as before. The joined RUN keeps the first one's flags and
layout (one line when it fits the file's longest line, else a continuation
line in the file's style), and the comments between the two RUNs.
dfix reports without fixing when joining could change the meaning: the
RUNs' flags differ (`--mount`, `--network`), one has a heredoc or is in exec
form, the first leaves shell state the second would inherit (`cd`, `export`,
`set`, `source`, `.`, `umask`, `trap`, a variable), or another instruction
stands between them.
"""

from __future__ import annotations

from typing import Iterator

from dfix.cst import nodes as n
from dfix.rules._api import Applicability, Context, Diagnostic, Rule
from dfix.rules._merge import between, blocker, merge_fix
from dfix.rules._packages import is_apt_install, is_apt_update
from dfix.rules._run_scripts import heredoc_script
from dfix.shell.commands import invocations

# The programs of each package manager, and what counts as installing with it.
_FAMILIES = {
    "apt": ({"apt-get", "apt", "aptitude", "dpkg", "apt-cache"}, {"install", "build-dep", "upgrade", "dist-upgrade"}),
    "apk": ({"apk"}, {"add"}),
    "yum": ({"yum", "rpm"}, {"install", "groupinstall", "localinstall"}),
    "dnf": ({"dnf", "microdnf", "rpm"}, {"install", "groupinstall", "localinstall"}),
    "zypper": ({"zypper", "rpm"}, {"install", "in"}),
}


def _calls(run: n.Run) -> list:
    """What a RUN runs: its shell text, or the heredoc it runs as a script."""
    if not isinstance(run.body, n.ShellForm):
        return []
    return list(invocations(heredoc_script(run, run.body.script) or run.body.script))


def _only_updates(run: n.Run) -> bool:
    calls = _calls(run)
    return bool(calls) and all(is_apt_update(call) and not is_apt_install(call) for call in calls)


def _family(run: n.Run) -> str | None:
    """The package manager a RUN only installs with (rm aside), if any."""
    calls = [call for call in _calls(run) if call.name != "rm"]
    for name, (programs, installs) in _FAMILIES.items():
        if calls and all(call.name in programs for call in calls) and any(
            any(word.value in installs for word in call.arguments) for call in calls
        ):
            return name
    return None


def check(ctx: Context) -> Iterator[Diagnostic]:
    for stage in ctx.stages:
        runs = [i for i in stage.instructions if isinstance(i, n.Run)]
        for first, second in zip(runs, runs[1:]):
            if _only_updates(first) and any(is_apt_install(c) for c in _calls(second)):
                message = "`apt-get update` is in a RUN of its own; join it with the install that needs it"
            elif _family(first) is not None and _family(first) == _family(second):
                message = f"Consecutive RUN instructions only install packages with {_family(first)}; join them"
            else:
                continue
            lines = between(ctx.tree, first, second)
            if lines is None:
                yield ctx.decline(second, message, "another instruction stands between them")
                continue
            reason = blocker(first, second)
            if reason:
                yield ctx.decline(second, message, reason)
                continue
            fix = merge_fix(ctx, first, second, lines, "Join the RUN instructions", Applicability.SAFE)
            yield ctx.report(second, message, fix)

RULE = Rule("DF010", "combine-apt-layers", "Package installs split over RUN instructions", check, __doc__)
