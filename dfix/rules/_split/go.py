"""Go: the binary `go build -o PATH` writes goes to distroless when it is
static and nothing needs a shell, else to the Debian slim image of the
golang image's release."""

from __future__ import annotations

from dfix.cst import nodes as n
from dfix.rules._split.commands import command_name, script_of
from dfix.rules._split.plan import Blocked, Plan, install_line, only_build_packages
from dfix.rules._split.runtime_images import debian_release
from dfix.rules._stages import Stage
from dfix.rules._workdir import after_workdir

DISTROLESS = "gcr.io/distroless/static-debian12:nonroot"
# Packages that only a cgo build installs.
_CGO_PACKAGES = ("gcc", "g++", "libc6-dev", "musl-dev", "build-essential", "clang")


def plan(stage: Stage, image: str, workdir: str, workdirs: dict[int, str], packages: list[str]) -> Plan:
    only_build_packages(packages)
    outputs, static = _outputs(stage, workdirs)
    static = static or _env_in_stage(stage, "CGO_ENABLED") == "0"
    needs_shell = any(
        isinstance(i, (n.Cmd, n.Entrypoint, n.Healthcheck)) and not isinstance(getattr(i, "body", None), n.JsonArray)
        for i in stage.instructions
    )
    cgo = _env_in_stage(stage, "CGO_ENABLED") == "1" or any(p in _CGO_PACKAGES for p in packages)
    if not static and not cgo and not needs_shell:
        # nothing says the program uses cgo: build it without, and it runs anywhere
        result = Plan("go", DISTROLESS)
        result.build_env = "CGO_ENABLED=0"
        result.notes.append("nothing in the build uses cgo, so it is built with CGO_ENABLED=0 and runs on distroless as `nonroot`")
    elif static and not needs_shell:
        result = Plan("go", DISTROLESS)
        result.notes.append("the binary is static (CGO_ENABLED=0), so it runs on distroless as `nonroot`")
    else:
        release = debian_release(image)
        if release is None:
            raise Blocked(
                "the binary may use cgo or the CMD needs a shell, and dfix does not know which Debian release "
                "the golang image is (name it in the tag, as in golang:1.22-bookworm)"
            )
        result = Plan("go", f"debian:{release}-slim")
        # the golang image has the CA certificates (HTTPS clients need them), Debian slim does not
        result.runtime_setup.append(install_line(["ca-certificates"], alpine=False))
        result.notes.append(f"the binary may use cgo or the CMD needs a shell, so it runs on Debian {release} slim")
        result.run_as_new_user()
    result.copies = outputs
    return result


def _outputs(stage: Stage, workdirs: dict[int, str]) -> tuple[list[tuple[str, str]], bool]:
    """What the runtime copies, (build path, runtime path), and whether one
    of the commands sets CGO_ENABLED=0 for itself. The paths `go build -o`
    writes; else the binary the CMD or ENTRYPOINT runs, where `go build`
    (named after its folder or file) or `go install` (in /go/bin) puts it."""
    outputs: list[str] = []
    unnamed: list[str] = []  # the folders `go build` without `-o` writes a binary to
    installs = static = False
    for run in (i for i in stage.instructions if isinstance(i, n.Run)):
        script = script_of(run)
        cds = any(command_name(c) == "cd" for c in script.commands())
        for command in script.commands():
            values = [w.value for w in command.arguments]
            if command_name(command) != "go" or not values or values[0] not in ("build", "install", "get"):
                continue
            if any(a.value == "CGO_ENABLED=0" for a in command.assignments):
                static = True
            if values[0] != "build":
                installs = True
                continue
            if "-o" not in values:
                if cds:
                    raise Blocked("`go build` without `-o` after a `cd`")
                files = [v for v in values if v and v.endswith(".go")]
                if files:  # `go build main.go` writes ./main
                    outputs.append(after_workdir(workdirs[id(run)], files[0].rsplit("/", 1)[-1][:-3]))
                else:
                    unnamed.append(workdirs[id(run)])
                continue
            if values.index("-o") + 1 >= len(values):
                raise Blocked("`go build -o` names no file")
            output = values[values.index("-o") + 1]
            if output is None or "$" in output:
                raise Blocked("the `go build -o` path has a variable")
            if not output.startswith("/"):
                if cds:
                    raise Blocked("a relative `go build -o` path after a `cd`")
                output = after_workdir(workdirs[id(run)], output)
            if output.endswith("/"):
                raise Blocked("`go build -o` names a folder")
            outputs.append(output)
    if outputs:
        return [(output, output) for output in dict.fromkeys(outputs)], static
    if not unnamed and not installs:
        raise Blocked("no `go build -o` to take the binary from")
    return [_named_by_command(stage, workdirs, unnamed, installs)], static


def _named_by_command(stage: Stage, workdirs: dict[int, str], unnamed: list[str], installs: bool) -> tuple[str, str]:
    """The binary the CMD or ENTRYPOINT runs, when the build put it where
    dfix can tell: in a folder `go build` ran in, or in /go/bin (`go install`).
    A wrong guess fails the build (COPY finds nothing), not the container."""
    program = None
    for instruction in stage.instructions:
        if isinstance(instruction, (n.Cmd, n.Entrypoint)) and isinstance(instruction.body, n.JsonArray):
            if instruction.body.values and (program is None or isinstance(instruction, n.Entrypoint)):
                program = (instruction.body.values[0], workdirs.get(id(instruction), "/go"))
    if program is None:
        raise Blocked("`go build` without `-o`: the binary's name comes from the module, and no exec-form CMD names it")
    name, workdir = program
    if "$" in name or _env_in_stage(stage, "GOBIN") or _env_in_stage(stage, "GOOS") or _env_in_stage(stage, "GOARCH"):
        raise Blocked("the binary's path depends on GOBIN, GOOS or GOARCH")
    if installs and "/" not in name:
        # found on PATH, where the golang image has /go/bin first; the runtime's PATH has /usr/local/bin
        return f"/go/bin/{name}", f"/usr/local/bin/{name}"
    if installs and name.startswith("/go/bin/") and name.count("/") == 3:
        return name, name
    path = after_workdir(workdir, name)
    if path is not None and "/" in name and path.rsplit("/", 1)[0] in unnamed:
        return path, path
    raise Blocked("`go build` without `-o`: the binary's name comes from the module")


def _env_in_stage(stage: Stage, key: str) -> str | None:
    value = None
    for instruction in stage.instructions:
        if isinstance(instruction, n.Env):
            for pair in instruction.pairs:
                if pair.key.value == key:
                    value = pair.value.value.strip("\"'")
    return value
