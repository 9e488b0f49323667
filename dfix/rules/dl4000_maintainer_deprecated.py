"""MAINTAINER is deprecated: use a `maintainer` label.

## Why
MAINTAINER has been deprecated since Docker 1.13; it fills an image field
that tools no longer read. A label is where image metadata goes, and what
`docker inspect`, registries and scanners show. BuildKit reports it as
MaintainerDeprecated.

## Example
    MAINTAINER Jane Doe <jane@example.com>

becomes

    LABEL maintainer="Jane Doe <jane@example.com>"

## Options
`label` (default `"maintainer"`): the label key to write, for instance
`"org.opencontainers.image.authors"`, the OCI annotation for the same thing.

## Fix
Safe: the value is quoted so that BuildKit reads it back exactly (quotes,
`$` and the escape character are escaped; MAINTAINER never expanded
variables, a label would). The image gets the label in place of its Author
field: that change to its config is the point of the fix, and `dfix --verify`
reports it as this rule's. Unsafe when the stage already sets a `maintainer`
label to another value, because the new label could override it.
"""

from __future__ import annotations

from typing import Iterator

from dfix.cst import nodes as n
from dfix.rules._api import Applicability, Context, Diagnostic, Fix, FixAvailability, Rule
from dfix.rules._stages import Stage


def check(ctx: Context) -> Iterator[Diagnostic]:
    labels: dict[int, list[str]] = {}  # per stage, read once
    for instruction in ctx.tree.instructions:
        if not isinstance(instruction, n.Maintainer):
            continue
        message = f"MAINTAINER is deprecated; use `LABEL {ctx.options['label']}=...`"
        if instruction.value is None:
            yield ctx.report(instruction, message)
            continue
        value = instruction.value.value
        key = ctx.options["label"]
        label = _label(instruction, key, quoted(value, ctx.tree.escape))
        stage = ctx.stage_of(instruction)
        if id(stage) not in labels:
            labels[id(stage)] = list(_labels(stage, key))
        safe = all(existing == value for existing in labels[id(stage)])
        applicability = Applicability.SAFE if safe else Applicability.UNSAFE
        yield ctx.report(instruction, message, Fix.replace(instruction, label, "Replace with a LABEL", applicability))


def quoted(value: str, escape: str) -> str:
    """A double-quoted LABEL value that BuildKit reads back as ``value``."""
    out = []
    for char in value:
        if char in ('"', "$", escape):
            out.append(escape)
        out.append(char)
    return '"' + "".join(out) + '"'


def _label(maintainer: n.Maintainer, key: str, value: str) -> n.Label:
    keyword = "label" if maintainer.keyword_text.value.islower() else "LABEL"
    pair = n.KeyValue(maintainer.value.whitespace_before, n.Fragment.of(key), "=", n.Fragment.of(value))
    return n.Label(
        indent=maintainer.indent,
        keyword_text=n.Fragment.of(keyword),
        flags=maintainer.flags,
        pairs=(pair,),
        trailing=maintainer.trailing,
        newline=maintainer.newline,
        start_line=maintainer.start_line,
        end_line=maintainer.end_line,
    )


def _labels(stage: Stage, key: str) -> Iterator[str]:
    """The values of the labels called ``key`` in the stage, unquoted."""
    for instruction in stage.instructions:
        if isinstance(instruction, n.Label):
            for pair in instruction.pairs:
                if isinstance(pair, n.KeyValue) and _unquoted(pair.key.value) == key:
                    yield _unquoted(pair.value.value)


def _unquoted(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


RULE = Rule(
    "DL4000", "maintainer-deprecated", "MAINTAINER is deprecated", check, __doc__, options={"label": "maintainer"},
    fix=FixAvailability.SOMETIMES, config_changes=("Labels",),
)
