"""Which build-context paths a ``.dockerignore`` leaves out, decided as BuildKit decides it.

These are moby/patternmatcher's semantics, shared by BuildKit and the Docker CLI: ``ReadAll`` in
``ignorefile/ignorefile.go`` reads the file; ``New``, ``Pattern.compile`` and
``MatchesUsingParentResults`` in ``patternmatcher.go`` match; tonistiigi/fsutil's ``filter.go``
walks the context, handing each directory's results to its children. Go's quirks are kept:
``**foo`` is a bare suffix test, ``[!a]`` is no negation, ``*`` inside ``[...]`` reaches the
regexp as ``[^/]*``. Go runs that regexp on RE2, in linear time; Python's ``re`` backtracks
(``**/a/*/**/b/*`` on a deep path would take minutes), so each pattern is compiled once into an
automaton read from Go's regexp, run as a lazily built DFA. Unix paths only.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

# Go's unicode.IsSpace: str.strip() would also take \x1c-\x1f, which Go keeps in a pattern.
_SPACE = "\t\n\v\f\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
_DOT = (True, (("\n", "\n"),))  # a charset (negated, ranges): Go's "." without the s flag


@dataclass(frozen=True)
class Pattern:
    """One compiled line: ``text`` is Go's cleaned pattern, ``exclusion`` whether it had a ``!``."""

    text: str
    exclusion: bool
    line: int
    _kind: str = field(repr=False)  # Go's matchType: exact, prefix, suffix or regexp
    _steps: tuple = field(repr=False, default=())
    _dfa: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    def matches(self, path: str) -> bool:
        """Go's ``Pattern.match``: this pattern alone against ``path`` as given, no parent rule."""
        return self._hits(path)[-1]

    def _hits(self, path: str) -> list[bool]:
        """Whether the pattern matches each prefix of ``path`` ending before a "/", then all of it."""
        if self._kind != "regexp":
            p, b = self.text, self.text.encode()
            prefixes = [path[:i] for i, c in enumerate(path + "/") if c == "/"]
            if self._kind == "exact":
                return [s == p for s in prefixes]
            if self._kind == "prefix":
                return [s.startswith(p[:-2]) for s in prefixes]
            # "**/foo" also matches "foo"; "**foo" is a bare suffix test. Go cuts off the "**" as
            # bytes, which only differs from characters after a BOM.
            return [s.encode().endswith(b[2:]) or (b[2:3] == b"/" and s.encode() == b[3:]) for s in prefixes]
        hits, dfa, state = [], self._dfa, self._next(None, "")
        for i, c in enumerate(path):
            if not state:  # no way left to match: most paths leave most patterns early
                return hits + [False] * (path.count("/", i) + 1)
            if c == "/":
                hits.append(len(self._steps) in state)
            moved = dfa.get((state, c))
            state = self._next(state, c) if moved is None else moved
        return hits + [len(self._steps) in state]

    def _next(self, state: frozenset[int] | None, c: str) -> frozenset[int]:
        if (state, c) not in self._dfa:
            if len(self._dfa) > 50_000:  # paths of ever new characters must not grow it forever
                self._dfa.clear()
            moved = [0] if state is None else [s + (kind == "one") for s in state if s < len(self._steps)
                                               for kind, *arg in [self._steps[s]]
                                               if kind in ("one", "star") and _has(arg[0], c)]
            self._dfa[state, c] = _closure(self._steps, moved, start=state is None)
        return self._dfa[state, c]


