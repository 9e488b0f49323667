"""A single-stage image ships its toolchain: split it into build and runtime stages.

## Why
A single-stage image keeps everything that built it: compilers, headers,
the SDK, package caches, dev dependencies and the source tree. A Go service
built on `golang` weighs most of a gigabyte; its binary alone, on a slim
base, a few megabytes. A build stage plus a minimal runtime stage is the
most effective size and attack-surface change a Dockerfile can get, and the
one people find hardest to do by hand.

## What the fix does
The original stage becomes the build stage (`AS build`), unchanged but for
what the ecosystem needs, and a runtime stage follows it:

- **Go** (`go build -o PATH`): the binary at PATH is copied to
  `gcr.io/distroless/static-debian12:nonroot` when it is static
  (`CGO_ENABLED=0` in the stage or the command) and the CMD and ENTRYPOINT
  need no shell; else to `debian:bookworm-slim`, with an unprivileged user.
- **Node** (`npm ci`/`npm install`, yarn or pnpm, and any build script): the
  build stage drops its dev dependencies after building (`npm prune
  --omit=dev`, `yarn install --production`, `pnpm prune --prod`), and the
  application folder (the WORKDIR) is copied, owned by `node`, to the slim
  variant of the same node image, which runs as `node`.
- **Python** (`pip install`): the build stage installs into a virtualenv
  (`/opt/venv`), with the compilers and `-dev` packages it had; the runtime
  is the slim variant of the same Python image with the virtualenv, the
  runtime libraries that match the `-dev` packages (`libpq-dev` -> `libpq5`,
  ...; see `dfix/rules/_runtime_libs.py`), the other system packages the
  original installed, and the original COPY lines for the application.
- **Java** (Maven or Gradle, a CMD that runs `java -jar PATH`): the jar is
  copied to the JRE image of the same vendor and Java version
  (`eclipse-temurin:17-jre` for `maven:3.9-eclipse-temurin-17`).
- **Rust** (`cargo build --release`, a CMD or ENTRYPOINT that runs a binary
  under `target/release/`): the binary is copied to the Debian slim image of
  the `rust` image's release.

What configures the running container moves to the runtime stage unchanged:
EXPOSE, VOLUME, LABEL, HEALTHCHECK, STOPSIGNAL, ENTRYPOINT, CMD and the final
USER (with the comments right above them); ENV, WORKDIR, SHELL and the ARGs
that runtime lines use are repeated there. An image that ran as root gets
an unprivileged user, as DL3002 would give it.

## When it only reports
The finding explains the plan; it is not fixed, and says what blocked it,
when dfix cannot be sure what the runtime needs: a RUN that does something
besides installing packages and building (its files would not reach the
runtime), system packages installed for a Go, Node, Java or Rust build
(the runtime may need them), a CMD that runs a build tool, an artifact
whose path is not written out (`go build` without `-o`, a jar the CMD does
not name), a shell text dfix cannot read. No guesses.

## Fix
Unsafe, and the rule is off by default: `--select DF100 --unsafe-fixes`.
Only the named artifact (or the application folder, or the virtualenv and
the application's COPY lines) reaches the runtime: files the program reads
at run time from elsewhere in the build image do not. Check the result with
`dfix --verify`, which builds both and compares them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator

from dfix.cst import nodes as n
from dfix.rules._api import Applicability, Context, Diagnostic, Fix, FixAvailability, Rule
from dfix.rules._runtime_libs import BUILD_ONLY, runtime_library
from dfix.images import ALPINE, DEBIAN
from dfix.rules._stages import Stage, stages
from dfix.rules._users import UID_GID, CreateUser
from dfix.rules._workdir import after_workdir
from dfix.shell.edit import file_layout
from dfix.shell.nodes import Script, SimpleCommand

# Instructions that configure the running container: they move to the runtime stage.
_RUNTIME_ONLY = (n.Expose, n.Volume, n.Label, n.Healthcheck, n.Stopsignal, n.Entrypoint, n.Cmd)
# ... and the ones both stages need.
_REPEATED = (n.Env, n.Workdir, n.Shell)
# The working directory the official images of each ecosystem start in.
_BASE_WORKDIRS = ((re.compile(r"(^|/)golang(:|@|$)"), "/go"), (re.compile(r"(^|/)(node|python|rust|maven)(:|@|$)"), "/"))

_ECOSYSTEMS = (
    ("go", re.compile(r"(^|/)golang(:|@|$)")),
    ("node", re.compile(r"(^|/)node(:|@|$)")),
    ("python", re.compile(r"(^|/)python(:|@|$)")),
    ("java", re.compile(r"(^|/)(maven|gradle)(:|@|$)")),
    ("rust", re.compile(r"(^|/)rust(:|@|$)")),
)
_BUILD_TOOLS = {
    "go": {"go"},
    "node": {"npm", "yarn", "pnpm", "npx"},
    "python": {"pip", "pip3"},
    "java": {"mvn", "mvnw", "gradle", "gradlew"},
    "rust": {"cargo"},
}
# Commands any build may run: they change nothing the runtime needs.
_HARMLESS = {"cd", "mkdir", "true", "set", "echo", "rm"}
_PACKAGE_MANAGERS = {"apt-get", "apt", "apk"}


class Blocked(Exception):
    """What keeps dfix from splitting the file with confidence."""


@dataclass
class Plan:
    ecosystem: str
    runtime_image: str
    #: (source in the build stage, destination in the runtime stage)
    copies: list[tuple[str, str]] = field(default_factory=list)
    #: lines for the build stage: inserted before the instruction (by id) or appended (None)
    build_lines: list[tuple[int | None, str]] = field(default_factory=list)
    #: lines right after the runtime FROM, and the step that creates dfix's user
    runtime_setup: list[str | CreateUser] = field(default_factory=list)
    #: the original COPY lines the runtime repeats (Python's application files)
    repeated_copies: list[n.Instruction] = field(default_factory=list)
    copy_chown: str | None = None
    #: the working directory the original ends in, which the runtime keeps
    workdir: str = "/"
    #: an ENV line the build stage gets right after its FROM
    build_env: str | None = None
    #: the USER the runtime gets when the original set none
    user: str | None = None
    notes: list[str] = field(default_factory=list)

    def run_as_new_user(self, family: str = DEBIAN) -> None:
        """The runtime creates dfix's unprivileged user and runs as it."""
        self.runtime_setup.append(CreateUser(family))
        self.user = UID_GID

    def keep_authors_user(self) -> None:
        """The author's USER moves to the runtime stage: no user of dfix's."""
        self.runtime_setup = [step for step in self.runtime_setup if not isinstance(step, CreateUser)]
        self.user = None


