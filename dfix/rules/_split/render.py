"""The text of DF100's two stages: the original stage, now the build stage,
and the runtime stage its plan describes, written in the file's style."""

from __future__ import annotations

import re

from dfix.cst import nodes as n
from dfix.rules._api import Applicability, Context, Fix
from dfix.rules._split.plan import Plan
from dfix.rules._stages import Stage
from dfix.rules._users import CreateUser
from dfix.shell.edit import file_layout

# Instructions that configure the running container: they move to the runtime stage.
RUNTIME_ONLY = (n.Expose, n.Volume, n.Label, n.Healthcheck, n.Stopsignal, n.Entrypoint, n.Cmd)
# ... and the ones both stages need.
REPEATED = (n.Env, n.Workdir, n.Shell)


def split_fix(ctx: Context, stage: Stage, plan: Plan) -> Fix:
    """The fix that replaces the stage with its build and runtime stages."""
    body = ctx.tree.body
    start = _start(ctx.tree, stage)
    lines = list(body[start:])
    # the final USER goes to the runtime stage (and stays in the build when a RUN after it runs as that user)
    users = [line for line in lines if isinstance(line, n.User)]
    final_user = users[-1] if users else None
    kept, moved = _kept_and_moved(lines[1:], final_user)
    lower = stage.from_.keyword_text.code.islower()
    name = stage.from_.stage_name or "build"
    out = _build_stage(ctx, stage.from_, kept, plan, lower)
    out.append(ctx.newline)
    out += _runtime_stage(ctx, lines, moved, plan, lower, name)
    text = "".join(out)
    return _replace_from(ctx, start, text if lines[-1].newline else text.rstrip("\r\n"))


def explain(stage: Stage, plan: Plan) -> str:
    """What the split does, for the finding's message."""
    copies = ", ".join(source for source, _ in plan.copies)
    moved = sorted({i.KEYWORD for i in stage.instructions if isinstance(i, (*RUNTIME_ONLY, *REPEATED))})
    notes = list(plan.notes)
    if moved:
        notes.append(f"{', '.join(moved)} configure the runtime stage as before")
    if plan.user:
        notes.append(f"it runs as {plan.user}, not root")
    return f"build on {stage.from_.image}, run on {plan.runtime_image} with {copies} copied over; " + "; ".join(notes)


def _start(tree: n.Dockerfile, stage: Stage) -> int:
    return next(i for i, line in enumerate(tree.body) if line is stage.from_)


def _kept_and_moved(lines: list[n.Line], final_user: n.User | None) -> tuple[list[n.Line], list[n.Line]]:
    """The lines after the FROM that stay in the build stage, and those that
    move to the runtime stage, each with the comments right above it."""
    moved: list[n.Line] = []
    kept: list[n.Line] = []
    pending: list[n.Line] = []  # comments waiting for the instruction they describe
    for line in lines:
        if isinstance(line, n.Comment):
            pending.append(line)
            continue
        goes = isinstance(line, RUNTIME_ONLY) or line is final_user
        (moved if goes else kept).extend([*pending, line])
        pending = []
        if line is final_user and any(isinstance(later, n.Run) for later in lines[lines.index(line) + 1:]):
            kept.append(line)
    kept += pending
    return kept, moved


def _styled(text: str, lower: bool) -> str:
    """A new line with its keyword in the file's case."""
    word, space, rest = text.partition(" ")
    return (word.lower() if lower else word) + space + rest


