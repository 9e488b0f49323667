"""Build stages: the instructions from one FROM to the next."""

from __future__ import annotations

from dataclasses import dataclass

from dfix.cst import nodes as n


@dataclass(frozen=True)
class Stage:
    #: None for the instructions before the first FROM (global ARGs)
    from_: n.From | None
    instructions: tuple[n.Instruction, ...]

    @property
    def name(self) -> str | None:
        return self.from_.stage_name if self.from_ is not None else None


def stages(tree: n.Dockerfile) -> list[Stage]:
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
        if any(each is instruction for each in stage.instructions):
            return stage
    raise ValueError("the instruction is not in this tree")
