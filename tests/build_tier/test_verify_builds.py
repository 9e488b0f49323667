"""Real builds of fixtures/build/* before and after dfix's fixes, with
`dfix --verify` on buildah: every safe fix keeps the build working and the
image config identical, the package fixes make the image smaller, and the
unsafe fixes' config changes are reported as theirs."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPORT

ROOT = Path(__file__).resolve().parents[2]
BUILD_FIXTURES = ROOT / "fixtures" / "build"
SAFE = sorted(path.name for path in BUILD_FIXTURES.iterdir() if not path.name.startswith(("unsafe", "split", "rebuild")))
SPLIT = sorted(path.name for path in BUILD_FIXTURES.iterdir() if path.name.startswith("split"))


def verify(directory: Path, env: dict[str, str], *args: str) -> tuple[dict, subprocess.CompletedProcess[str]]:
    """`dfix --diff --verify` on the Dockerfile in ``directory``, with its
    `# smoke:` command as --verify-run."""
    dockerfile = directory / "Dockerfile"
    smoke = re.search(r"^# smoke: (.+)$", dockerfile.read_text(), re.M)
    report = directory / "verify.json"
    command = [sys.executable, "-m", "dfix", "--diff", "--verify", "--builder", "buildah",
               "--verify-report", str(report), *args]
    if smoke:
        command += ["--verify-run", smoke.group(1)]
    result = subprocess.run([*command, str(dockerfile)], capture_output=True, text=True, env=env, cwd=ROOT,
                            timeout=1200)
    assert "Traceback" not in result.stderr, result.stderr
    assert report.exists(), result.stderr
    (verdict,) = json.loads(report.read_text())
    return verdict, result


@pytest.fixture
def fixture_copy(tmp_path: Path):
    def copy(name: str) -> Path:
        return Path(shutil.copytree(BUILD_FIXTURES / name, tmp_path / name))
    return copy


@pytest.mark.parametrize("name", SAFE)
def test_safe_fixes_keep_the_build_and_the_config_and_shrink_the_image(name: str, build_env, fixture_copy) -> None:
    verdict, result = verify(fixture_copy(name), build_env)
    before, after = verdict["before"], verdict["after"]
    assert before["built"], before.get("log")
    assert after["built"], after.get("log")
    assert verdict["unsafe_applied"] == [] and verdict["applied"]
    assert verdict["config_changes"] == {}
    assert after["config"] == before["config"]
    assert before.get("smoke_exit") == after.get("smoke_exit") == 0, result.stderr
    assert after["size"] < before["size"], result.stderr
    assert verdict["ok"]
    change = after["size"] - before["size"]
    REPORT[f"build tier: {name} ({', '.join(verdict['applied'])})"] = (
        f"{before['size'] / 1e6:.1f} MB -> {after['size'] / 1e6:.1f} MB ({change / 1e3:+,.0f} kB, {change / before['size']:+.2%}), "
        f"built in {before['seconds']:.0f} s / {after['seconds']:.0f} s"
    )


def test_unsafe_fixes_build_and_their_config_changes_are_named(build_env, fixture_copy) -> None:
    verdict, result = verify(fixture_copy("unsafe_user_and_exec_form"), build_env, "--unsafe-fixes")
    assert verdict["before"]["built"] and verdict["after"]["built"], verdict["after"].get("log")
    changes = verdict["config_changes"]
    assert set(changes) == {"User", "Cmd"}
    assert changes["User"] == {"before": None, "after": "10001:10001"}
    assert changes["Cmd"] == {"before": ["/bin/sh", "-c", "wget --version"], "after": ["wget", "--version"]}
    assert "DL3002" in verdict["unsafe_applied"] and "DL3025" not in verdict["unsafe_applied"]
    assert verdict["expected_changes"]["Cmd"] == ["DL3025"]  # the safe exec-form fix changes Cmd by design
    assert verdict["before"]["smoke_exit"] == verdict["after"]["smoke_exit"] == 0
    assert verdict["after"]["size"] < verdict["before"]["size"]  # DL3015 leaves out the recommended packages
    assert "(the config changes are theirs)" in result.stderr
    assert verdict["ok"]


@pytest.mark.parametrize("name", SPLIT)
def test_split_build_runtime_builds_a_smaller_image_that_behaves_the_same(name: str, build_env, fixture_copy) -> None:
    verdict, result = verify(fixture_copy(name), build_env, "--select", "DF100", "--unsafe-fixes")
    before, after = verdict["before"], verdict["after"]
    assert verdict["applied"] == ["DF100"], result.stderr
    assert before["built"], before.get("log")
    assert after["built"], after.get("log")
    assert before["smoke_exit"] == after["smoke_exit"] == 0, result.stderr
    # the runtime runs as an unprivileged user on another base image, whose own ENV and labels
    # differ: the command, working directory, ports and health check are the original's
    assert set(verdict["config_changes"]) <= {"User", "Env", "Labels"}, verdict["config_changes"]
    assert after["size"] < before["size"], result.stderr
    assert verdict["ok"]
    REPORT[f"build tier: DF100 {name.removeprefix('split_')}"] = (
        f"{before['size'] / 1e6:.1f} MB -> {after['size'] / 1e6:.1f} MB "
        f"({(after['size'] - before['size']) / before['size']:+.1%}), {before['layers']} -> {after['layers']} layers"
    )
