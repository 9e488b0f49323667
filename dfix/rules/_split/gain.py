"""Whether a split gains anything: a finding must promise a smaller runtime.

Go, Rust and Java always gain (the SDK image gives way to a runtime image).
Python and Node gain when the build image is a full one (its slim variant
is hundreds of MB smaller), when a compiler or `-dev` package stays
installed, or (Node) when dev dependencies are installed that a prune
drops. A slim or Alpine Python image whose build installs no toolchain (or
removes it in the same layer) would be split into the same base with the
same files: no finding at all."""

from __future__ import annotations

from dfix.cst import nodes as n
from dfix.rules._packages import operands
from dfix.rules._runtime_libs import is_toolchain
from dfix.rules._split.commands import command_name, script_of
from dfix.rules._stages import Stage
from dfix.shell.nodes import SimpleCommand, Word

_REMOVES = {"del", "remove", "purge", "autoremove"}
# npm/yarn/pnpm options that install no dev dependencies
_PRODUCTION = {"--production", "--prod", "--omit=dev", "--only=production", "--only=prod", "-g", "--global"}


def gains(stage: Stage, ecosystem: str, image: str) -> bool:
    if ecosystem not in ("python", "node"):
        return True
    tag = image.partition(":")[2]
    if "slim" not in tag and "alpine" not in tag:
        return True  # the full image: its slim variant is the gain
    if toolchain_left(stage):
        return True
    return ecosystem == "node" and _installs_dev_dependencies(stage)


def _word(word: Word) -> str:
    return word.value if word.value is not None else word.text


def toolchain_left(stage: Stage) -> list[str]:
    """The compilers and `-dev` packages the stage's RUNs install and do not
    remove again (`apk del .build-deps`, `apt-get purge gcc`)."""
    installed: dict[str, str | None] = {}  # package -> its apk --virtual group
    for run in (i for i in stage.instructions if isinstance(i, n.Run)):
        script = script_of(run)
        if script is None or script.is_opaque:
            continue
        for command in script.commands():
            name = command_name(command)
            if name not in ("apt-get", "apt", "apk"):
                continue
            words = [_word(w) for w in command.arguments]
            # the package manager's own reading: option values (`-t RELEASE`,
            # `--virtual GROUP`) are not packages
            plain = operands(name, words)
            if not plain:
                continue
            if plain[0] in ("install", "add"):
                group = _virtual_group(words)
                for package in plain[1:]:
                    installed[package.split("=")[0]] = group
            elif plain[0] in _REMOVES:
                for target in plain[1:]:
                    for package, group in list(installed.items()):
                        if target in (package, group):
                            del installed[package]
    return [package for package in installed if is_toolchain(package) or package.startswith("$")]


def _virtual_group(words: list[str]) -> str | None:
    for index, word in enumerate(words):
        if word in ("--virtual", "-t") and index + 1 < len(words):
            return words[index + 1]
        if word.startswith("--virtual="):
            return word.partition("=")[2]
    return None


def _installs_dev_dependencies(stage: Stage) -> bool:
    for run in (i for i in stage.instructions if isinstance(i, n.Run)):
        script = script_of(run)
        if script is None or script.is_opaque:
            return True  # dfix cannot tell: say there is a gain, and the planner decides
        for command in script.commands():
            if _dev_install(command):
                return True
    return False


def _dev_install(command: SimpleCommand) -> bool:
    name = command_name(command)
    words = [_word(w) for w in command.arguments]
    if name == "npm" and words[:1] and words[0] in ("install", "i", "ci", "add"):
        return not _PRODUCTION & set(words)
    if name in ("yarn", "pnpm") and (not words or words[0] in ("install", "add")):
        return not _PRODUCTION & set(words)
    return False
