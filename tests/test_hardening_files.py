"""Writes that hold up: only the parent process writes and its workers die
with it, stale temporary files, owner/group/mode, read-only files, hard and
symbolic links, per-file errors, honest summaries, UTF-8 output whatever the
locale, and the same file (or standard input) named twice.

Real subprocesses on real files in tmp_path; Linux (/proc) for the process checks.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

import dfix.files
import dfix.runner
from dfix.cli import main
from dfix.runner import Settings, compute, run as run_files
from tests.dfix_process import dfix_cmd, env, run, write

ROOT = Path(__file__).resolve().parents[1]
BAD = b"FROM debian:bookworm\nMAINTAINER x\nRUN apt-get install -y curl\n"
FIXED = b'FROM debian:bookworm\nLABEL maintainer="x"\nRUN apt-get install -y curl\n'
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
LINUX = sys.platform.startswith("linux")










def variant(index: int) -> bytes:
    """Fixable Dockerfiles, six kinds (so the expected fix is computed six times)."""
    kinds = [
        b"FROM debian:bookworm\nMAINTAINER x\nRUN apt-get install -y curl\n",
        b"from debian:bookworm\nMAINTAINER Jane <jane@example.com>\nRUN apt-get install -y git\n",
        b"FROM alpine:3.20\r\nmaintainer me\r\nRUN echo hi\r\n",
        b"FROM debian:bookworm\nMAINTAINER x\nrun echo one\nRUN echo two\n",
        b"\xef\xbb\xbffrom alpine:3.20\nRUN echo caf\xc3\xa9\n",
        b"FROM debian:bookworm\nMAINTAINER y\nRUN apt-get install -y curl wget\nHEALTHCHECK NONE",
    ]
    return kinds[index % len(kinds)]


def fixed_bytes(tmp: Path, data: bytes) -> bytes:
    path = write(tmp / "probe" / "Dockerfile", data)
    report = compute(str(path), Settings("write"))
    assert not report.errors and report.changed
    return report.new.encode("utf-8")


def children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found |= {int(p) for p in (task / "children").read_text().split()}
        except OSError:
            pass
    return found


def alive(pid: int) -> bool:
    """Running (not gone, not a zombie waiting for a reaper)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def many_files(folder: Path, count: int) -> dict[Path, bytes]:
    files = {}
    for index in range(count):
        files[write(folder / f"d{index % 12:02}" / f"Dockerfile.{index:03}", variant(index))] = variant(index)
    return files


# ---------------------------------------------------------------- 1. only the parent writes; workers die with it


