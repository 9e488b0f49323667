"""A single-stage image ships its toolchain: split it into build and runtime stages.

## Why
A single-stage image keeps everything that built it: compilers, headers,
the SDK, package caches, dev dependencies and the source tree. A Go service
built on `golang` weighs most of a gigabyte; its binary alone, on a slim
base, a few megabytes. A build stage plus a minimal runtime stage is the
most effective size and attack-surface change a Dockerfile can get, and the
one people find hardest to do by hand.

## What it looks at
A single stage on an official `golang`, `node`, `python`, `maven`/`gradle`
or `rust` image that builds (go, npm/yarn/pnpm, pip, mvn/gradle and their
wrappers, cargo) and runs something (a CMD or ENTRYPOINT). There is no
finding when a split would gain nothing: a slim or Alpine Python image
whose build leaves no compiler or `-dev` package installed (none, or
removed in the same layer) would become the same base with the same files;
likewise a slim or Alpine Node image that installs no dev dependencies.
Nor for a stage that runs nothing of its own (a toolbox, a base image).

## What the fix does
The original stage becomes the build stage (`AS build`), unchanged but for
what the ecosystem needs, and a runtime stage follows it:

- **Go**: the binary `go build -o PATH` writes; or, without `-o`, the one
  the exec-form CMD or ENTRYPOINT names, where `go build` (`./name`, `go
  build main.go`) or `go install` (`/go/bin/NAME`, or a bare NAME found on
  PATH, copied to /usr/local/bin) puts it. It goes to
  `gcr.io/distroless/static-debian12:nonroot` when it is static
  (`CGO_ENABLED=0`, or nothing says cgo) and nothing needs a shell; else to
  the Debian slim image of the golang image's release, with the CA
  certificates the golang image had.
- **Node** (`npm ci`/`npm install`, yarn or pnpm, and any build script): the
  build stage drops its dev dependencies (`npm prune --omit=dev`, ...), and
  the application folder (the WORKDIR, which a `git clone` may have filled)
  is copied to the slim variant of the same node image, owned by `node`
  when the runtime runs as `node`. Global packages (`npm install -g`) go
  with node's own /usr/local/lib/node_modules and /usr/local/bin; files
  COPY put outside the application folder are copied again.
- **Python** (`pip install`): the build stage installs into a virtualenv
  (`/opt/venv`), with the compilers and `-dev` packages it had; the runtime
  is the slim variant of the same Python image with the virtualenv, the
  runtime libraries of the `-dev` packages by the names of the tag's Debian
  release (bookworm when the tag names none: `libpq-dev` -> `libpq5`,
  `libffi-dev` -> `libffi8`, `libffi7` on bullseye) or Alpine's (see
  `dfix/rules/_runtime_libs.py`; also for a source-built package a pip
  command names, as `psycopg2` -> `libpq5`), the other system packages the original
  installed, and the original COPY lines (a COPY --from another image
  too), each in the folder it had. A build tool the container runs
  (`HEALTHCHECK CMD curl ...`) is installed there again.
- **Java** (Maven or Gradle, with or without `./mvnw`/`./gradlew`; a CMD or
  ENTRYPOINT that runs `java -jar PATH` or `java -cp ENTRIES`): the jar, or
  each class path entry (a jar, a folder of classes, `lib/*`, a
  `target/*.jar` glob), is copied to the JRE image of the same vendor and
  Java version (`eclipse-temurin:17-jre` for `maven:3.9-eclipse-temurin-17`).
- **Rust** (`cargo build --release`, a CMD or ENTRYPOINT that runs a binary
  under `target/release/`): the binary is copied to the Debian slim image of
  the `rust` image's release, with the runtime libraries of the build's
  `-dev` packages (`libssl-dev` -> `libssl3`, and the CA certificates).

Downloads (`curl`, `wget`, `git`, `unzip`, `tar`) stay in a Go, Rust or Java
build stage: they are build inputs, and only the artifact goes on.

What sets the image up for running is run again in the runtime stage, in
the original's order and working directories: RUNs made only of `useradd`,
`adduser`, `addgroup`, `groupadd`, `usermod`, `mkdir`, `chown`, `chmod`,
`ln`, `touch`, `echo`/`printf` into a file and `cat > FILE <<EOF` with a
heredoc (a static Go binary then runs
on `debian:bookworm-slim`, as distroless has no shell). The final USER is
kept when the runtime image has it (`nobody`; `nonroot` on distroless;
`node` on node; a numeric one; root) or the replayed setup creates it; an
image that ran as root gets an unprivileged user, as DL3002 would give it.

WORKDIR, ENV and ARG values are read with their variables filled in: an
ENV's value, an ARG's default (in the stage, or a global ARG before FROM
that the stage declares), the golang image's GOPATH. The split is written
for the ARG defaults: a `--build-arg` that moves the WORKDIR is not
followed. What configures the running container moves to the runtime stage
unchanged: EXPOSE, VOLUME, LABEL, HEALTHCHECK, STOPSIGNAL, ENTRYPOINT, CMD and
the final USER (with the comments right above them); ENV, SHELL and the ARGs
that runtime lines use are repeated there.

## When it only reports
The finding explains the plan; it is not fixed, and says what blocked it,
when dfix cannot be sure what the runtime needs: a RUN that does something
besides installing packages, building and setting up (its files would not
reach the runtime: `mv`, `cp`, `curl` in a Python or Node build, `pipenv`,
a `git clone` outside Node's application folder), system packages
installed for a Go, Node or Java build (the runtime may need them; for Rust
other than `-dev` packages of known libraries), a
`-dev` package whose library dfix does not know, Python 2 (no venv module),
pip run as a non-root user, a setup RUN run as a non-root user or one that
changes files the build made (or, for Go, Rust and Java, the source tree),
a USER the runtime cannot have, a CMD that runs a build tool or writes
files, a build tool the container runs (`curl` in a HEALTHCHECK) outside
Python, a COPY --from another image in a Go, Rust or Java build, an artifact whose path dfix cannot know
(`go build` without `-o` and no CMD naming it, `java -cp $VAR`), a WORKDIR
with a variable of unknown value, a heredoc RUN that is not a setup file,
a shell text dfix cannot read. No guesses.

## Fix
Unsafe, and the rule is off by default: `--select DF100 --unsafe-fixes`.
Only the named artifact (or the application folder, or the virtualenv and
the application's COPY lines) reaches the runtime: files the program reads
at run time from elsewhere in the build image do not. Check the result with
`dfix --verify`, which builds both and compares them.
"""