def check(ctx: Context) -> Iterator[Diagnostic]:
    built = [stage for stage in stages(ctx.tree) if stage.from_ is not None]
    if len(built) != 1:
        return
    stage = built[0]
    image = stage.from_.image or ""
    ecosystem = next((name for name, pattern in _ECOSYSTEMS if pattern.search(image.lower())), None)
    if ecosystem is None:
        return
    runs = [i for i in stage.instructions if isinstance(i, n.Run)]
    builds = _runs_tool_or_python_pip if ecosystem == "python" else lambda run: _runs_tool(run, _BUILD_TOOLS[ecosystem])
    if not any(builds(run) for run in runs):
        return
    message = "A single stage ships the build toolchain: split it into a build stage and a runtime stage"
    try:
        plan = _plan(ctx, stage, ecosystem, image)
    except Blocked as why:
        yield ctx.decline(stage.from_, message, str(why))
        return
    text = _rewrite(ctx, stage, plan)
    fix = _replace_from(ctx, stage, text)
    yield ctx.report(stage.from_, f"{message}: {_explain(stage, plan)}", fix)


def _runs_tool(run: n.Run, tools: set[str]) -> bool:
    script = _script(run)
    return script is not None and any(_name(command) in tools for command in script.commands())


def _script(run: n.Run) -> Script | None:
    body = run.body
    return body.script if isinstance(body, n.ShellForm) else None


def _name(command: SimpleCommand) -> str:
    name = command.name or ""
    return name.rsplit("/", 1)[-1]


# ---------------------------------------------------------------- the plan


