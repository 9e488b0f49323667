"""DF111 (cache-mounts) keeps its promise: with the cache mounts its unsafe
fix adds, a second build's installs take what the first one downloaded (and
built) from the mounts and are faster, and the image is no larger than the
original's, for the caches stay on the builder, out of the image.

The app (fixtures/build/rebuild_cache_mounts/python/) installs jq with apt and
its requirements with `pip install --no-cache-dir`, cleaning up as Dockerfiles
do. Four builds, all with `--no-cache`, so that every step runs and only what a
cache mount holds can carry over: the original, the fixed one with the mounts
empty (cold), the original again (its reinstall: the baseline with the network
as warm as it is for the next one), the fixed one again (warm).

What the warm build takes from the mounts, and what it cannot here:
- apt: every .deb (`Need to get 0 B/... of archives`) and the package lists
  (`apt-get update` fetches the InRelease files only, ~0.2 MB, not ~9 MB);
- pip: the wheels it built from sdists (`Using cached docopt-0.6.2-...whl`,
  no `Building wheel`). The wheels it downloads it downloads again here: pip
  keeps an HTTP response only when it says how long it stays fresh
  (Cache-Control, Expires or an ETag), which PyPI's do but those that reach
  the builds here do not, so pip's HTTP cache stays empty. The test says how
  many it downloaded again, and asserts on what holds either way.

buildah (1.28 here) keeps a cache mount without an id in
`$TMPDIR/buildah-cache*/<target>` (default /var/tmp), between `buildah bud`
runs, with vfs or overlay and chroot isolation alike; the test points TMPDIR
at a folder of its own, so the first fixed build starts cold and nothing is
left behind, and asserts that it did start cold (it downloaded the .debs and
built the wheels). The builds use the overlay store of test_rebuild_speed, for
the same reason: on vfs every step also copies the image's whole root, noise
in the step times.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

import dfix
from dfix.verify import builders
from tests.build_tier import standins
from tests.build_tier.test_rebuild_speed import Build, Step, overlay_store, smoke_command  # noqa: F401 (a fixture)
from tests.conftest import REPORT

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "fixtures" / "build" / "rebuild_cache_mounts" / "python"
#: what tells the install steps apart (the fixed apt RUN starts by turning the docker-clean hook off)
APT_STEP = "apt-get update"
PIP_STEP = "pip install"
#: the requirements pip builds a wheel of (sdists only on PyPI): their wheels are in the mount
SDISTS = ("docopt", "pyperclip", "sgmllib3k", "termcolor")
#: how much larger the fixed image may be, in bytes. Layer sizes are those of
#: uncompressed tars: an entry costs a 512-byte header, its content rounded up to
#: 512 bytes. Measured: the fixed pip layer has two entries more, the directories
#: /root and /root/.cache that buildah made for the mount point (+1024 B); the fixed
#: apt layer has four entries (the docker-clean hook DF111 turns off: the
#: directories, keep-cache and a whiteout for docker-clean) where the original's has
#: five (/var/cache/apt/archives/lock, partial/ ...), so it is no larger. 4 kB
#: leaves room for a few more such entries, not for a cache: the smallest .deb or
#: wheel here is larger than that.
TOLERANCE = 4 * 1024


def supports_cache_mounts(env: dict[str, str], tmp_path: Path) -> str | None:
    """None when buildah builds a `RUN --mount=type=cache`, else why not."""
    context = tmp_path / "probe"
    context.mkdir()
    (context / "Dockerfile").write_text(
        "FROM python:3.11-slim\nRUN --mount=type=cache,target=/root/.cache/probe touch /root/.cache/probe/ok\n")
    tag = f"localhost/dfix-cache-mount-probe-{uuid.uuid4().hex[:12]}"
    command = standins.buildah_cmd("bud", "--isolation", "chroot", "--pull=never", "--layers=false",
                                   "-f", str(context / "Dockerfile"), "-t", tag, str(context))
    process = subprocess.run(command, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             timeout=300, check=False)
    subprocess.run(standins.buildah_cmd("rmi", tag), env=env, capture_output=True, check=False)
    if process.returncode != 0:
        return f"buildah cannot build RUN --mount=type=cache: {process.stdout.strip().splitlines()[-1:]}"
    if not list(Path(env["TMPDIR"]).glob("buildah-cache*/root/.cache/probe/ok")):
        return "buildah keeps its cache mounts somewhere other than $TMPDIR/buildah-cache*"
    return None


def build(context: Path, tag: str, cache_home: Path) -> Build:
    """`buildah bud --layers --no-cache` (every step runs), timed step by step,
    with the cache mounts kept under cache_home."""
    command = standins.buildah_cmd(
        "bud", "--isolation", "chroot", "--pull=never", "--format=docker", "--layers=true", "--no-cache",
        "--force-rm", "-f", str(context / "Dockerfile"), "-t", tag, str(context))
    env = {**os.environ, "BUILDAH_ISOLATION": "chroot", "TMPDIR": str(cache_home)}
    steps: list[Step] = []
    output: list[str] = []
    started = time.monotonic()
    with subprocess.Popen(command, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as process:
        assert process.stdout is not None
        for line in process.stdout:
            now = time.monotonic() - started
            output.append(line)
            header = re.match(r"STEP (\d+)/\d+: (.*)$", line.rstrip("\n"))
            if header:
                if steps:
                    steps[-1].seconds = now - steps[-1].seconds
                steps.append(Step(int(header.group(1)), header.group(2).strip(), seconds=now))
        returncode = process.wait(timeout=600)
    seconds = time.monotonic() - started
    if steps:
        steps[-1].seconds = seconds - steps[-1].seconds
    text = "".join(output)
    assert returncode == 0, f"building {context.name} failed:\n{text[-4000:]}"
    return Build(seconds, steps, text)


def step_of(result: Build, command: str) -> Step:
    (step,) = [step for step in result.steps if step.instruction.startswith("RUN ") and command in step.instruction]
    return step


def step_output(result: Build, command: str) -> str:
    """What the RUN step that runs command printed."""
    step = step_of(result, command)
    after = result.output.split(f"STEP {step.number}/", 1)[1].split("\n", 1)[1]
    return re.split(r"^STEP \d+/\d+: ", after, maxsplit=1, flags=re.MULTILINE)[0]


@dataclasses.dataclass
class Install:
    """What one build's two install steps did."""
    apt_seconds: float
    pip_seconds: float
    debs: str            # apt's `Need to get 389 kB` or `0 B/389 kB`
    fetched: str         # what `apt-get update` fetched: `9424 kB`
    built: list[str]     # the wheels pip built (its `Created wheel for X:` lines)
    cached: list[str]    # pip's `Using cached <file>` lines
    downloaded: list[str]

    @classmethod
    def of(cls, result: Build) -> Install:
        apt, pip = step_output(result, APT_STEP), step_output(result, PIP_STEP)
        need = re.search(r"^Need to get (.+?) of archives\.$", apt, re.MULTILINE)
        fetched = re.search(r"^Fetched (\S+ \S+) in ", apt, re.MULTILINE)
        return cls(step_of(result, APT_STEP).seconds, step_of(result, PIP_STEP).seconds,
                   need.group(1) if need else "?", fetched.group(1) if fetched else "nothing",
                   re.findall(r"Created wheel for ([^:\s]+):", pip), re.findall(r"^\s+Using cached (\S+)", pip, re.MULTILINE),
                   re.findall(r"^\s+Downloading (\S+)", pip, re.MULTILINE))

    @property
    def seconds(self) -> float:
        return self.apt_seconds + self.pip_seconds