from __future__ import annotations

import re
from typing import Callable, Iterator

from dfix.cst import nodes as n
from dfix.rules._api import Context, Diagnostic, FixAvailability, Rule
from dfix.rules._split import go, java, node, python, rust
from dfix.rules._split.gain import gains
from dfix.rules._split.commands import runs_pip, runs_tool, tools_the_container_runs
from dfix.rules._split.plan import Blocked, Plan, install_line
from dfix.rules._split.render import explain, split_fix
from dfix.rules._split.runs import ARTIFACT_ONLY, BUILD_TOOLS, check_run
from dfix.rules._split.setup import changes_built_files, changes_missing_files, check_replayable, image_has_user, is_setup, makes_source_folders, users_created
from dfix.rules._split.variables import BASE_ENV, Values, global_args
from dfix.rules._stages import Stage
from dfix.rules._users import is_root
from dfix.rules._workdir import after_workdir

# The working directory the official images of each ecosystem start in.
_BASE_WORKDIRS = ((re.compile(r"(^|/)golang(:|@|$)"), "/go"), (re.compile(r"(^|/)(node|python|rust|maven)(:|@|$)"), "/"))

# The official images only: of another image (gcr.io/google_appengine/python,
# someone's golang) dfix knows no runtime variant, nor what it holds.
_OFFICIAL = r"^(docker\.io/)?(library/)?"
_ECOSYSTEMS = (
    ("go", re.compile(_OFFICIAL + r"golang(:|@|$)")),
    ("node", re.compile(_OFFICIAL + r"node(:|@|$)")),
    ("python", re.compile(_OFFICIAL + r"python(:|@|$)")),
    ("java", re.compile(_OFFICIAL + r"(maven|gradle)(:|@|$)")),
    ("rust", re.compile(_OFFICIAL + r"rust(:|@|$)")),
)
# Each ecosystem's planner: (stage, image, workdir, workdirs, packages) -> Plan.
_PLANNERS: dict[str, Callable[[Stage, str, str, dict[int, str], list[str]], Plan]] = {
    "go": go.plan, "node": node.plan, "python": python.plan, "java": java.plan, "rust": rust.plan,
}


def check(ctx: Context) -> Iterator[Diagnostic]:
    built = [stage for stage in ctx.stages if stage.from_ is not None]
    if len(built) != 1:
        return
    stage = built[0]
    image = stage.from_.image or ""
    ecosystem = next((name for name, pattern in _ECOSYSTEMS if pattern.search(image.lower())), None)
    if ecosystem is None:
        return
    runs = [i for i in stage.instructions if isinstance(i, n.Run)]
    builds = runs_pip if ecosystem == "python" else lambda run: runs_tool(run, BUILD_TOOLS[ecosystem])
    if not any(builds(run) for run in runs) or not gains(stage, ecosystem, image):
        return
    if not any(isinstance(i, (n.Cmd, n.Entrypoint)) for i in stage.instructions):
        return  # runs nothing of its own: a toolbox or a base for other images, whose toolchain is the point
    message = "A single stage ships the build toolchain: split it into a build stage and a runtime stage"
    try:
        plan = _plan(stage, ecosystem, image, global_args(list(ctx.stages)))
    except Blocked as why:
        yield ctx.decline(stage.from_, message, str(why))
        return
    yield ctx.report(stage.from_, f"{message}: {explain(stage, plan)}", split_fix(ctx, stage, plan))


# ---------------------------------------------------------------- what blocks a split