def _plan(ctx: Context, stage: Stage, ecosystem: str, image: str) -> Plan:
    if "$" in image.split(":")[0]:
        raise Blocked("the image name has a variable")
    workdir = _base_workdir(ecosystem, image)
    workdirs: dict[int, str] = {}
    packages: list[str] = []
    for instruction in stage.instructions[1:]:
        if isinstance(instruction, n.Workdir):
            written = instruction.value.value if instruction.value else ""
            if workdir is None and not written.startswith("/"):
                raise Blocked(f"a relative WORKDIR, and dfix does not know the working directory of {image}")
            value = after_workdir(workdir or "/", written)
            if value is None:
                raise Blocked("a WORKDIR dfix cannot resolve")
            workdir = value
        workdirs[id(instruction)] = workdir
        if isinstance(instruction, n.Onbuild):
            raise Blocked("ONBUILD instructions")
        if isinstance(instruction, n.Add) and any("://" in v for v in instruction.values[:-1]):
            raise Blocked("an ADD downloads a file the runtime may need")
        if isinstance(instruction, (n.Copy, n.Add)) and any(f.name == "from" for f in instruction.flags):
            raise Blocked("a COPY --from brings files from another image")
        if isinstance(instruction, n.Run):
            packages += _check_run(instruction, ecosystem)
        if isinstance(instruction, (n.Cmd, n.Entrypoint)):
            _check_runtime_command(instruction)
    if workdir is None:
        raise Blocked(f"no WORKDIR, and dfix does not know the working directory of {image}")
    users = [i for i in stage.instructions if isinstance(i, n.User)]
    plan = _PLANNERS[ecosystem](ctx, stage, image, workdir, workdirs, packages)
    plan.workdir = workdir
    if users and plan.ecosystem != "node":
        user = users[-1].value.value if users[-1].value else ""
        if not re.fullmatch(r"\d+(:\d+)?", user or "") and not (plan.ecosystem == "go" and user == "nonroot"):
            raise Blocked(f"the stage runs as `{user}`, a user the runtime image does not have")
        plan.keep_authors_user()
    return plan


def _check_run(run: n.Run, ecosystem: str) -> list[str]:
    """The system packages the RUN installs; Blocked for a RUN whose effect
    the runtime stage could not keep."""
    if run.heredocs:
        raise Blocked("a RUN with a heredoc")
    script = _script(run)
    if script is None:
        raise Blocked("an exec-form RUN")
    if script.is_opaque or script.opaque_parts:
        raise Blocked("a RUN with shell text dfix cannot read")
    installed: list[str] = []
    for command in script.commands():
        name = _name(command)
        if not name:
            raise Blocked("a RUN runs a command whose name is a variable")
        if command.redirects and name not in _BUILD_TOOLS[ecosystem]:
            raise Blocked(f"`{name}` writes a file with a redirection")
        if name in _HARMLESS or name in _BUILD_TOOLS[ecosystem]:
            if name in ("pip", "pip3") and any(w.value in ("--user", "--target", "-t", "--prefix") for w in command.arguments):
                raise Blocked("pip installs outside the environment (--user, --target or --prefix)")
            continue
        if ecosystem == "python" and name.startswith("python") and _python_runs_pip(command):
            continue
        if name in _PACKAGE_MANAGERS:
            installed += _installed(command)
            continue
        raise Blocked(f"a RUN runs `{name}`, whose files would not reach the runtime stage")
    return installed


def _python_runs_pip(command: SimpleCommand) -> bool:
    values = [w.value for w in command.arguments]
    return values[:2] == ["-m", "pip"]


def _installed(command: SimpleCommand) -> list[str]:
    values = [w.value for w in command.arguments]
    if None in values:
        raise Blocked("a package list with a variable")
    words = [v for v in values if v and not v.startswith("-")]
    if not words or words[0] not in ("install", "add"):
        return []
    return [re.split(r"[=<>]", word, maxsplit=1)[0] for word in words[1:]]


def _check_runtime_command(instruction: n.Instruction) -> None:
    body = instruction.body
    text = " ".join(body.values) if isinstance(body, n.JsonArray) else body.code
    if re.search(r"\b(npm run (build|dev)|go (run|build)|mvn|gradle|cargo (run|build)|setup\.py|pip install)\b", text):
        raise Blocked(f"the {instruction.KEYWORD} runs a build tool")
    if not isinstance(body, n.JsonArray) and re.search(r">|\btee\b", text):
        raise Blocked(f"the {instruction.KEYWORD} writes files, which the runtime's unprivileged user may not be allowed to")


