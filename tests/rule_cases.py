"""Running a rule's fixture cases, and the oracles that check every fix."""

from __future__ import annotations

import difflib
import tempfile
from collections import Counter
from pathlib import Path

import dockerfile

import dfix
import dfix.cst.nodes
from dfix.diff import unified_diff
from tests import hadolint
from tests.conftest import FIXTURES

RULE_CASES = sorted(
    path for path in (FIXTURES / "rules").glob("*/*.Dockerfile") if not path.name.endswith(".fixed.Dockerfile")
)


def case_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name.removesuffix('.Dockerfile')}"


def expected_path(path: Path) -> Path:
    return path.with_name(path.name.removesuffix(".Dockerfile") + ".fixed.Dockerfile")


def buildkit(text: str) -> list[tuple]:
    """What BuildKit reads, per instruction, without line numbers."""
    return [
        (c.cmd.upper(), c.sub_cmd, c.json, c.flags, c.value, tuple(h.content for h in c.heredocs), c.start_line)
        for c in dockerfile.parse_string(text)
    ]


def untouched_instructions_changed(before: str, after: str, touched_lines: set[int]) -> list[tuple]:
    """Instructions BuildKit reads differently after fixing, other than those
    a fix meant to change (the ones starting on ``touched_lines``)."""
    old, new = buildkit(before), buildkit(after)
    matcher = difflib.SequenceMatcher(a=[c[:-1] for c in old], b=[c[:-1] for c in new], autojunk=False)
    changed = []
    for tag, a1, a2, _, _ in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            changed += [command for command in old[a1:a2] if command[-1] not in touched_lines]
    return changed


def assert_fixes_as_declared(diagnostics) -> None:
    """Every fix is one its rule's declared ``FixAvailability`` allows (a
    rule declared safe never yields an unsafe fix, a rule declared "none"
    no fix at all), as ruff's harness asserts."""
    wrong = [
        f"{d.id} declares {d.rule.fix.value} fixes but its fix at {d.line}:{d.column} is {d.fix.applicability.value}"
        for d in diagnostics
        if d.fix is not None and not d.rule.fix.allows(d.fix.applicability)
    ]
    assert not wrong, "\n".join(wrong)


def touched_lines(text: str, select, unsafe: bool) -> set[int]:
    """The start lines of the original instructions the fixes rewrite or
    remove (a merge rewrites the first RUN and removes the second), in every
    round of fixing: a later round may touch an author's instruction that an
    earlier one only stood next to (DL3059 merges a RUN that DL3002 inserted
    into the RUN above it). An instruction a later round touches is traced
    back to the original by its text, which no earlier round changed."""
    from dfix import engine, selection
    from dfix.cst.positions import Positions

    rules = selection.resolve(selection.split(select))
    tree = dfix.parse(text)
    original = {}
    for instruction in tree.instructions:
        original.setdefault(instruction.code, []).append(instruction.start_line)
    lines: set[int] = set()
    for _ in range(engine.MAX_ROUNDS):
        positions = Positions(tree)
        found = engine.check(tree, rules)
        assert_fixes_as_declared(found)
        chosen = [d for d in found if engine.is_applicable(d.fix, unsafe)]
        if not chosen:
            break
        chosen = engine._without_overlaps(tree, chosen)
        for diagnostic in chosen:
            for replacement in diagnostic.fix.replacements:
                old = replacement.old
                instruction = old if isinstance(old, dfix.cst.nodes.Instruction) else positions.instruction_of(old)
                if instruction is not None:
                    lines.update(original.get(instruction.code, ()))
        tree, _, _ = engine._apply(tree, chosen)
    return lines


def hadolint_codes(text: str) -> Counter[str]:
    """hadolint's findings, counted by code."""
    with tempfile.NamedTemporaryFile("w", suffix=".Dockerfile", encoding="utf-8", newline="", delete=False) as handle:
        handle.write(text)
    try:
        found = hadolint.findings([Path(handle.name)])[handle.name]
    finally:
        Path(handle.name).unlink()
    if found is None:
        raise hadolint.HadolintCrashed(text)
    return Counter(code for code, _ in found)


def describe(text: str, rule_id: str, unsafe: bool) -> str:
    """Diagnostics and the diff of the fix, for snapshots."""
    lines = [
        f"{d.line}:{d.column} {d.id} {d.message} [{d.fix.applicability.value if d.fix else 'no fix'}]"
        for d in dfix.check(text, select=[rule_id])
    ]
    fixed = dfix.fix(text, select=[rule_id], unsafe=unsafe).code
    diff = unified_diff(text, fixed, "Dockerfile")
    return "\n".join(lines or ["(no findings)"]) + "\n---\n" + (diff or "(no change)\n")
