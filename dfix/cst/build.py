"""From text to the typed tree: the only module that sees Lark.

It loads ``grammar/dockerfile.lark`` once per escape character (Lark caches
the parse tables on disk, so start-up does not rebuild them), runs Lark's
LALR tables with a lexer of its own over the grammar's terminals (each
compiled once, when first needed; Lark's contextual lexer would compile a
large regex per parser state) so that heredoc bodies can be fed in after the
line that opens them, and turns Lark's parse tree into the nodes of
:mod:`dfix.cst.nodes`. After a round of fixes, ``reparse`` reads again only
the lines the fixes changed.
"""

from __future__ import annotations

import bisect
import functools
import json
import re
import sys
import threading
from pathlib import Path
from typing import Iterator, Sequence

from lark import Lark, Token, Tree
from lark.parsers.lalr_analysis import Shift
from lark.parsers.lalr_parser_state import ParseConf

from dfix import collector
from dfix.cst import nodes as n
from dfix.cst.buildkit import HeredocOpener, heredoc_end_matches, heredoc_openers
from dfix.errors import ParseError
from dfix.images import UNKNOWN, WINDOWS, family_of_image_name
from dfix.shell.commands import POSIX_SHELLS
from dfix.shell.nodes import Script
from dfix.shell.parse import parse_script

# Real Dockerfiles are a few kilobytes (the largest of the 3,000 corpus files:
# 25 KB); far larger text is something else. dfix takes linear time, but
# about 0.1 MB/s to check and less to fix (bench/pathological.py): this limit
# keeps the worst shapes to seconds and a few hundred MB, not minutes and GBs.
MAX_SIZE = 256 * 1024

_PACKAGE = Path(__file__).resolve().parent.parent
# A wheel carries the grammar inside the package; a checkout has it beside it.
GRAMMAR_DIR = next(
    (path for path in (_PACKAGE / "grammar", _PACKAGE.parent / "grammar") if path.is_dir()),
    _PACKAGE / "grammar",
)

_LINE_END = re.compile(r"\r*\n\Z")
_ASCII_BLANKS = " \t\v\f\r"
_ASCII_BLANK = re.compile("[ \t\v\f\r]")
# a quick test before BuildKit's word splitting: "<<" and then a name
_MAYBE_HEREDOC = re.compile(r"<<-?[^<\s]")
_HEREDOC_INSTRUCTIONS = frozenset(("RUN", "COPY", "ADD"))
# busybox runs its sh applet as `SHELL ["busybox", "sh", "-c"]`
_POSIX_SHELLS = POSIX_SHELLS | {"busybox"}

# What the user is told a terminal is, in "expected ..." messages.
_DESCRIPTIONS = {
    "KV_PAIR": "a NAME=value pair",
    "NEWLINE": "the end of the line",
    "$END": "the end of the file",
    "HEREDOC_END": "the end of the heredoc",
}


class Grammar:
    """The compiled grammar for one escape character."""

    def __init__(self, escape: str) -> None:
        text = (GRAMMAR_DIR / "dockerfile.lark").read_text(encoding="utf-8")
        if escape == "`":
            text += "\n" + (GRAMMAR_DIR / "backtick.lark").read_text(encoding="utf-8")
        self.escape = escape
        self.lark = Lark(
            text,
            parser="lalr",
            lexer="contextual",
            start=["start", "json_items", "continuation", "lines"],
            keep_all_tokens=True,
            maybe_placeholders=False,
            cache=True,
        )
        self.continuation = re.compile(self.lark.get_terminal("CONT").pattern.to_regexp())
        self.retype = {"KEYWORD": self._keyword_type, "KV_WORD": self._pair_type}
        self._terminals = {terminal.name: terminal for terminal in self.lark.terminals}
        self._patterns: dict[str, re.Pattern[str]] = {}
        #: the terminals each parser state accepts (see ``lexer_for``)
        self.lexers: dict[int, list[tuple[str, re.Pattern[str]]]] = {}
        self._tables: dict[str, ParseConf] = {}

    def tables(self, start: str) -> ParseConf:
        """Lark's LALR tables and tree callbacks for one start symbol."""
        found = self._tables.get(start)
        if found is None:
            found = self._tables[start] = self.lark.parse_interactive(start=start).parser_state.parse_conf
        return found

    def lexer_for(self, state: int, actions: dict) -> list[tuple[str, re.Pattern[str]]]:
        """The terminals a parser state accepts, each compiled once, in the
        order Lark's lexer would try them (priority, then longest)."""
        found = self.lexers.get(state)
        if found is None:
            terminals = sorted(
                (self._terminals[name] for name in actions if name in self._terminals),
                key=lambda t: (-t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name),
            )
            found = self.lexers[state] = [(t.name, self._pattern(t.name)) for t in terminals]
        return found

    def _pattern(self, name: str) -> re.Pattern[str]:
        pattern = self._patterns.get(name)
        if pattern is None:
            regexp = self._terminals[name].pattern.to_regexp()
            if name in _POSSESSIVE:
                regexp = _possessive(regexp, self._terminals["TEXT"].pattern.to_regexp())
            pattern = self._patterns[name] = re.compile(regexp)
        return pattern

    def _keyword_type(self, value: str) -> str:
        """KEYWORD tokens of known instructions get the instruction's own type."""
        keyword = self.logical(value).upper()
        return keyword if keyword in n.INSTRUCTION_CLASSES else "KEYWORD"

    def _pair_type(self, value: str) -> str:
        """ENV, LABEL and ARG words with an "=" are KEY=value pairs."""
        return "KV_PAIR" if "=" in self.logical(value) else "KV_WORD"

    def logical(self, text: str) -> str:
        """A token's text as BuildKit sees it: continuations removed.

        A token never ends in a continuation (only END_WS does, and it is not
        passed here), so a sentinel keeps an escape character at its end from
        looking like one at the end of the file.
        """
        if self.escape not in text:
            return text
        return self.continuation.sub("", text + "\0")[:-1]

    def parts(self, text: str, start: int, end: int) -> tuple[n.Part, ...]:
        """``text[start:end]`` split into strings and Continuation nodes; the
        continuations are looked for in the whole text, so that what stands
        around the slice decides, as it does for the lexer."""
        if self.escape not in text[start:end]:
            return (text[start:end],) if end > start else ()
        out: list[n.Part] = []
        last = start
        for match in self.continuation.finditer(text, start):
            if match.start() >= end:
                break
            if match.start() > last:
                out.append(text[last:match.start()])
            out.append(_continuation(match.group()))
            last = match.end()
        if last < end:
            out.append(text[last:end])
        return tuple(out)


