"""The image builders ``--verify`` drives: Docker (buildx), Podman, buildah.

Each is a command line tool; dfix runs it as a subprocess and reads what it
prints, so it needs no client library. Plain data in, plain data out: a
build gives a :class:`Build`, an image gives :class:`ImageFacts`.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

BUILDERS = ("docker", "podman", "buildah")
#: seconds a build may take before dfix gives up on it
BUILD_TIMEOUT = float(os.environ.get("DFIX_VERIFY_TIMEOUT", "1800"))
#: the image config fields --verify compares, as Docker names them
CONFIG_FIELDS = ("User", "Cmd", "Entrypoint", "Env", "WorkingDir", "ExposedPorts", "Healthcheck", "Labels")


class BuilderError(Exception):
    """No builder can be used, or it failed in a way that is not the build's fault."""


@dataclass(frozen=True)
class Builder:
    name: str  # "docker", "podman" or "buildah"
    executable: str


@dataclass(frozen=True)
class Build:
    ok: bool
    seconds: float
    #: the end of the builder's output: what went wrong, when it did
    log: str = ""


@dataclass(frozen=True)
class ImageFacts:
    size: int  # bytes
    layers: int
    config: dict[str, Any] = field(default_factory=dict)


def find(preferred: str | None = None) -> Builder:
    """The builder to use: ``preferred``, or the first that works here:
    Docker when a daemon answers, else Podman, else buildah."""
    if preferred is not None and preferred not in BUILDERS:
        raise BuilderError(f"unknown builder {preferred!r}; choose one of {', '.join(BUILDERS)}")
    why: list[str] = []
    for name in [preferred] if preferred else BUILDERS:
        executable = shutil.which(name)
        if executable is None:
            why.append(f"{name}: not installed")
            continue
        if name == "docker" and not _docker_answers(executable):
            why.append("docker: no Docker daemon answers")
            continue
        return Builder(name, executable)
    raise BuilderError("no image builder to verify with (" + "; ".join(why) + "); install Docker, Podman or buildah")


def _docker_answers(executable: str) -> bool:
    try:
        return subprocess.run(
            [executable, "info", "--format", "{{.ServerVersion}}"], capture_output=True, timeout=20
        ).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def build(
    builder: Builder, dockerfile: str, context: str, tag: str, *,
    target: str | None = None, build_args: Sequence[str] = (),
) -> Build:
    """Build ``dockerfile`` with ``context`` as ``tag``; never raises for a failed build."""
    if builder.name == "docker":
        command = [builder.executable, "buildx", "build", "--load"]
    elif builder.name == "podman":
        command = [builder.executable, "build", "--layers"]
    else:
        # one layer per instruction, as Docker makes them: layer counts and sizes compare
        # (and no pull of a base image that is already here: both builds use the same one)
        command = [builder.executable, "bud", "--layers", "--format", "docker", "--pull=false"]
    if target:
        command += ["--target", target]
    for argument in build_args:
        command += ["--build-arg", argument]
    command += ["-f", dockerfile, "-t", tag, context]
    started = time.monotonic()
    try:
        process = subprocess.run(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            timeout=BUILD_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        return Build(False, time.monotonic() - started, f"the build took longer than {BUILD_TIMEOUT:.0f} s")
    except OSError as error:
        raise BuilderError(f"cannot run {builder.name}: {error}") from None
    output = process.stdout.decode("utf-8", "replace")
    return Build(process.returncode == 0, time.monotonic() - started, _tail(output))


def _tail(output: str, lines: int = 25) -> str:
    return "\n".join(output.rstrip().splitlines()[-lines:])


def inspect(builder: Builder, tag: str) -> ImageFacts:
    """Size, layer count and config of a built image."""
    if builder.name == "buildah":
        raw = _json([builder.executable, "inspect", "--type", "image", tag])
        manifest = json.loads(raw.get("Manifest") or "{}")
        layers = manifest.get("layers") or []
        config = (raw.get("Docker") or {}).get("config") or (raw.get("OCIv1") or {}).get("config") or {}
        return ImageFacts(sum(int(layer.get("size", 0)) for layer in layers), len(layers), _config(config))
    (raw,) = _json([builder.executable, "image", "inspect", tag])
    layers = (raw.get("RootFS") or {}).get("Layers") or []
    return ImageFacts(int(raw.get("Size") or 0), len(layers), _config(raw.get("Config") or {}))


def _config(config: dict[str, Any]) -> dict[str, Any]:
    out = {key: config.get(key) for key in CONFIG_FIELDS}
    # builders write "no value" as null, [] or {} alike
    return {key: (value or None) for key, value in out.items()}


def _json(command: list[str]) -> Any:
    process = subprocess.run(command, capture_output=True, stdin=subprocess.DEVNULL, timeout=120)
    if process.returncode != 0:
        raise BuilderError(f"{' '.join(command)} failed: {process.stderr.decode('utf-8', 'replace').strip()}")
    return json.loads(process.stdout)


def run(builder: Builder, tag: str, command: str) -> int:
    """The exit status of ``command`` in a container of ``tag``, as the
    image's own user, in its working directory: run directly when it is
    plain words (images without a shell, such as distroless, can run it),
    else with ``sh -c``."""
    argv = _plain_argv(command) or ["/bin/sh", "-c", command]
    try:
        if builder.name == "buildah":
            container = subprocess.run(
                [builder.executable, "from", "--quiet", "--pull=never", tag], capture_output=True, text=True,
                stdin=subprocess.DEVNULL, timeout=300,
            )
            if container.returncode != 0:
                raise BuilderError(f"buildah from {tag} failed: {container.stderr.strip()}")
            name = container.stdout.strip().splitlines()[-1]
            try:
                return subprocess.run(
                    [builder.executable, "run", name, "--", *argv],
                    capture_output=True, stdin=subprocess.DEVNULL, timeout=BUILD_TIMEOUT,
                ).returncode
            finally:
                subprocess.run([builder.executable, "rm", name], capture_output=True, timeout=120)
        return subprocess.run(
            [builder.executable, "run", "--rm", "--entrypoint", argv[0], tag, *argv[1:]],
            capture_output=True, stdin=subprocess.DEVNULL, timeout=BUILD_TIMEOUT,
        ).returncode
    except subprocess.TimeoutExpired:
        return 124  # as timeout(1) reports it


def _plain_argv(command: str) -> list[str] | None:
    if re.search(r"[|&;<>()$`\\*?~{}\[\]]|^\s*\w+=", command):
        return None
    try:
        return shlex.split(command) or None
    except ValueError:
        return None


def remove(builder: Builder, tag: str) -> None:
    """Remove a temporary image; quietly, it may never have been built."""
    subprocess.run([builder.executable, "rmi", "-f", tag], capture_output=True, stdin=subprocess.DEVNULL, timeout=300)
