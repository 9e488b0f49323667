"""The `AS` of a FROM is written in the casing of its `FROM`.

## Why
BuildKit reads `AS`, `as` and `As` alike, but its FromAsCasing check reports a
`FROM ... as name` whose `AS` is not cased like the `FROM` keyword: mixing
`FROM` with `as` reads as a typo. BuildKit only asks this of a `FROM` written
all in upper or all in lower case; a mixed-case `From` is left to the
keyword-casing rule (DF001).

## Example
    FROM golang:1.22 as builder

becomes

    FROM golang:1.22 AS builder

## Fix
Safe: the casing of `AS` does not change what the stage is called or built
from. `AS` follows `FROM` (`from golang as builder` stays as it is; with DF001
on, `FROM` becomes upper case first and `AS` follows it).
"""

from __future__ import annotations

from typing import Iterator

from dfix.cst import nodes as n
from dfix.rules._api import Context, Diagnostic, Fix, Rule


def check(ctx: Context) -> Iterator[Diagnostic]:
    for instruction in ctx.tree.instructions:
        if not isinstance(instruction, n.From) or len(instruction.args) < 3:
            continue
        as_word = instruction.args[1]
        if as_word.value.upper() != "AS":
            continue
        wanted = _wanted_casing(instruction.keyword_text.value, as_word.value)
        if wanted is None:
            continue
        message = f"`{as_word.value}` and `{instruction.keyword_text.value}` keywords' casing do not match"
        fixed = as_word.with_changes(parts=_recased(as_word.parts, wanted))
        yield ctx.report(as_word, message, Fix.replace(as_word, fixed, f"Write `{wanted}`"))


def _wanted_casing(keyword: str, as_text: str) -> str | None:
    """`AS` or `as` when it must change to match the keyword; None when it
    matches or when the keyword is in mixed case (BuildKit's rule)."""
    if keyword == keyword.upper() and as_text != as_text.upper():
        return "AS"
    if keyword == keyword.lower() and as_text != as_text.lower():
        return "as"
    return None


def _recased(parts: tuple[n.Part, ...], wanted: str) -> tuple[n.Part, ...]:
    """The parts of the word in the wanted casing; continuations kept."""
    upper = wanted.isupper()
    return tuple(
        (part.upper() if upper else part.lower()) if isinstance(part, str) else part for part in parts
    )


RULE = Rule("DF002", "from-as-casing", "The AS of a FROM cased unlike the FROM keyword", check, __doc__)