# TEXT and LEGACY_VALUE end in `((blanks)* CHAR)*`: to the last non-blank
# character of the logical line. Python's regex engine keeps a backtracking
# point per character for that nested repeat (about 200 bytes a character of
# memory, and slow); made possessive (Python 3.11.5+) it keeps none. It matches
# the same: a run of blanks ends where a CHAR could start, or at the line end,
# so giving characters back never lets a CHAR follow.
_POSSESSIVE = frozenset(("TEXT", "LEGACY_VALUE"))


def _possessive(regexp: str, text: str) -> str:
    """``regexp`` with its trailing `(?:(?:blank)*CHAR)*` made possessive;
    ``text`` is TEXT's regexp, `CHAR(?:(?:blank)*CHAR)*`, that names CHAR."""
    # possessive repeats came in 3.11, and matched wrongly before 3.11.5 (CPython gh-106052)
    if sys.version_info < (3, 11, 5):
        return regexp
    for length in range(1, len(text) // 2):
        char, rest = text[:length], text[length:]
        if not (rest.startswith("(?:(?:") and rest.endswith(")*" + char + ")*")):
            continue
        blanks = rest[len("(?:"):-len("*" + char + ")*")]
        tail = "(?:" + blanks + "*" + char + ")*"
        if regexp.endswith(tail):
            return regexp[: -len(tail)] + "(?:" + blanks + "*+" + char + ")*+"
    return regexp


@functools.lru_cache(maxsize=None)
def grammar(escape: str) -> Grammar:
    return Grammar(escape)


# ---------------------------------------------------------------- the driver


def parse(text: str, *, max_size: int = MAX_SIZE) -> n.Dockerfile:
    """Parse a Dockerfile; raise ParseError where BuildKit would refuse it,
    or when it is longer than ``max_size`` characters."""
    if len(text) > max_size:
        raise ParseError(f"too large for a Dockerfile ({len(text) // 1024:,} KB; dfix reads up to {max_size // 1024} KB)")
    escape = _escape_of(text)
    rules = grammar(escape)
    with collector.paused():
        builder = _Builder(rules, text)
        tree = builder.file(_parse_tree(rules, text))
        tree.__dict__["code"] = text  # what printing it gives: dfix's round trip, checked on every corpus file
        tree.__dict__[_LAYOUT] = _Layout(builder.starts, builder.lines, builder.states)
        return tree


class _Layout:
    """Where each line of a parsed tree's body starts (offset and line
    number) and the parser's state there: what ``reparse`` needs to read
    only some lines again."""

    __slots__ = ("starts", "lines", "states")

    def __init__(self, starts: list[int], lines: list[int], states: list[tuple]) -> None:
        self.starts, self.lines, self.states = starts, lines, states


_LAYOUT = "_layout"


def reparse(
    old: n.Dockerfile, text: str, changes: Sequence[tuple[int, int, int]], *, max_size: int = MAX_SIZE,
) -> n.Dockerfile:
    """``parse(text)``, where ``text`` is ``old``'s text with some ranges
    replaced, the rest unchanged: ``changes`` are (start, end, new length),
    [start, end) offsets in the old text, in order and disjoint.

    Only the lines a change touches are read again, each run of them up to
    an unchanged instruction after it; the others are kept (moved to their
    new line numbers). Whenever that could differ from reading the whole
    text (a change in the first line, one that does not parse, or one that
    leaves the parser in another state for the lines after it: a new FROM,
    SHELL or global ARG), the whole text is read. Tests check it against
    ``parse`` on every round of fixes of the corpus."""
    layout = old.__dict__.get(_LAYOUT)
    if layout is None or len(text) > max_size or not changes:
        return parse(text, max_size=max_size)
    old_text = old.code
    regions = _regions(old, layout, text, changes)
    if regions is None:
        return parse(text, max_size=max_size)
    starts, lines, states, body = layout.starts, layout.lines, layout.states, old.body
    rules = grammar(old.escape)
    with collector.paused():
        builder = _Builder(rules, text)
        kept = [line for k, line in enumerate(body) if not any(first <= k <= last for first, last, _ in regions)]
        builder.scripts.update(id(script) for line in kept for script in _scripts_of(line))
        new_body: list[n.Line] = []
        new_starts: list[int] = []
        new_lines: list[int] = []
        new_states: list[tuple] = []
        done = 0  # the old lines placed
        moved = shift = 0  # how far the text and the line numbers after the last region moved
        for first, last, growth in regions:
            new_body.extend(_moved(line, shift) for line in body[done:first])
            new_starts.extend(offset + moved for offset in starts[done:first])
            new_lines.extend(number + shift for number in lines[done:first])
            new_states.extend(states[done:first])
            old_stop = starts[last + 1] if last + 1 < len(starts) else len(old_text)
            region_start, region_end = starts[first] + moved, old_stop + moved + growth
            builder.shell, builder.windows, builder.stage_started, builder.global_args = states[first]
            builder.starts, builder.lines, builder.states = new_starts, new_lines, new_states
            try:
                region = _parse_tree(rules, text, "lines", region_start, region_end, lines[first] + shift)
                new_body.extend(builder.line(child) for child in region.children)
            except ParseError:
                return parse(text, max_size=max_size)
            if last + 1 < len(body) and builder.state() != states[last + 1]:
                return parse(text, max_size=max_size)
            shift += text.count("\n", region_start, region_end) - old_text.count("\n", starts[first], old_stop)
            moved += growth
            done = last + 1
        new_body.extend(_moved(line, shift) for line in body[done:])
        new_starts.extend(offset + moved for offset in starts[done:])
        new_lines.extend(number + shift for number in lines[done:])
        new_states.extend(states[done:])
        if not any(isinstance(line, n.Instruction) for line in new_body):
            return parse(text, max_size=max_size)
        tree = n.Dockerfile(old.bom, old.directives, tuple(new_body))
        tree.__dict__["code"] = text
        tree.__dict__[_LAYOUT] = _Layout(new_starts, new_lines, new_states)
        return tree


def _regions(
    old: n.Dockerfile, layout: _Layout, text: str, changes: Sequence[tuple[int, int, int]],
) -> list[tuple[int, int, int]] | None:
    """The runs of old lines to read again, (first, last, how much longer
    their text got), in order; None when the whole text must be read: a
    change in the first line, or ``changes`` that do not give ``text``."""
    old_text, starts, body = old.code, layout.starts, old.body
    regions: list[list[int]] = []
    old_at = new_at = 0  # the text before them is the same
    for start, end, length in changes:
        if not old_at <= start <= end <= len(old_text) or old_text[old_at:start] != text[new_at:new_at + start - old_at]:
            return None
        new_at += start - old_at + length
        old_at = end
        # the line the change starts in; not the first (the parser directives end there)
        first = bisect.bisect_right(starts, start) - 1
        if first < 1:
            return None
        # up to an unchanged instruction: after an escape at the end of a changed
        # line, BuildKit skips blank and comment lines and joins the next one
        last = bisect.bisect_right(starts, end) - 1
        while last < len(body) and (starts[last] < end or not isinstance(body[last], n.Instruction)):
            last += 1
        last = min(last, len(body) - 1)
        growth = length - (end - start)
        if regions and first <= regions[-1][1]:
            regions[-1][1] = max(regions[-1][1], last)
            regions[-1][2] += growth
        else:
            regions.append([first, last, growth])
    if old_text[old_at:] != text[new_at:]:
        return None
    return [(first, last, growth) for first, last, growth in regions]


def _moved(line: n.Line, shift: int) -> n.Line:
    if not shift or not isinstance(line, n.Instruction):
        return line
    return line.with_changes(start_line=line.start_line + shift, end_line=line.end_line + shift)


def _scripts_of(line: n.Line) -> Iterator[Script]:
    if isinstance(line, n.Instruction):
        body = getattr(n.unwrapped(line), "body", None)
        if isinstance(body, n.ShellForm):
            yield body.script


def _escape_of(text: str) -> str:
    """The escape character the directives at the top of the text choose."""
    header = grammar("\\").lark
    pattern = re.compile(
        "".join(
            "(" + header.get_terminal(name).pattern.to_regexp() + ")"
            for name in ("DIRECTIVE_HASH", "DIRECTIVE_NAME", "DIRECTIVE_EQUALS", "DIRECTIVE_VALUE")
        )
    )
    escape = "\\"
    seen: set[str] = set()
    for number, line in enumerate(text.removeprefix("\ufeff").split("\n"), start=1):
        match = pattern.match(line.lstrip(" \t\v\f\r\xa0\x85"))
        if not match:
            break
        key = match.group(2).lower()
        if key in seen:
            raise ParseError(f"only one {key} parser directive can be used", number, 1)
        seen.add(key)
        if key == "escape":
            escape = match.group(4)
            if escape not in ("\\", "`"):
                raise ParseError(f"invalid escape token {escape!r} does not match ` or \\", number, 1)
    return escape


def _parse_tree(
    rules: Grammar, text: str, start: str = "start", position: int = 0, end: int | None = None, line: int = 1,
) -> Tree:
    """Lark's LALR parser, fed by a lexer that tries the terminals each
    parser state accepts (the contextual lexer's rule), and by the heredoc
    bodies after the line that opens them; ``text[position:end]`` only, a
    range that starts a line (numbered ``line``) when given."""
    machine = _Machine(rules.tables(start))
    by_state = rules.lexers
    end = len(text) if end is None else end
    line_start = position
    tokens: list[Token] = []  # the current line's
    last: Token | None = None
    new_token = Token._future_new  # Token(...) without its check of deprecated arguments
    while position < end:
        state = machine.state_stack[-1]
        lexer = by_state.get(state) or rules.lexer_for(state, machine.states[state])
        for name, pattern in lexer:
            match = pattern.match(text, position, end)
            if match:
                break
        else:
            raise _unexpected(text, position, line, position - line_start + 1, lexer)
        value = match.group()
        kind = rules.retype[name](value) if name in rules.retype else name
        last = new_token(kind, value, position, line, position - line_start + 1)
        machine.feed(last)
        position = match.end()
        if "\n" in value:
            line += value.count("\n")
            line_start = last.start_pos + value.rindex("\n") + 1
        if kind != "EOL":
            tokens.append(last)
            continue
        openers = _heredocs_opened(rules, tokens) if tokens else []
        if not openers:
            tokens = []
            continue
        first_line = tokens[0].line
        tokens = []
        for heredoc in _heredoc_tokens(text, position, line, openers, first_line, end):
            machine.feed(heredoc)
            position += len(heredoc.value)
            line += heredoc.value.count("\n")
            line_start = position
    if _heredocs_opened(rules, tokens):
        raise ParseError("unterminated heredoc", tokens[0].line, 1)
    return machine.end(last)


class _Machine:
    """Lark's LALR parse tables, run as Lark's ``ParserState.feed_token``
    runs them (Lark's interactive parser adds layers of calls per token)."""

    __slots__ = ("states", "callbacks", "end_state", "state_stack", "value_stack")

    def __init__(self, conf: ParseConf) -> None:
        self.states, self.callbacks, self.end_state = conf.states, conf.callbacks, conf.end_state
        self.state_stack = [conf.start_state]
        self.value_stack: list = []

    def feed(self, token: Token, is_end: bool = False) -> object:
        states, state_stack, value_stack, callbacks = self.states, self.state_stack, self.value_stack, self.callbacks
        while True:
            actions = states[state_stack[-1]]
            found = actions.get(token.type)
            if found is None:
                raise _unexpected_token(token, actions)
            action, arg = found
            if action is Shift:
                state_stack.append(arg)
                value_stack.append(callbacks[token.type](token) if token.type in callbacks else token)
                return None
            size = len(arg.expansion)
            if size:
                children = value_stack[-size:]
                del state_stack[-size:]
                del value_stack[-size:]
            else:
                children = []
            state_stack.append(states[state_stack[-1]][arg.origin.name][1])
            value_stack.append(callbacks[arg](children))
            if is_end and state_stack[-1] == self.end_state:
                return value_stack[-1]

    def end(self, last: Token | None) -> Tree:
        token = Token.new_borrow_pos("$END", "", last) if last is not None else Token("$END", "", 0, 1, 1)
        return self.feed(token, is_end=True)  # type: ignore[return-value]


def _unexpected_token(token: Token, actions: dict) -> ParseError:
    found = "the end of the file" if token.type == "$END" else repr(str(token))
    wanted = sorted({_DESCRIPTIONS.get(name, name.lower().replace("_", " ")) for name in actions if name.isupper()})
    message = f"unexpected {found}" + ("; expected " + " or ".join(wanted) if wanted else "")
    return ParseError(message, getattr(token, "line", 1) or 1, getattr(token, "column", 1) or 1)


def _unexpected(text: str, position: int, line: int, column: int, lexer: list) -> ParseError:
    found = repr(text[position])
    wanted = sorted({_DESCRIPTIONS.get(name, name.lower().replace("_", " ")) for name, _ in lexer})
    return ParseError(f"unexpected {found}" + ("; expected " + " or ".join(wanted) if wanted else ""), line, column)


def _heredocs_opened(rules: Grammar, line: Sequence[Token]) -> list[HeredocOpener]:
    """The heredocs a RUN, COPY or ADD line (also after ONBUILD) opens."""
    tokens = [token for token in line if token.type not in ("WS", "BOM")]
    if not tokens:
        return []
    index = 0
    if tokens[0].type == "ONBUILD":
        index = next((i for i, t in enumerate(tokens) if i and t.type in n.INSTRUCTION_CLASSES), 0)
    if tokens[index].type not in _HEREDOC_INSTRUCTIONS:
        return []
    if any(token.type == "JSON_ARRAY" for token in line):
        return []
    logical = "".join(rules.logical(token.value) for token in line[line.index(tokens[0]):])
    if not _MAYBE_HEREDOC.search(logical):
        return []
    return heredoc_openers(logical)


def _heredoc_tokens(
    text: str, position: int, line_number: int, openers: list[HeredocOpener], start_line: int, stop: int,
) -> Iterator[Token]:
    for opener in openers:
        body_start = position
        while True:
            if position >= stop:
                raise ParseError("unterminated heredoc", start_line, 1)
            end = text.find("\n", position, stop)
            end = stop if end < 0 else end + 1
            line = text[position:end]
            if heredoc_end_matches(line, opener):
                break
            position = end
        if position > body_start:
            body = text[body_start:position]
            yield Token("HEREDOC_BODY", body, body_start, line_number, 1)
            line_number += body.count("\n")
        yield Token("HEREDOC_END", line, position, line_number, 1)
        line_number += line.count("\n")
        position = end


# ---------------------------------------------------------------- the tree


def _continuation(text: str) -> n.Continuation:
    """A Continuation node from the text of a CONT token."""
    first_end = text.find("\n") + 1 or len(text)
    head = text[:first_end]
    newline_at = len(head.rstrip("\r\n"))
    skipped: list[n.Comment | n.BlankLine] = []
    position = first_end
    while position < len(text):
        end = text.find("\n", position) + 1 or len(text)
        skipped.append(_skipped_line(text[position:end]))
        position = end
    return n.Continuation(head[0], head[1:newline_at], head[newline_at:], tuple(skipped))


def _skipped_line(line: str) -> n.Comment | n.BlankLine:
    body = line.rstrip("\r\n")
    newline = line[len(body):]
    stripped = body.lstrip(" \t\v\f\r")
    if stripped.startswith("#"):
        return n.Comment(body[: len(body) - len(stripped)], stripped, newline)
    return n.BlankLine(n.Whitespace.of(body), newline)


def _children(tree: Tree) -> list[Token | Tree]:
    """The tokens and the sub-trees that stand for one element, in order."""
    out: list[Token | Tree] = []
    for child in tree.children:
        if isinstance(child, Tree) and child.data in ("flags", "command", "paths", "pairs", "arg_item"):
            out.extend(_children(child))
        else:
            out.append(child)
    return out


class _Elements:
    """A cursor over the elements of an instruction; each element gets the
    whitespace that stood before it."""

    def __init__(self, builder: _Builder, items: list[Token | Tree]) -> None:
        self.builder = builder
        self.items = items
        self.index = 0

    def peek(self, ahead: int = 0) -> str | None:
        if self.index + ahead >= len(self.items):
            return None
        item = self.items[self.index + ahead]
        return item.type if isinstance(item, Token) else item.data

    def next(self) -> Token | Tree:
        item = self.items[self.index]
        self.index += 1
        return item

    def space(self) -> n.Whitespace:
        if self.peek() in ("WS", "SP", "JSON_WS"):
            return n.Whitespace(self.builder.parts(self.next()))
        return n.Whitespace()


class _ScriptCache:
    """The shell scripts parsed last, by their text.

    A round of fixes changes a few instructions, then those lines are
    read again (or the whole file, see ``reparse``): the RUNs the fixes did
    not change get the same script objects back, and with them what the rules learned about them (kept on the
    script: its nodes, its commands). Scripts are immutable, so sharing them
    between trees is safe. The newest are kept, up to ``budget`` characters
    of text in all (a script's nodes take some 50 times its text)."""

    def __init__(self, budget: int = 256 * 1024) -> None:
        self.budget = budget
        self.size = 0
        self.found: dict[tuple[str, bool, str], Script] = {}
        self.lock = threading.Lock()  # the language server parses on several threads

    def get(self, key: tuple[str, bool, str]) -> Script | None:
        return self.found.get(key)

    def put(self, key: tuple[str, bool, str], script: Script) -> None:
        if len(key[2]) > self.budget // 4:
            return
        with self.lock:
            if key in self.found:
                self.size -= len(key[2])
                del self.found[key]
            self.found[key] = script
            self.size += len(key[2])
            while self.size > self.budget:
                oldest = next(iter(self.found))
                self.size -= len(oldest[2])
                del self.found[oldest]


_scripts = _ScriptCache()


class _Builder:
    def __init__(self, rules: Grammar, text: str) -> None:
        self.rules = rules
        self.text = text
        self.offset = 0  # where the text of a sub-parse starts in the file
        self.shell: list[str] | None = None  # the SHELL of the current stage
        self.windows = False
        self.global_args: dict[str, str] = {}  # ARG defaults before the first FROM
        self.stage_started = False
        self.scripts: set[int] = set()  # the ids of the scripts in this tree
        # for each line of the body: its offset, its line number and the state before it (see _Layout)
        self.starts: list[int] = []
        self.lines: list[int] = []
        self.states: list[tuple] = []

    def parts(self, token: Token) -> tuple[n.Part, ...]:
        start = self.offset + token.start_pos
        return self.rules.parts(self.text, start, start + len(token.value))

    # -- the file --

    def file(self, tree: Tree) -> n.Dockerfile:
        bom = ""
        directives: list[n.Directive] = []
        body: list[n.Line] = []
        for child in tree.children:
            if isinstance(child, Token):
                bom = str(child)
            elif child.data in ("directive", "last_directive"):
                directives.append(self.directive(child))
            elif child.data in ("line", "last_line"):
                body.append(self.line(child.children[0]))
            else:
                body.append(self.line(child))
        if not any(isinstance(line, n.Instruction) for line in body):
            raise ParseError("file with no instructions", self.text.count("\n") + 1, 1)
        return n.Dockerfile(bom, tuple(directives), tuple(body))

    def directive(self, tree: Tree) -> n.Directive:
        children = list(tree.children)
        indent = n.Whitespace(self.parts(children.pop(0))) if _is(children[0], "WS") else n.Whitespace()
        trailing, newline = self.line_end(children[4] if len(children) > 4 else None)
        hash_, name, equals, value = (str(token) for token in children[:4])
        return n.Directive(indent, hash_, name, equals, value, trailing, newline)

    def state(self) -> tuple:
        """What reading the next line depends on, besides its text."""
        return self.shell, self.windows, self.stage_started, self.global_args

    def line(self, tree: Tree) -> n.Line:
        head = tree.children[0]
        while isinstance(head, Tree):
            head = head.children[0]
        self.starts.append(head.start_pos)
        self.lines.append(head.line)
        self.states.append(self.state())
        children = list(tree.children)
        indent = children.pop(0) if _is(children[0], "WS") else None
        trailing, newline = self.line_end(children.pop() if children and _is(children[-1], "EOL", "END_WS") else None) if tree.data != "instruction_line" else (n.Whitespace(), "")
        if tree.data == "blank_line":
            return n.BlankLine(trailing, newline)
        if tree.data == "comment_line":
            return n.Comment(str(indent or ""), str(children[0]) + trailing.code, newline)
        instruction_tree = children.pop(0)
        if children and _is(children[0], "EOL", "END_WS"):
            trailing, newline = self.line_end(children.pop(0))
        heredocs = []
        for heredoc in children:
            tokens = {token.type: str(token) for token in heredoc.children}
            heredocs.append(n.Heredoc(tokens.get("HEREDOC_BODY", ""), tokens["HEREDOC_END"]))
        first = indent or _first_token(instruction_tree)
        instruction = self.instruction(
            instruction_tree,
            indent=n.Whitespace(self.parts(indent) if indent else ()),
            trailing=trailing,
            newline=newline,
            heredocs=tuple(heredocs),
            start_line=first.line,
            end_line=self.last_line(first, tree),
        )
        self.check(instruction, first.line)
        return instruction

    def last_line(self, first: Token, tree: Tree) -> int:
        """BuildKit's end line: the last line it read for the instruction, so
        the heredoc end line, or the last line of the instruction with the
        lines its continuations skipped."""
        last = tree.children[-1]
        while isinstance(last, Tree):  # the instruction, or a heredoc
            last = last.children[-1]
        if last.type == "EOL":
            end = last.start_pos
        else:
            end = last.start_pos + len(last.value)
        newlines = self.text.count("\n", first.start_pos, end)
        return first.line + newlines - (1 if self.text.endswith("\n", 0, end) and newlines else 0)

    def line_end(self, token: Token | None) -> tuple[n.Whitespace, str]:
        """The blanks before a line end, and the line end itself."""
        if token is None:
            return n.Whitespace(), ""
        text = str(token)
        blanks = text if token.type == "END_WS" else text.rstrip("\r\n")
        start = token.start_pos
        return n.Whitespace(self.rules.parts(self.text, start, start + len(blanks))), text[len(blanks):]

    # -- instructions --

    def instruction(self, tree: Tree, **line: object) -> n.Instruction:
        elements = _Elements(self, _children(tree))
        keyword = elements.next()
        cls = n.INSTRUCTION_CLASSES.get(keyword.type, n.Unknown)
        flags = []
        while elements.peek() == "WS" and elements.peek(1) == "FLAG":
            space = elements.space()
            flags.append(n.Flag(space, self.parts(elements.next())))
        arguments = getattr(self, "_" + cls.__name__.lower(), self._text)(elements)
        if elements.peek() is not None:  # pragma: no cover - the grammar allows nothing else
            raise AssertionError(f"unexpected {elements.peek()} in {tree.data}")
        return cls(keyword_text=n.Fragment(self.parts(keyword)), flags=tuple(flags), **arguments, **line)

    def _words(self, elements: _Elements) -> tuple[n.Word, ...]:
        words = []
        while elements.peek() in ("WS", "SP") and elements.peek(1) == "WORD":
            space = elements.space()
            words.append(n.Word(space, self.parts(elements.next())))
        return tuple(words)

    def _from(self, elements: _Elements) -> dict:
        words = self._words(elements)
        image = self.expand(words[0].value) if words else ""
        kind = family_of_image_name(image)
        # a backtick escape character is the mark of a Windows Dockerfile,
        # unless the image says otherwise
        self.windows = kind == WINDOWS or (kind == UNKNOWN and self.rules.escape == "`")
        self.shell = None
        self.stage_started = True
        return {"args": words}

    def _expose(self, elements: _Elements) -> dict:
        return {"args": self._words(elements)}

    def _command(self, elements: _Elements) -> n.Command | None:
        if elements.peek() != "WS":
            return None
        space = elements.space()
        item = elements.next()
        if isinstance(item, Tree):
            return self.json_array(item, space)
        _check_json(self.rules.logical(str(item)), item.line)
        return n.ShellForm(space, script=self.script(item))

    def script(self, token: Token) -> Script:
        """The shell script of a shell-form body: one parsed before from the
        same text (and escape and shell) when there is one, and this tree
        does not hold it yet (a node stands once in a tree)."""
        start = self.offset + token.start_pos
        posix = self.posix()
        key = (self.rules.escape, posix, self.text[start:start + len(token.value)])
        script = _scripts.get(key)
        if script is None or id(script) in self.scripts:
            script = parse_script(self.parts(token), posix=posix)
            _scripts.put(key, script)
        self.scripts.add(id(script))
        return script

    def _run(self, elements: _Elements) -> dict:
        return {"body": self._command(elements)}

    _cmd = _entrypoint = _run

    def _shell(self, elements: _Elements) -> dict:
        body = self._command(elements)
        if isinstance(body, n.JsonArray):
            self.shell = list(body.values)
        return {"body": body}

    def _healthcheck(self, elements: _Elements) -> dict:
        if elements.peek() != "WS":
            return {}
        space = elements.space()
        kind = n.Word(space, self.parts(elements.next()))
        return {"kind": kind, "body": self._command(elements)}

    def _copy(self, elements: _Elements) -> dict:
        if elements.peek(1) == "json_array":
            space = elements.space()
            return {"args": self.json_array(elements.next(), space)}
        return {"args": self._words(elements)}

    _add = _volume = _copy

    def _env(self, elements: _Elements) -> dict:
        pairs: list[n.KeyValue | n.LegacyKeyValue] = []
        while elements.peek(1) in ("KV_PAIR", "KV_WORD"):
            space = elements.space()
            token = elements.next()
            if token.type == "KV_WORD":  # BuildKit wants an "=" once the first word had one
                word = self.rules.logical(token.value)
                message = f"Syntax error - can't find = in {word!r}. Must be of the form: name=value"
                raise ParseError(message, token.line, token.column)
            pairs.append(self.pair(token, space))
        if elements.peek(1) == "legacy_pair":
            space = elements.space()
            pairs.append(self.legacy_pair(elements.next(), space))
        return {"pairs": tuple(pairs)}

    def legacy_pair(self, tree: Tree, space: n.Whitespace) -> n.LegacyKeyValue:
        """``KEY value``: BuildKit took the first word for a key because it has
        no "=" (reading quotes), then splits the key off at the first ASCII
        blank (not reading quotes), so ``ENV "a b" c`` has the key '"a'."""
        first, last = tree.children[0], tree.children[-1]
        parts = self.rules.parts(self.text, first.start_pos, last.start_pos + len(last.value))
        key: list[n.Part] = []
        separator: list[n.Part] = []
        value: list[n.Part] = []
        stage = key
        for part in parts:
            if isinstance(part, n.Continuation):
                stage.append(part)
                continue
            while part:
                if stage is key:
                    blank = _ASCII_BLANK.search(part)
                    cut = blank.start() if blank else len(part)
                    if cut:
                        key.append(part[:cut])
                    part = part[cut:]
                    stage = separator if blank else key
                elif stage is separator:
                    rest = part.lstrip(_ASCII_BLANKS)
                    if len(rest) < len(part):
                        separator.append(part[: len(part) - len(rest)])
                    part = rest
                    stage = value if rest else separator
                else:
                    value.append(part)
                    part = ""
        return n.LegacyKeyValue(space, n.Fragment(tuple(key)), n.Whitespace(tuple(separator)), n.Fragment(tuple(value)))

    _label = _env

    def _arg(self, elements: _Elements) -> dict:
        args = []
        while elements.peek(1) in ("KV_PAIR", "KV_WORD"):
            space = elements.space()
            args.append(self.pair(elements.next(), space))
        if not self.stage_started:  # a new dict: the states kept for each line share the old one
            self.global_args = {**self.global_args, **{arg.key.value: arg.value.value for arg in args}}
        return {"args": tuple(args)}

    def _onbuild(self, elements: _Elements) -> dict:
        if elements.peek() != "WS":
            return {}
        space = elements.space()
        return {"inner": self.instruction(elements.next(), indent=space, newline="")}

    def _text(self, elements: _Elements) -> dict:
        if elements.peek() != "WS":
            return {}
        space = elements.space()
        return {"value": n.Text(space, self.parts(elements.next()))}

    # -- parts --

    def pair(self, token: Token, space: n.Whitespace) -> n.KeyValue:
        """``key=value``, split where BuildKit splits it: at the first "=",
        inside quotes or not; a word without "=" is a key alone."""
        parts = self.parts(token)
        for index, part in enumerate(parts):
            if isinstance(part, str) and "=" in part:
                key, _, value = part.partition("=")
                key_parts = (*parts[:index], key) if key else parts[:index]
                value_parts = (value, *parts[index + 1:]) if value else parts[index + 1:]
                return n.KeyValue(space, n.Fragment(key_parts), "=", n.Fragment(value_parts))
        return n.KeyValue(space, n.Fragment(parts), "", n.Fragment())

    def json_array(self, tree: Tree, space: n.Whitespace) -> n.JsonArray:
        items = _Elements(self, list(tree.children))
        token = items.next()
        ignored = None
        if items.peek() is not None:
            after = items.space()
            ignored = n.Text(after, self.parts(items.next()))
        inner = _parse_tree(self.rules, str(token), "json_items")
        self.offset = token.start_pos
        pieces = _Elements(self, list(inner.children))
        pieces.next()  # "["
        before = pieces.space()
        elements: list[n.JsonString] = []
        while pieces.peek() == "JSON_STRING":
            string = self.parts(pieces.next())
            after_string = pieces.space()
            comma = str(pieces.next()) if pieces.peek() == "COMMA" else ""
            elements.append(n.JsonString(before, string, after_string, comma))
            before = pieces.space()
        self.offset = 0
        return n.JsonArray(space, "[", tuple(elements), n.Whitespace() if elements else before, "]", ignored)

    # -- context the shell layer needs --

    def posix(self) -> bool:
        """Whether RUN and CMD bodies of the current stage are POSIX shell."""
        if self.shell:
            return Path(self.shell[0].replace("\\", "/")).name.lower().removesuffix(".exe") in _POSIX_SHELLS
        return not self.windows

    def expand(self, image: str) -> str:
        return re.sub(
            r"\$\{?([A-Za-z_][A-Za-z0-9_]*)[^}]*\}?",
            lambda match: self.global_args.get(match.group(1), match.group()),
            image,
        )

    # -- what BuildKit refuses --

    def check(self, instruction: n.Instruction, line: int) -> None:
        inner = n.unwrapped(instruction)
        if isinstance(inner, (n.Env, n.Label)):
            for pair in inner.pairs:
                if isinstance(pair, n.LegacyKeyValue) and not pair.value.parts:
                    raise ParseError(f"{inner.keyword} must have two arguments", line, 1)
        if isinstance(inner, (n.Copy, n.Add, n.Volume)) and not isinstance(inner.args, n.JsonArray):
            _check_json(" ".join(word.value for word in inner.args), line)


def _check_json(text: str, line: int) -> None:
    """BuildKit refuses a JSON array that holds anything but strings."""
    if not text.startswith("["):
        return
    try:
        value, _ = json.JSONDecoder(parse_constant=_not_json).raw_decode(text)
    except ValueError:
        return
    if isinstance(value, list) and not all(isinstance(item, str) for item in value):
        raise ParseError("when using JSON array syntax, arrays must be comprised of strings only", line, 1)


def _not_json(name: str) -> object:
    raise ValueError(name)


def _is(item: Token | Tree, *kinds: str) -> bool:
    return isinstance(item, Token) and item.type in kinds


def _first_token(tree: Tree) -> Token:
    for token in tree.scan_values(lambda value: isinstance(value, Token)):
        return token
    raise AssertionError("empty instruction")

