"""dfix: a Dockerfile auto-fixer that never loses a byte."""

from __future__ import annotations

from dfix.cst.build import parse
from dfix.cst.nodes import Dockerfile
from dfix.errors import ParseError

__all__ = ["Dockerfile", "ParseError", "parse"]
__version__ = "0.1.0"
