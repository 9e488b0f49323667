"""Read a shell command line into the lossless tree of :mod:`dfix.shell.nodes`.

A hand-written scanner and recursive-descent parser rather than a Lark
grammar: the shell's lexical rules depend on context a context-free grammar
does not carry (``#`` starts a comment only where a word starts, ``}`` and
``fi`` are reserved only where a command starts, quotes and ``$( )`` nest
inside words), and Dockerfile continuations may split any token. The parser
never fails: text it cannot read becomes an :class:`~dfix.shell.nodes.Opaque`
node that prints as read.

The scanner works on the logical text (continuations removed); a continuation
is put back into whichever node holds its position: the whitespace before a
token when it stands at the token's start, the token when it stands inside.
"""

from __future__ import annotations

import bisect
import re
from typing import NamedTuple, Sequence

from dfix.cst.base import Continuation, Part, Whitespace
from dfix.shell.nodes import (
    CommandList,
    Comment,
    Compound,
    DoubleQuoted,
    Expansion,
    Node,
    Opaque,
    Operator,
    Pipeline,
    Redirect,
    Script,
    SimpleCommand,
    SingleQuoted,
    Word,
)

# blanks, and the shell's own line continuations (heredoc scripts have them)
_BLANKS = re.compile(r"(?:[ \t]|\\\r?\n)*")
_PLAIN = re.compile(r"[^ \t\n;&|()<>'\"\\$`]+")
_PLAIN_IN_DOUBLE_QUOTES = re.compile(r"[^\"\\$`]+")
# what ``word_parts`` reads as literal text, whatever follows
_LITERAL_RUN = re.compile(r"[^\\'\"$`(<>]+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ARRAY_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?\+?=\Z")
_FD = re.compile(r"[0-9]+(?=[<>])")
_OPERATORS = (
    ";;&", "&>>", "<<<", "<<-",
    "&&", "||", ";;", ";&", "|&", "&>", "<<", "<>", "<&", ">&", ">>", ">|",
    ";", "&", "|", "(", ")", "<", ">", "\n",
)
_OPERATOR_STARTS = frozenset(";&|()<>\n")
_DIGITS = frozenset("0123456789")
_REDIRECTIONS = frozenset(("&>>", "<<<", "<<-", "&>", "<<", "<>", "<&", ">&", ">>", ">|", "<", ">"))
_LIST_OPERATORS = frozenset(("&&", "||", ";", "&", "\n"))
_CASE_ENDS = frozenset((";;", ";&", ";;&"))
# Deeper nesting than this is no real command line; it is left opaque rather
# than risk Python's recursion limit in the parser or in printing.
_MAX_DEPTH = 50


class ShellSyntaxError(Exception):
    """Raised inside the parser; the caller turns the text into an Opaque node."""


def parse_script(parts: Sequence[Part], *, posix: bool = True) -> Script:
    """The script of a shell-form body given as Dockerfile parts.

    With ``posix=False`` (PowerShell, cmd) the whole body is opaque.
    """
    source = _Source(parts)
    if posix:
        try:
            return _Parser(source).script()
        except (ShellSyntaxError, RecursionError):
            pass
    return Script(Opaque(Whitespace(), tuple(parts)), Whitespace(), posix)


class _Source:
    """The logical text, and the continuations that stand before each position."""

    def __init__(self, parts: Sequence[Part]) -> None:
        chunks: list[str] = []
        self.continuations: dict[int, list[Continuation]] = {}
        length = 0
        for part in parts:
            if isinstance(part, str):
                chunks.append(part)
                length += len(part)
            else:
                self.continuations.setdefault(length, []).append(part)
        self.text = "".join(chunks)
        self.positions = sorted(self.continuations)

    def parts(self, start: int, end: int, *, edges: bool = False) -> tuple[Part, ...]:
        """The raw parts of the logical range [start, end): the text and the
        continuations inside it, or also at its two edges with ``edges``."""
        if not self.continuations:
            return (self.text[start:end],) if end > start else ()
        out: list[Part] = []
        last = start
        positions = self.positions
        for index in range(bisect.bisect_left(positions, start if edges else start + 1), len(positions)):
            position = positions[index]
            if position > end or (not edges and position == end):
                break
            if position > last:
                out.append(self.text[last:position])
                last = position
            out.extend(self.continuations[position])
        if end > last:
            out.append(self.text[last:end])
        return tuple(out)

    def at(self, position: int) -> tuple[Part, ...]:
        return tuple(self.continuations.get(position, ()))


