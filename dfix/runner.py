"""Checking and fixing files, one at a time or on every core."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

import dfix
from dfix import collector, engine, selection
from dfix.build_context import BuildContext
from dfix.config import Config, ConfigError, config_for
from dfix.cst import nodes
from dfix.cst.build import grammar
from dfix.errors import ParseError
from dfix.files import (
    STDIN, FileError, NotRegularFile, ReadOnlyFile, create_atomic, decode, read_bytes, read_text, shown, write_atomic,
)
from dfix.report import FileReport, Finding
from dfix.rules import Diagnostic, Rule
from dfix.suppressions import Suppressions

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
    #: the build context folder (``--context``), for every file
    context: str | None = None


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


def build_context_for(path: str, settings: Settings, config: Config) -> BuildContext:
    """What the rules see of a file's build context: ``--context``, else the
    ``context`` setting, else the Dockerfile's folder; standard input has
    one only when ``--stdin-filename`` names the file."""
    if path == STDIN:
        if not settings.stdin_filename:
            return BuildContext.none("no build context: standard input without --stdin-filename")
        path = settings.stdin_filename
    root = settings.context or (str(config.context) if config.context else None) or os.path.dirname(path) or "."
    return BuildContext.at(root, path)


def process(path: str, settings: Settings, stdin: str | None = None, cleaned: set[str] | None = None) -> FileReport:
    """Check or fix one file (``-`` with ``stdin`` as its text); in "write"
    mode, write it (see ``write``)."""
    report = compute(path, settings, stdin)
    write(path, report, settings, cleaned)
    return report


def compute(path: str, settings: Settings, stdin: str | None = None) -> FileReport:
    """Check one file, and compute its fixed text unless the mode is "lint";
    never writes. Every problem is an error on the report."""
    name = (settings.stdin_filename or "-") if path == STDIN else path
    report = FileReport(name)
    try:
        plan = plan_for(path, settings)
        text = stdin if path == STDIN else read_text(path)
        # one pause for the whole file: the collector then runs once the
        # file's trees are freed, not while each is alive
        with collector.paused():
            process_text(report, text, plan, settings.mode, build_context=build_context_for(path, settings, plan.config))
    except (FileError, ConfigError, selection.SelectorError) as error:
        report.errors.append(str(error))
    except RecursionError:
        report.errors.append(f"{name}: error: too deeply nested to process")
    except Exception as error:  # a dfix bug: reported for this file, the run goes on
        report.errors.append(f"{name}: error: dfix bug: {type(error).__name__}: {error}")
    return report


def write(path: str, report: FileReport, settings: Settings, cleaned: set[str] | None = None) -> None:
    """In "write" mode, put the report's fixed text in the file when it
    changed, and set ``report.written``. When the write fails, the report
    says so and describes the file as it stays: its findings, nothing fixed."""
    if settings.mode != "write" or not report.changed or path == STDIN:
        return
    try:
        if report.new != report.old:
            write_atomic(path, report.new or "", cleaned)
    except ReadOnlyFile:
        report.errors.append(f"{report.path}: error: read-only file, not written")
    except NotRegularFile:
        report.errors.append(f"{report.path}: error: not a regular file, not written")
    except OSError as error:
        report.errors.append(f"{report.path}: error: cannot write: {error.strerror or error}")
    else:
        report.written = True
        _create(report)
        return
    _as_not_written(path, report, settings)


def _create(report: FileReport) -> None:
    """Create the files the fixes made (after the Dockerfile: a failure here
    leaves it fixed, which is still a good file). A file that exists by now
    (another Dockerfile's fix in this run made it, or someone did) is kept."""
    for path, text in list(report.files.items()):
        try:
            create_atomic(path, text)
        except FileExistsError:
            report.warnings.append(f"{shown(path)}: warning: exists already, not written")
        except OSError as error:
            report.errors.append(f"{shown(path)}: error: cannot create: {error.strerror or error}")
        else:
            continue
        del report.files[path]


def _as_not_written(path: str, report: FileReport, settings: Settings) -> None:
    """The report of a file left as it was: its findings as it is, no fix."""
    old = report.old or ""
    report.new, report.applied, report.unsafe_applied, report.files = old, [], [], {}
    try:
        lint = FileReport(report.path)
        plan = plan_for(path, settings)
        process_text(lint, old, plan, "lint", build_context=build_context_for(path, settings, plan.config))
        report.findings = lint.findings
    except Exception:  # already reported once; keep the findings computed
        pass


#: the modes that show what would change, not the findings: the rules that
#: fix nothing are not run
SHOWS_NO_FINDINGS = ("check", "diff")


def process_text(
    report: FileReport, text: str, plan: Plan, mode: str, tree: nodes.Dockerfile | None = None,
    build_context: BuildContext | None = None,
) -> None:
    """Fill ``report`` (named for the text) with the findings in ``text`` and,
    unless ``mode`` is "lint", its fixed text and the files its fixes create.
    Raises FileError."""
    build_context = build_context or BuildContext.none("no build context")
    tree = tree if tree is not None else load(report.path, text)
    report.warnings = [f"{report.path}:{problem.line}:{problem.column}: warning: {problem.message}"
                       for problem in Suppressions.of(tree).problems]
    config = plan.config
    if mode == "lint":
        diagnostics = engine.check(
            tree, plan.rules, options=config.rule_options, ignored=config.hadolint_ignored, build_context=build_context,
        )
    else:
        result = engine.fix(
            text, plan.rules, unsafe=plan.unsafe, options=config.rule_options, ignored=config.hadolint_ignored,
            tree=tree, findings=mode not in SHOWS_NO_FINDINGS, build_context=build_context,
        )
        report.old, report.new, report.applied = text, result.code, result.applied
        report.files = dict(result.files)
        report.unsafe_applied = result.unsafe_applied
        report.errors += [f"{report.path}: error: {bug}" for bug in result.bugs]
        # those modes show no findings: placing them would be work for nothing
        diagnostics = [] if mode in SHOWS_NO_FINDINGS else result.diagnostics
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
    """Reports for the files, in order; on all cores when there are many.

    Worker processes only compute; this process writes, as the reports come
    in. The workers die with it (see ``_worker_start``)."""
    grammar("\\")  # compiled (or loaded from the cache) once, before any fork
    collector.settle()
    cleaned: set[str] = set()  # directories rid of stale temporary files in this run
    workers = os.cpu_count() or 1
    if len(paths) < PARALLEL_THRESHOLD or workers < 2 or STDIN in paths:
        for path in paths:
            yield process(path, settings, stdin, cleaned)
            if progress:
                progress(1)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else None)
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_worker_start, initargs=(os.getpid(),),
    )
    done = 0
    try:
        chunk = max(1, min(8, len(paths) // (workers * 4)))  # small: no worker idles long at the end
        for report in pool.map(_compute_one, [(path, settings) for path in paths], chunksize=chunk):
            write(paths[done], report, settings, cleaned)
            done += 1
            yield report
            if progress:
                progress(1)
    except BrokenProcessPool:
        pool.shutdown(wait=False, cancel_futures=True)  # a worker died (killed, out of memory): the rest is done here
    except BaseException:  # Ctrl-C, or the caller stopped reading: drop the work not started
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    else:
        pool.shutdown()
    for path in paths[done:]:
        yield process(path, settings, stdin, cleaned)
        if progress:
            progress(1)


def _compute_one(job: tuple[str, Settings]) -> FileReport:
    return compute(*job)


def _worker_start(parent: int) -> None:
    """In each worker: die with the parent, leave Ctrl-C to it.

    On Linux the kernel kills the worker when the parent dies
    (PR_SET_PDEATHSIG); the parent may have died before that was set, hence
    the check right after. Elsewhere a thread watches the parent's pid."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(1, signal.SIGKILL, 0, 0, 0) == 0:  # PR_SET_PDEATHSIG
                if os.getppid() != parent:
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass
    import threading

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(1)
            time.sleep(0.2)

    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=watch, name="dfix-parent-watch", daemon=True).start()
