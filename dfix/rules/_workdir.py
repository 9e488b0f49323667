"""The working directory of a build: what WORKDIR sets, where a stage
starts, and paths joined the way BuildKit joins them (for DL3000, DL3003)."""

from __future__ import annotations

import re

from dfix.cst import nodes as n
from dfix.images import SCRATCH, WINDOWS, family_of_image_name
from dfix.rules._images import image_of
from dfix.cst.memo import last_tree, per_tree_table
from dfix.rules._stages import Stage, ancestry, stages

# A path dfix can read as written: no quotes, escapes, blanks or Windows
# separators. `$` is allowed; callers decide what a variable means for them.
_PLAIN = re.compile(r"[^\s\"'\\`]+")
_WINDOWS_ABSOLUTE = re.compile(r"[A-Za-z]:")


def is_plain(path: str) -> bool:
    return _PLAIN.fullmatch(path) is not None


def is_windows_path(path: str) -> bool:
    """``C:\\app``, ``c:/app`` or anything with a backslash."""
    return _WINDOWS_ABSOLUTE.match(path) is not None or "\\" in path


def join(base: str, relative: str) -> str:
    """``relative`` resolved against the absolute ``base`` and cleaned as
    Go's ``path.Clean`` does (``.``, ``..``, repeated and final slashes).

    A segment with a variable is kept as written, and so is every ``..``
    after it: the variable's value is only known when BuildKit expands it
    (and it may hold slashes), and BuildKit cleans the expanded path itself.
    """
    out = [segment for segment in base.split("/") if segment]
    opaque = False
    for segment in relative.split("/"):
        if segment in ("", "."):
            continue
        if "$" in segment:
            opaque = True
            out.append(segment)
        elif segment == ".." and not opaque:
            if out:
                out.pop()
        else:
            out.append(segment)
    return "/" + "/".join(out)


def after_workdir(current: str | None, value: str) -> str | None:
    """The working directory after ``WORKDIR value`` in ``current``; None
    when dfix cannot know it (a variable, quotes, a Windows path, or a
    relative path in an unknown directory)."""
    if not is_plain(value) or "$" in value or is_windows_path(value):
        return None
    if value.startswith("/"):
        return join("/", value)
    return join(current, value) if current is not None else None


def workdir_at(tree: n.Dockerfile, stage: Stage, instruction: n.Instruction) -> str | None:
    """The working directory ``instruction`` runs in: set by the WORKDIRs
    before it in its stage and in the stages it is built FROM; ``/`` at the
    start of a ``scratch`` stage. None when it depends on an image dfix does
    not know, or on a WORKDIR it cannot read (see ``why_unknown``)."""
    return _workdir_at(tree, stage, instruction)[0]


def why_unknown(tree: n.Dockerfile, stage: Stage, instruction: n.Instruction) -> str:
    """Why ``workdir_at`` does not know the working directory at ``instruction``."""
    return _workdir_at(tree, stage, instruction)[1]


#: the last tree asked about, and per stage the directory before each of its instructions:
#: rules ask about every instruction in turn, and each answer would scan the stage again
_per_stage = last_tree(per_tree_table)


def _workdir_at(tree: n.Dockerfile, stage: Stage, instruction: n.Instruction) -> tuple[str | None, str]:
    memo: dict[int, dict[int | None, tuple[str | None, str]]] = _per_stage(tree)
    key = id(stage.from_)
    states = memo.get(key)
    if states is None:
        states = memo[key] = _directories_in(tree, stage)
    return states.get(id(instruction), states[None])


def _directories_in(tree: n.Dockerfile, stage: Stage) -> dict[int | None, tuple[str | None, str]]:
    """The working directory (and why unknown) before each instruction of
    ``stage`` (by id), and after its last under None."""
    chain = list(reversed(ancestry(tree, stage)))
    # only a literal `scratch`: a `--build-arg` may give an ARG another image
    root = chain[0].from_.image if chain[0].from_ is not None else None
    if root is not None and family_of_image_name(root) == SCRATCH:
        current, reason = "/", ""
    else:
        current, reason = None, "the working directory of the base image is unknown"
    states: dict[int | None, tuple[str | None, str]] = {}
    for each in chain:
        for candidate in each.instructions:
            if each is stage:
                states[id(candidate)] = (current, reason)
            if isinstance(candidate, n.Workdir):
                value = candidate.value.value if candidate.value else ""
                before, current = current, after_workdir(current, value)
                if current is not None:
                    reason = ""
                elif before is not None or value.startswith("/"):
                    reason = "an earlier WORKDIR has a variable, quotes or a Windows path"
            elif each is not stage and isinstance(candidate, n.Onbuild) and isinstance(candidate.inner, n.Workdir):
                # BuildKit runs a parent stage's ONBUILD triggers in the child
                current, reason = None, "a parent stage has an ONBUILD WORKDIR"
    states[None] = (current, reason)
    return states


def on_windows(tree: n.Dockerfile, stage: Stage) -> bool:
    """Whether the stage is built on a Windows image (by its root image's name)."""
    root = ancestry(tree, stage)[-1]
    return family_of_image_name(image_of(tree, root)) == WINDOWS


def built_from(tree: n.Dockerfile, stage: Stage) -> bool:
    """Whether a later stage is (or may be) built FROM ``stage``: by its
    name, or by an image name with a variable dfix cannot fill in."""
    all_stages = stages(tree)
    position = next(i for i, each in enumerate(all_stages) if each.from_ is stage.from_)
    name = (stage.name or "").lower()
    for later in all_stages[position + 1:]:
        image = image_of(tree, later).lower()
        raw = (later.from_.image or "").lower() if later.from_ is not None else ""
        if "$" in image or (name and name in (image, raw)):
            return True
    return False
