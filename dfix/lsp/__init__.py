"""dfix's language server (``dfix-lsp``, or ``python -m dfix.lsp``)."""

from __future__ import annotations


def main() -> None:
    from dfix.lsp.server import main as serve

    serve()
