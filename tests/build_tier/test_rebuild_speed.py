"""DF110 (copy-manifests-first) keeps its promise: after a source change, the
rebuild with the layer cache reuses the dependency install and is much faster.

For each app of fixtures/build/rebuild/ (a real build context whose Dockerfile
installs its dependencies after `COPY . .`): build it with `buildah bud
--layers`, append a comment to one source file, rebuild and time that; the same
for the Dockerfile DF110's unsafe fix writes. The fixed rebuild must take the
install from the cache and be at least MIN_SPEEDUP times faster, and both final
images must have the same config and pass the app's check (its `# smoke:`
command, run as `dfix --verify-run` runs it) alike.

The builds use overlay storage (a store of their own, next to the tier's, with
the stand-ins copied in from it), as Docker and Podman do: on the tier's vfs
every step, a cache hit too, copies the image's whole root (seconds to tens of
seconds for the node stand-in), so a timing there measures vfs, and the two
steps DF110 adds can make the rebuild slower. Without overlay the test skips.

No Go app: the Go module proxy (and GitHub) cannot be reached from the builds
here, so `go mod download` has nothing real to download and no install to
save.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from dfix.verify import builders
from tests.build_tier import standins
from tests.conftest import REPORT

ROOT = Path(__file__).resolve().parents[2]
APPS_DIR = ROOT / "fixtures" / "build" / "rebuild"

#: how much faster the fixed rebuild must be. The issue's goal is 5x; what
#: the fix cannot take away bounds it: the steps after `COPY .` still run
#: (for the node app `npm run build`, about 1 s of npm starting up, and
#: buildah's own half second), so with `npm ci` of 245 packages at ~6 s here
#: the node app measures 4.2x-5.3x, the python app 7x-21x (see the report at
#: the end of the run). 3x holds with room for the machine's noise.
MIN_SPEEDUP = 3.0
#: rebuilds per side (each after a new edit); the faster one counts
REBUILDS = 2


@dataclasses.dataclass(frozen=True)
class App:
    name: str
    base: str         # its FROM: a stand-in of the tier
    source: str       # the file the "edit" appends a comment to
    comment: str      # that language's line comment
    install: str      # the start of the install's RUN, as buildah prints the step
    manifests: str    # the COPY DF110 puts first


APPS = [
    App("node", "node:18", "src/app.js", "//", "RUN npm ci", "COPY package.json package-lock.json ./"),
    App("python", "python:3.11-slim", "app.py", "#", "RUN pip install", "COPY requirements.txt ./"),
]


def overlay_root() -> Path:
    """The overlay store's root: beside the tier's (DFIX_BUILDAH_ROOT), or beside buildah's default."""
    root = os.environ.get("DFIX_BUILDAH_ROOT")
    return Path(f"{root}-overlay") if root else Path("/var/lib/containers/dfix-overlay")


