"""End-to-end tests of ``dfix-lsp``: the real server process, over stdio,
driven by pytest-lsp's client.

Every expectation is computed from dfix itself, never copied from the
server: the diagnostics from ``dfix.check`` (or the ranges the CLI prints with
``--format json`` where a configuration file is involved), converted here to
LSP positions in the negotiated encoding; fixes from ``dfix.fix`` and from the
real ``dfix --write - --stdin-filename PATH``; hovers from ``dfix --explain``.
Edits the server sends are applied here by an independent implementation of
LSP positions (``apply_edits`` below), not by the server's ``text_edits``.

One server runs for most of the module (``lsp``); tests that need other
client capabilities or editor settings start their own.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import json
import random
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, AsyncIterator, Iterable

import pytest
import pytest_asyncio
from click.testing import CliRunner
from lsprotocol import types as T
from pygls.protocol import default_converter
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, LanguageClient, register_lsp_features

import dfix
from dfix.cst.build import MAX_SIZE
from tests.conftest import FIXTURES, corpus_dir, corpus_names, read_exact

pytestmark = pytest.mark.asyncio(loop_scope="module")

#: seconds to wait for any one answer or notification of the server
TIMEOUT = 20.0
#: how long a request on a small document may take while a huge buffer is open
PROMPT = 5.0
#: how long a small document may wait behind the largest buffer dfix accepts (about 4 s here)
BIG_BUFFER_DELAY = 20.0
FIX_ALL = "source.fixAll.dfix"
CORPUS_SAMPLE = 40
CORPUS_SEED = 20240611


# --- texts -------------------------------------------------------------------------------------------------------

# findings after non-ASCII characters on their own line, one of them outside the BMP (🐳: two UTF-16 units,
# four UTF-8 bytes, one character): dfix's character columns differ from every LSP encoding but UTF-32
NON_ASCII = (
    "FROM debian:bookworm\n"
    "MAINTAINER Zoë Müller <zoe@example.com>\n"
    "RUN apt-get update && apt-get install -y curl\n"
    'RUN echo "日本 🐳" && cd /tmp && apt-get install -y git\n'
    "CMD python app.py\n"
)
CRLF = NON_ASCII.replace("\n", "\r\n")
# a lone carriage return is a line end to LSP (not to dfix, which splits lines at "\n" only)
LONE_CR = 'FROM debian:bookworm\nRUN echo "a\rb🐳" && apt-get install -y curl\nMAINTAINER me\n'

# for the code actions: a parser directive, a comment block and an indented instruction
ACTIONS = (
    "# syntax=docker/dockerfile:1\n"
    "FROM debian:bookworm AS build\n"
    "MAINTAINER Zoë <z@example.com>\n"
    "# install things\n"
    '    RUN echo "🐳" && apt-get install -y curl\n'
    "RUN pip install flask\n"
    "USER nobody\n"
)
CLEAN = "FROM debian:bookworm\nUSER nobody\nCMD [\"true\"]\n"
# texts dfix refuses
ENV_ERROR = 'FROM debian:bookworm\nENV a=é🐳 b\n'  # 2:10, after an emoji
HEREDOC_ERROR = 'FROM debian:bookworm\nRUN echo "🐳 héllo"\nRUN <<EOF\napt-get install -y curl\n'


# --- LSP positions, computed here ----------------------------------------------------------------------------------

_BREAK = re.compile(r"\r\n|\r|\n")


def units(chars: str, encoding: str) -> int:
    """The length of ``chars`` in the code units of an LSP position encoding."""
    if encoding == "utf-8":
        return len(chars.encode("utf-8"))
    if encoding == "utf-16":
        return len(chars.encode("utf-16-le")) // 2
    assert encoding == "utf-32", encoding
    return len(chars)


def line_starts(text: str) -> list[int]:
    """The offsets where LSP lines start (LSP's line ends: CRLF, CR, LF)."""
    return [0] + [match.end() for match in _BREAK.finditer(text)]


def position(text: str, offset: int, encoding: str = "utf-16") -> tuple[int, int]:
    starts = line_starts(text)
    line = bisect.bisect_right(starts, offset) - 1
    return line, units(text[starts[line]:offset], encoding)


def offset_of(text: str, pos: T.Position, encoding: str = "utf-16") -> int:
    """The offset of an LSP position; strict: no position past its line's end or inside a character."""
    starts = line_starts(text)
    assert 0 <= pos.line < len(starts), f"position {pos} is past the last line"
    start = starts[pos.line]
    end = starts[pos.line + 1] if pos.line + 1 < len(starts) else len(text)
    content_end = end
    while content_end > start and text[content_end - 1] in "\r\n":
        content_end -= 1
    counted, offset = 0, start
    while counted < pos.character:
        assert offset < content_end, f"position {pos} is past the end of its line"
        counted += units(text[offset], encoding)
        offset += 1
    assert counted == pos.character, f"position {pos} is inside a character"
    return offset


def apply_edits(text: str, edits: Iterable[T.TextEdit], encoding: str = "utf-16") -> str:
    """What an editor does with the server's edits (all relative to the original text)."""
    spans = sorted(
        ((offset_of(text, e.range.start, encoding), offset_of(text, e.range.end, encoding), e.new_text) for e in edits),
        key=lambda span: span[:2],
    )
    out, last = [], 0
    for start, end, new_text in spans:
        assert last <= start <= end, f"overlapping or reversed edits: {spans}"
        out += [text[last:start], new_text]
        last = end
    return "".join(out) + text[last:]


def dfix_offset(text: str, line: int, column: int) -> int:
    """The offset of dfix's 1-based line and character column (dfix splits lines at "\\n")."""
    start = 0
    for _ in range(line - 1):
        start = text.index("\n", start) + 1
    return start + column - 1


def lsp_range(text: str, line: int, column: int, end_line: int, end_column: int, encoding: str) -> tuple:
    return (position(text, dfix_offset(text, line, column), encoding),
            position(text, dfix_offset(text, end_line, end_column), encoding))


def expected_diagnostics(text: str, encoding: str = "utf-16", **selection: Any) -> list[tuple]:
    """dfix.check's findings as (code, start, end, severity, message), in LSP positions."""
    out = []
    for d in dfix.check(text, **selection):
        display_only = d.fix is not None and d.fix.applicability.value == "display-only"
        out.append((d.id, *lsp_range(text, d.line, d.column, d.end_line, d.end_column, encoding),
                    3 if display_only else 2, d.message))
    return sorted(out)


def shown(diagnostics: Iterable[T.Diagnostic]) -> list[tuple]:
    out = []
    for d in diagnostics:
        assert d.source == "dfix", d
        if d.code is not None:
            assert isinstance(d.data, dict) and d.data.get("rule") == d.code, d
        out.append((d.code, (d.range.start.line, d.range.start.character),
                    (d.range.end.line, d.range.end.character), int(d.severity), d.message))
    return sorted(out)


def ids(diagnostics: Iterable[T.Diagnostic]) -> list[str]:
    return sorted(str(d.code) for d in diagnostics)


# --- the command line, as the oracle -----------------------------------------------------------------------------

def _tool(name: str, module: str) -> list[str]:
    script = Path(sys.executable).parent / name
    return [str(script)] if script.exists() else [sys.executable, "-m", module]


DFIX = _tool("dfix", "dfix")
SERVER = _tool("dfix-lsp", "dfix.lsp")


def cli(text: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*DFIX, *args], input=text.encode("utf-8"), capture_output=True, timeout=60, check=False)


def cli_write(text: str, path: Path | str, *flags: str) -> tuple[int, str]:
    """The real ``dfix --write - --stdin-filename PATH [flags]``: its exit status and what it prints."""
    done = cli(text, "--write", "-", "--stdin-filename", str(path), *flags)
    return done.returncode, done.stdout.decode("utf-8")


def cli_write_in_process(text: str, path: Path | str) -> tuple[int, str]:
    """The same command run in this process (the CLI's own code, without a process start per file):
    for the hundreds of fixture and corpus files. Only for paths whose configuration does not change."""
    from dfix.cli import cli as command

    result = CliRunner().invoke(command, ["--write", "-", "--stdin-filename", str(path)], input=text.encode("utf-8"))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout_bytes.decode("utf-8")


