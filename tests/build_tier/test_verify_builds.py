"""Real builds of fixtures/build/* before and after dfix's fixes, with
`dfix --verify` on buildah: every safe fix keeps the build working and the
image config identical, the package fixes make the image smaller, and the
unsafe fixes' config changes are reported as theirs. For some cases the
smoke's output in the fixed image is read too (who it runs as, what it
loaded): DL3002 on a base of unknown family, DF100 with USER nobody and with a
psycopg2 compiled against libpq."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.build_tier import standins
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


def smoke_of(directory: Path) -> str:
    return re.search(r"^# smoke: (.+)$", (directory / "Dockerfile").read_text(), re.M).group(1)


def fix(directory: Path, env: dict[str, str], *args: str) -> str:
    """`dfix --write` (no --verify) on the Dockerfile in ``directory``; its new text."""
    dockerfile = directory / "Dockerfile"
    result = subprocess.run([sys.executable, "-m", "dfix", "--write", *args, str(dockerfile)],
                            capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert "Traceback" not in result.stderr, result.stderr
    return dockerfile.read_text()


def run_output(dockerfile: Path, context: Path, command: str, images: list[str]) -> tuple[int, str]:
    """Build ``dockerfile`` and run ``command`` in a container of it as the image's
    user: exit status and output. The image stays (tagged in ``images``) until the
    test ends, so that --verify's build of the same text after it is all cache hits
    (--verify removes its images, and buildah the untagged layers under them)."""
    tag = f"localhost/dfix-build-tier-{len(images)}-{abs(hash(dockerfile.read_text())) % 10**8}:latest"
    built = standins.build(dockerfile, context, tag, timeout=1200)
    assert built.returncode == 0, built.stdout[-3000:]
    images.append(tag)
    container = standins.buildah("from", "--quiet", "--pull=never", tag).strip().splitlines()[-1]
    try:
        argv = ["/bin/sh", "-c", command] if re.search(r"[|&;<>()$`\\*?]", command) else command.split()
        proc = subprocess.run(standins.buildah_cmd("run", "--isolation", "chroot", container, "--", *argv),
                              env=standins._env(), text=True, capture_output=True, timeout=300)
        return proc.returncode, (proc.stdout + proc.stderr).strip()
    finally:
        standins.buildah("rm", container, check=False)


def fixed_output(directory: Path, env: dict[str, str], images: list[str], *args: str, command: str | None = None,
                 before: bool = False) -> tuple[str | None, str, str]:
    """The smoke's (or ``command``'s) output in the image of the fixed Dockerfile
    (and with ``before``, of the original one: a copy of a large image costs
    time on vfs), and the fixed text; the fixture in ``directory`` is left as it is."""
    command = command or smoke_of(directory)
    fixed_dir = Path(shutil.copytree(directory, directory.parent / f"{directory.name}.fixed"))
    fixed = fix(fixed_dir, env, *args)
    before_out = None
    if before:
        status, before_out = run_output(directory / "Dockerfile", directory, command, images)
        assert status == 0, before_out
    status, after_out = run_output(fixed_dir / "Dockerfile", fixed_dir, command, images)
    assert status == 0, after_out
    return before_out, after_out, fixed


def last_stage(text: str) -> str:
    return re.split(r"^FROM ", text, flags=re.M)[-1]


def installed_packages(stage: str) -> list[str]:
    """The packages the stage's `apt-get install` commands name."""
    packages = []
    for command in re.findall(r"apt-get install ([^&;\n]+)", stage):
        packages += [word for word in command.split() if not word.startswith("-")]
    return packages


@pytest.fixture
def images():
    """Tags of images a test built; removed when it ends."""
    tags: list[str] = []
    yield tags
    for tag in tags:
        standins.remove_image(tag)


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


