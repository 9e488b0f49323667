from __future__ import annotations

import functools
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

import dfix

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
_DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "files"

# Figures the corpus tests measure, printed at the end of the run.
REPORT: dict[str, str] = {}


@functools.lru_cache(maxsize=None)
def bench_module(name: str) -> ModuleType:
    """A script of bench/ (not a package) loaded as a module, to test its parts."""
    spec = importlib.util.spec_from_file_location(f"dfix_bench_{name}", ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def corpus_dir() -> Path | None:
    """DFIX_CORPUS, or ../shared/corpus/files; None when neither is there."""
    configured = os.environ.get("DFIX_CORPUS")
    if configured:
        path = Path(configured)
        if not path.is_dir():
            raise RuntimeError(f"DFIX_CORPUS={configured} is not a directory")
        return path
    return _DEFAULT_CORPUS if _DEFAULT_CORPUS.is_dir() else None


def corpus_names() -> list[str]:
    directory = corpus_dir()
    return sorted(os.listdir(directory)) if directory else []


def read_exact(path: Path) -> str:
    """A file's text exactly: line ends kept, invalid bytes kept as escapes."""
    with open(path, encoding="utf-8", errors="surrogateescape", newline="") as handle:
        return handle.read()


@functools.lru_cache(maxsize=None)
def corpus_text(name: str) -> str:
    directory = corpus_dir()
    assert directory is not None
    return read_exact(directory / name)


@functools.lru_cache(maxsize=None)
def corpus_tree(name: str) -> dfix.Dockerfile | dfix.ParseError:
    try:
        return dfix.parse(corpus_text(name))
    except dfix.ParseError as error:
        return error


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if corpus_dir() is not None:
        return
    skip = pytest.mark.skip(reason="no corpus: set DFIX_CORPUS or provide ../shared/corpus/files")
    for item in items:
        if "corpus" in item.keywords:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if REPORT:
        terminalreporter.section("dfix measurements")
        for key, value in REPORT.items():
            terminalreporter.write_line(f"{key}: {value}")
