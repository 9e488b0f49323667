"""Checking and fixing files, one at a time or on every core."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

import dfix
from dfix import engine, selection
from dfix.config import Config, ConfigError, config_for
from dfix.cst import nodes
from dfix.cst.build import grammar
from dfix.errors import ParseError
from dfix.files import STDIN, FileError, decode, read_bytes, read_text, write_atomic
from dfix.report import FileReport, Finding
from dfix.rules import Diagnostic, Rule

# Below this many files, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 16


@dataclass(frozen=True)
class Settings:
    """What the command line asked for; configuration files add to it per file."""

    #: "lint", "diff", "check" or "write"
    mode: str = "lint"
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    unsafe_fixes: bool | None = None
    stdin_filename: str | None = None


def load(name: str, text: str) -> nodes.Dockerfile:
    """Parse a Dockerfile; FileError for anything BuildKit would refuse."""
    try:
        tree = dfix.parse(text)
    except ParseError as error:
        raise FileError(name, error.message, error.line, error.column) from None
    for instruction in tree.instructions:
        if isinstance(instruction, nodes.Unknown):
            column = len(instruction.indent.code.rsplit("\n", 1)[-1]) + 1
            message = f"unknown instruction {instruction.keyword_text.value!r}"
            raise FileError(name, message, instruction.start_line, column)
    return tree


def rules_for(config: Config, settings: Settings) -> tuple[Rule, ...]:
    """Defaults, then the configuration file's selection, then the command line's."""
    try:
        rules = selection.apply(selection.default_rules(), config.select, config.ignore)
    except selection.SelectorError as error:
        raise ConfigError(config.source, str(error)) from None
    return selection.apply(rules, settings.select, settings.ignore)


@dataclass(frozen=True)
class Plan:
    """What applies to one file: its configuration, the rules that run, and
    whether unsafe fixes are applied."""

    config: Config
    rules: tuple[Rule, ...]
    unsafe: bool


def plan_for(path: str, settings: Settings) -> Plan:
    """The configuration lookup for a file (``-`` is named by
    ``settings.stdin_filename``, or stands in the current directory).
    Raises ConfigError and SelectorError."""
    where = Path(settings.stdin_filename or ".").parent if path == STDIN else Path(path).parent
    config = config_for(where)
    rules = rules_for(config, settings)
    unsafe = settings.unsafe_fixes if settings.unsafe_fixes is not None else bool(config.unsafe_fixes)
    return Plan(config, rules, unsafe)


def process(path: str, settings: Settings, stdin: str | None = None) -> FileReport:
    """Check or fix one file (``-`` with ``stdin`` as its text)."""
    name = (settings.stdin_filename or "-") if path == STDIN else path
    report = FileReport(name)
    try:
        plan = plan_for(path, settings)
        text = stdin if path == STDIN else read_text(path)
        process_text(report, text, plan, settings.mode)
        if settings.mode == "write" and report.changed and path != STDIN:
            write_atomic(path, report.new)
    except (FileError, ConfigError, selection.SelectorError) as error:
        report.errors.append(str(error))
    except OSError as error:
        report.errors.append(f"{name}: error: cannot write: {error.strerror or error}")
    return report


def process_text(report: FileReport, text: str, plan: Plan, mode: str, tree: nodes.Dockerfile | None = None) -> None:
    """Fill ``report`` (named for the text) with the findings in ``text`` and,
    unless ``mode`` is "lint", its fixed text. Raises FileError."""
    tree = tree if tree is not None else load(report.path, text)
    config = plan.config
    if mode == "lint":
        diagnostics = engine.check(tree, plan.rules, options=config.rule_options, ignored=config.hadolint_ignored)
    else:
        result = engine.fix(
            text, plan.rules, unsafe=plan.unsafe, options=config.rule_options, ignored=config.hadolint_ignored,
            tree=tree,
        )
        report.old, report.new, report.applied = text, result.code, result.applied
        report.unsafe_applied = result.unsafe_applied
        report.errors += [f"{report.path}: error: {bug}" for bug in result.bugs]
        diagnostics = result.diagnostics
    report.findings = [_finding(report.path, d, plan.unsafe) for d in diagnostics]


def _finding(path: str, diagnostic: Diagnostic, unsafe: bool) -> Finding:
    fix = diagnostic.fix
    return Finding(
        path, diagnostic.line, diagnostic.column, diagnostic.end_line, diagnostic.end_column,
        diagnostic.id, diagnostic.rule.name, diagnostic.message,
        fix.applicability.value if fix else None, engine.is_applicable(fix, unsafe),
    )


def read_stdin() -> str:
    return decode("-", read_bytes(STDIN))


def run(
    paths: Sequence[str], settings: Settings, *, stdin: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[FileReport]:
    """Reports for the files, in order; on all cores when there are many."""
    grammar("\\")  # compiled (or loaded from the cache) once, before any fork
    workers = os.cpu_count() or 1
    if len(paths) < PARALLEL_THRESHOLD or workers < 2 or STDIN in paths:
        for path in paths:
            yield process(path, settings, stdin)
            if progress:
                progress(1)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else None)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        chunk = max(1, min(32, len(paths) // (workers * 4)))
        for report in pool.map(_process_one, [(path, settings) for path in paths], chunksize=chunk):
            yield report
            if progress:
                progress(1)


def _process_one(job: tuple[str, Settings]) -> FileReport:
    return process(*job)
