"""``dfix-lsp``: dfix in an editor, over the Language Server Protocol (stdio).

Diagnostics as you type (pushed, or pulled by clients that ask), a quick fix
per finding, "ignore" actions that write ``# dfix:`` pragmas, ``source.fixAll``
and formatting (both give exactly what ``dfix --write -`` prints), and the
rule's explanation on hover. Work runs on one worker thread, off the event
loop, so that a slow or huge buffer never stalls the editor; a newer version
of a buffer makes the older one's pending work moot.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence, TypeVar
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.lsp.server import LanguageServer

import dfix
from dfix.lsp import code_cache
from dfix.lsp.settings import EditorSettings
from dfix.lsp.text_edits import LineIndex, line_edits

if TYPE_CHECKING:
    from dfix.lsp.analysis import Analysis
    from dfix.rules import Diagnostic

SOURCE = "dfix"
FIX_ALL = "source.fixAll.dfix"
CONFIG_NAMES = (".dfix.toml", "pyproject.toml", ".hadolint.yaml", ".hadolint.yml")
_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "information": types.DiagnosticSeverity.Information,
}

T = TypeVar("T")


class DfixServer(LanguageServer):
    """The server's state: settings, the latest analysis of each buffer, and the pending runs."""

    def __init__(self) -> None:
        super().__init__("dfix-lsp", dfix.__version__, text_document_sync_kind=types.TextDocumentSyncKind.Full)
        self.settings = EditorSettings()
        self.root: Path | None = None
        self.pull = False  # the client pulls diagnostics: do not push them too
        self.analyses: dict[str, Analysis] = {}
        self.pending: dict[str, asyncio.Task[None]] = {}
        # one thread: analyses never race each other, and the event loop stays free
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dfix-lsp")

    # --- reading buffers -------------------------------------------------------------------------------------

    def path_of(self, uri: str) -> str:
        """The path a buffer stands for (messages, configuration); untitled buffers use the workspace root's."""
        parsed = urlparse(uri)
        if parsed.scheme == "file":
            return _path_of_file_uri(parsed.path)
        return str((self.root or Path.cwd()) / "Dockerfile")

    def current(self, uri: str) -> tuple[str, int | None] | None:
        """The open buffer's text and version; None when closed, or when it is not a Dockerfile."""
        documents = self.workspace.text_documents
        # pygls keys buffers by the unquoted URI ("a%20b" is stored as "a b")
        document = documents.get(uri) or documents.get(unquote(uri))
        if document is None or not is_dockerfile(document.language_id, self.path_of(uri)):
            return None
        return document.source, document.version

    def log(self, message: str, kind: types.MessageType = types.MessageType.Error) -> None:
        self.window_log_message(types.LogMessageParams(kind, message))

    def warn(self, message: str) -> None:
        self.log(message, types.MessageType.Warning)

    async def in_worker(self, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.worker, function, *args)

    async def analysis(self, uri: str) -> Analysis | None:
        """The analysis of the buffer as it is now (reused when its version was read already)."""
        now = self.current(uri)
        if now is None:
            return None
        text, version = now
        cached = self.analyses.get(uri)
        if cached is not None and cached.version == version and cached.text == text and cached.settings is self.settings:
            return cached
        found = await self.in_worker(self._analyze, uri, text, version, self.settings)
        if found is not None:
            self._log_rule_errors(found)
        return found

    def _analyze(self, uri: str, text: str, version: int | None, settings: EditorSettings) -> Analysis | None:
        from dfix.lsp.analysis import analyze

        now = self.current(uri)
        if now is None or now[1] != version:  # a newer version came while this one waited: skip it
            return None
        analysis = analyze(text, self.path_of(uri), version, settings)
        self.analyses[uri] = analysis
        return analysis

    def _log_rule_errors(self, analysis: Analysis) -> None:
        for message in analysis.rule_errors:
            self.log(f"dfix: rule skipped for {analysis.path}: {message}")
        analysis.rule_errors.clear()

    # --- diagnostics -----------------------------------------------------------------------------------------

    def schedule(self, uri: str) -> None:
        """Read the buffer and publish its diagnostics; a newer call cancels this one."""
        previous = self.pending.pop(uri, None)
        if previous is not None:
            previous.cancel()
        if self.pull:
            return
        self.pending[uri] = asyncio.get_running_loop().create_task(self._publish(uri))

    async def _publish(self, uri: str) -> None:
        analysis = await self.analysis(uri)
        now = self.current(uri)
        if analysis is None or now is None or now[1] != analysis.version:
            return
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri, self.lsp_diagnostics(analysis), version=analysis.version)
        )

    def lsp_diagnostics(self, analysis: Analysis) -> list[types.Diagnostic]:
        index = LineIndex(analysis.text, self.encoding)
        if analysis.error is not None:
            return [self._error_diagnostic(analysis, index)]
        return [self._diagnostic(d, index) for d in analysis.diagnostics]

    @property
    def encoding(self) -> str:
        return str(self.workspace.position_encoding or types.PositionEncodingKind.Utf16)

    def _error_diagnostic(self, analysis: Analysis, index: LineIndex) -> types.Diagnostic:
        error = analysis.error
        line, column = getattr(error, "line", 0), getattr(error, "column", 0)
        message = getattr(error, "message", str(error))
        if getattr(error, "path", None) not in (None, analysis.path):  # a configuration file's error
            message = str(error)
        start = _offset(analysis.text, line, column) if line else 0
        end = start
        while end < len(analysis.text) and analysis.text[end] not in "\r\n":
            end += 1
        return types.Diagnostic(
            index.range(start, end), message, severity=types.DiagnosticSeverity.Error, source=SOURCE
        )

    def _diagnostic(self, diagnostic: Diagnostic, index: LineIndex) -> types.Diagnostic:
        from dfix.lsp.analysis import severity_of

        fix = diagnostic.fix
        return types.Diagnostic(
            index.range(*diagnostic.span),
            diagnostic.message,
            severity=_SEVERITY[severity_of(diagnostic)],
            code=diagnostic.id,
            source=SOURCE,
            data={
                "rule": diagnostic.id,
                "span": list(diagnostic.span),
                "fix": fix.applicability.value if fix else None,
                "title": fix.title if fix else None,
            },
        )

    async def reload(self) -> None:
        """Configuration files or editor settings changed: read every open buffer again."""
        from dfix.config import config_for

        config_for.cache_clear()
        self.analyses.clear()
        if self.pull:
            if _supports(self.client_capabilities, "workspace", "diagnostics", "refresh_support"):
                self.workspace_diagnostic_refresh(None)
            return
        for uri in list(self.workspace.text_documents):
            self.schedule(uri)


