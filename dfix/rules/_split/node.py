"""Node: the build drops its dev dependencies, and the application folder
goes, owned by `node`, to the slim variant of the same node image."""

from __future__ import annotations

import re

from dfix.cst import nodes as n
from dfix.rules._split.commands import command_name, script_of
from dfix.rules._split.plan import Blocked, Plan, only_build_packages
from dfix.rules._split.runtime_images import slim
from dfix.rules._stages import Stage
from dfix.rules._workdir import after_workdir
from dfix.shell.nodes import SimpleCommand

# The node images' `node` user.
NODE_USER = "1000:1000"


def plan(stage: Stage, image: str, workdir: str, workdirs: dict[int, str], packages: list[str]) -> Plan:
    only_build_packages(packages)
    commands = [c for run in stage.instructions if isinstance(run, n.Run) for c in script_of(run).commands()]
    tools = {command_name(c) for c in commands}
    global_installs = [c for c in commands if _installs_globally(c)]
    for command in commands:
        words = [w.value for w in command.arguments]
        if (command_name(command) == "yarn" and words[:1] == ["global"]) or (
            command_name(command) == "pnpm" and {"-g", "--global"} & set(words)
        ):
            raise Blocked(f"`{command_name(command)}` installs global packages, which dfix does not know where to take from")
    local = [c for c in commands if command_name(c) in ("npm", "yarn", "pnpm", "npx") and c not in global_installs]
    if workdir == "/" and (local or not global_installs):
        raise Blocked("the application is not in a WORKDIR of its own")
    users = [i for i in stage.instructions if isinstance(i, n.User)]
    user = (users[-1].value.value if users[-1].value else "") if users else None
    result = Plan("node", slim(image, "node"))
    if local:
        prune = _prune(tools, image)
        result.build_lines.append((None, f"RUN {prune}"))
        result.copies = [(workdir, workdir)]
        result.notes.append(f"the build drops its dev dependencies (`{prune}`)")
    if global_installs:
        # `npm install -g` puts packages and their commands here; the slim image has the same node and npm there
        result.copies += [("/usr/local/lib/node_modules", "/usr/local/lib/node_modules"), ("/usr/local/bin", "/usr/local/bin")]
        result.notes.append("the globally installed packages (`npm install -g`) are copied with node's own")
    # files copied outside the application folder are copied again
    inside = workdir.rstrip("/") + "/"
    for copy in (i for i in stage.instructions if isinstance(i, (n.Copy, n.Add))):
        destination = after_workdir(workdirs.get(id(copy), workdir), copy.values[-1]) if copy.values else None
        if destination is None:
            raise Blocked("a COPY to a folder dfix cannot resolve")
        if workdir == "/" or not (destination.rstrip("/") + "/").startswith(inside):
            result.repeated_copies.append(copy)
    if user in (None, "node", "1000", NODE_USER):
        result.copy_chown = NODE_USER  # as the runtime's `node` user may write its folder
    result.user = None if users else NODE_USER
    return result


def _installs_globally(command: SimpleCommand) -> bool:
    words = [w.value for w in command.arguments]
    return command_name(command) == "npm" and bool(words) and words[0] in ("install", "i", "add") and bool(
        {"-g", "--global"} & set(words)
    )


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