def _plan(stage: Stage, ecosystem: str, image: str, globals_: dict[str, str | None]) -> Plan:
    """The ecosystem's plan for the stage; Blocked by what would keep any
    split from running as the original did, or by the ecosystem's planner."""
    if "$" in image.split(":")[0]:
        raise Blocked("the image name has a variable")
    workdir = _base_workdir(ecosystem, image)
    workdirs: dict[int, str] = {}
    packages: list[str] = []
    values = Values(globals_, BASE_ENV.get(ecosystem, {}))
    user: str | None = None  # the USER in effect
    clones: list[str] = []
    external: list[n.Instruction] = []
    replayed: list[n.Run] = []
    for instruction in stage.instructions[1:]:
        values.see(instruction)
        if isinstance(instruction, n.Workdir):
            written = values.expand(instruction.value.value if instruction.value else "")
            if written is None:
                raise Blocked("a WORKDIR with a variable whose value dfix does not know (no ENV or ARG default)")
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
            if ecosystem in ARTIFACT_ONLY:
                # its files may be what the program runs with, and may not run on distroless
                raise Blocked("a COPY --from brings files from another image")
            external.append(instruction)  # the runtime copies them from that image again
        if isinstance(instruction, n.User):
            user = instruction.value.value if instruction.value else None
        if isinstance(instruction, n.Run):
            if ecosystem in ("go", "rust", "java") and makes_source_folders(instruction):
                continue
            if is_setup(instruction):
                check_replayable(instruction, user)
                replayed.append(instruction)
                continue
            if ecosystem == "python" and runs_pip(instruction) and user and not is_root(user):
                raise Blocked(f"pip runs as `{user}`, who could not create the virtualenv in /opt")
            packages += check_run(instruction, ecosystem, clones, workdir or "/")
        if isinstance(instruction, (n.Cmd, n.Entrypoint)):
            _check_runtime_command(instruction)
    if workdir is None:
        raise Blocked(f"no WORKDIR, and dfix does not know the working directory of {image}")
    if any(not (clone + "/").startswith(workdir.rstrip("/") + "/") or workdir == "/" for clone in clones):
        raise Blocked("a RUN runs `git clone` outside the application folder, whose files would not reach the runtime")
    used = tools_the_container_runs(stage, packages)
    if used and ecosystem != "python":  # Python's runtime installs them again
        raise Blocked(f"the container runs {', '.join(used)}, which the runtime image does not have")
    plan = _PLANNERS[ecosystem](stage, image, workdir, workdirs, packages)
    plan.workdir = workdir
    plan.workdirs = workdirs
    plan.replayed = replayed
    plan.repeated_copies += [copy for copy in external if copy not in plan.repeated_copies]
    for run in replayed:
        changed = changes_built_files(run, workdirs[id(run)], [destination for _, destination in plan.copies])
        if changed:
            raise Blocked(f"a setup RUN changes {changed}, which the runtime copies from the build")
    missing = changes_missing_files(replayed, workdirs) if ecosystem in ARTIFACT_ONLY else None
    if missing:
        raise Blocked(f"a setup RUN changes {missing}, which the runtime (the artifact alone) does not have")
    if replayed and plan.runtime_image.startswith("gcr.io/distroless"):
        # distroless has no shell to run the setup again; the static binary runs on any Debian
        plan.runtime_image = "debian:bookworm-slim"
        plan.runtime_setup.insert(0, install_line(["ca-certificates"], alpine=False))  # distroless had them
        plan.notes = [note for note in plan.notes if "distroless" not in note]
        plan.run_as_new_user()
        plan.notes.append("the setup RUNs need a shell, so the static binary runs on debian:bookworm-slim")
    if user is not None:
        # the author's user, carried to the runtime when its image has it or the replayed setup creates it
        if not (image_has_user(plan.runtime_image, user) or user.partition(":")[0] in users_created(replayed)):
            raise Blocked(f"the stage runs as `{user}`, a user the runtime image does not have")
        plan.keep_authors_user()
        plan.notes = [note.replace(" as `nonroot`", "") for note in plan.notes]
        plan.notes.append(f"it runs as `{user}`, as the original did")
    return plan


def _check_runtime_command(instruction: n.Instruction) -> None:
    body = instruction.body
    text = " ".join(body.values) if isinstance(body, n.JsonArray) else body.code
    if re.search(r"\b(npm run (build|dev)|go (run|build)|mvn|gradle|cargo (run|build)|setup\.py|pip install)\b", text):
        raise Blocked(f"the {instruction.KEYWORD} runs a build tool")
    if not isinstance(body, n.JsonArray) and re.search(r">|\btee\b", text):
        raise Blocked(f"the {instruction.KEYWORD} writes files, which the runtime's unprivileged user may not be allowed to")


def _base_workdir(ecosystem: str, image: str) -> str | None:
    return next((workdir for pattern, workdir in _BASE_WORKDIRS if pattern.search(image.lower())), None)


RULE = Rule(
    "DF100", "split-build-runtime", "A single stage ships its build toolchain", check, __doc__,
    fix=FixAvailability.UNSAFE, default=False,
)
