"""What a RUN's script is, for every rule: shell form, the heredoc a RUN
runs, or exec form read as hadolint reads it (``RunScript``), found once
per tree (``run_scripts``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

from dfix.cst import nodes as n
from dfix.cst.memo import kept_on, last_tree
from dfix.cst.visit import walk
from dfix.rules._stages import Stage, stages
from dfix.shell import edit
from dfix.shell.commands import POSIX_SHELLS, Invocation, program_name
from dfix.shell.nodes import CommandList, Pipeline, Script, SimpleCommand
from dfix.shell.parse import parse_script

@dataclass(frozen=True)
class RunScript:
    """A RUN's script (ONBUILD's too), its stage, and how it is written:

    - "shell": ``RUN cmd``; its nodes are in the tree, so findings point at
      commands and fixes edit them;
    - "heredoc": ``RUN <<EOF`` (or ``RUN bash <<EOF``), the script is the
      heredoc's body, read for findings only: dfix does not edit inside
      heredocs, findings go on the RUN;
    - "exec": ``RUN ["a", "b"]``, its strings joined with spaces and read as
      shell, as hadolint reads them; findings go on the RUN.
    """

    instruction: n.Instruction  # the top-level instruction: the RUN, or its ONBUILD
    run: n.Run
    script: Script
    stage: Stage
    form: str = "shell"

    @property
    def onbuild(self) -> bool:
        return self.instruction is not self.run

    @property
    def in_tree(self) -> bool:
        """Whether the script's nodes are in the tree (shell form)."""
        return self.form == "shell"

    @property
    def in_heredoc(self) -> bool:
        return self.form == "heredoc"

    def anchor(self, node: n.Node | None) -> n.Node:
        """``node`` to report on, when it is in the tree; else the RUN."""
        return node if self.in_tree and node is not None else self.run

    def invocations(self) -> list[Invocation]:
        return list(self.script.invocations)

    def top_level_of(self, command: SimpleCommand) -> Pipeline | None:
        """The top-level pipeline a command stands in."""
        return _top_levels(self.script).get(id(command))


def _top_levels(script: Script) -> dict[int, Pipeline]:
    """The top-level pipeline of every simple command of ``script``, by the
    command's id: found in one walk, so that looking up every command of a
    RUN of thousands of ``&&`` stays linear."""
    return kept_on(script, "_top_levels", lambda: {
        id(node): pipeline
        for pipeline in edit.top_level_pipelines(script)
        for node in walk(pipeline)
        if isinstance(node, SimpleCommand)
    })


def run_scripts(tree: n.Dockerfile, *, exec_form: bool = False, onbuild: bool = True) -> Iterator[RunScript]:
    """Every RUN's script, ONBUILD's too unless ``onbuild`` is false: shell
    form and the heredoc a RUN runs, and with ``exec_form`` the exec-form
    RUNs as hadolint reads them. Found once per tree: a dozen rules ask, and
    heredocs and exec forms are parsed here."""
    return chosen(_run_scripts_of(tree), exec_form=exec_form, onbuild=onbuild)


def chosen(scripts: Iterable[RunScript], *, exec_form: bool, onbuild: bool) -> Iterator[RunScript]:
    """The scripts asked for: exec form only with ``exec_form``, ONBUILD's only with ``onbuild``."""
    return (script for script in scripts if (exec_form or script.form != "exec") and (onbuild or not script.onbuild))


@last_tree
def _run_scripts_of(tree: n.Dockerfile) -> tuple[RunScript, ...]:
    shell, exec_ = [], []
    for stage in stages(tree):
        for instruction in stage.instructions:
            run = n.unwrapped(instruction)
            if not isinstance(run, n.Run):
                continue
            if isinstance(run.body, n.ShellForm):
                script = heredoc_script(instruction, run.body.script)
                if script is not None:
                    shell.append(RunScript(instruction, run, script, stage, "heredoc"))
                else:
                    shell.append(RunScript(instruction, run, run.body.script, stage))
            elif isinstance(run.body, n.JsonArray):
                exec_.append(RunScript(instruction, run, parse_script([" ".join(run.body.values)]), stage, "exec"))
    return (*shell, *exec_)


def heredoc_script(instruction: n.Instruction, script: Script) -> Script | None:
    """The heredoc a RUN runs as its script: ``RUN <<EOF`` alone, or a shell
    reading it (``RUN bash <<EOF``, ``RUN <<EOF sh -e``)."""
    if not instruction.heredocs or not isinstance(script.body, CommandList) or len(script.body.parts) != 1:
        return None
    (pipeline,) = script.body.parts
    if not isinstance(pipeline, Pipeline) or len(pipeline.parts) != 1 or not isinstance(pipeline.parts[0], SimpleCommand):
        return None
    command = pipeline.parts[0]
    if [r.operator for r in command.redirects] not in (["<<"], ["<<-"]):
        return None
    words = command.words
    if words and (program_name(words[0]) not in POSIX_SHELLS or any(not (w.value or "").startswith("-") for w in words[1:])):
        return None
    return parse_script([instruction.heredocs[0].body])
