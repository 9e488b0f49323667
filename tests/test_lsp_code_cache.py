"""The start-up cache of dfix-lsp (dfix/lsp/code_cache.py): what it returns is
what ``compile`` would, it survives a restart, and it can be turned off."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dfix.lsp import code_cache

SOURCE = "def __init__(self, x):\n    self.x = x\n"


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("DFIX_LSP_CODE_CACHE", raising=False)
    return tmp_path / "dfix"


def test_cached_code_is_what_compile_gives_and_survives_a_restart(cache_home: Path) -> None:
    path = code_cache.cache_file()
    assert path is not None and path.parent == cache_home
    first = code_cache._Cache(path)
    code = first.compile(SOURCE, "<attrs generated init>", "exec")
    assert code == compile(SOURCE, "<attrs generated init>", "exec")
    assert first.compile(SOURCE, "<attrs generated init>", "exec") is code  # asked twice: compiled once
    first.save()
    again = code_cache._Cache(path)
    assert again.compile(SOURCE, "<attrs generated init>", "exec") == code
    assert again.added == 0  # from the file, not compiled
    # a different source or file name is not mistaken for a cached one
    assert again.compile(SOURCE + "\n", "<attrs generated init>", "exec") is not None and again.added == 1
    assert again.compile(SOURCE, "<other>", "exec").co_filename == "<other>"


def test_a_damaged_cache_file_is_ignored(cache_home: Path) -> None:
    path = code_cache.cache_file()
    assert path is not None
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\x00not marshal")
    cache = code_cache._Cache(path)
    assert cache.codes == {}
    assert cache.compile(SOURCE, "f", "exec") == compile(SOURCE, "f", "exec")


def test_turned_off(cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DFIX_LSP_CODE_CACHE", "0")
    assert code_cache.cache_file() is None
    code_cache._Cache(None).save()  # nothing to write to, no error
    assert not cache_home.exists()


def test_only_long_unused_files_of_other_versions_are_removed(cache_home: Path) -> None:
    cache_home.mkdir(parents=True)
    current = cache_home / "lsp-code-cpython-311-current.marshal"
    recent = cache_home / "lsp-code-cpython-311-other.marshal"
    old = cache_home / "lsp-code-cpython-311-old.marshal"
    unrelated = cache_home / "something-else.marshal"
    for each in (current, recent, old, unrelated):
        each.write_bytes(b"")
    long_ago = time.time() - (code_cache.UNUSED_DAYS + 1) * 86400
    for each in (old, unrelated, current):
        os.utime(each, (long_ago, long_ago))
    code_cache._remove_unused(current)
    assert sorted(p.name for p in cache_home.iterdir()) == sorted([current.name, recent.name, unrelated.name])


def test_the_server_writes_the_cache_and_starts_from_it(tmp_path: Path) -> None:
    """Two real starts (initialize, initialized, shutdown, exit): the first writes the file, the second reads it."""
    import json

    def start() -> None:
        messages = [
            {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": None, "rootUri": None, "capabilities": {}}},
            {"jsonrpc": "2.0", "method": "initialized", "params": {}},
            {"jsonrpc": "2.0", "id": 2, "method": "shutdown"},
            {"jsonrpc": "2.0", "method": "exit"},
        ]
        data = b"".join(b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
                        for body in (json.dumps(m).encode() for m in messages))
        done = subprocess.run([sys.executable, "-m", "dfix.lsp"], input=data, capture_output=True, timeout=60,
                              env={**os.environ, "XDG_CACHE_HOME": str(tmp_path), "DFIX_LSP_CODE_CACHE": "1"})
        assert done.returncode == 0, done.stderr.decode(errors="replace")
        assert b'"id": 2' in done.stdout or b'"id":2' in done.stdout

    start()
    [written] = (tmp_path / "dfix").glob("lsp-code-*.marshal")
    size = written.stat().st_size
    assert size > 100_000  # lsprotocol's classes and converters
    start()
    assert written.stat().st_size == size  # nothing new to compile the second time
