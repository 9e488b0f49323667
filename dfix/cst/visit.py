"""Walking and rewriting trees (Dockerfile and shell nodes alike).

``transform`` rebuilds a tree bottom-up, like LibCST's ``leave_*`` methods:
``leave(original, updated)`` sees each node after its children were rebuilt
and returns the node to put in its place, or ``REMOVE`` to drop it from the
tuple that holds it. Nodes nobody changed are kept as they are (the same
objects), so their text is kept too.
"""

from __future__ import annotations

import operator
from typing import Callable, Iterator, TypeVar

from dfix.cst.base import Node

N = TypeVar("N", bound=Node)


class _Remove:
    def __repr__(self) -> str:
        return "REMOVE"


REMOVE = _Remove()

Leave = Callable[[Node, Node], "Node | _Remove"]


def walk(node: Node) -> Iterator[Node]:
    """``node`` and every node below it, in source order."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        children = _children(current)
        if children:
            children.reverse()
            stack.extend(children)


def descendants(node: Node) -> list[Node]:
    """``node`` and every node below it, in source order, at once (faster
    than ``walk`` when all of them are wanted)."""
    out: list[Node] = []
    _collect(node, out)
    return out


def _collect(node: Node, out: list[Node]) -> None:
    out.append(node)
    getter = _getters.get(type(node)) or fields_getter(type(node))
    for value in getter(node):
        if value is None or type(value) is str:
            continue
        if type(value) is tuple:
            for item in value:
                if isinstance(item, Node):
                    _collect(item, out)
        elif isinstance(value, Node):
            _collect(value, out)


def _children(node: Node) -> list[Node]:
    """The child nodes of ``node``, in source order (not those of a tuple
    inside a tuple: no node has one)."""
    children: list[Node] = []
    getter = _getters.get(type(node)) or fields_getter(type(node))
    for value in getter(node):
        if value is None or type(value) is str:
            continue
        if type(value) is tuple:
            children.extend(item for item in value if isinstance(item, Node))
        elif isinstance(value, Node):
            children.append(value)
    return children


_getters: dict[type, Callable[[Node], tuple]] = {}


def fields_getter(kind: type[Node]) -> Callable[[Node], tuple]:
    """A function giving the values of a node type's printed fields, always
    as a tuple: the walkers run it on every node, so it is made once per type."""
    getter = _getters.get(kind)
    if getter is None:
        names = kind.printed_fields()
        if len(names) == 1:
            name = names[0]
            getter = lambda node: (getattr(node, name),)  # noqa: E731
        else:
            getter = operator.attrgetter(*names) if names else lambda node: ()
        _getters[kind] = getter
    return getter


def transform(node: N, leave: Leave) -> N:
    """The tree rebuilt bottom-up through ``leave``; the root cannot be removed."""
    result = _transform(node, leave)
    if result is REMOVE:
        raise ValueError("transform cannot remove the root node")
    return result  # type: ignore[return-value]


def _transform(node: Node, leave: Leave) -> Node | _Remove:
    changes = {}
    for name in node.printed_fields():
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


def replace_nodes(root: N, replacements: dict[int, tuple[Node, ...]]) -> N:
    """The tree with nodes replaced, keyed by ``id()`` of the old node.

    A node in a tuple field may become several nodes, or none; a node in a
    single field becomes exactly one node, or None when the field allows it.
    Only the nodes on the way to a replaced node are rebuilt.
    """

    def rebuild(node: Node) -> Node:
        changes = {}
        for name in node.printed_fields():
            value = getattr(node, name)
            if isinstance(value, Node):
                new = _single(value, replacements) if id(value) in replacements else rebuild(value)
                if new is not value:
                    changes[name] = new
            elif isinstance(value, tuple) and any(isinstance(item, Node) for item in value):
                items: list[object] = []
                for item in value:
                    if isinstance(item, Node) and id(item) in replacements:
                        items.extend(replacements[id(item)])
                    else:
                        items.append(rebuild(item) if isinstance(item, Node) else item)
                if len(items) != len(value) or any(a is not b for a, b in zip(items, value)):
                    changes[name] = tuple(items)
        return node.with_changes(**changes) if changes else node

    return rebuild(root)  # type: ignore[return-value]


def _single(old: Node, replacements: dict[int, tuple[Node, ...]]) -> Node | None:
    new = replacements[id(old)]
    if len(new) > 1:
        raise ValueError(f"{type(old).__name__} stands alone in its field and cannot become {len(new)} nodes")
    return new[0] if new else None