def cli_findings(text: str, path: Path, encoding: str = "utf-16") -> list[tuple]:
    """``dfix --format json - --stdin-filename PATH``: (code, start, end, message) in LSP positions (with the
    configuration files the CLI finds for PATH)."""
    done = cli(text, "--format", "json", "--exit-zero", "-", "--stdin-filename", str(path))
    assert done.returncode == 0, done.stderr.decode()
    return sorted((f["id"], *lsp_range(text, f["line"], f["column"], f["end_line"], f["end_column"], encoding),
                   f["message"]) for f in json.loads(done.stdout))


def shown_ranges(diagnostics: Iterable[T.Diagnostic]) -> list[tuple]:
    """What the CLI's JSON has of a diagnostic: code, range, message."""
    return sorted((*row[:3], row[4]) for row in shown(diagnostics))


# --- the client ----------------------------------------------------------------------------------------------------

def _client() -> LanguageClient:
    """pytest-lsp's client, recording every publishDiagnostics (not only the last per URI) and
    every capability the server registers."""
    client = LanguageClient(converter_factory=default_converter)
    client.published = []  # type: ignore[attr-defined]
    client.registrations = []  # type: ignore[attr-defined]

    def publish(client: LanguageClient, params: T.PublishDiagnosticsParams) -> None:
        client.published.append(params)  # type: ignore[attr-defined]
        client.diagnostics[params.uri] = params.diagnostics

    def register(client: LanguageClient, params: T.RegistrationParams) -> None:
        client.registrations.extend(params.registrations)  # type: ignore[attr-defined]

    features = dict(DEFAULT_CLIENT_FEATURES)
    features[T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = publish
    features[T.CLIENT_REGISTER_CAPABILITY] = register
    register_lsp_features(client, features)
    return client


def capabilities(encodings: list[str] | None = None, pull: bool = False) -> T.ClientCapabilities:
    return T.ClientCapabilities(
        general=T.GeneralClientCapabilities(position_encodings=encodings) if encodings else None,
        workspace=T.WorkspaceClientCapabilities(
            configuration=True,
            did_change_configuration=T.DidChangeConfigurationClientCapabilities(dynamic_registration=False),
            did_change_watched_files=T.DidChangeWatchedFilesClientCapabilities(dynamic_registration=True),
            diagnostics=T.DiagnosticWorkspaceClientCapabilities(refresh_support=True) if pull else None,
            workspace_edit=T.WorkspaceEditClientCapabilities(
                document_changes=True, resource_operations=[T.ResourceOperationKind.Create],
            ),
        ),
        text_document=T.TextDocumentClientCapabilities(
            synchronization=T.TextDocumentSyncClientCapabilities(did_save=True),
            publish_diagnostics=T.PublishDiagnosticsClientCapabilities(version_support=True),
            diagnostic=T.DiagnosticClientCapabilities(related_document_support=False) if pull else None,
            hover=T.HoverClientCapabilities(content_format=[T.MarkupKind.Markdown, T.MarkupKind.PlainText]),
            code_action=T.CodeActionClientCapabilities(
                code_action_literal_support=T.ClientCodeActionLiteralOptions(
                    T.ClientCodeActionKindOptions(value_set=[T.CodeActionKind.QuickFix, T.CodeActionKind.Source])
                ),
                is_preferred_support=True,
            ),
        ),
    )


class Session:
    """One running server and the client talking to it."""

    def __init__(self, client: LanguageClient, result: T.InitializeResult, encoding: str) -> None:
        self.client = client
        self.result = result
        self.encoding = encoding
        self.versions: dict[str, int] = {}

    @classmethod
    async def start(
        cls, root: Path | None, *, options: Any = None, encodings: list[str] | None = None, pull: bool = False,
        command: list[str] = SERVER,
    ) -> Session:
        client = _client()
        await client.start_io(*command)
        try:
            result = await asyncio.wait_for(client.initialize_session(T.InitializeParams(
                capabilities=capabilities(encodings, pull),
                root_uri=root.as_uri() if root else None,
                workspace_folders=[T.WorkspaceFolder(root.as_uri(), root.name)] if root else None,
                initialization_options=options,
            )), TIMEOUT)
        except BaseException:
            await _kill(client)
            raise
        return cls(client, result, str(result.capabilities.position_encoding or "utf-16"))

    async def stop(self) -> int | None:
        """Shut the server down (shutdown, exit); its exit status."""
        try:
            await asyncio.wait_for(self.client.shutdown_session(), TIMEOUT)
        finally:
            await _kill(self.client)
        return self.client._server.returncode if self.client._server else None

    @property
    def process(self) -> asyncio.subprocess.Process:
        assert self.client._server is not None
        return self.client._server

    # --- documents

    @property
    def published(self) -> list[T.PublishDiagnosticsParams]:
        return self.client.published  # type: ignore[attr-defined]

    def mark(self) -> int:
        return len(self.published)

    def published_for(self, uri: str, after: int = 0) -> list[T.PublishDiagnosticsParams]:
        return [p for p in self.published[after:] if p.uri == uri]

    async def wait_published(
        self, uri: str, *, after: int, version: int | None = None, timeout: float = TIMEOUT,
    ) -> T.PublishDiagnosticsParams:
        """The first publication for ``uri`` after the mark ``after`` (of ``version``, if given)."""
        deadline = time.monotonic() + timeout
        while True:
            for params in self.published_for(uri, after):
                if version is None or params.version == version:
                    return params
            if self.process.returncode is not None:
                raise AssertionError(f"the server exited with {self.process.returncode}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no diagnostics for {uri} (version {version}) in {timeout}s; "
                                     f"got {self.published_for(uri, after)}")
            await asyncio.sleep(0.01)

    def open(self, uri: str, text: str, language: str = "dockerfile", version: int = 1) -> None:
        self.versions[uri] = version
        item = T.TextDocumentItem(uri, language, version, text)
        self.client.text_document_did_open(T.DidOpenTextDocumentParams(item))

    async def open_and_wait(self, uri: str, text: str, timeout: float = TIMEOUT) -> list[T.Diagnostic]:
        mark = self.mark()
        self.open(uri, text)
        return list((await self.wait_published(uri, after=mark, version=1, timeout=timeout)).diagnostics)

    def change(self, uri: str, text: str) -> int:
        self.versions[uri] += 1
        version = self.versions[uri]
        self.client.text_document_did_change(T.DidChangeTextDocumentParams(
            T.VersionedTextDocumentIdentifier(version, uri), [T.TextDocumentContentChangeWholeDocument(text)]
        ))
        return version

    async def change_and_wait(self, uri: str, text: str) -> list[T.Diagnostic]:
        mark = self.mark()
        version = self.change(uri, text)
        return list((await self.wait_published(uri, after=mark, version=version)).diagnostics)

    def close(self, uri: str) -> None:
        self.versions.pop(uri, None)
        self.client.text_document_did_close(T.DidCloseTextDocumentParams(T.TextDocumentIdentifier(uri)))

    async def request(self, awaitable: Any, timeout: float = TIMEOUT) -> Any:
        return await asyncio.wait_for(awaitable, timeout)

    async def code_actions(
        self, uri: str, rng: T.Range, diagnostics: Iterable[T.Diagnostic] = (), only: list[str] | None = None,
    ) -> list[T.CodeAction]:
        params = T.CodeActionParams(T.TextDocumentIdentifier(uri), rng,
                                    T.CodeActionContext(diagnostics=list(diagnostics), only=only))
        found = await self.request(self.client.text_document_code_action_async(params))
        assert all(isinstance(action, T.CodeAction) for action in found or []), found
        return list(found or [])

    async def format(self, uri: str) -> list[T.TextEdit]:
        params = T.DocumentFormattingParams(T.TextDocumentIdentifier(uri), T.FormattingOptions(4, True))
        found = await self.request(self.client.text_document_formatting_async(params))
        return list(found or [])

    async def hover(self, uri: str, line: int, character: int) -> T.Hover | None:
        params = T.HoverParams(T.TextDocumentIdentifier(uri), T.Position(line, character))
        return await self.request(self.client.text_document_hover_async(params))

    async def pull(self, uri: str) -> T.DocumentDiagnosticReport:
        params = T.DocumentDiagnosticParams(T.TextDocumentIdentifier(uri))
        return await self.request(self.client.text_document_diagnostic_async(params))

    def watched_changed(self, *paths: Path, kind: T.FileChangeType = T.FileChangeType.Changed) -> None:
        self.client.workspace_did_change_watched_files(
            T.DidChangeWatchedFilesParams([T.FileEvent(path.as_uri(), kind) for path in paths])
        )

    def apply(self, uri: str, text: str, action: T.CodeAction) -> str:
        """The text with a code action's edit applied; it must edit only this document, at its version."""
        edit = action.edit
        assert edit is not None and action.command is None, action
        changes: list[T.TextEdit] = []
        if edit.document_changes:
            for change in edit.document_changes:
                assert isinstance(change, T.TextDocumentEdit), change
                assert change.text_document.uri == uri
                assert change.text_document.version == self.versions[uri], (change.text_document, self.versions)
                changes += change.edits
        for changed_uri, edits in (edit.changes or {}).items():
            assert changed_uri == uri
            changes += edits
        assert changes, action
        return apply_edits(text, changes, self.encoding)


async def _kill(client: LanguageClient) -> None:
    process = client._server
    if process is not None and process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(client.stop(), 5)


@contextlib.asynccontextmanager
async def server(root: Path | None, **kwargs: Any) -> AsyncIterator[Session]:
    session = await Session.start(root, **kwargs)
    try:
        yield session
    finally:
        await _kill(session.client)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared server's workspace root; its .dfix.toml is for untitled buffers only (no test's
    Dockerfile lives under it)."""
    root = tmp_path_factory.mktemp("workspace")
    (root / ".dfix.toml").write_text('ignore = ["DL3008"]\n')
    return root


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def lsp(workspace: Path) -> AsyncIterator[Session]:
    async with server(workspace) as session:
        yield session


def uri_of(path: Path) -> str:
    return path.as_uri()


def finding(diagnostics: Iterable[T.Diagnostic], code: str) -> T.Diagnostic:
    found = [d for d in diagnostics if d.code == code]
    assert len(found) == 1, (code, diagnostics)
    return found[0]


def titled(actions: list[T.CodeAction], title: str) -> T.CodeAction:
    found = [a for a in actions if a.title == title]
    assert len(found) == 1, (title, [a.title for a in actions])
    return found[0]


# === 1. diagnostics on didOpen ====================================================================================

@pytest.mark.parametrize("name, text", [("non_ascii", NON_ASCII), ("crlf", CRLF), ("lone_cr", LONE_CR)])
async def test_diagnostics_on_open_match_dfix_check(lsp: Session, tmp_path: Path, name: str, text: str) -> None:
    assert lsp.encoding == "utf-16"  # the client offered nothing: LSP's default
    uri = uri_of(tmp_path / "Dockerfile")
    diagnostics = await lsp.open_and_wait(uri, text)
    expected = expected_diagnostics(text, "utf-16")
    assert shown(diagnostics) == expected
    assert expected, "the text should have findings"
    # the test means something: a finding starts where LSP's position differs from dfix's line and column
    assert any(position(text, dfix_offset(text, d.line, d.column)) != (d.line - 1, d.column - 1)
               for d in dfix.check(text))
    for d in diagnostics:
        assert d.severity == T.DiagnosticSeverity.Warning
        assert d.code and d.source == "dfix"
    lsp.close(uri)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-32"])
async def test_position_encodings(tmp_path: Path, encoding: str) -> None:
    """The negotiated encoding is used for every position: diagnostics (findings and a parse error),
    code action edits, formatting edits and hover."""
    async with server(tmp_path, encodings=[encoding, "utf-16"]) as session:
        assert session.encoding == encoding
        for name, text in (("Dockerfile", NON_ASCII), ("crlf.Dockerfile", CRLF)):
            uri = uri_of(tmp_path / name)
            diagnostics = await session.open_and_wait(uri, text)
            assert shown(diagnostics) == expected_diagnostics(text, encoding)

            # formatting and fix-all, with edits in this encoding
            code, out = cli_write(text, tmp_path / name)
            assert code == 0
            assert apply_edits(text, await session.format(uri), encoding) == out
            full = T.Range(T.Position(0, 0), T.Position(0, 0))
            fix_all = titled(await session.code_actions(uri, full, only=[FIX_ALL]), "dfix: fix all")
            assert session.apply(uri, text, fix_all) == out

            # a quick fix on the line with the emoji, located by the server's own range
            dl3015 = [d for d in diagnostics if d.code == "DL3015"][-1]
            actions = await session.code_actions(uri, dl3015.range, [dl3015])
            fixed = session.apply(uri, text, titled(actions, "DL3015: Add `--no-install-recommends` (unsafe fix)"))
            assert len(fixed.splitlines()) == len(text.splitlines())
            changed = [i for i, (a, b) in enumerate(zip(text.splitlines(), fixed.splitlines(), strict=True)) if a != b]
            assert changed == [3] and "--no-install-recommends" in fixed.splitlines()[3]
            dfix.parse(fixed)

            # hover inside that finding, in this encoding's units
            hover = await session.hover(uri, dl3015.range.start.line, dl3015.range.start.character + 1)
            assert hover is not None and "**DL3015**" in hover.contents.value
            session.close(uri)

        uri = uri_of(tmp_path / "broken.Dockerfile")
        [error] = await session.open_and_wait(uri, ENV_ERROR)
        parse_error = _parse_error(ENV_ERROR)
        line_text = ENV_ERROR.split("\n")[parse_error.line - 1]
        assert (error.range.start.line, error.range.start.character) == (
            parse_error.line - 1, units(line_text[:parse_error.column - 1], encoding))


# === 2. didChange =================================================================================================

async def test_did_change_updates_diagnostics_with_version(lsp: Session, tmp_path: Path) -> None:
    uri = uri_of(tmp_path / "Dockerfile")
    before = await lsp.open_and_wait(uri, NON_ASCII)
    assert "DL4000" in ids(before)

    fixed = NON_ASCII.replace("MAINTAINER Zoë Müller <zoe@example.com>", 'LABEL maintainer="Zoë Müller"')
    mark = lsp.mark()
    version = lsp.change(uri, fixed)
    published = await lsp.wait_published(uri, after=mark, version=version)
    assert published.version == version == 2
    assert "DL4000" not in ids(published.diagnostics)
    assert shown(published.diagnostics) == expected_diagnostics(fixed)

    # fast typing: many versions in a row; the last publication is the newest version's, never an older one's
    texts = [fixed + f"RUN echo {i}\n" for i in range(6)]
    mark = lsp.mark()
    for text in texts:
        last = lsp.change(uri, text)
    await lsp.wait_published(uri, after=mark, version=last)
    await asyncio.sleep(0.5)
    versions = [p.version for p in lsp.published_for(uri, mark)]
    assert versions == sorted(versions) and versions[-1] == last, versions
    assert shown(lsp.client.diagnostics[uri]) == expected_diagnostics(texts[-1])
    lsp.close(uri)


# === 3. code actions ==============================================================================================

async def _open_actions(
    lsp: Session, tmp_path: Path, text: str, name: str = "Dockerfile",
) -> tuple[str, list[T.Diagnostic]]:
    uri = uri_of(tmp_path / name)
    diagnostics = await lsp.open_and_wait(uri, text)
    assert shown(diagnostics) == expected_diagnostics(text)
    return uri, diagnostics


async def test_a_new_dockerignore_is_offered_as_a_file_to_create(lsp: Session, tmp_path: Path) -> None:
    """DF112's fix writes no byte of the Dockerfile: its action creates the
    file (refusing one that exists) and fills it, as ``dfix --write`` would."""
    from tests.test_context_rules import materialize

    context = materialize(FIXTURES / "context" / "DF112" / "node", tmp_path)
    expected = (FIXTURES / "context" / "DF112" / "node.expected" / ".dockerignore").read_text()
    uri = uri_of(context / "Dockerfile")
    diagnostics = await lsp.open_and_wait(uri, (context / "Dockerfile").read_text())
    df112 = finding(diagnostics, "DF112")
    actions = await lsp.code_actions(uri, df112.range, [df112])
    create = next(a for a in actions if a.title.startswith("DF112: Create a .dockerignore"))
    made, filled = create.edit.document_changes
    new_uri = (context / ".dockerignore").as_uri()
    assert isinstance(made, T.CreateFile) and made.uri == new_uri
    assert (made.options.overwrite, made.options.ignore_if_exists) == (False, False)
    assert filled.text_document.uri == new_uri and [e.new_text for e in filled.edits] == [expected]
    assert not (context / ".dockerignore").exists()  # the editor creates it, not the server


async def test_quick_fix_applies_that_one_fix(lsp: Session, tmp_path: Path) -> None:
    uri, diagnostics = await _open_actions(lsp, tmp_path, ACTIONS)
    before = Counter(d.id for d in dfix.check(ACTIONS))

    # a safe fix: preferred, and the same text as dfix fixing that rule alone
    dl4000 = finding(diagnostics, "DL4000")
    actions = await lsp.code_actions(uri, dl4000.range, [dl4000])
    fix = titled(actions, "DL4000: Replace with a LABEL")
    assert fix.kind == T.CodeActionKind.QuickFix and fix.is_preferred
    assert [shown([d]) for d in fix.diagnostics or []] == [shown([dl4000])]
    fixed = lsp.apply(uri, ACTIONS, fix)
    assert fixed == dfix.fix(ACTIONS, select="DL4000").code
    dfix.parse(fixed)
    after = Counter(d.id for d in dfix.check(fixed))
    assert after == before - Counter(["DL4000"])

    # an unsafe fix: offered, marked, never preferred; the same as dfix with --unsafe-fixes for that rule alone
    dl3015 = finding(diagnostics, "DL3015")
    actions = await lsp.code_actions(uri, dl3015.range, [dl3015])
    unsafe = titled(actions, "DL3015: Add `--no-install-recommends` (unsafe fix)")
    assert unsafe.kind == T.CodeActionKind.QuickFix and not unsafe.is_preferred
    fixed = lsp.apply(uri, ACTIONS, unsafe)
    assert fixed == dfix.fix(ACTIONS, select="DL3015", unsafe=True).code
    assert "DL3015" not in [d.id for d in dfix.check(fixed)]

    # a finding without a fix has no fix action, only the ignore actions
    dl3008 = finding(diagnostics, "DL3008")
    titles = [a.title for a in await lsp.code_actions(uri, dl3008.range, [dl3008]) if a.title.startswith("DL3008")]
    assert titles == []

    # the actions are offered for a cursor inside the finding too (no diagnostics in the context)
    inside = T.Range(dl4000.range.start, dl4000.range.start)
    assert "DL4000: Replace with a LABEL" in [a.title for a in await lsp.code_actions(uri, inside)]
    # and not for a line without findings
    assert await lsp.code_actions(uri, T.Range(T.Position(3, 0), T.Position(3, 0)), only=["quickfix"]) == []
    lsp.close(uri)


async def test_ignore_for_instruction_inserts_pragma_in_its_indentation(lsp: Session, tmp_path: Path) -> None:
    uri, diagnostics = await _open_actions(lsp, tmp_path, ACTIONS)
    dl3008 = finding(diagnostics, "DL3008")
    action = titled(await lsp.code_actions(uri, dl3008.range, [dl3008]), "Ignore DL3008 for this instruction")
    assert action.kind == T.CodeActionKind.QuickFix
    result = lsp.apply(uri, ACTIONS, action)
    lines = ACTIONS.splitlines(keepends=True)
    assert result == "".join(lines[:4] + ["    # dfix: ignore=DL3008\n"] + lines[4:])
    after = dfix.check(result)
    assert "DL3008" not in [d.id for d in after]
    assert "DL3015" in [d.id for d in after]  # only that rule is silenced
    lsp.close(uri)


async def test_ignore_for_instruction_merges_into_existing_pragma(lsp: Session, tmp_path: Path) -> None:
    text = ACTIONS.replace("# install things\n", "# install things\n    # dfix: ignore=DL3015  (recommends wanted)\n")
    uri, diagnostics = await _open_actions(lsp, tmp_path, text)
    assert "DL3015" not in ids(diagnostics)
    dl3008 = finding(diagnostics, "DL3008")
    result = lsp.apply(uri, text, titled(await lsp.code_actions(uri, dl3008.range, [dl3008]),
                                         "Ignore DL3008 for this instruction"))
    assert result == text.replace("# dfix: ignore=DL3015 ", "# dfix: ignore=DL3015,DL3008 ")
    assert not {"DL3008", "DL3015"} & {d.id for d in dfix.check(result)}
    lsp.close(uri)


async def test_ignore_for_instruction_crlf(lsp: Session, tmp_path: Path) -> None:
    text = ACTIONS.replace("\n", "\r\n")
    uri, diagnostics = await _open_actions(lsp, tmp_path, text)
    dl3042 = finding(diagnostics, "DL3042")
    result = lsp.apply(uri, text, titled(await lsp.code_actions(uri, dl3042.range, [dl3042]),
                                         "Ignore DL3042 for this instruction"))
    assert result == text.replace("RUN pip install", "# dfix: ignore=DL3042\r\nRUN pip install")
    assert "DL3042" not in [d.id for d in dfix.check(result)]
    lsp.close(uri)


async def test_ignore_in_file_goes_after_parser_directives(lsp: Session, tmp_path: Path) -> None:
    uri, diagnostics = await _open_actions(lsp, tmp_path, ACTIONS)
    dl3042 = finding(diagnostics, "DL3042")
    action = titled(await lsp.code_actions(uri, dl3042.range, [dl3042]), "Ignore DL3042 in this file")
    result = lsp.apply(uri, ACTIONS, action)
    assert result == ACTIONS.replace("dockerfile:1\n", "dockerfile:1\n# dfix: ignore-file=DL3042\n", 1)
    assert [d.code for d in dfix.parse(result).directives] == [d.code for d in dfix.parse(ACTIONS).directives]
    assert sorted(d.id for d in dfix.check(result)) == sorted(d.id for d in dfix.check(ACTIONS) if d.id != "DL3042")
    lsp.close(uri)

    # merged into the file's pragma when there is one
    text = ACTIONS.replace("USER nobody\n", "USER nobody\n# dfix: ignore-file=DL3008\n")
    uri, diagnostics = await _open_actions(lsp, tmp_path, text, "merge.Dockerfile")
    dl3042 = finding(diagnostics, "DL3042")
    result = lsp.apply(uri, text, titled(await lsp.code_actions(uri, dl3042.range, [dl3042]),
                                         "Ignore DL3042 in this file"))
    assert result == text.replace("ignore-file=DL3008", "ignore-file=DL3008,DL3042")
    assert not {"DL3008", "DL3042"} & {d.id for d in dfix.check(result)}
    lsp.close(uri)

    # a BOM stays first
    text = "\ufeffFROM debian:bookworm\nMAINTAINER me\nUSER nobody\n"
    uri, diagnostics = await _open_actions(lsp, tmp_path, text, "bom.Dockerfile")
    dl4000 = finding(diagnostics, "DL4000")
    result = lsp.apply(uri, text, titled(await lsp.code_actions(uri, dl4000.range, [dl4000]),
                                         "Ignore DL4000 in this file"))
    assert result == "\ufeff# dfix: ignore-file=DL4000\n" + text[1:]
    assert "DL4000" not in [d.id for d in dfix.check(result)]
    lsp.close(uri)


async def test_fix_all_equals_cli_write(lsp: Session, tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    uri, diagnostics = await _open_actions(lsp, tmp_path, ACTIONS)
    code, out = cli_write(ACTIONS, path)
    assert code == 0 and out != ACTIONS
    everything = T.Range(T.Position(0, 0), T.Position(len(line_starts(ACTIONS)), 0))
    [fix_all] = await lsp.code_actions(uri, everything, only=[FIX_ALL])
    assert fix_all.kind == FIX_ALL and fix_all.title == "dfix: fix all"
    assert lsp.apply(uri, ACTIONS, fix_all) == out
    lsp.close(uri)

    # nothing to fix: no fix-all action, no formatting edits
    uri = uri_of(tmp_path / "clean.Dockerfile")
    assert await lsp.open_and_wait(uri, CLEAN) == []
    assert cli_write(CLEAN, tmp_path / "clean.Dockerfile") == (0, CLEAN)
    assert await lsp.code_actions(uri, T.Range(T.Position(0, 0), T.Position(0, 0)), only=[FIX_ALL]) == []
    assert await lsp.format(uri) == []
    lsp.close(uri)


@pytest.mark.parametrize("only, kinds", [
    (None, {"quickfix", FIX_ALL}),
    (["quickfix"], {"quickfix"}),
    ([FIX_ALL], {FIX_ALL}),
    (["source.fixAll"], {FIX_ALL}),
    (["source"], {FIX_ALL}),
    (["refactor"], set()),
    (["source.organizeImports"], set()),
])
async def test_code_action_context_only(lsp: Session, tmp_path: Path, only: list[str] | None, kinds: set[str]) -> None:
    uri, diagnostics = await _open_actions(lsp, tmp_path, ACTIONS)
    dl4000 = finding(diagnostics, "DL4000")
    actions = await lsp.code_actions(uri, dl4000.range, [dl4000], only=only)
    assert {str(a.kind) for a in actions} == kinds
    lsp.close(uri)


# === 4. formatting ================================================================================================

def _is_dockerfile_name(name: str) -> bool:
    return (name in ("Dockerfile", "Containerfile") or name.startswith(("Dockerfile.", "Containerfile."))
            or name.endswith((".Dockerfile", ".dockerfile"))) and not name.endswith(".fixed.Dockerfile")


FIXTURE_INPUTS = sorted(path for path in FIXTURES.rglob("*") if path.is_file() and _is_dockerfile_name(path.name))


async def _check_formatting(lsp: Session, path: Path, text: str) -> None:
    """Formatting ``text`` as ``path`` gives what the CLI prints for it, in line edits."""
    uri = uri_of(path)
    lsp.open(uri, text)
    try:
        edits = await lsp.format(uri)
        code, out = cli_write_in_process(text, path)
        if code == 2:  # dfix refuses the text: it prints nothing, and the server changes nothing
            assert out == "" and edits == []
            return
        assert code == 0
        assert apply_edits(text, edits) == out
        if out == text:
            assert edits == []
        starts = line_starts(text)
        for edit in edits:  # whole lines: cursors on other lines stay put
            assert edit.range.start.character == 0, edit
            assert edit.range.end.character == 0 or offset_of(text, edit.range.end) == len(text), edit
            assert edit.range.end.line < len(starts)
    finally:
        lsp.close(uri)


async def test_fixtures_found() -> None:
    assert len(FIXTURE_INPUTS) > 100, FIXTURE_INPUTS


@pytest.mark.parametrize("path", FIXTURE_INPUTS, ids=[str(p.relative_to(FIXTURES)) for p in FIXTURE_INPUTS])
async def test_formatting_equals_cli_on_fixtures(lsp: Session, path: Path) -> None:
    await _check_formatting(lsp, path, read_exact(path))


def _corpus_sample() -> list[str]:
    names = corpus_names()
    return sorted(random.Random(CORPUS_SEED).sample(names, min(CORPUS_SAMPLE, len(names))))


@pytest.mark.corpus
@pytest.mark.parametrize("name", _corpus_sample())
async def test_formatting_equals_cli_on_corpus(lsp: Session, name: str) -> None:
    directory = corpus_dir()
    assert directory is not None
    data = (directory / name).read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pytest.skip("not UTF-8: no editor sends it as it is")
    await _check_formatting(lsp, directory / name, text)


async def test_formatting_edits_are_minimal(lsp: Session, tmp_path: Path) -> None:
    lines = ["FROM debian:bookworm\n", "USER nobody\n"]
    lines += [f'LABEL org.example.label{i}="value {i}"\n' for i in range(400)]
    lines.insert(200, "MAINTAINER Jane Doe <jane@example.com>\n")
    text = "".join(lines)
    path = tmp_path / "Dockerfile"
    code, out = cli_write(text, path)
    assert code == 0 and out != text
    uri = uri_of(path)
    lsp.open(uri, text)
    edits = await lsp.format(uri)
    assert apply_edits(text, edits) == out
    [edit] = edits
    assert (edit.range.start.line, edit.range.start.character) == (200, 0)
    assert (edit.range.end.line, edit.range.end.character) == (201, 0)
    assert edit.new_text == out.splitlines(keepends=True)[200]
    lsp.close(uri)


async def test_formatting_applies_the_layout_rules_when_selected(lsp: Session, tmp_path: Path) -> None:
    (tmp_path / ".dfix.toml").write_text('select = ["DF2"]\n')
    text = "FROM   alpine:3.19  \nRUN apk add  --no-cache \\\n  curl\nCMD [ \"sh\" ]\nFROM alpine:3.19\n\n\n"
    path = tmp_path / "Dockerfile"
    uri = uri_of(path)
    lsp.open(uri, text)
    try:
        edits = await lsp.format(uri)
        assert apply_edits(text, edits) == (
            "FROM alpine:3.19\nRUN apk add --no-cache \\\n    curl\nCMD [\"sh\"]\n\nFROM alpine:3.19\n"
        )
        assert apply_edits(text, edits) == cli_write(text, path)[1]
    finally:
        lsp.close(uri)


# texts at the edges of line handling: LSP's line ends (CR, CRLF, LF) against dfix's ("\n"), no final line end,
# a BOM, characters Python's splitlines() takes as line ends but LSP does not; the last three are refused by dfix
ODD_TEXTS = {
    "lone_cr": LONE_CR,
    "cr_only": "FROM debian:bookworm\rMAINTAINER x\rUSER nobody\r",
    "no_final_newline": "FROM debian:bookworm\nMAINTAINER me",
    "no_final_newline_crlf": "FROM debian:bookworm\r\nMAINTAINER me",
    "mixed_line_ends": "FROM debian:bookworm\r\nMAINTAINER me\nRUN pip install x\r\n",
    "bom_crlf": "\ufeffFROM debian:bookworm\r\nMAINTAINER me\r\n",
    "form_feed_and_separators": "FROM debian:bookworm\nMAINTAINER me\x0c\nRUN echo \u2028 \x85 x\nMAINTAINER 𝕏 <x@y>\n",
    "escape_backtick": "# escape=`\nFROM debian:bookworm\nRUN pip install `\n  flask\nMAINTAINER me\n",
    "heredoc": "FROM debian:bookworm\nRUN <<EOF\npip install x\nEOF\nMAINTAINER me\n",
    "directives_only": "# syntax=docker/dockerfile:1",
    "empty": "",
    "blank": "\n\n  \n",
}


@pytest.mark.parametrize("name", ODD_TEXTS)
async def test_diagnostics_and_formatting_on_odd_texts(lsp: Session, tmp_path: Path, name: str) -> None:
    text = ODD_TEXTS[name]
    path = tmp_path / "Dockerfile"
    diagnostics = await lsp.open_and_wait(uri_of(path), text)
    try:
        expected = expected_diagnostics(text)
    except dfix.ParseError as error:
        [diagnostic] = diagnostics
        assert diagnostic.severity == T.DiagnosticSeverity.Error and error.message in diagnostic.message
    else:
        assert shown(diagnostics) == expected
    lsp.close(uri_of(path))
    await _check_formatting(lsp, path, text)


@pytest.mark.parametrize("path", [FIXTURES / "roundtrip" / "crlf.Dockerfile",
                                  FIXTURES / "roundtrip" / "bom.Dockerfile",
                                  FIXTURES / "rules" / "DL4000" / "simple.Dockerfile"], ids=lambda p: p.name)
async def test_in_process_cli_is_the_cli(path: Path) -> None:
    """The bulk formatting tests run the CLI's code in this process; it prints what the real command does."""
    text = read_exact(path)
    assert cli_write_in_process(text, path) == cli_write(text, path)


