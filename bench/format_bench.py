"""Speed and safety of dfix's formatter (``--select DF2``) beside dockerfmt and dprint.

    pip install '.[test]'
    python bench/format_bench.py [CORPUS_DIR] [--every N] [--show N]

This is a script, not a test. CORPUS_DIR defaults to DFIX_CORPUS, then
../shared/corpus/files; every file in it is taken, or every Nth with
``--every``. dockerfmt (``@reteps/dockerfmt``, the Go formatter built to
WebAssembly) and dprint (``@dprint/formatter`` with ``@dprint/dockerfile``)
run in Node (``bench/format_node.mjs``); their npm packages are installed on
first use into a folder of the system's temporary directory. Without npm
and node they are skipped.

Only the files that every check can judge are used, for every tool alike:
UTF-8 text that dfix parses and BuildKit (the ``dockerfile`` package) reads,
and none whose directives a BuildKit from before the ``check`` directive
reads otherwise (the oracle wraps such a BuildKit).

Speed: the wall time of one whole process per tool over all those files
(named on its command line): ``python -m dfix --select DF2 --diff`` with its
bytecode compiled (it uses every core), and one Node process per JS tool (its
start and Wasm compilation included). Safety, per tool, counted in files:
it crashed (threw, or dfix reported a bug of its own); it is not idempotent
(formatting its output again changes it); BuildKit refuses its output; its
output means something else (``tests/format_oracle.py``: BuildKit's reading
of every instruction, and mvdan/sh's syntax tree of every shell command).
dfix's outputs come from ``dfix.fix`` in this process.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import dfix
from dfix.cst.buildkit import read_before_the_check_directive
from tests.format_oracle import instructions, meaning_changes

#: where the npm packages are installed, outside the checkout
NODE_DIR = Path(tempfile.gettempdir()) / "dfix-format-bench-node"
NODE_SCRIPT = Path(__file__).with_name("format_node.mjs")
PACKAGES = {"dockerfmt": ["@reteps/dockerfmt@^0.5"], "dprint": ["@dprint/formatter@^0.6", "@dprint/dockerfile@^0.6"]}
COLUMNS = ("crashes", "not idempotent", "no longer parses", "meaning changed")
REFUSED = "BuildKit refuses the output"


@dataclass
class Failed:
    message: str


Outcome = str | Failed
Formatter = Callable[[list[Path]], list[Outcome]]


def read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")  # line ends kept, as Node reads them


def judged_files(paths: list[Path]) -> tuple[list[Path], dict[str, int]]:
    """The files every check can judge, and how many were left out, by reason."""
    kept, skipped = [], {"not UTF-8": 0, "dfix refuses": 0, "pre-check BuildKit reads otherwise": 0, "BuildKit refuses": 0}
    for path in paths:
        try:
            text = read(path)
        except UnicodeDecodeError:
            skipped["not UTF-8"] += 1
            continue
        try:
            tree = dfix.parse(text)
        except dfix.ParseError:
            skipped["dfix refuses"] += 1
            continue
        if read_before_the_check_directive([directive.key for directive in tree.directives]):
            skipped["pre-check BuildKit reads otherwise"] += 1
            continue
        try:
            instructions(text)
        except Exception:  # noqa: BLE001 - the wrapper raises its own GoParseError
            skipped["BuildKit refuses"] += 1
            continue
        kept.append(path)
    return kept, skipped


# --- the formatters ---------------------------------------------------------------------------------------


def dfix_format(paths: list[Path]) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for path in paths:
        try:
            result = dfix.fix(read(path), select=["DF2"])
            outcomes.append(Failed("; ".join(result.bugs)) if result.bugs else result.code)
        except Exception as error:  # noqa: BLE001 - a crash is what is counted
            outcomes.append(Failed(f"{type(error).__name__}: {error}"))
    return outcomes


def timed(command: list[str], **kwargs: object) -> float:
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, **kwargs)
    return time.perf_counter() - start


def node_packages() -> bool:
    """Whether the npm packages are there, installing them when missing."""
    wanted = [package.rsplit("@", 1)[0] for packages in PACKAGES.values() for package in packages]
    if all((NODE_DIR / "node_modules" / name / "package.json").exists() for name in wanted):
        return True
    npm = shutil.which("npm")
    if not (npm and shutil.which("node")):
        print("dockerfmt, dprint: skipped (node and npm are not installed)")
        return False
    print(f"installing {', '.join(wanted)} into {NODE_DIR} ...")
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--prefix", str(NODE_DIR),
         *(package for packages in PACKAGES.values() for package in packages)],
        capture_output=True, text=True, check=False,
    )
    if done.returncode:
        print(f"dockerfmt, dprint: skipped (npm install failed: {done.stderr.strip()[-500:]})")
        return False
    return True


def version(package: str) -> str:
    return json.loads((NODE_DIR / "node_modules" / package / "package.json").read_text())["version"]


def node_formatter(tool: str, work: Path) -> Callable[[list[Path]], tuple[float, list[Outcome]]]:
    """Format files with a JS tool in one Node process: its wall time and outcomes."""

    def run(paths: list[Path]) -> tuple[float, list[Outcome]]:
        listing, out = work / f"{tool}.list.json", work / f"{tool}.out.json"
        listing.write_text(json.dumps([str(path) for path in paths]))
        out.unlink(missing_ok=True)
        wall = timed(["node", str(NODE_SCRIPT), tool, str(listing), str(out)], cwd=NODE_DIR)
        if not out.exists():
            return wall, [Failed("the Node process died")] * len(paths)
        results = json.loads(out.read_text())
        return wall, [result["output"] if "output" in result else Failed(result["error"]) for result in results]

    return run


# --- the checks -------------------------------------------------------------------------------------------


def first_difference(a: str, b: str) -> str:
    for number, (x, y) in enumerate(zip(a.splitlines(True), b.splitlines(True)), start=1):
        if x != y:
            return f"line {number}: {x!r} -> {y!r}"
    return f"{len(a.splitlines(True))} lines -> {len(b.splitlines(True))} lines"


def safety(paths: list[Path], outcomes: list[Outcome], format_again: Formatter, work: Path) -> dict[str, list[tuple[str, str]]]:
    """Per column, the files (name, first change) that count in it."""
    found: dict[str, list[tuple[str, str]]] = {column: [] for column in COLUMNS}
    changed = []
    for path, outcome in zip(paths, outcomes):
        if isinstance(outcome, Failed):
            found["crashes"].append((path.name, outcome.message))
            continue
        before = read(path)
        if outcome == before:
            continue  # formatting it again gives it again
        changed.append((path, outcome))
        problems = meaning_changes(before, outcome, package_order=True)  # dfix sorts install lists; the order of their packages is no meaning
        if problems:
            column = "no longer parses" if problems[0].startswith(REFUSED) else "meaning changed"
            found[column].append((path.name, problems[0]))
    again_dir = work / "again"
    shutil.rmtree(again_dir, ignore_errors=True)
    again_dir.mkdir()
    again_paths = []
    for index, (path, outcome) in enumerate(changed):
        again_paths.append(again_dir / f"{index}-{path.name}")
        again_paths[-1].write_bytes(outcome.encode("utf-8", "surrogateescape"))
    for (path, outcome), again in zip(changed, format_again(again_paths) if again_paths else []):
        if isinstance(again, Failed):
            found["not idempotent"].append((path.name, f"the second run failed: {again.message}"))
        elif again != outcome:
            found["not idempotent"].append((path.name, first_difference(outcome, again)))
    return found


def clip(text: str, width: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


# --- the run ----------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", help="directory of Dockerfiles (default DFIX_CORPUS or ../shared/corpus/files)")
    parser.add_argument("--every", type=int, default=1, metavar="N", help="take every Nth file (default 1: all)")
    parser.add_argument("--show", type=int, default=3, metavar="N",
                        help="show up to N files, with their first problem, per non-zero count (default 3)")
    args = parser.parse_args(argv)
    directory = Path(args.corpus or os.environ.get("DFIX_CORPUS", ROOT.parent / "shared" / "corpus" / "files"))
    paths = sorted(path.resolve() for path in directory.iterdir() if path.is_file())[:: args.every]
    print(f"{len(paths)} files from {directory}" + (f" (every {args.every}th)" if args.every > 1 else ""))
    paths, skipped = judged_files(paths)
    print("left out: " + ", ".join(f"{count} {reason}" for reason, count in skipped.items()))
    print(f"judged: {len(paths)} files, {os.cpu_count()} cores\n")

    # as pip installs it: with its bytecode
    compileall.compile_dir(str(ROOT / "dfix"), quiet=1)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    rows: dict[str, tuple[float, dict[str, list[tuple[str, str]]]]] = {}
    with tempfile.TemporaryDirectory(prefix="format-bench-") as temporary:
        work = Path(temporary)
        wall = timed([sys.executable, "-m", "dfix", "--select", "DF2", "--diff", *map(str, paths)], env=env)
        rows[f"dfix {dfix.__version__}"] = (wall, safety(paths, dfix_format(paths), dfix_format, work))
        if node_packages():
            for tool, package in (("dockerfmt", "@reteps/dockerfmt"), ("dprint", "@dprint/dockerfile")):
                run = node_formatter(tool, work)
                wall, outcomes = run(paths)
                rows[f"{tool} {version(package)}"] = (wall, safety(paths, outcomes, lambda again, run=run: run(again)[1], work))

    print(f"{'tool':16s} {'files':>6s} {'wall s':>7s} {'files/s':>8s} " + " ".join(f"{column:>16s}" for column in COLUMNS))
    for label, (wall, found) in rows.items():
        print(f"{label:16s} {len(paths):6d} {wall:7.2f} {len(paths) / wall:8.0f} "
              + " ".join(f"{len(found[column]):16d}" for column in COLUMNS))
    for label, (_, found) in rows.items():
        for column in COLUMNS:
            if found[column] and args.show:
                print(f"\n{label}, {column}:")
                for name, problem in found[column][: args.show]:
                    print(f"  {name}: {clip(problem)}")
    print("\ndockerfmt options: indent 4, trailingNewline true, spaceRedirects false; dprint: its defaults")
    return 0


if __name__ == "__main__":
    sys.exit(main())
