"""A short, fixed-seed slice of the fuzz harness (bench/fuzz.py): mutated
fixtures parse or fail cleanly, print back exactly, and fix to a text that
parses, that BuildKit still reads, and that fixing again leaves alone.

The long runs are ``python bench/fuzz.py --count N``; this one runs in CI.
It seeds from the fixtures only, so that it is the same slice everywhere.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import bench_module


fuzz = bench_module("fuzz")

SEED = 20240601
COUNT = 300


def test_fuzz_slice_finds_nothing(tmp_path: Path) -> None:
    summary = fuzz.run(
        count=COUNT, seed=SEED, jobs=min(2, os.cpu_count() or 1), time_limit=10.0, no_corpus=True,
        save_failures=tmp_path / "failures", progress=3600, log=lambda message: None,
    )
    assert summary["done"] == COUNT
    report = "\n".join(
        f"#{failure['index']} {failure['signature']} (size {failure['size']}; "
        f"replay: python bench/fuzz.py --no-corpus --seed {SEED} --print-input {failure['index']}):\n"
        f"{failure['detail']}"
        for failure in summary["failures"]
    )
    assert summary["failures_total"] == 0, report
    # the slice exercises what it claims to
    assert summary["outcomes"].get("parsed, fixed", 0) > COUNT // 10
    assert summary["outcomes"].get("refused", 0) > 0
    assert summary["buildkit_read"] > COUNT // 2


def test_inputs_depend_only_on_the_seed_and_index() -> None:
    seeds = fuzz.load_seeds(fuzz.FIXTURES, None)
    first = [fuzz.generate(seeds, SEED, index) for index in range(50)]
    assert first == [fuzz.generate(seeds, SEED, index) for index in range(50)]
    assert len({text for text, _ in first}) > 40


def test_check_text_reports_a_failing_round_trip(monkeypatch) -> None:
    import dfix

    real_parse = dfix.parse

    class Lossy:
        def __init__(self, tree):
            self.code = tree.code[:-1]

    monkeypatch.setattr(dfix, "parse", lambda text: Lossy(real_parse(text)))
    outcome = fuzz.check_text("FROM a\n", buildkit=False)
    assert outcome.failed and outcome.kind == "round trip"


def test_minimize_shrinks_to_the_cause() -> None:
    text = "FROM a\nRUN b\nRUN <<EOF\nx\nEOF\nCMD c\n"
    assert fuzz.minimize(text, lambda candidate: "<<" in candidate) == "<<"


# Bugs the longer runs found (minimized), fixed since: they stay as regressions.
KNOWN_FINDINGS = [
    pytest.param(
        "FROM debian\nRUN set -e; apt-get update; cat <<EOF\nhello\nEOF\n",
        id="DL3009-semicolon-after-heredoc",
    ),
    pytest.param(
        "FROM debian\nRUN apt-get update && \\\n  cat <<EOF && \\\nbody\nEOF\n  apt-get install -y curl\n",
        id="DL3009-inside-a-heredoc-body",
    ),
    pytest.param(
        "FROM node\nCMD\nRUN\r",
        id="DL3002-lone-CR-does-not-settle",
    ),
    pytest.param(
        'FROM alpine\nCMD ["sh"]\nCOPY <<EOF /x\nline\nEOF',
        id="DL3002-after-final-heredoc-without-newline",
    ),
]


@pytest.mark.parametrize("text", KNOWN_FINDINGS)
def test_known_fuzz_findings(text: str) -> None:
    outcome = fuzz.check_text(text)
    assert not outcome.failed, f"{outcome.signature}: {outcome.detail}"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="CPU time of another process is read from /proc")
def test_the_watchdog_counts_cpu_time_so_a_starved_worker_is_not_slow() -> None:
    spinning = fuzz.Worker([sys.executable, "-c", "import sys\nsys.stdin.readline()\nwhile True: pass"])
    waiting = fuzz.Worker([sys.executable, "-c", "import sys, time\nsys.stdin.readline()\ntime.sleep(60)"])
    try:
        time.sleep(0.5)  # both started
        spinning.send(0)
        waiting.send(0)
        time.sleep(1.5)
        now = time.monotonic()
        assert spinning.busy(now) > 0.4
        assert waiting.busy(now) < 0.2  # 1.5 s of wall time, next to no CPU: not an overrun
    finally:
        spinning.kill()
        waiting.kill()


def test_the_oracle_s_old_reading_of_check_directives_is_not_held_against_dfix() -> None:
    # found by the long run (#810559): after `# check=`, the oracle's old
    # BuildKit takes `# escape=` for a comment and reads `\` as the escape;
    # dfix, as current BuildKit, reads the backtick: DF004's fix of
    # `ENV A \` is right for the one and refused by the other
    text = "# check=skip=all\n# escape=`\nFROM a\nENV A \\\n  b\n"
    outcome = fuzz.check_text(text)
    assert outcome.kind == "parsed, fixed" and not outcome.failed
    assert outcome.extra["buildkit"] is False  # not compared with that BuildKit
    assert fuzz.check_text("# escape=`\nFROM a\nENV A \\\n  b\n").extra["buildkit"] is True
