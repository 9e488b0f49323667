"""dfix.dockerignore against the Go code whose behaviour it copies.

Tables marked "ported" are copied from moby/patternmatcher (patternmatcher_test.go,
ignorefile/ignorefile_test.go, commit 1d6a3f429bf0541b7f69372adecc787fabc0c701).
"""

from __future__ import annotations

import time

import pytest

from dfix import dockerignore
from dfix.dockerignore import parse

FAIL, EXACT, INEXACT = "fail", "exact", "inexact"

# Ported: TestMatches' table. EXACT: Pattern.match (MatchesExact) is true; INEXACT: only the
# parent rule makes it match; FAIL: neither.
MATCHES = [
    ("**", "file", EXACT), ("**", "file/", EXACT), ("**/", "file", EXACT), ("**/", "file/", EXACT),
    ("**", "/", EXACT), ("**/", "/", EXACT), ("**", "dir/file", EXACT), ("**/", "dir/file", EXACT),
    ("**", "dir/file/", EXACT), ("**/", "dir/file/", EXACT), ("**/**", "dir/file", EXACT),
    ("**/**", "dir/file/", EXACT), ("dir/**", "dir/file", EXACT), ("dir/**", "dir/file/", EXACT),
    ("dir/**", "dir/dir2/file", EXACT), ("dir/**", "dir/dir2/file/", EXACT), ("**/dir", "dir", EXACT),
    ("**/dir", "dir/file", INEXACT), ("**/dir2/*", "dir/dir2/file", EXACT),
    ("**/dir2/*", "dir/dir2/file/", INEXACT), ("**/dir2/**", "dir/dir2/dir3/file", EXACT),
    ("**/dir2/**", "dir/dir2/dir3/file/", EXACT), ("**file", "file", EXACT), ("**file", "dir/file", EXACT),
    ("**/file", "dir/file", EXACT), ("**file", "dir/dir/file", EXACT), ("**/file", "dir/dir/file", EXACT),
    ("**/file*", "dir/dir/file", EXACT), ("**/file*", "dir/dir/file.txt", EXACT),
    ("**/file*txt", "dir/dir/file.txt", EXACT), ("**/file*.txt", "dir/dir/file.txt", EXACT),
    ("**/file*.txt*", "dir/dir/file.txt", EXACT), ("**/**/*.txt", "dir/dir/file.txt", EXACT),
    ("**/**/*.txt2", "dir/dir/file.txt", FAIL), ("**/*.txt", "file.txt", EXACT),
    ("**/**/*.txt", "file.txt", EXACT), ("a**/*.txt", "a/file.txt", EXACT),
    ("a**/*.txt", "a/dir/file.txt", EXACT), ("a**/*.txt", "a/dir/dir/file.txt", EXACT),
    ("a/*.txt", "a/dir/file.txt", FAIL), ("a/*.txt", "a/file.txt", EXACT), ("a/*.txt**", "a/file.txt", EXACT),
    ("a[b-d]e", "ae", FAIL), ("a[b-d]e", "ace", EXACT), ("a[b-d]e", "aae", FAIL), ("a[^b-d]e", "aze", EXACT),
    (".*", ".foo", EXACT), (".*", "foo", FAIL), ("abc.def", "abcdef", FAIL), ("abc.def", "abc.def", EXACT),
    ("abc.def", "abcZdef", FAIL), ("abc?def", "abcZdef", EXACT), ("abc?def", "abcdef", FAIL),
    ("**/foo/bar", "foo/bar", EXACT), ("**/foo/bar", "dir/foo/bar", EXACT),
    ("**/foo/bar", "dir/dir2/foo/bar", EXACT), ("abc/**", "abc", FAIL), ("abc/**", "abc/def", EXACT),
    ("abc/**", "abc/def/ghi", EXACT), ("**/.foo", ".foo", EXACT), ("**/.foo", "bar.foo", FAIL),
    ("a(b)c/def", "a(b)c/def", EXACT), ("a(b)c/def", "a(b)c/xyz", FAIL), ("a.|)$(}+{bc", "a.|)$(}+{bc", EXACT),
    ("dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
     "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", EXACT),
    ("dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", EXACT),
    ("a\\\\", "a\\", EXACT), ("a\\*b", "a*b", EXACT),  # the non-Windows extras
]

