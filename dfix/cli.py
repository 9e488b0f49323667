"""The ``dfix`` command: check, diff, fix.

Exit status: 0 when there is nothing to report; 1 when there are findings
(or, with --diff and --check, files to change); 2 on errors (bad usage, a
file that cannot be read or parsed, a dfix bug). Findings go to standard
output, errors to standard error.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from typing import Sequence

import click

import dfix
from dfix import selection
from dfix.diff import colored, unified_diff
from dfix.files import STDIN, FileError, discover, shown
from dfix.report import FORMATS, FileReport, Finding, github_report, json_report, rules_table, sarif_report, text_line
from dfix.rules import ALL_RULES
from dfix.runner import Settings, read_stdin, run
from dfix.verify.builders import BUILDERS
from dfix.verify.command import verify_options as _verify_options, verify_reports

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2
_PROGRESS_AFTER = 50  # files; fewer go by too fast for a progress bar


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
# readable=False: a file that cannot be read is an error for that file, not a usage error for the run
@click.argument("paths", nargs=-1, type=click.Path(allow_dash=True, readable=False), metavar="[PATH]...")
@click.option("--diff", is_flag=True, help="Print a unified diff of the fixes; write nothing.")
@click.option("--write", "-w", is_flag=True, help="Apply the fixes to the files.")
@click.option("--check", is_flag=True, help="Write nothing; list the files the fixes would change.")
@click.option("--select", multiple=True, metavar="RULES",
              help="Run only these rules: ids, names, id prefixes or ALL, comma-separated; repeatable. "
                   "Also turns on rules that are off by default.")
@click.option("--ignore", multiple=True, metavar="RULES", help="Do not run these rules (same forms as --select).")
@click.option("--unsafe-fixes/--no-unsafe-fixes", default=None,
              help="Also apply fixes that may change what is installed or how the container runs.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings or changes (errors still exit 2).")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True,
              help="How findings are printed.")
@click.option("--stdin-filename", metavar="PATH",
              help="The name of the file read from standard input, for messages and configuration.")
@click.option("--exclude", multiple=True, metavar="GLOB",
              help="Skip files and directories that match, in directory searches (gitignore syntax); repeatable.")
@click.option("--verify", is_flag=True,
              help="Build each changed file before and after its fixes and report what changed in the image; "
                   "with --write, a file whose fixes break its build is not written.")
@click.option("--builder", type=click.Choice(BUILDERS), metavar="NAME",
              help="Build with docker, podman or buildah (default: the first that works here).")
@click.option("--context", "build_context", type=click.Path(file_okay=False, exists=True), metavar="DIR",
              help="The build context: the files rules may read (manifests, .dockerignore) and --verify sends "
                   "(default: each Dockerfile's folder, or the 'context' setting).")
@click.option("--target", metavar="STAGE", help="The stage --verify builds (default: the last).")
@click.option("--build-arg", "build_args", multiple=True, metavar="KEY=VALUE",
              help="A build argument for --verify; repeatable.")
@click.option("--verify-run", metavar="CMD",
              help="With --verify, run CMD in both images (with sh -c when it has shell syntax) and compare exit statuses.")
@click.option("--verify-report", type=click.Path(dir_okay=False, writable=True), metavar="FILE",
              help="With --verify, also write what was measured as JSON to FILE.")
@click.option("--list-rules", is_flag=True, help="List every rule and exit.")
@click.option("--explain", metavar="RULE", help="Explain a rule (id or name) and exit.")
@click.option("--quiet", "-q", is_flag=True, help="Print findings and errors only, no summary.")
@click.version_option(dfix.__version__, "--version", prog_name="dfix")
def cli(
    paths: tuple[str, ...], diff: bool, write: bool, check: bool, select: tuple[str, ...], ignore: tuple[str, ...],
    unsafe_fixes: bool | None, exit_zero: bool, output_format: str, stdin_filename: str | None,
    exclude: tuple[str, ...], verify: bool, builder: str | None, build_context: str | None, target: str | None,
    build_args: tuple[str, ...], verify_run: str | None, verify_report: str | None,
    list_rules: bool, explain: str | None, quiet: bool,
) -> None:
    """Find and fix problems in Dockerfiles.

    Each PATH is a Dockerfile, a directory to search (for Dockerfile,
    Dockerfile.*, *.Dockerfile, *.dockerfile, Containerfile and
    Containerfile.*, skipping what .gitignore ignores), or - for standard
    input. Without PATH, the current directory is searched.

    Without --diff, --write or --check, dfix reports its findings as
    PATH:LINE:COLUMN: ID message; [*] marks the ones --write would fix.
    Settings come from the nearest .dfix.toml or [tool.dfix] in pyproject.toml;
    the command line overrides them.
    """
    if list_rules:
        click.echo(rules_table(ALL_RULES), nl=False)
        return
    if explain:
        rule = next((r for r in ALL_RULES if explain.upper() == r.id or explain.lower() == r.name), None)
        if rule is None:
            raise click.UsageError(f"no rule {explain!r}; see --list-rules")
        default = "on by default" if rule.default else "off unless selected"
        click.echo(f"{rule.id} ({rule.name}): {rule.summary}\nFix: {rule.fix.description}; {default}.\n\n{rule.explanation}")
        return
    if write and (diff or check):
        raise click.UsageError("--write cannot be combined with --diff or --check")
    if paths.count(STDIN) > 1:
        raise click.UsageError("- (standard input) can be given only once")
    try:
        selectors = selection.split(select) or None, selection.split(ignore)
        for selector in [*(selectors[0] or []), *selectors[1]]:
            selection.check_selector(selector)
    except selection.SelectorError as error:
        raise click.UsageError(str(error)) from None
    mode = "write" if write else "diff" if diff else "check" if check else "lint"
    verifying = _verify_options(verify, mode, builder, build_context, target, build_args, verify_run, verify_report)
    settings = Settings(mode, tuple(selectors[0]) if selectors[0] else None, tuple(selectors[1]), unsafe_fixes,
                        stdin_filename, build_context)
    if verifying is not None:
        # fixes are computed without writing; a file is written once its build is verified
        settings = dataclasses.replace(settings, mode="diff")

    items = list(discover(list(paths) or ["."], exclude))
    errors = [str(item) for item in items if isinstance(item, FileError)]
    files = [item for item in items if not isinstance(item, FileError)]
    stdin = read_stdin_or_error(errors) if STDIN in files else None
    if stdin is None:
        files = [path for path in files if path != STDIN]
    reports = list(_run_with_progress(files, settings, stdin, quiet))
    for report in reports:
        errors += report.errors
        for warning in report.warnings:  # on stderr, and not a failure
            click.echo(warning, err=True)
    verdicts = []
    if verifying is not None:
        found, options = verifying
        jobs = [(path, report) for path, report in zip(files, reports) if report.changed and not report.errors]
        verdicts = verify_reports(found, jobs, settings, stdin, options, write=mode == "write", report_file=verify_report)
        errors += [error for _, report in jobs for error in report.errors if error not in errors]
        if mode == "write":
            for path, report in jobs:  # verify_reports wrote the ones that verified
                report.written = path != STDIN and report.changed and not report.errors
    for error in errors:
        click.echo(error, err=True)

    to_stdout_only = mode == "write" and files == [STDIN]
    if to_stdout_only:
        report = reports[0] if reports else None
        if report is not None and report.new is not None and not report.errors:
            echo_exact(report.new)
        sys.exit(EXIT_ERROR if errors else EXIT_OK)

    findings = [finding for report in reports for finding in report.findings]
    changed = [report for report in reports if report.changed]
    if mode == "diff":
        color = sys.stdout.isatty()
        for report in changed:
            diffs = [unified_diff(report.old, report.new, report.path)] if report.new != report.old else []
            diffs += [unified_diff(None, text, shown(path)) for path, text in report.files.items()]
            for text in diffs:
                echo_exact(colored(text) if color else text)
    elif mode == "check":
        for report in changed:
            if report.new != report.old:
                click.echo(f"Would fix {report.path}")
            for path in report.files:
                click.echo(f"Would create {shown(path)}")
    else:
        _print_findings(findings, output_format)
    if not quiet and output_format == "text" and not (errors and not findings and not changed):
        _summary(mode, reports, findings, changed)

    if errors:
        sys.exit(EXIT_ERROR)
    if any(not verdict.ok for verdict in verdicts):
        sys.exit(EXIT_FINDINGS)
    if exit_zero:
        sys.exit(EXIT_OK)
    bad = bool(changed) if mode in ("diff", "check") else bool(findings)
    sys.exit(EXIT_FINDINGS if bad else EXIT_OK)


def echo_exact(text: str) -> None:
    """``text`` on standard output as UTF-8 bytes, exactly: click.echo drops
    escape sequences (a Dockerfile may hold them) when the output is not a
    terminal, and the locale's encoding may not be UTF-8."""
    sys.stdout.flush()
    out = sys.stdout.buffer
    out.write(text.encode("utf-8", "surrogateescape"))
    out.flush()


