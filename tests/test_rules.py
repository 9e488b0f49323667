"""Every rule on its fixture cases, checked against BuildKit and hadolint.

``fixtures/rules/<ID>/<case>.Dockerfile`` holds one behaviour, described on
its first line; ``<case>.fixed.Dockerfile`` is the hand-written expected
output (without it the case must stay unchanged). ``[unsafe]`` in the
description runs the case with unsafe fixes; ``[hadolint disagrees]`` marks a
fixed case hadolint still reports, and the description says why;
``[new hadolint: DLxxxx]`` a finding the fix brings and hadolint asks for
(such as a version pin dfix cannot know), with the reason.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import dfix
import dfix.rules
from dfix import engine
from dfix.rules import ALL_RULES, Applicability, Context, Fix, FixAvailability, Rule
from tests.conftest import read_exact
from tests.rule_cases import (
    RULE_CASES, assert_fixes_as_declared, case_id, describe, expected_path, hadolint_codes, touched_lines,
    untouched_instructions_changed,
)


def test_every_rule_module_is_registered() -> None:
    modules = [name for _, name, _ in pkgutil.iter_modules(dfix.rules.__path__) if not name.startswith("_")]
    registered = {rule.check.__module__.rsplit(".", 1)[1] for rule in ALL_RULES}
    assert sorted(modules) == sorted(registered)
    for name in modules:
        module = importlib.import_module(f"dfix.rules.{name}")
        assert module.RULE in ALL_RULES
        assert name.startswith(module.RULE.id.lower() + "_"), name
        assert name.endswith(module.RULE.name.replace("-", "_")), name


def test_rules_are_unique_sorted_and_documented() -> None:
    ids = [rule.id for rule in ALL_RULES]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert len({rule.name for rule in ALL_RULES}) == len(ALL_RULES)
    for rule in ALL_RULES:
        assert rule.doc and "## Why" in rule.doc and "## Fix" in rule.doc, rule.id
        assert rule.summary and not rule.summary.endswith(".")


def test_every_rule_has_fixture_cases() -> None:
    from tests.test_context_rules import CASES as CONTEXT_CASES

    for rule in ALL_RULES:
        cases = [path for path in RULE_CASES if path.parent.name == rule.id]
        if any(case.parent.name == rule.id for case in CONTEXT_CASES):
            continue  # a rule that reads the build context: its cases are folders (tests/test_context_rules.py)
        assert cases, rule.id
        if rule.fix is not FixAvailability.NONE:
            assert any(expected_path(path).exists() for path in cases), f"{rule.id} has no fixed case"
            assert any(not expected_path(path).exists() for path in cases), f"{rule.id} has no case left alone"


@pytest.mark.parametrize("path", RULE_CASES, ids=case_id)
def test_rule_case(path: Path, snapshot) -> None:
    rule_id = path.parent.name
    text = read_exact(path)
    unsafe = "[unsafe]" in text.splitlines()[0 if not text.startswith("# escape") else 1]
    expected = read_exact(expected_path(path)) if expected_path(path).exists() else text
    result = dfix.fix(text, select=[rule_id], unsafe=unsafe)
    assert result.code == expected
    assert result.bugs == []
    assert describe(text, rule_id, unsafe) == snapshot
    assert_fixes_as_declared(dfix.check(text, select=[rule_id]))
    if expected == text:
        return
    # a second run changes nothing
    assert dfix.fix(result.code, select=[rule_id], unsafe=unsafe).code == result.code
    # BuildKit reads the result, and reads the instructions no fix touched as before
    touched = touched_lines(text, [rule_id], unsafe)
    assert untouched_instructions_changed(text, result.code, touched) == []
    # hadolint no longer reports the rule (dfix may see more than hadolint, as
    # through sudo), and reports nothing new
    before, after = hadolint_codes(text), hadolint_codes(result.code)
    if re.fullmatch(r"DL\d{4}", rule_id) and "[hadolint disagrees]" not in text:
        assert after[rule_id] == 0
    accepted = set(re.findall(r"\[new hadolint: (\w+)\]", text.splitlines()[0]))
    assert {code: n for code, n in after.items() if n > before[code] and code not in accepted} == {}


def test_readme_lists_every_rule() -> None:
    from dfix.report import rules_markdown

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert rules_markdown(ALL_RULES) in readme, "regenerate the README's rule table with dfix.report.rules_markdown"


def test_a_fix_declaration_allows_what_it_says() -> None:
    safe, unsafe, shown = Applicability.SAFE, Applicability.UNSAFE, Applicability.DISPLAY_ONLY
    allowed = {
        declared: {a for a in (safe, unsafe, shown) if declared.allows(a)} for declared in FixAvailability
    }
    assert allowed == {
        FixAvailability.SAFE: {safe, shown},
        FixAvailability.SOMETIMES: {safe, unsafe, shown},
        FixAvailability.UNSAFE: {unsafe, shown},
        FixAvailability.NONE: {shown},
    }


def test_a_fix_declaration_is_typed() -> None:
    with pytest.raises(TypeError, match="FixAvailability"):
        Rule("DF999", "a-rule", "A rule", lambda ctx: iter(()), "## Why\n## Fix\n", fix="safe")


def test_the_harness_refuses_a_fix_the_rule_did_not_declare() -> None:
    def check(ctx: Context):
        for instruction in ctx.tree.instructions:
            yield ctx.report(instruction, "x", Fix.replace(instruction, instruction, "same", Applicability.UNSAFE))

    rule = Rule("DF999", "a-rule", "A rule", check, "## Why\n## Fix\n", fix=FixAvailability.SAFE)
    found = engine.check(dfix.parse("FROM a:1\n"), [rule])
    with pytest.raises(AssertionError, match="DF999 declares safe fixes but its fix at 1:1 is unsafe"):
        assert_fixes_as_declared(found)
