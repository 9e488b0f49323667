"""What the package-manager rules know of package managers: which commands
update an index, install, and answer yes, as hadolint reads them."""

from __future__ import annotations

from dfix.shell.commands import Invocation, has_argument, hadolint_flags

#: apt's front ends
APT = ("apt-get", "apt", "aptitude")
#: yum's and dnf's install subcommands
YUM_INSTALLS = frozenset({"install", "groupinstall", "localinstall"})


def is_apt_update(call: Invocation) -> bool:
    return call.name in APT and has_argument(call, "update")


def is_apt_install(call: Invocation) -> bool:
    """An apt command that downloads packages (and so needs fresh lists)."""
    return call.name in APT and has_argument(call, "install", "build-dep", "upgrade", "dist-upgrade", "full-upgrade")


def answers_yes(call: Invocation) -> bool:
    """yum or dnf told to answer yes (`-y`, `--assumeyes`)."""
    return bool({"y", "assumeyes"} & set(hadolint_flags(call)))
