"""On every corpus file, all rules with unsafe fixes on: hadolint no longer
reports what dfix fixed, unless dfix said why it declined, and reports
nothing new.

The counts it prints (hadolint's findings per targeted id before and after,
and dfix's declines by reason) are in the "dfix measurements" section.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest

import dfix
from dfix.rules import ALL_RULES
from tests.conftest import REPORT, corpus_names, corpus_text, corpus_tree

TARGETED = sorted(rule.id for rule in ALL_RULES if rule.id.startswith("DL"))
# Renaming `apt` to `apt-get` lets hadolint read commands it skipped before:
# its DL3008 (unpinned packages) then finds what was there all along.
REVEALED_BY = {"DL3027": {"DL3008"}}


def _hadolint(paths: list[Path]) -> dict[str, list[tuple[str, int]]]:
    """hadolint's findings per file: (code, line)."""
    binary = Path(sys.executable).with_name("hadolint")
    found: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for start in range(0, len(paths), 200):
        result = subprocess.run(
            [str(binary), "--no-fail", "-f", "json", *map(str, paths[start : start + 200])],
            capture_output=True, text=True, check=False,
        )
        for item in json.loads(result.stdout or "[]"):
            found[item["file"]].append((item["code"], item["line"]))
    return found


def _runs_dist_clean(text: str, line: int) -> bool:
    """Whether the instruction on ``line`` runs `apt-get dist-clean`, which
    removes the apt lists (apt 2.7); hadolint's DL3009 does not know it."""
    return any(i.start_line == line and "dist-clean" in i.code for i in dfix.parse(text).instructions)


@pytest.mark.corpus
def test_hadolint_agrees_with_the_fixes(tmp_path: Path) -> None:
    jobs: list[tuple[str, Path, Path, set[str], str]] = []
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
        before.write_text(text, encoding="utf-8", errors="surrogateescape", newline="")
        after.write_text(result.code, encoding="utf-8", errors="surrogateescape", newline="")
        excused = {d.id for d in result.diagnostics if d.declined}
        for rule_id in set(result.applied):
            excused |= REVEALED_BY.get(rule_id, set())
        jobs.append((name, before, after, excused, result.code))

    found_before = _hadolint([job[1] for job in jobs])
    found_after = _hadolint([job[2] for job in jobs])
    totals_before: Counter[str] = Counter()
    totals_after: Counter[str] = Counter()
    problems = []
    for name, before, after, excused, fixed in jobs:
        old = Counter(code for code, _ in found_before[str(before)])
        kept = [(code, line) for code, line in found_after[str(after)]
                if not (code == "DL3009" and _runs_dist_clean(fixed, line))]
        new = Counter(code for code, _ in kept)
        totals_before.update(old)
        totals_after.update(new)
        for code, count in new.items():
            if code in TARGETED and code not in excused:
                problems.append(f"{name}: hadolint still reports {code} ({count})")
            elif code not in TARGETED and count > old[code] and code not in excused:
                problems.append(f"{name}: new hadolint finding {code} ({old[code]} -> {count})")

    REPORT["corpus files changed (all rules, unsafe fixes)"] = str(len(jobs))
    REPORT["hadolint findings before -> after, per targeted id"] = ", ".join(
        f"{code} {totals_before[code]}->{totals_after[code]}" for code in TARGETED if totals_before[code]
    )
    REPORT["dfix declines by reason"] = "; ".join(f"{rule} {reason}: {n}" for (rule, reason), n in declines.most_common())
    assert problems == []
