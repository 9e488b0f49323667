"""Inputs that used to be accepted without a word and did nothing, or worse:
unknown rule ids in selections, malformed ``# dfix:`` pragmas, a
``[tool.dfix]`` table in ``.dfix.toml``, broken JSON in CMD and ENTRYPOINT.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import dfix
from dfix import selection
from dfix.config import ConfigError, config_for
from dfix.suppressions import Suppressions
from tests.dfix_process import run, write

ROOT = Path(__file__).resolve().parents[1]
BAD = b"from alpine:3.20\nMAINTAINER Jane <jane@example.com>\n"






@pytest.fixture(autouse=True)
def _fresh_configuration():
    config_for.cache_clear()
    yield
    config_for.cache_clear()


# ---------------------------------------------------------------- unknown rule ids


@pytest.mark.parametrize("selector", ["DL", "dl30", "DL4000", "df001", "DF", "ALL", "all", "maintainer-deprecated"])
def test_selectors_that_match_a_rule(selector: str) -> None:
    selection.check_selector(selector)


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("DL9999", "unknown rule DL9999"),
        ("dl9999", "unknown rule DL9999"),
        ("DL99", "unknown rule DL99"),
        ("DL3013", "unknown rule DL3013"),  # a hadolint rule dfix does not implement
        ("DF9", "unknown rule DF9"),
        ("SC2086", "unknown rule SC2086"),
        ("NOPE", "unknown rule selector 'NOPE'"),
    ],
)
def test_selectors_that_match_no_rule(selector: str, message: str) -> None:
    with pytest.raises(selection.SelectorError, match=message):
        selection.check_selector(selector)
    with pytest.raises(selection.SelectorError, match=message):
        selection.resolve(ignore=[selector])


@pytest.mark.parametrize("option", ["--select", "--ignore"])
def test_unknown_rule_on_the_command_line_is_a_usage_error(tmp_path: Path, option: str) -> None:
    write(tmp_path / "Dockerfile", BAD)
    result = run(option, "DL9999", cwd=tmp_path)
    assert result.returncode == 2
    assert b"unknown rule DL9999" in result.stderr
    assert b"All checks passed" not in result.stdout


@pytest.mark.parametrize(
    ("name", "config"),
    [
        (".dfix.toml", b'select = ["DL9999"]\n'),
        (".dfix.toml", b'ignore = ["DF001", "DL9999"]\n'),
        (".dfix.toml", b'[tool.dfix]\nselect = ["DL9999"]\n'),
        ("pyproject.toml", b'[tool.dfix]\nignore = ["DL9999"]\n'),
    ],
)
def test_unknown_rule_in_a_configuration_file(tmp_path: Path, name: str, config: bytes) -> None:
    write(tmp_path / name, config)
    write(tmp_path / "Dockerfile", BAD)
    result = run(cwd=tmp_path)
    assert result.returncode == 2
    assert f"{name}: error: unknown rule DL9999 in ".encode() in result.stderr
    assert b"All checks passed" not in result.stdout
    with pytest.raises(ConfigError, match="unknown rule DL9999"):
        config_for(tmp_path)


def test_a_prefix_that_matches_rules_is_fine_in_a_configuration_file(tmp_path: Path) -> None:
    write(tmp_path / ".dfix.toml", b'select = ["DL40", "DF00"]\nignore = ["DF001"]\n')
    write(tmp_path / "Dockerfile", BAD)
    findings = json.loads(run("--format", "json", cwd=tmp_path).stdout)
    assert [f["id"] for f in findings] == ["DL4000"]


def test_hadolint_ids_dfix_lacks_are_fine_where_hadolint_reads_them(tmp_path: Path) -> None:
    write(tmp_path / ".hadolint.yaml", b"ignored:\n  - DL3013\n  - DL9999\n  - SC2086\n  - DF001\n")
    write(tmp_path / "Dockerfile", b"from alpine:3.20\n# hadolint ignore=DL3013,DL9999\nMAINTAINER Jane\n")
    result = run("--format", "json", cwd=tmp_path)
    assert result.returncode == 1 and result.stderr == b""
    assert [f["id"] for f in json.loads(result.stdout)] == ["DL4000"]


# ---------------------------------------------------------------- [tool.dfix] in .dfix.toml


def test_dfix_toml_accepts_a_tool_dfix_table(tmp_path: Path) -> None:
    write(tmp_path / ".dfix.toml", b'[tool.dfix]\nignore = ["DF001"]\n\n[tool.dfix.rules.DL4000]\nlabel = "author"\n')
    write(tmp_path / "Dockerfile", BAD)
    config = config_for(tmp_path)
    assert config.ignore == ("DF001",) and config.rule_options == {"DL4000": {"label": "author"}}
    findings = json.loads(run("--format", "json", cwd=tmp_path).stdout)
    assert [f["id"] for f in findings] == ["DL4000"]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (b'select = ["DL"]\n[tool.dfix]\nignore = ["DF001"]\n', "both at the top level ('select') and in [tool.dfix]"),
        (b"[tool.other]\nx = 1\n", "unknown setting 'tool'"),
        (b'[tool.dfix]\nignore = ["DF001"]\n[tool.other]\nx = 1\n', "unknown table 'tool.other'"),
        (b'[tool.dfix]\nselec = ["DF001"]\n', "unknown setting 'selec'"),
    ],
)
def test_dfix_toml_tool_table_mistakes(tmp_path: Path, config: bytes, message: str) -> None:
    write(tmp_path / ".dfix.toml", config)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        config_for(tmp_path)


def test_readme_configuration_examples_are_accepted(tmp_path: Path) -> None:
    """The README's TOML blocks load as the file they are shown for."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Configuration"):readme.index("### Suppressions")]
    (block,) = [part.split("```", 1)[0] for part in section.split("```toml\n")[1:]]
    write(tmp_path / "dedicated" / ".dfix.toml", block.encode())
    assert config_for(tmp_path / "dedicated").select == ("DL", "DF")
    pyproject = "[tool.dfix]\n" + block.replace("[rules.", "[tool.dfix.rules.")
    write(tmp_path / "pyproject" / "pyproject.toml", pyproject.encode())
    assert config_for(tmp_path / "pyproject").select == ("DL", "DF")


