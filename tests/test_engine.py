"""The fix engine: overlapping fixes, convergence, broken fixes, idempotence."""

from __future__ import annotations

import bisect
import dataclasses
import random
from typing import Iterator

import pytest

import dfix
from dfix import engine
from dfix.cst import nodes as n
from dfix.cst.positions import Positions
from dfix.rules import ALL_RULES, Context, Diagnostic, Fix, FixAvailability, Place, Rule
from dfix.rules._facts import TreeFacts
from tests.conftest import REPORT, corpus_names, corpus_text, corpus_tree
from tests.rule_cases import touched_lines, untouched_instructions_changed


def make_rule(rule_id: str, check) -> Rule:
    return Rule(rule_id, f"test-{rule_id.lower()}", "A rule for tests", check, "## Why\n## Fix\n")


def _rename_from(image: str):
    def check(ctx: Context) -> Iterator[Diagnostic]:
        for instruction in ctx.tree.instructions:
            if isinstance(instruction, n.From) and instruction.image != image:
                new = instruction.with_changes(args=(n.Word.of(image),))
                yield ctx.report(instruction, f"use {image}", Fix.replace(instruction, new, f"use {image}"))
    return check


def test_overlapping_fixes_wait_for_the_next_round() -> None:
    # DF001 and DL4000 both rewrite the same instruction: one round takes the
    # first, the next round finds the other again on the new tree
    result = dfix.fix("FROM a\nmaintainer me\n")
    assert result.code == 'FROM a\nLABEL maintainer="me"\n'
    assert result.applied == ["DF001", "DL4000"]


def test_fixes_that_never_settle_leave_the_file_alone() -> None:
    first = make_rule("DF901", _rename_from("first"))
    second = make_rule("DF902", _rename_from("second"))
    assert engine.fix("FROM x\n", [first]).code == "FROM first\n"
    fighting = engine.fix("FROM x\n", [first, second])
    assert fighting.bugs and "did not settle" in fighting.bugs[0]
    assert fighting.code == "FROM x\n" and fighting.applied == []


def test_non_overlapping_fixes_apply_together() -> None:
    result = dfix.fix("from a:1\nMAINTAINER me\nrun x\n")
    assert result.code == 'FROM a:1\nLABEL maintainer="me"\nRUN x\n'
    assert result.applied == ["DF001", "DL4000", "DF001"]
    assert result.diagnostics == [] and result.bugs == []


def test_a_fix_that_breaks_the_file_is_dropped_and_reported() -> None:
    def check(ctx: Context) -> Iterator[Diagnostic]:
        for instruction in ctx.tree.instructions:
            if isinstance(instruction, n.Run):  # "ENV A" with no value: BuildKit refuses it
                bad = n.Env(keyword_text=n.Fragment.of("ENV"), pairs=(n.LegacyKeyValue(key=n.Fragment.of("A")),))
                yield ctx.report(instruction, "break it", Fix.replace(instruction, bad, "break it"))

    breaker = make_rule("DF903", check)
    casing = next(rule for rule in ALL_RULES if rule.id == "DF001")
    result = engine.fix("from a\nRUN x\n", [breaker, casing])
    assert result.code == "FROM a\nRUN x\n"  # the good fix is kept
    assert any("DF903" in bug and "does not parse" in bug for bug in result.bugs)


def test_a_fix_that_changes_nothing_is_reported() -> None:
    def check(ctx: Context) -> Iterator[Diagnostic]:
        for instruction in ctx.tree.instructions:
            yield ctx.report(instruction, "noop", Fix.replace(instruction, instruction, "noop"))

    result = engine.fix("FROM a\n", [make_rule("DF904", check)])
    assert result.code == "FROM a\n"
    assert result.bugs and "changes nothing" in result.bugs[0]


def test_unsafe_fixes_only_on_request() -> None:
    text = 'FROM a\nLABEL maintainer="x"\nMAINTAINER y\n'
    assert dfix.fix(text).code == text
    assert dfix.fix(text, unsafe=True).code == 'FROM a\nLABEL maintainer="x"\nLABEL maintainer="y"\n'


def test_check_api() -> None:
    (diagnostic,) = dfix.check("FROM a:1\nMAINTAINER me\n")
    assert (diagnostic.id, diagnostic.line, diagnostic.column) == ("DL4000", 2, 1)
    assert diagnostic.fix.applicability.value == "safe"
    assert dfix.check("FROM a:1\nMAINTAINER me\n", ignore="DL4000") == []
    assert [d.id for d in dfix.check("from a\nMAINTAINER me\n", select="DF")] == ["DF001"]