# Ported: TestMatches' multiPatternTests (true means excluded).
MULTI = [
    (["**", "!util/docker/web"], "util/docker/web/foo", False),
    (["**", "!util/docker/web", "util/docker/web/foo"], "util/docker/web/foo", True),
    (["**", "!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl"],
     "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", False),
    (["**", "!dist/*.whl"], "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", False),
]

# Ported: matchTests (Go's own filepath.Match table, run through the top-level Matches);
# None marks filepath.ErrBadPattern.
GLOB = [
    ("abc", "abc", True), ("*", "abc", True), ("*c", "abc", True), ("a*", "a", True), ("a*", "abc", True),
    ("a*", "ab/c", True), ("a*/b", "abc/b", True), ("a*/b", "a/c/b", False),
    ("a*b*c*d*e*/f", "axbxcxdxe/f", True), ("a*b*c*d*e*/f", "axbxcxdxexxx/f", True),
    ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", False), ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", False),
    ("a*b?c*x", "abxbbxdbxebxczzx", True), ("a*b?c*x", "abxbbxdbxebxczzy", False),
    ("ab[c]", "abc", True), ("ab[b-d]", "abc", True), ("ab[e-g]", "abc", False), ("ab[^c]", "abc", False),
    ("ab[^b-d]", "abc", False), ("ab[^e-g]", "abc", True), ("a\\*b", "a*b", True), ("a\\*b", "ab", False),
    ("a?b", "a☺b", True), ("a[^a]b", "a☺b", True), ("a???b", "a☺b", False),
    ("a[^a][^a][^a]b", "a☺b", False), ("[a-ζ]*", "α", True), ("*[a-ζ]", "A", False), ("a?b", "a/b", False),
    ("a*b", "a/b", False), ("[\\]a]", "]", True), ("[\\-]", "-", True), ("[x\\-]", "x", True),
    ("[x\\-]", "-", True), ("[x\\-]", "z", False), ("[\\-x]", "x", True), ("[\\-x]", "-", True),
    ("[\\-x]", "a", False), ("[]a]", "]", None), ("[-]", "-", None), ("[x-]", "x", None), ("[x-]", "-", None),
    ("[x-]", "z", None), ("[-x]", "x", None), ("[-x]", "-", None), ("[-x]", "a", None), ("\\", "a", None),
    ("[a-b-c]", "a", None), ("[", "a", None), ("[^", "a", None), ("[^bc", "a", None), ("a[", "a", None),
    ("a[", "ab", None), ("*x", "xxx", True),
]

# Ported: compileTests, "/" flavour: the match kind, and Go's regexp source for "regexp".
COMPILE = [
    ("*", "regexp", "^[^/]*$"), ("file*", "regexp", "^file[^/]*$"), ("*file", "regexp", "^[^/]*file$"),
    ("a*/b", "regexp", "^a[^/]*/b$"), ("**", "suffix", None), ("**/**", "regexp", "^(.*/)?.*$"),
    ("dir/**", "prefix", None), ("**/dir", "suffix", None), ("**/dir2/*", "regexp", "^(.*/)?dir2/[^/]*$"),
    ("**/dir2/**", "regexp", "^(.*/)?dir2/.*$"), ("**file", "suffix", None),
    ("**/file*txt", "regexp", "^(.*/)?file[^/]*txt$"), ("**/**/*.txt", "regexp", "^(.*/)?(.*/)?[^/]*\\.txt$"),
    ("a[b-d]e", "regexp", "^a[b-d]e$"), (".*", "regexp", "^\\.[^/]*$"), ("abc.def", "exact", None),
    ("abc?def", "regexp", "^abc[^/]def$"), ("**/foo/bar", "suffix", None), ("a(b)c/def", "exact", None),
    ("a.|)$(}+{bc", "exact", None), ("dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", "exact", None),
]


@pytest.mark.parametrize("pattern, path, expected", MATCHES)
def test_go_matches_table_one_pattern(pattern: str, path: str, expected: str) -> None:
    (rule,) = parse(pattern).rules
    assert rule.matches(path) is (expected == EXACT)
    if path != "/":  # "/" is the context root here, which nothing excludes
        assert parse(pattern).excludes(path) is (expected != FAIL)


