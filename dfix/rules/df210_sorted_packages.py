"""A long package list that is not sorted, one package per line.

## Why
Sorted, one per line, a package list shows at a glance what is installed,
a change adds or removes one line, two branches that add packages merge
without conflict, and a package listed twice stands out. Docker's best
practices recommend it.

## Example
    RUN apt-get install -y --no-install-recommends git curl \\
        ca-certificates

becomes

    RUN apt-get install -y --no-install-recommends \\
        ca-certificates \\
        curl \\
        git

## Options
`line-length` (default 100, or `line-length` under `[tool.dfix]`): a list
on one line is left alone unless its line is longer than this.

## Fix
Safe: the packages of one `apt-get`/`apt` `install`, `apk add`,
`dnf`/`yum`/`microdnf` `install` or `zypper install` are the same set in any
order. Only lists that span lines or make a line too long are rewritten, and
only when every package is a plain name (`curl`, `curl=8.5.0-2`,
`python3.11`): with a variable, a quote, a substitution, an option or a
comment line among the packages, the rule reports and declines, saying
which. Installs in heredocs and in exec form are not changed. A layout rule:
off by default, on with `--select DF2`.
"""

from __future__ import annotations

import re
from typing import Iterator

from dfix.cst.base import Continuation, Whitespace
from dfix.rules._api import Context, Diagnostic, Fix, FixAvailability, Rule
from dfix.rules._packages import APT, OPTIONS_WITH_VALUES
from dfix.shell import nodes as sh
from dfix.shell.commands import Invocation, invocation
from dfix.shell.edit import continuation_indent

#: package managers and the subcommands that take a list of packages
INSTALLS = {
    **{name: ("install",) for name in APT},
    "apk": ("add",),
    "dnf": ("install",), "yum": ("install",), "microdnf": ("install",),
    "zypper": ("install", "in"),
}
#: a package name, maybe with a version: nothing the shell would expand or split
PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9+._:@/~-]*(?:[=<>]{1,2}[A-Za-z0-9+._:~^*-]+)?")
MESSAGE = "Package list not sorted one per line"


def check(ctx: Context) -> Iterator[Diagnostic]:
    limit = int(ctx.options["line-length"])
    lines = ctx.text.splitlines()
    for command, run in ctx.commands:
        if not run.in_tree:
            continue
        call = invocation(command)
        packages = _packages(call) if call is not None else None
        if not packages:
            continue
        start, _ = ctx.positions.span(packages[0])
        _, end = ctx.positions.span(packages[-1])
        spans_lines = any(word.whitespace_before.continuations for word in packages[1:])
        first_line, _ = ctx.positions.line_column(start)
        last_line, _ = ctx.positions.line_column(end)
        too_long = any(len(line) > limit for line in lines[first_line - 1:last_line])
        if not (spans_lines or too_long) or len(packages) < 2 or _in_layout(packages):
            continue
        reason = _why_not(call, packages)
        if reason:
            yield ctx.decline(packages[0], MESSAGE, reason)
            continue
        fixed = _sorted_one_per_line(packages, run.script, ctx)
        if fixed:
            yield ctx.report(packages[0], MESSAGE, Fix.replace_all(fixed, "Sort the packages, one per line"))


def _packages(call: Invocation) -> list[sh.Word] | None:
    """The words after an install subcommand, up to the end of the command
    (options after the packages included, for ``_why_not`` to refuse)."""
    subcommands = INSTALLS.get(call.name)
    if subcommands is None:
        return None
    subcommand = call.subcommand(f"-{name}" if len(name) == 1 else f"--{name}" for name in OPTIONS_WITH_VALUES.get(call.name, ()))
    if subcommand is None or subcommand.value not in subcommands:
        return None
    after = list(call.arguments[call.arguments.index(subcommand) + 1:])
    while after and (after[0].value or "").startswith("-"):  # options before the packages
        option = after.pop(0).value or ""
        if option.lstrip("-") in OPTIONS_WITH_VALUES.get(call.name, ()) and after:
            after.pop(0)
    return after


def _why_not(call: Invocation, packages: list[sh.Word]) -> str:
    """Why the list cannot be sorted safely, or ""."""
    parts = call.command.parts
    first, last = parts.index(packages[0]), parts.index(packages[-1])
    if any(isinstance(part, sh.Redirect) for part in parts[first:last]):
        return "a redirection among the packages"
    for word in packages:
        value = word.value
        if value is not None and value.startswith("-"):
            return f"an option ({value}) among the packages"
        if value is None or not _only_breaks(word):
            return f"a variable, quote or substitution among the packages ({word.code.strip()})"
        if not PLAIN.fullmatch(value):
            return f"a package that is not a plain name ({value})"
        if any(c.skipped for c in word.whitespace_before.continuations):
            return "a comment line among the packages"
    return ""


def _only_breaks(word: sh.Word) -> bool:
    """Whether the word is written as its value: no quote, expansion or
    line break inside it."""
    return all(type(part) is str for part in word.parts) and "".join(word.parts) == word.value


def _in_layout(packages: list[sh.Word]) -> bool:
    """Whether the list is sorted already, one package per line (as written,
    so that a list the rule cannot rewrite is not reported either)."""
    texts = ["".join(part for part in word.parts if type(part) is str) for word in packages]
    return all(word.whitespace_before.continuations for word in packages) and texts == sorted(
        texts, key=lambda name: (name.lower(), name)
    )


def _sorted_one_per_line(packages: list[sh.Word], script: sh.Script, ctx: Context) -> list[tuple[Whitespace, Whitespace]]:
    indent = _package_indent(packages, script)
    names = sorted((word.value or "" for word in packages), key=lambda name: (name.lower(), name))
    broken = Whitespace((" ", Continuation(ctx.tree.escape, "", ctx.newline), indent))
    out = []
    for word, name in zip(packages, names):
        new = word.with_changes(whitespace_before=broken, parts=(name,))
        if new.code != word.code:
            out.append((word, new))
    return out


def _package_indent(packages: list[sh.Word], script: sh.Script) -> str:
    """The indentation the packages have where they start lines already;
    else one level deeper than the script's continuation lines."""
    for word in packages:
        space = word.whitespace_before
        if space.continuations and type(space.parts[-1]) is str:
            return space.parts[-1]
    return (continuation_indent(script) or "") + "    "


RULE = Rule(
    "DF210", "sorted-packages", "Package list not sorted one per line", check, __doc__,
    fix=FixAvailability.SAFE, default=False, options={"line-length": 100},
)
