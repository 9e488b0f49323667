"""The grammar itself: LALR without conflicts, one language for both escape characters."""

from __future__ import annotations

import logging
import re

import pytest
from lark import Lark, logger

from dfix.cst.build import GRAMMAR_DIR


@pytest.mark.parametrize("escape", ["\\", "`"])
def test_grammar_has_no_lalr_conflicts(escape: str, caplog: pytest.LogCaptureFixture) -> None:
    """Lark resolves a shift/reduce conflict silently (as shift); we want none."""
    text = (GRAMMAR_DIR / "dockerfile.lark").read_text(encoding="utf-8")
    if escape == "`":
        text += (GRAMMAR_DIR / "backtick.lark").read_text(encoding="utf-8")
    level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        with caplog.at_level(logging.DEBUG, logger="lark"):
            Lark(text, parser="lalr", lexer="contextual", start=["start", "json_items", "continuation"],
                 keep_all_tokens=True, debug=True)
    finally:
        logger.setLevel(level)
    conflicts = [record.getMessage() for record in caplog.records if "conflict" in record.getMessage().lower()]
    assert conflicts == []


def test_backtick_grammar_only_changes_the_escape_character() -> None:
    overrides = re.findall(r"^%override (\w+):", (GRAMMAR_DIR / "backtick.lark").read_text(), re.M)
    assert sorted(overrides) == ["CONT_START", "ESC", "NOT_CONT"]
    grammar = (GRAMMAR_DIR / "dockerfile.lark").read_text()
    # every other terminal that mentions a backslash means a literal backslash,
    # not the escape character (flag escapes, JSON escapes)
    for name in overrides:
        assert re.search(rf"^{name}:", grammar, re.M)


def test_no_trivia_is_dropped() -> None:
    """No %ignore and no _underscore terminals: both would lose bytes."""
    grammar = (GRAMMAR_DIR / "dockerfile.lark").read_text()
    assert "%ignore" not in grammar
    assert not re.search(r"^_[A-Z]", grammar, re.M)
