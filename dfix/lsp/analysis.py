"""What the language server knows about one version of one buffer.

Everything here goes through the runner (the configuration lookup and the
rule selection the command line uses) and the engine, so that an editor sees
exactly what ``dfix`` and ``dfix --write - --stdin-filename PATH`` say about
the same text. Nothing here touches the disk but the configuration files.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable, Iterator

from dfix import engine, selection
from dfix.build_context import NO_CONTEXT, BuildContext
from dfix.config import ConfigError
from dfix.cst import nodes
from dfix.cst.positions import Positions
from dfix.files import STDIN, FileError
from dfix.newlines import newline_of
from dfix.report import FileReport
from dfix.rules import Applicability, Context, Diagnostic, Rule
from dfix.runner import Plan, Settings, build_context_for, load, plan_for, process_text
from dfix.suppressions import Insertion, ignore_for_file, ignore_for_instruction
from dfix.lsp.settings import EditorSettings


@dataclass
class Analysis:
    """One buffer's text, named ``path`` (for messages and the configuration
    lookup), read by dfix: a tree and its findings, or the error that stops it."""

    path: str
    text: str
    version: int | None
    settings: EditorSettings
    plan: Plan | None = None
    tree: nodes.Dockerfile | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: a parse error, a configuration error or a bad selector: the only thing reported
    error: FileError | ConfigError | selection.SelectorError | None = None
    #: rules that raised ("ID: error"), skipped
    rule_errors: list[str] = field(default_factory=list)
    #: the files beside it, as the command line sees them for this path
    build_context: BuildContext = NO_CONTEXT
    _fixed: FileReport | None = None

    @property
    def newline(self) -> str:
        return newline_of(self.text)

    def fixed_report(self) -> FileReport | None:
        """What ``dfix --write - --stdin-filename PATH`` computes for this text (None on an error)."""
        if self.error is not None or self.plan is None or self.tree is None:
            return None
        if self._fixed is None:
            report = FileReport(self.path)
            process_text(report, self.text, self.plan, "write", tree=self.tree, build_context=self.build_context)
            self._fixed = report
        return self._fixed

    def fixed_text(self) -> str | None:
        """The text ``dfix --write -`` prints: None when it prints nothing (an error, a dfix bug)."""
        report = self.fixed_report()
        if report is None or report.errors or report.new is None:
            return None
        return report.new

    def quick_fix(self, diagnostic: Diagnostic) -> str | None:
        """The text with this finding's fix alone applied, if it has one that may be applied."""
        if self.tree is None:
            return None
        return engine.apply_one(self.tree, diagnostic)

    def ignore_here(self, diagnostic: Diagnostic) -> str | None:
        if self.tree is None or not diagnostic.instruction_line:
            return None
        insertion = ignore_for_instruction(
            self.tree, Positions(self.tree), diagnostic.instruction_line, diagnostic.id, self.newline
        )
        return _checked(self, insertion)

    def ignore_in_file(self, diagnostic: Diagnostic) -> str | None:
        if self.tree is None:
            return None
        return _checked(self, ignore_for_file(self.tree, Positions(self.tree), diagnostic.id, self.newline))


def _checked(analysis: Analysis, insertion: Insertion | None) -> str | None:
    """The text with a pragma inserted, if dfix still reads it (it always should)."""
    if insertion is None:
        return None
    text = insertion.apply(analysis.text)
    try:
        load(analysis.path, text)
    except FileError:
        return None
    return text


def analyze(
    text: str, path: str, version: int | None, settings: EditorSettings,
    on_rule_error: Callable[[str], None] | None = None,
) -> Analysis:
    """Read a buffer as the command line would read it from standard input
    with ``--stdin-filename path``; rules that raise are skipped."""
    analysis = Analysis(path, text, version, settings)
    try:
        runner_settings = settings.runner_settings(path)
        plan = plan_for(STDIN, runner_settings)
        analysis.build_context = build_context_for(STDIN, runner_settings, plan.config)
    except (ConfigError, selection.SelectorError) as error:
        analysis.error = error
        return analysis

    def failed(rule: Rule, error: Exception) -> None:
        message = f"{rule.id}: {type(error).__name__}: {error}"
        analysis.rule_errors.append(message)
        if on_rule_error is not None:
            on_rule_error(message)

    analysis.plan = dataclasses.replace(plan, rules=tuple(_guarded(rule, failed) for rule in plan.rules))
    try:
        analysis.tree = load(path, text)
    except FileError as error:
        analysis.error = error
        return analysis
    config = plan.config
    analysis.diagnostics = engine.check(
        analysis.tree, analysis.plan.rules, options=config.rule_options, ignored=config.hadolint_ignored,
        build_context=analysis.build_context,
    )
    return analysis


def _guarded(rule: Rule, failed: Callable[[Rule, Exception], None]) -> Rule:
    """The rule, with a check that reports an exception and finds nothing
    instead of raising: one broken rule must not take the others down."""
    check = rule.check

    def guarded_check(context: Context) -> Iterator[Diagnostic]:
        try:
            found = list(check(context))
        except Exception as error:  # noqa: BLE001 - any rule bug
            failed(rule, error)
            return iter(())
        return iter(found)

    return dataclasses.replace(rule, check=guarded_check)


def severity_of(diagnostic: Diagnostic) -> str:
    """"warning" for a finding, "information" for a display-only suggestion."""
    fix = diagnostic.fix
    return "information" if fix is not None and fix.applicability is Applicability.DISPLAY_ONLY else "warning"