@pytest.mark.parametrize("patterns, path, excluded", MULTI)
def test_go_matches_table_several_patterns(patterns: list[str], path: str, excluded: bool) -> None:
    assert parse("\n".join(patterns)).excludes(path) is excluded


@pytest.mark.parametrize("pattern, path, expected", GLOB)
def test_go_filepath_match_table(pattern: str, path: str, expected: bool | None) -> None:
    if expected is None:
        with pytest.raises(ValueError, match="line 1: syntax error in pattern"):
            parse(pattern)
    else:
        assert parse(pattern).excludes(path) is expected


@pytest.mark.parametrize("pattern, kind, regexp", COMPILE)
def test_go_compile_table(pattern: str, kind: str, regexp: str | None) -> None:
    got_kind, got_regexp = dockerignore._go_regexp(pattern)
    assert got_kind == kind
    if regexp is not None:
        assert got_regexp == regexp


def test_go_read_all() -> None:
    # Ported: TestReadAll. Its last two lines ("!" and "! ") survive ReadAll but New refuses them.
    content = "test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n"
    assert parse(content).patterns == ("test1", "test2", "a/file/here", "lastfile", "!inverted/abs/path")
    with pytest.raises(ValueError, match='line 8: illegal exclusion pattern: "!"'):
        parse(content + "!\n! ")
    assert parse("").patterns == ()


def test_go_exception_flags() -> None:
    # Ported: TestCleanPatterns*, TestSingleExclamationError, TestMatchesWithNoPatterns.
    assert parse("docs\nconfig\n\n").patterns == ("docs", "config")
    assert parse("docs\n  !docs/README.md").has_exceptions
    assert parse("docs\n!docs/README.md  ").has_exceptions
    assert not parse("docs\nconfig").has_exceptions
    assert not parse("").excludes("any/path/there")


def test_go_single_pattern_cases() -> None:
    # Ported: TestWildcardMatches .. TestExclusionPatternMatchesWholeDirectory.
    assert parse("*").excludes("fileutils.go")
    assert parse("*.go").excludes("fileutils.go")
    assert parse("!fileutils.go\n*.go").excludes("fileutils.go")
    assert not parse("*.go\n!fileutils.go").excludes("fileutils.go")
    for folder in ("docs", "docs/", "docs/*"):
        assert not parse(f"{folder}\n!docs/README.md").excludes("docs/README.md")
    assert not parse("*.go").excludes(".")


def test_regexp_compile_errors_are_raised_when_parsing() -> None:
    # Ported: the moby/moby#52203 regression: filepath.Match accepts "[Local-Only]", Go's regexp
    # does not ("l-O" runs backwards), and Go says so when the pattern is first used.
    with pytest.raises(ValueError, match="line 2: invalid character class range l-O"):
        parse("ok\n[Local-Only]/")


def test_exception_re_includes_a_file() -> None:
    rules = parse("*.md\n!README.md")
    assert rules.excludes("CHANGELOG.md")
    assert not rules.excludes("README.md")
    assert not rules.excludes("docs/guide.md")  # "*" stops at "/"


def test_a_directory_covers_everything_below_it() -> None:
    rules = parse("node_modules")
    assert rules.excludes("node_modules")
    assert rules.excludes("node_modules/a/b.js")
    assert not rules.excludes("src/node_modules/a.js")  # patterns are anchored at the context root
    assert not rules.excludes("node_modules.txt")


def test_double_star() -> None:
    rules = parse("**/*.pyc")
    assert rules.excludes("a.pyc")
    assert rules.excludes("pkg/sub/a.pyc")
    assert not rules.excludes("pkg/a.py")
    assert parse("**/__pycache__").excludes("a/b/__pycache__/x.pyc")


def test_comments_blank_lines_and_whitespace() -> None:
    rules = parse("\ufeff# comment\n\n   \n  *.log  \r\n\t!keep.log\n  # not a comment\nbuild/  \n")
    assert rules.patterns == ("*.log", "!keep.log", "# not a comment", "build")
    assert rules.excludes("x.log") and not rules.excludes("keep.log")
    assert rules.excludes("# not a comment")
    assert rules.excludes("build/out.o")
    # Go's TrimSpace keeps \x1c, which str.strip() would remove.
    assert parse("\x1ca").patterns == ("\x1ca",)


