"""The cyclic garbage collector, paused while dfix builds or reads a tree.

A tree and what the rules build from it are tens of thousands of small
objects without reference cycles (reference counting frees them). While
they are being made, the collector would only rescan the growing heap again
and again: a third of the time on large files, and more than linear in the
file's size. So it waits until the work is done, then runs as usual.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def paused() -> Iterator[None]:
    """No automatic collection inside the block (nesting is fine)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
