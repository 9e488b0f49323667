"""dfix reads every Dockerfile as BuildKit does.

The oracle is the ``dockerfile`` package, a wrapper of BuildKit's own parser.
For every file both read, they agree on the number of instructions and, for
each one, its keyword, start and end line, flags and value; files BuildKit
refuses, dfix refuses too. The view of a dfix tree in BuildKit's terms is
``tests/buildkit_view.py``.
"""

from __future__ import annotations

import re
from pathlib import Path

import dockerfile
import pytest

import dfix
from dfix.cst import nodes
from dfix.cst.buildkit import read_before_the_check_directive
from tests.buildkit_view import view
from tests.conftest import FIXTURES, corpus_names, corpus_text, read_exact

_UNICODE_BLANKS = re.compile("[\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")


# Deliberate differences, each with its reason. A file-level one is a
# function of the text; an instruction-level one of both views (dfix's, BuildKit's).
FILE_DIFFERENCES = {
    # The oracle wraps a BuildKit from before the `check` directive (v0.14);
    # dfix reads `# check=` as current BuildKit does: a directive, so a second
    # one is an error and directives after it still count.
    "check directive": lambda text: _check_directive_matters(text),
    # Blanks right before an escape character that ends the file, inside an
    # unclosed quote, after an escape character or a non-ASCII blank: BuildKit
    # trims them from the joined line first; dfix keeps them in the word, as
    # it would if any text followed the last continuation.
    "blank before a final escape": lambda text: _blank_before_final_escape(text),
}
INSTRUCTION_DIFFERENCES = {
    # BuildKit's parser keeps no value for a keyword it does not know (the
    # wrapper reports ('',)); dfix keeps the text so that it can print it.
    "value of an unknown instruction": lambda mine, theirs: (mine.sub_cmd or mine.cmd).upper()
    not in nodes.INSTRUCTION_CLASSES,
    # BuildKit scans flags and the HEALTHCHECK type byte by byte, so a
    # non-ASCII blank next to them is cut in the middle of its UTF-8 bytes
    # (a flag "--\u00c2"); dfix reads it as one character.
    "non-ASCII blank next to a flag": lambda mine, theirs: bool(_UNICODE_BLANKS.search(theirs.original or ""))
    and ("--" in (theirs.original or "") or mine.cmd.upper() == "HEALTHCHECK"),
    # The legacy `ENV key value`: BuildKit splits the key off at the first
    # blank even inside quotes (`ENV "a b" c` has the key '"a'); dfix keeps a
    # quoted key whole.
    "quoted legacy key": lambda mine, theirs: mine.cmd.upper() in ("ENV", "LABEL")
    and len(theirs.value) == 2 and any(quote in theirs.value[0] for quote in "'\"")
    and "=" not in mine.value[0],
}


def _flag(flag: str) -> str:
    """A flag as BuildKit meant it: its scanner makes a character of each
    byte, so "é" comes out as "Ã©"."""
    try:
        return flag.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return flag


def _blank_before_final_escape(text: str) -> bool:
    lines = text.split("\n")
    while lines and (not lines[-1].strip(" \t\r\u00a0") or lines[-1].lstrip(" \t\u00a0").startswith("#")):
        lines.pop()  # the blank and comment lines a continuation skips
    last = lines[-1].rstrip(" \t\r") if lines else ""
    if not last.endswith(("\\", "`")):
        return False
    body = last[:-1]
    return body != body.rstrip(" \t\u00a0") and bool(re.search("[\"'\\\\`]", body) or _UNICODE_BLANKS.search(body))


def _check_directive_matters(text: str) -> bool:
    directives = re.findall(r"^[ \t]*#[ \t]*(syntax|escape|check)[ \t]*=", text.removeprefix("\ufeff"), re.I | re.M)
    keys = [key.lower() for key in directives]
    return keys.count("check") > 1 or read_before_the_check_directive(keys)


