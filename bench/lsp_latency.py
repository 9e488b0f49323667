"""Latency of dfix-lsp beside `tally lsp --stdio`: same client, same documents, same run.

    pip install '.[bench]'
    python bench/lsp_latency.py [--sample 80] [--seed 0] [--repeat 1] [--big-repeat 3]
                                [--spawns 10] [--servers dfix,tally] [--json FILE] [CORPUS_DIR]

This is a script, not a test. CORPUS_DIR defaults to DFIX_CORPUS, then
../shared/corpus/files. One small JSON-RPC client (Content-Length framing over
the server's stdin and stdout, below) talks to both servers, and measures:
- startup: from spawning the server to its `initialize` response, to sending
  `initialized`, and to the first diagnostics of a small file (pulled), median
  of --spawns spawns per server (the servers take turns; one untimed spawn each
  first, to warm the disk caches);
- from `didOpen` to the diagnostics, and from `didChange` (a new version: the
  same text with `RUN echo hi` appended) to the diagnostics, on --sample corpus
  files drawn with --seed, and on a 1,000-line Dockerfile built at run time
  from corpus instructions; median and p90 of every measurement;
each in two modes: push (the client cannot pull: time until the server's
`publishDiagnostics` for that version) and pull (the client can: time from the
notification until the answer to the `textDocument/diagnostic` sent right
after it). Push latency after a change includes any debounce a server has
(dfix has none), as an editor sees it. Each session first opens, changes and closes
fixtures/examples/Dockerfile, untimed, so that lazy imports are not counted
against the first corpus file. Servers run one at a time.

Every answer is counted: a server that returns no diagnostics is not "fast".
A document on which tally fails (an error, a timeout, a crash) in either mode
is left out for both servers, and so is one on which dfix fails (which is a
dfix bug, and reported). The ratio dfix/tally compares each dfix mode with
tally's faster mode for that scenario; the goals are a dfix median at most
half of tally's on corpus files, under a tenth of tally's on the 1,000-line
file, and a startup (spawn to `initialize` answered) under 0.5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import dfix  # noqa: E402

BIG_LINES = 1000
SMALL = ROOT / "fixtures" / "examples" / "Dockerfile"
EDIT = "RUN echo hi\n"
MODES = ("push", "pull")
SCENARIOS = ("typical open", "typical change", "big open", "big change")


def corpus(argument: str | None) -> Path:
    if argument:
        return Path(argument)
    return Path(os.environ.get("DFIX_CORPUS", ROOT.parent / "shared" / "corpus" / "files"))


def tool(name: str) -> str | None:
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else shutil.which(name)


def server_commands(names: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """The command of each server asked for, and what is missing."""
    commands, missing = {}, []
    for name in names:
        if name == "dfix":
            found = tool("dfix-lsp")
            commands[name] = [found] if found else [sys.executable, "-m", "dfix.lsp"]
        elif name == "tally":
            found = tool("tally")
            if found:
                commands[name] = [found, "lsp", "--stdio"]
            else:
                missing.append("tally: not installed (pip install tally-cli); dfix runs alone")
        else:
            raise SystemExit(f"unknown server {name!r} (dfix, tally)")
    return commands, missing


# --- the client ----------------------------------------------------------------------------------------------


class ServerGone(Exception):
    """The server closed its output (crashed or exited)."""


class ResponseError(Exception):
    """The server answered a request with an error."""


def capabilities(pull: bool) -> dict[str, Any]:
    text_document: dict[str, Any] = {
        "synchronization": {"dynamicRegistration": False, "didSave": True},
        "publishDiagnostics": {"versionSupport": True, "relatedInformation": False},
    }
    if pull:
        text_document["diagnostic"] = {"dynamicRegistration": False, "relatedDocumentSupport": False}
    return {"textDocument": text_document, "workspace": {"configuration": False}, "general": {"positionEncodings": ["utf-16"]}}


class Client:
    """A language client over a subprocess's stdin and stdout, timing every message it gets."""

    def __init__(self, command: list[str], workspace: Path, stderr: Path, env: dict[str, str] | None = None) -> None:
        self.command, self.workspace, self.stderr_path, self.env = command, workspace, stderr, env
        self.next_id = 0
        self.requests: dict[int, asyncio.Future[tuple[dict[str, Any], float]]] = {}
        self.push_waiters: dict[str, tuple[int, asyncio.Future[tuple[dict[str, Any], float]]]] = {}
        self.pushes = 0
        self.error_logs: list[str] = []
        self.process: asyncio.subprocess.Process | None = None
        self.gone = False

    async def spawn(self) -> float:
        """Start the server; the time it was spawned at."""
        started = time.perf_counter()
        with open(self.stderr_path, "ab") as stderr:
            self.process = await asyncio.create_subprocess_exec(
                *self.command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=stderr,
                env=self.env, limit=1 << 20,
            )
        self.reader = asyncio.create_task(self._read())
        return started

    def _send(self, message: dict[str, Any]) -> float:
        if self.gone:
            raise ServerGone(self.command[0])
        body = json.dumps(message).encode()
        assert self.process is not None and self.process.stdin is not None
        sent = time.perf_counter()
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        return sent

    async def notify(self, method: str, params: Any) -> float:
        """Send a notification; the time it was written."""
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        sent = self._send(message)
        await self._drain()
        return sent

    def start_request(self, method: str, params: Any) -> tuple[float, asyncio.Future[tuple[dict[str, Any], float]]]:
        self.next_id += 1
        future: asyncio.Future[tuple[dict[str, Any], float]] = asyncio.get_running_loop().create_future()
        self.requests[self.next_id] = future
        return self._send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params}), future

    async def request(self, method: str, params: Any, timeout: float) -> tuple[Any, float, float]:
        """Send a request: its result, the time it was written, the time the answer came."""
        sent, future = self.start_request(method, params)
        await self._drain()
        message, got = await asyncio.wait_for(future, timeout)
        if "error" in message:
            raise ResponseError(f"{method}: {message['error']}")
        return message.get("result"), sent, got

    def expect_push(self, uri: str, version: int) -> asyncio.Future[tuple[dict[str, Any], float]]:
        future: asyncio.Future[tuple[dict[str, Any], float]] = asyncio.get_running_loop().create_future()
        self.push_waiters[uri] = (version, future)
        return future

    async def _drain(self) -> None:
        assert self.process is not None and self.process.stdin is not None
        try:
            await self.process.stdin.drain()
        except (ConnectionError, BrokenPipeError) as error:
            raise ServerGone(str(error)) from error

    async def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        stdout = self.process.stdout
        try:
            while True:
                header = await stdout.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1]) for line in header.split(b"\r\n") if line.lower().startswith(b"content-length:")
                )
                body = await stdout.readexactly(length)
                got = time.perf_counter()
                self._dispatch(json.loads(body), got)
        except (asyncio.IncompleteReadError, ConnectionError, StopIteration, ValueError):
            pass
        finally:
            self.gone = True
            for future in [*self.requests.values(), *(f for _, f in self.push_waiters.values())]:
                if not future.done():
                    future.set_exception(ServerGone(f"{self.command[0]} closed its output"))

    def _dispatch(self, message: dict[str, Any], got: float) -> None:
        method = message.get("method")
        if method is None:  # an answer
            future = self.requests.pop(message.get("id"), None)
            if future is not None and not future.done():
                future.set_result((message, got))
        elif "id" in message:  # a request from the server: answer it, blandly
            result: Any = None
            if method == "workspace/configuration":
                result = [None] * len(message.get("params", {}).get("items", []))
            self._send({"jsonrpc": "2.0", "id": message["id"], "result": result})
        elif method == "textDocument/publishDiagnostics":
            self.pushes += 1
            params = message.get("params", {})
            waiting = self.push_waiters.get(params.get("uri"))
            if waiting is not None and params.get("version") in (None, waiting[0]) and not waiting[1].done():
                del self.push_waiters[params["uri"]]
                waiting[1].set_result((params, got))
        elif method == "window/logMessage" and message.get("params", {}).get("type") == 1:
            self.error_logs.append(str(message["params"].get("message")))

    async def initialize(self, pull: bool, timeout: float) -> tuple[float, float]:
        """`initialize` then `initialized`: when the answer came, when `initialized` was sent."""
        uri = self.workspace.as_uri()
        params = {
            "processId": os.getpid(),
            "clientInfo": {"name": "dfix-bench"},
            "rootUri": uri,
            "workspaceFolders": [{"uri": uri, "name": self.workspace.name}],
            "capabilities": capabilities(pull),
        }
        _, _, answered = await self.request("initialize", params, timeout)
        await self.notify("initialized", {})
        return answered, time.perf_counter()

    async def stop(self) -> None:
        """`shutdown` and `exit`, then wait; kill what does not go."""
        if self.process is None:
            return
        if not self.gone:
            try:
                await self.request("shutdown", None, 10)
                await self.notify("exit", None)
                self.process.stdin.close()  # type: ignore[union-attr]
            except (ServerGone, ResponseError, asyncio.TimeoutError):
                pass
        try:
            await asyncio.wait_for(self.process.wait(), 10)
        except asyncio.TimeoutError:
            await self.kill()
        self.reader.cancel()

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


