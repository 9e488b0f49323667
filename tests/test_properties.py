"""Property tests: any text either parses and prints back exactly, or raises
ParseError; and where BuildKit reads it, dfix reads it the same way."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dfix
from dfix.cst.build import MAX_SIZE
from tests.conftest import FIXTURES, read_exact
from tests.test_buildkit_oracle import assert_agrees

KEYWORDS = ["FROM", "RUN", "CMD", "ENTRYPOINT", "COPY", "ADD", "ENV", "LABEL", "ARG", "EXPOSE", "VOLUME",
            "USER", "WORKDIR", "SHELL", "HEALTHCHECK", "ONBUILD", "STOPSIGNAL", "MAINTAINER", "FOO"]
PIECES = ["a", "apt-get", "install", "-y", "x=1", 'K="v w"', "'q'", '"', "'", "--mount=type=cache,target=/x",
          "--from=build", "[", "]", '["a", "b"]', "[\"x\",", "&&", "||", ";", "|", "$HOME", "${A:-b}", "$(id)",
          "`id`", "#", "# c", "\\", "`", "<<EOF", "<<-EOF", "<<'EOF'", "cat<<EOF", "NONE", "CMD", "=", "é",
          "\u00a0", "(", ")", "{", "}", "if", "then", "fi", "for", "do", "done", "case", "esac", "2>&1", ">"]
GAPS = [" ", "  ", "\t", " \\\n  ", "\\\n", " \\\n# comment\n  ", " \\\n\n  ", " `\n  ", "\\\r\n"]
ENDS = ["\n", "\r\n", "\n\n", "\n# comment\n", "\nEOF\n", "\n\tEOF\n", "\nbody\nEOF\n"]


@st.composite
def dockerfiles(draw: st.DrawFn) -> str:
    out = []
    if draw(st.booleans()):
        out.append("\ufeff")
    for _ in range(draw(st.integers(0, 2))):
        out.append(draw(st.sampled_from(["# syntax=docker/dockerfile:1\n", "# escape=`\n", "# escape=\\\n", "# check=skip=all\n"])))
    for _ in range(draw(st.integers(1, 6))):
        keyword = draw(st.sampled_from(KEYWORDS))
        out.append(draw(st.sampled_from([keyword, keyword.lower(), keyword.title()])))
        for _ in range(draw(st.integers(0, 6))):
            out.append(draw(st.sampled_from(GAPS)))
            out.append(draw(st.sampled_from(PIECES)))
        out.append(draw(st.sampled_from(ENDS)))
    if draw(st.booleans()):
        out[-1] = out[-1].rstrip("\n")
    return "".join(out)


def check(text: str) -> None:
    try:
        tree = dfix.parse(text)
    except dfix.ParseError as error:
        assert error.line >= 1 and error.column >= 1
        return
    assert tree.code == text


@settings(max_examples=400, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(dockerfiles())
def test_generated_dockerfiles_round_trip_or_fail_cleanly(text: str) -> None:
    check(text)


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(dockerfiles())
def test_generated_dockerfiles_read_as_buildkit_reads_them(text: str) -> None:
    assert_agrees(text)


SEEDS = [read_exact(path) for path in sorted((FIXTURES / "roundtrip").iterdir())]
EDITS = st.lists(
    st.tuples(st.integers(0, 10_000), st.integers(0, 3), st.sampled_from(["", "\\", "\n", "\r", '"', "'", "<<", "#", "[", "]", " ", "\t", "`", "$(", ")", "=", "--", "x", "\\\n", "EOF\n", "\u00a0", "\x00", "\ufeff"])),
    min_size=1,
    max_size=6,
)


@settings(max_examples=400, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEEDS), EDITS)
def test_mutated_fixtures_round_trip_or_fail_cleanly(seed: str, edits: list[tuple[int, int, str]]) -> None:
    text = seed
    for position, length, insert in edits:
        position %= len(text) + 1
        text = text[:position] + insert + text[position + length:]
    check(text)


def test_file_at_the_size_limit_parses_in_seconds() -> None:
    unit = read_exact(FIXTURES / "roundtrip" / "shell_constructs.Dockerfile")
    text = unit * (MAX_SIZE // len(unit))  # 256 KB
    start = time.perf_counter()
    tree = dfix.parse(text)
    elapsed = time.perf_counter() - start
    assert tree.code == text
    assert elapsed < 10, elapsed


@pytest.mark.parametrize(
    "text",
    [
        "FROM a\nRUN " + "a " * 1_500_000 + "\n",
        "FROM a\nRUN a" + " \\\n  b" * 300_000 + "\n",
        "FROM a\nRUN a \\\n" + "# c\n" * 500_000 + "b\n",
        "FROM a\nCMD [" + '"a",' * 500_000 + "\n",
        "FROM a\nENV A=\"" + "x " * 1_000_000 + "\n",
        "FROM a\nRUN " + "( " * 500_000 + "\n",
        "FROM a\n" + "x" * 10_000_000,
    ],
    ids=["long line", "many continuations", "many skipped lines", "broken JSON", "open quote", "open parens", "10 MB"],
)
def test_pathological_input_parses_or_fails_quickly(text: str) -> None:
    start = time.perf_counter()
    check(text)
    assert time.perf_counter() - start < 30
