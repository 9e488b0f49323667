"""Instructions a later one of the same kind overrides in the same stage
(CMD, ENTRYPOINT, HEALTHCHECK): only the last one reaches the image.

Shared by DL4003, DL4004 and DL3012. Like hadolint, each instruction after
the first of its kind in a stage is reported (suppressing a finding works
where hadolint's pragma goes); the fix removes the instruction before it,
the one that never takes effect. ONBUILD ones are not counted: they run in
another build.

Comments above the removed instruction stay, since dfix cannot tell whether
they describe it or the lines around it, except the suppression comments
(`# hadolint ignore=`, `# dfix: ignore=`) in the comment lines right above
it: they only ever applied to it, and kept they would silence whatever
instruction comes to follow them.
"""

from __future__ import annotations

import re
from typing import Iterator

from dfix.cst import nodes as n
from dfix.rules._api import Context, Diagnostic, Fix

_PRAGMA = re.compile(r"#\s*(?:dfix:\s*ignore|hadolint\s+ignore)\s*=", re.I)


def overridden(ctx: Context, kind: type[n.Instruction], message: str) -> Iterator[Diagnostic]:
    """A finding on each ``kind`` instruction that overrides an earlier one of
    its stage, with a fix that removes the earlier one."""
    for stage in ctx.stages:
        previous: n.Instruction | None = None
        for instruction in stage.instructions:
            if not isinstance(instruction, kind):
                continue
            if previous is not None:
                text = message.format(line=previous.start_line)
                if _valid(previous):
                    yield ctx.report(instruction, text, _removal(ctx, previous))
                else:
                    reason = f"the earlier {previous.keyword} is not valid: removing it would make a failing build pass"
                    yield ctx.decline(instruction, text, reason)
            previous = instruction


_HEALTHCHECK_FLAGS = frozenset(("interval", "timeout", "start-period", "start-interval", "retries"))


def _valid(instruction: n.Instruction) -> bool:
    """Whether BuildKit accepts the instruction: it has a command and only
    flags it knows (CMD and ENTRYPOINT have none), and a HEALTHCHECK is
    `NONE` or `CMD` with a command."""
    if isinstance(instruction, n.Healthcheck):
        kind = instruction.kind.value.upper() if instruction.kind is not None else ""
        flags_known = all(flag.name in _HEALTHCHECK_FLAGS for flag in instruction.flags)
        return flags_known and (kind == "NONE" or (kind == "CMD" and instruction.body is not None))
    return not instruction.flags and getattr(instruction, "body", None) is not None


def _removal(ctx: Context, instruction: n.Instruction) -> Fix:
    keyword = instruction.keyword
    removed = [(pragma, ()) for pragma in _pragmas_above(ctx.tree, instruction)]
    return Fix.replace_all([*removed, (instruction, ())], f"Remove the {keyword} on line {instruction.start_line}")


def _pragmas_above(tree: n.Dockerfile, instruction: n.Instruction) -> list[n.Comment]:
    """The suppression comments in the comment lines right above ``instruction``."""
    body = tree.body
    index = next(i for i, line in enumerate(body) if line is instruction)
    found = []
    while index > 0 and isinstance(body[index - 1], n.Comment):
        index -= 1
        if _PRAGMA.match(body[index].text):
            found.append(body[index])
    return found
