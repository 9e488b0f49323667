"""Pathological inputs finish in time and memory close to linear (issue
"hardening", item 7). Moderate sizes and generous bounds: before the fixes
each of these took from tens of seconds to minutes; bench/pathological.py
measures the full sizes."""

from __future__ import annotations

import re
import time
import tracemalloc

import pytest

import dfix
from dfix.cst.build import grammar
from dfix.cst.build import MAX_SIZE
from dfix.rules import _hadolint, _run_scripts, _stages
from dfix.shell import parse as shell_parse
from dfix.shell.nodes import Opaque


def _nested(depth: int, open_: str = "echo $(", close: str = ")") -> str:
    return "FROM alpine:3.19\nRUN " + open_ * depth + "echo x" + close * depth + "\n"


def test_deep_command_substitutions_are_opaque_and_quick() -> None:
    text = _nested(8000)  # 64 KB: over a minute before
    start = time.perf_counter()
    tree = dfix.parse(text)
    dfix.check(text)
    result = dfix.fix(text, unsafe=True)
    assert time.perf_counter() - start < 10
    assert result.code.count("$(") == 8000
    assert isinstance(tree.instructions[1].body.script.body, Opaque)


def test_deep_quotes_and_substitutions_are_opaque_not_a_recursion_error() -> None:
    text = _nested(4000, 'echo "$(', ')"')
    start = time.perf_counter()
    dfix.fix(text, unsafe=True)
    assert time.perf_counter() - start < 10


def test_nesting_within_the_limit_is_still_read() -> None:
    depth = shell_parse._MAX_DEPTH // 2 - 2
    text = _nested(depth, "sudo $(", ")")
    found = [d.id for d in dfix.check(text)]
    assert "DL3004" in found


def _counted(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> list[int]:
    """Count the calls of ``module.name`` from now on (in a one-item list)."""
    calls = [0]
    original = getattr(module, name)

    def counting(*args, **kwargs):
        calls[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counting)
    return calls


def test_each_substitution_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    depth = 20
    text = _nested(depth)
    calls = _counted(monkeypatch, shell_parse, "parse_script")
    dfix.check(text)
    # once per level for nested_scripts, and the oversimplified words; not once per rule
    assert calls[0] <= 3 * depth


def test_nested_budget_bounds_the_text_read() -> None:
    tree = dfix.parse("FROM a\nRUN echo " + "$(echo " * 20 + "x " * 40000 + ")" * 20 + "\n")
    script = tree.instructions[1].body.script
    read = sum(len(s.value) for _, s in _hadolint.nested_scripts(script))
    assert read <= _hadolint._NESTED_BUDGET_FACTOR * 2 * len(script.value) + _hadolint._NESTED_BUDGET_MINIMUM


def test_a_long_run_line_takes_little_memory() -> None:
    text = "FROM alpine\nRUN echo '" + "a b " * 60000 + "'\n"  # 240 KB (under the limit), one shell word
    tracemalloc.start()
    try:
        dfix.parse(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 60 * len(text)  # about 200x before, in the TEXT regex alone


def test_possessive_text_pattern_matches_as_the_grammar_says() -> None:
    for escape in ("\\", "`"):
        rules = grammar(escape)
        for name in ("TEXT", "LEGACY_VALUE"):
            plain = re.compile(rules._terminals[name].pattern.to_regexp())
            fast = rules._pattern(name)
            for sample in ("a b  ", "a \\\n b", "a `\n b \n", "a\xa0 b\u3000\n", "a \\\n# c\n\n b", "a\r b\r\n", "x \\"):
                for position in range(len(sample)):
                    a, b = plain.match(sample, position), fast.match(sample, position)
                    assert (a and a.end()) == (b and b.end()), (name, escape, sample, position)


def test_many_instructions_check_is_not_quadratic() -> None:
    unit = "RUN apt-get update && apt-get install -y curl\nWORKDIR app\nRUN cd /app && make\n"
    text = "FROM ubuntu\n" + unit * 700  # 64 KB
    start = time.perf_counter()
    dfix.check(text)
    assert time.perf_counter() - start < 30



def test_a_heredoc_script_is_parsed_once_per_tree_not_once_per_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _counted(monkeypatch, _run_scripts, "parse_script")
    dfix.check("FROM debian:12\nRUN <<EOF\napt-get update\napt-get install -y curl\ncd /app\nEOF\n")
    assert calls[0] == 1  # a dozen rules read RUN bodies: it was 22


def test_finding_the_top_level_pipeline_of_every_command_walks_the_run_once(monkeypatch: pytest.MonkeyPatch) -> None:
    commands = 2000
    tree = dfix.parse("FROM debian:12\nRUN " + " && ".join(f"echo {i}" for i in range(commands)) + "\n")
    [body] = _run_scripts.run_scripts(tree)
    walked = 0
    original = _run_scripts.walk

    def counting(node):
        nonlocal walked
        for each in original(node):
            walked += 1
            yield each

    monkeypatch.setattr(_run_scripts, "walk", counting)
    pipelines = [body.top_level_of(call.command) for call in body.invocations()]
    assert [p.code.strip() for p in pipelines[:2]] == ["echo 0", "echo 1"] and len(pipelines) == commands
    assert walked < 10 * commands  # one walk of the script, not one per command (about 10,000,000)


def test_an_instruction_s_place_in_its_stage_is_a_lookup() -> None:
    tree = dfix.parse("FROM a:1\nRUN x\nRUN x\nFROM b:1\nRUN x\n")
    first, second = _stages.stages(tree)
    assert [first.index(each) for each in first.instructions] == [0, 1, 2]
    assert first.index(second.instructions[1]) is None  # an equal RUN of another stage is not this one


def test_the_size_limit_is_a_clear_error_and_text_under_it_is_read() -> None:
    unit = "RUN apt-get install -y curl\n"
    under = "FROM debian:12\n" + unit * ((MAX_SIZE - 100) // len(unit))
    assert len(dfix.parse(under).instructions) > 9000
    with pytest.raises(dfix.ParseError, match=r"too large for a Dockerfile \(\d+ KB; dfix reads up to 256 KB\)"):
        dfix.parse(under + unit * 10)


def test_a_file_under_the_limit_stays_fixable_when_its_fixes_take_it_over() -> None:
    line = "MAINTAINER a\n"
    text = "FROM debian:12\n" + line * ((MAX_SIZE - 100) // len(line))
    result = dfix.fix(text, select="DL4000")
    assert not result.bugs  # it was "the fix made a Dockerfile that does not parse (too large)", after minutes
    assert len(result.code) > MAX_SIZE and result.code.count('LABEL maintainer="a"\n') == text.count(line)