def test_selectors() -> None:
    with pytest.raises(ValueError, match="unknown rule selector"):
        dfix.check("FROM a\n", select="nonsense")
    with pytest.raises(ValueError, match="unknown rule DL3061"):  # a hadolint id dfix does not have
        dfix.check("from a\n", select="DL3061")


@pytest.mark.corpus
@pytest.mark.parametrize("name", corpus_names())
def test_corpus_fixes_keep_buildkit_reading_the_file(name: str) -> None:
    tree = corpus_tree(name)
    if isinstance(tree, dfix.ParseError):
        pytest.skip("not a Dockerfile BuildKit reads")
    text = corpus_text(name)
    result = dfix.fix(text, select="ALL", unsafe=True)
    assert result.bugs == []
    if result.code == text:
        return
    REPORT["corpus files changed by all rules (unsafe fixes on)"] = str(
        int(REPORT.get("corpus files changed by all rules (unsafe fixes on)", "0")) + 1
    )
    fixed = dfix.parse(result.code)  # dfix reads it
    assert fixed.code == result.code
    touched = touched_lines(text, "ALL", unsafe=True)
    assert untouched_instructions_changed(text, result.code, touched) == []  # BuildKit reads it, the rest alike
    again = dfix.fix(result.code, select="ALL", unsafe=True)
    assert again.code == result.code and again.applied == []  # idempotent


def test_the_overlap_lookup_agrees_with_comparing_every_pair() -> None:
    # _without_overlaps keeps what the taken fixes replace as sorted disjoint
    # spans and bisects; this is the plain quadratic reading it replaced
    rng = random.Random(7)
    for _ in range(3000):
        taken: list[tuple[int, int]] = []
        naive: list[tuple[int, int]] = []
        for _ in range(rng.randint(1, 12)):
            spans = []
            for _ in range(rng.randint(1, 3)):
                start = rng.randint(0, 30)
                spans.append((start, start + rng.choice([0, 0, 1, 2, 5])))
            expected = any(engine._overlap(span, other) for span in spans for other in naive)
            assert any(engine._overlaps_taken(span, taken) for span in spans) == expected, (spans, naive)
            if not expected:
                naive.extend(spans)
                for span in engine._merged(spans):
                    bisect.insort(taken, span)


def test_every_rule_gets_the_same_facts_computed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from dfix.rules import _facts

    built, seen = [], []
    original = _facts.TreeFacts.of

    def counting(*args, **kwargs):
        built.append(original(*args, **kwargs))
        return built[-1]

    def looking(ctx: Context) -> Iterator[Diagnostic]:
        seen.append(ctx.facts)
        return iter(())

    monkeypatch.setattr(_facts.TreeFacts, "of", counting)
    engine.check(dfix.parse("FROM a:1\nRUN echo hi\n"), [make_rule("DF998", looking), make_rule("DF999", looking)])
    assert len(built) == 1 and seen == [built[0], built[0]]


def test_the_facts_a_rule_can_look_up() -> None:
    text = (
        "ARG BASE=debian:12\nFROM $BASE AS build\nRUN apt-get update && cd /x\n"
        "RUN <<EOF\nmake\nEOF\nFROM build\nRUN [\"pip\", \"install\", \"x\"]\nONBUILD RUN npm ci\n"
    )
    tree = dfix.parse(text)
    rule = make_rule("DF999", lambda ctx: iter(()))
    facts = TreeFacts.of(tree, frozenset({"DL3008"}))
    ctx = Context(tree, rule, Positions(tree), {}, facts)
    assert [stage.name for stage in ctx.stages] == [None, "build", None]
    assert [ctx.stage_of(i).name for i in tree.instructions] == [None, "build", "build", "build", None, None, None]
    assert [s.form for s in ctx.run_scripts()] == ["shell", "heredoc", "shell"]
    assert [s.form for s in ctx.run_scripts(exec_form=True, onbuild=False)] == ["shell", "heredoc", "exec"]
    assert [command.name for command, _ in ctx.commands] == ["apt-get", "cd", "make", "npm", "pip"]
    assert ctx.suppressions.silences("DL3008", "pin-apt-versions", 3)  # the configured per-file ignore
    with pytest.raises(ValueError):
        ctx.stage_of(dfix.parse("FROM a:1\n").instructions[0])


def _counting(calls: list[str], rule_id: str, fix: FixAvailability) -> Rule:
    def check(ctx: Context) -> Iterator[Diagnostic]:
        calls.append(rule_id)
        for instruction in ctx.tree.instructions:
            if isinstance(instruction, n.From) and fix is FixAvailability.NONE:
                yield ctx.report(instruction, "seen")
    return dataclasses.replace(make_rule(rule_id, check), fix=fix)


