"""BuildKit's own word rules, for the parts of the language a grammar cannot say.

BuildKit reads some parts of an instruction with small hand-written scanners
rather than a grammar: which words of a RUN, COPY or ADD line open heredocs
(``heredocsFromLine``, which splits the line with its shell lexer), and how the
words of ENV, LABEL and ARG (``parseWords``) and of flags
(``extractBuilderFlags``) lose their quotes. dfix must agree with BuildKit on
all three, so they are written here after BuildKit's code, in plain Python, and
tested against the ``dockerfile`` package (a wrapper of BuildKit's parser).
"""

from __future__ import annotations

import re
from typing import NamedTuple

# Go's unicode.IsSpace: what BuildKit's scanners treat as blank.
_GO_SPACES = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)

_HEREDOC_WORD = re.compile(r"(\d*)<<(-?)([^<]*)\Z")
_SPECIAL_PARAMETERS = frozenset("@*#?$!-")


def is_go_space(char: str) -> bool:
    return char in _GO_SPACES


class HeredocOpener(NamedTuple):
    """A word such as ``<<EOF`` or ``<<-"EOF"`` that opens a heredoc."""

    name: str
    chomp: bool  # `<<-`: leading tabs are stripped from the body and the end line
    expand: bool  # unquoted name: variables in the body are expanded


def heredoc_openers(line: str) -> list[HeredocOpener]:
    """The heredocs a RUN, COPY or ADD line opens, in order (BuildKit's rule).

    ``line`` is the logical line, continuations removed. BuildKit splits it into
    shell words and takes each word that is ``<<NAME`` as a whole; so
    ``cat <<EOF`` opens a heredoc and ``cat<<EOF`` does not.
    """
    words = _ShellWords(line, raw=True, keep_unset=True).words()
    openers = []
    for word in words or ():
        match = _HEREDOC_WORD.match(word)
        if not match or not match.group(3):
            continue
        rest = match.group(3)
        names = _ShellWords(rest, raw=False, keep_unset=True).words()
        raw_names = _ShellWords(rest, raw=True, keep_unset=True).words()
        if not names or len(names) != 1 or not raw_names:
            continue
        quotes = names[0].count("'") + names[0].count('"')
        raw_quotes = raw_names[0].count("'") + raw_names[0].count('"')
        openers.append(HeredocOpener(names[0], match.group(2) == "-", quotes == raw_quotes))
    return openers


def heredoc_end_matches(line: str, opener: HeredocOpener) -> bool:
    """Whether a body line (with its line end) is the line that ends the heredoc."""
    candidate = line.rstrip("\r\n")
    if opener.chomp:
        candidate = candidate.lstrip("\t")
    return candidate == opener.name


