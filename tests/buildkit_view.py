"""What BuildKit's parser (the `dockerfile` package) reports for an instruction,
computed from dfix's tree: the oracle tests compare the two."""

from __future__ import annotations

from typing import NamedTuple

from dfix.cst import nodes as n
from dfix.cst.buildkit import flag_word

_FLAGS_END = "--"


class View(NamedTuple):
    cmd: str
    sub_cmd: str | None
    json: bool
    start_line: int
    end_line: int
    flags: tuple[str, ...]
    value: tuple[str, ...]


def view(instruction: n.Instruction) -> View:
    inner = instruction
    sub_cmd = None
    if isinstance(instruction, n.Onbuild) and instruction.inner is not None:
        inner = instruction.inner
        sub_cmd = inner.keyword
    json, value = _value(inner)
    flags = tuple(flag_word(flag.text) for flag in instruction.flags if flag.text != _FLAGS_END)
    return View(instruction.keyword, sub_cmd, json, instruction.start_line, instruction.end_line, flags, value)


def _value(node: n.Instruction) -> tuple[bool, tuple[str, ...]]:
    if isinstance(node, (n.From, n.Expose)):
        return False, tuple(word.value for word in node.args)
    if isinstance(node, (n.Copy, n.Add, n.Volume)):
        if isinstance(node.args, n.JsonArray):
            return True, node.args.values
        return False, tuple(word.value for word in node.args)
    if isinstance(node, (n.Run, n.Cmd, n.Entrypoint, n.Shell)):
        return _command(node.body)
    if isinstance(node, n.Healthcheck):
        if node.kind is None:
            return False, ()
        json, value = _command(node.body)
        return json, (node.kind.value,) + value
    if isinstance(node, (n.Env, n.Label)):
        out: list[str] = []
        for pair in node.pairs:
            out += [pair.key.value, pair.value.value]
        return False, tuple(out)
    if isinstance(node, n.Arg):
        return False, tuple(arg.key.value + arg.equals + arg.value.value for arg in node.args)
    if isinstance(node, n.Onbuild):  # ONBUILD ONBUILD: BuildKit nests the inner one, with no value
        return False, ("",) if node.inner is not None else ()
    value = getattr(node, "value", None)
    return False, (value.value,) if value is not None else ()


def _command(body: n.Command | None) -> tuple[bool, tuple[str, ...]]:
    if body is None:
        return False, ()
    if isinstance(body, n.JsonArray):
        return True, body.values
    return False, (body.value,)
