"""The values of a stage's variables, as far as dfix knows them: so that a
`WORKDIR $APP_HOME` after `ENV APP_HOME /app` is the folder /app.

Known: an ENV's value, an ARG's default (in the stage, or a global ARG
before the first FROM that the stage declares again), and what the
official base image sets (golang's GOPATH). An ARG's default is what the
build uses unless `--build-arg` says otherwise: the split is written for
the defaults, as the finding says."""

from __future__ import annotations

import re

from dfix.cst import nodes as n
from dfix.rules._stages import Stage

# What the official images set in their ENV, for the paths people build on.
BASE_ENV = {"go": {"GOPATH": "/go"}}
_VARIABLE = re.compile(r"\$(?:\{(\w+)(?::?-([^}]*))?\}|(\w+))")


class Values:
    """The variables known at each point of a stage, read in order with ``see``."""

    def __init__(self, global_args: dict[str, str | None], base: dict[str, str]) -> None:
        self._global = global_args
        self.known: dict[str, str | None] = dict(base)
        self._env: set[str] = set(base)
        self.used_defaults = False

    def see(self, instruction: n.Instruction) -> None:
        if isinstance(instruction, n.Arg):
            for kv in instruction.args:
                key = kv.key.value
                if key in self._env:
                    continue  # an ENV of the same name wins over the ARG
                if kv.equals:
                    self.known[key] = self.expand(_unquoted(kv.value.value))
                else:
                    self.known[key] = self._global.get(key)
        elif isinstance(instruction, n.Env):
            for pair in instruction.pairs:
                self.known[pair.key.value] = self.expand(_unquoted(pair.value.value))
                self._env.add(pair.key.value)

    def expand(self, text: str | None) -> str | None:
        """``text`` with its variables replaced; None when one has no known value."""
        if text is None or "\\" in text or "`" in text:
            return None
        missing = False

        def value(match: re.Match[str]) -> str:
            nonlocal missing
            name = match.group(1) or match.group(3)
            found = self.known.get(name)
            if found is None and match.group(2) is not None:
                return match.group(2)
            if found is None:
                missing = True
                return ""
            return found

        out = _VARIABLE.sub(value, text)
        return None if missing or "$" in out else out


def _unquoted(text: str) -> str | None:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    if text.startswith("'") or text.endswith(("'", '"')):
        return None
    return text


def global_args(tree_stages: list[Stage]) -> dict[str, str | None]:
    """The ARGs before the first FROM, with their defaults."""
    out: dict[str, str | None] = {}
    for stage in tree_stages:
        if stage.from_ is not None:
            continue
        for arg in (i for i in stage.instructions if isinstance(i, n.Arg)):
            for kv in arg.args:
                out[kv.key.value] = _unquoted(kv.value.value) if kv.equals else None
    return out
