"""ENV and LABEL in the legacy `KEY value` form.

## Why
`ENV KEY value with spaces` is the old form of ENV and LABEL: one key, and
all the rest of the line is its value, spaces and quotes included. It is
deprecated (BuildKit reports LegacyKeyValueFormat) and easy to misread: in
`ENV A 1 B 2` the value of `A` is `1 B 2`. The `KEY=value` form can set
several variables at once, and says where each value ends.

## Example
    ENV PYTHON_VERSION 3.12.4
    ENV PHPIZE_DEPS \\
        autoconf \\
        make

becomes

    ENV PYTHON_VERSION=3.12.4
    ENV PHPIZE_DEPS="autoconf \\
        make"

## Fix
Safe: BuildKit reads back exactly the same value. A value that is one word
for BuildKit (no blanks outside quotes) is kept as written, quotes and
variables included. A value with blanks is put in double quotes, which keep
blanks and expand variables as before; that is only done when the value has
no quotes and no escape character of its own, and the fix is declined
otherwise (where quoting would have to rewrite them). The blanks between key
and value are not part of the value, so the value now starts right after
`=`: a value that started on the next line moves up to the key's line
(declined when comment lines stand in between). Keys with quotes or escape
characters are left alone too.
"""

from __future__ import annotations

from typing import Iterator

from dfix.cst import nodes as n
from dfix.cst.buildkit import is_go_space
from dfix.rules._api import Context, Diagnostic, Fix, Rule, instructions


def check(ctx: Context) -> Iterator[Diagnostic]:
    escape = ctx.tree.escape
    for instruction in instructions(ctx.tree):
        if not isinstance(instruction, (n.Env, n.Label)):
            continue
        for pair in instruction.pairs:
            if not isinstance(pair, n.LegacyKeyValue):
                continue
            keyword = instruction.keyword
            message = f'"{keyword} key=value" should be used instead of legacy "{keyword} key value" format'
            converted = _converted(pair, escape)
            if isinstance(converted, str):
                yield ctx.decline(pair, message, converted)
            else:
                yield ctx.report(pair, message, Fix.replace(pair, converted, "Use the key=value form"))


def _converted(pair: n.LegacyKeyValue, escape: str) -> n.KeyValue | str:
    """The pair in the `key=value` form, or why it cannot be converted exactly."""
    key = pair.key.value
    if any(not isinstance(part, str) for part in pair.key.parts):
        return "the key runs over several lines"
    if any(char in key for char in "\"'") or escape in key:
        return "the key has quotes or escape characters"
    if any(isinstance(line, n.Comment) for part in pair.separator.continuations for line in part.skipped):
        return "comment lines stand between the key and its value"
    value = pair.value.value
    parts = pair.value.parts
    if parse_words(value, escape) != [value]:
        # blanks outside quotes: BuildKit would split the new form there
        if any(char in value for char in "\"'") or escape in value:
            return "the value has blanks besides quotes or escape characters"
        parts = ('"', *parts, '"')
    new = n.KeyValue(pair.whitespace_before, pair.key, "=", n.Fragment(parts))
    written = new.key.value + "=" + new.value.value
    if parse_words(written, escape) != [written]:  # a guard: the new pair must be one word for BuildKit
        return "the value cannot be written as one word"
    return new


def parse_words(text: str, escape: str) -> list[str]:
    """BuildKit's ``parseWords`` (parser/line_parsers.go): the words of an ENV
    or LABEL line, quotes and escapes kept, split at blanks outside quotes."""
    words: list[str] = []
    word = ""
    in_word = False
    quote = ""
    blank_ok = False
    index = 0
    while index < len(text):
        char = text[index]
        if not in_word:
            if is_go_space(char):
                index += 1
                continue
            in_word = True
        if quote:
            if char == quote:
                quote = ""
            elif char == escape and quote != "'":
                if index + 1 == len(text):  # BuildKit drops an escape at the very end
                    index += 1
                    continue
                word += char
                index += 1
                char = text[index]
            word += char
        elif is_go_space(char):
            if blank_ok or word:
                words.append(word)
            word, in_word, blank_ok = "", False, False
        else:
            if char in "'\"":
                quote, blank_ok = char, True
            if char == escape:
                if index + 1 == len(text):
                    index += 1
                    continue
                word += char
                index += 1
                char = text[index]
            word += char
        index += 1
    if in_word and (blank_ok or word):
        words.append(word)
    return words


RULE = Rule("DF004", "legacy-key-value-format", "ENV or LABEL in the legacy KEY value form", check, __doc__)
