"""The public API and the shape of the tree."""

from __future__ import annotations

import pytest

import dfix
from dfix.cst import nodes


def parse(text: str) -> nodes.Dockerfile:
    tree = dfix.parse(text)
    assert tree.code == text
    return tree


def test_instructions_with_keywords_and_lines() -> None:
    tree = parse(
        "# syntax=docker/dockerfile:1\n"
        "from alpine AS base\n"
        "\n"
        "RUN apk add \\\n"
        "    # skipped\n"
        "    curl\n"
        "COPY <<EOF /etc/x\n"
        "body\n"
        "EOF\n"
        "ONBUILD RUN echo hi\n"
    )
    assert [(i.keyword, i.start_line, i.end_line) for i in tree.instructions] == [
        ("FROM", 2, 2),
        ("RUN", 4, 6),
        ("COPY", 7, 9),
        ("ONBUILD", 10, 10),
    ]
    onbuild = tree.instructions[-1]
    assert isinstance(onbuild, nodes.Onbuild)
    assert isinstance(onbuild.inner, nodes.Run) and onbuild.inner.keyword == "RUN"
    assert tree.instructions[0].keyword_text.value == "from"


def test_parse_error_says_where_and_what() -> None:
    with pytest.raises(dfix.ParseError) as caught:
        dfix.parse("FROM alpine\nENV A=1 B\n")
    error = caught.value
    assert (error.line, error.column) == (2, 9)
    assert "can't find = in 'B'" in error.message and "name=value" in error.message
    assert str(error).startswith("2:9: ")


def test_parse_error_for_an_unterminated_heredoc_points_at_its_instruction() -> None:
    with pytest.raises(dfix.ParseError) as caught:
        dfix.parse("FROM alpine\n\nRUN <<EOF\necho never ends\n")
    assert caught.value.line == 3
    assert "unterminated heredoc" in caught.value.message


def test_directives_only_at_the_top() -> None:
    tree = parse("# syntax=x\n# Escape = `\n# comment\n# check=skip=all\nFROM a\n# escape=\\\n")
    assert [(d.key, d.value) for d in tree.directives] == [("syntax", "x"), ("escape", "`")]
    assert tree.escape == "`"
    comments = [line for line in tree.body if isinstance(line, nodes.Comment)]
    assert [c.text for c in comments] == ["# comment", "# check=skip=all", "# escape=\\"]


def test_escape_directive_switches_the_continuation_character() -> None:
    backslash = parse("FROM a\nRUN echo a \\\n  b\n")
    backtick = parse("# escape=`\nFROM a\nRUN echo a \\\nRUN echo b `\n  c\n")
    assert len(backslash.instructions) == 2
    assert [i.keyword for i in backtick.instructions] == ["FROM", "RUN", "RUN"]
    assert backtick.instructions[1].body.value == "echo a \\"
    assert backtick.instructions[2].body.value == "echo b   c"


def test_continuation_node_keeps_what_it_skips() -> None:
    tree = parse("FROM a\nRUN a \\  \n\n  # note\n  b\n")
    body = tree.instructions[1].body
    (continuation,) = [p for w in body.script.body.pipelines[0].commands[0].words for p in w.whitespace_before.parts if isinstance(p, nodes.Continuation)]
    assert continuation.escape == "\\"
    assert continuation.whitespace == "  "
    assert [type(line).__name__ for line in continuation.skipped] == ["BlankLine", "Comment"]
    assert continuation.skipped[1].text == "# note"
    assert body.value == "a   b"


def test_flags() -> None:
    tree = parse('FROM a\nCOPY --from=build --chown="app user" --link src dst\n')
    copy = tree.instructions[1]
    assert [(f.name, f.value) for f in copy.flags] == [("from", "build"), ("chown", "app user"), ("link", None)]
    assert copy.flag("from").value == "build"
    assert copy.values == ("src", "dst")


def test_exec_and_shell_forms() -> None:
    tree = parse('FROM a\nCMD ["a", "b c"]\nCMD [\'x\']\nENTRYPOINT ["a"] junk\nRUN []\n')
    exec_form, shell_form, junk, empty = tree.instructions[1:]
    assert isinstance(exec_form.body, nodes.JsonArray) and exec_form.body.values == ("a", "b c")
    assert isinstance(shell_form.body, nodes.ShellForm) and shell_form.body.value == "['x']"
    assert junk.body.values == ("a",) and junk.body.ignored.value == "junk"
    assert isinstance(empty.body, nodes.JsonArray) and empty.body.values == ()