class _ShellWords:
    """BuildKit's ``shell.Lex.ProcessWords`` with an empty environment.

    ``raw`` keeps quotes and escape characters in the words (BuildKit's
    RawQuotes and RawEscapes); ``keep_unset`` leaves ``$VAR`` as written
    (SkipUnsetEnv). ``words()`` returns None where BuildKit reports an error.
    """

    def __init__(self, text: str, *, raw: bool, keep_unset: bool = False) -> None:
        self.text = text
        self.pos = 0
        self.raw = raw
        self.keep_unset = keep_unset
        self.word = ""
        self.in_word = False
        self.done: list[str] = []

    def words(self) -> list[str] | None:
        try:
            self._process(stop=None)
        except _LexError:
            return None
        if self.word:
            self.done.append(self.word)
        return self.done

    # -- the word being built (wordsStruct) --
    def _add_char(self, char: str) -> None:
        if is_go_space(char):
            if self.in_word and self.word:
                self.done.append(self.word)
                self.word = ""
                self.in_word = False
        else:
            self._add_raw(char)

    def _add_raw(self, text: str) -> None:
        self.word += text
        self.in_word = True

    # -- the scanner --
    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _next(self) -> str:
        char = self._peek()
        self.pos += 1 if char else 0
        return char

    def _process(self, stop: str | None, *, collect: bool = True) -> str:
        result = []
        while self._peek():
            char = self._peek()
            if stop is not None and char == stop:
                self._next()
                return "".join(result)
            if char == "$":
                text = self._dollar()
                result.append(text)
                if collect:
                    for each in text:
                        self._add_char(each)
            elif char in "'\"":
                text = self._single_quoted() if char == "'" else self._double_quoted()
                result.append(text)
                if collect:
                    self._add_raw(text)
            else:
                char = self._next()
                if char == "\\":
                    if self.raw:
                        result.append(char)
                        if collect:
                            self._add_raw(char)
                    char = self._next()
                    if not char:
                        break
                    if collect:
                        self._add_raw(char)
                elif collect:
                    self._add_char(char)
                result.append(char)
        if stop is not None:
            raise _LexError(f"unexpected end of statement while looking for matching {stop}")
        return "".join(result)

    def _single_quoted(self) -> str:
        quote = self._next()
        result = [quote] if self.raw else []
        while True:
            char = self._next()
            if not char:
                raise _LexError("unexpected end of statement while looking for matching single-quote")
            if char == "'":
                if self.raw:
                    result.append(char)
                return "".join(result)
            result.append(char)

    def _double_quoted(self) -> str:
        quote = self._next()
        result = [quote] if self.raw else []
        while True:
            char = self._peek()
            if not char:
                raise _LexError("unexpected end of statement while looking for matching double-quote")
            if char == '"':
                self._next()
                if self.raw:
                    result.append(char)
                return "".join(result)
            if char == "$":
                result.append(self._dollar())
                continue
            char = self._next()
            if char == "\\":
                if self.raw:
                    result.append(char)
                following = self._peek()
                if not following:
                    continue
                if following in '"$\\':
                    char = self._next()
            result.append(char)

    def _dollar(self) -> str:
        """After BuildKit's current ``processDollar``. With ``keep_unset``
        (SkipUnsetEnv, and every variable unset) a ``${...}`` comes back as
        written once its word is read, whatever the modifier: ``${A?msg}``
        and ``${A:x}`` are no errors, and ``${A:-a <<B}`` gives the words
        ``${A:-a`` and ``<<B}``. (``%``, ``#`` and ``/`` are BuildKit's since
        v0.13; the ``dockerfile`` oracle is older and refuses them.)"""
        self._next()
        if self._peek() != "{":
            name = self._name()
            if not name:
                return "$"
            return "$" + name if self.keep_unset else ""
        self._next()
        if not self._peek():
            raise _LexError("syntax error: missing '}'")
        if self._peek() in "{}:":
            raise _LexError("syntax error: bad substitution")
        name = self._name()
        char = self._next()
        if char == "}":
            return "${" + name + "}" if self.keep_unset else ""
        if char == "/":
            if self._peek() == "/":
                self._next()
            pattern = self._process(stop="/", collect=False)
            replacement = self._process(stop="}", collect=False)
            return "${" + name + "/" + pattern + "/" + replacement + "}" if self.keep_unset else ""
        modifier = char
        if char == ":":
            char = self._next()  # any character, even none: BuildKit falls through
            modifier += char
        if char not in ("+", "-", "?", "#", "%") and modifier[:1] != ":":
            raise _LexError(f"unsupported modifier ({modifier}) in substitution")
        word = self._process(stop="}", collect=False)
        if self.keep_unset:
            return "${" + name + modifier + word + "}"
        if char == "-":
            return word
        if char == "?":
            raise _LexError(f"{name}: is not allowed to be unset")
        if char not in ("+", "#", "%"):
            raise _LexError(f"unsupported modifier ({modifier}) in substitution")
        return ""

    def _name(self) -> str:
        char = self._peek()
        if char.isdigit():
            digits = ""
            while self._peek().isdigit():
                digits += self._next()
            return digits
        if char in _SPECIAL_PARAMETERS:
            return self._next()
        name = ""
        while self._peek() and (self._peek().isalnum() or self._peek() == "_"):
            name += self._next()
        return name


class _LexError(Exception):
    pass


def flag_word(text: str) -> str:
    """A flag as BuildKit reads it: quotes removed, ``\\`` escapes undone.

    After ``extractBuilderFlags``: quotes group (either kind), and a backslash
    escapes the next character inside and outside quotes, whatever the escape
    directive says.
    """
    if "'" not in text and '"' not in text and "\\" not in text:
        return text  # most flags: nothing to undo (read on every check of every RUN)
    out = []
    quote = ""
    index = 0
    while index < len(text):
        char = text[index]
        if quote and char == quote:
            quote = ""
        elif not quote and char in "'\"":
            quote = char
        elif char == "\\":
            index += 1
            if index < len(text):
                out.append(text[index])
        else:
            out.append(char)
        index += 1
    return "".join(out)



def read_before_the_check_directive(keys: list[str]) -> bool:
    """Whether a BuildKit from before the ``check`` directive (0.15) reads a
    file's directives, named by ``keys`` in order, otherwise than dfix and
    current BuildKit do: it takes ``# check=`` for a comment, which ends the
    directives, so a directive after it (``# escape=`\\```) is a comment too,
    and the file's escape character differs."""
    return "check" in keys and keys.index("check") < len(keys) - 1
