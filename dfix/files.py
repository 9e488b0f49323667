"""Finding Dockerfiles and reading them, with clear errors for what is not one."""

from __future__ import annotations

import fnmatch
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from dfix.cst.build import MAX_SIZE as MAX_BYTES

# Names a directory search takes as Dockerfiles (case-sensitive, like BuildKit's default).
DOCKERFILE_NAMES = ("Dockerfile", "Dockerfile.*", "*.Dockerfile", "*.dockerfile", "Containerfile", "Containerfile.*")
_SKIPPED_DIRECTORIES = frozenset((".git", ".hg", ".svn", "node_modules", ".venv", "__pycache__"))
STDIN = "-"


@dataclass(frozen=True)
class FileError(Exception):
    """A file dfix cannot read as a Dockerfile; ``line`` and ``column`` are 1-based, 0 if unknown."""

    path: str
    message: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}:{self.column}" if self.line else self.path
        return f"{where}: error: {self.message}"


def is_dockerfile_name(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in DOCKERFILE_NAMES)


def discover(paths: list[str]) -> Iterator[str | FileError]:
    """The Dockerfiles the paths name: files as given, directories searched.

    Yields a FileError for a path that does not exist or a directory with no
    Dockerfile in it, and goes on with the other paths.
    """
    for path in paths:
        if path == STDIN:
            yield path
        elif os.path.isdir(path):
            found = sorted(_search(path))
            if not found:
                yield FileError(path, "no Dockerfiles found in this directory")
            yield from found
        elif os.path.exists(path):
            yield path
        else:
            yield FileError(path, "no such file or directory")


def _search(directory: str) -> Iterator[str]:
    for root, subdirectories, names in os.walk(directory):
        subdirectories[:] = sorted(d for d in subdirectories if d not in _SKIPPED_DIRECTORIES)
        for name in names:
            if is_dockerfile_name(name):
                yield os.path.join(root, name)


def read_bytes(path: str) -> bytes:
    """The file's bytes (stdin for ``-``); FileError if it cannot be read."""
    try:
        if path == STDIN:
            data = sys.stdin.buffer.read(MAX_BYTES + 1)
        else:
            with open(path, "rb") as handle:
                data = handle.read(MAX_BYTES + 1)
    except OSError as error:
        raise FileError(path, error.strerror or str(error)) from None
    if len(data) > MAX_BYTES:
        raise FileError(path, f"file too large (over {MAX_BYTES // (1024 * 1024)} MB); a Dockerfile is far smaller")
    return data


def decode(path: str, data: bytes) -> str:
    """Text from a Dockerfile's bytes: UTF-8, a BOM kept as "\\ufeff", line ends kept."""
    nul = data.find(b"\0")
    if nul >= 0:
        line, column = _position(data, nul)
        raise FileError(path, "binary file (NUL byte), not a Dockerfile", line, column)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line, column = _position(data, error.start)
        raise FileError(path, f"invalid UTF-8 (byte 0x{data[error.start]:02x})", line, column) from None


def read_text(path: str) -> str:
    return decode(path, read_bytes(path))


def _position(data: bytes, offset: int) -> tuple[int, int]:
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", errors="replace")) + 1
    return data.count(b"\n", 0, offset) + 1, column


def display(path: str | Path) -> str:
    return "<stdin>" if str(path) == STDIN else str(path)
