"""The shell layer: lossless, and structured where rules need it."""

from __future__ import annotations

import pytest

import dfix
from dfix.cst import nodes
from dfix.cst.visit import walk
from dfix.shell import nodes as sh
from dfix.shell.parse import parse_script
from tests.conftest import REPORT, corpus_names, corpus_tree


def script(body: str) -> sh.Script:
    tree = dfix.parse(f"FROM a\nRUN {body}\n")
    shell_form = tree.instructions[1].body
    assert isinstance(shell_form, nodes.ShellForm)
    assert shell_form.script.code == body
    return shell_form.script


def test_lists_pipelines_and_commands() -> None:
    s = script("set -eux; apt-get update && apt-get install -y curl | tee log || true &")
    assert [op.value for op in s.body.parts if isinstance(op, sh.Operator)] == [";", "&&", "||", "&"]
    assert [c.name for c in s.commands()] == ["set", "apt-get", "apt-get", "tee", "true"]
    install = list(s.commands())[2]
    assert [w.value for w in install.arguments] == ["install", "-y", "curl"]


def test_words_quotes_and_expansions() -> None:
    s = script("""echo 'a b' "c $HOME" d\\ e ${X:-y} $(date) `id` "$((1+2))" $'\\n' f"g"'h'""")
    (command,) = s.commands()
    values = [w.value for w in command.arguments]
    assert values == ["a b", None, "d e", None, None, None, None, None, "fgh"]
    assert command.arguments[1].text == '"c $HOME"'


def test_assignments_and_redirections() -> None:
    s = script("DEBIAN_FRONTEND=noninteractive TZ=UTC apt-get install -y tzdata > /dev/null 2>&1 <<<EOF")
    (command,) = s.commands()
    assert [w.text for w in command.assignments] == ["DEBIAN_FRONTEND=noninteractive", "TZ=UTC"]
    assert command.name == "apt-get"
    assert [(r.operator, r.target.text if r.target else None) for r in command.redirects] == [
        (">", "/dev/null"), (">&", "1"), ("<<<", "EOF"),
    ]


@pytest.mark.parametrize(
    ("body", "kinds"),
    [
        ("(cd /tmp && make)", ["subshell"]),
        ("{ echo a; echo b; } > log", ["group"]),
        ("if [ -f x ]; then a; elif b; then c; else d; fi", ["if"]),
        ("for i in 1 2; do echo $i; done", ["for"]),
        ("while read l; do echo $l; done < f", ["while"]),
        ("until false; do :; done", ["until"]),
        ('case "$x" in a|b) echo ab ;; *) echo other ;; esac', ["case"]),
        ("f() { echo fn; }", ["function", "group"]),
        ("function g { echo fn; }", ["function", "group"]),
        ('[[ -n "$x" && $y < 3 ]]', ["test"]),
    ],
)
def test_compound_commands_are_structured(body: str, kinds: list[str]) -> None:
    s = script(body)
    assert [node.kind for node in walk(s) if isinstance(node, sh.Compound)] == kinds
    assert not s.is_opaque


def test_commands_inside_compounds_are_found() -> None:
    s = script("for p in a b; do apt-get install -y $p; done && (cd x && pip install .)")
    assert [c.name for c in s.commands()] == ["apt-get", "cd", "pip"]


@pytest.mark.parametrize("body", ["(( i++ ))", "for ((i=0; i<3; i++)); do echo; done", 'echo "unterminated', "echo )"])
def test_what_it_does_not_read_is_opaque_and_kept(body: str) -> None:
    s = script(body)
    assert s.is_opaque
    assert s.code == body


def test_dockerfile_continuations_are_trivia_or_word_parts() -> None:
    s = script("apt-get install -y \\\n    # comment\n    curl \\\n    gi\\\nt")
    (command,) = s.commands()
    assert [w.value for w in command.arguments] == ["install", "-y", "curl", "git"]
    assert s.value == "apt-get install -y     curl     git"


def test_comment_runs_to_the_end_of_the_logical_line() -> None:
    s = script("echo a # comment \\\n  && echo b")
    assert [c.name for c in s.commands()] == ["echo"]
    assert isinstance(s.body.parts[-1], sh.Comment)


def test_non_posix_shells_stay_opaque() -> None:
    tree = dfix.parse('FROM a\nSHELL ["powershell", "-Command"]\nRUN Write-Host (1 + 1)\nSHELL ["/bin/bash", "-c"]\nRUN echo ok\n')
    powershell, bash = tree.instructions[2].body.script, tree.instructions[4].body.script
    assert isinstance(powershell.body, sh.Opaque)
    assert not bash.is_opaque
    windows = dfix.parse("FROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN dir C:\\\n")
    assert isinstance(windows.instructions[1].body.script.body, sh.Opaque)


def test_deep_nesting_is_opaque_not_a_crash() -> None:
    body = "(" * 500 + "a" + ")" * 500
    s = parse_script([body])
    assert s.is_opaque and s.code == body


@pytest.mark.corpus
def test_corpus_run_bodies_parse_without_opaque_nodes() -> None:
    total = posix = structured = 0
    for name in corpus_names():
        tree = corpus_tree(name)
        if isinstance(tree, dfix.ParseError):
            continue
        for instruction in tree.instructions:
            inner = instruction.inner if isinstance(instruction, nodes.Onbuild) else instruction
            if not isinstance(inner, nodes.Run) or not isinstance(inner.body, nodes.ShellForm):
                continue
            total += 1
            script = inner.body.script
            assert script.code == inner.body.code[len(inner.body.whitespace_before.code):]
            if not script.posix:
                continue  # a Windows (cmd or PowerShell) body: opaque by design
            posix += 1
            structured += not script.is_opaque
    share = structured / posix
    REPORT["shell-form RUN bodies"] = f"{total}, of which {posix} in POSIX-shell stages"
    REPORT["POSIX RUN bodies parsed without an opaque node"] = f"{structured}/{posix} = {share:.2%}"
    assert share >= 0.98