# ---------------------------------------------------------------- per ecosystem


def _only_build_packages(packages: list[str]) -> None:
    """Blocked when a non-Python build installs packages the runtime may load."""
    others = [package for package in packages if package not in BUILD_ONLY]
    if others:
        raise Blocked(f"the build installs system packages the runtime may need: {', '.join(others)}")


def _plan_go(ctx: Context, stage: Stage, image: str, workdir: str, workdirs: dict, packages: list[str]) -> Plan:
    _only_build_packages(packages)
    outputs = []
    static = _env_in_stage(stage, "CGO_ENABLED") == "0"
    for run in (i for i in stage.instructions if isinstance(i, n.Run)):
        script = _script(run)
        cds = any(_name(c) == "cd" for c in script.commands())
        for command in script.commands():
            values = [w.value for w in command.arguments]
            if _name(command) != "go" or not values or values[0] != "build":
                continue
            if "-o" not in values or values.index("-o") + 1 >= len(values):
                raise Blocked("`go build` without `-o`: the binary's name comes from the module")
            output = values[values.index("-o") + 1]
            if output is None or "$" in output:
                raise Blocked("the `go build -o` path has a variable")
            if not output.startswith("/"):
                if cds:
                    raise Blocked("a relative `go build -o` path after a `cd`")
                output = after_workdir(workdirs[id(run)], output)
            if output.endswith("/"):
                raise Blocked("`go build -o` names a folder")
            if any(a.value == "CGO_ENABLED=0" for a in command.assignments):
                static = True
            outputs.append(output)
    if not outputs:
        raise Blocked("no `go build -o` to take the binary from")
    needs_shell = any(
        isinstance(i, (n.Cmd, n.Entrypoint, n.Healthcheck)) and not isinstance(getattr(i, "body", None), n.JsonArray)
        for i in stage.instructions
    )
    cgo = _env_in_stage(stage, "CGO_ENABLED") == "1" or any(p in ("gcc", "g++", "libc6-dev", "musl-dev", "build-essential", "clang") for p in packages)
    if not static and not cgo and not needs_shell:
        # nothing says the program uses cgo: build it without, and it runs anywhere
        plan = Plan("go", "gcr.io/distroless/static-debian12:nonroot")
        plan.build_env = "CGO_ENABLED=0"
        plan.notes.append("nothing in the build uses cgo, so it is built with CGO_ENABLED=0 and runs on distroless as `nonroot`")
    elif static and not needs_shell:
        plan = Plan("go", "gcr.io/distroless/static-debian12:nonroot")
        plan.notes.append("the binary is static (CGO_ENABLED=0), so it runs on distroless as `nonroot`")
    else:
        release = _debian_release(image)
        if release is None:
            raise Blocked(
                "the binary may use cgo or the CMD needs a shell, and dfix does not know which Debian release "
                "the golang image is (name it in the tag, as in golang:1.22-bookworm)"
            )
        plan = Plan("go", f"debian:{release}-slim")
        plan.notes.append(f"the binary may use cgo or the CMD needs a shell, so it runs on Debian {release} slim")
        plan.run_as_new_user()
    plan.copies = [(output, output) for output in dict.fromkeys(outputs)]
    return plan


def _plan_node(ctx: Context, stage: Stage, image: str, workdir: str, workdirs: dict, packages: list[str]) -> Plan:
    _only_build_packages(packages)
    if workdir == "/":
        raise Blocked("the application is not in a WORKDIR of its own")
    tools = {_name(c) for run in stage.instructions if isinstance(run, n.Run) for c in _script(run).commands()}
    users = [i for i in stage.instructions if isinstance(i, n.User)]
    if users and (users[-1].value.value if users[-1].value else "") not in ("node", "1000", "1000:1000"):
        raise Blocked("the stage runs as a user the node image does not have")
    plan = Plan("node", _slim(image, "node"))
    major = re.search(r":(\d+)", image)
    if "pnpm" in tools:
        prune = "pnpm prune --prod"
    elif "yarn" in tools:
        prune = "yarn install --production --ignore-scripts --prefer-offline"
    elif major and int(major.group(1)) < 16:
        prune = "npm prune --production"
    else:
        prune = "npm prune --omit=dev"
    plan.build_lines.append((None, f"RUN {prune}"))
    plan.copies = [(workdir, workdir)]
    plan.copy_chown = "1000:1000"  # the node images' `node` user
    plan.user = None if users else "1000:1000"
    plan.notes.append(f"the build drops its dev dependencies (`{prune}`)")
    return plan


