"""bench/bench.py times every tool on the same files: the files a tool does
not read are found first, and left out for all."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.conftest import bench_module

bench = bench_module("bench")


def test_a_batch_that_aborts_is_split_until_the_culprits_are_found() -> None:
    paths = [f"f{i}" for i in range(450)]
    bad = {"f7", "f8", "f301"}
    calls = []

    def reads(chunk: list[str]) -> set[str] | None:  # like tally: one bad file, no output for the batch
        calls.append(len(chunk))
        return None if bad & set(chunk) else set()

    assert bench.refused_by_batches(paths, reads, 200) == bad
    assert len(calls) < 60  # halving, not one call per file


def test_files_a_tool_reports_as_unreadable_are_refused_without_splitting() -> None:
    calls = []

    def reads(chunk: list[str]) -> set[str] | None:  # like hadolint: a parse error is a finding of that file
        calls.append(chunk)
        return {path for path in chunk if path.startswith("broken")}

    assert bench.refused_by_batches(["a", "broken1", "b"], reads, 200) == {"broken1"}
    assert calls == [["a", "broken1", "b"]]


def test_hadolint_parse_errors_are_found(tmp_path: Path) -> None:
    good, broken = tmp_path / "good.Dockerfile", tmp_path / "broken.Dockerfile"
    good.write_text("FROM debian:12\nRUN echo hi\n")
    broken.write_text("FROM debian:12\nRUN <<EOF\necho hi\n")  # an unterminated heredoc
    reads = bench.hadolint_reads(str(Path(sys.executable).with_name("hadolint")))
    assert bench.refused_by_batches([str(good), str(broken)], reads, 200) == {str(broken)}
    assert bench.dfix_refuses([str(good), str(broken)]) == {str(broken)}
