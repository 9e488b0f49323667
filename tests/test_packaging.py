"""A wheel built from the project (not only an editable install) finds its grammar."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_ships_the_grammar_and_works_installed(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True,
    )
    (wheel,) = tmp_path.glob("dfix-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "dfix/grammar/dockerfile.lark" in names
    assert "dfix/grammar/backtick.lark" in names

    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(site), str(wheel)],
        check=True, capture_output=True,
    )
    script = (
        "import dfix, dfix.cst.build as b; "
        "t = dfix.parse('# escape=`\\nFROM a\\nRUN echo `\\n  hi\\n'); "
        "print(b.GRAMMAR_DIR); print(t.instructions[1].body.value)"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    grammar_dir, value = result.stdout.splitlines()
    assert Path(grammar_dir) == site / "dfix" / "grammar"
    assert value == "echo   hi"