async def test_formatting_equals_cli_with_escape_characters(lsp: Session, tmp_path: Path) -> None:
    text = 'FROM debian:bookworm\nMAINTAINER me\nRUN printf "\x1b[31mred\x1b[0m\\n"\nUSER nobody\n'
    path = tmp_path / "Dockerfile"
    uri = uri_of(path)
    lsp.open(uri, text)
    formatted = apply_edits(text, await lsp.format(uri))
    lsp.close(uri)
    assert "\x1b[31m" in formatted  # the server keeps the bytes it did not mean to change
    assert cli_write(text, path) == (0, formatted)


# === 5. parse errors ==============================================================================================

def _parse_error(text: str) -> dfix.ParseError:
    with pytest.raises(dfix.ParseError) as error:
        dfix.parse(text)
    return error.value


@pytest.mark.parametrize("text", [ENV_ERROR, HEREDOC_ERROR, ENV_ERROR.replace("\n", "\r\n")],
                         ids=["env", "heredoc", "env_crlf"])
async def test_parse_error(lsp: Session, tmp_path: Path, text: str) -> None:
    path = tmp_path / "Dockerfile"
    uri = uri_of(path)
    [diagnostic] = await lsp.open_and_wait(uri, text)
    error = _parse_error(text)
    assert diagnostic.severity == T.DiagnosticSeverity.Error and diagnostic.source == "dfix"
    start = position(text, dfix_offset(text, error.line, error.column))
    assert (diagnostic.range.start.line, diagnostic.range.start.character) == start
    assert error.message in diagnostic.message
    everything = T.Range(T.Position(0, 0), T.Position(len(line_starts(text)), 0))
    assert await lsp.code_actions(uri, everything, [diagnostic]) == []
    assert await lsp.format(uri) == []
    assert await lsp.hover(uri, *start) is None
    assert cli_write(text, path) == (2, "")
    # fixing the error brings the findings back
    good = NON_ASCII
    assert shown(await lsp.change_and_wait(uri, good)) == expected_diagnostics(good)
    lsp.close(uri)