@dataclass(frozen=True)
class Patterns:
    """A ``.dockerignore``'s patterns, in file order."""

    rules: tuple[Pattern, ...] = ()

    @property
    def patterns(self) -> tuple[str, ...]:
        return tuple("!" * r.exclusion + r.text for r in self.rules)

    @property
    def has_exceptions(self) -> bool:
        return any(r.exclusion for r in self.rules)

    def excludes(self, path: str) -> bool:
        """Whether ``path`` ("/"-separated, relative to the context) is left out of the context.
        An excluded directory still reaches the builder as the parent of what an exception keeps."""
        path = _clean("/" + path).lstrip("/")
        if not path:
            return False  # Go's Matches: "Don't let them exclude everything"
        hits, parent, matched = [r._hits(path) for r in self.rules], [], False
        for depth in range(path.count("/") + 1):  # fsutil walks down from the root
            matched, info = False, []
            for rule, hit in zip(self.rules, hits):
                # What matched the directory matches all below it. Go skips, and records as
                # unmatched, a pattern that cannot change the answer: so ["a", "!a/b", "a"] keeps
                # "a/b", as the last "a" never looked at the directory "a".
                m = bool(parent) and parent[len(info)]
                m = hit[depth] if not m and rule.exclusion == matched else m
                info.append(m)
                matched = not rule.exclusion if m else matched
            parent = info
        return matched


def parse(text: str) -> Patterns:
    """Read a ``.dockerignore``; a pattern Go rejects raises ``ValueError`` naming its line.

    Pass the text as the file holds it (read with ``newline=""``): Go ends lines at "\n" only.
    Go reports a regexp that fails to compile (``[z-a]``) only once a path reaches the pattern.
    """
    rules = []
    for number, line in enumerate(text.split("\n"), 1):
        line = line.removesuffix("\r").removeprefix("\ufeff" if number == 1 else "")
        if line.startswith("#"):  # only in the first column: "  # x" is a pattern
            continue
        line = line.strip(_SPACE)
        invert = line[:1] == "!"
        line = line[1:].strip(_SPACE) if invert else line
        if line:
            line = _clean(line)
            line = line[1:] if len(line) > 1 and line[0] == "/" else line
        # New trims ("/\t" became "\t") and cleans again, so "!/" becomes "!", and a "!" that a
        # clean brought to the front ("/!a") makes an exception too.
        line = ("!" * invert + line).strip(_SPACE)
        if not line:
            continue
        line = _clean(line)
        if line == "!":
            raise ValueError(f'line {number}: illegal exclusion pattern: "!"')
        exclusion = line[0] == "!"
        p = line[exclusion:]
        try:
            if not _glob_ok(p):
                raise ValueError(f"syntax error in pattern {p!r}")
            kind, regexp = _go_regexp(p)
            rules.append(Pattern(p, exclusion, number, kind, _steps(regexp) if kind == "regexp" else ()))
        except ValueError as error:
            raise ValueError(f"line {number}: {error}") from None
    return Patterns(tuple(rules))


def _clean(p: str) -> str:
    p = posixpath.normpath(p)  # filepath.Clean, but normpath keeps a leading "//"
    return p[1:] if p.startswith("//") else p


def _glob_ok(p: str) -> bool:
    """Whether Go's ``filepath.Match`` accepts ``p``, the one check ``New`` makes."""
    def esc(i: int) -> int:  # getEsc: where one class member ends; -1 if bad or if it ends ``p``
        if i < 0 or i >= len(p) or p[i] in "-]":
            return -1
        i += 2 if p[i] == "\\" else 1
        return i if i < len(p) else -1

    i = 0
    while 0 <= i < len(p):
        if p[i] == "[":
            i, n = i + 1 + (p[i + 1:i + 2] == "^"), 0
            while i >= 0 and not (n and p[i:i + 1] == "]"):
                i, n = esc(i), n + 1
                i = esc(i + 1) if i >= 0 and p[i] == "-" else i
            i = i + 1 if i >= 0 else i
        elif p[i] == "\\":
            i = i + 2 if i + 1 < len(p) else -1
        else:
            i += 1
    return i >= 0