def _plan_python(ctx: Context, stage: Stage, image: str, workdir: str, workdirs: dict, packages: list[str]) -> Plan:
    runtime_packages = []
    for package in packages:
        if package in BUILD_ONLY:
            continue
        if package.endswith("-dev"):
            library = runtime_library(package)
            if library is None:
                raise Blocked(f"dfix does not know the runtime library of {package}")
            runtime_packages.append(library)
        else:
            runtime_packages.append(package)
    if re.search(r":2(\.|-|$)", image):
        raise Blocked("Python 2 has no venv module")
    plan = Plan("python", _slim(image, "python"))
    first_pip = next(
        run for run in stage.instructions if isinstance(run, n.Run) and _runs_tool_or_python_pip(run)
    )
    plan.build_lines += [
        (id(first_pip), "RUN python -m venv /opt/venv"),
        (id(first_pip), 'ENV PATH="/opt/venv/bin:$PATH"'),
    ]
    if runtime_packages:
        names = " ".join(dict.fromkeys(runtime_packages))
        if "alpine" in image:
            plan.runtime_setup.append(f"RUN apk add --no-cache {names}")
        else:
            plan.runtime_setup.append(
                "RUN apt-get update && apt-get install -y --no-install-recommends "
                f"{names} && rm -rf /var/lib/apt/lists/*"
            )
        plan.notes.append(f"the runtime installs {names} in place of the build's packages")
    plan.copies = [("/opt/venv", "/opt/venv")]
    plan.repeated_copies = [i for i in stage.instructions if isinstance(i, (n.Copy, n.Add))]
    plan.runtime_setup.append('ENV PATH="/opt/venv/bin:$PATH"')
    plan.run_as_new_user(ALPINE if "alpine" in image else DEBIAN)
    plan.notes.append("pip installs into /opt/venv, which is copied over with the application's files")
    return plan


def _runs_tool_or_python_pip(run: n.Run) -> bool:
    script = _script(run)
    return script is not None and any(
        _name(c) in ("pip", "pip3") or (_name(c).startswith("python") and _python_runs_pip(c)) for c in script.commands()
    )


_JRE = (
    (re.compile(r"eclipse-temurin-(\d+)|temurin-(\d+)|jdk-?(\d+)"), "eclipse-temurin:{}-jre"),
    (re.compile(r"amazoncorretto-(\d+)|corretto-?(\d+)"), "amazoncorretto:{}"),
    (re.compile(r"ibm-semeru-(\d+)"), "ibm-semeru-runtimes:open-{}-jre"),
)


def _plan_java(ctx: Context, stage: Stage, image: str, workdir: str, workdirs: dict, packages: list[str]) -> Plan:
    _only_build_packages(packages)
    tag = image.split(":", 1)[1] if ":" in image else ""
    runtime = None
    for pattern, template in _JRE:
        found = pattern.search(tag)
        if found:
            runtime = template.format(next(g for g in found.groups() if g))
            break
    if runtime is None:
        raise Blocked(f"dfix does not know the JRE image for {image}")
    jar = _jar_of(stage, workdir)
    plan = Plan("java", runtime)
    plan.copies = [(jar, jar)]
    plan.run_as_new_user()
    plan.notes.append("only the jar the CMD runs is copied")
    return plan


