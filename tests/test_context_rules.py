"""The rules that read the build context, on real context folders.

Each case is a folder ``fixtures/context/<RULE>/<case>/``: a ``Dockerfile``
(its first line says ``[unsafe]`` when unsafe fixes apply) and the files of
its context; ``<case>.expected/`` holds the files the fix changes or
creates (no such folder: nothing changes). git cannot store a ``.git``
folder inside a repository, so a case's ``dot-git`` becomes ``.git`` when
the case is copied out to run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import dfix
from dfix import dockerignore
from dfix.build_context import BuildContext
from dfix.rules._copies import context_copies
from dfix.rules._stages import stages
from tests.conftest import FIXTURES, ROOT
from tests.rule_cases import buildkit, hadolint_codes

CASES = sorted(
    path for path in (FIXTURES / "context").glob("*/*") if path.is_dir() and not path.name.endswith(".expected")
)


def materialize(case: Path, into: Path) -> Path:
    """The case as a context folder of its own (``dot-git`` as ``.git``)."""
    target = into / case.name
    shutil.copytree(case, target)
    for found in sorted(target.rglob("dot-git"), reverse=True):
        found.rename(found.with_name(".git"))
    return target


def files_of(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*")) if p.is_file()}


def describe(text: str, rule: str, context: Path, unsafe: bool) -> str:
    """Findings, and what the fix changes and creates, for snapshots."""
    from dfix.diff import unified_diff

    dockerfile = context / "Dockerfile"
    found = dfix.check(text, select=[rule], path=dockerfile)
    lines = [f"{d.line}:{d.column} {d.id} {d.message} [{d.fix.applicability.value if d.fix else 'no fix'}]" for d in found]
    result = dfix.fix(text, select=[rule], unsafe=unsafe, path=dockerfile)
    diffs = unified_diff(text, result.code, "Dockerfile") if result.code != text else ""
    diffs += "".join(unified_diff(None, new, os.path.relpath(path, context)) for path, new in result.files.items())
    return "\n".join(lines or ["(no findings)"]) + "\n---\n" + (diffs or "(no change)\n")


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_context_case(case: Path, tmp_path: Path, snapshot) -> None:
    rule = case.parent.name
    context = materialize(case, tmp_path)
    dockerfile = context / "Dockerfile"
    text = dockerfile.read_text(encoding="utf-8")
    unsafe = "[unsafe]" in text.splitlines()[0]
    expected_folder = case.with_name(case.name + ".expected")
    expected = files_of(expected_folder) if expected_folder.is_dir() else {}

    result = dfix.fix(text, select=[rule], unsafe=unsafe, path=dockerfile)
    assert result.bugs == []
    assert result.code == expected.pop("Dockerfile", text)
    assert {os.path.relpath(path, context): new for path, new in result.files.items()} == expected
    assert describe(text, rule, context, unsafe) == snapshot
    if result.code == text and not result.files:
        return
    # BuildKit reads the result; hadolint finds nothing new in it
    assert buildkit(result.code)
    before, after = hadolint_codes(text), hadolint_codes(result.code)
    assert {code: count for code, count in after.items() if count > before[code]} == {}
    # a new .dockerignore leaves out no path a COPY names
    for path, new in result.files.items():
        if path.endswith(".dockerignore"):
            patterns = dockerignore.parse(new)
            sources = [s for copy in context_copies(stages(dfix.parse(result.code))) for s in copy.sources]
            assert [s for s in sources if s not in (".", "./") and patterns.excludes(s)] == []
    # once the files are written, a second run changes nothing
    for path, new in result.files.items():
        Path(path).write_text(new, encoding="utf-8")
    again = dfix.fix(result.code, select=[rule], unsafe=unsafe, path=dockerfile)
    assert (again.code, again.files) == (result.code, {})


def test_every_context_rule_has_a_fixed_case_and_a_case_left_alone() -> None:
    for rule in ("DF110", "DF112"):
        cases = [case for case in CASES if case.parent.name == rule]
        assert any(case.with_name(case.name + ".expected").is_dir() for case in cases), rule
        assert any(not case.with_name(case.name + ".expected").is_dir() for case in cases), rule


def test_without_a_context_the_rules_see_none() -> None:
    text = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\n"
    found = dfix.check(text, select=["DF110", "DF112", "DF113"])
    assert [(d.id, d.declined) for d in found] == [("DF110", "cannot see the build context (no build context (a text without a file))")]


def test_a_link_out_of_the_context_is_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("secret\n")
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "link.txt").symlink_to(outside)
    (context / "real.txt").write_text("here\n")
    build = BuildContext.at(str(context))
    assert build.read("real.txt") == "here\n"
    assert build.read("link.txt") is None
    assert build.read("../outside.txt") is None and not build.exists("../outside.txt")


def test_dockerfile_dockerignore_wins(tmp_path: Path) -> None:
    """BuildKit reads ``<Dockerfile>.dockerignore`` beside the Dockerfile before the context's."""
    (tmp_path / ".dockerignore").write_text("*.md\n")
    (tmp_path / "api.Dockerfile").write_text("FROM alpine:3.20\nCOPY README.md notes.txt /doc/\n")
    (tmp_path / "api.Dockerfile.dockerignore").write_text("*.txt\n")
    text = (tmp_path / "api.Dockerfile").read_text()
    found = dfix.check(text, select=["DF113"], path=tmp_path / "api.Dockerfile")
    assert [d.message for d in found] == ["COPY source 'notes.txt' is excluded by api.Dockerfile.dockerignore"]