def assert_agrees(text: str) -> None:
    if any(applies(text) for applies in FILE_DIFFERENCES.values()):
        return
    try:
        theirs = dockerfile.parse_string(text)
    except dockerfile.GoParseError:
        with pytest.raises(dfix.ParseError):
            dfix.parse(text)
        return
    except UnicodeDecodeError:
        return  # the byte-wise flag scanner made invalid UTF-8 (see above)
    # A line holding only the escape character at the end of the file: BuildKit
    # makes an empty instruction of it (its builder then refuses the file);
    # dfix reads the line as a blank one.
    theirs = tuple(command for command in theirs if command.cmd is not None)
    tree = dfix.parse(text)
    mine = [view(instruction) for instruction in tree.instructions]
    assert len(mine) == len(theirs)
    for ours, reference in zip(mine, theirs):
        assert ours.cmd.upper() == reference.cmd.upper()
        assert (ours.start_line, ours.end_line) == (reference.start_line, reference.end_line), ours.cmd
        if any(applies(ours, reference) for applies in INSTRUCTION_DIFFERENCES.values()):
            continue
        assert (ours.sub_cmd or "").upper() == (reference.sub_cmd or "").upper()
        assert ours.flags == tuple(_flag(flag) for flag in reference.flags), (ours.start_line, ours.cmd)
        assert ours.json == reference.json, (ours.start_line, ours.cmd)
        assert ours.value == reference.value, (ours.start_line, ours.cmd)


@pytest.mark.parametrize("path", sorted((FIXTURES / "roundtrip").iterdir()), ids=lambda path: path.name)
def test_fixtures_agree_with_buildkit(path: Path) -> None:
    assert_agrees(read_exact(path))


@pytest.mark.corpus
@pytest.mark.parametrize("name", corpus_names())
def test_corpus_agrees_with_buildkit(name: str) -> None:
    assert_agrees(corpus_text(name))


@pytest.mark.parametrize(
    "text",
    [
        "FROM a\nENV A\n",
        'FROM a\nCMD ["a", 1]\n',
        "FROM a\nRUN [[\"nested\"]]\n",
        "# escape=x\nFROM a\n",
        "# escape=`\n# escape=\\\nFROM a\n",
        "FROM a\nRUN <<EOF\nno end\n",
        "FROM a\nCOPY <<EOF /x",
        "FROM a\nENV A=1 B\n",
        "FROM a\nONBUILD ENV A\n",
    ],
)
def test_both_refuse(text: str) -> None:
    with pytest.raises(dockerfile.GoParseError):
        dockerfile.parse_string(text)
    with pytest.raises(dfix.ParseError):
        dfix.parse(text)


@pytest.mark.parametrize(
    "text",
    [
        "FROM a\nRUN cat<<EOF\nFROM b\n",  # not a heredoc: "cat<<EOF" is one word to BuildKit
        "FROM a\nRUN echo '<<EOF'\n",
        "FROM a\nRUN <<EOF;\nx\nEOF;\n",  # the heredoc's name is "EOF;"
        "FROM a\nRUN echo $X<<EOF\nbody\nEOF\n",  # $X expands to nothing: "<<EOF" opens one
        # ${...} with any modifier comes back as written (SkipUnsetEnv), then splits into words
        "FROM a\nRUN echo ${V:?set V} 'a \\\n b' <<EOF\nbody\nEOF\n",
        "FROM a\nRUN echo ${V?} ${W:x} <<EOF\nbody\nEOF\n",
        "FROM a\nRUN cat ${V:-<<NOT}\nRUN b\n",
        "FROM a\nRUN cat ${V:-x <<EOF y}\nbody\nEOF\n",
        "FROM a\nRUN cat ${V:}x <<NOT\nRUN b\n",
        "FROM a\nRUN <<-'E O' cat\n\tbody\n\tE O\n",
        "FROM a\nCMD [\"a\"]]\n",
        "FROM a\nCMD [\"a\"\\\n, \"b\"]\n",
        "FROM a\nRUN a\\\\\nRUN b\n",
        "FROM a\nENV A=\"unterminated\nENV B=1\n",
        "FROM a\nLABEL \"a b\"=c 'd'=\"e f\"\n",
        "FROM a\nENV a=b\u00a0c=d\n",
        "from a\nrun --mount=type=cache,target=/x \\\n  # comment\n\n  echo\n",
        "FROM a\nRUN \\\n",
        "FROM a\nLABEL\n",
        "FROM a\nRUN echo \\\n# comment at the end\n",
        "\\\nFROM a\n",
        "FROM a\nHEALTHCHECK --interval=1s cmd [\"a\"]\n",
        "FROM a\nONBUILD HEALTHCHECK NONE\n",
        "FROM a\nVOLUME [\"/a\"] /b\n",
        "FROM a\nARG a=\"b c\" d\n",
        "FROM a\nRUN --x=\"a\\\"b c\" y\n",
        "FROM a\nADD --chown='a b' x y\n",
        "FROM a\nEXPOSE 80\u00a0 90\n",
        "FROM a\r\nRUN a \\\r\n b\r\r\n",
        "# syntax=x\n\n# escape=`\nRUN a `\n",
    ],
)
def test_edge_cases_agree(text: str) -> None:
    assert_agrees(text)