def test_dl3002_on_an_unknown_family_writes_the_user_into_the_passwd_files(build_env, fixture_copy, images) -> None:
    """acme/baseos:1 is the Debian root under a name dfix does not know, without
    useradd or groupadd: DL3002 appends its user to /etc/passwd and /etc/group
    with the shell the RUN shows, and the image then runs as 10001."""
    directory = fixture_copy("unsafe_user_unknown_family")
    before_out, after_out, fixed = fixed_output(directory, build_env, images, "--select", "DL3002", "--unsafe-fixes",
                                                before=True)
    verdict, result = verify(directory, build_env, "--select", "DL3002", "--unsafe-fixes")
    before, after = verdict["before"], verdict["after"]
    assert before["built"], before.get("log")
    assert after["built"], (after.get("log"), result.stderr)
    assert verdict["unsafe_applied"] == ["DL3002"], result.stderr
    assert verdict["config_changes"] == {"User": {"before": None, "after": "10001:10001"}}
    assert after["config"]["User"] == "10001:10001"
    assert before["smoke_exit"] == after["smoke_exit"] == 0, result.stderr
    assert verdict["ok"]
    instructions = "\n".join(line for line in fixed.splitlines() if not line.startswith("#"))
    assert ">> /etc/passwd" in instructions and "useradd" not in instructions, fixed
    assert before_out is not None
    assert before_out.splitlines()[0].startswith("uid=0 gid=0 user=root"), before_out
    assert after_out.splitlines()[0].startswith("uid=10001 gid=10001 user=app"), after_out
    assert after_out.splitlines()[1] == before_out.splitlines()[1] == "built on Linux"
    REPORT["build tier: DL3002 unknown family (acme/baseos, no useradd)"] = (
        f"{before['size'] / 1e6:.1f} MB -> {after['size'] / 1e6:.1f} MB, {before['layers']} -> {after['layers']} layers; "
        f"smoke {before_out.splitlines()[0]!r} -> {after_out.splitlines()[0]!r}"
    )


#: what a split's runtime image shows beyond building and behaving the same:
#: the user it runs as (config), the smoke's first line there, the packages its
#: runtime stage installs (all of them: no compiler, no -dev package)
SPLIT_RUNTIME = {
    "split_go_nobody": {"user": "nobody", "output": r"uid=65534 gid=65534"},
    "split_python_libpq": {"user": "10001:10001", "output": r"psycopg2 2\.9\.\d+ libpq \d{5,6} uid 10001",
                           "installs": ["libpq5"]},
}


@pytest.mark.parametrize("name", SPLIT)
def test_split_build_runtime_builds_a_smaller_image_that_behaves_the_same(name: str, build_env, fixture_copy,
                                                                         images) -> None:
    directory = fixture_copy(name)
    expected = SPLIT_RUNTIME.get(name)
    if expected:  # the fixed image's output first: --verify's after build then finds its layers
        command = smoke_of(directory)
        if "installs" in expected:  # and nothing else: no compiler, no -dev package
            command += (" && echo --- && (dpkg-query -W -f '${db:Status-Status} ${Package}\\n' "
                        + " ".join(expected["installs"]) + " gcc libc6-dev libpq-dev 2>/dev/null; true)")
        _, after_out, fixed = fixed_output(directory, build_env, images, "--select", "DF100", "--unsafe-fixes",
                                           command=command)
    verdict, result = verify(directory, build_env, "--select", "DF100", "--unsafe-fixes")
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
    # the runtime never runs as root
    assert (after["config"]["User"] or "root").split(":")[0] not in ("root", "0"), after["config"]
    line = (f"{before['size'] / 1e6:.1f} MB -> {after['size'] / 1e6:.1f} MB "
            f"({(after['size'] - before['size']) / before['size']:+.1%}), {before['layers']} -> {after['layers']} layers")
    if expected:
        assert after["config"]["User"] == expected["user"], verdict["config_changes"]
        assert re.fullmatch(expected["output"], after_out.splitlines()[0]), after_out
        if "installs" in expected:
            assert installed_packages(last_stage(fixed)) == expected["installs"], fixed
            packages = after_out.partition("---")[2]
            for package in expected["installs"]:
                assert re.search(rf"^installed {re.escape(package)}$", packages, re.M), after_out
            assert not re.search(r"^installed (gcc|libc6-dev|libpq-dev)$", packages, re.M), after_out
        line += f"; smoke after: {after_out.splitlines()[0]!r}"
    REPORT[f"build tier: DF100 {name.removeprefix('split_')}"] = line