def read_stdin_or_error(errors: list[str]) -> str | None:
    try:
        return read_stdin()
    except FileError as error:
        errors.append(str(error))
        return None


def _run_with_progress(files: list[str], settings: Settings, stdin: str | None, quiet: bool) -> list[FileReport]:
    if quiet or len(files) < _PROGRESS_AFTER or not sys.stderr.isatty():
        return list(run(files, settings, stdin=stdin))
    with click.progressbar(length=len(files), label="dfix", file=sys.stderr) as bar:
        return list(run(files, settings, stdin=stdin, progress=bar.update))


def _print_findings(findings: list[Finding], output_format: str) -> None:
    if output_format == "json":
        _echo_bytes(json_report(findings), "backslashreplace")
    elif output_format == "sarif":
        _echo_bytes(sarif_report(findings), "backslashreplace")
    elif output_format == "github":
        _echo_bytes(github_report(findings), "surrogateescape")
    else:
        for finding in findings:
            click.echo(text_line(finding))


def _echo_bytes(text: str, errors: str) -> None:
    """``text`` as UTF-8 on standard output. A file name that is not UTF-8
    (its bytes kept as lone surrogates) is written as those bytes with
    "surrogateescape", as a JSON ``\\udcXX`` escape with "backslashreplace"
    (JSON output stays valid UTF-8)."""
    out = getattr(sys.stdout, "buffer", None)
    if out is None:
        click.echo(text, nl=False)
        return
    sys.stdout.flush()
    out.write(text.encode("utf-8", errors))
    out.flush()


