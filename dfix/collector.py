"""The cyclic garbage collector, paused while dfix builds or reads a tree.

A tree and what the rules build from it are tens of thousands of small
objects without reference cycles (reference counting frees them). While
they are being made, the collector would only rescan the growing heap again
and again: a third of the time on large files, and more than linear in the
file's size. So it waits until the work is done, then runs as usual.
"""

from __future__ import annotations

import gc


class paused:  # noqa: N801 - used as a function: ``with collector.paused():``
    """No automatic collection inside the block (nesting is fine).

    A class, not a ``@contextmanager`` generator: that one sets the
    ``__traceback__`` of an exception passing through it, which fails for a
    frozen dataclass exception (``FileError``)."""

    def __enter__(self) -> None:
        self.collecting = gc.isenabled()
        gc.disable()

    def __exit__(self, *_: object) -> None:
        if self.collecting:
            gc.enable()


def settle() -> None:
    """Keep what exists now (modules, the grammar) out of every later
    collection: none of it is ever garbage, and forked workers then share it
    untouched instead of copying the pages the collector writes to."""
    gc.freeze()
