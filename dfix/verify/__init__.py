"""``--verify``: build the original and the fixed Dockerfile, and compare.

A fix is trusted when the image still builds and looks the same from the
outside. For each file the fixes change, dfix builds both versions with the
builder found on the machine and reports what the fixes did to the image:
build time, size, layers, and every change to the config a container runs
with. When the fixed version no longer builds, dfix finds the fixes that
broke it by building with subsets of them (a bisection), and ``--write``
leaves that file as it was.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from dfix.rules import ALL_RULES
from dfix.verify import builders
from dfix.verify.builders import Build, Builder, BuilderError, ImageFacts

__all__ = ["Options", "Side", "Verdict", "verify", "Builder", "BuilderError", "find_culprits"]

_counter = itertools.count()


@dataclass(frozen=True)
class Options:
    context: str | None = None  # default: the Dockerfile's folder
    target: str | None = None
    build_args: tuple[str, ...] = ()
    smoke: str | None = None  # --verify-run


@dataclass
class Side:
    """One of the two builds."""

    build: Build
    facts: ImageFacts | None = None
    #: the smoke command's exit status, when one ran
    smoke: int | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"built": self.build.ok, "seconds": round(self.build.seconds, 2)}
        if self.facts is not None:
            out |= {"size": self.facts.size, "layers": self.facts.layers, "config": self.facts.config}
        if self.smoke is not None:
            out["smoke_exit"] = self.smoke
        if not self.build.ok:
            out["log"] = self.build.log
        return out


@dataclass
class Verdict:
    """What building a file before and after its fixes showed."""

    path: str
    builder: str
    before: Side
    after: Side
    applied: list[str]
    unsafe_applied: list[str]
    #: config field -> (before, after)
    config_changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    #: the fixes that break the build (when it broke), by rule id
    culprits: list[str] = field(default_factory=list)

    @property
    def broken(self) -> bool:
        """The fixes broke a build that worked."""
        return self.before.build.ok and not self.after.build.ok

    @property
    def smoke_differs(self) -> bool:
        return self.before.smoke is not None and self.after.smoke is not None and self.before.smoke != self.after.smoke

    @property
    def expected_changes(self) -> dict[str, list[str]]:
        """Config field -> the applied rules whose fixes change it by design."""
        by_id = {rule.id: rule for rule in ALL_RULES}
        out: dict[str, list[str]] = {}
        for rule_id in sorted(set(self.applied)):
            for key in by_id[rule_id].config_changes if rule_id in by_id else ():
                out.setdefault(key, []).append(rule_id)
        return out

    @property
    def unexpected_changes(self) -> list[str]:
        """The config fields that changed though no fix says it changes them."""
        return [key for key in self.config_changes if key not in self.expected_changes]

    @property
    def safe_changed_config(self) -> bool:
        """The config changed where no fix means to, and only safe fixes ran: a dfix bug."""
        return bool(self.unexpected_changes) and not self.unsafe_applied

    @property
    def ok(self) -> bool:
        """Whether the fixed file may be written: it builds, and what the
        fixes change is what they say they change."""
        return self.after.build.ok and not self.smoke_differs and not self.safe_changed_config

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "builder": self.builder,
            "ok": self.ok,
            "before": self.before.as_dict(),
            "after": self.after.as_dict(),
            "applied": sorted(set(self.applied)),
            "unsafe_applied": sorted(set(self.unsafe_applied)),
            "config_changes": {key: {"before": old, "after": new} for key, (old, new) in self.config_changes.items()},
            "expected_changes": self.expected_changes,
            "culprits": self.culprits,
        }


def verify(
    builder: Builder, path: str, old: str, new: str, *,
    applied: Sequence[str], unsafe_applied: Sequence[str] = (),
    refix: Callable[[frozenset[str]], str] | None = None, options: Options = Options(),
) -> Verdict:
    """Build ``old`` and ``new`` (the text of ``path`` before and after its
    fixes) and compare the images. ``refix(ids)`` gives the text with only
    the fixes of those rules applied; with it, a broken build is bisected."""
    context = options.context or str(Path(path).parent if path != "-" else Path.cwd())
    with tempfile.TemporaryDirectory(prefix="dfix-verify-") as scratch:
        session = _Session(builder, context, options, Path(scratch))
        try:
            before = session.side(old, inspect=True)
            after = session.side(new, inspect=True)
            verdict = Verdict(path, builder.name, before, after, list(applied), list(unsafe_applied))
            if before.facts is not None and after.facts is not None:
                verdict.config_changes = config_changes(before.facts.config, after.facts.config)
            if verdict.broken and refix is not None:
                verdict.culprits = find_culprits(sorted(set(applied)), lambda ids: session.breaks(refix(ids), old))
            return verdict
        finally:
            session.clean()


def config_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {key: (before.get(key), after.get(key)) for key in builders.CONFIG_FIELDS if before.get(key) != after.get(key)}


def find_culprits(ids: Sequence[str], breaks: Callable[[frozenset[str]], bool]) -> list[str]:
    """The rules whose fixes break the build, given that all of ``ids``
    together do: halve the set, keep the halves that still break it. Fixes
    that break it only together are named together."""
    ids = list(ids)
    if len(ids) <= 1:
        return ids
    middle = len(ids) // 2
    found: list[str] = []
    for half in (ids[:middle], ids[middle:]):
        if breaks(frozenset(half)):
            found += find_culprits(half, breaks)
    return found or ids


class _Session:
    """The temporary files and images of one file's verification."""

    def __init__(self, builder: Builder, context: str, options: Options, scratch: Path) -> None:
        self.builder, self.context, self.options, self.scratch = builder, context, options, scratch
        self.tags: list[str] = []
        self.outcomes: dict[str, bool] = {}  # text -> built

    def side(self, text: str, *, inspect: bool) -> Side:
        number = next(_counter)
        dockerfile = self.scratch / f"Dockerfile.{number}"
        dockerfile.write_bytes(text.encode("utf-8", "surrogateescape"))
        tag = f"localhost/dfix-verify-{os.getpid()}-{number}:latest"
        self.tags.append(tag)
        build = builders.build(
            self.builder, str(dockerfile), self.context, tag,
            target=self.options.target, build_args=self.options.build_args,
        )
        self.outcomes[text] = build.ok
        side = Side(build)
        if build.ok and inspect:
            side.facts = builders.inspect(self.builder, tag)
            if self.options.smoke:
                side.smoke = builders.run(self.builder, tag, self.options.smoke)
        if not inspect:
            self._remove(tag)
        return side

    def breaks(self, text: str, old: str) -> bool:
        if text == old:
            return False
        if text not in self.outcomes:
            self.side(text, inspect=False)
        return not self.outcomes[text]

    def _remove(self, tag: str) -> None:
        builders.remove(self.builder, tag)
        self.tags.remove(tag)

    def clean(self) -> None:
        for tag in list(self.tags):
            self._remove(tag)