# === 6. configuration files =======================================================================================

CONFIGURED = NON_ASCII  # findings of DL3002, DL4000, DL3009, DL3008, DL3015, DL3003 and DL3025


async def test_watchers_registered(lsp: Session) -> None:
    registrations = [r for r in lsp.client.registrations if r.method == T.WORKSPACE_DID_CHANGE_WATCHED_FILES]
    assert len(registrations) == 1
    options = registrations[0].register_options
    watchers = options["watchers"] if isinstance(options, dict) else [
        {"globPattern": w.glob_pattern} for w in options.watchers]
    globs = {w["globPattern"] for w in watchers}
    assert {"**/.dfix.toml", "**/pyproject.toml", "**/.hadolint.yaml", "**/.hadolint.yml"} <= globs


async def test_dfix_toml_and_watched_file_reload(lsp: Session, tmp_path: Path) -> None:
    directory = tmp_path / "project"
    directory.mkdir()
    config = directory / ".dfix.toml"
    config.write_text('ignore = ["DL3008"]\n')
    path = directory / "Dockerfile"
    uri = uri_of(path)
    diagnostics = await lsp.open_and_wait(uri, CONFIGURED)
    assert "DL3008" in [d.id for d in dfix.check(CONFIGURED)]
    assert "DL3008" not in ids(diagnostics)
    assert shown_ranges(diagnostics) == cli_findings(CONFIGURED, path)
    assert shown(diagnostics) == expected_diagnostics(CONFIGURED, ignore="DL3008")

    # the file changes on disk; the client says so
    config.write_text('ignore = ["DL3015", "DL4000"]\n')
    mark = lsp.mark()
    lsp.watched_changed(config)
    published = await lsp.wait_published(uri, after=mark)
    assert shown(published.diagnostics) == expected_diagnostics(CONFIGURED, ignore=["DL3015", "DL4000"])
    assert shown_ranges(published.diagnostics) == cli_findings(CONFIGURED, path)

    # deleted
    config.unlink()
    mark = lsp.mark()
    lsp.watched_changed(config, kind=T.FileChangeType.Deleted)
    published = await lsp.wait_published(uri, after=mark)
    assert shown(published.diagnostics) == expected_diagnostics(CONFIGURED)
    lsp.close(uri)


