"""Finding Dockerfiles and reading them, with clear errors for what is not one."""

from __future__ import annotations

import errno
import fnmatch
import os
import re
import stat
import sys
import tempfile
import time
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
    seen: set[object] = set()

    def first_time(path: str) -> bool:
        key = _identity(path)
        if key in seen:
            return False
        seen.add(key)
        return True

    for path in paths:
        if path == STDIN:
            if first_time(path):
                yield path
        elif os.path.isdir(path):
            found = sorted(_search(Path(path), command_line))
            if not found:
                yield FileError(path, "no Dockerfiles found in this directory")
            yield from (item for item in found if first_time(item))
        elif os.path.exists(path):
            if first_time(path):
                yield path
        elif os.path.islink(path):
            yield FileError(path, "broken symbolic link (its target does not exist)")
        else:
            yield FileError(path, "no such file or directory")


def _identity(path: str) -> object:
    """The same file, however named: ``./Dockerfile`` and ``Dockerfile``, a
    symbolic link and its target, two hard links."""
    if path == STDIN:
        return STDIN
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return os.path.realpath(path)
    return (st.st_dev, st.st_ino)


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
                if _is_regular(child):  # not a FIFO (reading it would wait forever), a socket, a device
                    yield str(child)


def _is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return True  # a broken link or an unreadable entry: reading it reports why


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
        raise FileError(path, f"file too large (over {MAX_BYTES // 1024} KB); a Dockerfile is far smaller")
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


def shown(path: str) -> str:
    """An absolute path as people read it: from the current folder when it is below it."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


class ReadOnlyFile(PermissionError):
    """A file ``--write`` refuses: it has no write permission."""

    def __init__(self, path: str) -> None:
        super().__init__(errno.EACCES, "read-only file, not written", path)


class NotRegularFile(OSError):
    """A FIFO, a device or a socket: writing would replace it with a plain file."""

    def __init__(self, path: str) -> None:
        super().__init__(errno.EINVAL, "not a regular file, not written", path)


_TEMPORARY = re.compile(r"\.dfix-(?:(\d+)-)?.*\.tmp\Z", re.DOTALL)
STALE_AFTER = 3600.0  # seconds; a write holds its temporary file for milliseconds


def is_writable(path: str, st: os.stat_result | None = None) -> bool:
    """Whether ``--write`` may write the file. Root may write anything, so a
    file without a single write bit in its mode counts as read-only for root;
    for others the permission decides (os.access)."""
    st = st if st is not None else os.stat(path)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return bool(st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    return os.access(path, os.W_OK)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # someone else's process (or a pid we cannot ask about): keep its file
    except OSError:
        return True
    return True


def remove_stale_temporaries(directory: str, now: float | None = None) -> list[str]:
    """Remove what interrupted writes left in ``directory``: ``.dfix-PID-*.tmp``
    files whose process is gone, and any ``.dfix-*.tmp`` (the older naming
    without a pid too) older than an hour. Only regular files with these
    names; errors are ignored. Returns the names removed."""
    now = time.time() if now is None else now
    removed = []
    try:
        entries = list(os.scandir(directory or "."))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMPORARY.match(entry.name)
        if match is None:
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            old = now - entry.stat(follow_symlinks=False).st_mtime > STALE_AFTER
            dead = match.group(1) is not None and not _pid_alive(int(match.group(1)))
            if old or dead:
                os.unlink(entry.path)
                removed.append(entry.name)
        except (OSError, ValueError):
            continue
    return removed


def write_atomic(path: str, text: str, cleaned: set[str] | None = None) -> None:
    """Replace a file's content, keeping its mode, owner and group.

    The new text goes to a temporary file ``.dfix-PID-XXXXXXXX.tmp`` in the
    same directory (fsynced, given the original's owner, group and mode),
    which then takes the file's place by a rename: on any error, or if the
    process dies, the file is left as it was. A file with several hard links
    is written in place instead, through its inode, so that the links stay
    linked (not atomic). A symbolic link keeps pointing where it did: its
    target is written. Stale temporary files of interrupted runs are removed
    from the directory first (once per directory when ``cleaned`` collects
    the directories done).

    Raises ReadOnlyFile for a file without write permission, NotRegularFile
    for a FIFO, device or socket, and OSError when the write fails.
    """
    target = os.path.realpath(path)
    st = os.stat(target)
    if not stat.S_ISREG(st.st_mode):
        raise NotRegularFile(path)
    if not is_writable(target, st):
        raise ReadOnlyFile(path)
    data = text.encode("utf-8")
    directory = os.path.dirname(target)
    if cleaned is None or directory not in cleaned:
        remove_stale_temporaries(directory)
        if cleaned is not None:
            cleaned.add(directory)
    root = os.geteuid() == 0 if hasattr(os, "geteuid") else True
    if st.st_nlink > 1 or (not root and st.st_uid != os.geteuid()):
        # hard links stay linked; someone else's file stays theirs (a rename would make it ours)
        _write_in_place(target, data)
        return
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".dfix-{os.getpid()}-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        kept = _copy_owner(temporary, st, root)
        if kept:
            os.chmod(temporary, stat.S_IMODE(st.st_mode))
            os.replace(temporary, target)
    except BaseException:
        _unlink_quietly(temporary)
        raise
    if not kept:  # our group is not the file's, and we cannot give it ours
        _unlink_quietly(temporary)
        _write_in_place(target, data)
        return
    _sync_directory(directory)


def create_atomic(path: str, text: str) -> None:
    """Create a new file with ``text``, whole or not at all, never replacing
    one: the text goes to a temporary file that is then linked under the
    name (which fails with FileExistsError when the name is taken). Its mode
    is what the umask leaves of rw-rw-rw-, as for any new file."""
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".dfix-{os.getpid()}-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(text.encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.link(temporary, path)
    finally:
        _unlink_quietly(temporary)
    _sync_directory(directory)


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _write_in_place(target: str, data: bytes) -> None:
    with open(target, "r+b") as out:
        out.write(data)
        out.truncate()
        out.flush()
        os.fsync(out.fileno())


def _copy_owner(temporary: str, st: os.stat_result, root: bool) -> bool:
    """Give the temporary file the original's owner and group; False when
    that is not possible (not root, and not a member of the file's group)."""
    if not hasattr(os, "chown"):
        return True
    mine = os.stat(temporary)
    if (mine.st_uid, mine.st_gid) == (st.st_uid, st.st_gid):
        return True
    if root:
        os.chown(temporary, st.st_uid, st.st_gid)
        return True
    try:
        os.chown(temporary, -1, st.st_gid)
    except OSError:
        return False
    return True


def _sync_directory(directory: str) -> None:
    """Make the rename durable (POSIX); some file systems refuse, which is fine."""
    try:
        fd = os.open(directory or ".", os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