# ---------------------------------------------------------------- dfix pragmas


def problems(text: str) -> list[tuple[int, int, str]]:
    return [tuple(problem) for problem in Suppressions.of(dfix.parse(text)).problems]


def test_well_formed_pragmas_have_no_problems() -> None:
    text = (
        "FROM a\n# dfix: ignore=DL4000,keyword-casing\nMAINTAINER me\n# dfix: ignore-file=df001  # why\n"
        "# DFIX:IGNORE = DL4000 , DF001\nRUN x\n# hadolint ignore=DL9999,SC2086\n# hadolint global ignore=DL3013\n"
        "# dfix is a fixer; this comment is no pragma\n"
    )
    assert problems(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FROM a\n# dfix: ignore DF001\nRUN x\n", [(2, 15, "malformed dfix pragma: no '=' after 'ignore'")]),
        ("FROM a\n  # dfix: ignore=DL9999,DL4000\nRUN x\n", [(2, 18, "unknown rule DL9999 in dfix pragma")]),
        ("FROM a\n# dfix: ignorefile=DF001\n", [(2, 9, "unknown dfix pragma 'ignorefile'")]),
        ("FROM a\n# dfix: ignore-file=SC2086, nope\n", [
            (2, 21, "unknown rule SC2086 in dfix pragma"), (2, 29, "unknown rule nope in dfix pragma"),
        ]),
        ("FROM a\n# dfix: ignore=DL4000 DF001\nRUN x\n", [
            (2, 16, "unknown rule DL4000 DF001 in dfix pragma (separate ids with commas)"),
        ]),
        ("FROM a\n# dfix: ignore=\nRUN x\n", [(2, 16, "no rule ids in dfix pragma")]),
        ("FROM a\n# dfix:\nRUN x\n", [(2, 8, "empty dfix pragma")]),
        # lines count from the top, directives and heredocs included
        ("\ufeff# escape=`\nFROM a\nRUN <<EOF\nx\nEOF\n\n# dfix: ignore=DL9\n", [(7, 16, "unknown rule DL9 in dfix pragma")]),
    ],
)
def test_malformed_pragmas_are_problems(text: str, expected: list[tuple[int, int, str]]) -> None:
    found = problems(text)
    assert [(line, column) for line, column, _ in found] == [(line, column) for line, column, _ in expected]
    for (_, _, message), (_, _, start) in zip(found, expected):
        assert message.startswith(start), message


