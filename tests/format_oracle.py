"""Whether a change of layout changed nothing else, by two parsers dfix
does not share code with: BuildKit's (the ``dockerfile`` package) for the
instructions, mvdan/sh's (``shfmt --to-json``, the ``shfmt-py`` package) for
the shell commands of shell-form instructions.

Used by the formatter's tests and by ``bench/format_bench.py``, for dfix and
the other formatters alike.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import dockerfile

#: the instructions whose shell form BuildKit passes to a shell
SHELL_FORMS = ("RUN", "CMD", "ENTRYPOINT")


def shfmt_path() -> str:
    beside = Path(sys.executable).with_name("shfmt")
    found = str(beside) if beside.exists() else shutil.which("shfmt")
    if found is None:
        raise RuntimeError("shfmt is not installed (pip install shfmt-py)")
    return found


@functools.lru_cache(maxsize=65536)
def shell_tree(script: str) -> str:
    """mvdan/sh's syntax tree of a command line (bash), positions dropped,
    as JSON text; or its error message, positions dropped, when it refuses."""
    done = subprocess.run(
        [shfmt_path(), "--to-json", "-ln", "bash"], input=script.encode("utf-8", "surrogateescape"),
        capture_output=True, timeout=60,
    )
    if done.returncode:
        message = done.stderr.decode("utf-8", "replace")
        return "error: " + message.split(":", 3)[-1].strip()
    return json.dumps(_without_positions(json.loads(done.stdout)), sort_keys=True)


def _without_positions(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_positions(item) for key, item in value.items() if not _is_position(item)}
    if isinstance(value, list):
        return [_without_positions(item) for item in value]
    return value


def _is_position(value: Any) -> bool:
    return isinstance(value, dict) and "Offset" in value and "Line" in value


def instructions(text: str) -> list[tuple]:
    """What BuildKit reads of each instruction, lines left out; raises on a
    file it refuses."""
    return [
        (c.cmd.upper(), c.sub_cmd.upper() if c.sub_cmd else None, c.json, c.flags, c.value,
         tuple(h.content for h in c.heredocs))
        for c in dockerfile.parse_string(text)
    ]


def is_shell_form(instruction: tuple) -> bool:
    cmd, sub_cmd, is_json, _, value, _ = instruction
    keyword = sub_cmd or cmd
    if is_json:
        return False
    return keyword in SHELL_FORMS or (keyword == "HEALTHCHECK" and value[:1] == ("CMD",))


#: the programs whose arguments a package-sorting formatter may reorder
PACKAGE_MANAGERS = frozenset(("apt-get", "apt", "aptitude", "apk", "dnf", "yum", "microdnf", "zypper"))


def _with_install_arguments_sorted(tree: Any) -> Any:
    """The syntax tree with the arguments of every package-manager call in
    sorted order: two trees equal this way differ at most in the order of
    those arguments, within each call."""
    if isinstance(tree, list):
        return [_with_install_arguments_sorted(item) for item in tree]
    if not isinstance(tree, dict):
        return tree
    out = {key: _with_install_arguments_sorted(value) for key, value in tree.items()}
    args = out.get("Args")
    if out.get("Type") == "CallExpr" and isinstance(args, list):
        names = {part.get("Value") for arg in args[:3] for part in arg.get("Parts", []) if part.get("Type") == "Lit"}
        if names & PACKAGE_MANAGERS:
            out["Args"] = sorted(args, key=lambda arg: json.dumps(arg, sort_keys=True))
    return out


def meaning_changes(before: str, after: str, *, package_order: bool = False) -> list[str]:
    """How ``after`` means something else than ``before``: per instruction,
    what differs beyond layout; empty when nothing does. With
    ``package_order``, the arguments of a package manager's call may also
    come in another order. Raises when BuildKit refuses ``before``."""
    old = instructions(before)
    try:
        new = instructions(after)
    except Exception as error:  # the wrapper raises its own GoParseError
        return [f"BuildKit refuses the output: {error}"]
    if len(old) != len(new):
        return [f"{len(old)} instructions became {len(new)}"]
    changes = []
    for index, (a, b) in enumerate(zip(old, new), start=1):
        if a == b:
            continue
        if a[:4] != b[:4] or a[5] != b[5]:
            changes.append(f"instruction {index} ({a[0]}): keyword, flags, form or heredocs changed: {a} -> {b}")
        elif not is_shell_form(a):
            changes.append(f"instruction {index} ({a[0]}): value changed: {a[4]} -> {b[4]}")
        elif len(a[4]) != len(b[4]) or a[4][:-1] != b[4][:-1]:
            changes.append(f"instruction {index} ({a[0]}): value changed: {a[4]} -> {b[4]}")
        elif shell_tree(a[4][-1]) != shell_tree(b[4][-1]) and not (
            package_order and _sorted_installs(a[4][-1]) == _sorted_installs(b[4][-1])
        ):
            changes.append(f"instruction {index} ({a[0]}): shell syntax tree changed: {a[4][-1]!r} -> {b[4][-1]!r}")
    return changes


def _sorted_installs(script: str) -> str:
    tree = shell_tree(script)
    if tree.startswith("error: "):
        return tree
    return json.dumps(_with_install_arguments_sorted(json.loads(tree)), sort_keys=True)