async def test_percent_encoded_uri(lsp: Session, tmp_path: Path) -> None:
    directory = tmp_path / "my project ü"
    directory.mkdir()
    (directory / ".dfix.toml").write_text('ignore = ["DL3008"]\n')
    path = directory / "Dockerfile"
    uri = uri_of(path)
    assert "%20" in uri
    try:
        diagnostics = await lsp.open_and_wait(uri, CONFIGURED, timeout=2)
        assert shown(diagnostics) == expected_diagnostics(CONFIGURED, ignore="DL3008")
        assert apply_edits(CONFIGURED, await lsp.format(uri)) == cli_write(CONFIGURED, path)[1]
    finally:
        lsp.close(uri)


async def test_nearest_config_upward(lsp: Session, tmp_path: Path) -> None:
    (tmp_path / ".dfix.toml").write_text('ignore = ["DL3008"]\n')
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    path = sub / "Dockerfile"
    uri = uri_of(path)
    diagnostics = await lsp.open_and_wait(uri, CONFIGURED)
    assert shown(diagnostics) == expected_diagnostics(CONFIGURED, ignore="DL3008")
    assert shown_ranges(diagnostics) == cli_findings(CONFIGURED, path)
    lsp.close(uri)


async def test_config_reloads_on_did_save_of_config(lsp: Session, tmp_path: Path) -> None:
    config = tmp_path / ".dfix.toml"
    config.write_text('ignore = ["DL3008"]\n')
    uri = uri_of(tmp_path / "Dockerfile")
    assert "DL3008" not in ids(await lsp.open_and_wait(uri, CONFIGURED))

    config_uri = uri_of(config)
    new = 'select = ["DL4000", "DL3008"]\n'
    lsp.open(config_uri, config.read_text(), language="toml")
    lsp.change(config_uri, new)
    config.write_text(new)
    mark = lsp.mark()
    lsp.client.text_document_did_save(T.DidSaveTextDocumentParams(T.TextDocumentIdentifier(config_uri), new))
    published = await lsp.wait_published(uri, after=mark)
    assert shown(published.diagnostics) == expected_diagnostics(CONFIGURED, select=["DL4000", "DL3008"])
    lsp.close(config_uri)
    lsp.close(uri)


