"""dfix in a real editor: headless Neovim runs ``dfix-lsp`` with its built-in
LSP client, and ``dfix --write -`` as a filter (tests/nvim/e2e.lua drives it).

What is checked against dfix itself, computed here: the diagnostics' rule ids
and positions (``dfix.check``), and the text a save writes (the real
``dfix --write - --stdin-filename PATH``). The fixture puts non-ASCII
characters, one outside the BMP, before findings on their line, so that the
server's UTF-16 columns and Neovim's byte columns both differ from dfix's
character columns.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import dfix

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tests" / "nvim" / "e2e.lua"
#: DFIX_TEST_NVIM picks another Neovim binary (the newest API paths of e2e.lua)
NVIM = os.environ.get("DFIX_TEST_NVIM") or shutil.which("nvim")
#: seconds a whole Neovim run may take; milliseconds it waits for the server
RUN_TIMEOUT = 60
SERVER_TIMEOUT_MS = 20_000

pytestmark = pytest.mark.skipif(NVIM is None, reason="nvim not installed; .ci/run installs Debian's neovim package")

GOOD = (
    "FROM debian:bookworm\n"
    "MAINTAINER Zoë Müller <zoe@example.com>\n"
    "RUN apt-get update && apt-get install -y curl\n"
    'RUN echo "日本 🐳" && cd /tmp && apt-get install -y git\n'
    "CMD python app.py\n"
)
# an unterminated heredoc: dfix refuses it (exit 2, prints nothing)
BROKEN = (
    "FROM debian:bookworm\n"
    'RUN echo "🐳 héllo"\n'
    "RUN <<EOF\n"
    "apt-get install -y curl\n"
)

ERROR, WARNING, INFORMATION = 1, 2, 3  # LSP's and vim.diagnostic's severities


def _tool(name: str, module: str) -> list[str]:
    """The console script next to this Python, else ``python -m module``."""
    script = Path(sys.executable).parent / name
    return [str(script)] if script.exists() else [sys.executable, "-m", module]


def cli_write(text: str, path: Path) -> subprocess.CompletedProcess[str]:
    """What ``dfix --write - --stdin-filename PATH`` prints for ``text``."""
    return subprocess.run(
        [sys.executable, "-m", "dfix", "--write", "-", "--stdin-filename", str(path)],
        input=text.encode(), capture_output=True, timeout=RUN_TIMEOUT, check=False,
    )


def read_bytes_as_text(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


@pytest.fixture
def nvim_env(tmp_path: Path) -> dict[str, str]:
    """A Neovim with nothing of the user's: its own HOME and XDG folders."""
    env = dict(os.environ)
    home = tmp_path / "home"
    # XDG_RUNTIME_DIR is left out: a socket path under tmp_path can pass the 108-byte limit
    env.pop("XDG_RUNTIME_DIR", None)
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        folder = home / name.lower()
        folder.mkdir(parents=True, mode=0o700)
        env[name] = str(folder)
    env["HOME"] = str(home)
    env.pop("NVIM_LOG_FILE", None)
    env.pop("VIMINIT", None)
    env.pop("NVIM", None)  # not a child of another Neovim
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def run_nvim(mode: str, path: Path, env: dict[str, str]) -> dict:
    """Open ``path`` in headless Neovim, run the script in ``mode``; its report."""
    work = path.parent
    out = work / f"report-{mode}.json"
    spec = work / f"spec-{mode}.json"
    spec.write_text(json.dumps({
        "mode": mode,
        "lsp_cmd": _tool("dfix-lsp", "dfix.lsp"),
        "dfix_cmd": _tool("dfix", "dfix"),
        "root": str(work),
        "out": str(out),
        "timeout": SERVER_TIMEOUT_MS,
    }))
    command = [NVIM, "--headless", "--clean", "-u", "NONE", "-i", "NONE", "-n", str(path),
               "-c", f"luafile {SCRIPT}"]
    try:
        done = subprocess.run(command, env={**env, "DFIX_NVIM_SPEC": str(spec)}, cwd=work,
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=RUN_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"nvim did not finish in {RUN_TIMEOUT}s: {error.stdout!r} {error.stderr!r}")
    output = (done.stdout + done.stderr).decode(errors="replace")
    assert out.exists(), f"nvim (exit {done.returncode}) wrote no report:\n{output}"
    report = json.loads(out.read_text(encoding="utf-8"))
    assert "error" not in report, f"the Lua script failed: {report['error']}\n{output}{_lsp_log(env)}"
    assert done.returncode == 0, f"nvim exited {done.returncode}:\n{output}"
    return report


def _lsp_log(env: dict[str, str]) -> str:
    """The end of Neovim's LSP log (the server's stderr goes there): cache on 0.7, state since 0.8."""
    for folder in ("XDG_STATE_HOME", "XDG_CACHE_HOME"):
        log = Path(env[folder]) / "nvim" / "lsp.log"
        if log.exists():
            return "\nlsp.log:\n" + log.read_text(encoding="utf-8", errors="replace")[-4000:]
    return ""


def _position(text: str, offset: int) -> tuple[int, str]:
    """0-based line and the line's text before ``offset`` (lines split at ``\\n``)."""
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset), text[line_start:offset]


def _utf16(chars: str) -> int:
    return len(chars.encode("utf-16-le")) // 2


