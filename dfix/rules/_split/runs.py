"""What a build stage's RUNs do, for DF100: the system packages they
install, and what keeps a split from keeping their effect."""

from __future__ import annotations

import re

from dfix.cst import nodes as n
from dfix.rules._packages import operands
from dfix.rules._split.commands import command_name, is_python_m_pip, script_of
from dfix.rules._split.plan import Blocked
from dfix.rules._workdir import after_workdir
from dfix.shell.nodes import SimpleCommand

BUILD_TOOLS = {
    "go": {"go"},
    "node": {"npm", "yarn", "pnpm", "npx"},
    "python": {"pip", "pip3"},
    "java": {"mvn", "mvnw", "gradle", "gradlew"},
    "rust": {"cargo"},
}
# Commands any build may run: they change nothing the runtime needs.
_HARMLESS = {"cd", "mkdir", "true", "set", "echo", "rm"}
_PACKAGE_MANAGERS = {"apt-get", "apt", "apk"}
# Downloads and unpacking: build inputs, where only an artifact reaches the runtime.
_DOWNLOADS = {"curl", "wget", "git", "unzip", "tar"}
ARTIFACT_ONLY = ("go", "rust", "java")
_GIT_OPTIONS_WITH_VALUES = {"--branch", "-b", "--depth", "--origin", "-o", "--config", "-c", "--reference", "--jobs", "-j",
                            "--filter", "--shallow-since", "--shallow-exclude", "--separate-git-dir", "--template"}



def check_run(run: n.Run, ecosystem: str, clones: list[str], workdir: str) -> list[str]:
    """The system packages the RUN installs; Blocked for a RUN whose effect
    the runtime stage could not keep. The folders `git clone` writes (Node:
    the application folder must hold them) go to ``clones``."""
    if run.heredocs:
        raise Blocked("a RUN with a heredoc")
    script = script_of(run)
    if script is None:
        raise Blocked("an exec-form RUN")
    if script.is_opaque or script.opaque_parts:
        raise Blocked("a RUN with shell text dfix cannot read")
    installed: list[str] = []
    cds = any(command_name(c) == "cd" for c in script.commands())
    for command in script.commands():
        name = command_name(command)
        if not name:
            raise Blocked("a RUN runs a command whose name is a variable")
        if ecosystem in ARTIFACT_ONLY and name in _DOWNLOADS:
            continue  # a build input: only the artifact reaches the runtime
        if command.redirects and name not in BUILD_TOOLS[ecosystem]:
            raise Blocked(f"`{name}` writes a file with a redirection")
        if ecosystem == "node" and name == "git" and not cds:
            clones.append(_clone_destination(command, workdir))
            continue
        if name in _HARMLESS or name in BUILD_TOOLS[ecosystem]:
            if name in ("pip", "pip3") and any(w.value in ("--user", "--target", "-t", "--prefix") for w in command.arguments):
                raise Blocked("pip installs outside the environment (--user, --target or --prefix)")
            continue
        if ecosystem == "python" and name.startswith("python") and is_python_m_pip(command):
            continue
        if name in _PACKAGE_MANAGERS:
            installed += _installed(command)
            continue
        raise Blocked(f"a RUN runs `{name}`, whose files would not reach the runtime stage")
    return installed


def _clone_destination(command: SimpleCommand, workdir: str) -> str:
    """The folder `git clone URL DIR` writes (an explicit DIR only)."""
    words = [w.value for w in command.arguments]
    operands: list[str] = []
    for index, word in enumerate(words):
        if word and not word.startswith("-") and words[index - 1] not in _GIT_OPTIONS_WITH_VALUES:
            operands.append(word)
    if None in words or not operands or operands[0] != "clone" or len(operands) != 3:
        raise Blocked("a RUN runs `git`, and dfix cannot tell which folder it writes")
    destination = after_workdir(workdir, operands[2])
    if destination is None:
        raise Blocked("a RUN runs `git clone` into a folder dfix cannot resolve")
    return destination


def _installed(command: SimpleCommand) -> list[str]:
    values = [w.value for w in command.arguments]
    if None in values:
        raise Blocked("a package list with a variable")
    words = operands(command_name(command), [v for v in values if v])
    if not words or words[0] not in ("install", "add"):
        return []
    return [re.split(r"[=<>~]", word, maxsplit=1)[0] for word in words[1:]]
