"""--verify against a fake buildah (tests/fake_builder): the command line,
what is written and what is not, the bisection, the report, the clean-up.

The real builds are in tests/build_tier (the `build` marker)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dfix.verify import find_culprits

ROOT = Path(__file__).resolve().parents[1]
FAKE = ROOT / "tests" / "fake_builder"

APT = b"""FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y curl
CMD ["curl", "--version"]
"""


def run(*args: str, cwd: Path, path: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ, "PYTHONPATH": str(ROOT), "FAKE_BUILDAH_STORE": str(cwd / ".store"),
        "PATH": path if path is not None else f"{FAKE}{os.pathsep}{os.environ['PATH']}", **env,
    }
    result = subprocess.run(
        [sys.executable, "-m", "dfix", *args], cwd=cwd, capture_output=True, text=True, env=environment, check=False
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def builds(cwd: Path) -> list[list[str]]:
    return [call for call in map(json.loads, (cwd / ".store" / "log").read_text().splitlines()) if call[0] == "bud"]


def images_left(cwd: Path) -> dict:
    return json.loads((cwd / ".store" / "images.json").read_text())


def test_diff_reports_both_builds_and_the_size(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_bytes(APT)
    result = run("--diff", "--verify", "--builder", "buildah", "--verify-report", "report.json", "Dockerfile", cwd=tmp_path)
    assert result.returncode == 1  # there is a diff
    assert "+RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*" in result.stdout
    (verdict,) = json.loads((tmp_path / "report.json").read_text())
    assert verdict["ok"] and verdict["before"]["built"] and verdict["after"]["built"]
    assert verdict["after"]["size"] < verdict["before"]["size"]  # the lists are removed
    assert verdict["config_changes"] == {}
    assert "DL3009" in verdict["applied"] and verdict["unsafe_applied"] == []
    assert "Dockerfile: verified with buildah" in result.stderr
    assert "after:  built in" in result.stderr and "%" in result.stderr
    assert (tmp_path / "Dockerfile").read_bytes() == APT  # --diff writes nothing
    assert images_left(tmp_path) == {}  # the temporary images are gone
    (build,) = [call for call in builds(tmp_path) if "--target" in call] or [None]
    assert build is None


def test_write_keeps_a_file_whose_fixes_break_the_build_and_names_them(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_bytes(APT)
    result = run(
        "--write", "--unsafe-fixes", "--verify", "--builder", "buildah", "--verify-report", "report.json",
        "Dockerfile", cwd=tmp_path, FAKE_BUILDAH_BREAK="--no-install-recommends",
    )
    assert result.returncode == 1
    assert (tmp_path / "Dockerfile").read_bytes() == APT
    (verdict,) = json.loads((tmp_path / "report.json").read_text())
    assert not verdict["ok"] and verdict["before"]["built"] and not verdict["after"]["built"]
    assert verdict["culprits"] == ["DL3015"]
    assert "the fixes that break it: DL3015 (leave them out with --ignore DL3015)" in result.stderr
    assert "not written" in result.stderr
    assert images_left(tmp_path) == {}
    # before, after, then halves of {DL3002, DL3009, DL3015}: a bisection, not one build per subset
    assert 4 <= len(builds(tmp_path)) <= 7


def test_write_writes_what_verifies(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_bytes(APT)
    result = run("--write", "--verify", "--builder", "buildah", "--select", "DL3009", "Dockerfile", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert b"rm -rf /var/lib/apt/lists/*" in (tmp_path / "Dockerfile").read_bytes()
    assert "Fixed" in result.stdout


def test_build_options_are_passed_through(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_bytes(APT)
    (tmp_path / "ctx").mkdir()
    run("--check", "--verify", "--builder", "buildah", "--context", "ctx", "--target", "final",
        "--build-arg", "A=1", "--build-arg", "B=2", "app/Dockerfile", cwd=tmp_path)
    for call in builds(tmp_path):
        assert call[call.index("--target") + 1] == "final"
        assert [call[i + 1] for i, arg in enumerate(call) if arg == "--build-arg"] == ["A=1", "B=2"]
        assert call[-1] == "ctx"


def test_the_context_defaults_to_the_dockerfiles_folder(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_bytes(APT)
    run("--check", "--verify", "--builder", "buildah", "app/Dockerfile", cwd=tmp_path)
    assert {call[-1] for call in builds(tmp_path)} == {str(tmp_path / "app")}


def test_unsafe_fixes_that_change_the_config_are_listed(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_bytes(APT)
    result = run(
        "--write", "--unsafe-fixes", "--verify", "--builder", "buildah", "--verify-report", "report.json",
        "--select", "DL3002,DL3009", "Dockerfile", cwd=tmp_path,
    )
    (verdict,) = json.loads((tmp_path / "report.json").read_text())
    assert verdict["config_changes"]["User"] == {"before": None, "after": "10001:10001"}
    assert "DL3002" in verdict["unsafe_applied"]
    assert 'config User: null -> "10001:10001"' in result.stderr
    assert "unsafe fixes applied: DL3002 (the config changes are theirs)" in result.stderr
    assert result.returncode == 0 and b"USER 10001:10001" in (tmp_path / "Dockerfile").read_bytes()


def test_a_config_change_a_safe_fix_makes_by_design_is_expected(tmp_path: Path) -> None:
    original = b"FROM debian:bookworm-slim\nMAINTAINER Jane <jane@example.com>\nRUN true\n"
    (tmp_path / "Dockerfile").write_bytes(original)
    result = run("--write", "--verify", "--builder", "buildah", "--select", "DL4000", "--verify-report", "report.json",
                 "Dockerfile", cwd=tmp_path)
    (verdict,) = json.loads((tmp_path / "report.json").read_text())
    assert verdict["config_changes"]["Labels"] == {"before": None, "after": {"maintainer": "Jane <jane@example.com>"}}
    assert verdict["expected_changes"] == {"Labels": ["DL4000"]} and verdict["ok"]
    assert "(by design: DL4000)" in result.stderr
    assert result.returncode == 0 and b"LABEL maintainer=" in (tmp_path / "Dockerfile").read_bytes()


def test_a_safe_fix_that_changes_the_config_unexpectedly_is_a_bug_and_not_written(tmp_path: Path) -> None:
    # the fake builder reads `rm -rf /var/lib/apt/lists/*` as a WORKDIR change only when told to:
    # a stand-in for a safe fix that changes the config where it must not
    (tmp_path / "Dockerfile").write_bytes(APT)
    result = run("--write", "--verify", "--builder", "buildah", "--select", "DL3009", "Dockerfile", cwd=tmp_path,
                 FAKE_BUILDAH_WORKDIR_IF="rm -rf /var/lib/apt/lists")
    assert "dfix bug: safe fixes changed the image config: the file was not written" in result.stderr
    assert result.returncode == 1 and (tmp_path / "Dockerfile").read_bytes() == APT


def test_a_smoke_command_that_behaves_differently_stops_the_write(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_bytes(APT)
    result = run(
        "--write", "--unsafe-fixes", "--verify", "--builder", "buildah", "--verify-run", 'test -z "$IMAGE_USER"',
        "Dockerfile", cwd=tmp_path,
    )
    assert "--verify-run: exit 0 before, 1 after (DIFFERENT)" in result.stderr
    assert result.returncode == 1
    assert (tmp_path / "Dockerfile").read_bytes() == APT


def test_a_file_with_nothing_to_fix_is_not_built(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_bytes(b"FROM alpine:3.20\nRUN echo hi\nHEALTHCHECK NONE\n")
    result = run("--diff", "--verify", "--builder", "buildah", "Dockerfile", cwd=tmp_path)
    assert result.returncode == 0
    assert not (tmp_path / ".store" / "log").exists()


def test_no_builder_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_bytes(APT)
    result = run("--diff", "--verify", "Dockerfile", cwd=tmp_path, path=str(tmp_path / "empty-bin"))
    assert result.returncode == 2
    assert "no image builder to verify with" in result.stderr
    assert "docker: not installed" in result.stderr and "buildah: not installed" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--builder", "buildah"], "--builder needs --verify"),
        (["--verify-run", "true"], "--verify-run needs --verify"),
        (["--verify"], "--verify needs --diff, --write or --check"),
        (["--verify", "--diff", "--build-arg", "nonsense"], "expected KEY=VALUE"),
        (["--verify", "--diff", "--builder", "kaniko"], "kaniko"),
    ],
)
def test_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "Dockerfile").write_bytes(APT)
    result = run(*args, "Dockerfile", cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr


# ---------------------------------------------------------------- the bisection


def _breaks_with(culprits: set[str], together: bool = False):
    calls: list[frozenset[str]] = []

    def breaks(ids: frozenset[str]) -> bool:
        calls.append(ids)
        return culprits <= ids if together else bool(culprits & ids)

    return breaks, calls


def test_bisection_finds_one_culprit_in_few_builds() -> None:
    ids = [f"DL30{n:02}" for n in range(16)]
    breaks, calls = _breaks_with({"DL3011"})
    assert find_culprits(ids, breaks) == ["DL3011"]
    assert len(calls) <= 2 * 4  # two halves per level, four levels


def test_bisection_finds_independent_culprits() -> None:
    breaks, _ = _breaks_with({"DL3003", "DL3015"})
    assert find_culprits(["DL3003", "DL3008", "DL3009", "DL3015", "DL3047"], breaks) == ["DL3003", "DL3015"]


def test_fixes_that_break_only_together_are_named_together() -> None:
    breaks, _ = _breaks_with({"DL3003", "DL3047"}, together=True)
    assert find_culprits(["DL3003", "DL3009", "DL3015", "DL3047"], breaks) == ["DL3003", "DL3009", "DL3015", "DL3047"]
