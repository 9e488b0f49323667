"""Mutation fuzzing of dfix: parse, round trip, fix, re-parse, idempotence.

    python bench/fuzz.py --count 2000 --seed 1 --jobs 2 --json /tmp/fuzz.json

This is a script, not a test (``tests/test_fuzz_slice.py`` runs a short slice
of it in CI). It seeds from the Dockerfiles under ``fixtures/`` and, unless
``--no-corpus``, from the corpus (``--corpus``, else DFIX_CORPUS, else
../shared/corpus/files). Input number ``i`` is a pure function of
``(--seed, i)`` and of the seed files: a seed file (or two, spliced), cut
down or not, then a few mutations at the byte, character, token and line
level (delete, duplicate, swap, insert Dockerfile tokens such as ``\\``+newline,
``<<EOF``, ``$(``, quotes, ``# escape=``, brackets, CRLF, a BOM, non-ASCII
text, keywords). So a run is the same for a given seed whatever ``--jobs``,
and ``--only I`` replays one input.

For each input:

- ``dfix.parse`` raises nothing but ``ParseError``; when it parses,
  ``parse(t).code == t``;
- ``dfix.fix`` (safe, then unsafe) raises nothing (not even ParseError: the
  text parsed) and reports no dfix bug in ``.bugs``; its output parses and
  prints back exactly; when BuildKit (the ``dockerfile`` package) reads the
  input, it reads the output too; ``fix(fix(t)) == fix(t)``;
- the whole check ends within ``--time-limit`` seconds of CPU time (of the
  worker process: on a busy machine wall time would count a starved worker
  as slow; a worker stuck for 30 times the limit in wall time is slow too).

The inputs run in ``--jobs`` worker subprocesses (``fuzz.py --worker``) fed
one input number at a time over a pipe; the parent kills a worker that
overruns the time limit (the input is a "slow" failure, with its size) or
that dies (a "crash": the BuildKit wrapper is Go code in the process) and
starts another. Each failure is saved to ``--save-failures`` as
``<kind>-<index>.Dockerfile`` (the exact bytes) beside a ``.json`` giving the
reason; ``--minimize`` also shrinks the first failure of each signature.
Prints inputs/s, the count of each outcome and the failures, writes the same
to ``--json`` (every ``--progress`` seconds while running, with
``"finished": false``), and exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import select
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "files"

#: inputs longer than this (in characters) are cut down to a window of lines
MAX_SIZE = 16_384

KEYWORDS = [
    "FROM", "RUN", "CMD", "ENTRYPOINT", "COPY", "ADD", "ENV", "LABEL", "ARG", "EXPOSE", "VOLUME", "USER",
    "WORKDIR", "SHELL", "HEALTHCHECK", "ONBUILD", "STOPSIGNAL", "MAINTAINER", "FOO",
]
TOKENS = [
    "\\\n", "\\\r\n", "\\", " \\\n  ", " \\\n# comment\n  ", " \\\n\n  ", "`\n", "`", " `\n  ",
    "<<EOF", "<<-EOF", "<<'EOF'", '<<"EOF"', "<<EOF\nbody\nEOF\n", "cat<<EOF", "EOF", "EOF\n", "\nEOF\n", "\tEOF\n",
    "$(", ")", "${", "}", "${A:-b}", "$HOME", "$", "`id`", '"', "'", '\\"', "\\'",
    "# escape=`\n", "# escape=\\\n", "# escape=x\n", "# syntax=docker/dockerfile:1\n", "# check=skip=all\n",
    "# hadolint ignore=DL3008\n", "# dfix: ignore\n", "# comment\n", "#", "# ",
    "[", "]", '["a", "b"]', '["sh", "-c", "echo"]', '[\"x\",', ",", "=", "==", "--", "-",
    "--mount=type=cache,target=/root/.cache", "--from=build", "--chown=1:1", "--chmod=755", "--link",
    "--platform=$BUILDPLATFORM", "--interval=5s", "--network=none", "AS", "as", "NONE", "none",
    "\r\n", "\r", "\n", "\n\n", "\ufeff", "\u00a0", "\u2028", "\u3000", "é", "日本", "\U0001f600", "\x00", "\t", " ",
    "&&", "||", ";", "|", "2>&1", ">", "<", "&", "(", ")", "{", "}", "if", "then", "fi", "for", "do", "done",
    " && apt-get install -y curl", "apt-get update", "apt-get install -y", "apk add --no-cache x", "yum install -y x",
    "pip install x", "pip3 install -r requirements.txt", "npm install", "npm ci", "gem install x", "go build",
    "sudo ", "cd /tmp", "curl -sSL http://x | sh", "wget -q http://x", "rm -rf /var/lib/apt/lists/*",
    "ubuntu", "debian:12", "alpine:latest", "scratch", "build", "root", "0", "80", "/app", "*.txt", "x=1",
    'K="v w"', "A=", "=b", "${X}", "\\\\", "\\$", "\\\n\\\n",
]
LINES = [
    "FROM ubuntu", "FROM alpine AS build", "FROM --platform=$BUILDPLATFORM golang:1.22 AS build", "FROM build",
    "RUN apt-get update && apt-get install -y curl", "RUN apk add curl", "RUN pip install flask", "RUN cd /app",
    "RUN <<EOF", "RUN <<-EOF bash", "COPY <<EOF /x", "EOF", "\tEOF", "USER root", "USER 1000", "WORKDIR app",
    "ENV A=1 B=\"2 3\"", "ENV A 1", "ARG V=1", "ARG V", "LABEL a=b", "MAINTAINER me", "EXPOSE 80/tcp",
    "CMD [\"a\", \"b\"]", "CMD a b", "ENTRYPOINT [\"sh\"]", "SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]",
    "HEALTHCHECK NONE", "HEALTHCHECK --interval=5s CMD curl -f http://x", "ONBUILD RUN x", "ONBUILD ONBUILD RUN x",
    "STOPSIGNAL SIGTERM", "VOLUME /data", "VOLUME [\"/a\"]", "COPY --from=build /a /b", "ADD http://x /y",
    "COPY . .", "# escape=`", "# escape=\\", "# syntax=docker/dockerfile:1", "# check=skip=all", "# comment",
    "", " ", "\\", "`", "[", "]", "run x", "from a", "Run \\",
]
TOKEN_RE = re.compile(r"\s+|[A-Za-z0-9_]+|[^\sA-Za-z0-9_]")
LINE_RE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


# --- seeds -------------------------------------------------------------------------------------------------


def read_exact(path: Path) -> str:
    """A file's text exactly: line ends kept, invalid bytes kept as escapes."""
    with open(path, encoding="utf-8", errors="surrogateescape", newline="") as handle:
        return handle.read()