# --- one measurement -----------------------------------------------------------------------------------------


@dataclass
class Answer:
    seconds: float
    items: list[dict[str, Any]]


async def diagnostics_after(
    client: Client, pull: bool, method: str, params: dict[str, Any], uri: str, version: int, timeout: float
) -> Answer:
    """Send didOpen or didChange; time until its diagnostics (pushed, or pulled right after)."""
    if pull:
        sent = client._send({"jsonrpc": "2.0", "method": method, "params": params})
        _, future = client.start_request("textDocument/diagnostic", {"textDocument": {"uri": uri}})
        await client._drain()
        message, got = await asyncio.wait_for(future, timeout)
        if "error" in message:
            raise ResponseError(f"textDocument/diagnostic: {message['error']}")
        result = message.get("result") or {}
        if result.get("kind") != "full":
            raise ResponseError(f"textDocument/diagnostic: not a full report: {str(result)[:200]}")
        return Answer(got - sent, result.get("items") or [])
    future = client.expect_push(uri, version)
    sent = await client.notify(method, params)
    pushed, got = await asyncio.wait_for(future, timeout)
    return Answer(got - sent, pushed.get("diagnostics") or [])


def changed(text: str) -> str:
    return text + ("" if text.endswith("\n") or not text else "\n") + EDIT


