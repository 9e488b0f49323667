"""The build context: the files a build can COPY, as read-only facts for rules.

The runner makes one per Dockerfile (its folder, ``--context DIR`` or the
``context`` setting) and the engine hands it to every rule through its
``Context``; a rule asks it whether a path exists, lists a folder, reads a
small file or asks whether the ``.dockerignore`` excludes a path, and never
touches the file system itself. Without one (the Python API on a bare
string, standard input without ``--stdin-filename``, a folder that cannot be
read) ``available`` is false and ``why_not`` says why: the rules that need it
decline.

Fixes that create files (a ``.dockerignore``) are laid over it
(``with_files``), so that the next round of checks sees them as written.
Every answer is computed on first use and kept: a check that asks nothing
costs nothing, and a folder is listed once.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping

if TYPE_CHECKING:
    from dfix import dockerignore

#: files read for rules (manifests, ignore files) are small; a larger one is not read
MAX_READ = 256 * 1024
#: the name BuildKit reads at the root of the context
DOCKERIGNORE = ".dockerignore"


@dataclass(eq=False)  # one per file, compared by identity; its caches fill on use
class BuildContext:
    #: the context folder (absolute), or None without a context
    root: str | None
    #: the Dockerfile's path (absolute), for ``<Dockerfile>.dockerignore``
    dockerfile: str | None = None
    #: why there is no context, when there is none
    why_not: str = ""
    #: files fixes will write: absolute path -> text
    pending: Mapping[str, str] = field(default_factory=dict)
    _listings: dict[str, tuple[str, ...] | None] = field(default_factory=dict, repr=False)
    _ignore: tuple[str | None, dockerignore.Patterns | None] | None = field(default=None, repr=False)

    @classmethod
    def at(cls, root: str, dockerfile: str | None = None) -> BuildContext:
        """The context folder ``root``; one that is not a readable folder is no context."""
        absolute = os.path.abspath(root)
        if not os.path.isdir(absolute):
            return cls.none(f"the build context {root} is not a folder")
        if not os.access(absolute, os.R_OK | os.X_OK):
            return cls.none(f"the build context {root} cannot be read")
        return cls(absolute, os.path.abspath(dockerfile) if dockerfile else None)

    @classmethod
    def none(cls, why: str) -> BuildContext:
        return cls(None, why_not=why)

    @property
    def available(self) -> bool:
        return self.root is not None

    def with_files(self, files: Mapping[str, str]) -> BuildContext:
        """The context once ``files`` (absolute path -> text) are written."""
        merged = {**self.pending, **files}
        return BuildContext(self.root, self.dockerfile, self.why_not, merged)

    def path(self, relative: str) -> str | None:
        """The absolute path of a context path (``./a/b``, ``a/b/``), or None
        for one outside the context (BuildKit refuses those)."""
        if self.root is None:
            return None
        cleaned = os.path.normpath("/" + relative.replace("\\", "/")).lstrip("/")
        if cleaned.startswith("..") or "\0" in cleaned:
            return None
        return os.path.join(self.root, cleaned) if cleaned not in ("", ".") else self.root

    def exists(self, relative: str) -> bool:
        path = self.path(relative)
        if path is None:
            return False
        if path in self.pending:
            return True
        parent, name = os.path.split(path)
        names = self._listing(parent)
        return names is not None and name in names if path != self.root else True

    def is_dir(self, relative: str) -> bool:
        path = self.path(relative)
        return path is not None and os.path.isdir(path) and self._inside(path)

    def listdir(self, relative: str = ".") -> tuple[str, ...]:
        """The names in a context folder, sorted (pending files included)."""
        path = self.path(relative)
        if path is None:
            return ()
        names = self._listing(path) or ()
        pending = [os.path.basename(p) for p in self.pending if os.path.dirname(p) == path]
        return tuple(sorted({*names, *pending})) if pending else names

    def glob(self, pattern: str, relative: str = ".") -> tuple[str, ...]:
        """The names in one context folder that match a shell pattern."""
        return tuple(name for name in self.listdir(relative) if fnmatch.fnmatchcase(name, pattern))

    def read(self, relative: str) -> str | None:
        """A small text file's content; None for a missing, large, binary or unreadable one."""
        path = self.path(relative)
        if path is None:
            return None
        return self._read_path(path)

    def _read_path(self, path: str) -> str | None:
        if path in self.pending:
            return self.pending[path]
        if not self._inside(path):
            return None
        try:
            with open(path, "rb") as handle:
                data = handle.read(MAX_READ + 1)
        except OSError:
            return None
        if len(data) > MAX_READ or b"\0" in data:
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return None

    @property
    def dockerignore_path(self) -> str | None:
        """The ignore file BuildKit reads for this Dockerfile, when there is
        one: ``<Dockerfile>.dockerignore`` beside it first, then the
        context's ``.dockerignore``."""
        return self._ignore_file()[0]

    @property
    def ignore_patterns(self) -> dockerignore.Patterns | None:
        """The patterns of that file (None without one, or when it cannot be read)."""
        return self._ignore_file()[1]

    def ignores(self, relative: str) -> bool:
        """Whether the ignore file keeps a context path out of the build."""
        patterns = self.ignore_patterns
        return patterns is not None and patterns.excludes(relative)

    def _ignore_file(self) -> tuple[str | None, dockerignore.Patterns | None]:
        if self._ignore is None:
            self._ignore = (None, None)
            candidates = []
            if self.dockerfile:
                candidates.append(self.dockerfile + DOCKERIGNORE)
            if self.root is not None:
                candidates.append(os.path.join(self.root, DOCKERIGNORE))
            from dfix import dockerignore  # only when a rule asks: most checks never do

            for candidate in candidates:
                if candidate in self.pending or os.path.isfile(candidate):
                    text = self._read_path(candidate) if candidate in self.pending else _read_any(candidate)
                    try:
                        patterns = dockerignore.parse(text) if text is not None else None
                    except ValueError:
                        patterns = None
                    self._ignore = (candidate, patterns)
                    break
        return self._ignore

    def _listing(self, folder: str) -> tuple[str, ...] | None:
        if folder not in self._listings:
            try:
                self._listings[folder] = _listdir(folder) if self._inside(folder) else None
            except OSError:
                self._listings[folder] = None
        return self._listings[folder]

    def _inside(self, path: str) -> bool:
        """Whether ``path`` stays in the context once links are followed:
        a link out of it is no file of the build's."""
        if self.root is None:
            return False
        real, root = os.path.realpath(path), os.path.realpath(self.root)
        return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


#: folder listings by folder and modification time: the Dockerfiles of one
#: folder, checked in one run (or one editor session), list it once
_LISTED: dict[tuple[str, int], tuple[str, ...]] = {}


def _listdir(folder: str) -> tuple[str, ...]:
    key = (folder, os.stat(folder).st_mtime_ns)
    names = _LISTED.get(key)
    if names is None:
        if len(_LISTED) > 64:
            _LISTED.clear()
        names = _LISTED[key] = tuple(sorted(os.listdir(folder)))
    return names


def _read_any(path: str) -> str | None:
    """An ignore file, wherever it is (``<Dockerfile>.dockerignore`` may be outside the context)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(MAX_READ).decode("utf-8", "replace")
    except OSError:
        return None


NO_CONTEXT = BuildContext.none("no build context (a text without a file)")
