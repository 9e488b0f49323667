"""dfix's language server (``dfix-lsp``, or ``python -m dfix.lsp``)."""

from __future__ import annotations


from typing import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """``dfix-lsp [--log-level LEVEL]``: the server, on standard input and output."""
    from dfix.lsp import code_cache

    # start-up is mostly lsprotocol's classes being built: compile them through the cache
    with code_cache.cached_compiles():
        from dfix.lsp.server import main as serve

        return serve(argv)