def expected_findings(text: str) -> tuple[list[tuple], list[tuple]]:
    """dfix's findings as (id, line, column, end line, end column), 0-based:
    columns in UTF-16 code units (what the server sends) and in bytes (what
    Neovim's vim.diagnostic keeps)."""
    utf16, utf8 = [], []
    for finding in dfix.check(text):
        line = text.split("\n")[finding.line - 1]
        before = line[: finding.column - 1]
        end_line, before_end = _position(text, finding.span[1])
        assert _position(text, finding.span[0]) == (finding.line - 1, before)
        utf16.append((finding.id, finding.line - 1, _utf16(before), end_line, _utf16(before_end)))
        utf8.append((finding.id, finding.line - 1, len(before.encode()), end_line, len(before_end.encode())))
    return sorted(utf16), sorted(utf8)


def test_fixtures_exercise_what_they_should(tmp_path: Path) -> None:
    """The fixture's findings sit after multi-byte characters, and it has fixes."""
    utf16, utf8 = expected_findings(GOOD)
    chars = sorted((d.id, d.line - 1, d.column - 1) for d in dfix.check(GOOD))
    assert [f[:3] for f in utf16] != chars != [f[:3] for f in utf8]
    assert {"DL4000", "DL3025", "DL3008"} <= {f[0] for f in utf16}
    assert cli_write(GOOD, tmp_path / "Dockerfile").stdout.decode() != GOOD
    with pytest.raises(dfix.ParseError):
        dfix.check(BROKEN)
    refused = cli_write(BROKEN, tmp_path / "Dockerfile")
    assert (refused.returncode, refused.stdout) == (2, b"")


def test_lsp_diagnostics_and_format_on_save(tmp_path: Path, nvim_env: dict[str, str]) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(GOOD.encode())
    report = run_nvim("lsp", path, nvim_env)

    assert report["diagnostics_arrived"], report
    assert report["offset_encoding"] == "utf-16"
    utf16, utf8 = expected_findings(GOOD)
    assert sorted(
        (d["code"], d["range"]["start"]["line"], d["range"]["start"]["character"],
         d["range"]["end"]["line"], d["range"]["end"]["character"]) for d in report["server_diagnostics"]
    ) == utf16
    shown = report["diagnostics"]
    assert sorted((d["code"], d["lnum"], d["col"], d["end_lnum"], d["end_col"]) for d in shown) == utf8
    assert {d["severity"] for d in shown} <= {WARNING, INFORMATION}

    fixed = cli_write(GOOD, path)
    assert fixed.returncode == 0
    assert report["formatting"]["error"] is None and report["formatting"]["edits"] > 0
    assert report["formatted_on_save"] == 1
    assert read_bytes_as_text(path) == fixed.stdout.decode()
    assert report["notifications"] == []
    assert report["server_stopped"]


def test_lsp_broken_file_saved_unchanged_with_error_diagnostic(tmp_path: Path, nvim_env: dict[str, str]) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(BROKEN.encode())
    report = run_nvim("lsp", path, nvim_env)

    assert report["diagnostics_arrived"], report
    with pytest.raises(dfix.ParseError) as refused:
        dfix.check(BROKEN)
    [shown] = report["diagnostics"]
    assert shown["severity"] == ERROR
    assert (shown["code"], shown["lnum"], shown["col"]) == (None, refused.value.line - 1, refused.value.column - 1)
    assert refused.value.message in shown["message"]
    # the server answers formatting with no edits (not a timeout), and the save keeps the text
    assert report["formatting"] == {"error": None, "edits": 0}
    assert report["formatted_on_save"] == 1
    assert read_bytes_as_text(path) == BROKEN
    assert report["notifications"] == []


def test_stdin_filter(tmp_path: Path, nvim_env: dict[str, str]) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(GOOD.encode())
    report = run_nvim("filter", path, nvim_env)
    fixed = cli_write(GOOD, path)
    assert report["shell_error"] == 0
    assert read_bytes_as_text(path) == fixed.stdout.decode()


def test_stdin_filter_on_broken_file(tmp_path: Path, nvim_env: dict[str, str]) -> None:
    """``:%!`` replaces the lines even when the command fails: with dfix's
    error message (Neovim's 'shellredir' sends stderr there too). A user needs
    a guard; with one (undo when v:shell_error is set) the file is kept."""
    path = tmp_path / "Dockerfile"
    path.write_bytes(BROKEN.encode())
    report = run_nvim("filter", path, nvim_env)
    assert report["shell_error"] == 2
    assert "unterminated heredoc" in report["buffer_after_filter"]
    assert BROKEN.splitlines()[0] not in read_bytes_as_text(path)

    path.write_bytes(BROKEN.encode())
    report = run_nvim("filter_guarded", path, nvim_env)
    assert report["shell_error"] == 2
    assert read_bytes_as_text(path) == BROKEN


def readme_block(language: str) -> str:
    """The README's one code block in ``language`` (the Editors section's)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [block] = re.findall(rf"```{language}\n(.*?)```", readme, flags=re.S)
    return block


@pytest.mark.parametrize("text", [GOOD, BROKEN], ids=["fixable", "broken"])
def test_readme_vim_snippet_fixes_on_write(text: str, tmp_path: Path, nvim_env: dict[str, str]) -> None:
    """The README's Vim snippet, as written, used as the whole vimrc: ``:write``
    saves what ``dfix --write -`` prints, and a file dfix refuses unchanged."""
    vimrc = tmp_path / "vimrc"
    vimrc.write_text(readme_block("vim"), encoding="utf-8")
    path = tmp_path / "Dockerfile"
    path.write_bytes(text.encode())
    done = subprocess.run(
        [NVIM, "--headless", "-u", str(vimrc), "-i", "NONE", "-n", str(path), "-c", "write", "-c", "qall!"],
        env=nvim_env, cwd=tmp_path, stdin=subprocess.DEVNULL, capture_output=True, timeout=RUN_TIMEOUT, check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    expected = cli_write(text, path)
    assert read_bytes_as_text(path) == (expected.stdout.decode() if expected.returncode == 0 else text)