def _summary(mode: str, reports: list[FileReport], findings: list[Finding], changed: list[FileReport]) -> None:
    fixed = sum(len(report.applied) for report in reports)
    if mode == "write":
        written = [report for report in reports if report.written]  # not the files a write failed on
        fixed = sum(len(report.applied) for report in written)
        if fixed:
            click.echo(f"Fixed {_plural(fixed, 'finding')} in {_plural(len(written), 'file')}.")
        for path in (path for report in written for path in report.files):
            click.echo(f"Created {shown(path)}.")
        click.echo(f"{_plural(len(findings), 'finding')} remaining." if findings else "No findings remaining.")
        return
    if mode in ("diff", "check"):
        if changed:
            click.echo(f"Would fix {_plural(fixed, 'finding')} in {_plural(len(changed), 'file')}.", err=True)
        else:
            click.echo("Nothing to fix.", err=True)
        return
    if not findings:
        click.echo("All checks passed!")
        return
    click.echo(f"Found {_plural(len(findings), 'finding')}.")
    fixable = sum(finding.fixable for finding in findings)
    if fixable:
        click.echo(f"[*] {fixable} fixable with `dfix --write`.")
    hidden = sum(finding.fix == "unsafe" and not finding.fixable for finding in findings)
    if hidden:
        click.echo(f"({_plural(hidden, 'more fix')} with `--unsafe-fixes`.)".replace("fixs", "fixes"))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status instead of exiting."""
    utf8_streams()
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="dfix", standalone_mode=False)
    except SystemExit as exit:
        return exit.code if isinstance(exit.code, int) else EXIT_ERROR
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return EXIT_ERROR
    except click.ClickException as error:
        error.show()
        return EXIT_ERROR
    except BrokenPipeError:  # dfix ... | head: the reader is gone, so is the rest of the output
        _silence_stdout()
        return EXIT_ERROR
    return EXIT_OK


def utf8_streams() -> None:
    """Standard output and error in UTF-8, whatever the locale or
    PYTHONIOENCODING says; a file name that is not UTF-8 is written as its
    own bytes (surrogateescape)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None:
            continue
        try:
            reconfigure(encoding="utf-8", errors="surrogateescape")
        except (ValueError, OSError, LookupError):
            pass  # closed, or not a text stream that can change


def _silence_stdout() -> None:
    """After a broken pipe: nothing more goes out, and Python's final flush
    does not complain either."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
