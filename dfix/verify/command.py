"""``--verify`` on the command line: options, the per-file report, writes."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Sequence

import click

from dfix.files import STDIN, write_atomic
from dfix.report import FileReport
from dfix.runner import Settings, process
from dfix.verify import Options, Verdict, verify
from dfix.verify.builders import Builder, BuilderError, find

# --context is not among them: the rules read the build context too
_NEEDS_VERIFY = ("--builder", "--target", "--build-arg", "--verify-run", "--verify-report")


def verify_options(
    verify: bool, mode: str, builder: str | None, context: str | None, target: str | None,
    build_args: Sequence[str], run: str | None, report_file: str | None,
) -> tuple[Builder, Options] | None:
    """The builder and options, None without --verify; a usage error for
    options that make no sense, a clear error when nothing can build."""
    given = [name for name, value in zip(_NEEDS_VERIFY, (builder, target, build_args, run, report_file)) if value]
    if not verify:
        if given:
            raise click.UsageError(f"{given[0]} needs --verify")
        return None
    if mode == "lint":
        raise click.UsageError("--verify needs --diff, --write or --check: it builds the files the fixes change")
    for argument in build_args:
        if "=" not in argument:
            raise click.UsageError(f"--build-arg {argument!r}: expected KEY=VALUE")
    try:
        found = find(builder)
    except BuilderError as error:
        raise click.ClickException(str(error)) from None
    return found, Options(context, target, tuple(build_args), run)


def verify_reports(
    builder: Builder, jobs: Sequence[tuple[str, FileReport]], settings: Settings, stdin: str | None,
    options: Options, *, write: bool, report_file: str | None,
) -> list[Verdict]:
    """Verify each changed file (``(path, report)``); with ``write``, write
    the ones whose fixes verify, and leave the others' reports unchanged."""
    verdicts = []
    for path, report in jobs:
        assert report.old is not None and report.new is not None

        def refix(ids: frozenset[str], path: str = path) -> str:
            narrowed = dataclasses.replace(settings, mode="diff", select=tuple(sorted(ids)))
            redone = process(path, narrowed, stdin)
            return redone.new if redone.new is not None else redone.old or ""

        click.echo(f"{report.path}: building before and after the fixes with {builder.name}...", err=True)
        try:
            verdict = verify(
                builder, report.path if path != STDIN else STDIN, report.old, report.new,
                applied=report.applied, unsafe_applied=report.unsafe_applied, refix=refix,
                options=_with_default_context(options, path),
            )
        except BuilderError as error:
            raise click.ClickException(f"{report.path}: {error}") from None
        verdicts.append(verdict)
        click.echo(describe(verdict, write=write), err=True, nl=False)
        if not write:
            continue
        if verdict.ok and path != STDIN:
            try:
                write_atomic(path, report.new)
            except OSError as error:
                report.errors.append(f"{report.path}: error: cannot write: {error.strerror or error}")
        elif not verdict.ok:
            report.new, report.applied, report.unsafe_applied = report.old, [], []
    if report_file:
        Path(report_file).write_text(json.dumps([v.as_dict() for v in verdicts], indent=2) + "\n", encoding="utf-8")
    return verdicts


def _with_default_context(options: Options, path: str) -> Options:
    if options.context or path == STDIN:
        return options
    return dataclasses.replace(options, context=str(Path(path).resolve().parent))


def describe(verdict: Verdict, *, write: bool) -> str:
    """The report of one file, for people."""
    lines = [f"{verdict.path}: verified with {verdict.builder}"]
    before, after = verdict.before, verdict.after
    lines.append("  before: " + _side(before.build.ok, before.build.seconds, before.facts))
    lines.append("  after:  " + _side(after.build.ok, after.build.seconds, after.facts, before.facts))
    if verdict.broken:
        lines.append("  the fixes break the build" + (": the file was not written" if write else ""))
        if verdict.culprits:
            culprits = ", ".join(verdict.culprits)
            lines.append(f"  the fixes that break it: {culprits} (leave them out with --ignore {','.join(verdict.culprits)})")
        lines += ["  " + line for line in after.build.log.splitlines()[-8:]]
    elif not before.build.ok:
        lines += ["  the original does not build"] + ["  " + line for line in before.build.log.splitlines()[-8:]]
        if not after.build.ok:
            lines.append("  nothing is proven" + (": the file was not written" if write else ""))
    expected = verdict.expected_changes
    for key, (old, new) in verdict.config_changes.items():
        why = f" (by design: {', '.join(expected[key])})" if key in expected else ""
        lines.append(f"  config {key}: {json.dumps(old)} -> {json.dumps(new)}{why}")
    if verdict.unexpected_changes:
        if verdict.unsafe_applied:
            lines.append(f"  unsafe fixes applied: {', '.join(sorted(set(verdict.unsafe_applied)))} (the config changes are theirs)")
        else:
            lines.append("  dfix bug: safe fixes changed the image config" + (": the file was not written" if write else ""))
    if before.smoke is not None or after.smoke is not None:
        same = "same" if not verdict.smoke_differs else "DIFFERENT"
        lines.append(f"  --verify-run: exit {before.smoke} before, {after.smoke} after ({same})")
        if verdict.smoke_differs and write:
            lines.append("  the file was not written")
    return "\n".join(lines) + "\n"


def _side(ok: bool, seconds: float, facts, reference=None) -> str:
    if not ok:
        return f"does not build ({seconds:.1f} s)"
    text = f"built in {seconds:.1f} s"
    if facts is None:
        return text
    text += f", {_size(facts.size)}"
    if reference is not None and reference.size:
        delta = facts.size - reference.size
        text += f" ({'+' if delta >= 0 else '-'}{_size(abs(delta))}, {delta / reference.size:+.1%})"
    return text + f", {facts.layers} layers"


def _size(size: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"
