"""A disk cache for the code that attrs and cattrs generate at start-up.

lsprotocol defines some 600 attrs classes, and attrs writes and compiles the
source of each one's ``__init__``, ``__eq__`` and friends when the module is
imported; cattrs does the same for the (un)structuring functions of each
message type on first use. Compiling that source is a third of the server's
start-up. The source is the same every time for the same versions, so its
code objects are kept in a ``marshal`` file, keyed by the exact source and
file name: a cached entry is what ``compile`` would have returned.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import marshal
import os
import sys
import tempfile
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any, Iterator

def cache_file() -> Path | None:
    """Where the cache lives (None to not cache): one file per Python and library versions."""
    if os.environ.get("DFIX_LSP_CODE_CACHE", "1") == "0":
        return None
    # the installed libraries, named by their files (cheaper than importlib.metadata)
    versions = []
    for module in ("attr._make", "cattrs.gen", "lsprotocol.types"):
        spec = importlib.util.find_spec(module)
        if spec is None or spec.origin is None:
            return None
        try:
            info = os.stat(spec.origin)
        except OSError:
            return None
        versions.append(f"{spec.origin}:{info.st_size}:{info.st_mtime_ns}")
    versions = "\n".join(versions)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dfix"
    tag = sys.implementation.cache_tag
    return base / f"lsp-code-{tag}-{hashlib.sha1(versions.encode()).hexdigest()[:12]}.marshal"


class _Cache:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.codes: dict[str, CodeType] = {}
        self.added = 0
        if path is not None:
            with contextlib.suppress(OSError, ValueError, EOFError, TypeError):
                loaded = marshal.loads(path.read_bytes())
                if isinstance(loaded, dict):
                    self.codes = loaded
                    os.utime(path)  # in use: see _remove_unused

    def compile(self, source: Any, filename: Any, mode: str, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs or not isinstance(source, str) or not isinstance(filename, str):
            return compile(source, filename, mode, *args, **kwargs)
        key = f"{mode}\0{filename}\0{hashlib.sha1(source.encode('utf-8', 'surrogatepass')).hexdigest()}"
        code = self.codes.get(key)
        if code is None:
            code = compile(source, filename, mode)
            self.codes[key] = code
            self.added += 1
        return code

    def save(self) -> None:
        if self.path is None or not self.added:
            return
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".lsp-code-", suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(marshal.dumps(self.codes))
                os.replace(temporary, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
            _remove_unused(self.path)
        self.added = 0


#: a cache file no server has read for this long is of libraries no longer installed
UNUSED_DAYS = 30


def _remove_unused(current: Path) -> None:
    """Remove the cache files of other library versions that no server has read for a month
    (not sooner: another environment may use them)."""
    import time

    for other in current.parent.glob("lsp-code-*.marshal"):
        with contextlib.suppress(OSError):
            if other != current and time.time() - other.stat().st_mtime > UNUSED_DAYS * 86400:
                other.unlink()


_cache: _Cache | None = None


@contextlib.contextmanager
def cached_compiles() -> Iterator[None]:
    """While inside, attrs and cattrs compile through the cache."""
    global _cache
    import attr._make
    import cattrs.gen

    modules: list[ModuleType] = [attr._make, cattrs.gen]
    if _cache is None:
        _cache = _Cache(cache_file())
    for module in modules:
        module.compile = _cache.compile  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for module in modules:
            with contextlib.suppress(AttributeError):
                del module.compile  # type: ignore[attr-defined]


def save() -> None:
    """Write what was compiled since the cache was read (nothing if nothing was)."""
    if _cache is not None:
        _cache.save()
