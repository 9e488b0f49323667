"""On every corpus file, all rules with unsafe fixes on: hadolint no longer
reports what dfix fixed, unless dfix said why it declined, and reports
nothing new.

The counts it prints (hadolint's findings per targeted id before and after,
and dfix's declines by reason) are in the "dfix measurements" section.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

import dfix
import dfix.cst.nodes
from dfix.rules import ALL_RULES, FixAvailability
from tests import hadolint
from tests.conftest import REPORT, corpus_names, corpus_text, corpus_tree

# rules that fix: a display-only rule leaves its finding for the user
TARGETED = sorted(rule.id for rule in ALL_RULES if rule.id.startswith("DL") and rule.fix is not FixAvailability.NONE)
# Renaming `apt` to `apt-get` lets hadolint read commands it skipped before:
# its DL3008 (unpinned packages) then finds what was there all along.
REVEALED_BY = {"DL3027": {"DL3008"}}


def _deliberate(code: str, line: int, fixed: dfix.cst.nodes.Dockerfile, applied: set[str]) -> bool:
    """Whether hadolint's finding on the fixed file is one dfix means to
    leave, each for a reason its rule's documentation gives."""
    instruction = next((i for i in fixed.instructions if i.start_line == line), None)
    if code == "DL3009":
        # `apt-get dist-clean` removes the apt lists (apt 2.7); hadolint does not know it
        return instruction is not None and "dist-clean" in instruction.code
    if code == "DL3025":
        # HEALTHCHECK's shell form: its process gets no signals to miss; and an
        # array with a `\/` escape, which is JSON to BuildKit but not to hadolint
        return isinstance(instruction, dfix.cst.nodes.Healthcheck) or (
            instruction is not None and isinstance(getattr(instruction, "body", None), dfix.cst.nodes.JsonArray)
        )
    if code == "DL3002":
        # a build stage's user never runs the image: dfix reports the final stage only
        froms = [i.start_line for i in fixed.instructions if isinstance(i, dfix.cst.nodes.From)]
        return bool(froms) and line < froms[-1]
    if code.startswith("SC"):
        # DL4006's SHELL makes ShellCheck read the stage as bash or ash instead of sh: its warnings change dialect
        return "DL4006" in applied
    if code in ("DL3008", "DL3018"):
        # DF100's runtime stage installs the packages the build installed, unpinned as the author had them
        froms = [i.start_line for i in fixed.instructions if isinstance(i, dfix.cst.nodes.From)]
        return "DF100" in applied and bool(froms) and line > froms[-1]
    if code == "DL3066":
        # DL3002 switches back to the author's own user by name when it has no UID for it
        return "DL3002" in applied and isinstance(instruction, dfix.cst.nodes.User)
    return False


@pytest.mark.corpus
def test_hadolint_agrees_with_the_fixes(tmp_path: Path) -> None:
    jobs: list[tuple[str, Path, Path, set[str], str, set[str]]] = []
    declines: Counter[tuple[str, str]] = Counter()
    for name in corpus_names():
        if isinstance(corpus_tree(name), dfix.ParseError):
            continue
        text = corpus_text(name)
        result = dfix.fix(text, select="ALL", unsafe=True)
        declines.update((d.id, d.declined) for d in result.diagnostics if d.declined)
        if result.code == text:
            continue
        before, after = tmp_path / f"{name}.before", tmp_path / f"{name}.after"
        if "DF005" in result.applied:
            # hadolint stops reading an instruction at a blank line inside
            # it and misses what follows; what it finds in the file without
            # those lines is what the other fixes are measured against
            text = dfix.fix(text, select="DF005").code
        before.write_text(text, encoding="utf-8", errors="surrogateescape", newline="")
        after.write_text(result.code, encoding="utf-8", errors="surrogateescape", newline="")
        excused = {d.id for d in result.diagnostics if d.declined}
        for rule_id in set(result.applied):
            excused |= REVEALED_BY.get(rule_id, set())
        jobs.append((name, before, after, excused, result.code, set(result.applied)))

    found_before = hadolint.findings([job[1] for job in jobs])
    found_after = hadolint.findings([job[2] for job in jobs])
    totals_before: Counter[str] = Counter()
    totals_after: Counter[str] = Counter()
    problems = []
    crashed = 0
    for name, before, after, excused, fixed, applied in jobs:
        if found_before[str(before)] is None or any(code == "DL1000" for code, _ in found_before[str(before)]):
            crashed += 1  # hadolint cannot read the original (it crashes, or reports a parse error): nothing to compare
            continue
        if found_after[str(after)] is None:
            problems.append(f"{name}: hadolint crashes on the fixed file")
            continue
        tree = dfix.parse(fixed)
        old = Counter(code for code, _ in found_before[str(before)])
        kept = [(code, line) for code, line in found_after[str(after)] if not _deliberate(code, line, tree, applied)]
        new = Counter(code for code, _ in kept)
        totals_before.update(old)
        totals_after.update(new)
        for code, count in new.items():
            if code in TARGETED and code not in excused:
                problems.append(f"{name}: hadolint still reports {code} ({count})")
            elif code not in TARGETED and count > old[code] and code not in excused:
                problems.append(f"{name}: new hadolint finding {code} ({old[code]} -> {count})")

    REPORT["corpus files changed (all rules, unsafe fixes)"] = f"{len(jobs)} ({crashed} that hadolint cannot read)"
    REPORT["hadolint findings before -> after, per targeted id"] = ", ".join(
        f"{code} {totals_before[code]}->{totals_after[code]}" for code in TARGETED if totals_before[code]
    )
    REPORT["dfix declines by reason"] = "; ".join(f"{rule} {reason}: {n}" for (rule, reason), n in declines.most_common())
    assert problems == []
