"""Stage names are written in lower case, and so are the references to them.

## Why
BuildKit lowers a stage's name when it reads `FROM image AS Builder`: the
stage is `builder`, and its StageNameCasing check asks to write it so.
`COPY --from=Builder` and `RUN --mount=from=Builder` still find it (they
ignore case), but `FROM Builder` does not: BuildKit compares it with the
lowered names as written, takes `Builder` for an image, and fails with
"repository name must be lowercase" (moby/buildkit#2003).

## Example
    FROM golang:1.22 AS Builder
    RUN go build -o /app .
    FROM Builder AS Test
    FROM alpine:3.20
    COPY --from=Builder /app /app

becomes

    FROM golang:1.22 AS builder
    RUN go build -o /app .
    FROM builder AS test
    FROM alpine:3.20
    COPY --from=builder /app /app

## Fix
Safe: the stage is renamed together with every reference to it, ONBUILD
triggers included: a later `FROM Builder`, `COPY --from=Builder` and the
`from=` of a `RUN --mount`. BuildKit already knows the stage by its lower-case
name, so the build does not change, except that a `FROM Builder` that failed
now builds on the stage, as the classic builder did.

Declined when another stage has the same name but for case (BuildKit takes
them for one name, and which one a reference means is not clear), when a
reference through a variable names the stage in other than lower case
(`FROM ${BASE}` with `ARG BASE=Builder`: dfix does not rewrite the default),
or when a `--mount` reference cannot be rewritten exactly. A name
BuildKit refuses anyway (one with characters other than letters, digits,
`-`, `_` and `.`) is left alone.
"""

from __future__ import annotations

import csv
import re
from typing import Iterator

from dfix.cst import nodes as n
from dfix.rules._api import Context, Diagnostic, Fix, Rule, instructions
from dfix.rules._images import expand_global_args

# what BuildKit accepts as a stage name, once lowered
_VALID_NAME = re.compile(r"[a-z][a-z0-9\-_.]*")
# the `from=` field of a --mount value, with its field separator or quote before it
_MOUNT_FROM = re.compile(r"""((?:\A|[,"'])from=)([^,"'\s]*)""", re.IGNORECASE)


class _Declined(Exception):
    """A reference dfix cannot rename; the message says why."""


def check(ctx: Context) -> Iterator[Diagnostic]:
    froms = [each for each in ctx.tree.instructions if isinstance(each, n.From)]
    for position, from_ in enumerate(froms):
        name = from_.stage_name
        if name is None or name == name.lower() or not _VALID_NAME.fullmatch(name.lower()):
            continue
        message = f"Stage name `{name}` should be lower case"
        lower = name.lower()
        clash = next((f for f in froms if f is not from_ and (f.stage_name or "").lower() == lower), None)
        if clash is not None:
            reason = f"the stage on line {clash.start_line} is also called `{lower}` when case is ignored"
            yield ctx.decline(from_.args[2], message, reason)
            continue
        try:
            references = list(_references(ctx.tree, froms[position + 1:], lower))
        except _Declined as declined:
            yield ctx.decline(from_.args[2], message, str(declined))
            continue
        name_word = from_.args[2]
        replacements = [(name_word, _lowered_word(name_word)), *references]
        yield ctx.report(name_word, message, Fix.replace_all(replacements, f"Rename the stage to `{lower}`"))


def _references(tree: n.Dockerfile, later_froms: list[n.From], lower: str) -> Iterator[tuple[n.Node, n.Node]]:
    """The references to the stage whose casing must change, with their
    lower-case replacements. Raises _Declined for one dfix cannot rename."""
    for from_ in later_froms:
        image = from_.args[0] if from_.args else None
        if image is not None and _names(tree, image.value, lower):
            yield image, _lowered_word(image)
    for instruction in instructions(tree):
        for flag in instruction.flags:
            if isinstance(instruction, n.Copy) and flag.name == "from" and flag.value is not None:
                if _names(tree, flag.value, lower):
                    yield flag, flag.with_changes(parts=_lowered_after_equals(flag.parts))
            elif isinstance(instruction, n.Run) and flag.name == "mount" and flag.value is not None:
                if any(_names(tree, value, lower) for value in _mount_from_values(flag.value)):
                    yield flag, _mount_renamed(flag, lower)


def _names(tree: n.Dockerfile, reference: str, lower: str) -> bool:
    """Whether a reference names the stage and is not written in lower case.
    Raises _Declined when it goes through a variable whose ARG default names
    the stage in other than lower case."""
    if "$" in reference:
        expanded = expand_global_args(tree, reference)
        if expanded.lower() == lower and expanded != lower:
            raise _Declined(f"the reference `{reference}` names the stage through a variable")
        return False
    return reference.lower() == lower and reference != lower


def _lowered_word(word: n.Word) -> n.Word:
    return word.with_changes(parts=tuple(part.lower() if isinstance(part, str) else part for part in word.parts))


def _lowered_after_equals(parts: tuple[n.Part, ...]) -> tuple[n.Part, ...]:
    """The parts of ``--from=Name`` with the text after the first "=" lowered."""
    out: list[n.Part] = []
    seen = False
    for part in parts:
        if isinstance(part, str) and not seen and "=" in part:
            head, _, tail = part.partition("=")
            out.append(head + "=" + tail.lower())
            seen = True
        elif isinstance(part, str) and seen:
            out.append(part.lower())
        else:
            out.append(part)
    return tuple(out)


def _mount_fields(value: str) -> list[str]:
    """The comma-separated fields of a --mount value (BuildKit reads it as CSV)."""
    try:
        return next(csv.reader([value]), [])
    except csv.Error:  # not CSV BuildKit would read either: no reference to rename
        return []


def _mount_from_values(value: str) -> list[str]:
    return [field.partition("=")[2] for field in _mount_fields(value) if field.partition("=")[0].lower() == "from"]


def _mount_renamed(flag: n.Flag, lower: str) -> n.Flag:
    """The --mount flag with its `from=` field lowered; checked by reading the
    fields back. Raises _Declined when that cannot be done exactly."""
    if any(not isinstance(part, str) for part in flag.parts):
        raise _Declined("a `--mount` that names the stage runs over several lines")
    text = "".join(flag.parts)
    keyword, equals, value = text.partition("=")
    fixed = _MOUNT_FROM.sub(
        lambda match: match.group(1) + (match.group(2).lower() if match.group(2).lower() == lower else match.group(2)),
        value,
    )
    new = flag.with_changes(parts=(keyword + equals + fixed,))
    expected = [_field_lowered(field, lower) for field in _mount_fields(flag.value or "")]
    if new.value is None or _mount_fields(new.value) != expected:
        raise _Declined("a `--mount` that names the stage could not be rewritten exactly")
    return new


def _field_lowered(field: str, lower: str) -> str:
    key, equals, value = field.partition("=")
    if key.lower() == "from" and value.lower() == lower:
        return key + equals + lower
    return field


RULE = Rule("DF003", "stage-name-casing", "Stage name not in lower case", check, __doc__)
