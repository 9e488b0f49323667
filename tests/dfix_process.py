"""dfix as a user runs it: ``python -m dfix`` in a subprocess, on files a test writes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), **extra}


def dfix_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "dfix", *args]


def run(*args: str, cwd: Path, stdin: bytes | None = None, **extra: str) -> subprocess.CompletedProcess[bytes]:
    """dfix's result; never a traceback (that is a failure of its own)."""
    result = subprocess.run(dfix_cmd(*args), cwd=cwd, input=stdin, capture_output=True, env=env(**extra),
                            check=False, timeout=120)
    assert b"Traceback" not in result.stderr, result.stderr.decode("utf-8", "replace")
    return result


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