def corpus_dir(option: str | None = None) -> Path | None:
    if option:
        return Path(option)
    configured = os.environ.get("DFIX_CORPUS")
    if configured:
        return Path(configured)
    return DEFAULT_CORPUS if DEFAULT_CORPUS.is_dir() else None


def load_seeds(fixtures: Path | None = FIXTURES, corpus: Path | None = None) -> list[tuple[str, str]]:
    """(name, text) of every Dockerfile under ``fixtures`` and every file of
    ``corpus``, in a fixed order."""
    seeds: list[tuple[str, str]] = []
    if fixtures is not None and fixtures.is_dir():
        for path in sorted(fixtures.rglob("*")):
            if path.is_file() and "Dockerfile" in path.name:
                seeds.append((f"fixtures/{path.relative_to(fixtures)}", read_exact(path)))
    if corpus is not None:
        if not corpus.is_dir():
            raise SystemExit(f"fuzz: the corpus {corpus} is not a directory")
        for name in sorted(os.listdir(corpus)):
            path = corpus / name
            if path.is_file():
                seeds.append((f"corpus/{name}", read_exact(path)))
    if not seeds:
        raise SystemExit("fuzz: no seed files")
    return seeds


# --- mutations ---------------------------------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    return LINE_RE.findall(text)


def _token(rng: random.Random) -> str:
    pick = rng.random()
    if pick < 0.15:
        keyword = rng.choice(KEYWORDS)
        return rng.choice([keyword, keyword.lower(), keyword.title()]) + rng.choice([" ", "", "\t"])
    if pick < 0.2:
        return chr(rng.choice([rng.randrange(0x20, 0x7F), rng.randrange(0x80, 0x800), rng.randrange(0x800, 0xD800)]))
    return rng.choice(TOKENS)


def _span(rng: random.Random, size: int, longest: int = 8) -> tuple[int, int]:
    start = rng.randrange(size + 1)
    return start, min(size, start + rng.randint(0, longest))


def m_delete_chars(rng: random.Random, text: str, _: Callable[[], str]) -> str:
    start, end = _span(rng, len(text))
    return text[:start] + text[end:]


def m_duplicate_chars(rng: random.Random, text: str, _: Callable[[], str]) -> str:
    start, end = _span(rng, len(text), 32)
    return text[:end] + text[start:end] + text[end:]


