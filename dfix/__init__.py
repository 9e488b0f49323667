"""dfix: a Dockerfile auto-fixer that never loses a byte."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Iterable

from dfix.errors import ParseError

if TYPE_CHECKING:
    from dfix.cst.build import parse
    from dfix.cst.nodes import Dockerfile

__all__ = ["Dockerfile", "ParseError", "check", "fix", "parse"]
__version__ = "0.2.0"


def __getattr__(name: str) -> Any:
    # the grammar and the tree load on first use: `dfix-lsp` answers
    # `initialize` before it needs them
    if name == "parse":
        from dfix.cst.build import parse

        return parse
    if name == "Dockerfile":
        from dfix.cst.nodes import Dockerfile

        return Dockerfile
    raise AttributeError(f"module 'dfix' has no attribute {name!r}")


def check(
    text: str, *, select: Iterable[str] | str | None = None, ignore: Iterable[str] | str | None = None,
    context: str | os.PathLike[str] | None = None, path: str | os.PathLike[str] | None = None,
) -> list:
    """The findings in a Dockerfile: ``Diagnostic`` objects with ``id``,
    ``line``, ``column``, ``message`` and ``fix`` (its ``applicability``:
    the findings are the same whether unsafe fixes are wanted or not).

    ``select`` and ``ignore`` take rule ids, names, id prefixes or ``ALL``,
    as lists or comma-separated strings. ``context`` is the build context
    folder the rules that read it see, ``path`` the Dockerfile's path (for
    ``<Dockerfile>.dockerignore``; its folder is the context when
    ``context`` is not given); without either they see none. Raises ParseError.
    """
    from dfix import engine, selection
    from dfix.cst.build import parse

    rules = selection.resolve(selection.split(select) or None, selection.split(ignore))
    return engine.check(parse(text), rules, build_context=_build_context(context, path))


def fix(
    text: str, *, select: Iterable[str] | str | None = None, ignore: Iterable[str] | str | None = None,
    unsafe: bool = False, context: str | os.PathLike[str] | None = None, path: str | os.PathLike[str] | None = None,
):
    """Fix a Dockerfile: the result has ``.code`` (the new text), ``.applied``
    (the ids of the fixes applied, in order), ``.diagnostics`` (what remains),
    ``.files`` (the files the fixes would create, path -> text: not written)
    and ``.bugs``. Safe fixes only, unless ``unsafe``. ``context`` and
    ``path`` as for ``check``. Raises ParseError."""
    from dfix import engine, selection

    rules = selection.resolve(selection.split(select) or None, selection.split(ignore))
    return engine.fix(text, rules, unsafe=unsafe, build_context=_build_context(context, path))


def _build_context(context: str | os.PathLike[str] | None, path: str | os.PathLike[str] | None):
    from dfix.build_context import NO_CONTEXT, BuildContext

    if context is None and path is None:
        return NO_CONTEXT
    dockerfile = os.fspath(path) if path is not None else None
    return BuildContext.at(os.fspath(context) if context is not None else os.path.dirname(dockerfile) or ".", dockerfile)
