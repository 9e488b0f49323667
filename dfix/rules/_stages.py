"""Build stages: the instructions from one FROM to the next."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from dfix.cst import nodes as n
from dfix.cst.memo import last_tree


@dataclass(frozen=True)
class Stage:
    #: None for the instructions before the first FROM (global ARGs)
    from_: n.From | None
    instructions: tuple[n.Instruction, ...]

    @property
    def name(self) -> str | None:
        return self.from_.stage_name if self.from_ is not None else None

    def index(self, instruction: n.Instruction) -> int | None:
        """Where ``instruction`` stands in the stage (None when not in it):
        a table lookup, as rules ask it for every RUN of stages of thousands."""
        return self._indexes.get(id(instruction))

    @cached_property
    def _indexes(self) -> dict[int, int]:
        return {id(each): i for i, each in enumerate(self.instructions)}


def stages(tree: n.Dockerfile) -> list[Stage]:
    return list(_stages_of(tree))


@last_tree
def _stages_of(tree: n.Dockerfile) -> tuple[Stage, ...]:
    return tuple(_stages(tree))


def _stages(tree: n.Dockerfile) -> list[Stage]:
    out: list[Stage] = []
    current: list[n.Instruction] = []
    head: n.From | None = None
    for instruction in tree.instructions:
        if isinstance(instruction, n.From):
            if current or head is not None:
                out.append(Stage(head, tuple(current)))
            head, current = instruction, [instruction]
        else:
            current.append(instruction)
    out.append(Stage(head, tuple(current)))
    return out


def stage_of(tree: n.Dockerfile, instruction: n.Instruction) -> Stage:
    for stage in stages(tree):
        if stage.index(instruction) is not None:
            return stage
    raise ValueError("the instruction is not in this tree")


def earlier_stage(tree: n.Dockerfile, stage: Stage, name: str) -> Stage | None:
    """The stage called ``name`` before ``stage`` (what ``FROM name`` refers to)."""
    found = None
    for each in stages(tree):
        if each.from_ is stage.from_:
            return found
        if each.name and each.name.lower() == name.lower():
            found = each
    return None


def ancestry(tree: n.Dockerfile, stage: Stage) -> list[Stage]:
    """The stage, then the stages it is built FROM (by name), nearest first."""
    chain = [stage]
    while len(chain) < 20:
        current = chain[-1]
        image = current.from_.image if current.from_ is not None and current.from_.image else ""
        parent = earlier_stage(tree, current, image) if image else None
        if parent is None:
            return chain
        chain.append(parent)
    return chain


def explicit_shell(tree: n.Dockerfile, stage: Stage, instruction: n.Instruction) -> list[str] | None:
    """The SHELL in effect at ``instruction``: set in its stage before it, or
    in the stages it is built FROM; None when no SHELL instruction sets it."""
    for index, each in enumerate(ancestry(tree, stage)):
        shell = None
        for candidate in each.instructions:
            if index == 0 and candidate is instruction:
                break
            if isinstance(candidate, n.Shell) and isinstance(candidate.body, n.JsonArray):
                shell = list(candidate.body.values)
        if shell is not None:
            return shell
    return None


def shell_at(tree: n.Dockerfile, stage: Stage, instruction: n.Instruction) -> list[str]:
    """The shell that runs ``instruction``'s shell form: ``/bin/sh -c``
    unless a SHELL instruction says otherwise."""
    return explicit_shell(tree, stage, instruction) or ["/bin/sh", "-c"]


def env_before(tree: n.Dockerfile, stage: Stage, instruction: n.Instruction) -> dict[str, str]:
    """The ENV values set before ``instruction``, in its stage and in the
    stages it is built FROM (quotes around a value removed)."""
    env: dict[str, str] = {}
    for each in reversed(ancestry(tree, stage)):
        for candidate in each.instructions:
            if candidate is instruction:
                break
            if isinstance(candidate, n.Env):
                env.update((pair.key.value, pair.value.value.strip("\"'")) for pair in candidate.pairs)
    return env