def _jar_of(stage: Stage, workdir: str) -> str:
    for instruction in reversed(stage.instructions):
        if isinstance(instruction, (n.Cmd, n.Entrypoint)) and isinstance(instruction.body, n.JsonArray):
            values = list(instruction.body.values)
            if "-jar" in values and values.index("-jar") + 1 < len(values):
                jar = values[values.index("-jar") + 1]
                if any(ch in jar for ch in "*?$"):
                    raise Blocked("the jar's name has a wildcard or a variable")
                resolved = after_workdir(workdir, jar)
                if resolved is None:
                    raise Blocked("dfix cannot resolve the jar's path")
                return resolved
    raise Blocked("no exec-form CMD or ENTRYPOINT runs `java -jar PATH`: dfix does not know which jar to copy")


def _plan_rust(ctx: Context, stage: Stage, image: str, workdir: str, workdirs: dict, packages: list[str]) -> Plan:
    _only_build_packages(packages)
    if "alpine" in image:
        raise Blocked("a Rust build on Alpine: dfix does not know which Alpine runs it")
    release = "bullseye" if "bullseye" in image else "bookworm"
    binary = None
    for instruction in reversed(stage.instructions):
        if isinstance(instruction, (n.Cmd, n.Entrypoint)) and isinstance(instruction.body, n.JsonArray) and instruction.body.values:
            first = instruction.body.values[0]
            if "target/release/" in first and "$" not in first:
                binary = after_workdir(workdir, first)
                break
    if binary is None:
        raise Blocked("no exec-form CMD or ENTRYPOINT runs a binary under target/release/")
    plan = Plan("rust", f"debian:{release}-slim")
    plan.copies = [(binary, binary)]
    plan.run_as_new_user()
    plan.notes.append(f"the binary runs on the Debian slim image of the rust image's release ({release})")
    return plan


_PLANNERS = {"go": _plan_go, "node": _plan_node, "python": _plan_python, "java": _plan_java, "rust": _plan_rust}


def _slim(image: str, name: str) -> str:
    """The slim variant of an official image: `python:3.12` -> `python:3.12-slim`,
    `node:20-bookworm` -> `node:20-bookworm-slim`; Alpine and slim ones stay."""
    repository, _, tag = image.partition(":")
    if "@" in image:
        raise Blocked("the image is pinned by digest: dfix does not know its slim variant's")
    if "slim" in tag or "alpine" in tag:
        return image
    if not tag or tag == "latest":
        return f"{repository}:slim"
    if name == "python":
        version, dash, release = tag.partition("-")
        return f"{repository}:{version}-slim{dash}{release}" if release else f"{repository}:{tag}-slim"
    return f"{repository}:{tag}-slim"


def _base_workdir(ecosystem: str, image: str) -> str | None:
    return next((workdir for pattern, workdir in _BASE_WORKDIRS if pattern.search(image.lower())), None)


def _debian_release(image: str) -> str | None:
    found = re.search(r"(bookworm|bullseye|trixie|buster)", image)
    return found.group(1) if found else None


def _env_in_stage(stage: Stage, key: str) -> str | None:
    value = None
    for instruction in stage.instructions:
        if isinstance(instruction, n.Env):
            for pair in instruction.pairs:
                if pair.key.value == key:
                    value = pair.value.value.strip("\"'")
    return value


# ---------------------------------------------------------------- the new text