def test_rules_that_fix_nothing_run_once_on_the_fixed_text() -> None:
    calls: list[str] = []
    renaming = make_rule("DF905", _rename_from("b"))
    finding, unsafe_only = (_counting(calls, "DF906", FixAvailability.NONE),
                            _counting(calls, "DF907", FixAvailability.UNSAFE))
    result = engine.fix("FROM a\n", [renaming, finding, unsafe_only])
    assert result.code == "FROM b\n"
    assert calls == ["DF906", "DF907"]  # two rounds of DF905, then the others once
    assert [d.id for d in result.diagnostics] == ["DF906"]
    assert result.diagnostics[0].line == 1

    calls.clear()
    assert engine.fix("FROM a\n", [renaming, finding, unsafe_only], unsafe=True).code == "FROM b\n"
    assert calls == ["DF907", "DF907", "DF906"]  # unsafe fixes apply: DF907 joins the rounds


def test_without_findings_the_rules_that_fix_nothing_do_not_run() -> None:
    calls: list[str] = []
    result = engine.fix("FROM a\n", [make_rule("DF905", _rename_from("b")), _counting(calls, "DF906", FixAvailability.NONE)],
                        findings=False)
    assert result.code == "FROM b\n" and calls == [] and result.diagnostics == []


def test_a_fix_its_rule_does_not_declare_is_not_applied() -> None:
    undeclared = dataclasses.replace(make_rule("DF908", _rename_from("b")), fix=FixAvailability.UNSAFE)
    result = engine.fix("FROM a\n", [undeclared], unsafe=True)
    assert result.code == "FROM a\n" and result.applied == []
    assert result.bugs == ["dfix bug: the DF908 fix is safe, but the rule declares unsafe fixes; it was not applied"]


@pytest.mark.parametrize("name", corpus_names()[::40])
def test_positions_give_each_node_its_own_text(name: str) -> None:
    from dfix.cst.visit import walk

    tree = corpus_tree(name)
    if isinstance(tree, dfix.ParseError):
        pytest.skip("refused")
    positions = Positions(tree)
    assert positions.text == tree.code
    for node in walk(tree):
        start, end = positions.span(node)
        assert positions.text[start:end] == node.code
        if isinstance(node, n.Instruction) and node in tree.body:
            assert positions.instruction_of(node) is node


@pytest.mark.corpus
@pytest.mark.parametrize("name", corpus_names()[::3])
def test_fixes_cut_into_the_text_give_the_rebuilt_tree_s_text(name: str) -> None:
    # the engine splices each fix's new text into the file's text; rebuilding
    # the tree and printing it is the reference
    from dfix.cst.visit import replace_nodes

    tree = corpus_tree(name)
    if isinstance(tree, dfix.ParseError):
        pytest.skip("refused")
    fixes = [d for d in engine.check(tree, ALL_RULES) if d.fix is not None]
    for diagnostic in fixes:
        reference = replace_nodes(tree, {id(r.old): r.new for r in diagnostic.fix.replacements}).code
        assert engine.fixed_text(tree, [diagnostic]) == reference, diagnostic.id
    chosen = engine._without_overlaps(tree, fixes)
    reference = replace_nodes(tree, {id(r.old): r.new for d in chosen for r in d.fix.replacements}).code
    assert engine.fixed_text(tree, chosen) == reference


def test_insertions_and_nested_replacements_are_applied_as_the_tree_says() -> None:
    from dfix.rules._api import Replacement

    tree = dfix.parse("FROM a:1\nRUN x\n")
    from_, run = tree.instructions
    rule = make_rule("DF909", lambda ctx: iter(()))

    def fix_of(*replacements: Replacement) -> Diagnostic:
        return Diagnostic(rule, "m", Place(1, 1, 1, 1), Fix("t", replacements))

    # an empty node where another one starts: the tree says which comes first
    padded = fix_of(Replacement(from_.trailing, (n.Whitespace((" ",)),)))
    assert engine.fixed_text(tree, [padded]) == "FROM a:1 \nRUN x\n"
    # the outer replacement wins over one inside it
    nested = fix_of(Replacement(from_, (n.Comment("", "# gone", "\n"),)),
                    Replacement(from_.args[0], (n.Word.of("b:2"),)))
    assert engine.fixed_text(tree, [nested]) == "# gone\nRUN x\n"
    renamed = fix_of(Replacement(run.keyword_text, (n.Fragment.of("run"),)))
    assert engine.fixed_text(tree, [padded, renamed]) == "FROM a:1 \nrun x\n"  # with an insertion: rebuilt
    assert engine.fixed_text(tree, [renamed]) == "FROM a:1\nrun x\n"
