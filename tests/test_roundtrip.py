"""Printing a parsed tree gives back the input, byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

import dfix
from dfix.cst import nodes
from dfix.cst.visit import transform, walk
from tests.conftest import FIXTURES, corpus_names, corpus_text, corpus_tree, read_exact

ROUNDTRIP = sorted((FIXTURES / "roundtrip").iterdir())


def _assert_lossless(tree: nodes.Node, text: str) -> None:
    assert tree.code == text
    # a transform that changes nothing rebuilds nothing and prints the same
    assert transform(tree, lambda original, updated: updated).code == text
    # a transform that copies every node prints the same too
    copied = transform(tree, lambda original, updated: updated.with_changes())
    assert copied.code == text
    assert copied == tree


@pytest.mark.parametrize("path", ROUNDTRIP, ids=lambda path: path.name)
def test_fixture_round_trips(path: Path) -> None:
    text = read_exact(path)
    tree = dfix.parse(text)
    _assert_lossless(tree, text)
    assert tree.code.encode("utf-8") == path.read_bytes()


@pytest.mark.parametrize("path", ROUNDTRIP, ids=lambda path: path.name)
def test_every_node_prints_its_children(path: Path) -> None:
    """LibCST's validate_node: a node's text is its fields' text in order."""
    tree = dfix.parse(read_exact(path))
    for node in walk(tree):
        pieces = []
        for name in node.printed_fields():
            value = getattr(node, name)
            values = value if isinstance(value, tuple) else (value,)
            pieces.extend(item if isinstance(item, str) else item.code for item in values if item is not None)
        assert "".join(pieces) == node.code


def _texts() -> list[str]:
    return [read_exact(path) for path in ROUNDTRIP]


def test_fixtures_cover_the_language() -> None:
    """The round-trip fixtures keep covering every feature the grammar must keep."""
    texts = _texts()
    joined = "\n".join(texts)
    assert any("\r\n" in text for text in texts), "CRLF"
    assert any("\r\n" in text and "\n" in text.replace("\r\n", "") for text in texts), "mixed line ends"
    assert any(text.startswith("\ufeff") for text in texts), "BOM"
    assert any(not text.endswith("\n") for text in texts), "no final newline"
    assert any(text.startswith("# escape=`") or "\ufeff# escape=`" in text for text in texts), "backtick escape"
    assert "\t" in joined and "日本語" in joined and "\u00a0" in joined, "tabs and non-ASCII text"
    for directive in ("# syntax=", "# check=", "ESCAPE"):
        assert directive in joined
    for flag in (
        "--mount=", "--from=", "--chown=", "--chmod=", "--link", "--platform=", "--network=",
        "--security=", "--interval=", "--timeout=", "--start-period=", "--retries=",
        "--keep-git-dir", "--exclude=", "--parents", "--checksum=",
    ):
        assert flag in joined, flag
    for heredoc in ("<<EOF", "<<-EOT", '<<"QUOTED"', "<<'PY'", "<<A <<B", "COPY <<", "ADD <<", "ONBUILD RUN <<"):
        assert heredoc in joined, heredoc
    for form in ("HEALTHCHECK NONE", "ONBUILD", "CMD []", "CMD ['single'", "\\\n\n", "\\   \n", "\\\n        # comment"):
        assert form in joined, form


@pytest.mark.corpus
@pytest.mark.parametrize("name", corpus_names())
def test_corpus_round_trips(name: str) -> None:
    tree = corpus_tree(name)
    if isinstance(tree, dfix.ParseError):
        pytest.skip(f"not a valid Dockerfile: {tree}")  # checked against BuildKit in test_buildkit_oracle
    _assert_lossless(tree, corpus_text(name))
