"""What every rule may ask about a tree, computed once per check.

In the spirit of LibCST's metadata providers: the engine builds one
``TreeFacts`` for a tree and hands it to every rule through its ``Context``
(``ctx.stages``, ``ctx.stage_of(instruction)``, ``ctx.suppressions``,
``ctx.run_scripts(...)``, ``ctx.commands``), so that a rule looks a fact up
instead of walking the tree again.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Iterator

from dfix.cst import nodes as n
from dfix.rules._run_scripts import RunScript, chosen, run_scripts
from dfix.rules._stages import Stage, stage_of, stages
from dfix.shell.nodes import SimpleCommand
from dfix.suppressions import Suppressions


@dataclass(frozen=True)
class TreeFacts:
    tree: n.Dockerfile
    #: the stages, the instructions before the first FROM (global ARGs) first
    stages: tuple[Stage, ...]
    #: the file's suppressions, the configured per-file ignores included
    suppressions: Suppressions
    #: every RUN's script, ONBUILD's and exec form's included
    all_run_scripts: tuple[RunScript, ...]

    @classmethod
    def of(cls, tree: n.Dockerfile, ignored: frozenset[str] = frozenset()) -> TreeFacts:
        return cls(
            tree, tuple(stages(tree)), Suppressions.of(tree, ignored), tuple(run_scripts(tree, exec_form=True)),
        )

    def stage_of(self, instruction: n.Instruction) -> Stage:
        """The stage a top-level instruction is in."""
        return stage_of(self.tree, instruction)

    def run_scripts(self, *, exec_form: bool = False, onbuild: bool = True) -> Iterator[RunScript]:
        """The RUN scripts (see ``_run_scripts.RunScript``): shell form and heredocs,
        exec form too with ``exec_form``, ONBUILD's unless ``onbuild`` is false."""
        return chosen(self.all_run_scripts, exec_form=exec_form, onbuild=onbuild)

    @cached_property
    def commands(self) -> tuple[tuple[SimpleCommand, RunScript], ...]:
        """Every simple command of every RUN (nested ones included), with its
        script: shell forms and heredocs in source order, then exec forms."""
        return tuple((command, script) for script in self.all_run_scripts for command in script.script.commands())
