"""ADD for local files and folders: COPY says what it does.

## Why
ADD does more than copy: it downloads URLs, clones git repositories and
unpacks local tar archives. For plain files and folders COPY does the same
thing and nothing else, so a reader (and the next edit) cannot be surprised
by an archive that gets unpacked. BuildKit's and Docker's best practices say
the same.

## Example
    ADD --chown=app:app requirements.txt /app/

becomes

    COPY --chown=app:app requirements.txt /app/

## Fix
Safe: only the keyword changes (in the same case: `add` becomes `copy`);
flags both take (`--chown`, `--chmod`, `--link`, `--exclude`), the JSON form
and heredoc sources mean the same for COPY.

Like hadolint, dfix reports an ADD when one of its sources is neither a URL
(`http://`, `https://`) nor an archive by extension (`.tar`, `.gz`, `.tgz`,
`.bz2`, `.xz`, ...); an ADD inside ONBUILD is not reported. It does not fix
an ADD that would do something COPY does not, or might:

- a source is a URL or a git repository (`git@host:repo`, `*.git`);
- a source looks like an archive (the extensions above in any case, and
  `.zst`, `.tzst`, `.tz`, `.taz`): ADD unpacks tar archives, whatever their
  compression;
- a wildcard source could match an archive (`ADD dist/* /srv/`);
- a source has a variable, whose value dfix cannot know;
- an option only ADD has (`--checksum`, `--keep-git-dir`, `--unpack`) or
  that dfix does not know.

It also leaves ADD alone where COPY would draw a new hadolint finding: several
sources into a destination without a final `/` (DL3021), or a relative
destination with no WORKDIR set (DL3045).
"""

from __future__ import annotations

import fnmatch
import re
from typing import Iterator

from dfix.cst import nodes as n
from dfix.rules._api import Context, Diagnostic, Fix, Rule
from dfix.rules._copies import is_remote, paths_of, unquoted
from dfix.rules._stages import Stage, stages

MESSAGE = "Use COPY instead of ADD for files and folders"

# hadolint's archiveFileFormatExtensions: what it takes for an archive (case matters)
HADOLINT_ARCHIVES = (
    ".tar", ".Z", ".bz2", ".gz", ".lz", ".lzma", ".tZ", ".tb2", ".tbz", ".tbz2", ".tgz", ".tlz", ".tpz", ".txz", ".xz",
)
# What ADD may unpack: tar archives, plain or compressed (gzip, bzip2, xz, zstd)
_ARCHIVES = tuple({ext.lower() for ext in HADOLINT_ARCHIVES} | {".zst", ".zstd", ".tzst", ".tz", ".taz", ".tzo"})
_FLAGS_COPY_TAKES = frozenset(("chown", "chmod", "link", "exclude"))
_ADD_ONLY_FLAGS = frozenset(("checksum", "keep-git-dir", "unpack"))
_unquoted = unquoted


def hadolint_reports(sources: list[str]) -> bool:
    """hadolint's DL3020: some source is neither an archive nor a URL."""
    return any(
        not _unquoted(source).endswith(HADOLINT_ARCHIVES) and not _unquoted(source).startswith(("https://", "http://"))
        for source in sources
    )


def check(ctx: Context) -> Iterator[Diagnostic]:
    for stage in ctx.stages:
        for instruction in stage.instructions:
            if not isinstance(instruction, n.Add):
                continue
            sources, heredocs, destination = paths_of(instruction)
            if not hadolint_reports(sources) and not (heredocs and not sources):
                continue
            reason = _why_not(ctx, stage, instruction, sources, heredocs, destination)
            if reason:
                yield ctx.decline(instruction, MESSAGE, reason)
                continue
            copy = _as_copy(instruction)
            yield ctx.report(instruction, MESSAGE, Fix.replace(instruction, copy, "Replace ADD with COPY"))


def _why_not(ctx: Context, stage: Stage, add: n.Add, sources: list[str], heredocs: int, destination: str) -> str:
    """Why the ADD cannot become a COPY ("" when it can)."""
    for flag in add.flags:
        if flag.name in _ADD_ONLY_FLAGS:
            return f"`--{flag.name}` is an option only ADD has"
        if flag.name not in _FLAGS_COPY_TAKES:
            return f"dfix does not know what `--{flag.name}` would do for COPY"
    for source in map(_unquoted, sources):
        if is_remote(source):
            return "a source is a URL or a git repository"
        if "$" in source:
            return "a source has a variable"
        if source.lower().endswith(_ARCHIVES):
            return "a source may be an archive, which ADD unpacks"
        if _may_match_archive(source):
            return "a wildcard source may match an archive, which ADD unpacks"
    if len(sources) + heredocs > 1 and not _unquoted(destination).endswith("/"):
        return "COPY with several sources needs a destination ending with `/` (DL3021)"
    if _relative_for_hadolint(destination) and not _workdir_set(ctx.tree, stage, add):
        return "COPY to a relative destination needs a WORKDIR first (DL3045)"
    return ""


def _may_match_archive(source: str) -> bool:
    """Whether a wildcard in the last segment may match a name ending like an archive."""
    name = source.rstrip("/").rsplit("/", 1)[-1]
    if not re.search(r"[*?\[]", name):
        return False
    return any(fnmatch.fnmatchcase(f"a{ext}", name) or fnmatch.fnmatchcase(f"a{ext}".upper(), name)
               for ext in _ARCHIVES) or not _literal_extension(name)


def _literal_extension(pattern: str) -> bool:
    """Whether the pattern ends with a literal extension (``*.py``): then it
    only matches names with that extension."""
    tail = re.split(r"[*?\]]", pattern)[-1]
    return re.fullmatch(r"[^.]*\.[\w-]+", tail) is not None


def _relative_for_hadolint(destination: str) -> bool:
    """hadolint's DL3045 idea of a relative destination."""
    path = _unquoted(destination)
    return not (path.startswith(("/", "$")) or path[1:].startswith((":\\", ":/")))


def _workdir_set(tree: n.Dockerfile, stage: Stage, add: n.Add) -> bool:
    """Whether a WORKDIR comes before ``add`` in its stage or in the stages
    it is built FROM, with names compared exactly, as hadolint does."""
    all_stages = stages(tree)
    current: Stage | None = stage
    seen = 0
    while current is not None and seen < 20:
        for instruction in current.instructions:
            if instruction is add:
                break
            if isinstance(instruction, n.Workdir):
                return True
        position = next(i for i, each in enumerate(all_stages) if each.from_ is current.from_)
        image = current.from_.image if current.from_ is not None else None
        current = next((each for each in reversed(all_stages[:position]) if image and each.name == image), None)
        seen += 1
    return False


def _as_copy(add: n.Add) -> n.Copy:
    keyword = add.keyword_text.value
    if keyword.islower():
        word = "copy"
    elif keyword.istitle():
        word = "Copy"
    else:
        word = "COPY"
    fields = {name: getattr(add, name) for name in n.Copy.printed_fields()}
    fields["keyword_text"] = n.Fragment.of(word)
    return n.Copy(**fields, start_line=add.start_line, end_line=add.end_line)


RULE = Rule("DL3020", "use-copy", "ADD for local files and folders", check, __doc__)