def m_insert_token(rng: random.Random, text: str, _: Callable[[], str]) -> str:
    at = rng.randrange(len(text) + 1)
    return text[:at] + _token(rng) + text[at:]


def m_replace_chars(rng: random.Random, text: str, _: Callable[[], str]) -> str:
    start, end = _span(rng, len(text), 4)
    return text[:start] + _token(rng) + text[end:]


def m_bytes(rng: random.Random, text: str, _: Callable[[], str]) -> str:
    """Flip, insert or delete a byte of the UTF-8 text (invalid bytes come
    back as surrogate escapes, as dfix reads a file)."""
    data = bytearray(text.encode("utf-8", "surrogateescape"))
    at = rng.randrange(len(data) + 1)
    action = rng.randrange(3)
    if action == 0 and at < len(data):
        data[at] ^= 1 << rng.randrange(8)
    elif action == 1:
        data[at:at] = bytes([rng.choice([0, 0x0D, 0x0A, 0x5C, 0x60, 0x22, 0x27, 0x80, 0xC3, 0xE2, 0xEF, 0xFF, rng.randrange(256)])])
    else:
        del data[at:at + rng.randint(1, 3)]
    return data.decode("utf-8", "surrogateescape")


def m_tokens(rng: random.Random, text: str, _: Callable[[], str]) -> str:
    tokens = TOKEN_RE.findall(text)
    if not tokens:
        return _token(rng)
    i = rng.randrange(len(tokens))
    action = rng.randrange(5)
    if action == 0:
        del tokens[i]
    elif action == 1:
        tokens.insert(i, tokens[i])
    elif action == 2:
        j = rng.randrange(len(tokens))
        tokens[i], tokens[j] = tokens[j], tokens[i]
    elif action == 3:
        tokens[i] = _token(rng)
    else:
        word = tokens[i]
        tokens[i] = rng.choice([word.lower(), word.upper(), word.title(), word.swapcase()])
    return "".join(tokens)


def m_lines(rng: random.Random, text: str, _: Callable[[], str]) -> str:
    lines = _lines(text)
    if not lines:
        return rng.choice(LINES) + "\n"
    i = rng.randrange(len(lines))
    action = rng.randrange(7)
    if action == 0:
        del lines[i:i + rng.randint(1, 3)]
    elif action == 1:
        lines[i:i] = lines[i:i + rng.randint(1, 3)]
    elif action == 2:
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif action == 3:
        lines.insert(i, lines.pop(rng.randrange(len(lines))))
    elif action == 4:
        lines.insert(i, rng.choice(LINES) + rng.choice(["\n", "\n", "\r\n", " \\\n"]))
    elif action == 5:
        body = lines[i].rstrip("\r\n")
        lines[i] = body + rng.choice(["\n", "\r\n", "\r", "", " \\\n", "\\\r\n", " `\n", "\n\n"])
    else:
        lines[i] = rng.choice(["\ufeff", "  ", "\t", "# ", "\\", "#"]) + lines[i]
    return "".join(lines)


def m_prefix(rng: random.Random, text: str, _: Callable[[], str]) -> str:
    prefix = rng.choice(["\ufeff", "# escape=`\n", "# escape=\\\n", "# syntax=docker/dockerfile:1\n",
                         "# check=skip=all\n", "\n", "# x\n", "\ufeff# escape=`\n", "ARG BASE=a\n"])
    return prefix + text


def m_splice(rng: random.Random, text: str, other: Callable[[], str]) -> str:
    mine, theirs = _lines(text), _lines(other())
    return "".join(mine[:rng.randint(0, len(mine))] + theirs[rng.randint(0, len(theirs)):])


MUTATIONS: list[tuple[Callable[[random.Random, str, Callable[[], str]], str], int]] = [
    (m_delete_chars, 3), (m_duplicate_chars, 2), (m_insert_token, 6), (m_replace_chars, 3), (m_bytes, 2),
    (m_tokens, 5), (m_lines, 5), (m_prefix, 1), (m_splice, 1),
]
_MUTATION_FUNCTIONS = [mutation for mutation, _ in MUTATIONS]
_MUTATION_WEIGHTS = [weight for _, weight in MUTATIONS]


def _window(rng: random.Random, text: str, most_lines: int, most_chars: int) -> str:
    lines = _lines(text)
    count = rng.randint(1, most_lines)
    start = rng.randrange(max(1, len(lines) - count + 1))
    out = "".join(lines[start:start + count])
    return out[:most_chars]