def _path_of_file_uri(path: str) -> str:
    if os.name != "nt":
        return unquote(path)
    from urllib.request import url2pathname  # drive letters; slow to import, so only here

    return url2pathname(path)


#: what editors call the files a client may also open beside Dockerfiles (dfix's own configuration among them)
_OTHER_LANGUAGES = frozenset(("toml", "yaml", "json", "ini", "properties"))


def is_dockerfile(language_id: str | None, path: str) -> bool:
    """Whether an open buffer is one to read as a Dockerfile: not a configuration file
    that a client syncs so that its saves reach the server."""
    return os.path.basename(path) not in CONFIG_NAMES and (language_id or "").lower() not in _OTHER_LANGUAGES


def _supports(capabilities: object, *path: str) -> bool:
    for name in path:
        capabilities = getattr(capabilities, name, None)
        if capabilities is None:
            return False
    return bool(capabilities)


def _offset(text: str, line: int, column: int) -> int:
    """The offset of dfix's 1-based line and column (lines split at "\\n", as dfix splits them)."""
    offset = 0
    for _ in range(line - 1):
        found = text.find("\n", offset)
        if found < 0:
            return len(text)
        offset = found + 1
    return min(offset + max(column - 1, 0), len(text))


server = DfixServer()


@server.feature(types.INITIALIZE)
def initialize(ls: DfixServer, params: types.InitializeParams) -> None:
    ls.settings = EditorSettings.from_json(params.initialization_options, ls.warn)
    folders = params.workspace_folders or []
    root = folders[0].uri if folders else params.root_uri
    if root and urlparse(root).scheme == "file":
        ls.root = Path(_path_of_file_uri(urlparse(root).path))
    elif params.root_path:
        ls.root = Path(params.root_path)
    ls.pull = _supports(params.capabilities, "text_document", "diagnostic")


def _warm_up() -> None:
    from dfix.cst.build import grammar
    from dfix.lsp import analysis  # noqa: F401 - imported for its side effect: loaded

    grammar("\\")
    # what start-up made lives as long as the server: the collector need not walk it on every full collection
    gc.freeze()


