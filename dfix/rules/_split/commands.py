"""Reading the commands of a stage's RUNs."""

from __future__ import annotations

import re

from dfix.cst import nodes as n
from dfix.rules._runtime_libs import BUILD_ONLY
from dfix.rules._stages import Stage
from dfix.shell.nodes import Script, SimpleCommand


def script_of(run: n.Run) -> Script | None:
    """The shell script of a shell-form RUN; None for the exec form."""
    body = run.body
    return body.script if isinstance(body, n.ShellForm) else None


def command_name(command: SimpleCommand) -> str:
    """The program a command runs, without its folder (``/usr/bin/go`` is ``go``)."""
    name = command.name or ""
    return name.rsplit("/", 1)[-1]


def runs_tool(run: n.Run, tools: set[str]) -> bool:
    script = script_of(run)
    return script is not None and any(command_name(command) in tools for command in script.commands())


def is_python_m_pip(command: SimpleCommand) -> bool:
    """``python -m pip ...`` (or ``python3 -m pip``, ...)."""
    values = [w.value for w in command.arguments]
    return values[:2] == ["-m", "pip"]


def runs_pip(run: n.Run) -> bool:
    """The RUN calls pip, by its own name or as ``python -m pip``."""
    script = script_of(run)
    return script is not None and any(
        command_name(c) in ("pip", "pip3") or (command_name(c).startswith("python") and is_python_m_pip(c))
        for c in script.commands()
    )


def tools_the_container_runs(stage: Stage, packages: list[str]) -> list[str]:
    """The build-tool packages (`curl`, `wget`, ...) the stage installs that
    its CMD, ENTRYPOINT or HEALTHCHECK runs (`HEALTHCHECK CMD curl -f ...`):
    the runtime needs them too."""
    text = " ".join(i.code for i in stage.instructions if isinstance(i, (n.Cmd, n.Entrypoint, n.Healthcheck)))
    return [
        package for package in dict.fromkeys(packages)
        if package in BUILD_ONLY and re.search(r"(?<![\w/.-])" + re.escape(package) + r"(?![\w.-])", text)
    ]
