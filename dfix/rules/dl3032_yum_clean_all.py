"""`yum install` leaves its cache in the image without `yum clean all`.

## Why
yum keeps downloaded packages and metadata in `/var/cache/yum`; unless the same
RUN cleans them, they stay in the layer.

## Example
    RUN yum install -y httpd

becomes

    RUN yum install -y httpd && yum clean all

## Fix
Safe: later yum commands fetch the metadata again when they need it.
`yum clean all` is appended after the last `yum install` of the RUN, in the
RUN's layout. A `yum clean ...` or an `rm -rf` after the install counts.
When a cache mount serves yum's cache (`/var/cache/yum`, or `/var/cache/dnf`
where yum is dnf), the cache is not in the image and `yum clean all` would
only empty the mount: reported, as hadolint does, but not fixed.
"""

from __future__ import annotations

from typing import Iterator

from dfix.rules._api import Context, Diagnostic, Rule
from dfix.rules._run_scripts import RunScript
from dfix.rules._runs import cache_mount_overlaps, missing_cleanup
from dfix.shell.commands import Invocation, has_argument

MESSAGE = "`yum clean all` is missing after `yum install`"


def _installs(call: Invocation) -> bool:
    return call.name == "yum" and has_argument(call, "install", "groupinstall", "localinstall")


def _cleans(call: Invocation) -> bool:
    return (call.name == "yum" and has_argument(call, "clean")) or (
        call.name == "rm" and has_argument(call, "-rf", "/var/cache/yum/*")
    )


def _mounted(body: RunScript) -> str | None:
    """Why not to fix: a cache mount serves yum's cache (DF111 adds one)."""
    if any(cache_mount_overlaps(body.run, path) for path in ("/var/cache/yum", "/var/cache/dnf")):
        return "a cache mount serves yum's cache"
    return None


def check(ctx: Context) -> Iterator[Diagnostic]:
    yield from missing_cleanup(
        ctx, installs=_installs, cleans=_cleans, command="yum clean all", message=MESSAGE,
        opaque=r"(?<![\w/-])yum\b[^;&|]*\binstall\b", decline=_mounted,
    )


RULE = Rule("DL3032", "yum-clean-all", "yum install without yum clean all", check, __doc__)
