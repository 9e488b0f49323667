"""What the package-manager rules know of package managers: which commands
update an index, install, and answer yes, as hadolint reads them."""

from __future__ import annotations

from dfix.shell.commands import Invocation, has_argument, hadolint_flags

#: apt's front ends
APT = ("apt-get", "apt", "aptitude")
#: yum's and dnf's install subcommands
YUM_INSTALLS = frozenset({"install", "groupinstall", "localinstall"})
#: the options whose value is the next word (named as hadolint names flags:
#: no dashes), so that the value is not read as a package: `apk add
#: --virtual .build-deps gcc` installs gcc, not ".build-deps". (DL3018 keeps
#: hadolint's own shorter list for apk, to report what hadolint reports.)
OPTIONS_WITH_VALUES = {
    "apk": frozenset(("t", "virtual", "repository", "X", "p", "root", "repositories-file", "cache-dir", "arch",
                      "keys-dir")),
    "apt-get": frozenset(("o", "option", "t", "target-release", "default-release", "c", "config-file")),
}
OPTIONS_WITH_VALUES["apt"] = OPTIONS_WITH_VALUES["apt-get"]


def operands(manager: str, arguments: list[str]) -> list[str]:
    """The words of a package manager's command line that are not options
    nor their values: the subcommand, then the packages."""
    takes_value = OPTIONS_WITH_VALUES.get(manager, frozenset())
    found: list[str] = []
    skip = False
    for word in arguments:
        if skip:
            skip = False
        elif word == "--":
            continue
        elif word.startswith("-") and word != "-":
            name = word.lstrip("-")
            # a value of its own (`--virtual=x`, `-tx`) or the next word's
            skip = "=" not in name and name in takes_value
        else:
            found.append(word)
    return found


def is_apt_update(call: Invocation) -> bool:
    return call.name in APT and has_argument(call, "update")


def is_apt_install(call: Invocation) -> bool:
    """An apt command that downloads packages (and so needs fresh lists)."""
    return call.name in APT and has_argument(call, "install", "build-dep", "upgrade", "dist-upgrade", "full-upgrade")


def answers_yes(call: Invocation) -> bool:
    """yum or dnf told to answer yes (`-y`, `--assumeyes`)."""
    return bool({"y", "assumeyes"} & set(hadolint_flags(call)))
