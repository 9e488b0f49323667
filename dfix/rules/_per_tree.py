"""Facts about a tree, computed once for all the rules that ask.

The rules run one after another over the same tree, and several ask the
same questions (its stages, its RUN bodies, the working directory before
each instruction). Each question keeps its answer for the last tree asked
about: trees are immutable, so it cannot go stale, and the next tree (the
next file, or the next round of fixes) replaces it.
"""

from __future__ import annotations

from typing import Callable, TypeVar

from dfix.cst import nodes as n

T = TypeVar("T")


def last_tree(compute: Callable[[n.Dockerfile], T]) -> Callable[[n.Dockerfile], T]:
    """``compute(tree)``, computed again only for another tree."""
    last: list[tuple[n.Dockerfile, T]] = []

    def answer(tree: n.Dockerfile) -> T:
        found = last[0] if last else None  # one read: another thread may replace it meanwhile
        if found is None or found[0] is not tree:
            found = (tree, compute(tree))
            last[:] = [found]
        return found[1]

    return answer


def per_tree_table(tree: n.Dockerfile) -> dict:
    """A fresh table for answers about parts of one tree (wrap in ``last_tree``)."""
    return {}