def _build_stage(ctx: Context, from_line: n.From, kept: list[n.Line], plan: Plan, lower: bool) -> list[str]:
    nl = ctx.newline
    head = from_line.code.rstrip("\r\n")
    if not from_line.stage_name:
        head += " as build" if lower else " AS build"
    out = [head + nl]
    if plan.build_env:
        out.append(_styled(f"ENV {plan.build_env}", lower) + nl)
    appended = [new.removeprefix("RUN ") for anchor, new in plan.build_lines if anchor is None]
    last_run = next((line for line in reversed(kept) if isinstance(line, n.Instruction)), None)
    if not (isinstance(last_run, n.Run) and isinstance(last_run.body, n.ShellForm) and not last_run.heredocs):
        last_run = None
    for line in kept:
        for anchor, new in plan.build_lines:
            if anchor == id(line):
                out.append(_styled(new, lower) + nl)
        if line is last_run and appended:
            # one more command for the last RUN, not a RUN of its own (DL3059)
            out.append(line.code.rstrip("\r\n") + "".join(f" && {command}" for command in appended) + nl)
            appended = []
            continue
        out.append(_with_newline(line.code, nl))
    out += [_styled(f"RUN {command}", lower) + nl for command in appended]
    return out


def _runtime_stage(ctx: Context, lines: list[n.Line], moved: list[n.Line], plan: Plan, lower: bool, name: str) -> list[str]:
    nl = ctx.newline
    out = [_styled(f"FROM {plan.runtime_image}", lower) + nl]
    distroless = plan.runtime_image.startswith("gcr.io/distroless")
    replayed = {id(i) for i in (*plan.repeated_copies, *plan.replayed)}
    # the ARGs the runtime's lines use
    kept = [*moved, *plan.repeated_copies, *plan.replayed, *(line for line in lines if isinstance(line, n.Env))]
    runtime_text = "".join(line.code for line in kept)
    for step in plan.runtime_setup:
        if isinstance(step, CreateUser):
            # broken over lines the way the file's RUNs are
            step = "RUN " + file_layout(ctx.tree, nl).joined(step.commands())
        out.append(_styled(step, lower) + nl)
    copies = []
    for source, destination in plan.copies:
        # only the application folder changes owner (Node's), never node's own /usr/local
        chown = f" --chown={plan.copy_chown}" if plan.copy_chown and source == plan.workdir else ""
        copies.append(_styled(f"COPY --from={name}{chown} {source} {destination}", lower) + nl)
    if plan.copies_first:
        out += copies
    # the original's lines the runtime keeps, in their order: each COPY and
    # RUN in the working directory it had, the ENVs and ARGs before them; then
    # what the build made (after the setup: a replayed `mkdir /app` fails on a copied /app)
    current = None  # the runtime image's: written out before the first COPY or RUN (DL3045)
    for line in lines[1:]:
        if isinstance(line, n.Arg):
            names = [kv.key.value for kv in line.args]
            if any(re.search(r"\$\{?" + re.escape(key) + r"\b", runtime_text) for key in names):
                out.append(_with_newline(line.code.lstrip(), nl))
        # distroless has no shell for a SHELL to name
        elif isinstance(line, n.Env) or (isinstance(line, n.Shell) and not distroless):
            out.append(_with_newline(line.code.lstrip(), nl))
        elif id(line) in replayed:
            workdir = plan.workdirs.get(id(line), plan.workdir)
            if workdir != current:
                out.append(_styled(f"WORKDIR {workdir}", lower) + nl)
                current = workdir
            out.append(_with_newline(line.code.lstrip(), nl))
    if not plan.copies_first:
        out += copies
    if plan.workdir != (current or "/") or (distroless and current is None):
        # the same working directory as the original, written out: the runtime image's may differ
        out.append(_styled(f"WORKDIR {plan.workdir}", lower) + nl)
    if plan.user:  # None when the author's USER moved here
        out.append(_styled(f"USER {plan.user}", lower) + nl)
    for line in moved:
        out.append(_with_newline(line.code, nl))
    return out


def _with_newline(code: str, nl: str) -> str:
    return code if code.endswith("\n") else code + nl


def _replace_from(ctx: Context, start: int, text: str) -> Fix:
    """The stage's lines replaced by ``text``, parsed after the lines before it."""
    from dfix.cst.build import parse

    body = ctx.tree.body
    prefix = "".join(line.code for line in body[:start])
    tree = parse(prefix + text)
    new = tree.body[start:]
    replacements = [(body[start], new)] + [(line, ()) for line in body[start + 1:]]
    return Fix.replace_all(replacements, "Split into a build stage and a runtime stage", Applicability.UNSAFE)
