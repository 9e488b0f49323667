"""`apt-get install` of packages without a version: builds drift.

## Why
`apt-get install curl` installs whatever version the mirror has on the day
of the build. Two builds of the same Dockerfile can differ, and an update
can break the image without any change to the Dockerfile. `curl=7.88.1-10`
pins it, so that a change of version is a change of the Dockerfile.

## Example
    RUN apt-get install -y --no-install-recommends curl

should pin the version:

    RUN apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u5

## Fix
None: dfix does not know which versions the build was tested with (look
them up with `apt-cache policy <package>` in the base image). Pinning also
has a cost: a pinned version disappears from the mirror when Debian or
Ubuntu publish a security update, and the build fails until the pin is
raised. Many projects ignore this rule for that reason.

What counts as pinned is what hadolint accepts: a `=` (`curl=7.88*`), a
release (`curl/bookworm-backports`), or a `.deb` file. The word after
`-t`/`--target-release` is the release, not a package. Like the other
package rules, dfix also sees `apt-get` behind `sudo` and `env`.
"""

from __future__ import annotations

from typing import Iterator

from dfix.rules._api import Context, Diagnostic, FixAvailability, Rule
from dfix.rules._hadolint import unpinned

_RELEASE_FLAGS = frozenset(("t", "target-release"))


def _pinned(package: str) -> bool:
    return "=" in package or "/" in package or package.endswith(".deb")


def check(ctx: Context) -> Iterator[Diagnostic]:
    for _, node, loose in unpinned(ctx.tree, "apt-get", "install", _RELEASE_FLAGS, _pinned):
        names = ", ".join(f"`{name}`" for name in loose)
        yield ctx.report(
            node, f"Pin the versions of the packages `apt-get install` installs ({names}): `<package>=<version>`"
        )


RULE = Rule("DL3008", "pin-apt-versions", "apt-get install without pinned versions", check, __doc__, fix=FixAvailability.NONE)
