"""Walking and rewriting trees (Dockerfile and shell nodes alike).

``transform`` rebuilds a tree bottom-up, like LibCST's ``leave_*`` methods:
``leave(original, updated)`` sees each node after its children were rebuilt
and returns the node to put in its place, or ``REMOVE`` to drop it from the
tuple that holds it. Nodes nobody changed are kept as they are (the same
objects), so their text is kept too.
"""

from __future__ import annotations

from typing import Callable, Iterator, TypeVar

from dfix.cst.nodes import Node

N = TypeVar("N", bound=Node)


class _Remove:
    def __repr__(self) -> str:
        return "REMOVE"


REMOVE = _Remove()

Leave = Callable[[Node, Node], "Node | _Remove"]


def walk(node: Node) -> Iterator[Node]:
    """``node`` and every node below it, in source order."""
    yield node
    for child in node.children():
        yield from walk(child)


def transform(node: N, leave: Leave) -> N:
    """The tree rebuilt bottom-up through ``leave``; the root cannot be removed."""
    result = _transform(node, leave)
    if result is REMOVE:
        raise ValueError("transform cannot remove the root node")
    return result  # type: ignore[return-value]


def _transform(node: Node, leave: Leave) -> Node | _Remove:
    changes = {}
    for name in node._printed_fields():
        value = getattr(node, name)
        new = _transform_value(value, leave)
        if new is not value:
            changes[name] = new
    updated = node.with_changes(**changes) if changes else node
    return leave(node, updated)


def _transform_value(value: object, leave: Leave) -> object:
    if isinstance(value, Node):
        result = _transform(value, leave)
        return None if result is REMOVE else result
    if isinstance(value, tuple) and any(isinstance(item, Node) for item in value):
        items = []
        changed = False
        for item in value:
            new = _transform(item, leave) if isinstance(item, Node) else item
            changed |= new is not item
            if new is not REMOVE:
                items.append(new)
        return tuple(items) if changed else value
    return value
