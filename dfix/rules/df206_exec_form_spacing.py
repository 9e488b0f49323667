"""An exec-form array not written as `["a", "b"]`.

## Why
`CMD [ "nginx","-g" , "daemon off;" ]` and `CMD ["nginx", "-g", "daemon off;"]`
are the same JSON array; the second is how Docker's documentation, `docker
inspect` and most Dockerfiles write it, and the one a reader scans fastest.

## Example
    ENTRYPOINT [ "python","-m",  "app" ]

becomes

    ENTRYPOINT ["python", "-m", "app"]

## Fix
Safe: only the blanks between the JSON strings change; the strings are kept
byte for byte (escapes included). An array written over several lines is
left as it is, and so is one followed by text BuildKit ignores. A layout
rule: off by default, on with `--select DF2`.
"""

from __future__ import annotations

from typing import Iterator

from dfix.cst import nodes as n
from dfix.cst.base import Whitespace
from dfix.cst.visit import walk
from dfix.rules._api import Context, Diagnostic, Fix, FixAvailability, Rule
from dfix.rules._layout import plain

MESSAGE = 'Exec-form array not written as ["a", "b"]'


def check(ctx: Context) -> Iterator[Diagnostic]:
    if "[" not in ctx.text:
        return
    for instruction in ctx.tree.instructions:
        for node in walk(instruction):
            if isinstance(node, n.JsonArray):
                fixed = _canonical(node)
                if fixed is not None:
                    yield ctx.report(node, MESSAGE, Fix.replace(node, fixed, 'Write the array as ["a", "b"]'))


def _canonical(array: n.JsonArray) -> n.JsonArray | None:
    """The array in the usual layout, or None when it is (or stays as it is)."""
    if array.ignored is not None or plain(array.inner) is None:
        return None
    elements = []
    last = len(array.elements) - 1
    for index, element in enumerate(array.elements):
        if plain(element.whitespace_before) is None or plain(element.whitespace_after) is None:
            return None  # over several lines
        elements.append(element.with_changes(
            whitespace_before=Whitespace.of(" " if index else ""),
            whitespace_after=Whitespace(),
            comma="," if index < last else "",
        ))
    fixed = array.with_changes(elements=tuple(elements), inner=Whitespace())
    return None if fixed.code == array.code else fixed


RULE = Rule(
    "DF206", "exec-form-spacing", 'Exec-form array not written as ["a", "b"]', check, __doc__,
    fix=FixAvailability.SAFE, default=False,
)
