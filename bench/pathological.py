"""Time and memory of dfix on pathological Dockerfiles.

    .venv/bin/python bench/pathological.py [--sizes 16K,64K,250K]
        [--shapes nested_subst,...] [--ops parse,check,fix,fix_unsafe]
        [--timeout 120] [--json FILE] [--profile SHAPE:SIZE:OP]

This is a script, not a test. For each shape (deep nesting of `$( )`,
backticks, quotes, parentheses and braces; one huge RUN of `&&` commands on
continuation lines; tens of thousands of instructions; a huge heredoc; a huge
JSON array; one long line) at each size, it runs each operation -- `dfix.parse`,
`dfix.check`, `dfix.fix` and `dfix.fix(unsafe=True)`, each from the text, so
check and fix include the parse -- in a fresh subprocess with a timeout, and
prints the seconds, MB/s, the peak resident memory of the process, the growth
of that peak over the process before the operation (the grammar loaded and a
small file parsed) and its ratio to the input size, and whether the operation
met 1 MB/s and 50x. A file dfix refuses (ParseError, e.g. nesting beyond its
limit) is reported as "refused" with the message: a clear refusal is an
acceptable answer, a hang is not. Under about 1 MB the memory ratio is mostly
allocator noise; it is judged from 1 MB up.

`--profile SHAPE:SIZE:OP` runs one case under cProfile in this process and
prints the 25 most expensive functions (cumulative).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

KB = 1024
MB = 1024 * 1024
RATE = 1.0  # MB/s
MEMORY_RATIO = 50
OPS = ("parse", "check", "fix", "fix_unsafe")


def _repeat_to(size: int, head: str, unit: str, tail: str = "") -> str:
    count = max(1, (size - len(head) - len(tail)) // len(unit))
    return head + unit * count + tail


def _nested(size: int, open_: str, close: str, head: str = "FROM alpine:3.19\nRUN ", tail: str = "\n",
            inner: str = "true") -> str:
    depth = max(1, (size - len(head) - len(tail) - len(inner)) // (len(open_) + len(close)))
    return head + open_ * depth + inner + close * depth + tail


def nested_subst(size: int) -> str:
    return _nested(size, "echo $(", ")", inner="echo x")


def nested_backticks(size: int) -> str:
    # backticks nest by escaping: level k opens with 2^k - 1 backslashes, so a
    # file holds about log2(size) levels; the rest is many such groups
    def group(depth: int) -> str:
        text = "x"
        for level in reversed(range(depth)):
            ticks = "\\" * (2 ** level - 1) + "`"
            text = f"{ticks}echo {text}{ticks}"
        return "echo " + text + "; "
    unit = group(8)
    return _repeat_to(size, "FROM alpine:3.19\nRUN ", unit, "true\n")


def nested_quotes(size: int) -> str:
    return _nested(size, 'echo "$(', ')"', inner="echo x")


def nested_parens(size: int) -> str:
    return _nested(size, "( ", " )", inner="true")


def nested_braces(size: int) -> str:
    return _nested(size, "{ ", "; }", inner="true")


def nested_arith(size: int) -> str:
    return _nested(size, "echo $(( 1 + ", " ))", inner="1")


def nested_params(size: int) -> str:
    return _nested(size, "echo ${X:-", "}", inner="y")


def and_chain(size: int) -> str:
    unit = " \\\n    && apt-get install -y curl wget \"$X\" 'a b' $(date) > /dev/null"
    return _repeat_to(size, "FROM debian:12\nRUN apt-get update", unit, "\n")


def many_instructions(size: int) -> str:
    unit = (
        "RUN apt-get update && apt-get install -y curl\n"
        "COPY a.txt /app/\n"
        "ENV A=1 B=\"two words\"\n"
        "WORKDIR app\n"
        "RUN cd /app && make\n"
        "# a comment\n"
        "LABEL maintainer=\"x@example.com\"\n"
        "EXPOSE 8080\n"
    )
    return _repeat_to(size, "FROM ubuntu\n", unit, 'CMD ["app"]\n')


def heredoc(size: int) -> str:
    unit = "apt-get install -y curl && echo \"$HOME\" $(date) `id`\n"
    return _repeat_to(size, "FROM alpine:3.19\nRUN <<EOF\n", unit, "EOF\n")


def json_array(size: int) -> str:
    unit = '"--flag", '
    return _repeat_to(size, 'FROM alpine:3.19\nCMD ["app", ', unit, '"end"]\n')


def long_line(size: int) -> str:
    unit = "a$b\"c\"'d' "
    return _repeat_to(size, "FROM alpine:3.19\nRUN echo ", unit, "\n")


def long_word(size: int) -> str:
    return _repeat_to(size, "FROM alpine:3.19\nRUN echo ", "a", "\n")


SHAPES = {
    function.__name__: function
    for function in (
        nested_subst, nested_backticks, nested_quotes, nested_parens, nested_braces, nested_arith,
        nested_params, and_chain, many_instructions, heredoc, json_array, long_line, long_word,
    )
}

_CHILD = r"""
import json, os, resource, sys, time
sys.path.insert(0, sys.argv[1])
import dfix
dfix.check("FROM alpine\nRUN echo $(echo x)\n")
dfix.fix("FROM alpine\nRUN echo $(echo x)\n")
text = sys.stdin.read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
op = sys.argv[2]
start = time.perf_counter()
outcome = "ok"
try:
    if op == "parse":
        dfix.parse(text)
    elif op == "check":
        dfix.check(text)
    else:
        dfix.fix(text, unsafe=op == "fix_unsafe")