@server.feature(types.INITIALIZED)
async def initialized(ls: DfixServer, params: types.InitializedParams) -> None:
    code_cache.save()  # what start-up compiled, for the next start
    # dfix itself (rules, grammar) loads on the worker now that the client has its answer
    ls.worker.submit(_warm_up)
    if _supports(ls.client_capabilities, "workspace", "did_change_watched_files", "dynamic_registration"):
        watchers = [types.FileSystemWatcher(glob_pattern=f"**/{name}") for name in CONFIG_NAMES]
        options = types.DidChangeWatchedFilesRegistrationOptions(watchers=watchers)
        registration = types.Registration("dfix-config-files", types.WORKSPACE_DID_CHANGE_WATCHED_FILES, options)
        try:
            await ls.client_register_capability_async(types.RegistrationParams([registration]))
        except Exception as error:  # noqa: BLE001 - the client may refuse; saves of config files still reload
            ls.log(f"dfix: cannot watch configuration files: {error}", types.MessageType.Warning)


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: DfixServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: DfixServer, params: types.DidChangeTextDocumentParams) -> None:
    # no debounce: a run that finds a newer version waiting skips itself (see _analyze),
    # so fast typing costs at most one run behind the latest keystroke
    ls.schedule(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
async def did_save(ls: DfixServer, params: types.DidSaveTextDocumentParams) -> None:
    if os.path.basename(ls.path_of(params.text_document.uri)) in CONFIG_NAMES:
        await ls.reload()
    else:
        ls.schedule(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: DfixServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    pending = ls.pending.pop(uri, None)
    if pending is not None:
        pending.cancel()
    ls.analyses.pop(uri, None)
    if not ls.pull:
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, []))


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
async def did_change_watched_files(ls: DfixServer, params: types.DidChangeWatchedFilesParams) -> None:
    if any(os.path.basename(urlparse(change.uri).path) in CONFIG_NAMES for change in params.changes):
        await ls.reload()


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
async def did_change_configuration(ls: DfixServer, params: types.DidChangeConfigurationParams) -> None:
    settings = params.settings
    if not settings and _supports(ls.client_capabilities, "workspace", "configuration"):
        try:
            answer = await ls.workspace_configuration_async(
                types.ConfigurationParams([types.ConfigurationItem(section="dfix")])
            )
            settings = answer[0] if answer else None
        except Exception:  # noqa: BLE001 - a client that cannot answer keeps the settings it gave
            settings = None
    if settings is not None:
        ls.settings = EditorSettings.from_json(settings, ls.warn)
    await ls.reload()


