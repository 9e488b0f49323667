"""Running rules, and applying their fixes until nothing is left to fix.

Like ruff's fix loop: collect the fixes that may be applied, skip those that
overlap one already taken, splice them into the text, read the changed lines
again (``cst.build.reparse``), and repeat (at most ``MAX_ROUNDS`` times). A
fix whose result does not parse is dropped and reported as a dfix bug; a file
that does not settle is left as it was and reported too. Running dfix on its own output changes nothing.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from dfix import collector
from dfix.build_context import NO_CONTEXT, BuildContext
from dfix.cst.build import MAX_SIZE, parse, reparse
from dfix.cst.nodes import Dockerfile, Node
from dfix.cst.positions import positions_of
from dfix.cst.visit import replace_nodes
from dfix.errors import ParseError
from dfix.rules import Applicability, Context, Diagnostic, Fix, Rule
from dfix.rules._facts import TreeFacts

MAX_ROUNDS = 20
#: fixes lengthen a file (a flag on every install, a cleanup after each): a
#: file just under the size limit stays fixable, its fixed text read back
FIXED_MAX_SIZE = 4 * MAX_SIZE


@dataclass
class Result:
    """The fixed text, what was applied, and what remains."""

    code: str
    #: the ids of the rules whose fixes were applied, in order
    applied: list[str] = field(default_factory=list)
    #: the ids among ``applied`` whose fix was an unsafe one
    unsafe_applied: list[str] = field(default_factory=list)
    #: the findings in ``code``, in order (when the findings were not asked
    #: for: only those of the rules that fix, in no order)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: dfix's own failures (a fix that broke the file, a loop that did not settle)
    bugs: list[str] = field(default_factory=list)
    #: the other files the applied fixes create (absolute path -> text), a
    #: ``.dockerignore`` beside the Dockerfile: the caller writes them
    files: dict[str, str] = field(default_factory=dict)


def check(
    tree: Dockerfile, rules: Sequence[Rule], *, options: Mapping[str, Mapping[str, Any]] | None = None,
    ignored: frozenset[str] = frozenset(), build_context: BuildContext = NO_CONTEXT,
) -> list[Diagnostic]:
    """The findings of ``rules`` in a tree, minus the suppressed ones, in order."""
    with collector.paused():
        return _check(tree, rules, options, ignored, build_context=build_context)


def _check(
    tree: Dockerfile, rules: Sequence[Rule], options: Mapping[str, Mapping[str, Any]] | None,
    ignored: frozenset[str], in_order: bool = True, build_context: BuildContext = NO_CONTEXT,
) -> list[Diagnostic]:
    """The findings, in order unless ``in_order`` is false: ordering them
    places them all, which a round of fixes needs only for its fixes."""
    facts = TreeFacts.of(tree, ignored)
    suppressions = facts.suppressions
    found = []
    for rule in rules:
        context = Context(tree, rule, None, {**rule.options, **(options or {}).get(rule.id, {})}, facts, build_context)
        if not suppressions.may_silence(rule.id, rule.name):
            found.extend(rule.check(context))
            continue
        for diagnostic in rule.check(context):
            if not suppressions.silences(rule.id, rule.name, diagnostic.instruction_line):
                found.append(diagnostic)
    if in_order:
        found.sort(key=_in_order)
    return found


def is_applicable(fix: Fix | None, unsafe: bool) -> bool:
    if fix is None:
        return False
    return fix.applicability is Applicability.SAFE or (unsafe and fix.applicability is Applicability.UNSAFE)


def fix(
    text: str, rules: Sequence[Rule], *, unsafe: bool = False,
    options: Mapping[str, Mapping[str, Any]] | None = None, ignored: frozenset[str] = frozenset(),
    tree: Dockerfile | None = None, findings: bool = True, build_context: BuildContext = NO_CONTEXT,
) -> Result:
    """Apply the fixes of ``rules`` to ``text`` until none applies.

    The rounds of fixes run only the rules whose declared fixes apply; the
    others run once, on the fixed text, for its findings, unless
    ``findings`` is false (``--check`` and ``--diff`` show none).
    ``build_context`` is what rules see of the files beside the Dockerfile;
    the files fixes create are in ``Result.files``, not written.

    Raises ParseError if ``text`` itself does not parse.
    """
    with collector.paused():
        fixing = [rule for rule in rules if rule.fix.applies(unsafe)]
        others = [rule for rule in rules if not rule.fix.applies(unsafe)] if findings else []
        result, fixed_tree = _fix(text, fixing, unsafe, options, ignored, tree, build_context)
        if findings:
            context = build_context.with_files(result.files) if result.files else build_context
            found = _check(fixed_tree, others, options, ignored, False, context) if others else []
            result.diagnostics = sorted(result.diagnostics + found, key=_in_order)
        return result


def _in_order(diagnostic: Diagnostic) -> tuple[int, int, str]:
    return diagnostic.line, diagnostic.column, diagnostic.rule.id


def _fix(
    text: str, rules: Sequence[Rule], unsafe: bool, options: Mapping[str, Mapping[str, Any]] | None,
    ignored: frozenset[str], tree: Dockerfile | None, build_context: BuildContext,
) -> tuple[Result, Dockerfile]:
    """The result, and the tree of its text."""
    original = text
    tree = tree if tree is not None else parse(text)
    result = Result(text)
    context = build_context
    for _ in range(MAX_ROUNDS):
        diagnostics = _check(tree, rules, options, ignored, False, context)
        fixes = [d for d in diagnostics if is_applicable(d.fix, unsafe)]
        fixes = _as_declared(fixes, result.bugs)
        if not fixes:
            result.code, result.diagnostics = text, diagnostics
            return result, tree
        chosen = _without_overlaps(tree, fixes)
        new_tree, new_text, broken = _apply(tree, chosen)
        for diagnostic, error in broken:
            result.bugs.append(
                f"dfix bug: the {diagnostic.id} fix ({diagnostic.fix.title}) made a Dockerfile that does not parse "
                f"({error}); it was not applied"
            )
        kept = [d for d in chosen if all(d is not b for b, _ in broken)]
        files = {new.path: new.text for d in kept for new in d.fix.files}
        if not kept or (new_text == text and not files):
            result.code, result.diagnostics = text, diagnostics
            if kept:
                result.bugs.append(f"dfix bug: the {kept[0].id} fix changes nothing; it was not applied")
            return result, tree
        result.applied.extend(d.id for d in kept)
        result.unsafe_applied.extend(d.id for d in kept if d.fix.applicability is Applicability.UNSAFE)
        tree, text = new_tree, new_text
        if files:  # the next round sees them as written
            result.files.update(files)
            context = context.with_files(files)
    result.bugs.append(f"dfix bug: the fixes did not settle after {MAX_ROUNDS} rounds; the file was left as it was")
    result.code, result.applied, result.unsafe_applied, result.files = original, [], [], {}
    tree = parse(original)
    result.diagnostics = _check(tree, rules, options, ignored, False, build_context)
    return result, tree


def _as_declared(fixes: list[Diagnostic], bugs: list[str]) -> list[Diagnostic]:
    """The fixes their rules declare: a run that only fixes skips the rules
    declared to make no fix that applies, so such a fix is never applied."""
    declared = []
    for diagnostic in fixes:
        if diagnostic.rule.fix.allows(diagnostic.fix.applicability):
            declared.append(diagnostic)
            continue
        bug = (f"dfix bug: the {diagnostic.id} fix is {diagnostic.fix.applicability.value}, but the rule declares "
               f"{diagnostic.rule.fix.value} fixes; it was not applied")
        if bug not in bugs:
            bugs.append(bug)
    return declared


def apply_one(tree: Dockerfile, diagnostic: Diagnostic) -> str | None:
    """The text of ``tree`` with this one finding's fix applied, or None when
    it has no fix or the result would not parse (an editor's quick fix)."""
    if diagnostic.fix is None or diagnostic.fix.applicability is Applicability.DISPLAY_ONLY:
        return None
    _, text, broken = _apply(tree, [diagnostic])
    return None if broken or text == tree.code else text


def _without_overlaps(tree: Dockerfile, diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """The fixes to apply together: in source order, each one whose nodes do
    not overlap those of a fix taken before it, nor its new files those of
    one taken before (fixes that only create files come first)."""
    positions = positions_of(tree)
    spans_of = {id(d): [positions.span(r.old) for r in d.fix.replacements] for d in diagnostics}
    # what the taken fixes replace: disjoint spans, sorted, so that looking one
    # up is a bisection (thousands of fixes in a large file)
    taken: list[tuple[int, int]] = []
    taken_files: set[str] = set()
    chosen = []
    for diagnostic in sorted(diagnostics, key=lambda d: min(spans_of[id(d)], default=(-1, -1))):
        spans = spans_of[id(diagnostic)]
        paths = {new.path for new in diagnostic.fix.files}
        if any(_overlaps_taken(span, taken) for span in spans) or paths & taken_files:
            continue
        taken_files |= paths
        for span in _merged(spans):
            bisect.insort(taken, span)
        chosen.append(diagnostic)
    return chosen


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a == b or (a[0] < b[1] and b[0] < a[1])


def _overlaps_taken(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    """Whether ``span`` overlaps one of ``taken`` (disjoint, sorted): of the
    spans that start before it ends, the last one ends last."""
    before_end = bisect.bisect_left(taken, (span[1], -1))
    if before_end and _overlap(span, taken[before_end - 1]):
        return True
    same = bisect.bisect_left(taken, span)
    return same < len(taken) and taken[same] == span  # an empty span where another one is


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """One fix's spans, those that overlap one another made one."""
    out: list[tuple[int, int]] = []
    for span in sorted(set(spans)):
        if out and _overlap(span, out[-1]):
            out[-1] = (out[-1][0], max(out[-1][1], span[1]))
        else:
            out.append(span)
    return out


def _apply(tree: Dockerfile, chosen: list[Diagnostic]) -> tuple[Dockerfile, str, list[tuple[Diagnostic, ParseError]]]:
    """The tree with the chosen fixes; fixes whose result does not parse are
    found one by one and left out."""
    broken: list[tuple[Diagnostic, ParseError]] = []
    if not any(d.fix.replacements for d in chosen):  # they only create files
        return tree, tree.code, broken
    while True:
        kept = [d for d in chosen if all(d is not b for b, _ in broken)]
        text = fixed_text(tree, kept)
        try:
            return _parsed(tree, text, kept), text, broken
        except ParseError as error:
            if len(kept) <= 1:
                broken.extend((d, error) for d in kept)
                return tree, tree.code, broken
            culprit = _first_broken(tree, kept)
            if culprit is None:  # each parses alone but not together: give up on all
                broken.extend((d, error) for d in kept)
                return tree, tree.code, broken
            broken.append(culprit)


def _parsed(tree: Dockerfile, text: str, chosen: list[Diagnostic]) -> Dockerfile:
    """The tree of ``text``, ``tree``'s text with the chosen fixes: only
    the lines they changed are read again."""
    positions = positions_of(tree)
    edits = sorted((positions.span(r.old), sum(len(node.code) for node in r.new))
                   for d in chosen for r in d.fix.replacements)
    changes: list[tuple[int, int, int]] = []
    for (start, end), length in edits:
        if changes and start < changes[-1][1]:  # nested in another one (the outer one wins): read it all
            return parse(text, max_size=FIXED_MAX_SIZE)
        changes.append((start, end, length))
    if positions.shared or not changes:
        return parse(text, max_size=FIXED_MAX_SIZE)
    return reparse(tree, text, changes, max_size=FIXED_MAX_SIZE)


def _first_broken(tree: Dockerfile, chosen: list[Diagnostic]) -> tuple[Diagnostic, ParseError] | None:
    for diagnostic in chosen:
        try:
            parse(fixed_text(tree, [diagnostic]), max_size=FIXED_MAX_SIZE)
        except ParseError as error:
            return diagnostic, error
    return None


def fixed_text(tree: Dockerfile, chosen: list[Diagnostic]) -> str:
    """The text of ``tree`` with the chosen fixes (which do not overlap).

    Each replaced node's text is cut out of the file's text and the new
    nodes' text put in, as ruff applies its edits: the tree is not rebuilt
    and printed again. Where the tree alone says what the result is (an
    insertion at an offset where other nodes start or end, a replacement
    inside another one of the same fix: the outer one wins), the tree is
    rebuilt (``replace_nodes``); both give the same text."""
    positions = positions_of(tree)
    edits = []
    for diagnostic in chosen:
        for replacement in diagnostic.fix.replacements:
            start, end = positions.span(replacement.old)
            edits.append((start, end, replacement.new))
    edits.sort(key=lambda edit: edit[:2])
    if positions.shared or any(start == end for start, end, _ in edits) or any(
        before[1] > after[0] for before, after in zip(edits, edits[1:])
    ):
        return replace_nodes(tree, _replacements(chosen)).code
    text = positions.text
    pieces, last = [], 0
    for start, end, new in edits:
        pieces.append(text[last:start])
        pieces.extend(node.code for node in new)
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def _replacements(chosen: list[Diagnostic]) -> dict[int, tuple[Node, ...]]:
    return {id(r.old): r.new for d in chosen for r in d.fix.replacements}
