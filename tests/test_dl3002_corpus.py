"""DL3002 on the corpus: how many Linux images run as root before and after
its fix (unsafe fixes on), and why it declined the rest.

The count does not use hadolint nor DL3002's own judgement: an image runs as
root when the last USER of its final stage (or of the stages that stage is
built FROM) is absent, `root` or `0`. Windows images are left out.

Issue 15 asked for a drop of 70%. A file without CMD or ENTRYPOINT mostly
builds a base image for others (buildpack-deps, php, alpine, the .NET images
...), which a USER would break: their RUNs would no longer run as root. DL3002
leaves those alone (its documentation says which it fixes), so the goal is
out of reach; REACHED is the drop that is, and the test fails below it.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

import dfix
from dfix.cst import nodes as n
from dfix.images import WINDOWS
from dfix.rules._images import family, image_of
from dfix.rules._stages import ancestry, stages
from tests.conftest import REPORT, corpus_names, corpus_text, corpus_tree

GOAL = 0.70
# What DL3002 reaches on the corpus (2158 -> 853, a drop of 60.5%; of the
# images that run something, 1481 -> 202, 86.4%): below it, something regressed.
REACHED = 0.60
# ... and of the images that run something, whose fix is DL3002's business
RUNNABLE_REACHED = 0.85
_WINDOWS_NAME = re.compile(r"windows|nanoserver|servercore", re.IGNORECASE)


def root_image(tree: dfix.Dockerfile) -> tuple[bool, bool] | None:
    """Whether the image runs as root, and whether it runs anything (a CMD or
    ENTRYPOINT in its stages); None for a Windows image or no stage."""
    built = [stage for stage in stages(tree) if stage.from_ is not None]
    if not built:
        return None
    final = built[-1]
    chain = ancestry(tree, final)
    if family(tree, final) == WINDOWS or _WINDOWS_NAME.search(image_of(tree, chain[-1])):
        return None
    users = [i for stage in reversed(chain) for i in stage.instructions if isinstance(i, n.User)]
    user = users[-1].value.value.strip() if users and users[-1].value is not None else ""
    runnable = any(isinstance(i, (n.Cmd, n.Entrypoint)) for stage in chain for i in stage.instructions)
    return user.partition(":")[0] in ("", "root", "0"), runnable


def test_root_image_reads_the_last_user_of_the_final_stage() -> None:
    assert root_image(dfix.parse("FROM debian:12\nUSER app\nFROM debian:12\nCMD [\"x\"]\n")) == (True, True)
    assert root_image(dfix.parse("FROM debian:12 AS a\nUSER app\nFROM a\n")) == (False, False)
    assert root_image(dfix.parse("FROM debian:12\nUSER app\nUSER 0:0\n")) == (True, False)
    assert root_image(dfix.parse("FROM mcr.microsoft.com/windows/servercore:ltsc2022\nCMD [\"x\"]\n")) is None


@pytest.mark.corpus
def test_dl3002_drops_the_images_that_run_as_root() -> None:
    before: Counter[str] = Counter()
    after: Counter[str] = Counter()
    declines: Counter[str] = Counter()
    for name in corpus_names():
        tree = corpus_tree(name)
        if isinstance(tree, dfix.ParseError):
            continue
        found = root_image(tree)
        if found is None or not found[0]:
            continue
        runnable = "runnable" if found[1] else "without CMD or ENTRYPOINT"
        before[runnable] += 1
        result = dfix.fix(corpus_text(name), select="DL3002", unsafe=True)
        assert result.bugs == [], name
        still = root_image(dfix.parse(result.code))
        assert still is not None, name
        if still[0]:
            after[runnable] += 1
            declines.update(d.declined for d in result.diagnostics if d.id == "DL3002" and d.declined)
    total_before, total_after = sum(before.values()), sum(after.values())
    drop = 1 - total_after / total_before
    REPORT["DL3002: Linux images running as root, before -> after"] = (
        f"{total_before} -> {total_after} ({drop:.1%} drop; issue 15's goal {GOAL:.0%} "
        f"{'met' if drop >= GOAL else 'not met'}); runnable (a CMD or ENTRYPOINT) "
        f"{before['runnable']} -> {after['runnable']} ({1 - after['runnable'] / before['runnable']:.1%} drop); "
        f"without CMD or ENTRYPOINT {before['without CMD or ENTRYPOINT']} -> {after['without CMD or ENTRYPOINT']}"
    )
    REPORT["DL3002 declines by reason"] = "; ".join(f"{reason}: {count}" for reason, count in declines.most_common())
    assert drop >= REACHED
    assert 1 - after["runnable"] / before["runnable"] >= RUNNABLE_REACHED