class _Token(NamedTuple):
    kind: str  # "word", "op", "redirect", "comment", "eof"
    space: int  # where the whitespace before the token starts
    start: int
    end: int
    value: str  # operators: the operator; words: the literal text if plain


class _Parser:
    def __init__(self, source: _Source) -> None:
        self.source = source
        self.text = source.text
        self.pos = 0
        self.peeked: _Token | None = None
        self.depth = 0

    # ------------------------------------------------------------ entry

    def script(self) -> Script:
        body = self.command_list(frozenset(), frozenset())
        token = self.peek()
        if token.kind != "eof":
            raise ShellSyntaxError(f"unexpected {token.value!r}")
        trailing = Whitespace(self.source.parts(self.pos, len(self.text), edges=True))
        return Script(body, trailing)

    # ------------------------------------------------------------ scanning

    def peek(self) -> _Token:
        if self.peeked is not None and self.peeked.space == self.pos:
            return self.peeked
        self.peeked = self.scan_token()
        return self.peeked

    def scan_token(self) -> _Token:
        text = self.text
        space = self.pos
        start = _BLANKS.match(text, space).end()
        if start >= len(text):
            return _Token("eof", space, len(text), len(text), "")
        char = text[start]
        if char == "#":
            end = text.find("\n", start)
            end = len(text) if end < 0 else end
            return _Token("comment", space, start, end, text[start:end])
        fd = _FD.match(text, start) if char in _DIGITS else None
        after_fd = fd.end() if fd else start
        for operator in _OPERATORS if fd or char in _OPERATOR_STARTS else ():
            if text.startswith(operator, after_fd):
                if operator in ("<", ">") and text.startswith("(", after_fd + 1):
                    break  # process substitution: a word
                if operator in _REDIRECTIONS:
                    end = after_fd + len(operator)
                    return _Token("redirect", space, start, end, text[start:end])
                if fd:
                    break
                return _Token("op", space, start, start + len(operator), operator)
        end = self.scan_word(start)
        if end == start:
            raise ShellSyntaxError(f"unexpected {char!r}")
        return _Token("word", space, start, end, text[start:end])

    def scan_word(self, start: int) -> int:
        text = self.text
        position = start
        length = len(text)
        while position < length:
            char = text[position]
            plain = _PLAIN.match(text, position)
            if plain:
                position = plain.end()
                continue
            if char == "\\":
                position = min(position + 2, length)
            elif char == "'":
                position = self.closing(position, "'")
            elif char == '"':
                position = self.scan_double_quoted(position)
            elif char == "$":
                position = self.scan_dollar(position)
            elif char == "`":
                position = self.scan_backticks(position)
            elif char in "<>" and text.startswith("(", position + 1):
                position = self.scan_parens(position + 1)
            elif char == "(" and _ARRAY_ASSIGNMENT.fullmatch(text, start, position):
                position = self.scan_parens(position)
            else:
                break
        return position

    def closing(self, position: int, quote: str) -> int:
        end = self.text.find(quote, position + 1)
        if end < 0:
            raise ShellSyntaxError("unterminated quote")
        return end + 1

    def scan_double_quoted(self, position: int) -> int:
        self.enter()
        try:
            return self._scan_double_quoted(position)
        finally:
            self.depth -= 1

    def enter(self, more: int = 0) -> None:
        """One more level of nesting (quotes, expansions, commands): deeper
        than ``_MAX_DEPTH`` the script is left opaque."""
        self.depth += 1
        if self.depth + more > _MAX_DEPTH:
            raise ShellSyntaxError("nested too deeply")

    def _scan_double_quoted(self, position: int) -> int:
        text = self.text
        position += 1
        while position < len(text):
            char = text[position]
            plain = _PLAIN_IN_DOUBLE_QUOTES.match(text, position)
            if plain:
                position = plain.end()
            elif char == '"':
                return position + 1
            elif char == "\\":
                position += 2
            elif char == "$":
                position = self.scan_dollar(position)
            else:  # backtick
                position = self.scan_backticks(position)
        raise ShellSyntaxError("unterminated double quote")

    def scan_backticks(self, position: int) -> int:
        return self.scan_to(position, "`", "unterminated backquote")

    def scan_to(self, position: int, closing: str, error: str) -> int:
        """From an opening character to just after the unescaped ``closing``."""
        text = self.text
        position += 1
        while position < len(text):
            char = text[position]
            if char == "\\":
                position += 2
            elif char == closing:
                return position + 1
            else:
                position += 1
        raise ShellSyntaxError(error)

    def scan_dollar(self, position: int) -> int:
        """The end of the expansion at ``position`` (a ``$``), or position+1 if none."""
        text = self.text
        following = text[position + 1: position + 2]
        if following == "(":
            return self.scan_parens(position + 1)
        if following == "{":
            return self.scan_braces(position + 1)
        if following == "'":
            return self.scan_to(position + 1, "'", "unterminated $'")
        if following == '"':
            return self.scan_double_quoted(position + 1)
        name = _NAME.match(text, position + 1)
        if name:
            return name.end()
        if following and (following.isdigit() or following in "@*#?$!-"):
            return position + 2
        return position + 1

    def scan_parens(self, position: int) -> int:
        """From a ``(`` to just after its matching ``)``, skipping quoted text."""
        return self.scan_nested(position, "(", ")")

    def scan_braces(self, position: int) -> int:
        return self.scan_nested(position, "{", "}")

    def scan_nested(self, position: int, opening: str, closing: str) -> int:
        self.enter()
        try:
            return self._scan_nested(position, opening, closing)
        finally:
            self.depth -= 1

    def _scan_nested(self, position: int, opening: str, closing: str) -> int:
        text = self.text
        depth = 0
        while position < len(text):
            char = text[position]
            if char == opening:
                depth += 1
                if depth > 1:
                    self.enter(depth)
                    self.depth -= 1
            elif char == closing:
                depth -= 1
                if depth == 0:
                    return position + 1
            elif char == "\\":
                position += 1
            elif char == "'":
                position = self.closing(position, "'") - 1
            elif char == '"':
                position = self.scan_double_quoted(position) - 1
            elif char == "`":
                position = self.scan_backticks(position) - 1
            elif char == "$" and text.startswith(("${", "$("), position) and opening != text[position + 1]:
                position = self.scan_dollar(position) - 1
            position += 1
        raise ShellSyntaxError(f"no matching {closing!r}")

    # ------------------------------------------------------------ nodes

    def space(self, token: _Token) -> Whitespace:
        return Whitespace(self.source.parts(token.space, token.start, edges=True))

    def take(self, token: _Token) -> _Token:
        self.pos = token.end
        return token

    def operator(self, token: _Token) -> Operator:
        self.take(token)
        return Operator(self.space(token), self.source.parts(token.start, token.end))

    def word(self, token: _Token) -> Word:
        self.take(token)
        return Word(self.space(token), self.word_parts(token.start, token.end))

    def word_parts(self, start: int, end: int) -> tuple:
        """The parts of a word: literal runs, quotes and expansions, with the
        continuations between or inside them."""
        text = self.text
        segments: list[tuple[int, int, type | None]] = []
        literal = position = start
        while position < end:
            run = _LITERAL_RUN.match(text, position, end)  # most of a word: skipped at once
            if run:
                position = run.end()
                continue
            char = text[position]
            kind: type | None = None
            if char == "\\":
                position = min(position + 2, end)
                continue
            if char == "'":
                kind, node_end = SingleQuoted, self.closing(position, "'")
            elif char == '"':
                kind, node_end = DoubleQuoted, self.scan_double_quoted(position)
            elif char == "$":
                kind, node_end = Expansion, self.scan_dollar(position)
            elif char == "`":
                kind, node_end = Expansion, self.scan_backticks(position)
            elif char == "(":
                kind, node_end = Expansion, self.scan_parens(position)
            elif char in "<>" and text.startswith("(", position + 1):
                kind, node_end = Expansion, self.scan_parens(position + 1)
            if kind is None or node_end == position + 1 and char == "$":
                position += 1
                continue
            if position > literal:
                segments.append((literal, position, None))
            segments.append((position, node_end, kind))
            position = literal = node_end
        if end > literal:
            segments.append((literal, end, None))
        return self.assemble(segments)

    def double_quoted_parts(self, start: int, end: int) -> tuple:
        text = self.text
        segments: list[tuple[int, int, type | None]] = []
        literal = start
        position = start + 1
        while position < end - 1:
            char = text[position]
            if char == "\\":
                position += 2
                continue
            if char in "$`":
                node_end = self.scan_dollar(position) if char == "$" else self.scan_backticks(position)
                if node_end > position + 1:
                    if position > literal:
                        segments.append((literal, position, None))
                    segments.append((position, node_end, Expansion))
                    position = literal = node_end
                    continue
            position += 1
        segments.append((literal, end, None))
        return self.assemble(segments)

    def assemble(self, segments: list[tuple[int, int, type | None]]) -> tuple:
        """Nodes for the segments, with the continuations at their seams."""
        source = self.source
        parts: list = []
        for index, (start, end, kind) in enumerate(segments):
            if index:
                parts.extend(source.at(start))
            if kind is None:
                parts.extend(source.parts(start, end))
            elif kind is DoubleQuoted:
                parts.append(DoubleQuoted(self.double_quoted_parts(start, end)))
            else:
                parts.append(kind(source.parts(start, end)))
        return _merged(parts)

    def redirect(self, token: _Token) -> Redirect:
        operator = self.operator(token)
        target = None
        following = self.peek()
        if following.kind == "word":
            target = self.word(following)
        elif token.value.lstrip("0123456789") not in ("<&", ">&"):
            raise ShellSyntaxError("redirection without a target")
        return Redirect(operator.whitespace_before, operator.parts, target)

    def comment(self, token: _Token) -> Comment:
        self.take(token)
        return Comment(self.space(token), self.source.parts(token.start, token.end))

    # ------------------------------------------------------------ grammar

    def command_list(self, terminators: frozenset[str], closers: frozenset[str]) -> CommandList:
        parts: list = []
        while True:
            token = self.peek()
            if token.kind == "eof":
                break
            if token.kind == "comment":
                parts.append(self.comment(token))
                continue
            if token.kind == "op" and token.value == "\n":
                parts.append(self.operator(token))
                continue
            if token.kind == "word" and token.value in terminators:
                break
            if token.kind == "op" and token.value in closers:
                break
            parts.append(self.pipeline())
            token = self.peek()
            if token.kind == "op" and token.value in _LIST_OPERATORS:
                parts.append(self.operator(token))
                continue
            if token.kind == "comment":
                continue
            break
        return CommandList(tuple(parts))

    def pipeline(self) -> Pipeline:
        parts: list = []
        token = self.peek()
        if token.kind == "word" and token.value == "!":
            parts.append(self.operator(token))
        parts.append(self.command())
        while True:
            token = self.peek()
            if token.kind != "op" or token.value not in ("|", "|&"):
                break
            parts.append(self.operator(token))
            parts.extend(self.newlines())
            parts.append(self.command())
        return Pipeline(tuple(parts))

    def newlines(self) -> list[Operator]:
        out = []
        while True:
            token = self.peek()
            if token.kind != "op" or token.value != "\n":
                return out
            out.append(self.operator(token))

    def command(self) -> Node:
        self.enter()
        try:
            return self.nested_command()
        finally:
            self.depth -= 1

    def nested_command(self) -> Node:
        token = self.peek()
        if token.kind == "op" and token.value == "(":
            if self.is_arithmetic(token.start):
                return self.arithmetic(token)
            opening = self.operator(token)
            body = self.command_list(frozenset(), frozenset(")"))
            return self.compound("subshell", [opening, body, self.expect_op(")")])
        if token.kind == "word":
            keyword = token.value
            if keyword == "{":
                opening = self.word(token)
                body = self.command_list(frozenset("}"), frozenset())
                return self.compound("group", [opening, body, self.expect_word("}")])
            if keyword == "if":
                return self.if_clause()
            if keyword in ("while", "until"):
                parts = [self.word(token), self.command_list(frozenset({"do"}), frozenset())]
                return self.compound(keyword, parts + self.do_group())
            if keyword in ("for", "select"):
                return self.for_clause(keyword)
            if keyword == "case":
                return self.case_clause()
            if keyword == "function":
                return self.function(named=True)
            if keyword == "[[":
                return self.test()
            if self.is_function_definition(token):
                return self.function(named=False)
        if token.kind in ("word", "redirect"):
            return self.simple_command()
        raise ShellSyntaxError(f"unexpected {token.value!r}")

    def simple_command(self) -> SimpleCommand:
        parts: list = []
        while True:
            token = self.peek()
            if token.kind == "word":
                parts.append(self.word(token))
            elif token.kind == "redirect":
                parts.append(self.redirect(token))
            else:
                break
        return SimpleCommand(tuple(parts))

    def compound(self, kind: str, parts: list) -> Compound:
        while True:
            token = self.peek()
            if token.kind != "redirect":
                return Compound(kind, tuple(parts))
            parts.append(self.redirect(token))

    def expect_word(self, value: str) -> Word:
        token = self.peek()
        if token.kind != "word" or token.value != value:
            raise ShellSyntaxError(f"expected {value!r}")
        return self.word(token)

    def expect_op(self, value: str) -> Operator:
        token = self.peek()
        if token.kind != "op" or token.value != value:
            raise ShellSyntaxError(f"expected {value!r}")
        return self.operator(token)

    def do_group(self) -> list:
        do = self.expect_word("do")
        body = self.command_list(frozenset({"done"}), frozenset())
        return [do, body, self.expect_word("done")]

    def if_clause(self) -> Compound:
        parts: list = [self.word(self.peek())]
        parts.append(self.command_list(frozenset({"then"}), frozenset()))
        parts.append(self.expect_word("then"))
        ends = frozenset({"elif", "else", "fi"})
        parts.append(self.command_list(ends, frozenset()))
        while True:
            token = self.peek()
            if token.kind == "word" and token.value == "elif":
                parts.append(self.word(token))
                parts.append(self.command_list(frozenset({"then"}), frozenset()))
                parts.append(self.expect_word("then"))
                parts.append(self.command_list(ends, frozenset()))
            elif token.kind == "word" and token.value == "else":
                parts.append(self.word(token))
                parts.append(self.command_list(frozenset({"fi"}), frozenset()))
            else:
                parts.append(self.expect_word("fi"))
                return self.compound("if", parts)

    def for_clause(self, keyword: str) -> Node:
        token = self.peek()
        if self.text.startswith("((", _BLANKS.match(self.text, token.end).end()):
            return self.opaque_until(token, "done")
        parts: list = [self.word(token)]
        name = self.peek()
        if name.kind != "word":
            raise ShellSyntaxError("for without a name")
        parts.append(self.word(name))
        parts.extend(self.newlines())
        token = self.peek()
        if token.kind == "word" and token.value == "in":
            parts.append(self.word(token))
            while True:
                token = self.peek()
                if token.kind != "word":
                    break
                parts.append(self.word(token))
        token = self.peek()
        if token.kind == "op" and token.value in (";", "\n"):
            parts.append(self.operator(token))
        parts.extend(self.newlines())
        return self.compound(keyword, parts + self.do_group())

    def case_clause(self) -> Compound:
        parts: list = [self.word(self.peek())]
        subject = self.peek()
        if subject.kind != "word":
            raise ShellSyntaxError("case without a word")
        parts.append(self.word(subject))
        parts.extend(self.newlines())
        parts.append(self.expect_word("in"))
        while True:
            parts.extend(self.newlines())
            token = self.peek()
            if token.kind == "word" and token.value == "esac":
                parts.append(self.word(token))
                return self.compound("case", parts)
            if token.kind == "op" and token.value == "(":
                parts.append(self.operator(token))
            while True:  # patterns
                token = self.peek()
                if token.kind != "word":
                    raise ShellSyntaxError("case pattern expected")
                parts.append(self.word(token))
                token = self.peek()
                if token.kind == "op" and token.value == "|":
                    parts.append(self.operator(token))
                    continue
                break
            parts.append(self.expect_op(")"))
            parts.append(self.command_list(frozenset({"esac"}), _CASE_ENDS))
            token = self.peek()
            if token.kind == "op" and token.value in _CASE_ENDS:
                parts.append(self.operator(token))

    def is_function_definition(self, token: _Token) -> bool:
        rest = _BLANKS.match(self.text, token.end).end()
        return self.text.startswith("(", rest) and self.text.startswith(
            ")", _BLANKS.match(self.text, rest + 1).end()
        )

    def function(self, *, named: bool) -> Compound:
        parts: list = []
        if named:
            parts.append(self.word(self.peek()))
        name = self.peek()
        if name.kind != "word":
            raise ShellSyntaxError("function without a name")
        parts.append(self.word(name))
        token = self.peek()
        if token.kind == "op" and token.value == "(":
            parts.append(self.operator(token))
            parts.append(self.expect_op(")"))
        parts.extend(self.newlines())
        parts.append(self.command())
        return self.compound("function", parts)

    def test(self) -> Compound:
        """``[[ ... ]]``: inside, ``&&``, ``<`` and parentheses are words."""
        parts: list = []
        while True:
            token = self.peek()
            if token.kind == "eof":
                raise ShellSyntaxError("unterminated [[")
            if token.kind == "word":
                parts.append(self.word(token))
                if token.value == "]]":
                    return self.compound("test", parts)
            else:
                self.take(token)
                parts.append(Word(self.space(token), self.source.parts(token.start, token.end)))

    def is_arithmetic(self, start: int) -> bool:
        """``(( ... ))`` is arithmetic; ``( (...) ... )`` is two subshells."""
        if not self.text.startswith("((", start):
            return False
        try:
            return self.scan_parens(start + 1) == self.scan_parens(start) - 1
        except ShellSyntaxError:
            return True

    def arithmetic(self, token: _Token) -> Opaque:
        end = self.scan_parens(token.start)
        self.pos = end
        return Opaque(self.space(token), self.source.parts(token.start, end))

    def opaque_until(self, token: _Token, keyword: str) -> Opaque:
        """A C-style ``for ((;;))`` loop, up to its ``done``."""
        match = re.compile(r"(?:^|[\s;&|])" + keyword + r"(?=$|[\s;&|)])").search(self.text, token.end)
        if not match:
            raise ShellSyntaxError(f"no {keyword!r}")
        self.pos = match.end()
        return Opaque(self.space(token), self.source.parts(token.start, match.end()))


def _merged(parts: list) -> tuple:
    """Adjacent strings joined, so that equal words have equal parts."""
    out: list = []
    for part in parts:
        if isinstance(part, str):
            if not part:
                continue
            if out and isinstance(out[-1], str):
                out[-1] += part
                continue
        out.append(part)
    return tuple(out)