async def open_change_close(client: Client, pull: bool, uri: str, text: str, timeout: float) -> tuple[Answer, Answer]:
    document = {"uri": uri, "languageId": "dockerfile", "version": 1, "text": text}
    opened = await diagnostics_after(client, pull, "textDocument/didOpen", {"textDocument": document}, uri, 1, timeout)
    change = {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": changed(text)}]}
    edited = await diagnostics_after(client, pull, "textDocument/didChange", change, uri, 2, timeout)
    client.push_waiters.pop(uri, None)
    await client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    return opened, edited


# --- sessions ------------------------------------------------------------------------------------------------


@dataclass
class Measured:
    """Every measurement of one server in one mode."""

    seconds: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # scenario -> document -> times
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # scenario -> document -> diagnostics
    uncoded_only: dict[str, set[str]] = field(default_factory=dict)  # scenario -> documents answered with only an uncoded error
    failures: dict[str, str] = field(default_factory=dict)  # document -> why
    pushes: int = 0
    error_logs: list[str] = field(default_factory=list)
    restarts: int = 0


class Session:
    """One server, one mode; started again after a timeout or a crash."""

    def __init__(self, name: str, command: list[str], pull: bool, workspace: Path, env: dict[str, str]) -> None:
        self.name, self.command, self.pull, self.workspace, self.env = name, command, pull, workspace, env
        self.stderr = workspace / f"{name}-{'pull' if pull else 'push'}.stderr"
        self.client: Client | None = None
        self.measured = Measured()
        self.uris = 0

    def uri(self) -> str:
        self.uris += 1
        return (self.workspace / "docs" / str(self.uris) / "Dockerfile").as_uri()

    async def start(self) -> None:
        self.client = Client(self.command, self.workspace, self.stderr, self.env)
        await self.client.spawn()
        await self.client.initialize(self.pull, 60)
        await open_change_close(self.client, self.pull, self.uri(), SMALL.read_text(), 60)  # untimed warm-up

    async def close(self, kill: bool = False) -> None:
        if self.client is None:
            return
        self.measured.pushes += self.client.pushes
        self.measured.error_logs += self.client.error_logs
        if kill:
            await self.client.kill()
        await self.client.stop()
        self.client = None

    async def measure(self, kind: str, document: str, text: str, timeout: float) -> None:
        if self.client is None:
            await self.start()
        assert self.client is not None
        uri = self.uri()
        try:
            opened, edited = await open_change_close(self.client, self.pull, uri, text, timeout)
        except (asyncio.TimeoutError, ServerGone, ResponseError) as error:
            why = "timeout" if isinstance(error, asyncio.TimeoutError) else f"{type(error).__name__}: {error}"
            self.measured.failures.setdefault(document, why[:300])
            if isinstance(error, ResponseError):
                await self.client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
            else:
                self.measured.restarts += 1
                await self.close(kill=True)
            return
        for scenario, answer in ((f"{kind} open", opened), (f"{kind} change", edited)):
            self.measured.seconds.setdefault(scenario, {}).setdefault(document, []).append(answer.seconds)
            self.measured.counts.setdefault(scenario, {})[document] = len(answer.items)
            if answer.items and all(item.get("code") in (None, "") for item in answer.items):
                self.measured.uncoded_only.setdefault(scenario, set()).add(document)


async def run_sessions(
    commands: dict[str, list[str]], documents: dict[str, str], big: str, args: argparse.Namespace, workspace: Path, env: dict[str, str]
) -> dict[tuple[str, str], Measured]:
    results = {}
    for name, command in commands.items():
        for mode in MODES:
            session = Session(name, command, mode == "pull", workspace, env)
            started = time.perf_counter()
            print(f"  {name} {mode}: ", end="", flush=True)
            for document, text in documents.items():
                for _ in range(args.repeat):
                    await session.measure("typical", document, text, args.timeout)
            for _ in range(args.big_repeat):
                await session.measure("big", "1,000-line file", big, args.big_timeout)
            await session.close()
            m = session.measured
            print(f"{time.perf_counter() - started:.0f} s, {len(m.failures)} failures, {m.restarts} restarts, {m.pushes} pushes received")
            results[(name, mode)] = m
    return results


# --- startup -------------------------------------------------------------------------------------------------


async def startup_once(command: list[str], workspace: Path, stderr: Path, env: dict[str, str]) -> tuple[float, float, float, int]:
    client = Client(command, workspace, stderr, env)
    spawned = await client.spawn()
    try:
        answered, initialized = await client.initialize(True, 60)
        uri = (workspace / "startup" / "Dockerfile").as_uri()
        document = {"uri": uri, "languageId": "dockerfile", "version": 1, "text": SMALL.read_text()}
        answer = await diagnostics_after(client, True, "textDocument/didOpen", {"textDocument": document}, uri, 1, 60)
        first = time.perf_counter()
    finally:
        await client.stop()
    return answered - spawned, initialized - spawned, first - spawned, len(answer.items)


async def startups(commands: dict[str, list[str]], spawns: int, workspace: Path, env: dict[str, str]) -> dict[str, dict[str, Any]]:
    times: dict[str, list[tuple[float, float, float, int]]] = {name: [] for name in commands}
    for name, command in commands.items():  # untimed: warm the disk caches
        await startup_once(command, workspace, workspace / f"{name}-startup.stderr", env)
    for _ in range(spawns):
        for name, command in commands.items():
            times[name].append(await startup_once(command, workspace, workspace / f"{name}-startup.stderr", env))
    return {
        name: {
            "initialize": [t[0] for t in rows],
            "initialized": [t[1] for t in rows],
            "first diagnostics": [t[2] for t in rows],
            "diagnostics": rows[0][3],
        }
        for name, rows in times.items()
    }


# --- documents -----------------------------------------------------------------------------------------------

DIRECTIVE = re.compile(r"#\s*(syntax|escape|check)\s*=", re.IGNORECASE)
HEREDOC = re.compile(r"<<-?\s*[\"']?[A-Za-z_]")
STAGE = re.compile(r"^\s*FROM\s.*?\sAS\s+(\S+)\s*$", re.IGNORECASE)


def read(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")


def groups_of(text: str) -> list[list[str]]:
    """Lines grouped by instruction: an instruction with its continuation lines, or one comment or blank line."""
    groups: list[list[str]] = []
    current: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if current:
            current.append(line)
            if stripped.startswith("#") or not stripped or stripped.endswith("\\"):
                continue
            groups.append(current)
            current = []
        elif stripped.endswith("\\") and not stripped.startswith("#"):
            current = [line]
        else:
            groups.append([line])
    if current:
        groups.append(current)
    return groups


def renamed_stages(text: str, suffix: str) -> str:
    """The file with its stage names made unique, so that files can follow one another."""
    for name in {m.group(1) for line in text.splitlines() if (m := STAGE.match(line))}:
        word = re.escape(name) + r"(?![\w.-])"
        text = re.sub(r"(?i)(\bAS\s+)" + word, lambda m: m.group(1) + name + suffix, text)
        text = re.sub(r"(?i)(\bfrom=)" + word, lambda m: m.group(1) + name + suffix, text)
        text = re.sub(r"(?im)^(\s*FROM\s+(?:--\S+\s+)*)" + word, lambda m: m.group(1) + name + suffix, text)
    return text


def big_dockerfile(paths: list[Path], seed: int, lines: int = BIG_LINES) -> tuple[str, int]:
    """A Dockerfile of exactly ``lines`` lines of real corpus instructions (whole ones), and how many files gave them."""
    order = list(paths)
    random.Random(seed).shuffle(order)
    out: list[str] = []
    used = 0
    for index, path in enumerate(order):
        text = read(path).replace("\r\n", "\n")
        if HEREDOC.search(text) or re.search(r"(?im)^#\s*escape\s*=", text):
            continue
        try:
            dfix.parse(text)
        except dfix.ParseError:
            continue
        took = False
        for group in groups_of(renamed_stages(text, f"_{index}")):
            if DIRECTIVE.match(group[0].strip()) or (not out and not group[0].strip()):
                continue
            if len(out) + len(group) <= lines:
                out.extend(group)
                took = True
        used += took
        if len(out) == lines:
            break
    big = "\n".join(out) + "\n"
    dfix.parse(big)
    return big, used


# --- the report ----------------------------------------------------------------------------------------------


def percentile90(values: list[float]) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:9.1f}"


def summary(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {"n": len(values), "median": statistics.median(values), "p90": percentile90(values)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", help="directory of Dockerfiles (default: DFIX_CORPUS, then ../shared/corpus/files)")
    parser.add_argument("--sample", type=int, default=80, help="corpus files to measure (default 80)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample and of the 1,000-line file (default 0)")
    parser.add_argument("--repeat", type=int, default=1, help="measurements of each corpus file per server and mode (default 1)")
    parser.add_argument("--big-repeat", type=int, default=3, help="measurements of the 1,000-line file per server and mode (default 3)")
    parser.add_argument("--spawns", type=int, default=10, help="timed spawns per server for the startup (default 10)")
    parser.add_argument("--servers", default="dfix,tally", help="comma-separated: dfix, tally (default both)")
    parser.add_argument("--timeout", type=float, default=30, help="seconds to wait for a corpus file's diagnostics (default 30)")
    parser.add_argument("--big-timeout", type=float, default=120, help="seconds to wait for the 1,000-line file's (default 120)")
    parser.add_argument("--json", metavar="FILE", help="also write the numbers to FILE")
    args = parser.parse_args(argv)
    return asyncio.run(run(args))


async def run(args: argparse.Namespace) -> int:
    began = time.perf_counter()
    commands, notes = server_commands([s.strip() for s in args.servers.split(",") if s.strip()])
    for note in notes:
        print(note)
    if not commands:
        return 1
    directory = corpus(args.corpus)
    paths = sorted(path for path in directory.iterdir() if path.is_file())
    sample = random.Random(args.seed).sample(paths, min(args.sample, len(paths)))
    documents = {path.name: read(path) for path in sample}
    big, sources = big_dockerfile(paths, args.seed)
    lines = sum(text.count("\n") for text in documents.values()) / max(len(documents), 1)
    print(f"{len(documents)} of {len(paths)} files from {directory} (seed {args.seed}, {lines:.0f} lines on average), "
          f"and a {big.count(chr(10))}-line file of {len(big)} bytes from {sources} corpus files")
    print("servers: " + "; ".join(f"{name}: {' '.join(command)}" for name, command in commands.items()))

    workspace = Path(tempfile.mkdtemp(prefix="dfix-lsp-bench-"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        print(f"\nstartup ({args.spawns} spawns a server, taking turns)...", flush=True)
        started = await startups(commands, args.spawns, workspace, env)
        print("latency (each server and mode in turn):", flush=True)
        results = await run_sessions(commands, documents, big, args, workspace, env)
        stderr_tails = {p.name: p.read_text(errors="replace")[-600:] for p in workspace.glob("*.stderr") if p.stat().st_size}
    finally:
        shutil.rmtree(workspace, ignore_errors=True)

    # documents left out: any failure of tally (either mode), or of dfix
    excluded: dict[str, str] = {}
    for (name, mode), measured in results.items():
        for document, why in measured.failures.items():
            excluded.setdefault(document, f"{name} {mode}: {why}")
    report = report_numbers(results, started, excluded)
    print_report(report, results, started, excluded, commands, stderr_tails)
    took = time.perf_counter() - began
    print(f"\nthe whole run took {took:.0f} s")
    if args.json:
        report["run"] = {
            "corpus": str(directory), "sample": len(documents), "seed": args.seed, "repeat": args.repeat,
            "big_repeat": args.big_repeat, "spawns": args.spawns, "big_lines": big.count("\n"),
            "servers": commands, "seconds": took, "documents": sorted(documents),
        }
        Path(args.json).write_text(json.dumps(report, indent=2, default=list) + "\n")
        print(f"numbers written to {args.json}")
    return 0


def report_numbers(
    results: dict[tuple[str, str], Measured], started: dict[str, dict[str, Any]], excluded: dict[str, str]
) -> dict[str, Any]:
    scenarios: dict[str, dict[str, Any]] = {}
    for scenario in SCENARIOS:
        rows: dict[str, Any] = {}
        for (name, mode), measured in results.items():
            kept = {d: t for d, t in measured.seconds.get(scenario, {}).items() if d not in excluded}
            times = [t for ts in kept.values() for t in ts]
            counts = [measured.counts[scenario][d] for d in kept]
            stats = summary(times)
            if stats is None:
                continue
            stats.update(
                documents=len(kept),
                diagnostics=sum(counts),
                documents_without_diagnostics=sum(1 for c in counts if c == 0),
                documents_with_only_uncoded_errors=len(measured.uncoded_only.get(scenario, set()) - set(excluded)),
                samples=times,
            )
            rows[f"{name} {mode}"] = stats
        scenarios[scenario] = rows
    ratios: dict[str, Any] = {}
    for scenario, rows in scenarios.items():
        tally = [(rows[k]["median"], k) for k in ("tally push", "tally pull") if k in rows]
        if not tally:
            continue
        best, which = min(tally)
        goal = 0.5 if scenario.startswith("typical") else 0.1
        ratios[scenario] = {"tally": which, "goal": goal}
        for key in ("dfix push", "dfix pull"):
            if key in rows:
                ratio = rows[key]["median"] / best
                ratios[scenario][key] = {"ratio": ratio, "met": ratio <= goal if goal == 0.5 else ratio < goal}
    startup = {
        name: {k: summary(v) if isinstance(v, list) else v for k, v in s.items()} for name, s in started.items()
    }
    for name in startup:
        for key in ("initialize", "initialized", "first diagnostics"):
            startup[name][key]["samples"] = started[name][key]
    if "dfix" in startup:
        startup["dfix"]["goal"] = {"seconds": 0.5, "met": startup["dfix"]["initialize"]["median"] < 0.5}
    return {"startup": startup, "scenarios": scenarios, "ratios": ratios, "excluded": excluded}


def print_report(
    report: dict[str, Any], results: dict[tuple[str, str], Measured], started: dict[str, dict[str, Any]],
    excluded: dict[str, str], commands: dict[str, list[str]], stderr_tails: dict[str, str],
) -> None:
    print("\nstartup, from spawning the server (ms; median / p90; the client can pull):")
    print(f"  {'server':8s} {'initialize answered':>22s} {'initialized sent':>22s} {'first diagnostics':>22s}")
    for name, s in report["startup"].items():
        cells = [f"{ms(s[k]['median'])} /{ms(s[k]['p90'])}" for k in ("initialize", "initialized", "first diagnostics")]
        print(f"  {name:8s} " + " ".join(f"{c:>22s}" for c in cells) + f"   ({s['diagnostics']} diagnostics on {SMALL.name})")

    print("\nfrom didOpen / didChange to the diagnostics (ms):")
    print(f"  {'scenario':16s} {'server mode':12s} {'docs':>5s} {'n':>4s} {'median':>9s} {'p90':>9s}"
          f" {'diagnostics':>11s} {'docs with 0':>11s}")
    for scenario, rows in report["scenarios"].items():
        for key, row in rows.items():
            print(f"  {scenario:16s} {key:12s} {row['documents']:5d} {row['n']:4d} {ms(row['median'])} {ms(row['p90'])}"
                  f" {row['diagnostics']:11d} {row['documents_without_diagnostics']:11d}"
                  + (f"  ({row['documents_with_only_uncoded_errors']} answered only with an error without a code, e.g. a parse error)"
                     if row["documents_with_only_uncoded_errors"] else ""))
    if report["ratios"]:
        print("\ndfix median / tally median (tally: its faster mode for the scenario), this run:")
        for scenario, r in report["ratios"].items():
            cells = []
            for key in ("dfix push", "dfix pull"):
                if key in r:
                    cells.append(f"{key} {r[key]['ratio']:6.3f} ({'met' if r[key]['met'] else 'NOT met'})")
            goal = "at most 0.5" if r["goal"] == 0.5 else "under 0.1"
            print(f"  {scenario:16s} vs {r['tally']:10s}  " + "  ".join(cells) + f"   goal: {goal}")
    if "dfix" in report["startup"]:
        g = report["startup"]["dfix"]
        print(f"  startup: dfix initialize answered in {g['initialize']['median'] * 1000:.0f} ms (median)"
              f"   goal: under 500 ms: {'met' if g['goal']['met'] else 'NOT met'}")
        if "tally" in report["startup"]:
            print(f"           tally: {report['startup']['tally']['initialize']['median'] * 1000:.0f} ms")

    print("\nnotes:")
    if "tally" in commands:
        push, pull = results.get(("tally", "push")), results.get(("tally", "pull"))
        if push and pull:
            print(f"  tally: with a client that cannot pull it pushes ({push.pushes} publishDiagnostics received);"
                  f" with one that can, it answers textDocument/diagnostic and pushed {pull.pushes} times")
    dfix_pull = results.get(("dfix", "pull"))
    if dfix_pull:
        print(f"  dfix: pushed {dfix_pull.pushes} times to the client that pulls (expected 0)")
    if excluded:
        print(f"  {len(excluded)} document(s) left out for every server:")
        for document, why in sorted(excluded.items()):
            print(f"    {document}: {why}")
    else:
        print("  no document left out: every server answered on every document")
    for (name, mode), measured in results.items():
        if measured.restarts:
            print(f"  {name} {mode}: restarted {measured.restarts} time(s) after a timeout or a crash")
        for message in dict.fromkeys(measured.error_logs):
            print(f"  {name} {mode} logged an error: {message[:300]}")
    for scenario, rows in report["scenarios"].items():
        for key, row in rows.items():
            if row["diagnostics"] == 0:
                print(f"  WARNING: {key} returned no diagnostics at all on {scenario}")
    for file, tail in stderr_tails.items():
        print(f"  {file} (last lines): " + " | ".join(tail.strip().splitlines()[-4:]))


if __name__ == "__main__":
    sys.exit(main())
