"""The unprivileged user dfix gives an image that would run as root: DL3002
adds it to the final stage, DF100 to the runtime stage it writes; and the
user a RUN runs as (DF111 mounts caches where root keeps them).

One name and one UID for both, so that a file fixed by either runs as the
same user; the UID is well above those base images create (system users
below 1000, a first regular user at 1000), so it is no one else's.
"""

from __future__ import annotations

from dataclasses import dataclass

from dfix.cst import nodes as n
from dfix.images import ALPINE, BUSYBOX, DEBIAN
from dfix.rules._stages import Stage, ancestry

UID = "10001"
NAME = "app"
# What USER says, and what chown gives: numeric, so that Kubernetes'
# runAsNonRoot can check it.
UID_GID = f"{UID}:{UID}"


@dataclass(frozen=True)
class CreateUser:
    """Create the system user and group ``app`` (UID and GID 10001), with no
    home and no login shell, the way the image's family does."""

    #: dfix.images' DEBIAN, RHEL, ALPINE or BUSYBOX
    family: str

    def commands(self) -> list[str]:
        """The shell commands, to be joined by ``&&``."""
        if self.family in (ALPINE, BUSYBOX):
            # BusyBox has no /sbin/nologin
            shell = "/sbin/nologin" if self.family == ALPINE else "/bin/false"
            return [
                f"addgroup -S -g {UID} {NAME}",
                f"adduser -S -D -H -u {UID} -G {NAME} -h /nonexistent -s {shell} {NAME}",
            ]
        shell = "/usr/sbin/nologin" if self.family == DEBIAN else "/sbin/nologin"
        return [
            f"groupadd --system --gid {UID} {NAME}",
            f"useradd --system --uid {UID} --gid {NAME} --no-log-init --home-dir /nonexistent --shell {shell} {NAME}",
        ]


def user_at(tree: n.Dockerfile, stage: Stage, instruction: n.Instruction) -> str | None:
    """The USER in effect at ``instruction``: the last one before it in its
    stage, or in the stages it is built FROM; None when no USER of the file
    sets one (the base image's user, most often root)."""
    for index, each in enumerate(ancestry(tree, stage)):
        found = None
        for candidate in each.instructions:
            if index == 0 and candidate is instruction:
                break
            if isinstance(candidate, n.User):
                found = candidate
        if found is not None:
            return found.value.value.strip() if found.value is not None else ""
    return None


def is_root(user: str) -> bool:
    """``root`` or ``0``, with or without a group."""
    return user.partition(":")[0] in ("root", "0")
