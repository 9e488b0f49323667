"""Python: pip installs into a virtualenv, which goes with the application's
files and the runtime libraries of the build's `-dev` packages to the slim
variant of the same Python image."""

from __future__ import annotations

import re

from dfix.cst import nodes as n
from dfix.images import ALPINE, DEBIAN
from dfix.rules._runtime_libs import BUILD_ONLY, PIP_SOURCE_BUILDS, runtime_library
from dfix.rules._split.commands import runs_pip, tools_the_container_runs
from dfix.rules._split.plan import Blocked, Plan, install_line
from dfix.rules._split.runtime_images import debian_release, slim
from dfix.rules._stages import Stage


def plan(stage: Stage, image: str, workdir: str, workdirs: dict[int, str], packages: list[str]) -> Plan:
    # the slim image is of the same Debian release as the build's: its library names
    release = debian_release(image) or "bookworm"
    alpine = "alpine" in image
    packages = packages + _source_builds(stage, alpine)
    runtime_packages = _runtime_packages(packages, alpine, release) + tools_the_container_runs(stage, packages)
    if re.search(r":2(\.|-|$)", image):
        raise Blocked("Python 2 has no venv module")
    result = Plan("python", slim(image, "python"))
    first_pip = next(run for run in stage.instructions if isinstance(run, n.Run) and runs_pip(run))
    result.build_lines += [
        (id(first_pip), "RUN python -m venv /opt/venv"),
        (id(first_pip), 'ENV PATH="/opt/venv/bin:$PATH"'),
    ]
    if runtime_packages:
        names = " ".join(dict.fromkeys(runtime_packages))
        result.runtime_setup.append(install_line(runtime_packages, "alpine" in image))
        result.notes.append(f"the runtime installs {names} in place of the build's packages")
    result.copies = [("/opt/venv", "/opt/venv")]
    result.copies_first = True
    result.repeated_copies = [i for i in stage.instructions if isinstance(i, (n.Copy, n.Add))]
    result.runtime_setup.append('ENV PATH="/opt/venv/bin:$PATH"')
    result.run_as_new_user(ALPINE if "alpine" in image else DEBIAN)
    result.notes.append("pip installs into /opt/venv, which is copied over with the application's files")
    return result


def _source_builds(stage: Stage, alpine: bool) -> list[str]:
    """The -dev packages of the source-built packages a pip command names
    (`pip install psycopg2`), as if the build had installed them."""
    out = []
    for run in (i for i in stage.instructions if isinstance(i, n.Run) and runs_pip(i)):
        for word in re.findall(r"[\w.-]+", run.code.lower()):
            name = re.split(r"[=<>~!\[]", word)[0]
            if name in PIP_SOURCE_BUILDS:
                out.append(PIP_SOURCE_BUILDS[name][1 if alpine else 0])
    return out


def _runtime_packages(packages: list[str], alpine: bool, release: str) -> list[str]:
    """What the runtime installs for the build's packages: a `-dev` package's
    runtime library, other packages as they are, compilers not at all."""
    runtime_packages = []
    for package in packages:
        if package in BUILD_ONLY:
            continue
        if package.endswith("-dev"):
            library = runtime_library(package, alpine, release)
            if library is None:
                where = "Alpine" if alpine else f"Debian {release}"
                raise Blocked(f"dfix does not know the runtime library of {package} in {where}")
            runtime_packages.append(library)
        else:
            runtime_packages.append(package)
    return runtime_packages
