"""`pip install` keeps its download cache in the image without `--no-cache-dir`.

## Why
pip caches every wheel it downloads under `~/.cache/pip`. In an image that
cache is dead weight, often as large as the packages themselves.

## Example
    RUN pip install -r requirements.txt

becomes

    RUN pip install --no-cache-dir -r requirements.txt

## Fix
Safe: the same packages are installed; only the cache is not kept. The flag
goes right after `install` (also in `python -m pip install`, and in an
exec-form `RUN ["pip", "install", ...]`, as a new element). Nothing is
reported when the cache does not reach the image anyway: a BuildKit cache
mount serves pip's cache, or `PIP_NO_CACHE_DIR` is set (an `ENV` of the stage
or of the stages it is built from, or in the RUN itself).
"""

from __future__ import annotations

import re
from typing import Iterator

from dfix.cst import nodes as n
from dfix.rules._api import Context, Diagnostic, Fix, Rule
from dfix.cst.memo import last_tree, per_tree_table
from dfix.rules._run_scripts import RunScript
from dfix.rules._runs import insert_exec_argument, insert_flag, mount_targets, opaque_mentions, report
from dfix.rules._stages import Stage, earlier_stage
from dfix.shell.commands import Invocation
from dfix.shell.nodes import Word

_TRUE = re.compile(r"PIP_NO_CACHE_DIR=(1|true|True|TRUE|on|On|ON|yes|Yes|YES)")
_TRUTHY = {"1", "true", "on", "yes"}
MESSAGE = "`pip install` keeps its download cache in the image; use `--no-cache-dir`"


def install_word(call: Invocation) -> Word | None:
    """The `install` of `pip install`, `pip3 install` or `python -m pip install`."""
    name = call.name
    words = list(call.arguments)
    if name.startswith("python"):
        values = [w.value for w in words]
        for index in range(len(values) - 1):
            if values[index] == "-m" and values[index + 1] == "pip":
                words = words[index + 2:]
                break
        else:
            return None
    elif not name.startswith("pip") or "pipx" in name or "pipenv" in name:
        return None
    return next((w for w in words if w.value == "install"), None)


def _stage_disables_cache(tree: n.Dockerfile, stage: Stage, before: n.Instruction | None, seen: int = 0) -> bool:
    """Whether an ENV PIP_NO_CACHE_DIR=1 comes before ``before`` in the stage, or in one it is built FROM."""
    first = _first_disabling(tree, stage)
    if first is not None:
        if before is None:
            return True
        position = stage.index(before)
        if position is None:
            position = len(stage.instructions)
        if first < position:
            return True
    image = stage.from_.image if stage.from_ and stage.from_.image else ""
    parent = earlier_stage(tree, stage, image) if image else None
    return parent is not None and seen < 10 and _stage_disables_cache(tree, parent, None, seen + 1)


#: the last tree checked and, per stage, its answer: asked once per RUN, it would scan the stage each time
_per_stage = last_tree(per_tree_table)


def _first_disabling(tree: n.Dockerfile, stage: Stage) -> int | None:
    memo: dict[int, int | None] = _per_stage(tree)
    key = id(stage.from_)
    if key not in memo:
        memo[key] = _scan_for_disabling(stage)
    return memo[key]


def _scan_for_disabling(stage: Stage) -> int | None:
    """The index of the stage's first ENV that turns pip's cache off."""
    for index, instruction in enumerate(stage.instructions):
        if isinstance(instruction, n.Env):
            for pair in instruction.pairs:
                if pair.key.value == "PIP_NO_CACHE_DIR" and pair.value.value.strip("\"'").lower() in _TRUTHY:
                    return index
    return None


def _exempt(ctx: Context, body: RunScript) -> bool:
    if any(".cache/pip" in target for target in mount_targets(body.run)):
        return True
    if _TRUE.search(body.script.value):
        return True
    return _stage_disables_cache(ctx.tree, body.stage, body.instruction)


def check(ctx: Context) -> Iterator[Diagnostic]:
    for body in ctx.run_scripts():
        installs = [(call, anchor) for call in body.invocations() if (anchor := install_word(call)) is not None
                    and all(w.value != "--no-cache-dir" for w in call.arguments)]
        opaque = opaque_mentions(body, r"(?<![\w-])(pip[\w.]*|python[\w.]*\s+-m\s+pip)\b[^;&|]*\binstall\b")
        if not (installs or opaque) or _exempt(ctx, body):  # the exemptions read the whole stage: last
            continue
        for call, anchor in installs:
            fix = insert_flag(call.command, anchor, "--no-cache-dir", "Add `--no-cache-dir`")
            yield report(ctx, body, call.command, MESSAGE, fix)
        if opaque:
            yield ctx.decline(body.run, MESSAGE, "the shell text is opaque to dfix")
    for body in ctx.run_scripts(exec_form=True):
        if body.form != "exec":
            continue
        run, array, stage = body.run, body.run.body, body.stage
        argv = array.values
        install = _exec_install_index(argv)
        if install is None or "--no-cache-dir" in argv or install == len(argv) - 1:
            continue
        if any(".cache/pip" in target for target in mount_targets(run)) or _stage_disables_cache(ctx.tree, stage, run):
            continue
        new = insert_exec_argument(array, install, "--no-cache-dir")
        yield ctx.report(run, MESSAGE, Fix.replace(array, new, "Add `--no-cache-dir`"))


def _exec_install_index(argv: tuple[str, ...]) -> int | None:
    """Where `install` is in an exec-form ``pip install`` or ``python -m pip install``."""
    name = argv[0].rsplit("/", 1)[-1] if argv else ""
    if name.startswith("python") and argv[1:3] == ("-m", "pip"):
        start = 3
    elif name.startswith("pip") and "pipx" not in name and "pipenv" not in name:
        start = 1
    else:
        return None
    return next((index for index in range(start, len(argv)) if argv[index] == "install"), None)


RULE = Rule("DL3042", "pip-no-cache-dir", "pip install without --no-cache-dir", check, __doc__)