def _go_regexp(p: str) -> tuple[str, str]:
    """``Pattern.compile`` with "/": the match kind, and the regexp source Go builds."""
    start = i = int(p[:1] == "\ufeff")  # text/scanner drops a leading BOM
    rx, kind = "^", "exact"
    while i < len(p):
        c, first = p[i], i == start
        i += 1
        if c == "*" and p[i:i + 1] == "*":  # "**", eating a "/" after it
            i += 1 + (p[i + 1:i + 2] == "/")
            if i == len(p):
                rx, kind = (rx, "prefix") if kind == "exact" else (rx + ".*", "regexp")
            else:
                rx, kind = rx + "(.*/)?", "regexp"
            kind = "suffix" if first else kind
        elif c in "*?":
            rx, kind = rx + ("[^/]*" if c == "*" else "[^/]"), "regexp"
        elif c in ".+()|{}$":
            rx += "\\" + c
        elif c == "\\" and i < len(p):
            rx, kind, i = rx + "\\" + p[i], "regexp", i + 1
        else:
            rx, kind = rx + c, "regexp" if c in "[]" else kind
    return kind, rx + "$"


def _steps(rx: str) -> tuple:
    """Go's regexp as steps ("one"|"star", charset), ("opt", skip) and ("bol",), read as Go
    reads it: ``[*]`` gives ``[[^/]*]``, a class of "[", "^" and "/" repeated, then a "]"."""
    steps: list[tuple] = []
    i = 1
    while i < len(rx) - 1:  # between the leading "^" and the trailing "$"
        if rx.startswith("(.*/)?", i):
            steps, i = steps + [("opt", 3), ("star", _DOT), ("one", (False, (("/", "/"),)))], i + 6
        elif rx[i] == "^":  # an anchor in Go too, so it only matches at the start
            steps, i = steps + [("bol",)], i + 1
        else:
            if rx[i] in "[.":
                charset, i = _class(rx, i + 1) if rx[i] == "[" else (_DOT, i + 1)
            else:
                c, i = _char(rx, i)
                charset = (False, ((c, c),))
            steps.append(("star" if rx[i] == "*" else "one", charset))
            i += rx[i] == "*"
    return tuple(steps)


def _class(rx: str, i: int) -> tuple[tuple, int]:
    negated = rx[i] == "^"
    i += negated
    ranges: list[tuple[str, str]] = []
    while not ranges or rx[i:i + 1] != "]":  # in Go a "]" first in the class is a member
        if i >= len(rx) or (rx.startswith("[:", i) and ":]" in rx[i + 2:]):
            raise ValueError("missing ], or a POSIX class such as [:digit:], which is not supported")
        lo, i = _char(rx, i)
        hi = lo
        if rx[i:i + 1] == "-" and rx[i + 1:i + 2] not in ("]", ""):
            hi, i = _char(rx, i + 1)
            if hi < lo:
                raise ValueError(f"invalid character class range {lo}-{hi}")
        ranges.append((lo, hi))
    return (negated, tuple(ranges)), i + 1


def _char(rx: str, i: int) -> tuple[str, int]:
    if rx[i] != "\\":
        return rx[i], i + 1
    # Go's regexp reads "\c" as "c" only for ASCII punctuation. "\d", "\pL" and a few more are
    # classes there, not reproduced here; any other escape is an error in Go too.
    if rx[i + 1] < "\x80" and not rx[i + 1].isalnum():
        return rx[i + 1], i + 2
    raise ValueError(f"escape \\{rx[i + 1]} is not supported")


def _has(charset: tuple, c: str) -> bool:
    return any(lo <= c <= hi for lo, hi in charset[1]) != charset[0]


def _closure(steps: tuple, states: list[int], start: bool) -> frozenset[int]:
    # The states reachable without reading: past a star, either way round an optional "(.*/)?",
    # and past "^" before the first character only.
    seen: set[int] = set()
    while states:
        s = states.pop()
        if s not in seen:
            seen.add(s)
            kind = steps[s][0] if s < len(steps) else "accept"
            states += [s + 1] if kind == "star" or (kind == "bol" and start) else []
            states += [s + 1, s + steps[s][1]] if kind == "opt" else []
    return frozenset(seen)
