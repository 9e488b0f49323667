"""Answers kept for immutable trees and nodes, so that what many rules ask
is computed once.

Trees and nodes never change, so an answer about one cannot go stale:
``last_tree`` keeps a function's answer for the last tree asked about (the
rules run one after another over the same tree; the next file, or the next
round of fixes, replaces it), and ``kept_on`` keeps an answer on the object
itself, as ``functools.cached_property`` does for a class's own properties.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

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


def kept_on(owner: Any, key: Any, compute: Callable[[], T]) -> T:
    """``compute()``, kept on ``owner`` (an immutable dataclass) under ``key``."""
    found = owner.__dict__.get(key, _MISSING)
    if found is _MISSING:
        found = owner.__dict__[key] = compute()
    return found


_MISSING = object()