@server.feature(
    types.TEXT_DOCUMENT_DIAGNOSTIC,
    types.DiagnosticOptions(identifier=SOURCE, inter_file_dependencies=False, workspace_diagnostics=False),
)
async def diagnostic(ls: DfixServer, params: types.DocumentDiagnosticParams) -> types.DocumentDiagnosticReport:
    analysis = await ls.analysis(params.text_document.uri)
    items = ls.lsp_diagnostics(analysis) if analysis is not None else []
    return types.RelatedFullDocumentDiagnosticReport(items=items)


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL], resolve_provider=False),
)
async def code_action(ls: DfixServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
    uri = params.text_document.uri
    analysis = await ls.analysis(uri)
    if analysis is None or analysis.error is not None:
        return None
    return await ls.in_worker(_code_actions, ls, analysis, params)


def _wanted(kind: str, only: list[str] | None) -> bool:
    return not only or any(kind == want or kind.startswith(want + ".") for want in only)


def _code_actions(ls: DfixServer, analysis: Analysis, params: types.CodeActionParams) -> list[types.CodeAction]:
    from dfix.rules import Applicability

    uri = params.text_document.uri
    index = LineIndex(analysis.text, ls.encoding)
    only = [str(kind) for kind in params.context.only] if params.context.only else None
    actions: list[types.CodeAction] = []

    def action(title: str, kind: str, new: str | None, for_: types.Diagnostic | None, preferred: bool = False) -> None:
        if new is None or new == analysis.text:
            return
        edit = types.WorkspaceEdit(
            document_changes=[types.TextDocumentEdit(
                types.OptionalVersionedTextDocumentIdentifier(uri, analysis.version),
                line_edits(analysis.text, new, index),
            )]
        )
        actions.append(types.CodeAction(
            title, kind=kind, diagnostics=[for_] if for_ else None, edit=edit, is_preferred=preferred or None,
        ))

    creates = _supports(ls.client_capabilities, "workspace", "workspace_edit", "resource_operations") and (
        types.ResourceOperationKind.Create in ls.client_capabilities.workspace.workspace_edit.resource_operations
    )
    if _wanted(types.CodeActionKind.QuickFix, only):
        for diagnostic in _findings_for(analysis, index, params):
            shown = ls._diagnostic(diagnostic, index)
            fix = diagnostic.fix
            if fix is not None and fix.files:  # a new file beside the Dockerfile, made by the editor
                if creates and not fix.replacements:
                    actions.append(_create_files_action(f"{diagnostic.id}: {fix.title}", fix.files, shown))
            elif fix is not None and fix.applicability is not Applicability.DISPLAY_ONLY:
                unsafe = fix.applicability is Applicability.UNSAFE
                title = f"{diagnostic.id}: {fix.title}" + (" (unsafe fix)" if unsafe else "")
                action(title, types.CodeActionKind.QuickFix, analysis.quick_fix(diagnostic), shown, not unsafe)
            action(f"Ignore {diagnostic.id} for this instruction", types.CodeActionKind.QuickFix,
                   analysis.ignore_here(diagnostic), shown)
            action(f"Ignore {diagnostic.id} in this file", types.CodeActionKind.QuickFix,
                   analysis.ignore_in_file(diagnostic), shown)
    on_save = only is not None and not _wanted(types.CodeActionKind.QuickFix, only)
    if _wanted(FIX_ALL, only) and (ls.settings.fix_on_save or not on_save):
        action("dfix: fix all", FIX_ALL, analysis.fixed_text(), None)
    return actions


def _create_files_action(title: str, files: tuple, for_: types.Diagnostic) -> types.CodeAction:
    """A code action that creates files (never over one that exists) with their text."""
    changes: list = []
    for new in files:
        uri = Path(new.path).as_uri()
        changes.append(types.CreateFile(uri, options=types.CreateFileOptions(overwrite=False, ignore_if_exists=False)))
        changes.append(types.TextDocumentEdit(
            types.OptionalVersionedTextDocumentIdentifier(uri, None),
            [types.TextEdit(types.Range(types.Position(0, 0), types.Position(0, 0)), new.text)],
        ))
    return types.CodeAction(title, kind=types.CodeActionKind.QuickFix, diagnostics=[for_],
                            edit=types.WorkspaceEdit(document_changes=changes))


def _findings_for(analysis: Analysis, index: LineIndex, params: types.CodeActionParams) -> list[Diagnostic]:
    """The findings the client asked about: those it names, and those that touch the range."""
    named = set()
    for shown in params.context.diagnostics:
        data = shown.data if isinstance(shown.data, dict) else {}
        if shown.source == SOURCE and data.get("rule") and data.get("span"):
            named.add((data["rule"], tuple(data["span"])))
    start, end = index.offset(params.range.start), index.offset(params.range.end)
    return [
        d for d in analysis.diagnostics
        if (d.id, d.span) in named or (d.span[0] <= end and start <= d.span[1])
    ]


@server.feature(types.TEXT_DOCUMENT_FORMATTING)
async def formatting(ls: DfixServer, params: types.DocumentFormattingParams) -> list[types.TextEdit] | None:
    if not ls.settings.fix_on_save:
        return []
    analysis = await ls.analysis(params.text_document.uri)
    if analysis is None or analysis.error is not None:
        return []
    fixed = await ls.in_worker(analysis.fixed_text)
    if fixed is None:
        return []
    return line_edits(analysis.text, fixed, LineIndex(analysis.text, ls.encoding))


@server.feature(types.TEXT_DOCUMENT_HOVER)
async def hover(ls: DfixServer, params: types.HoverParams) -> types.Hover | None:
    analysis = await ls.analysis(params.text_document.uri)
    if analysis is None or analysis.error is not None:
        return None
    index = LineIndex(analysis.text, ls.encoding)
    offset = index.offset(params.position)
    found = [d for d in analysis.diagnostics if d.span[0] <= offset <= d.span[1]]
    if not found:
        return None
    rules = list(dict.fromkeys(d.rule.id for d in found))
    sections = [explanation_markdown(rule_id) for rule_id in rules]
    first = min(found, key=lambda d: d.span[1] - d.span[0])
    return types.Hover(
        types.MarkupContent(types.MarkupKind.Markdown, "\n\n---\n\n".join(sections)), index.range(*first.span)
    )


def explanation_markdown(rule_id: str) -> str:
    """``dfix --explain ID`` as Markdown: a heading, then the rule's text as written."""
    from dfix.rules import ALL_RULES

    rule = next(r for r in ALL_RULES if r.id == rule_id)
    return f"**{rule.id}** `{rule.name}`: {rule.summary}\n\n{rule.explanation}"


@server.feature(types.SHUTDOWN)
def shutdown(ls: DfixServer, params: None) -> None:
    code_cache.save()
    for task in ls.pending.values():
        task.cancel()
    ls.pending.clear()
    ls.worker.shutdown(wait=False, cancel_futures=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve LSP over standard input and output until the client says exit."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="dfix-lsp",
        description="dfix's language server: diagnostics, quick fixes, fix-all and formatting for Dockerfiles, "
                    "over the Language Server Protocol on standard input and output.",
    )
    parser.add_argument("--version", action="version", version=f"dfix-lsp {dfix.__version__}")
    parser.add_argument("--stdio", action="store_true", help="use standard input and output (the default and only transport)")
    parser.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="what is logged to standard error (default: WARNING)")
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=arguments.log_level, format="dfix-lsp: %(levelname)s: %(message)s")
    server.start_io()
    # LSP: exit after shutdown is a clean end (0); exit without it, or a client gone, is not (1)
    return 0 if getattr(server.protocol, "_shutdown", False) else 1