def test_leading_slash_and_cleaning() -> None:
    rules = parse("/secret\n./a/../b/\n! /secret/public")
    assert rules.patterns == ("secret", "b", "!secret/public")
    assert rules.excludes("secret/key") and rules.excludes("b/c")
    assert not rules.excludes("secret/public")
    assert not rules.excludes("x/secret")
    with pytest.raises(ValueError, match='line 1: illegal exclusion pattern: "!"'):
        parse("!/")  # New cleans "!/" to "!"


def test_paths_are_normalised() -> None:
    rules = parse("a/b")
    for path in ("a/b", "./a/b", "a/b/", "/a/b", "a//b", "a/./b", "a/b/c"):
        assert rules.excludes(path), path
    for path in ("", ".", "/", "a"):
        assert not rules.excludes(path), path


def test_dot_and_root_patterns_match_nothing() -> None:
    for text in (".", "/", "./"):
        rules = parse(text)
        assert not rules.excludes("a") and not rules.excludes("a/b")


def test_exception_under_an_excluded_directory() -> None:
    rules = parse("vendor\n!vendor/keep\n")
    assert rules.excludes("vendor")  # still sent, as the parent of vendor/keep
    assert rules.excludes("vendor/drop.go")
    assert not rules.excludes("vendor/keep")
    assert not rules.excludes("vendor/keep/deep/file")  # the exception covers its children too
    # A pattern after the exception excludes again.
    assert parse("vendor\n!vendor/keep\nvendor/keep/*.tmp").excludes("vendor/keep/x.tmp")


def test_walk_results_not_matches_or_parent_matches() -> None:
    # fsutil feeds MatchesUsingParentResults the parent's results; a pattern skipped at "a"
    # (it could not change the answer there) is not re-checked against "a" for "a/b".
    # MatchesOrParentMatches would exclude "a/b" here; BuildKit sends it.
    rules = parse("a\n!a/b\na")
    assert rules.excludes("a")
    assert not rules.excludes("a/b")
    assert not rules.excludes("a/b/c")


def test_go_quirks_kept() -> None:
    assert parse("**file").excludes("dir/myfile")  # a bare suffix test
    assert not parse("**/file").excludes("dir/myfile")
    bang = parse("[!a]")  # no negation in Go: a class of "!" and "a"
    assert bang.excludes("a") and bang.excludes("!") and not bang.excludes("b")
    star = parse("[*]")  # the regexp is ^[[^/]*]$
    assert star.excludes("]") and star.excludes("[^]") and not star.excludes("*")
    assert parse("a^b").excludes("a^b")  # no regexp at all: a plain comparison
    assert not parse("a^b*").excludes("a^bc")  # in a regexp "^" anchors, as in Go
    assert parse("\\#x").excludes("#x")


def test_unsupported_regexp_features_are_refused() -> None:
    with pytest.raises(ValueError, match=r"line 1: escape \\d is not supported"):
        parse("file\\d")
    with pytest.raises(ValueError, match="POSIX class"):
        parse("[[:digit:]]")


def test_long_paths_take_linear_time() -> None:
    long_name = "a" * 2000
    deep = "/".join(["a", "x"] * 700) + "/c"
    start = time.perf_counter()
    assert not parse("*a*a*a*a*a*a*a*a*a*a*a*a*b").excludes(long_name)
    assert parse("*a*a*a*a*a*a*a*a*a*a*a*a*").excludes(long_name)
    assert not parse("**/a/*/**/a/*/**/a/*/**/b").excludes(deep)
    assert parse("**/a/*/**/a/*/**/c").excludes(deep)
    assert not parse("*?*?*?*?*?*?*?*?*?*?*?*?b").excludes(long_name)
    assert time.perf_counter() - start < 5


def test_a_bang_brought_forward_by_cleaning_is_an_exception() -> None:
    # ReadAll strips the "/" of "/!keep", and New then reads the "!" as an exception.
    rules = parse("*\n/!keep")
    assert rules.patterns == ("*", "!keep")
    assert not rules.excludes("keep") and rules.excludes("other")
