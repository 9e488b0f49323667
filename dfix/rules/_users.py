"""The unprivileged user dfix gives an image that would run as root: DL3002
adds it to the final stage, DF100 to the runtime stage it writes; and the
user a RUN runs as (DF111 mounts caches where root keeps them).

One name and one UID for both, so that a file fixed by either runs as the
same user; the UID is well above those base images create (system users
below 1000, a first regular user at 1000), so it is no one else's.
"""

from __future__ import annotations

from dataclasses import dataclass

import re
from typing import Sequence

from dfix.cst import nodes as n
from dfix.images import ALPINE, BUSYBOX, DEBIAN, RHEL, SUSE
from dfix.rules._stages import Stage, ancestry, shell_at
from dfix.shell.commands import POSIX_SHELLS, invocations

UID = "10001"
NAME = "app"
# What USER says, and what chown gives: numeric, so that Kubernetes'
# runAsNonRoot can check it.
UID_GID = f"{UID}:{UID}"
# Not a family: the user and group written straight into /etc/passwd and
# /etc/group, which every Linux reads, with no tool and no package.
PASSWD = "passwd"


@dataclass(frozen=True)
class CreateUser:
    """Create the system user and group ``app`` (UID and GID 10001), with no
    home and no login shell, the way the image's family does."""

    #: dfix.images' DEBIAN, RHEL, ALPINE or BUSYBOX, or PASSWD
    family: str

    def commands(self) -> list[str]:
        """The shell commands, to be joined by ``&&``."""
        if self.family == PASSWD:
            # Any POSIX shell can do this. No guard against an existing `app`
            # or 10001: the USER is numeric and a lookup by UID finds this
            # line, while a duplicate name or UID breaks nothing (useradd
            # would fail on it). No /etc/shadow entry: only a login or `su`
            # reads it, and the user has neither a password nor a shell.
            return [
                f"echo '{NAME}:x:{UID}:{UID}::/nonexistent:/sbin/nologin' >> /etc/passwd",
                f"echo '{NAME}:x:{UID}:' >> /etc/group",
            ]
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


# What only a Windows image runs or names: cmd's and PowerShell's programs,
# `.exe` files, drive letters. A shell-form RUN is no sign of a POSIX shell
# then (Windows runs it with cmd).
_WINDOWS_PROGRAMS = frozenset((
    "powershell", "pwsh", "cmd", "msiexec", "setx", "icacls", "dism", "choco", "reg", "robocopy", "xcopy",
    "certutil", "net", "sc", "del", "copy", "move", "ren", "rd", "dir", "nuget",
))
_WINDOWS_TEXT = re.compile(r"(^|[\s\"'=;(])[A-Za-z]:[\\/]|\.exe\b|\.ps1\b", re.IGNORECASE)


def create_user(kind: str, image: str, tree: n.Dockerfile, chain: Sequence[Stage]) -> CreateUser | None:
    """How to create dfix's user on the final stage of ``chain`` (its first
    stage), built on ``image`` of family ``kind``; None when there is no way
    known to work (no POSIX shell shown on an image of unknown family)."""
    if kind in (DEBIAN, ALPINE, BUSYBOX):
        return CreateUser(kind)
    if kind == RHEL and not re.search(r"minimal|-micro|slim|amazonlinux|amzn|photon|mariner|azurelinux", image):
        return CreateUser(RHEL)
    # RHEL-like images without useradd (installing shadow-utils would add a
    # package and hadolint's version-pin findings), SUSE (whose micro images
    # may lack a shell), and families dfix does not know once a RUN showed
    # a POSIX shell: the passwd files
    if kind == RHEL or (kind == SUSE and "micro" not in image) or shows_posix_shell(tree, chain):
        return CreateUser(PASSWD)
    return None


def shows_posix_shell(tree: n.Dockerfile, chain: Sequence[Stage]) -> bool:
    """Whether a shell-form RUN of ``chain`` ran in a POSIX shell (the
    default ``/bin/sh -c``, or a SHELL naming one), and nothing in the
    stages is a sign of Windows."""
    if tree.escape == "`":
        return False  # the escape character of Windows Dockerfiles
    shown = False
    for stage in chain:
        for instruction in stage.instructions:
            if _WINDOWS_TEXT.search(instruction.code):
                return False
            if not isinstance(instruction, n.Run) or not isinstance(instruction.body, n.ShellForm):
                continue
            script = instruction.body.script
            calls = list(invocations(script)) if script is not None else []
            if any(call.name.lower() in _WINDOWS_PROGRAMS for call in calls):
                return False
            shell = shell_at(tree, stage, instruction)
            shown = shown or (shell[-1:] == ["-c"] and shell[0].rsplit("/", 1)[-1] in POSIX_SHELLS)
    return shown


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
