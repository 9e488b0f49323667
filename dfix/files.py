"""Finding Dockerfiles and reading them, with clear errors for what is not one."""

from __future__ import annotations

import fnmatch
import os
import stat
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

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


def discover(paths: list[str], exclude: Sequence[str] = ()) -> Iterator[str | FileError]:
    """The Dockerfiles the paths name: files as given, directories searched.

    A directory search skips what ``.gitignore`` files (and ``.git/info/exclude``)
    ignore, what the ``exclude`` patterns of the command line match (relative
    to the current directory) and what the ``exclude`` of the configuration
    that applies matches (relative to its file). Files named on the command
    line are always read. Yields a FileError for a path that does not exist or
    a directory with no Dockerfile in it, and goes on with the other paths.
    """
    command_line = _Patterns(Path.cwd(), exclude)
    for path in paths:
        if path == STDIN:
            yield path
        elif os.path.isdir(path):
            found = sorted(_search(Path(path), command_line))
            if not found:
                yield FileError(path, "no Dockerfiles found in this directory")
            yield from found
        elif os.path.exists(path):
            yield path
        else:
            yield FileError(path, "no such file or directory")


class _Patterns:
    """Gitignore-style patterns, relative to a base directory."""

    def __init__(self, base: Path, lines: Iterable[str]) -> None:
        self.base = base.resolve()
        self.spec = None
        lines = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
        if lines:
            import pathspec  # only needed when there are patterns; keep start-up short

            self.spec = pathspec.GitIgnoreSpec.from_lines(lines)

    def matches(self, path: Path, is_dir: bool) -> bool:
        if self.spec is None:
            return False
        try:
            relative = path.resolve().relative_to(self.base).as_posix()
        except ValueError:
            return False
        if relative == ".":
            return False
        return self.spec.match_file(relative + "/" if is_dir else relative)


def _search(directory: Path, command_line: _Patterns) -> Iterator[str]:
    ignores = _inherited_gitignores(directory)
    for root, subdirectories, names in os.walk(directory):
        here = Path(root)
        local = list(ignores.get(here, []))
        gitignore = here / ".gitignore"
        if gitignore.is_file():
            local.append(_Patterns(here, _read_lines(gitignore)))
        excluded = [*local, command_line, *_config_excludes(here)]
        keep = []
        for name in sorted(subdirectories):
            child = here / name
            if name in _SKIPPED_DIRECTORIES or any(p.matches(child, True) for p in excluded):
                continue
            ignores[child] = local
            keep.append(name)
        subdirectories[:] = keep
        for name in sorted(names):
            child = here / name
            if is_dockerfile_name(name) and not any(p.matches(child, False) for p in excluded):
                yield str(child)


def _inherited_gitignores(directory: Path) -> dict[Path, list[_Patterns]]:
    """The .gitignore files above ``directory``, up to its repository's root."""
    found: list[_Patterns] = []
    here = directory.resolve()
    for folder in (here.parent, *here.parent.parents):
        gitignore = folder / ".gitignore"
        if gitignore.is_file():
            found.append(_Patterns(folder, _read_lines(gitignore)))
        if (folder / ".git").exists():
            break
    for folder in (here, *here.parents):
        exclude = folder / ".git" / "info" / "exclude"
        if exclude.is_file():
            found.append(_Patterns(folder, _read_lines(exclude)))
            break
    return {directory: found}


def _config_excludes(directory: Path) -> list[_Patterns]:
    from dfix.config import ConfigError, config_for

    try:
        config = config_for(directory)
    except ConfigError:
        return []  # reported when the files are read
    return [_Patterns(config.root, config.exclude)] if config.exclude and config.root else []


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


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


def write_atomic(path: str, text: str) -> None:
    """Replace a file's content all at once, keeping its mode.

    The new text goes to a temporary file in the same directory, which then
    takes the file's place; on any error the file is left as it was. A
    symbolic link keeps pointing where it did: its target is written.
    """
    target = os.path.realpath(path)
    mode = stat.S_IMODE(os.stat(target).st_mode)
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".dfix-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(text.encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