async def test_open_config_file_is_not_linted_as_dockerfile(lsp: Session, tmp_path: Path) -> None:
    config = tmp_path / ".dfix.toml"
    config.write_text('ignore = ["DL3008"]\n')
    config_uri = uri_of(config)
    mark = lsp.mark()
    lsp.open(config_uri, config.read_text(), language="toml")
    # give the server time to publish anything it would
    uri = uri_of(tmp_path / "Dockerfile")
    await lsp.open_and_wait(uri, CONFIGURED)
    await asyncio.sleep(0.3)
    published = [d for p in lsp.published_for(config_uri, mark) for d in p.diagnostics]
    lsp.close(config_uri)
    lsp.close(uri)
    assert published == []


async def test_pyproject_tool_dfix(lsp: Session, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.dfix]\nignore = ["DL4000", "DL3002"]\n')
    path = tmp_path / "Dockerfile"
    uri = uri_of(path)
    diagnostics = await lsp.open_and_wait(uri, CONFIGURED)
    assert shown(diagnostics) == expected_diagnostics(CONFIGURED, ignore=["DL4000", "DL3002"])
    assert shown_ranges(diagnostics) == cli_findings(CONFIGURED, path)
    lsp.close(uri)


async def test_hadolint_yaml_ignored(lsp: Session, tmp_path: Path) -> None:
    (tmp_path / ".hadolint.yaml").write_text("failure-threshold: warning\nignored:\n  - DL3008\n  - DL3003\n")
    path = tmp_path / "Dockerfile"
    uri = uri_of(path)
    diagnostics = await lsp.open_and_wait(uri, CONFIGURED)
    assert shown(diagnostics) == expected_diagnostics(CONFIGURED, ignore=["DL3008", "DL3003"])
    assert shown_ranges(diagnostics) == cli_findings(CONFIGURED, path)
    # fix-all honours it the way the CLI does
    code, out = cli_write(CONFIGURED, path)
    assert code == 0
    assert apply_edits(CONFIGURED, await lsp.format(uri)) == out
    lsp.close(uri)


async def test_config_unsafe_fixes_and_rule_options(lsp: Session, tmp_path: Path) -> None:
    (tmp_path / ".dfix.toml").write_text(
        'unsafe-fixes = true\n\n[rules.DL4000]\nlabel = "org.opencontainers.image.authors"\n')
    path = tmp_path / "Dockerfile"
    uri = uri_of(path)
    diagnostics = await lsp.open_and_wait(uri, NON_ASCII)
    assert shown_ranges(diagnostics) == cli_findings(NON_ASCII, path)
    code, out = cli_write(NON_ASCII, path)
    # the CLI read the file: unsafe fixes applied, the label named as configured
    assert code == 0 and "--no-install-recommends" in out and "LABEL org.opencontainers.image.authors=" in out
    assert apply_edits(NON_ASCII, await lsp.format(uri)) == out
    dl4000 = finding(diagnostics, "DL4000")
    fix = titled(await lsp.code_actions(uri, dl4000.range, [dl4000]), "DL4000: Replace with a LABEL")
    assert lsp.apply(uri, NON_ASCII, fix) == cli_write(NON_ASCII, path, "--select", "DL4000")[1]
    assert 'LABEL org.opencontainers.image.authors="Zoë Müller <zoe@example.com>"' in lsp.apply(uri, NON_ASCII, fix)
    lsp.close(uri)