def _rewrite(ctx: Context, stage: Stage, plan: Plan) -> str:
    nl = ctx.newline
    body = ctx.tree.body
    start = next(i for i, line in enumerate(body) if line is stage.from_)
    lines = list(body[start:])
    moved: list[n.Line] = []
    kept: list[n.Line] = []
    users = [line for line in lines if isinstance(line, n.User)]
    final_user = users[-1] if users else None
    pending: list[n.Line] = []  # comments waiting for the instruction they describe
    for line in lines[1:]:
        if isinstance(line, n.Comment):
            pending.append(line)
            continue
        goes = isinstance(line, _RUNTIME_ONLY) or (line is final_user and plan.ecosystem != "node")
        (moved if goes else kept).extend([*pending, line])
        pending = []
    kept += pending
    keyword = stage.from_.keyword_text.code
    lower = keyword.islower()

    def style(text: str) -> str:
        word, space, rest = text.partition(" ")
        return (word.lower() if lower else word) + space + rest

    from_line = stage.from_
    head = from_line.code.rstrip("\r\n")
    if not from_line.stage_name:
        head += " as build" if lower else " AS build"
    name = from_line.stage_name or "build"
    out = [head + nl]
    if plan.build_env:
        out.append(style(f"ENV {plan.build_env}") + nl)
    appended = [new.removeprefix("RUN ") for anchor, new in plan.build_lines if anchor is None]
    last_run = next((line for line in reversed(kept) if isinstance(line, n.Instruction)), None)
    if not (isinstance(last_run, n.Run) and isinstance(last_run.body, n.ShellForm) and not last_run.heredocs):
        last_run = None
    for line in kept:
        for anchor, new in plan.build_lines:
            if anchor == id(line):
                out.append(style(new) + nl)
        if line is last_run and appended:
            # one more command for the last RUN, not a RUN of its own (DL3059)
            out.append(line.code.rstrip("\r\n") + "".join(f" && {command}" for command in appended) + nl)
            appended = []
            continue
        out.append(_with_newline(line.code, nl))
    out += [style(f"RUN {command}") + nl for command in appended]
    out.append(nl)
    out.append(style(f"FROM {plan.runtime_image}") + nl)
    args = [i for i in lines if isinstance(i, n.Arg)]
    runtime_text = "".join(line.code for line in moved) + "".join(line.code for line in plan.repeated_copies)
    for arg in args:
        names = [kv.key.value for kv in arg.args]
        if any(re.search(r"\$\{?" + re.escape(key) + r"\b", runtime_text) for key in names):
            out.append(_with_newline(arg.code.lstrip(), nl))
    for step in plan.runtime_setup:
        if isinstance(step, CreateUser):
            # broken over lines the way the file's RUNs are
            step = "RUN " + file_layout(ctx.tree, nl).joined(step.commands())
        out.append(style(step) + nl)
    for line in lines[1:]:
        if isinstance(line, (n.Env, n.Shell)) and not (isinstance(line, n.Shell) and plan.runtime_image.startswith("gcr.io/distroless")):
            out.append(_with_newline(line.code.lstrip(), nl))
    if plan.workdir != "/" or plan.runtime_image.startswith("gcr.io/distroless"):
        # the same working directory as the original, written out: the runtime image's may differ
        out.append(style(f"WORKDIR {plan.workdir}") + nl)
    chown = f" --chown={plan.copy_chown}" if plan.copy_chown else ""
    for source, destination in plan.copies:
        out.append(style(f"COPY --from={name}{chown} {source} {destination}") + nl)
    for copy in plan.repeated_copies:
        out.append(_with_newline(copy.code.lstrip(), nl))
    if plan.user and not (final_user and plan.ecosystem != "node" and final_user in moved):
        out.append(style(f"USER {plan.user}") + nl)
    for line in moved:
        out.append(_with_newline(line.code, nl))
    text = "".join(out)
    return text if lines[-1].newline else text.rstrip("\r\n")


def _with_newline(code: str, nl: str) -> str:
    return code if code.endswith("\n") else code + nl


def _replace_from(ctx: Context, stage: Stage, text: str) -> Fix:
    from dfix.cst.build import parse

    body = ctx.tree.body
    start = next(i for i, line in enumerate(body) if line is stage.from_)
    prefix = "".join(line.code for line in body[:start])
    tree = parse(prefix + text)
    new = tree.body[start:]
    replacements = [(body[start], new)] + [(line, ()) for line in body[start + 1:]]
    return Fix.replace_all(replacements, "Split into a build stage and a runtime stage", Applicability.UNSAFE)


def _explain(stage: Stage, plan: Plan) -> str:
    copies = ", ".join(source for source, _ in plan.copies)
    moved = sorted({i.KEYWORD for i in stage.instructions if isinstance(i, (*_RUNTIME_ONLY, *_REPEATED))})
    notes = list(plan.notes)
    if moved:
        notes.append(f"{', '.join(moved)} configure the runtime stage as before")
    if plan.user:
        notes.append(f"it runs as {plan.user}, not root")
    return f"build on {stage.from_.image}, run on {plan.runtime_image} with {copies} copied over; " + "; ".join(notes)


RULE = Rule(
    "DF100", "split-build-runtime", "A single stage ships its build toolchain", check, __doc__,
    fix=FixAvailability.UNSAFE, default=False,
)