@pytest.mark.skipif(not LINUX or (os.cpu_count() or 1) < 2, reason="needs /proc and several cores")
def test_killing_the_parent_stops_every_write_and_every_worker(tmp_path: Path) -> None:
    originals = many_files(tmp_path / "tree", 300)
    expected = {data: fixed_bytes(tmp_path, data) for data in set(originals.values())}
    process = subprocess.Popen(dfix_cmd("--write", "-q", str(tmp_path / "tree")), env=env(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: set[int] = set()
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:  # until the first file is written, noting the workers
            workers |= children(process.pid)
            if any(path.read_bytes() != data for path, data in originals.items()):
                break
            time.sleep(0.005)
        workers |= children(process.pid)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert workers, "the run had no worker processes"
    before = snapshot(tmp_path / "tree")
    time.sleep(2)
    assert snapshot(tmp_path / "tree") == before  # nothing written after the parent died
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in workers if alive(pid)], "workers outlived their parent"
    # every file is whole: as it was, or fixed; never partial
    written = 0
    for path, data in originals.items():
        now = path.read_bytes()
        assert now in (data, expected[data]), path
        written += now != data
    assert 0 < written < len(originals), f"killed too late to prove anything: {written} written"
    # the next run finishes the job and removes what the killed one left
    assert run("--write", "-q", "tree", cwd=tmp_path).returncode in (0, 1)
    assert all(path.read_bytes() == expected[data] for path, data in originals.items())
    assert not list((tmp_path / "tree").rglob(".dfix-*.tmp"))


def test_workers_only_compute_the_parent_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = many_files(tmp_path, 40)
    log = tmp_path / "writers.log"
    real = dfix.files.write_atomic

    def logged(path: str, text: str, cleaned: set[str] | None = None) -> None:
        with open(log, "a") as out:  # forked workers would inherit this too
            out.write(f"{os.getpid()}\n")
        real(path, text, cleaned)

    monkeypatch.setattr(dfix.runner, "write_atomic", logged)
    monkeypatch.setattr(dfix.runner, "PARALLEL_THRESHOLD", 2)
    reports = list(run_files([str(p) for p in files], Settings("write")))
    assert all(report.written for report in reports) and len(reports) == 40
    assert set(log.read_text().split()) == {str(os.getpid())}
    assert all(path.read_bytes() != data for path, data in files.items())


@pytest.mark.skipif(not LINUX or (os.cpu_count() or 1) < 2, reason="needs /proc and several cores")
def test_a_worker_killed_midway_does_not_stop_the_run(tmp_path: Path) -> None:
    originals = many_files(tmp_path / "tree", 300)
    process = subprocess.Popen(dfix_cmd("--write", "-q", str(tmp_path / "tree")), env=env(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    victim = None
    while victim is None and time.monotonic() < deadline and process.poll() is None:
        workers = children(process.pid)
        victim = min(workers) if workers else None
        time.sleep(0.005)
    if victim is None:
        process.kill()
        pytest.skip("the run ended before a worker could be seen")
    os.kill(victim, signal.SIGKILL)
    _, stderr = process.communicate(timeout=60)
    assert b"Traceback" not in stderr, stderr.decode()
    assert process.returncode in (0, 1)
    assert all(path.read_bytes() != data for path, data in originals.items())  # all written all the same


# ---------------------------------------------------------------- 2. stale temporary files


def dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_stale_temporary_files_are_removed_and_nothing_else(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", BAD)
    dead = dead_pid()
    hour_ago = time.time() - 2 * 3600
    names = {
        f".dfix-{dead}-abcd1234.tmp": "gone",        # its process is dead
        f".dfix-{os.getpid()}-live1234.tmp": "kept",  # its process runs (this one)
        ".dfix-old1234.tmp": "gone",                  # old naming, older than an hour
        ".dfix-new1234.tmp": "kept",                  # old naming, recent
        f".dfix-{os.getpid()}-ancient.tmp": "gone",   # older than an hour whatever the pid
        "keep.tmp": "kept", ".dfix-notes.txt": "kept", f"dfix-{dead}-a.tmp": "kept", f".dfix-{dead}-a.tmp.bak": "kept",
    }
    for name in names:
        write(tmp_path / name, b"x")
    for name in (".dfix-old1234.tmp", f".dfix-{os.getpid()}-ancient.tmp", "keep.tmp"):
        os.utime(tmp_path / name, (hour_ago, hour_ago))
    (tmp_path / f".dfix-{dead}-dir.tmp").mkdir()  # not a file: kept
    (tmp_path / f".dfix-{dead}-link.tmp").symlink_to("keep.tmp")  # a link: kept, and its target too
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub" / f".dfix-{dead}-other.tmp", b"x")  # no write into sub: kept

    assert run("--write", "Dockerfile", cwd=tmp_path).returncode == 1  # DL3015 and others remain
    assert (tmp_path / "Dockerfile").read_bytes().startswith(b'FROM debian:bookworm\nLABEL maintainer="x"\n')
    left = {p.name for p in tmp_path.iterdir()}
    assert left == {name for name, fate in names.items() if fate == "kept"} | {
        "Dockerfile", f".dfix-{dead}-dir.tmp", f".dfix-{dead}-link.tmp", "sub"}
    assert (tmp_path / "sub" / f".dfix-{dead}-other.tmp").exists()
    # a run that writes nothing removes nothing
    write(tmp_path / "clean" / "Dockerfile", b"FROM alpine:3.20\n")
    write(tmp_path / "clean" / f".dfix-{dead}-x.tmp", b"x")
    run("--write", "clean", cwd=tmp_path)
    assert (tmp_path / "clean" / f".dfix-{dead}-x.tmp").exists()


def test_the_temporary_file_is_named_for_the_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "Dockerfile", BAD)
    seen = []
    real = os.replace

    def spy(source: str, target: str) -> None:
        seen.append(os.path.basename(source))
        real(source, target)

    monkeypatch.setattr(os, "replace", spy)
    dfix.files.write_atomic(str(path), FIXED.decode())
    assert path.read_bytes() == FIXED
    assert len(seen) == 1 and re.fullmatch(rf"\.dfix-{os.getpid()}-[^/]+\.tmp", seen[0]), seen


# ---------------------------------------------------------------- 3. owner, group and mode


@pytest.mark.parametrize("mode", [0o640, 0o755, 0o600])
def test_write_keeps_the_mode(tmp_path: Path, mode: int) -> None:
    path = write(tmp_path / "Dockerfile", BAD)
    path.chmod(mode)
    run("--write", "Dockerfile", cwd=tmp_path)
    assert path.read_bytes() != BAD
    assert stat.S_IMODE(path.stat().st_mode) == mode


@pytest.mark.skipif(not IS_ROOT, reason="only root can give a file to someone else")
def test_write_as_root_keeps_the_owner_and_group(tmp_path: Path) -> None:
    path = write(tmp_path / "Dockerfile", BAD)
    os.chown(path, 12345, 12345)
    path.chmod(0o640)
    run("--write", "Dockerfile", cwd=tmp_path)
    assert path.read_bytes() != BAD
    st = path.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (12345, 12345, 0o640)


# ---------------------------------------------------------------- 4. read-only files


def test_read_only_file_is_refused_and_the_others_written(tmp_path: Path) -> None:
    locked = write(tmp_path / "a" / "Dockerfile", BAD)
    other = write(tmp_path / "b" / "Dockerfile", BAD)
    locked.chmod(0o444)
    result = run("--write", "a/Dockerfile", "b/Dockerfile", cwd=tmp_path)
    assert result.returncode == 2
    assert b"a/Dockerfile: error: read-only file, not written\n" in result.stderr
    assert locked.read_bytes() == BAD and stat.S_IMODE(locked.stat().st_mode) == 0o444
    assert other.read_bytes() != BAD
    assert b"in 1 file." in result.stdout  # only the file written is counted


def nobody_can_run() -> bool:
    return IS_ROOT and LINUX and shutil.which("setpriv") is not None


def as_nobody(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *dfix_cmd(*args)]
    result = subprocess.run(command, cwd=cwd, capture_output=True, env=env(HOME=str(cwd), XDG_CACHE_HOME=str(cwd), TMPDIR=str(cwd)),
                            check=False, timeout=60)
    assert b"Traceback" not in result.stderr, result.stderr.decode("utf-8", "replace")
    return result


@pytest.fixture
def shared_dir():
    """A folder the nobody user may write in (pytest's tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="dfix-hardening-"))
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.skipif(not nobody_can_run(), reason="needs root and setpriv to run as another user")
def test_not_writable_for_this_user_is_refused(shared_dir: Path) -> None:
    theirs = write(shared_dir / "a" / "Dockerfile", BAD)  # root's, 0644: nobody may not write it
    mine = write(shared_dir / "b" / "Dockerfile", BAD)
    for folder in ("a", "b"):
        (shared_dir / folder).chmod(0o777)
    os.chown(mine, 65534, 65534)
    result = as_nobody("--write", "a/Dockerfile", "b/Dockerfile", cwd=shared_dir)
    assert result.returncode == 2, result.stderr
    assert b"a/Dockerfile: error: read-only file, not written\n" in result.stderr
    assert theirs.read_bytes() == BAD and theirs.stat().st_uid == 0
    assert mine.read_bytes() != BAD and mine.stat().st_uid == 65534


# ---------------------------------------------------------------- 5. hard and symbolic links


def test_hard_links_stay_linked(tmp_path: Path) -> None:
    path = write(tmp_path / "Dockerfile", BAD)
    os.link(path, tmp_path / "other.Dockerfile")
    inode = path.stat().st_ino
    assert run("--write", "Dockerfile", cwd=tmp_path).returncode == 1
    assert path.stat().st_ino == inode and path.stat().st_nlink == 2
    assert (tmp_path / "other.Dockerfile").read_bytes() == path.read_bytes() != BAD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Dockerfile", "other.Dockerfile"]


def test_symbolic_link_stays_a_link_and_its_target_is_written(tmp_path: Path) -> None:
    target = write(tmp_path / "real" / "Dockerfile", BAD)
    target.chmod(0o640)
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").symlink_to("../real/Dockerfile")
    assert run("--write", "app/Dockerfile", cwd=tmp_path).returncode == 1
    assert (tmp_path / "app" / "Dockerfile").is_symlink()
    assert os.readlink(tmp_path / "app" / "Dockerfile") == "../real/Dockerfile"
    assert target.read_bytes() != BAD and stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in (tmp_path / "app").iterdir()] == ["Dockerfile"]
    assert [p.name for p in (tmp_path / "real").iterdir()] == ["Dockerfile"]


# ---------------------------------------------------------------- 6. per-file errors, the run goes on


def test_per_file_problems_do_not_stop_the_run(tmp_path: Path) -> None:
    b = write(tmp_path / "B", BAD)
    (tmp_path / "dangling").symlink_to("nowhere")
    (tmp_path / "empty").mkdir()  # a directory where a file was expected, without Dockerfiles
    write(tmp_path / "binary", b"FROM a\0b\n")
    fifo = tmp_path / "Dockerfile.fifo"
    os.mkfifo(fifo)  # in a directory search: skipped, not read (reading would wait forever)
    result = run("--write", "B", "dangling", "empty", "binary", "missing", ".", cwd=tmp_path)
    assert result.returncode == 2
    errors = result.stderr.decode().splitlines()
    assert "dangling: error: broken symbolic link (its target does not exist)" in errors
    assert "empty: error: no Dockerfiles found in this directory" in errors
    assert "missing: error: no such file or directory" in errors
    assert any(line.startswith("binary:1:7: error: binary file") for line in errors)
    assert b.read_bytes() != BAD
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


@pytest.mark.skipif(not nobody_can_run(), reason="needs root and setpriv to run as another user")
def test_an_unreadable_file_is_an_error_for_that_file_not_a_usage_error(shared_dir: Path) -> None:
    b = write(shared_dir / "B", BAD)
    a = write(shared_dir / "A", BAD)
    os.chown(b, 65534, 65534)
    a.chmod(0o000)
    result = as_nobody("--write", "B", "A", cwd=shared_dir)
    assert result.returncode == 2
    assert result.stderr.decode().splitlines() == ["A: error: Permission denied"]
    assert b.read_bytes() != BAD and a.read_bytes() == BAD


# ---------------------------------------------------------------- 7. failed writes are not counted


def test_failed_write_is_reported_and_not_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "a" / "Dockerfile", BAD)
    write(tmp_path / "b" / "Dockerfile", BAD)
    real = os.replace

    def failing(source: str, target: str) -> None:
        if os.path.dirname(target).endswith("/a"):
            raise OSError(28, "No space left on device")
        real(source, target)

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(os, "replace", failing)
    assert main(["--write", "a/Dockerfile", "b/Dockerfile"]) == 2
    out, err = capsys.readouterr()
    assert "a/Dockerfile: error: cannot write: No space left on device" in err
    assert (tmp_path / "a" / "Dockerfile").read_bytes() == BAD
    assert (tmp_path / "b" / "Dockerfile").read_bytes() != BAD
    assert not list((tmp_path / "a").glob(".dfix-*"))
    assert "Fixed 1 finding in 1 file." in out
    # the file not written keeps its findings, DL4000 among them
    assert "a/Dockerfile:2:1: DL4000" in out and "b/Dockerfile:2:1: DL4000" not in out


def chattr(flag: str, path: Path) -> bool:
    if not IS_ROOT or shutil.which("chattr") is None:
        return False
    return subprocess.run(["chattr", flag, str(path)], capture_output=True, check=False).returncode == 0


def test_immutable_file_is_not_counted_as_fixed(tmp_path: Path) -> None:
    path = write(tmp_path / "Dockerfile", BAD)
    if not chattr("+i", path):
        pytest.skip("chattr +i needs root and a file system that supports it")
    try:
        result = run("--write", "Dockerfile", cwd=tmp_path)
    finally:
        chattr("-i", path)
    assert result.returncode == 2
    assert b"Dockerfile: error: cannot write: Operation not permitted" in result.stderr
    assert path.read_bytes() == BAD
    assert b"Fixed" not in result.stdout and b"DL4000" in result.stdout
    assert not list(tmp_path.glob(".dfix-*"))


# ---------------------------------------------------------------- 8. UTF-8 output whatever the locale


UNICODE = "FROM alpine:3.20\nMAINTAINER José 🐳 <j@example.com>\nrun echo ünïcödé 🐳\n".encode()
ENVIRONMENTS = [{"PYTHONIOENCODING": "latin-1"}, {"LC_ALL": "C", "LANG": "C"}]


@pytest.fixture
def unicode_tree(tmp_path: Path) -> Path:
    write(tmp_path / "Dockerfile.café🐳", UNICODE)
    write(tmp_path / "Dockerfile.bröken", b"FROM alpine:3.20\nENV A\n")
    return tmp_path


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=lambda e: ",".join(f"{k}={v}" for k, v in e.items()))
def test_output_is_utf8_whatever_the_locale(unicode_tree: Path, environment: dict[str, str]) -> None:
    name, broken = "Dockerfile.café🐳", "Dockerfile.bröken"
    lint = run(name, broken, cwd=unicode_tree, **environment)
    assert lint.returncode == 2
    assert f"{name}:2:1: DL4000".encode() in lint.stdout
    assert f"{broken}:2:".encode() in lint.stderr and b"error:" in lint.stderr
    for output_format in ("json", "sarif", "github"):
        result = run("--format", output_format, name, cwd=unicode_tree, **environment)
        assert result.returncode == 1, (output_format, result.stderr)
        assert name.encode() in result.stdout
        if output_format != "github":
            json.loads(result.stdout.decode("utf-8"))
    diff = run("--diff", name, cwd=unicode_tree, **environment)
    assert diff.returncode == 1 and f"+++ b/{name}".encode() in diff.stdout
    assert "José 🐳".encode() in diff.stdout
    stdin = run("--write", "-", stdin=UNICODE, cwd=unicode_tree, **environment)
    assert stdin.returncode == 0 and "RUN echo ünïcödé 🐳".encode() in stdin.stdout
    check = run("--check", name, cwd=unicode_tree, **environment)
    assert f"Would fix {name}".encode() in check.stdout


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS file names must be UTF-8")
def test_a_file_name_that_is_not_utf8(tmp_path: Path) -> None:
    raw = os.fsencode(str(tmp_path)) + b"/Dockerfile.\xff"
    with open(raw, "wb") as out:
        out.write(BAD)
    lint = run(".", cwd=tmp_path, PYTHONIOENCODING="latin-1")
    assert b"Dockerfile.\xff:2:1: DL4000" in lint.stdout  # the name's own bytes
    findings = json.loads(run("--format", "json", ".", cwd=tmp_path).stdout.decode("utf-8"))  # valid UTF-8 JSON
    assert {f["path"] for f in findings} == {"Dockerfile.\udcff"}
    json.loads(run("--format", "sarif", ".", cwd=tmp_path).stdout.decode("utf-8"))
    result = run("--write", ".", cwd=tmp_path, PYTHONIOENCODING="ascii")
    assert result.returncode == 1
    with open(raw, "rb") as handle:
        assert handle.read() != BAD


# ---------------------------------------------------------------- 9. named twice; diff headers


def test_standard_input_twice_is_a_usage_error(tmp_path: Path) -> None:
    result = run("--write", "-", "-", stdin=BAD, cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == b""
    assert b"- (standard input) can be given only once" in result.stderr


def test_the_same_file_named_twice_is_processed_once(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", BAD)
    (tmp_path / "link.Dockerfile").symlink_to("Dockerfile")
    names = ("Dockerfile", "./Dockerfile", str(tmp_path / "Dockerfile"), "link.Dockerfile", ".")
    lint = run("--format", "json", *names, cwd=tmp_path)
    ids = [f["id"] for f in json.loads(lint.stdout)]
    assert len(ids) == len(set(ids)) and "DL4000" in ids
    result = run("--write", *names, cwd=tmp_path)
    assert b"Fixed 1 finding in 1 file.\n" in result.stdout
    assert (tmp_path / "Dockerfile").read_bytes() == FIXED
    assert (tmp_path / "link.Dockerfile").is_symlink()


def test_diff_header_of_an_absolute_path(tmp_path: Path) -> None:
    path = write(tmp_path / "Dockerfile", BAD)
    result = run("--diff", str(path), cwd=tmp_path)
    absolute = str(path).lstrip("/")
    assert result.stdout.decode().splitlines()[:2] == [f"--- a/{absolute}", f"+++ b/{absolute}"]