def generate(seeds: list[tuple[str, str]], seed: int, index: int) -> tuple[str, list[str]]:
    """Input number ``index`` of the run ``seed``, and how it was made."""
    rng = random.Random(f"dfix-fuzz:{seed}:{index}")
    name, text = rng.choice(seeds)
    history = [name]
    if rng.random() < 0.5 and text:
        text = _window(rng, text, 40, MAX_SIZE)
        history.append("window")

    def other() -> str:
        other_name, other_text = rng.choice(seeds)
        history.append(f"splice {other_name}")
        return _window(rng, other_text, 30, MAX_SIZE // 2) if rng.random() < 0.7 else other_text

    for _ in range(min(16, 1 + int(rng.expovariate(0.35)))):
        mutation = rng.choices(_MUTATION_FUNCTIONS, _MUTATION_WEIGHTS)[0]
        text = mutation(rng, text, other)
        history.append(mutation.__name__[2:])
    if len(text) > MAX_SIZE:
        text = _window(rng, text, 10_000, MAX_SIZE)
        history.append("cut")
    return text, history


# --- the checks --------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one input did: ``kind`` is "refused" (a ParseError), "parsed,
    nothing to fix" or "parsed, fixed" when all is well, else the kind of
    failure."""

    kind: str
    failed: bool = False
    detail: str = ""
    #: where the failure happened (exception type and innermost dfix frame), to group failures
    signature: str = ""
    elapsed: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


class Failure(Exception):
    def __init__(self, kind: str, detail: str, signature: str = "") -> None:
        super().__init__(kind, detail)
        self.kind, self.detail, self.signature = kind, detail, signature or kind


def _crash(kind: str, error: BaseException) -> Failure:
    frames = traceback.extract_tb(error.__traceback__)
    ours = [frame for frame in frames if f"{os.sep}dfix{os.sep}" in frame.filename] or frames
    where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"
    detail = "".join(traceback.format_exception(type(error), error, error.__traceback__)[-6:])
    return Failure(kind, detail, f"{kind}: {type(error).__name__} at {where}")


def buildkit_reads(text: str) -> bool:
    """Whether BuildKit's parser reads the text. Texts with invalid UTF-8
    (surrogate escapes) are not given to it: its wrapper aborts the process."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    import dockerfile

    try:
        dockerfile.parse_string(text)
    except dockerfile.GoParseError:
        return False
    except (UnicodeDecodeError, UnicodeEncodeError):
        return False  # its byte-wise flag scanner can make invalid UTF-8
    return True


def check_text(text: str, *, buildkit: bool = True) -> Outcome:
    """Run every check on one text (see the module's docstring)."""
    start = time.process_time()  # CPU time: a starved worker is not a slow input
    try:
        outcome = _check(text, buildkit)
    except Failure as failure:
        outcome = Outcome(failure.kind, True, failure.detail, failure.signature)
    outcome.elapsed = time.process_time() - start
    return outcome


def _check(text: str, buildkit: bool) -> Outcome:
    import dfix
    from dfix.cst.buildkit import read_before_the_check_directive

    try:
        tree = dfix.parse(text)
    except dfix.ParseError:
        return Outcome("refused")
    except Exception as error:  # noqa: BLE001 - anything but ParseError is the failure
        raise _crash("parse raised", error) from None
    if tree.code != text:
        raise Failure("round trip", f"parse(t).code differs from t: {_first_difference(text, tree.code)}")
    # the oracle wraps a BuildKit from before the `check` directive: where that
    # changes its reading of the file, it says nothing of dfix's (the oracle
    # tests make the same exception)
    reads = buildkit and not read_before_the_check_directive([d.key for d in tree.directives]) \
        and buildkit_reads(text)
    changed = False
    for unsafe in (False, True):
        mode = "unsafe" if unsafe else "safe"
        out = _fix(text, unsafe, mode, "fix")
        if out == text:
            continue  # fix(fix(t)) is fix(t), already known
        changed = True
        try:
            fixed_tree = dfix.parse(out)
        except dfix.ParseError as error:
            raise Failure("fix output does not parse", f"{mode} fix: {error}", f"fix output does not parse ({mode})")
        except Exception as error:  # noqa: BLE001
            raise _crash(f"parse raised on the {mode} fix output", error) from None
        if fixed_tree.code != out:
            raise Failure("round trip", f"{mode} fix output: {_first_difference(out, fixed_tree.code)}")
        if reads and not buildkit_reads(out):
            raise Failure("BuildKit refuses the fix output", f"{mode} fix", f"BuildKit refuses the fix output ({mode})")
        again = _fix(out, unsafe, mode, "second fix")
        if again != out:
            raise Failure("not idempotent", f"{mode}: fix(fix(t)) != fix(t): {_first_difference(out, again)}",
                          f"not idempotent ({mode})")
    return Outcome("parsed, fixed" if changed else "parsed, nothing to fix", extra={"buildkit": reads})


def _fix(text: str, unsafe: bool, mode: str, which: str) -> str:
    import dfix

    try:
        result = dfix.fix(text, unsafe=unsafe)
    except dfix.ParseError as error:
        # the text parsed: fix has no reason to refuse it
        raise Failure("fix raised ParseError", f"{mode} {which}: {error}", f"fix raised ParseError ({mode})")
    except Exception as error:  # noqa: BLE001
        raise _crash(f"{which} raised ({mode})", error) from None
    if result.bugs:
        bug = re.sub(r"\(.*", "", result.bugs[0])
        raise Failure("fix reported a dfix bug", f"{mode} {which}: {'; '.join(result.bugs)}", f"fix bug ({mode}): {bug}")
    return result.code


def _first_difference(a: str, b: str) -> str:
    at = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return f"at {at}: {a[max(0, at - 20):at + 20]!r} -> {b[max(0, at - 20):at + 20]!r}"


# --- minimizing --------------------------------------------------------------------------------------------


def minimize(text: str, still_fails: Callable[[str], bool], budget: float = 60.0) -> str:
    """A smaller text that still fails: drop chunks of lines, then of
    characters (a ddmin), within ``budget`` seconds."""
    deadline = time.monotonic() + budget
    for split in (_lines, list):
        parts = split(text)
        chunk = max(1, len(parts) // 2)
        while chunk >= 1 and time.monotonic() < deadline:
            i, shrunk = 0, False
            while i < len(parts) and time.monotonic() < deadline:
                candidate = parts[:i] + parts[i + chunk:]
                if candidate and still_fails("".join(candidate)):
                    parts, shrunk = candidate, True
                else:
                    i += chunk
            if not shrunk:
                chunk //= 2
        text = "".join(parts)
    return text


# --- the worker --------------------------------------------------------------------------------------------


def worker(args: argparse.Namespace) -> int:
    """Read input numbers on stdin, answer a JSON line each on stdout."""
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    sys.stdout = sys.stderr  # anything dfix prints must not reach the pipe
    seeds = load_seeds(None if args.no_fixtures else FIXTURES, None if args.no_corpus else corpus_dir(args.corpus))
    import dfix

    dfix.parse("FROM a\n")  # load the grammar before the clock runs
    if not args.no_buildkit:
        buildkit_reads("FROM a\n")
    out.write("ready\n")
    out.flush()
    for line in sys.stdin:
        index = int(line)
        text, _ = generate(seeds, args.seed, index)
        outcome = check_text(text, buildkit=not args.no_buildkit)
        answer = {"index": index, "kind": outcome.kind, "failed": outcome.failed, "detail": outcome.detail,
                  "signature": outcome.signature, "elapsed": outcome.elapsed, "size": len(text),
                  "buildkit": outcome.extra.get("buildkit", False)}
        out.write(json.dumps(answer) + "\n")
        out.flush()
    return 0


#: a worker this many times over the time limit in wall time is stopped, whatever its CPU time
WALL_FACTOR = 30


def cpu_seconds(pid: int) -> float | None:
    """The CPU time a process has used (Linux's /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


class Worker:
    def __init__(self, command: list[str]) -> None:
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
        self.buffer = b""
        self.ready = False
        self.index: int | None = None
        self.started = time.monotonic()
        self.cpu_started = cpu_seconds(self.process.pid)
        #: inputs answered
        self.answered = 0

    def fileno(self) -> int:
        return self.process.stdout.fileno()

    def send(self, index: int) -> None:
        self.index, self.started = index, time.monotonic()
        self.cpu_started = cpu_seconds(self.process.pid)
        self.process.stdin.write(f"{index}\n".encode())
        self.process.stdin.flush()

    def lines(self) -> list[str] | None:
        """The complete lines now readable; None when the worker has ended."""
        data = os.read(self.fileno(), 1 << 16)
        if not data:
            return None
        self.buffer += data
        *complete, self.buffer = self.buffer.split(b"\n")
        return [line.decode() for line in complete]

    def busy(self, now: float) -> float:
        """Seconds spent on the current input: CPU time where it is known."""
        cpu = cpu_seconds(self.process.pid)
        if cpu is None or self.cpu_started is None:
            return now - self.started
        return cpu - self.cpu_started

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass

    def stop(self) -> None:
        try:
            self.process.stdin.close()
            self.process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()


# --- the run -----------------------------------------------------------------------------------------------


@dataclass
class Run:
    seed: int
    count: int
    time_limit: float
    started: float = field(default_factory=time.monotonic)
    done: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    #: failure signature -> number of inputs
    signatures: dict[str, int] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)
    slowest: tuple[float, int, int] = (0.0, -1, 0)
    total_failures: int = 0
    #: inputs that dfix parsed and BuildKit read too (so the fix output was given to BuildKit)
    buildkit_read: int = 0

    def record(self, answer: dict[str, Any]) -> bool:
        """Count one answer; whether it is a failure worth keeping (the first
        ones of each signature)."""
        self.done += 1
        self.buildkit_read += bool(answer.get("buildkit"))
        self.outcomes[answer["kind"]] = self.outcomes.get(answer["kind"], 0) + 1
        if answer["elapsed"] > self.slowest[0]:
            self.slowest = (answer["elapsed"], answer["index"], answer["size"])
        if not answer["failed"]:
            return False
        self.total_failures += 1
        seen = self.signatures.get(answer["signature"], 0)
        self.signatures[answer["signature"]] = seen + 1
        if seen < 20:
            self.failures.append(answer)
            return True
        return False

    def rate(self) -> float:
        return self.done / max(1e-9, time.monotonic() - self.started)

    def summary(self, finished: bool) -> dict[str, Any]:
        elapsed = time.monotonic() - self.started
        rate = self.rate()
        return {
            "finished": finished, "seed": self.seed, "count": self.count, "done": self.done,
            "elapsed_s": round(elapsed, 1), "inputs_per_s": round(rate, 2),
            "eta_s": None if finished or not rate else round((self.count - self.done) / rate),
            "time_limit_s": self.time_limit, "outcomes": dict(sorted(self.outcomes.items())),
            "buildkit_read": self.buildkit_read,
            "failures_total": self.total_failures, "signatures": dict(sorted(self.signatures.items())),
            "slowest": {"elapsed_s": round(self.slowest[0], 3), "index": self.slowest[1], "size": self.slowest[2]},
            "failures": sorted(self.failures, key=lambda f: f["index"]),
        }


def run(
    *, count: int, seed: int = 0, jobs: int = 1, time_limit: float = 10.0, corpus: str | None = None,
    no_corpus: bool = False, no_fixtures: bool = False, no_buildkit: bool = False, start: int = 0,
    save_failures: Path | None = None, json_path: Path | None = None, progress: float = 30.0,
    minimize_failures: bool = False, log: Callable[[str], None] = print, indices: Iterable[int] | None = None,
    recycle: int = 5000,
) -> dict[str, Any]:
    """Fuzz inputs ``start`` .. ``start + count - 1`` of run ``seed`` in
    ``jobs`` worker subprocesses (each replaced after ``recycle`` inputs, to
    bound its memory); the summary (also written to ``json_path``)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", "--seed", str(seed)]
    command += ["--corpus", corpus] if corpus else []
    command += ["--no-corpus"] * no_corpus + ["--no-fixtures"] * no_fixtures + ["--no-buildkit"] * no_buildkit
    seeds: list[tuple[str, str]] | None = None  # loaded when a failure needs its text

    def text_of(index: int) -> tuple[str, list[str]]:
        nonlocal seeds
        if seeds is None:
            seeds = load_seeds(None if no_fixtures else FIXTURES, None if no_corpus else corpus_dir(corpus))
        return generate(seeds, seed, index)

    todo = iter(indices if indices is not None else range(start, start + count))
    state = Run(seed, count, time_limit)
    workers = [Worker(command) for _ in range(max(1, jobs))]
    last_progress = time.monotonic()
    grace = min(1.0, time_limit)  # the worker reports an overrun itself; past this it is killed
    exhausted = False

    def handle(answer: dict[str, Any]) -> None:
        if state.record(answer):
            text, history = text_of(answer["index"])
            answer["history"] = history
            log(f"FAIL #{answer['index']} {answer['signature']} (size {answer['size']}): "
                f"{answer['detail'].strip().splitlines()[-1] if answer['detail'] else ''}")
            if minimize_failures and state.signatures[answer["signature"]] == 1:
                answer["minimized"] = _minimize_in_subprocess(text, answer["kind"], no_buildkit, time_limit)
            if save_failures is not None:
                _save(save_failures, answer, text)

    def feed(worker: Worker) -> None:
        nonlocal exhausted
        worker.index = None
        if exhausted:
            return
        index = next(todo, None)
        if index is None:
            exhausted = True
        else:
            worker.send(index)

    start_failures = 0
    interrupted = False

    def on_sigterm(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    in_main_thread = threading.current_thread() is threading.main_thread()
    previous_handler = signal.signal(signal.SIGTERM, on_sigterm) if in_main_thread else None
    try:
        while True:
            busy = [w for w in workers if w.index is not None or not w.ready]
            if exhausted and not busy:
                break
            ready, _, _ = select.select(busy, [], [], 0.2) if busy else ([], [], [])
            for worker in ready:
                lines = worker.lines()
                if lines is None:  # the worker died
                    if not worker.ready:
                        # dfix may be mid-edit: try again a few times before giving up
                        start_failures += 1
                        if start_failures > 5:
                            raise SystemExit("fuzz: a worker did not start: " + " ".join(command))
                        log(f"fuzz: a worker did not start (attempt {start_failures}); trying again")
                        worker.kill()
                        time.sleep(5 * start_failures)
                        workers[workers.index(worker)] = Worker(command)
                        continue
                    index = worker.index
                    worker.kill()
                    workers[workers.index(worker)] = Worker(command)
                    if index is not None:
                        handle({"index": index, "kind": "worker crashed", "failed": True,
                                "detail": f"the worker died (exit {worker.process.returncode})",
                                "signature": f"worker crashed (exit {worker.process.returncode})",
                                "elapsed": time.monotonic() - worker.started, "size": len(text_of(index)[0])})
                    continue
                for line in lines:
                    if line == "ready":
                        worker.ready, start_failures = True, 0
                        feed(worker)
                        continue
                    answer = json.loads(line)
                    if answer["elapsed"] > time_limit and not answer["failed"]:
                        answer.update(kind="slow", failed=True, signature="slow",
                                      detail=f"{answer['elapsed']:.2f} s for {answer['size']} characters")
                    handle(answer)
                    worker.answered += 1
                    if worker.answered >= recycle:
                        position = workers.index(worker)
                        worker.stop()
                        workers[position] = Worker(command)
                    else:
                        feed(worker)
            now = time.monotonic()
            for position, worker in enumerate(workers):
                overrun = worker.ready and worker.index is not None and (
                    worker.busy(now) > time_limit + grace or now - worker.started > WALL_FACTOR * time_limit
                )
                if overrun and not select.select([worker], [], [], 0)[0]:  # an answer not yet read is no overrun
                    index, elapsed = worker.index, worker.busy(now)
                    worker.kill()
                    workers[position] = Worker(command)
                    size = len(text_of(index)[0])
                    handle({"index": index, "kind": "slow", "failed": True, "signature": "slow",
                            "detail": f"over {elapsed:.2f} s for {size} characters (killed)",
                            "elapsed": elapsed, "size": size})
                elif not worker.ready and now - worker.started > 300:
                    raise SystemExit("fuzz: a worker did not start within 300 s")
            if now - last_progress >= progress:
                last_progress = now
                summary = state.summary(False)
                log(f"progress: {state.done}/{count} inputs, {summary['inputs_per_s']:.1f} inputs/s, "
                    f"{state.total_failures} failures, ETA {_duration(summary['eta_s'])}")
                if json_path is not None:
                    _write_json(json_path, summary)
    except KeyboardInterrupt:
        interrupted = True
        log(f"fuzz: interrupted after {state.done} inputs")
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous_handler)
        for worker in workers:
            worker.stop()
    summary = state.summary(not interrupted)
    summary["interrupted"] = interrupted
    if json_path is not None:
        _write_json(json_path, summary)
    return summary


def _minimize_in_subprocess(text: str, kind: str, no_buildkit: bool, time_limit: float) -> str | None:
    """Shrink a failing text, in a subprocess: the check may crash or hang."""
    command = [sys.executable, str(Path(__file__).resolve()), "--minimize-kind", kind, "--time-limit", str(time_limit)]
    command += ["--no-buildkit"] * no_buildkit
    try:
        done = subprocess.run(command, input=text.encode("utf-8", "surrogateescape"), capture_output=True,
                              timeout=300, check=False)
    except subprocess.TimeoutExpired:
        return None
    return done.stdout.decode("utf-8", "surrogateescape") if done.returncode == 0 else None


def _minimize_main(kind: str, no_buildkit: bool, time_limit: float) -> int:
    text = sys.stdin.buffer.read().decode("utf-8", "surrogateescape")

    def still_fails(candidate: str) -> bool:
        outcome = check_text(candidate, buildkit=not no_buildkit)
        return outcome.kind == kind or (kind == "slow" and outcome.elapsed > time_limit)

    if kind in ("slow", "worker crashed") or not still_fails(text):
        return 1
    sys.stdout.buffer.write(minimize(text, still_fails).encode("utf-8", "surrogateescape"))
    return 0


def _save(directory: Path, answer: dict[str, Any], text: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"{re.sub(r'[^a-z0-9]+', '-', answer['kind'].lower()).strip('-')}-{answer['index']}"
    (directory / f"{stem}.Dockerfile").write_bytes(text.encode("utf-8", "surrogateescape"))
    (directory / f"{stem}.json").write_text(json.dumps(answer, indent=2, ensure_ascii=False) + "\n")


def _write_json(path: Path, summary: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    os.replace(temporary, path)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000, help="number of inputs (default 2000)")
    parser.add_argument("--seed", type=int, default=0, help="the run's seed: same seed, same inputs")
    parser.add_argument("--start", type=int, default=0, help="first input number (to resume a run)")
    parser.add_argument("--only", type=int, action="append", help="check only input number I (repeatable)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes")
    parser.add_argument("--json", type=Path, help="write the summary here (also during the run)")
    parser.add_argument("--corpus", help="corpus directory (default DFIX_CORPUS or ../shared/corpus/files)")
    parser.add_argument("--no-corpus", action="store_true", help="seed from the fixtures only")
    parser.add_argument("--no-fixtures", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-buildkit", action="store_true", help="skip the BuildKit check")
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds allowed per input (default 10)")
    parser.add_argument("--save-failures", type=Path, help="directory for the failing inputs and their reasons")
    parser.add_argument("--minimize", action="store_true", help="shrink the first failure of each signature")
    parser.add_argument("--progress", type=float, default=30.0, help="seconds between progress lines")
    parser.add_argument("--recycle", type=int, default=5000, help="replace a worker after this many inputs")
    parser.add_argument("--print-input", type=int, metavar="I", help="print input number I and exit")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--minimize-kind", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)
    if args.minimize_kind:
        return _minimize_main(args.minimize_kind, args.no_buildkit, args.time_limit)
    if args.print_input is not None:
        seeds = load_seeds(None if args.no_fixtures else FIXTURES, None if args.no_corpus else corpus_dir(args.corpus))
        text, history = generate(seeds, args.seed, args.print_input)
        print(f"# made from: {' / '.join(history)}", file=sys.stderr)
        sys.stdout.buffer.write(text.encode("utf-8", "surrogateescape"))
        return 0
    count = len(args.only) if args.only else args.count
    log = lambda message: print(message, flush=True)
    source = "fixtures" + ("" if args.no_corpus else f" + corpus {corpus_dir(args.corpus)}")
    log(f"fuzz: {count} inputs, seed {args.seed}, {args.jobs} jobs, {args.time_limit} s per input, from {source}")
    summary = run(
        count=count, seed=args.seed, jobs=args.jobs, time_limit=args.time_limit, corpus=args.corpus,
        no_corpus=args.no_corpus, no_fixtures=args.no_fixtures, no_buildkit=args.no_buildkit, start=args.start,
        save_failures=args.save_failures, json_path=args.json, progress=args.progress,
        minimize_failures=args.minimize, log=log, indices=args.only, recycle=args.recycle,
    )
    log(f"{summary['done']} inputs in {summary['elapsed_s']} s: {summary['inputs_per_s']} inputs/s")
    for kind, number in summary["outcomes"].items():
        log(f"  {kind}: {number}")
    log(f"  (BuildKit read {summary['buildkit_read']} of the inputs dfix parsed)")
    slowest = summary["slowest"]
    log(f"slowest input: #{slowest['index']}, {slowest['elapsed_s']} s, {slowest['size']} characters")
    if summary["failures_total"]:
        log(f"{summary['failures_total']} failures:")
        for signature, number in summary["signatures"].items():
            first = min(f["index"] for f in summary["failures"] if f["signature"] == signature)
            log(f"  {number:6d}  {signature}  (first: #{first})")
        for failure in summary["failures"]:
            if failure.get("minimized") is not None:
                log(f"minimized #{failure['index']} ({failure['signature']}): {failure['minimized']!r}")
    return 1 if summary["failures_total"] else 0


if __name__ == "__main__":
    sys.exit(main())
