"""The first command line: read each file, report what cannot be read."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dfix.cli import cli, main


def run(*args: str, cwd: Path | None = None, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    return subprocess.run(
        [sys.executable, "-m", "dfix", *args], cwd=cwd, input=stdin, capture_output=True, env=env, check=False,
    )


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_good_file_exits_zero(tmp_path: Path) -> None:
    good = write(tmp_path / "Dockerfile", b"FROM alpine\nRUN echo hi\n")
    result = run(str(good))
    assert result.returncode == 0, result.stderr
    assert result.stdout == b""
    assert result.stderr == b"1 file read, no errors.\n"


def test_syntax_error_reports_path_line_column(tmp_path: Path) -> None:
    bad = write(tmp_path / "Dockerfile", b"FROM alpine\nENV A=1 B\n")
    result = run(str(bad))
    assert result.returncode == 2
    assert f"{bad}:2:9: error: Syntax error - can't find = in 'B'".encode() in result.stderr
    assert b"Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"FROM a\n\xff\xfe\n", b":2:1: error: invalid UTF-8 (byte 0xff)"),
        (b"FROM a\nRUN \x00\x01\n", b":2:5: error: binary file (NUL byte), not a Dockerfile"),
        (b"import os\nprint(os)\n", b":1:1: error: unknown instruction 'import'"),
        (b"FROM a\nRUN <<EOF\nnever ends\n", b":2:1: error: unterminated heredoc"),
        (b"# nothing but a comment\n", b":2:1: error: file with no instructions"),
        (b"FROM a\n  BOGUS x\n", b":2:3: error: unknown instruction 'BOGUS'"),
    ],
    ids=["invalid utf-8", "binary", "not a dockerfile", "unterminated heredoc", "empty", "unknown instruction"],
)
def test_bad_input_gets_a_clear_error(tmp_path: Path, data: bytes, message: bytes) -> None:
    path = write(tmp_path / "Dockerfile", data)
    result = run(str(path))
    assert result.returncode == 2
    assert str(path).encode() + message in result.stderr
    assert b"Traceback" not in result.stderr
    assert path.read_bytes() == data  # nothing is ever written


def test_too_large_file(tmp_path: Path) -> None:
    path = write(tmp_path / "Dockerfile", b"FROM a\n" + b"# padding\n" * 500_000)
    result = run(str(path))
    assert result.returncode == 2
    assert b"file too large" in result.stderr


def test_one_bad_file_does_not_stop_the_others(tmp_path: Path) -> None:
    write(tmp_path / "a" / "Dockerfile", b"FROM a\nENV X\n")
    write(tmp_path / "b" / "Dockerfile", b"FROM b\n")
    write(tmp_path / "c" / "app.Dockerfile", b"FROM c\nENV Y\n")
    result = run(str(tmp_path))
    assert result.returncode == 2
    errors = [line for line in result.stderr.decode().splitlines() if ": error: " in line]
    assert [Path(line.split(":")[0]).parent.name for line in errors] == ["a", "c"]
    assert "2 errors; 1 file read." in result.stderr.decode()


def test_missing_path_and_directory_without_dockerfiles(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    write(tmp_path / "other" / "README.md", b"# not a Dockerfile\n")
    good = write(tmp_path / "Containerfile", b"FROM a\n")
    result = run(str(tmp_path / "missing"), str(tmp_path / "empty"), str(tmp_path / "other"), str(good))
    assert result.returncode == 2
    stderr = result.stderr.decode()
    assert f"{tmp_path / 'missing'}: error: no such file or directory" in stderr
    assert f"{tmp_path / 'empty'}: error: no Dockerfiles found in this directory" in stderr
    assert f"{tmp_path / 'other'}: error: no Dockerfiles found in this directory" in stderr


def test_directory_search_finds_every_dockerfile_name(tmp_path: Path) -> None:
    names = ["Dockerfile", "Dockerfile.dev", "api.Dockerfile", "web.dockerfile", "Containerfile", "Containerfile.ci"]
    for name in names:
        write(tmp_path / "x" / name, b"FROM a\nENV A\n")  # each one fails, so each one is named
    write(tmp_path / "x" / "notes.txt", b"ENV A\n")
    write(tmp_path / ".git" / "Dockerfile", b"ENV A\n")
    result = run(str(tmp_path))
    found = sorted(Path(line.split(":")[0]).name for line in result.stderr.decode().splitlines() if ": error: " in line)
    assert found == sorted(names)


def test_stdin(tmp_path: Path) -> None:
    assert run("-", stdin=b"FROM a\n").returncode == 0
    result = run("-", stdin=b"FROM a\nENV A\n")
    assert result.returncode == 2
    assert b"<stdin>:2:1: error: ENV must have two arguments" in result.stderr


def test_help_and_version() -> None:
    runner = CliRunner()
    help_result = runner.invoke(cli, ["--help"])
    assert help_result.exit_code == 0 and "PATH:LINE:COLUMN" in help_result.output
    version = runner.invoke(cli, ["--version"])
    assert version.exit_code == 0 and version.output.startswith("dfix, version ")


def test_usage_error_exits_two() -> None:
    assert main(["--no-such-option"]) == 2


def test_main_returns_the_exit_status(tmp_path: Path) -> None:
    good = write(tmp_path / "Dockerfile", b"FROM a\n")
    assert main([str(good)]) == 0
    bad = write(tmp_path / "bad" / "Dockerfile", b"FROM a\nENV A\n")
    assert main([str(bad)]) == 2


def test_default_is_the_current_directory(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", b"FROM a\nENV A\n")
    result = run(cwd=tmp_path)
    assert result.returncode == 2
    assert b"Dockerfile:2:1: error: ENV must have two arguments" in result.stderr
