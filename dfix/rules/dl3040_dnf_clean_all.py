"""`dnf install` leaves its cache in the image without `dnf clean all`.

## Why
dnf (and microdnf) keep packages and metadata in `/var/cache`; unless the
same RUN cleans them, they stay in the layer.

## Example
    RUN dnf install -y nginx

becomes

    RUN dnf install -y nginx && dnf clean all

## Fix
Safe: later dnf commands fetch the metadata again. `dnf clean all` (or
`microdnf clean all`) is appended after the last install of the RUN by the
same program, in the RUN's layout. `install`, `in`, `reinstall`, `upgrade`
and `up` count as installs; `clean` or an `rm -rf` after them counts as
cleaning. Nothing is reported when a cache mount serves dnf's cache.
"""

from __future__ import annotations

from typing import Iterator

from dfix.rules._api import Context, Diagnostic, Rule
from dfix.rules._runs import missing_cleanup, mounted
from dfix.shell.commands import Invocation, has_argument

_INSTALLS = ("install", "in", "reinstall", "rei", "upgrade", "up", "upgrade-minimal")


def _rule_for(program: str):
    def installs(call: Invocation) -> bool:
        return call.name == program and has_argument(call, *_INSTALLS)

    def cleans(call: Invocation) -> bool:
        return (call.name == program and has_argument(call, "clean", "all")) or (
            call.name == "rm" and has_argument(call, "-rf")
        )

    return installs, cleans


def check(ctx: Context) -> Iterator[Diagnostic]:
    for program in ("dnf", "microdnf"):
        installs, cleans = _rule_for(program)
        yield from missing_cleanup(
            ctx, installs=installs, cleans=cleans, command=f"{program} clean all",
            message=f"`{program} clean all` is missing after `{program} install`",
            exempt=mounted("/var/cache/libdnf5"),
            decline=lambda body: "a cache mount serves dnf's cache" if mounted("/var/cache/dnf", "/var/cache/yum")(body) else None,
            opaque=rf"(?<![\w/-]){program}\b[^;&|]*\b(install|in|reinstall|upgrade|up)\b",
        )


RULE = Rule("DL3040", "dnf-clean-all", "dnf install without dnf clean all", check, __doc__)