@contextlib.contextmanager
def environment(**values: str) -> Iterator[None]:
    """os.environ with these values, for standins' buildah calls and dfix's builder helpers."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in values.items():
            patch.setenv(key, value)
        yield


def copy_standins(overlay: dict[str, str], bases: list[str], archives: Path) -> None:
    """Copy the stand-ins of ``bases`` from the tier's store into the overlay
    store (when not there yet), and check a container of it runs here;
    standins.BuildahError when it cannot."""
    for base in bases:
        name = standins.qualify(base)
        source = standins.inspect_raw(name)
        assert source, f"the build tier has no {base} stand-in"
        with environment(**overlay):
            present = standins.inspect_raw(name)
        if present and present["FromImageID"] == source["FromImageID"]:
            continue
        archive = archives / "image.tar"
        standins.buildah("push", "--quiet", name, f"docker-archive:{archive}")
        with environment(**overlay):
            image = standins.buildah("pull", "--quiet", f"docker-archive:{archive}").strip().splitlines()[-1]
            standins.buildah("tag", image, name)
        archive.unlink()
    with environment(**overlay):  # can a container of the store run here?
        container = standins.buildah("from", "--quiet", "--pull=never", name).strip().splitlines()[-1]
        try:
            standins.buildah("run", "--isolation", "chroot", container, "--", "true")
        finally:
            standins.buildah("rm", container, check=False)


@pytest.fixture(scope="module")
def overlay_store(build_env, tmp_path_factory) -> Iterator[None]:
    """os.environ set for builds in the overlay store, with the apps' base
    stand-ins in it: copied from the tier's store (the same layers, config and
    recipe label), once; they stay for the next run."""
    if standins.storage_driver() == "overlay":  # the tier's own store is overlay already
        with environment(BUILDAH_ISOLATION="chroot"):
            yield
        return
    root = overlay_root()
    overlay = {"DFIX_BUILDAH_DRIVER": "overlay", "DFIX_BUILDAH_ROOT": str(root), "BUILDAH_ISOLATION": "chroot"}
    archives = tmp_path_factory.mktemp("standins")
    try:
        copy_standins(overlay, sorted({app.base for app in APPS}), archives)
    except standins.BuildahError as error:
        pytest.skip(f"no overlay storage here: {str(error).splitlines()[0]}")
    conf = archives / "storage.conf"
    with environment(**overlay):
        conf.write_text(standins.storage_conf())
    with environment(**overlay, CONTAINERS_STORAGE_CONF=str(conf)):
        try:
            yield
        finally:
            standins.prune()  # the layers the builds left; the stand-ins stay


@dataclasses.dataclass
class Step:
    number: int
    instruction: str
    cached: bool = False
    seconds: float = 0.0  # from its `STEP` line to the next one (or the build's end)


@dataclasses.dataclass
class Build:
    seconds: float
    steps: list[Step]
    output: str

    @property
    def rerun(self) -> list[Step]:
        """The steps that ran (FROM is never a cache hit nor a step that runs)."""
        return [step for step in self.steps if not step.cached and not step.instruction.upper().startswith("FROM ")]

    def step(self, prefix: str) -> Step:
        (found,) = [step for step in self.steps if step.instruction.startswith(prefix)]
        return found


def build(context: Path, tag: str) -> Build:
    """`buildah bud --layers` (as standins.build runs it), timed, with its steps
    read as they are printed: `STEP 3/7: COPY . .`, and `--> Using cache <id>`
    under a step that came from the cache."""
    command = standins.buildah_cmd(
        "bud", "--isolation", "chroot", "--pull=never", "--format=docker", "--layers=true", "--force-rm",
        "-f", str(context / "Dockerfile"), "-t", tag, str(context))
    steps: list[Step] = []
    output: list[str] = []
    started = time.monotonic()
    with subprocess.Popen(command, env={**os.environ, "BUILDAH_ISOLATION": "chroot"}, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as process:
        assert process.stdout is not None
        for line in process.stdout:
            now = time.monotonic() - started
            output.append(line)
            header = re.match(r"STEP (\d+)/\d+: (.*)$", line.rstrip("\n"))
            if header:
                if steps:
                    steps[-1].seconds = now - steps[-1].seconds
                steps.append(Step(int(header.group(1)), header.group(2).strip(), seconds=now))
            elif line.startswith("--> Using cache ") and steps:
                steps[-1].cached = True
        returncode = process.wait(timeout=900)
    seconds = time.monotonic() - started
    if steps:
        steps[-1].seconds = seconds - steps[-1].seconds
    text = "".join(output)
    assert returncode == 0, f"building {context.name} failed:\n{text[-4000:]}"
    assert steps, text
    return Build(seconds, steps, text)


def smoke_command(dockerfile: Path) -> str:
    found = re.search(r"^# smoke: (.+)$", dockerfile.read_text(), re.MULTILINE)
    assert found, f"{dockerfile} has no `# smoke:` line"
    return found.group(1)


def build_edit_rebuild(context: Path, app: App, tag: str, token: str) -> tuple[Build, list[Build]]:
    """Build cold, then REBUILDS times: edit one source file, rebuild with the cache."""
    cold = build(context, tag)
    rebuilds = []
    for n in range(REBUILDS):
        with open(context / app.source, "a") as source:
            source.write(f"{app.comment} edited by the rebuild test ({token}-{n})\n")
        rebuilds.append(build(context, tag))
    return cold, rebuilds


@pytest.mark.parametrize("app", APPS, ids=[app.name for app in APPS])
def test_df110_rebuild_reuses_the_install_and_is_faster(app: App, overlay_store, tmp_path: Path) -> None:
    builder = builders.Builder("buildah", shutil.which("buildah") or "buildah")
    original = Path(shutil.copytree(APPS_DIR / app.name, tmp_path / "original"))
    fixed = Path(shutil.copytree(APPS_DIR / app.name, tmp_path / "fixed"))

    fix = subprocess.run(
        [sys.executable, "-m", "dfix", "--select", "DF110", "--unsafe-fixes", "--write", str(fixed / "Dockerfile")],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
    )
    assert fix.returncode == 0 and "Traceback" not in fix.stderr, fix.stderr
    fixed_text = (fixed / "Dockerfile").read_text()
    assert fixed_text != (original / "Dockerfile").read_text(), fix.stderr
    lines = fixed_text.splitlines()
    assert lines.index(app.manifests) < next(i for i, line in enumerate(lines) if line.startswith(app.install)) \
        < lines.index("COPY . ."), fixed_text

    token = uuid.uuid4().hex[:12]  # a new edit every run: an old run's cache cannot hide the rebuild
    tags = {side: f"localhost/dfix-rebuild-{app.name}-{side}-{token}" for side in ("original", "fixed")}
    try:
        results = {side: build_edit_rebuild(context, app, tags[side], token)
                   for side, context in (("original", original), ("fixed", fixed))}
        (cold_before, befores), (cold_after, afters) = results["original"], results["fixed"]
        # the original reinstalls on every source edit; the fixed one takes the install from the cache
        for rebuild in befores:
            assert not rebuild.step(app.install).cached, rebuild.output
        for rebuild in afters:
            assert rebuild.step(app.install).cached, rebuild.output
            assert rebuild.step(app.manifests).cached, rebuild.output
            assert not rebuild.step("COPY . .").cached, rebuild.output
        # the faster of the rebuilds on each side: the machine's noise only ever slows a build down
        before = min(befores, key=lambda rebuild: rebuild.seconds)
        after = min(afters, key=lambda rebuild: rebuild.seconds)
        ratio = before.seconds / after.seconds
        summary = (
            f"steps re-run {len(before.rerun)}/{len(before.steps)} -> {len(after.rerun)}/{len(after.steps)}, "
            f"rebuild {before.seconds:.1f} s -> {after.seconds:.1f} s ({ratio:.1f}x faster; best of "
            f"{' / '.join(f'{b.seconds:.1f}' for b in befores)} -> {' / '.join(f'{a.seconds:.1f}' for a in afters)}), "
            f"install step {before.step(app.install).seconds:.1f} s -> "
            f"{'cache hit' if after.step(app.install).cached else 'RE-RUN'} "
            f"(cold builds {cold_before.seconds:.0f} s / {cold_after.seconds:.0f} s)"
        )

        def steps(rebuild: Build) -> str:
            return ", ".join(f"{step.instruction[:40]} {step.seconds:.1f} s" for step in rebuild.rerun)

        print(f"\n[DF110 rebuild {app.name}] {summary}\n  re-run before: {steps(before)}\n"
              f"  re-run after:  {steps(after)}", flush=True)
        REPORT[f"build tier: DF110 rebuild after a source edit, {app.name}"] = summary

        # the time saved is the install's, and the rebuild is MIN_SPEEDUP times faster at least
        assert before.seconds - after.seconds >= 0.5 * before.step(app.install).seconds, summary
        assert ratio >= MIN_SPEEDUP, summary

        facts = {side: builders.inspect(builder, tag) for side, tag in tags.items()}
        assert facts["fixed"].config == facts["original"].config
        smoke = smoke_command(original / "Dockerfile")
        exits = {side: builders.run(builder, tag, smoke) for side, tag in tags.items()}
        assert exits["original"] == exits["fixed"] == 0, exits
    finally:
        for tag in tags.values():
            builders.remove(builder, tag)
