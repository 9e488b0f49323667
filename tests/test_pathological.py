"""Pathological inputs finish in time and memory close to linear (issue
"hardening", item 7). Moderate sizes and generous bounds: before the fixes
each of these took from tens of seconds to minutes; bench/pathological.py
measures the full sizes."""

from __future__ import annotations

import re
import time
import tracemalloc

import dfix
from dfix.cst.build import grammar
from dfix.rules import _hadolint
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


def test_each_substitution_is_read_once() -> None:
    calls = 0
    original = shell_parse.parse_script

    def counting(*args, **kwargs):
        nonlocal calls
        calls += 1
        return original(*args, **kwargs)

    depth = 20
    text = _nested(depth)
    shell_parse.parse_script = counting
    try:
        dfix.check(text)
    finally:
        shell_parse.parse_script = original
    # once per level for nested_scripts, and the oversimplified words; not once per rule
    assert calls <= 3 * depth


def test_nested_budget_bounds_the_text_read() -> None:
    tree = dfix.parse("FROM a\nRUN echo " + "$(echo " * 20 + "x " * 40000 + ")" * 20 + "\n")
    script = tree.instructions[1].body.script
    read = sum(len(s.value) for _, s in _hadolint.nested_scripts(script))
    assert read <= _hadolint._NESTED_BUDGET_FACTOR * 2 * len(script.value) + _hadolint._NESTED_BUDGET_MINIMUM


def test_a_long_run_line_takes_little_memory() -> None:
    text = "FROM alpine\nRUN echo '" + "a b " * 70000 + "'\n"  # 280 KB, one shell word
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
