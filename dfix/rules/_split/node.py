"""Node: the build drops its dev dependencies, and the application folder
goes, owned by `node`, to the slim variant of the same node image."""

from __future__ import annotations

import re

from dfix.cst import nodes as n
from dfix.rules._split.commands import command_name, script_of
from dfix.rules._split.plan import Blocked, Plan, only_build_packages
from dfix.rules._split.runtime_images import slim
from dfix.rules._stages import Stage

# The node images' `node` user.
NODE_USER = "1000:1000"


def plan(stage: Stage, image: str, workdir: str, workdirs: dict[int, str], packages: list[str]) -> Plan:
    only_build_packages(packages)
    if workdir == "/":
        raise Blocked("the application is not in a WORKDIR of its own")
    tools = {command_name(c) for run in stage.instructions if isinstance(run, n.Run) for c in script_of(run).commands()}
    users = [i for i in stage.instructions if isinstance(i, n.User)]
    user = (users[-1].value.value if users[-1].value else "") if users else None
    result = Plan("node", slim(image, "node"))
    prune = _prune(tools, image)
    result.build_lines.append((None, f"RUN {prune}"))
    result.copies = [(workdir, workdir)]
    if user in (None, "node", "1000", NODE_USER):
        result.copy_chown = NODE_USER  # as the runtime's `node` user may write its folder
    result.user = None if users else NODE_USER
    result.notes.append(f"the build drops its dev dependencies (`{prune}`)")
    return result


def _prune(tools: set[str], image: str) -> str:
    """The command that removes the dev dependencies, for the package manager the build uses."""
    major = re.search(r":(\d+)", image)
    if "pnpm" in tools:
        return "pnpm prune --prod"
    if "yarn" in tools:
        return "yarn install --production --ignore-scripts --prefer-offline"
    if major and int(major.group(1)) < 16:
        return "npm prune --production"
    return "npm prune --omit=dev"
