"""``reparse`` (reading again only the lines a fix changed) gives the tree
``parse`` gives for the whole text: nodes, line numbers, the layout kept for
the next round, and no script object standing twice."""

from __future__ import annotations

import pytest

import dfix
from dfix import engine
from dfix.cst import build
from dfix.cst import nodes as n
from dfix.cst.positions import Positions
from dfix.rules import ALL_RULES
from tests.conftest import corpus_names, corpus_text, corpus_tree


def assert_same_tree(got: n.Dockerfile, text: str) -> None:
    expected = dfix.parse(text)
    assert got.code == text
    assert got == expected
    lines = [(line.start_line, line.end_line) for line in got.body if isinstance(line, n.Instruction)]
    assert lines == [(line.start_line, line.end_line) for line in expected.body if isinstance(line, n.Instruction)]
    layout, wanted = got.__dict__[build._LAYOUT], expected.__dict__[build._LAYOUT]
    assert (layout.starts, layout.lines, layout.states) == (wanted.starts, wanted.lines, wanted.states)
    assert not Positions(got, whole=True).shared


def reparsed(text: str, old: str, new: str, count: int = 1) -> tuple[n.Dockerfile, str]:
    """The tree ``reparse`` gives after replacing the ``count``-th ``old``."""
    tree = dfix.parse(text)
    at = -1
    for _ in range(count):
        at = text.index(old, at + 1)
    changed = text[:at] + new + text[at + len(old):]
    return build.reparse(tree, changed, [(at, at + len(old), len(new))]), changed


@pytest.mark.parametrize(
    ("text", "old", "new"),
    [
        # a RUN that grows a line: the lines after it move down
        ("FROM a\nRUN x\nRUN y\n\n# c\nRUN z\nCMD q\n", "RUN y", "RUN y \\\n  && w"),
        # a changed line that now ends in a continuation joins the next instruction
        ("FROM a\nRUN x\nRUN y\n# c\n\nRUN z\nCMD q\n", "RUN y", "RUN y \\"),
        # a new SHELL: the scripts after it are read with another shell
        ('FROM a\nRUN x\nRUN y\nRUN z\n', "RUN x", 'SHELL ["cmd", "/S", "/C"]'),
        # a new stage: the lines after it are in another stage
        ("ARG T=1\nFROM a\nRUN x\nRUN y\n", "RUN x", "FROM mcr.microsoft.com/windows/servercore:$T"),
        # the same script twice: the one read again is a new object
        ("FROM a\nRUN y\nRUN x\nRUN y\n", "RUN x", "RUN y"),
        # a heredoc opened by the change
        ("FROM a\nRUN x\nCMD q\n", "RUN x", "RUN <<EOF\necho hi\nEOF"),
        # the last line, without a line end
        ("FROM a\nRUN x\nRUN y", "RUN y", "RUN y && z"),
        # a line removed
        ("FROM a\nRUN x\nRUN y\nCMD q\n", "RUN x\n", ""),
        # the first line: read whole (directives end there)
        ("# syntax=x\nFROM a\nRUN x\n", "FROM a", "# escape=`\nFROM a"),
        # a CRLF file
        ("FROM a\r\nRUN x\r\nRUN y\r\n", "RUN x", "RUN x \\\r\n  && z"),
    ],
)
def test_reparse_gives_what_parse_gives(text: str, old: str, new: str) -> None:
    tree, changed = reparsed(text, old, new)
    assert_same_tree(tree, changed)


@pytest.mark.parametrize(
    ("text", "edits"),
    [
        # two changes far apart: two runs of lines read again, the lines between moved
        ("FROM a\nRUN x\nRUN y\nRUN z\nCMD q\nRUN w\n", [("RUN x", "RUN x \\\n && x2"), ("CMD q", "CMD q\nRUN v")]),
        # the first one changes the shell the second one is read with
        ('FROM a\nRUN x\nRUN y\nRUN z\nRUN w\n', [("RUN x", 'SHELL ["pwsh", "-c"]'), ("RUN w", "RUN w2")]),
        # next to each other: one run
        ("FROM a\nRUN x\nRUN y\nCMD q\n", [("RUN x", "RUN x1"), ("RUN y", "RUN y1")]),
        # an insertion between lines, and a removal
        ("FROM a\nRUN x\nRUN y\nRUN z\nCMD q\n", [("", "# note\n"), ("RUN z\n", "")]),
    ],
)
def test_several_changes_reparse_as_parse_does(text: str, edits: list[tuple[str, str]]) -> None:
    tree = dfix.parse(text)
    changes, pieces, last = [], [], 0
    for old, new in edits:
        at = text.index(old, last) if old else text.index("RUN y")
        changes.append((at, at + len(old), len(new)))
        pieces += [text[last:at], new]
        last = at + len(old)
    changed = "".join(pieces) + text[last:]
    assert_same_tree(build.reparse(tree, changed, changes), changed)


def test_changes_that_do_not_give_the_text_are_read_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "FROM a\nRUN x\nRUN y\nRUN z\n"
    tree = dfix.parse(text)
    wrong = "FROM a\nRUN x\nRUN y\nRUN q\n"  # a change outside the one given
    assert_same_tree(build.reparse(tree, wrong, [(text.index("RUN x"), text.index("RUN x") + 5, 5)]), wrong)


def test_a_change_that_does_not_parse_raises_as_parse_does() -> None:
    with pytest.raises(dfix.ParseError) as raised:
        reparsed("FROM a\nRUN x\nCMD q\n", "RUN x", "RUN <<EOF\necho")
    with pytest.raises(dfix.ParseError) as expected:
        dfix.parse("FROM a\nRUN <<EOF\necho\nCMD q\n")
    assert (raised.value.message, raised.value.line) == (expected.value.message, expected.value.line)


def test_reparse_reads_only_the_changed_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """The point of it: the lines before and after the change are the same objects."""
    text = "FROM a\nRUN x\nRUN y\nRUN z\nCMD q\n"
    tree = dfix.parse(text)
    monkeypatch.setattr(build, "parse", None)  # a fallback to it would fail
    new = build.reparse(tree, text.replace("RUN y", "RUN y2"), [(text.index("RUN y"), text.index("RUN y") + 5, 6)])
    assert new.body[:2] == tree.body[:2] and all(a is b for a, b in zip(new.body[:2], tree.body[:2]))
    assert new.body[4] is tree.body[4]
    assert new.body[2].code == "RUN y2\n"


@pytest.mark.corpus
@pytest.mark.parametrize("name", corpus_names()[::3])
def test_every_round_of_fixes_on_the_corpus_reparses_as_parse_does(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if isinstance(corpus_tree(name), dfix.ParseError):
        pytest.skip("dfix refuses it, as BuildKit does")
    checked = []

    def checking(old: n.Dockerfile, text: str, changes: list, **options: int) -> n.Dockerfile:
        tree = build.reparse(old, text, changes, **options)
        assert_same_tree(tree, text)
        checked.append(text)
        return tree

    monkeypatch.setattr(engine, "reparse", checking)
    engine.fix(corpus_text(name), ALL_RULES, unsafe=True)
