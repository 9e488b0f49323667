"""What DF100's split does to a stage, and what keeps it from splitting."""

from __future__ import annotations

from dataclasses import dataclass, field

from dfix.cst import nodes as n
from dfix.images import DEBIAN
from dfix.rules._runtime_libs import BUILD_ONLY, runtime_library
from dfix.rules._users import UID_GID, CreateUser


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
    #: the copies go before the repeated lines (Python's virtualenv: the application's
    #: files change more often, and come after it for the layer cache)
    copies_first: bool = False
    #: the working directory the original ends in, which the runtime keeps
    workdir: str = "/"
    #: the working directory at each instruction of the original (by id), resolved
    workdirs: dict[int, str] = field(default_factory=dict)
    #: the original RUNs the runtime repeats (users, folders, links: no toolchain needed)
    replayed: list[n.Run] = field(default_factory=list)
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


def only_build_packages(packages: list[str]) -> None:
    """Blocked when a non-Python build installs packages the runtime may load:
    only Python's planner knows which runtime library each one stands for."""
    others = [package for package in packages if package not in BUILD_ONLY]
    if others:
        raise Blocked(f"the build installs system packages the runtime may need: {', '.join(others)}")


def runtime_libraries(packages: list[str], release: str) -> list[str]:
    """The Debian runtime libraries of a compiled build's `-dev` packages
    (Rust's `libssl-dev` -> `libssl3`); Blocked by any other package the
    runtime may need, or a `-dev` package whose library dfix does not know."""
    libraries = []
    for package in packages:
        library = runtime_library(package, False, release) if package.endswith("-dev") else None
        if library is not None:
            libraries.append(library)
        elif package not in BUILD_ONLY:
            raise Blocked(f"the build installs system packages the runtime may need: {package}")
    return libraries


def install_line(packages: list[str], alpine: bool) -> str:
    """The RUN that installs ``packages`` in a runtime stage, leaving no cache."""
    names = " ".join(dict.fromkeys(packages))
    if alpine:
        return f"RUN apk add --no-cache {names}"
    return f"RUN apt-get update && apt-get install -y --no-install-recommends {names} && rm -rf /var/lib/apt/lists/*"
