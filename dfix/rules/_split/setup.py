"""The runtime setup in the original: RUNs that create users, folders,
links and small config files, and need no toolchain, so the runtime stage
runs them again; and which user a runtime image already has."""

from __future__ import annotations

import re

from dfix.cst import nodes as n
from dfix.rules._split.commands import command_name, script_of
from dfix.rules._split.plan import Blocked
from dfix.rules._workdir import after_workdir

# Commands that set the image up for running: the runtime stage repeats a RUN made of these only.
SETUP = {"useradd", "adduser", "addgroup", "groupadd", "usermod", "mkdir", "chown", "chmod", "ln", "touch",
         "echo", "printf", "set", "true"}
# ... of which these may write a file with a redirection (`echo x > /etc/app.conf`)
_WRITERS = {"echo", "printf"}
_USER_MAKERS = {"useradd", "adduser"}


def is_setup(run: n.Run) -> bool:
    """The RUN only sets the image up (users, folders, links, small files:
    `echo x > FILE`, or `cat > FILE <<EOF` with a heredoc)."""
    script = script_of(run)
    if script is None or script.is_opaque or script.opaque_parts:
        return False
    commands = list(script.commands())
    # with a heredoc, only as the text `cat` or `tee` writes (not a script of its own)
    known = SETUP | ({"cat", "tee"} if run.heredocs else set())
    writers = _WRITERS | ({"cat", "tee"} if run.heredocs else set())
    return bool(commands) and all(
        command_name(c) in known and (not c.redirects or command_name(c) in writers) for c in commands
    ) and any(command_name(c) not in ("set", "true", "echo", "printf") or c.redirects for c in commands)


def users_created(runs: list[n.Run]) -> set[str]:
    """The users the RUNs create (`useradd NAME`, `adduser ... NAME`)."""
    out: set[str] = set()
    for run in runs:
        for command in script_of(run).commands():
            if command_name(command) in _USER_MAKERS:
                words = [w.value for w in command.arguments]
                if words and words[-1]:
                    out.add(words[-1])
    return out


# The users each runtime image has (besides root), by image name.
_IMAGE_USERS = (
    (re.compile(r"^gcr\.io/distroless/"), {"nobody", "nonroot", "65534", "65532"}),
    (re.compile(r"(^|/)node:"), {"nobody", "node"}),
    (re.compile(r"(^|/)(python|debian|eclipse-temurin|amazoncorretto|ibm-semeru-runtimes):"), {"nobody"}),
)


def image_has_user(image: str, user: str) -> bool:
    name = user.partition(":")[0]
    if name in ("root", "0") or re.fullmatch(r"\d+(:\d+)?", user):
        return True  # a numeric user needs no entry in /etc/passwd
    return any(pattern.search(image) and name in users for pattern, users in _IMAGE_USERS)


def check_replayable(run: n.Run, user: str | None) -> None:
    """Blocked when the runtime could not run the RUN as the original did."""
    if user and user.partition(":")[0] not in ("root", "0"):
        raise Blocked(f"a setup RUN runs as `{user}`, and the runtime stage would run it as root")


def makes_source_folders(run: n.Run) -> bool:
    """The RUN only makes folders by relative paths: in a Go, Rust or Java
    build that is the source tree, which the runtime (the artifact alone)
    does not have."""
    script = script_of(run)
    commands = list(script.commands()) if script is not None and not script.is_opaque else []
    return bool(commands) and all(
        command_name(c) == "mkdir"
        and all(w.value and (w.value.startswith("-") or not w.value.startswith("/")) for w in c.arguments)
        for c in commands
    )


def changes_built_files(run: n.Run, workdir: str, destinations: list[str]) -> str | None:
    """A path a `chown`/`chmod` of the RUN changes inside what the runtime
    copies from the build: the runtime runs its setup before that copy, so
    the change would not reach the copied files."""
    for command in script_of(run).commands():
        if command_name(command) not in ("chown", "chmod"):
            continue
        operands = [w.value for w in command.arguments if not (w.value or "").startswith("-")]
        for value in operands[1:]:  # after the owner or the mode
            path = after_workdir(workdir, value) if value else None
            if path and any((path + "/").startswith(d.rstrip("/") + "/") for d in destinations):
                return path
    return None


def changes_missing_files(runs: list[n.Run], workdirs: dict[int, str]) -> str | None:
    """A path a replayed `chown`/`chmod`/`ln` target would need that the
    replayed setup does not make itself: an artifact-only runtime (Go, Rust,
    Java) has no source tree for it, and the RUN would fail there."""
    made: list[str] = []
    for run in runs:
        for command in script_of(run).commands():
            name = command_name(command)
            operands = [w.value for w in command.arguments if not (w.value or "").startswith("-")]
            paths = [after_workdir(workdirs[id(run)], value) if value else None for value in operands]
            if name in ("mkdir", "touch"):
                made += [p for p in paths if p]
            elif name in ("chown", "chmod"):
                for path in paths[1:]:
                    if path is None or not any((path + "/").startswith(m.rstrip("/") + "/") for m in made):
                        return path or "a path with a variable"
    return None
