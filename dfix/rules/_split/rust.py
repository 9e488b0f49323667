"""Rust: the release binary the CMD or ENTRYPOINT runs goes to the Debian
slim image of the rust image's release."""

from __future__ import annotations

from dfix.cst import nodes as n
from dfix.rules._split.plan import Blocked, Plan, install_line, runtime_libraries
from dfix.rules._stages import Stage
from dfix.rules._workdir import after_workdir


def plan(stage: Stage, image: str, workdir: str, workdirs: dict[int, str], packages: list[str]) -> Plan:
    if "alpine" in image:
        raise Blocked("a Rust build on Alpine: dfix does not know which Alpine runs it")
    release = "bullseye" if "bullseye" in image else "bookworm"
    libraries = runtime_libraries(packages, release)
    binary = None
    for instruction in reversed(stage.instructions):
        if isinstance(instruction, (n.Cmd, n.Entrypoint)) and isinstance(instruction.body, n.JsonArray) and instruction.body.values:
            first = instruction.body.values[0]
            if "target/release/" in first and "$" not in first:
                binary = after_workdir(workdir, first)
                break
    if binary is None:
        raise Blocked("no exec-form CMD or ENTRYPOINT runs a binary under target/release/")
    result = Plan("rust", f"debian:{release}-slim")
    result.copies = [(binary, binary)]
    if any(library.startswith("libssl") for library in libraries):
        libraries.append("ca-certificates")  # TLS: the rust image has the CA bundle, Debian slim does not
    if libraries:  # the libraries the binary links (openssl for reqwest, ...)
        result.runtime_setup.append(install_line(libraries, alpine=False))
        result.notes.append(f"the runtime installs {' '.join(dict.fromkeys(libraries))} for the build's -dev packages")
    result.run_as_new_user()
    result.notes.append(f"the binary runs on the Debian slim image of the rust image's release ({release})")
    return result