def _dfix(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dfix", *args], cwd=cwd, capture_output=True, text=True, input=stdin,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_the_cli_shows_creates_and_counts_a_new_dockerignore(tmp_path: Path) -> None:
    context = materialize(FIXTURES / "context" / "DF112" / "node", tmp_path)
    before = files_of(context)
    expected = (FIXTURES / "context" / "DF112" / "node.expected" / ".dockerignore").read_text()

    assert "Would create .dockerignore\n" in _dfix("--check", "Dockerfile", cwd=context).stdout  # on by default
    check = _dfix("--check", "--select", "DF112", "Dockerfile", cwd=context)
    assert (check.returncode, check.stdout) == (1, "Would create .dockerignore\n")
    diff = _dfix("--diff", "--select", "DF112", "Dockerfile", cwd=context)
    assert diff.returncode == 1
    assert diff.stdout.startswith("--- /dev/null\n+++ b/.dockerignore\n@@ -0,0 +1,")
    assert files_of(context) == before  # neither wrote anything

    write = _dfix("--write", "--select", "DF112", "Dockerfile", cwd=context)
    assert write.returncode == 0, write.stderr
    assert "Created .dockerignore." in write.stdout
    assert (context / ".dockerignore").read_text() == expected
    assert oct((context / ".dockerignore").stat().st_mode & 0o777) == oct(0o666 & ~_umask())
    assert _dfix("--check", "--select", "DF112", "Dockerfile", cwd=context).returncode == 0


def test_a_dockerignore_made_meanwhile_is_kept(tmp_path: Path) -> None:
    from dfix.runner import Settings, process

    context = materialize(FIXTURES / "context" / "DF112" / "node", tmp_path)
    report = process(str(context / "Dockerfile"), Settings(mode="diff"))
    assert list(report.files) == [str(context / ".dockerignore")]
    (context / ".dockerignore").write_text("mine\n")
    from dfix.runner import write

    write(str(context / "Dockerfile"), report, Settings(mode="write"))
    assert (context / ".dockerignore").read_text() == "mine\n"
    assert report.warnings == [f"{context / '.dockerignore'}: warning: exists already, not written"]


def test_context_comes_from_the_option_the_setting_or_the_folder(tmp_path: Path) -> None:
    def _dfix(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
        return globals()["_dfix"]("--select", "DF112", *args, cwd=cwd, stdin=stdin)

    project = materialize(FIXTURES / "context" / "DF112" / "node", tmp_path)
    docker = project / "docker"
    docker.mkdir()
    (project / "Dockerfile").rename(docker / "Dockerfile")
    # the Dockerfile's folder holds nothing to leave out
    assert _dfix("--check", "docker/Dockerfile", cwd=project).returncode == 0
    option = _dfix("--check", "--context", ".", "docker/Dockerfile", cwd=project)
    assert option.stdout == "Would create .dockerignore\n"
    (project / ".dfix.toml").write_text('context = "."\n')
    assert _dfix("--check", "docker/Dockerfile", cwd=project).stdout == "Would create .dockerignore\n"
    # standard input: the folder --stdin-filename names, none without it
    text = (docker / "Dockerfile").read_text()
    assert _dfix("--check", "--stdin-filename", "Dockerfile", "-", cwd=project, stdin=text).returncode == 1
    (project / ".dfix.toml").unlink()
    assert _dfix("--check", "-", cwd=project, stdin=text).returncode == 0


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