def test_df111_cache_mounts_make_the_second_install_reuse_the_cache(overlay_store, tmp_path: Path) -> None:
    builder = builders.Builder("buildah", shutil.which("buildah") or "buildah")
    cache_home = tmp_path / "buildah-tmp"  # buildah's TMPDIR: the cache mounts live there
    cache_home.mkdir()
    reason = supports_cache_mounts({**os.environ, "BUILDAH_ISOLATION": "chroot", "TMPDIR": str(cache_home)}, tmp_path)
    if reason:
        pytest.skip(reason)
    shutil.rmtree(cache_home)
    cache_home.mkdir()

    original = Path(shutil.copytree(APP, tmp_path / "original"))
    fixed = Path(shutil.copytree(APP, tmp_path / "fixed"))
    result = dfix.fix((original / "Dockerfile").read_text(), select=["DF111"], unsafe=True,
                      path=original / "Dockerfile")
    assert result.applied == ["DF111", "DF111"] and not result.bugs, result
    (fixed / "Dockerfile").write_text(result.code)
    assert "--no-cache-dir" not in result.code and "rm -rf /var/lib/apt/lists" not in result.code, result.code
    for target in ("/var/cache/apt", "/var/lib/apt/lists", "/root/.cache/pip"):
        assert f"--mount=type=cache,target={target}" in result.code, result.code

    token = uuid.uuid4().hex[:12]
    tags = {side: f"localhost/dfix-cache-mounts-{side}-{token}" for side in ("original", "fixed")}
    try:
        # interleaved, so that a network that warms up (or slows down) favours neither side
        before_cold = Install.of(build(original, tags["original"], cache_home))
        after_cold = Install.of(build(fixed, tags["fixed"], cache_home))
        before = Install.of(build(original, tags["original"], cache_home))
        after_build = build(fixed, tags["fixed"], cache_home)
        after = Install.of(after_build)

        # the first fixed build started cold: it downloaded the .debs and built the wheels
        assert not after_cold.debs.startswith("0 B"), after_cold
        assert sorted(after_cold.built) == sorted(SDISTS), after_cold
        # the mounts stayed on the host, between builds, with what it fetched and built in them
        mounts = list(cache_home.glob("buildah-cache*"))
        assert len(mounts) == 1, mounts
        debs = list(mounts[0].glob("var/cache/apt/archives/*.deb"))
        wheels = list(mounts[0].glob("root/.cache/pip/wheels/**/*.whl"))
        assert len(debs) >= 3 and len(wheels) == len(SDISTS), (debs, wheels)
        assert list(mounts[0].glob("var/lib/apt/lists/*_InRelease")), "no package lists in the mount"
        # pip's HTTP cache: empty where the registry's responses say nothing of how long they stay fresh
        http_cached = any(path.is_file() for path in mounts[0].glob("root/.cache/pip/http*/**/*"))
        # the second took them from the mounts: no .deb fetched, no wheel built again
        assert after.debs.startswith("0 B/"), after_build.output
        assert after.built == [], after_build.output
        for name in SDISTS:
            assert any(line.startswith(f"{name}-") and line.endswith(".whl") for line in after.cached), after.cached
        if http_cached:  # and where pip could keep what it downloaded, nothing is downloaded again
            assert after.downloaded == [], after_build.output
        # the original fetches and builds it all every time
        assert not before.debs.startswith("0 B") and sorted(before.built) == sorted(SDISTS), before

        sizes = {side: builders.inspect(builder, tag) for side, tag in tags.items()}
        saved = before.seconds - after.seconds
        summary = (
            f"install (apt + pip steps) {after_cold.seconds:.1f} s cold -> {after.seconds:.1f} s with the "
            f"cache mounts filled (original's every time: {before_cold.seconds:.1f} s, {before.seconds:.1f} s); "
            f"apt {after_cold.apt_seconds:.1f} -> {after.apt_seconds:.1f} s (.debs {after_cold.debs} -> "
            f"{after.debs}, lists {after_cold.fetched} -> {after.fetched}), pip {after_cold.pip_seconds:.1f} -> "
            f"{after.pip_seconds:.1f} s ({len(SDISTS) - len(after.built)}/{len(SDISTS)} built wheels from the "
            f"cache, {len(after.downloaded)} downloads again{'' if http_cached else ': the registry here sends no caching headers, pip keeps no download'}); "
            f"image {sizes['original'].size / 1e6:.2f} MB -> {sizes['fixed'].size / 1e6:.2f} MB "
            f"({sizes['fixed'].size - sizes['original'].size:+d} B)"
        )
        print(f"\n[DF111 cache mounts, python] {summary}", flush=True)
        REPORT["build tier: DF111 cache mounts, python (apt + pip)"] = summary

        # faster than the same build cold, and than the original's reinstall on a network as warm
        assert after.seconds < after_cold.seconds, summary
        assert saved > 0, summary
        # no larger: the caches are on the builder, not in the image
        assert sizes["fixed"].size <= sizes["original"].size + TOLERANCE, summary
        assert sizes["fixed"].layers == sizes["original"].layers, summary
        assert sizes["fixed"].config == sizes["original"].config
        # and the app runs
        smoke = smoke_command(original / "Dockerfile")
        exits = {side: builders.run(builder, tag, smoke) for side, tag in tags.items()}
        assert exits["original"] == exits["fixed"] == 0, exits
    finally:
        for tag in tags.values():
            builders.remove(builder, tag)
        shutil.rmtree(cache_home, ignore_errors=True)  # ~90 MB: apt's lists and its binary caches
