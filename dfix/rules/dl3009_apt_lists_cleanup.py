"""The RUN that runs `apt-get update` leaves the apt lists in the image.

## Why
`apt-get update` downloads package lists into `/var/lib/apt/lists`, tens of
megabytes that stay in the layer unless the same RUN removes them: a later
`rm` cannot shrink an earlier layer.

## Example
    RUN apt-get update && apt-get install -y curl

becomes

    RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*

## Fix
`rm -rf /var/lib/apt/lists/*` is appended to the RUN, in its own layout.
Safe, unless a later RUN of the stage installs with apt without running
`apt-get update` itself: it would find no lists, so then the fix is unsafe.
Like hadolint, dfix looks at stages that reach the final image (and ONBUILD);
nothing is reported when cache or tmpfs mounts serve the apt lists, or after
`apt-get dist-clean` (apt 2.7 and later), which removes them.
"""

from __future__ import annotations

from typing import Iterator

from dfix.cst import nodes as n
from dfix.cst.memo import kept_on
from dfix.rules._api import Applicability, Context, Diagnostic, FixAvailability, Rule
from dfix.rules._packages import is_apt_install, is_apt_update
from dfix.rules._run_scripts import RunScript
from dfix.rules._runs import missing_cleanup, mount_targets
from dfix.shell.commands import Invocation, has_argument, invocations

MESSAGE = "The RUN that runs `apt-get update` does not remove /var/lib/apt/lists/*"


def _cleans(call: Invocation) -> bool:
    """`rm -rf /var/lib/apt/lists/*` (or any `rm -rf`, as hadolint reads it),
    or `apt-get dist-clean`, which removes the lists since apt 2.7."""
    if call.name in ("apt-get", "apt") and has_argument(call, "dist-clean"):
        return True
    return call.name == "rm" and has_argument(call, "-rf", "/var/lib/apt/lists/*")


def _exempt(body: RunScript) -> bool:
    targets = mount_targets(body.run)
    return any(t.startswith("/var/lib/apt/lists") for t in targets) or (
        any(t.startswith("/var/lib/apt") for t in targets) and any(t.startswith("/var/cache/apt") for t in targets)
    )


def _applicability(body: RunScript) -> Applicability:
    """Unsafe when a later RUN of the stage installs with apt without its own update."""
    # one pass over the stage, kept on it
    unsafe_after = kept_on(body.stage, "_dl3009_unsafe_after", lambda: _unsafe_after(body.stage))
    return Applicability.UNSAFE if unsafe_after.get(id(body.instruction), False) else Applicability.SAFE


def _unsafe_after(stage) -> dict[int, bool]:
    """For each instruction of the stage, whether a later RUN installs with
    apt without its own update."""
    found: dict[int, bool] = {}
    later = False
    for instruction in reversed(stage.instructions):
        found[id(instruction)] = later
        if isinstance(instruction, n.Run) and isinstance(instruction.body, n.ShellForm):
            calls = list(invocations(instruction.body.script))
            if any(is_apt_install(c) for c in calls) and not any(is_apt_update(c) for c in calls):
                later = True
    return found


def check(ctx: Context) -> Iterator[Diagnostic]:
    yield from missing_cleanup(
        ctx,
        installs=is_apt_update,
        cleans=_cleans,
        command="rm -rf /var/lib/apt/lists/*",
        message=MESSAGE,
        exempt=_exempt,
        final_image_only=True,
        opaque=r"(?<![\w/-])(apt-get|apt|aptitude)\b[^;&|]*\bupdate\b",
        at_end=True,
        applicability=_applicability,
    )


RULE = Rule("DL3009", "apt-lists-cleanup", "apt-get update without removing the lists", check, __doc__, fix=FixAvailability.SOMETIMES)
