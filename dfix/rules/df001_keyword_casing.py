"""Instruction keywords are written in upper case.

## Why
BuildKit reads `run`, `Run` and `RUN` alike, but its ConsistentInstructionCasing
check asks for one casing throughout, and upper case is what every Dockerfile
reader expects: keywords stand out from their arguments.

## Example
    from alpine:3.20
    run apk add --no-cache curl

becomes

    FROM alpine:3.20
    RUN apk add --no-cache curl

## Fix
Safe: the casing of a keyword does not change what it does. Only the keyword
changes (ONBUILD's inner one too); continuations inside it are kept.
"""

from __future__ import annotations

from typing import Iterator

from dfix.cst import nodes as n
from dfix.rules._api import Context, Diagnostic, Fix, Rule


def check(ctx: Context) -> Iterator[Diagnostic]:
    for instruction in ctx.tree.instructions:
        fixed = _upper_keywords(instruction)
        if fixed is instruction:
            continue
        wrong = next(i for i in (instruction, getattr(instruction, "inner", None)) if _is_lower(i))
        message = f"Instruction keyword `{wrong.keyword_text.value}` is not in upper case"
        yield ctx.report(wrong.keyword_text, message, Fix.replace(instruction, fixed, "Write keywords in upper case"))


def _is_lower(instruction: n.Instruction | None) -> bool:
    return (
        instruction is not None
        and not isinstance(instruction, n.Unknown)
        and instruction.keyword_text.value != instruction.keyword
    )


def _upper_keywords(instruction: n.Instruction) -> n.Instruction:
    """The instruction with upper-case keywords, or the same node if they are."""
    changes: dict[str, object] = {}
    if isinstance(instruction, n.Unknown):
        return instruction  # not a keyword BuildKit knows: leave it as written
    if instruction.keyword_text.value != instruction.keyword:
        parts = tuple(part.upper() if isinstance(part, str) else part for part in instruction.keyword_text.parts)
        changes["keyword_text"] = n.Fragment(parts)
    inner = getattr(instruction, "inner", None)
    if inner is not None:
        fixed_inner = _upper_keywords(inner)
        if fixed_inner is not inner:
            changes["inner"] = fixed_inner
    return instruction.with_changes(**changes) if changes else instruction


RULE = Rule("DF001", "keyword-casing", "Instruction keywords in upper case", check, __doc__)