except dfix.ParseError as error:
    outcome = "refused: " + str(error)[:120]
except RecursionError:
    outcome = "RecursionError"
seconds = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "before_kb": before, "peak_kb": after, "outcome": outcome}))
"""


def parse_size(text: str) -> int:
    text = text.strip().upper()
    for suffix, factor in (("K", KB), ("M", MB)):
        if text.endswith(suffix):
            return int(float(text[:-1]) * factor)
    return int(text)


def run_case(shape: str, size: int, op: str, timeout: float) -> dict:
    text = SHAPES[shape](size)
    result = {"shape": shape, "size": len(text.encode()), "op": op}
    start = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, str(ROOT), op], input=text, capture_output=True, text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        result.update(outcome=f"timeout ({timeout:g} s)", seconds=None)
        return result
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        result.update(outcome=f"crash: {last[:120]}", seconds=time.perf_counter() - start)
        return result
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    grown = max(0, measured["peak_kb"] - measured["before_kb"]) * KB
    result.update(
        outcome=measured["outcome"], seconds=measured["seconds"], peak_kb=measured["peak_kb"], grown=grown,
        mb_per_s=result["size"] / MB / max(measured["seconds"], 1e-9),
        ratio=grown / result["size"],
    )
    result["fast"] = result["mb_per_s"] >= RATE and result["outcome"] != "RecursionError"
    result["small"] = result["ratio"] <= MEMORY_RATIO or result["size"] < MB
    return result


def describe(result: dict) -> str:
    head = f"{result['shape']:<18} {result['size'] / KB:>8.0f}K {result['op']:<10}"
    if result.get("seconds") is None or "mb_per_s" not in result:
        return f"{head} {result['outcome']}"
    verdict = "ok" if result["fast"] and result["small"] else (
        ("SLOW " if not result["fast"] else "") + ("BIG" if not result["small"] else "")
    ).strip()
    text = (
        f"{head} {result['seconds']:8.2f} s {result['mb_per_s']:8.2f} MB/s "
        f"peak {result['peak_kb'] / KB:7.0f} MB  +{result['grown'] / MB:7.1f} MB ({result['ratio']:5.1f}x)  {verdict}"
    )
    if result["outcome"] != "ok":
        text += f"  [{result['outcome']}]"
    return text


def profile(spec: str) -> None:
    import cProfile
    import pstats

    sys.path.insert(0, str(ROOT))
    import dfix

    shape, size, op = spec.split(":")
    text = SHAPES[shape](parse_size(size))
    call = {
        "parse": lambda: dfix.parse(text),
        "check": lambda: dfix.check(text),
        "fix": lambda: dfix.fix(text),
        "fix_unsafe": lambda: dfix.fix(text, unsafe=True),
    }[op]
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        call()
    except dfix.ParseError as error:
        print("refused:", error)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="16K,64K,250K", help="comma-separated sizes (K, M suffixes)")
    parser.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated shapes")
    parser.add_argument("--ops", default=",".join(OPS), help="comma-separated operations")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per case")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON ('-' for stdout)")
    parser.add_argument("--profile", metavar="SHAPE:SIZE:OP", help="profile one case in this process")
    args = parser.parse_args(argv)
    if args.profile:
        profile(args.profile)
        return 0
    sizes = [parse_size(size) for size in args.sizes.split(",")]
    shapes = [shape for shape in args.shapes.split(",") if shape]
    unknown = [shape for shape in shapes if shape not in SHAPES]
    if unknown:
        parser.error(f"unknown shapes: {', '.join(unknown)} (known: {', '.join(SHAPES)})")
    results = []
    for shape in shapes:
        for size in sizes:
            slow = False
            for op in args.ops.split(","):
                if slow:  # a timeout on parse or check dooms the rest: say so without waiting
                    result = {"shape": shape, "size": size, "op": op, "outcome": "skipped (an earlier op timed out)"}
                else:
                    result = run_case(shape, size, op, args.timeout)
                    slow = result["outcome"].startswith("timeout")
                results.append(result)
                print(describe(result), flush=True)
    failed = [r for r in results if not (r.get("fast") and r.get("small")) and not r["outcome"].startswith("refused")]
    print(f"\n{len(results) - len(failed)} of {len(results)} cases met {RATE:g} MB/s and {MEMORY_RATIO}x (or were refused)")
    if args.json:
        payload = json.dumps(results, indent=1)
        if args.json == "-":
            print(payload)
        else:
            Path(args.json).write_text(payload + "\n", encoding="utf-8")
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
