"""hadolint as an oracle: its findings on files, by code and line.

hadolint 2.15.1 crashes on some files (a one-letter WORKDIR), and a crash
loses the findings of every file in the same call: a batch that fails is run
again file by file, and a file hadolint cannot read is reported as such
rather than read as "no findings".
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BINARY = Path(sys.executable).with_name("hadolint")


class HadolintCrashed(Exception):
    pass


def findings(paths: list[Path], batch: int = 200) -> dict[str, list[tuple[str, int]] | None]:
    """Each file's findings as (code, line); None for a file hadolint crashed on."""
    found: dict[str, list[tuple[str, int]] | None] = {}
    for start in range(0, len(paths), batch):
        chunk = paths[start : start + batch]
        result = _run(chunk)
        if result is None and len(chunk) > 1:
            for path in chunk:
                found.update(findings([path], batch=1))
            continue
        for path in chunk:
            found[str(path)] = None if result is None else []
        for item in result or []:
            found[item["file"]].append((item["code"], item["line"]))
    return found


def _run(paths: list[Path]) -> list[dict] | None:
    result = subprocess.run(
        [str(BINARY), "--no-fail", "--format", "json", *map(str, paths)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        return None
    return json.loads(result.stdout or "[]")
