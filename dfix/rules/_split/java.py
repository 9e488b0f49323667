"""Java: the jar the CMD runs goes to the JRE image of the build image's
vendor and Java version."""

from __future__ import annotations

import re

from dfix.cst import nodes as n
from dfix.rules._split.plan import Blocked, Plan, only_build_packages
from dfix.rules._stages import Stage
from dfix.rules._workdir import after_workdir

# The build image's tag names the JDK: its JRE image, by version.
_JRE = (
    (re.compile(r"eclipse-temurin-(\d+)|temurin-(\d+)|jdk-?(\d+)"), "eclipse-temurin:{}-jre"),
    (re.compile(r"amazoncorretto-(\d+)|corretto-?(\d+)"), "amazoncorretto:{}"),
    (re.compile(r"ibm-semeru-(\d+)"), "ibm-semeru-runtimes:open-{}-jre"),
)


def plan(stage: Stage, image: str, workdir: str, workdirs: dict[int, str], packages: list[str]) -> Plan:
    only_build_packages(packages)
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
    result = Plan("java", runtime)
    result.copies = [(jar, jar)]
    result.run_as_new_user()
    result.notes.append("only the jar the CMD runs is copied")
    return result


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