def test_env_label_arg() -> None:
    tree = parse('ARG V=1 W\nFROM a\nENV A=1 B="two words"\nENV LEGACY some value\nLABEL "k"=v\n')
    arg, _, env, legacy, label = tree.instructions
    assert [(a.key.value, a.equals, a.value.value) for a in arg.args] == [("V", "=", "1"), ("W", "", "")]
    assert [(p.key.value, p.value.value) for p in env.pairs] == [("A", "1"), ("B", '"two words"')]
    (pair,) = legacy.pairs
    assert isinstance(pair, nodes.LegacyKeyValue) and (pair.key.value, pair.value.value) == ("LEGACY", "some value")
    assert label.pairs[0].key.value == '"k"'


def test_from_and_healthcheck_and_onbuild() -> None:
    tree = parse("FROM --platform=linux/amd64 golang:1.22 as build\nHEALTHCHECK NONE\nHEALTHCHECK --interval=5s CMD true\nONBUILD COPY . /app\n")
    from_, none, check, onbuild = tree.instructions
    assert (from_.image, from_.stage_name, from_.flag("platform").value) == ("golang:1.22", "build", "linux/amd64")
    assert none.kind.value == "NONE" and none.body is None
    assert check.kind.value == "CMD" and check.body.value == "true"
    assert onbuild.inner.values == (".", "/app")


def test_heredoc_bodies_belong_to_their_instruction() -> None:
    tree = parse("FROM a\nRUN <<A <<-B cat\none\nA\n\ttwo\n\tB\nRUN after\n")
    run = tree.instructions[1]
    assert [(h.name, h.body) for h in run.heredocs] == [("A", "one\n"), ("B", "\ttwo\n")]
    assert tree.instructions[2].body.value == "after"


def test_bom_crlf_and_no_final_newline() -> None:
    tree = parse("\ufeffFROM a\r\nRUN b")
    assert tree.bom == "\ufeff"
    assert tree.instructions[0].newline == "\r\n"
    assert tree.instructions[1].newline == ""


def test_with_changes_makes_a_new_node_and_keeps_the_rest() -> None:
    text = "FROM a\nRUN  echo   hi \\\n  there   # spacing kept\nCMD x\n"
    tree = parse(text)
    cmd = tree.instructions[2]
    new_cmd = cmd.with_changes(keyword_text=nodes.Fragment.of("CMD"), body=nodes.JsonArray.of(["x", 'say "hi"']))
    body = tuple(new_cmd if line is cmd else line for line in tree.body)
    changed = tree.with_changes(body=body)
    assert changed.code == text.replace("CMD x", 'CMD ["x", "say \\"hi\\""]')
    assert tree.code == text  # the old tree is unchanged
    assert changed.instructions[1] is tree.instructions[1]


def test_no_instructions_is_an_error() -> None:
    for text in ("", "# only a comment\n", "\n\n"):
        with pytest.raises(dfix.ParseError, match="no instructions"):
            dfix.parse(text)


def test_too_large_is_an_error_not_a_hang() -> None:
    with pytest.raises(dfix.ParseError, match="too large"):
        dfix.parse("FROM a\n" + "#" * (5 * 1024 * 1024))


def test_a_script_parsed_before_is_reused_once_per_tree() -> None:
    # the RUNs a round of fixes did not change keep their script (and what
    # rules kept on it); a tree never holds one script object twice
    from dfix.cst.build import _ScriptCache

    text = "FROM a:1\nRUN apt-get update && \\\n    apt-get install -y x\nRUN apt-get update && \\\n    apt-get install -y x\n"
    first, second = dfix.parse(text), dfix.parse(text)
    scripts = [[i.body.script for i in tree.instructions[1:]] for tree in (first, second)]
    assert scripts[0][0] is not scripts[0][1] and scripts[1][0] is not scripts[1][1]
    assert {id(s) for s in scripts[0]} & {id(s) for s in scripts[1]}
    assert first == second and first.code == second.code == text
    windows = dfix.parse("# escape=`\nFROM a:1\nRUN apt-get update && `\n    apt-get install -y x\n")
    assert windows.instructions[1].body.script.code == "apt-get update && `\n    apt-get install -y x"

    cache = _ScriptCache(budget=100)
    for index in range(10):
        cache.put(("\\\\", True, f"{index:020d}"), dfix.parse("FROM a\nRUN x\n").instructions[1].body.script)
    assert cache.size <= 100 and len(cache.found) == 5
    assert cache.get(("\\\\", True, f"{9:020d}")) is not None and cache.get(("\\\\", True, f"{0:020d}")) is None
