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
    result = Plan("java", runtime)
    result.copies = _jars_of(stage, workdir)
    result.run_as_new_user()
    result.notes.append("only the jars and classes the java command runs are copied")
    return result


def _jars_of(stage: Stage, workdir: str) -> list[tuple[str, str]]:
    """What the runtime copies, (source, destination): the jar `java -jar`
    runs, or the entries of `java -cp`/`-classpath` (jars, folders, `lib/*`),
    as the last CMD or ENTRYPOINT names them (exec form, or a plain shell form)."""
    for instruction in reversed(stage.instructions):
        if not isinstance(instruction, (n.Cmd, n.Entrypoint)):
            continue
        body = instruction.body
        if isinstance(body, n.JsonArray):
            values = list(body.values)
        elif re.fullmatch(r"[\w./*:=$ {}\-]+", body.code.strip()):
            values = body.code.split()
        else:
            raise Blocked(f"a {instruction.KEYWORD} dfix cannot read")
        java = next((i for i, v in enumerate(values) if v.rsplit("/", 1)[-1] == "java"), None)
        if java is None:
            continue
        args = values[java + 1:]
        for option in ("-jar", "-cp", "-classpath", "--class-path"):
            if option in args and args.index(option) + 1 < len(args):
                entries = args[args.index(option) + 1]
                return [_copy_of(entry, workdir) for entry in (entries.split(":") if option != "-jar" else [entries])]
        raise Blocked("the java command names no -jar, -cp or -classpath: dfix does not know what to copy")
    raise Blocked("no CMD or ENTRYPOINT runs `java -jar` or `java -cp`: dfix does not know which jar to copy")


def _copy_of(entry: str, workdir: str) -> tuple[str, str]:
    """The COPY of one class path entry: a jar or folder as it is; `target/*.jar`
    (a shell glob) and `lib/*` (Java's wildcard) into their folder."""
    if "$" in entry or "?" in entry or "[" in entry:
        raise Blocked("the jar's path has a variable or a pattern dfix cannot copy")
    if entry.endswith("/*"):
        entry = entry[:-2]  # every jar of the folder: the folder
    resolved = after_workdir(workdir, entry)
    if resolved is None or "*" in resolved.rsplit("/", 1)[0]:
        raise Blocked("dfix cannot resolve the jar's path")
    if "*" in resolved:
        return resolved, resolved.rsplit("/", 1)[0] + "/"
    return resolved, resolved