@pytest.mark.parametrize("content, says", [
    ('ignore = ["DL3008"\n', "invalid TOML"),
    ('ignored = ["DL3008"]\n', "unknown setting 'ignored'"),
    ('select = ["NOPE"]\n', "NOPE"),
    ("unsafe-fixes = 1\n", "'unsafe-fixes' must be true or false"),
])
async def test_broken_config_gives_an_error_diagnostic(lsp: Session, tmp_path: Path, content: str, says: str) -> None:
    config = tmp_path / ".dfix.toml"
    config.write_text(content)
    path = tmp_path / "Dockerfile"
    uri = uri_of(path)
    [diagnostic] = await lsp.open_and_wait(uri, CONFIGURED)
    assert diagnostic.severity == T.DiagnosticSeverity.Error
    assert str(config) in diagnostic.message and says in diagnostic.message
    assert cli(CONFIGURED, "-", "--stdin-filename", str(path)).returncode == 2  # the CLI refuses too
    assert await lsp.format(uri) == []
    # the server is alive, and picks up the repaired file
    config.write_text('ignore = ["DL3008"]\n')
    mark = lsp.mark()
    lsp.watched_changed(config)
    published = await lsp.wait_published(uri, after=mark)
    assert shown(published.diagnostics) == expected_diagnostics(CONFIGURED, ignore="DL3008")
    lsp.close(uri)


# === 7. editor settings ===========================================================================================

async def test_settings_select_ignore_and_did_change_configuration(tmp_path: Path) -> None:
    async with server(tmp_path, options={"dfix": {"select": ["DL4000", "DL3015"]}}) as session:
        uri = uri_of(tmp_path / "Dockerfile")
        diagnostics = await session.open_and_wait(uri, CONFIGURED)
        assert shown(diagnostics) == expected_diagnostics(CONFIGURED, select=["DL4000", "DL3015"])

        # settings pushed by the client, flat, comma-separated
        mark = session.mark()
        session.client.workspace_did_change_configuration(
            T.DidChangeConfigurationParams(settings={"ignore": "DL3008,DL3015"}))
        published = await session.wait_published(uri, after=mark)
        assert shown(published.diagnostics) == expected_diagnostics(CONFIGURED, ignore=["DL3008", "DL3015"])

        # settings the server asks for (workspace/configuration, section "dfix")
        session.client.set_configuration({"select": ["DL3003"]}, section="dfix")
        mark = session.mark()
        session.client.workspace_did_change_configuration(T.DidChangeConfigurationParams(settings=None))
        published = await session.wait_published(uri, after=mark)
        assert shown(published.diagnostics) == expected_diagnostics(CONFIGURED, select=["DL3003"])

        # a selector that names nothing: an error diagnostic that says so, not a crash
        mark = session.mark()
        session.client.workspace_did_change_configuration(
            T.DidChangeConfigurationParams(settings={"dfix": {"select": ["NOPE"]}}))
        published = await session.wait_published(uri, after=mark)
        [error] = published.diagnostics
        assert error.severity == T.DiagnosticSeverity.Error and "NOPE" in error.message
        assert await session.format(uri) == []

        # editor settings add to the configuration file, as the command line's options do
        (tmp_path / ".dfix.toml").write_text('ignore = ["DL3002"]\n')
        mark = session.mark()
        session.client.workspace_did_change_configuration(
            T.DidChangeConfigurationParams(settings={"dfix": {"ignore": ["DL3009"]}}))
        published = await session.wait_published(uri, after=mark)
        assert shown(published.diagnostics) == expected_diagnostics(CONFIGURED, ignore=["DL3002", "DL3009"])
        assert await session.stop() == 0


async def test_wrongly_typed_settings_do_not_break_initialize(tmp_path: Path) -> None:
    async with server(tmp_path, options={"dfix": {"ignore": 42}}) as session:
        diagnostics = await session.open_and_wait(uri_of(tmp_path / "Dockerfile"), NON_ASCII, timeout=PROMPT)
        assert diagnostics  # the findings, or an error that names the bad setting


