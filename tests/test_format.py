"""The layout rules (DF2xx, ``--select DF2``) change layout and nothing else.

Checked on every corpus file and every fixture by two parsers dfix shares
no code with (``tests/format_oracle.py``): BuildKit reads the same
instructions, keywords, flags, exec-form arguments, heredoc bodies and
values of every non-shell instruction; every shell-form command has the same
syntax tree under mvdan/sh (``shfmt --to-json``), positions left out.
The package sorting (DF210) may reorder the arguments of the install it
sorts, and nothing else. Formatting is idempotent, and stable with the
other rules.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import dfix
from dfix.cst.buildkit import read_before_the_check_directive
from dfix.rules import ALL_RULES
from tests.conftest import FIXTURES, corpus_names, corpus_text, corpus_tree, read_exact
from tests.format_oracle import meaning_changes

LAYOUT = ["DF2"]
FIXTURE_FILES = sorted(path for path in FIXTURES.rglob("*.Dockerfile"))


def formatted(text: str) -> str:
    result = dfix.fix(text, select=LAYOUT)
    assert result.bugs == []
    return result.code


def assert_layout_only(text: str) -> str:
    """Format ``text``; assert the result means the same and formats to itself."""
    out = formatted(text)
    if out == text:
        return out
    keys = [directive.key for directive in dfix.parse(text).directives]
    if not read_before_the_check_directive(keys):  # the oracle reads those files otherwise (a documented difference)
        assert meaning_changes(text, out, package_order=True) == []
    assert formatted(out) == out, "formatting is not idempotent"
    return out


def test_the_layout_rules_are_safe_and_off_by_default() -> None:
    layout = [rule for rule in ALL_RULES if rule.id.startswith("DF2")]
    assert len(layout) >= 8
    for rule in layout:
        assert rule.fix.value == "safe" and not rule.default, rule.id
    assert not any(d.id.startswith("DF2") for d in dfix.check("FROM  alpine:3.19   \n\n\n\nRUN a  b"))


def test_the_oracle_sees_a_change_of_meaning() -> None:
    # what the corpus test relies on: each kind of change is caught
    assert meaning_changes("RUN a b\n", "RUN a   b\n") == []
    assert meaning_changes("RUN echo 'a b'\n", "RUN echo 'a  b'\n") != []
    assert meaning_changes("RUN a && b\n", "RUN a ; b\n") != []
    assert meaning_changes('CMD ["a", "b"]\n', 'CMD ["a",  "b"]\n') == []
    assert meaning_changes("ENV A=1\n", "ENV A=2\n") != []
    assert meaning_changes("COPY --chown=a x y\n", "COPY --chown=b x y\n") != []
    assert meaning_changes("RUN a\n", "RUN a\nRUN b\n") != []
    # the package sorting may reorder the arguments of an install, and nothing else
    sorted_install = "RUN apt-get install -y b a && echo x y\n", "RUN apt-get install -y a b && echo x y\n"
    assert meaning_changes(*sorted_install) != []
    assert meaning_changes(*sorted_install, package_order=True) == []
    assert meaning_changes("RUN echo b a\n", "RUN echo a b\n", package_order=True) != []
    assert meaning_changes("RUN apk add a && apk add b\n", "RUN apk add b && apk add a\n", package_order=True) != []


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda path: str(path.relative_to(FIXTURES)))
def test_formatting_a_fixture_changes_layout_only(path: Path) -> None:
    text = read_exact(path)
    try:
        dfix.parse(text)
    except dfix.ParseError:
        pytest.skip("not a Dockerfile dfix reads")
    assert_layout_only(text)


@pytest.mark.corpus
@pytest.mark.parametrize("name", corpus_names())
def test_formatting_a_corpus_file_changes_layout_only(name: str) -> None:
    if isinstance(corpus_tree(name), dfix.ParseError):
        pytest.skip("not a valid Dockerfile")
    assert_layout_only(corpus_text(name))


@pytest.mark.corpus
@pytest.mark.parametrize("name", corpus_names()[::10])
def test_formatting_is_stable_with_the_other_rules(name: str) -> None:
    text = corpus_text(name)
    if isinstance(corpus_tree(name), dfix.ParseError):
        pytest.skip("not a valid Dockerfile")
    fixed = dfix.fix(text, unsafe=True).code
    # formatting the output of --write changes layout only ...
    layout = assert_layout_only(fixed)
    # ... and fixing formatted output gives formatted output
    refixed = dfix.fix(layout, unsafe=True).code
    assert formatted(refixed) == refixed