def test_a_malformed_pragma_silences_nothing_and_adds_no_finding() -> None:
    text = "from a:1\n# dfix: ignore DL4000\nMAINTAINER me\n"
    assert [d.id for d in dfix.check(text)] == ["DF001", "DL4000"]
    ((line, column, _),) = Suppressions.of(dfix.parse(text)).problems
    assert (line, column) == (2, 15)


# ---------------------------------------------------------------- CMD and ENTRYPOINT with broken JSON


@pytest.mark.parametrize(
    ("body", "defect"),
    [
        ('CMD ["echo", "hi"', "the array is not closed"),
        ('CMD [ "echo", "hi"', "the array is not closed"),
        ('ENTRYPOINT ["python", \\\n    "app.py"', "the array is not closed"),
        ("CMD ['python', 'app.py']", "strings in single quotes"),
        ('CMD ["python", "app.py",]', "a trailing comma"),
        ('CMD ["echo" "hi"]', "expecting ',' delimiter"),
        ("CMD [echo, hi]", "expecting value"),
    ],
)
@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
def test_broken_json_is_reported_and_never_wrapped_in_a_shell(body: str, defect: str, unsafe: bool) -> None:
    text = f"FROM alpine:3.20\n{body}\n"
    result = dfix.fix(text, select=["DL3025"], unsafe=unsafe)
    assert result.code == text
    (finding,) = result.diagnostics
    keyword = body.split()[0]
    assert finding.message.startswith(f"{keyword} is not valid JSON ({defect}")
    assert "BuildKit runs it as a shell command" in finding.message and finding.fix is None


@pytest.mark.parametrize("body", ["CMD [ -f /ready ] && exec server", 'CMD [ "$MODE" = prod ] && exec server',
                                  "CMD [[ -f /ready ]] && exec server"])
def test_the_test_command_is_not_taken_for_broken_json(body: str) -> None:
    (finding,) = dfix.check(f"FROM alpine:3.20\n{body}\n", select=["DL3025"])
    assert finding.message.startswith("Use the exec (JSON) form") and finding.fix is not None


# ---------------------------------------------------------------- heredocs after ${...}


@pytest.mark.parametrize(
    ("text", "heredocs"),
    [
        ("FROM a\nRUN echo ${VERSION:?set VERSION} 'a \\\n  b' <<EOF\nbody\nEOF\n", 1),
        ("FROM a\nRUN echo ${V?} ${W:x} <<EOF\nbody\nEOF\n", 1),
        ("FROM a\nRUN cat ${V:-<<NOT}\nRUN b\n", 0),  # one word "${V:-<<NOT}": no heredoc
        ("FROM a\nRUN cat ${V:-x <<EOF y}\nbody\nEOF\n", 1),
    ],
)
def test_heredoc_openers_after_expansions_as_buildkit_reads_them(text: str, heredocs: int) -> None:
    tree = dfix.parse(text)
    assert tree.code == text
    assert sum(len(getattr(i, "heredocs", ())) for i in tree.instructions) == heredocs


def test_cli_prints_pragma_warnings_on_stderr_without_failing(tmp_path) -> None:

    path = tmp_path / "Dockerfile"
    path.write_text("FROM debian:bookworm\n# dfix: ignore=DL9999\nRUN echo hi\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "dfix", str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert f"{path}:2:16: warning: unknown rule DL9999 in dfix pragma" in done.stderr
    fixed = subprocess.run([sys.executable, "-m", "dfix", "--write", "-"], input="FROM a:1\n# dfix: ignore DL3000\n",
                           capture_output=True, text=True, check=False)
    assert fixed.stdout == "FROM a:1\n# dfix: ignore DL3000\n"  # the warning is on stderr only
    assert "-:2:" in fixed.stderr and "warning: malformed dfix pragma" in fixed.stderr