async def test_unsafe_fixes_and_fix_on_save(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    safe_code, safe = cli_write(ACTIONS, path)
    code, unsafe = cli_write(ACTIONS, path, "--unsafe-fixes")
    assert safe_code == code == 0 and unsafe != safe
    async with server(tmp_path, options={"unsafeFixes": True}) as session:
        uri = uri_of(path)
        diagnostics = await session.open_and_wait(uri, ACTIONS)
        everything = T.Range(T.Position(0, 0), T.Position(len(line_starts(ACTIONS)), 0))
        [fix_all] = await session.code_actions(uri, everything, only=[FIX_ALL])
        assert session.apply(uri, ACTIONS, fix_all) == unsafe
        assert apply_edits(ACTIONS, await session.format(uri)) == unsafe
        dl3015 = finding(diagnostics, "DL3015")
        fix = titled(await session.code_actions(uri, dl3015.range, [dl3015]),
                     "DL3015: Add `--no-install-recommends` (unsafe fix)")
        assert session.apply(uri, ACTIONS, fix) == dfix.fix(ACTIONS, select="DL3015", unsafe=True).code

        # fixOnSave off: formatting and the on-save fix-all (context.only = source.fixAll) do nothing
        mark = session.mark()
        session.client.workspace_did_change_configuration(
            T.DidChangeConfigurationParams(settings={"dfix": {"unsafeFixes": False, "fixOnSave": False}}))
        await session.wait_published(uri, after=mark)  # the settings are in
        assert await session.format(uri) == []
        assert await session.code_actions(uri, everything, only=[FIX_ALL]) == []
        # asked for explicitly (no context.only), fix-all is still there, and safe again
        fix_all = titled(await session.code_actions(uri, everything), "dfix: fix all")
        assert session.apply(uri, ACTIONS, fix_all) == safe

        # back on: the CLI's safe output
        mark = session.mark()
        session.client.workspace_did_change_configuration(
            T.DidChangeConfigurationParams(settings={"dfix": {"fixOnSave": True}}))
        await session.wait_published(uri, after=mark)
        assert apply_edits(ACTIONS, await session.format(uri)) == safe


async def test_safe_fix_all_is_the_default(lsp: Session, tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    uri = uri_of(path)
    lsp.open(uri, ACTIONS)
    assert apply_edits(ACTIONS, await lsp.format(uri)) == cli_write(ACTIONS, path)[1]
    lsp.close(uri)


# === 8. pull diagnostics ==========================================================================================

async def test_pull_mode(tmp_path: Path) -> None:
    async with server(tmp_path, pull=True) as session:
        assert session.result.capabilities.diagnostic_provider is not None
        uri = uri_of(tmp_path / "Dockerfile")
        session.open(uri, NON_ASCII)
        report = await session.pull(uri)
        assert report.kind == "full"
        assert shown(report.items) == expected_diagnostics(NON_ASCII)

        version = session.change(uri, CLEAN)
        assert version == 2
        report = await session.pull(uri)
        assert shown(report.items) == expected_diagnostics(CLEAN) == []

        session.change(uri, ENV_ERROR)
        [error] = (await session.pull(uri)).items
        assert error.severity == T.DiagnosticSeverity.Error

        # a settings change asks the client to pull again
        session.change(uri, NON_ASCII)
        refreshes = session.client.diagnostic_refresh_count
        session.client.workspace_did_change_configuration(
            T.DidChangeConfigurationParams(settings={"ignore": ["DL3008"]}))
        deadline = time.monotonic() + TIMEOUT
        while session.client.diagnostic_refresh_count == refreshes and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert session.client.diagnostic_refresh_count > refreshes
        assert shown((await session.pull(uri)).items) == expected_diagnostics(NON_ASCII, ignore="DL3008")

        session.client.text_document_did_save(T.DidSaveTextDocumentParams(T.TextDocumentIdentifier(uri)))
        session.close(uri)
        await asyncio.sleep(0.5)
        assert session.published == []  # never pushed, not even on close
        assert await session.stop() == 0


# === 9. untitled buffers ==========================================================================================

async def test_untitled_buffer_uses_root_config(lsp: Session, workspace: Path) -> None:
    uri = "untitled:Untitled-1"
    diagnostics = await lsp.open_and_wait(uri, CONFIGURED)
    # the workspace root's .dfix.toml ignores DL3008
    assert shown(diagnostics) == expected_diagnostics(CONFIGURED, ignore="DL3008")
    assert shown_ranges(diagnostics) == cli_findings(CONFIGURED, workspace / "Dockerfile")
    code, out = cli_write(CONFIGURED, workspace / "Dockerfile")
    assert code == 0 and apply_edits(CONFIGURED, await lsp.format(uri)) == out
    lsp.close(uri)


# === 10. hover ====================================================================================================

def _explanation(rule_id: str) -> str:
    done = subprocess.run([*DFIX, "--explain", rule_id], capture_output=True, timeout=60, check=True)
    heading, _, body = done.stdout.decode("utf-8").partition("\n\n")
    assert heading.startswith(rule_id)
    return body.strip()


async def test_hover(lsp: Session, tmp_path: Path) -> None:
    uri = uri_of(tmp_path / "Dockerfile")
    diagnostics = await lsp.open_and_wait(uri, NON_ASCII)
    dl4000 = finding(diagnostics, "DL4000")
    hover = await lsp.hover(uri, dl4000.range.start.line, dl4000.range.start.character + 3)
    assert hover is not None
    assert isinstance(hover.contents, T.MarkupContent) and hover.contents.kind == T.MarkupKind.Markdown
    assert hover.contents.value.startswith("**DL4000**")
    assert _explanation("DL4000") in hover.contents.value
    assert hover.range == dl4000.range

    # two findings on the same text: both explained
    line4 = [d for d in diagnostics if d.range.start.line == 3 and d.code in ("DL3008", "DL3015")]
    assert len(line4) == 2
    hover = await lsp.hover(uri, line4[0].range.start.line, line4[0].range.start.character + 1)
    assert hover is not None and "**DL3008**" in hover.contents.value and "**DL3015**" in hover.contents.value
    assert _explanation("DL3015") in hover.contents.value

    # nowhere near a finding (DL3002 covers the FROM line; line 2 is MAINTAINER's; "CMD" has DL3025)
    clean = "FROM debian:bookworm\n\nUSER nobody\n"
    clean_uri = uri_of(tmp_path / "clean.Dockerfile")
    assert await lsp.open_and_wait(clean_uri, clean) == []
    assert await lsp.hover(clean_uri, 1, 0) is None
    lsp.close(clean_uri)
    lsp.close(uri)


# === 11. didClose =================================================================================================

async def test_did_close_clears_diagnostics(lsp: Session, tmp_path: Path) -> None:
    uri = uri_of(tmp_path / "Dockerfile")
    assert await lsp.open_and_wait(uri, NON_ASCII)
    mark = lsp.mark()
    lsp.close(uri)
    published = await lsp.wait_published(uri, after=mark)
    assert list(published.diagnostics) == []

    # closed right after opening or changing: the last word for the document is still "nothing"
    other = uri_of(tmp_path / "fast.Dockerfile")
    mark = lsp.mark()
    lsp.open(other, NON_ASCII)
    lsp.change(other, CRLF)
    lsp.close(other)
    await lsp.wait_published(other, after=mark, version=None)
    await asyncio.sleep(0.5)
    assert list(lsp.published_for(other, mark)[-1].diagnostics) == []
    assert await lsp.format(other) == []  # a closed document has nothing to format


# === 12. huge buffers =============================================================================================

async def test_ten_megabyte_buffer_does_not_freeze_the_server(lsp: Session, tmp_path: Path) -> None:
    line = "RUN echo line && apt-get install -y curl\n"
    big = "FROM debian:bookworm\n" + line * (10 * 1024 * 1024 // len(line))
    assert len(big.encode()) > 10_000_000
    big_uri = uri_of(tmp_path / "big.Dockerfile")
    small_uri = uri_of(tmp_path / "small.Dockerfile")
    mark = lsp.mark()
    started = time.monotonic()
    lsp.open(big_uri, big)
    lsp.open(small_uri, NON_ASCII)
    small = await lsp.wait_published(small_uri, after=mark, version=1, timeout=PROMPT)
    assert shown(small.diagnostics) == expected_diagnostics(NON_ASCII)
    dl4000 = finding(small.diagnostics, "DL4000")
    hover = await lsp.hover(small_uri, dl4000.range.start.line, dl4000.range.start.character)
    assert hover is not None and "**DL4000**" in hover.contents.value
    assert time.monotonic() - started < PROMPT

    # the big one: dfix refuses it (too large), with one error, no actions, no edits
    published = await lsp.wait_published(big_uri, after=mark, version=1)
    [error] = published.diagnostics
    assert error.severity == T.DiagnosticSeverity.Error
    assert cli(big, "-").returncode == 2
    assert await lsp.format(big_uri) == []

    # a change to it (all 10 MB again), then another small request
    started = time.monotonic()
    lsp.change(big_uri, big + "RUN echo more\n")
    actions = await lsp.code_actions(small_uri, dl4000.range, [dl4000])
    assert "DL4000: Replace with a LABEL" in [a.title for a in actions]
    assert time.monotonic() - started < PROMPT
    lsp.close(big_uri)
    lsp.close(small_uri)
    assert lsp.process.returncode is None


async def test_the_largest_accepted_buffer_delays_other_documents_by_seconds_not_minutes(tmp_path: Path) -> None:
    # One worker thread analyses every buffer in turn, so a large buffer does
    # delay the others; the size limit (256 KB) bounds how long: it was about
    # 50 s for a 1 MB buffer under the former 4 MB limit.
    line = "RUN echo line && apt-get install -y curl\n"
    big = "FROM debian:bookworm\n" + line * ((MAX_SIZE - 1024) // len(line))
    async with server(tmp_path) as session:
        started = time.monotonic()
        session.open(uri_of(tmp_path / "big.Dockerfile"), big)
        await asyncio.sleep(0.5)  # the worker has started on it
        small_uri = uri_of(tmp_path / "small.Dockerfile")
        mark = session.mark()
        session.open(small_uri, NON_ASCII)
        small = await session.wait_published(small_uri, after=mark, version=1, timeout=BIG_BUFFER_DELAY)
        assert shown(small.diagnostics) == expected_diagnostics(NON_ASCII)
        print(f"the small document was published {time.monotonic() - started:.1f} s after the big one was opened")


# === a rule that raises ============================================================================================

# the real server, with one rule broken before it starts (the rule objects are shared, so every lookup sees it)
BROKEN_RULE_SERVER = [sys.executable, "-c", """
import sys
import dfix.rules

def check(context):
    raise RuntimeError("injected failure")
    yield

rule = next(r for r in dfix.rules.ALL_RULES if r.id == "DL3025")
object.__setattr__(rule, "check", check)
from dfix.lsp import main
sys.exit(main())
"""]


async def test_rule_that_raises_is_logged_and_skipped(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    async with server(tmp_path, command=BROKEN_RULE_SERVER) as session:
        diagnostics = await session.open_and_wait(uri_of(path), NON_ASCII)
        assert "DL3025" in [d.id for d in dfix.check(NON_ASCII)]
        assert shown(diagnostics) == expected_diagnostics(NON_ASCII, ignore="DL3025")  # the others still run
        deadline = time.monotonic() + TIMEOUT
        while not any("DL3025" in m.message and "injected failure" in m.message
                      for m in session.client.log_messages):
            assert time.monotonic() < deadline, session.client.log_messages
            await asyncio.sleep(0.01)
        # formatting goes on without it
        code, out = cli_write(NON_ASCII, path, "--ignore", "DL3025")
        assert code == 0 and apply_edits(NON_ASCII, await session.format(uri_of(path))) == out
        assert await session.stop() == 0


# === 13. shutdown and exit ========================================================================================

async def test_shutdown_and_exit(tmp_path: Path) -> None:
    async with server(tmp_path) as session:
        uri = uri_of(tmp_path / "Dockerfile")
        await session.open_and_wait(uri, NON_ASCII)
        assert await session.stop() == 0


async def test_exit_without_shutdown_is_an_error(tmp_path: Path) -> None:
    async with server(tmp_path) as session:
        await session.hover("untitled:none", 0, 0)  # initialized, and answered
        session.client.exit(None)
        await asyncio.wait_for(session.process.wait(), TIMEOUT)
        assert session.process.returncode == 1


async def test_shared_server_still_alive_and_exits_cleanly(lsp: Session, tmp_path: Path) -> None:
    """Last: after everything above, the shared server answers and shuts down with status 0."""
    uri = uri_of(tmp_path / "Dockerfile")
    assert shown(await lsp.open_and_wait(uri, NON_ASCII)) == expected_diagnostics(NON_ASCII)
    lsp.close(uri)
    assert await lsp.stop() == 0
