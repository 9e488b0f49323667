"""DF112 (dockerignore) keeps its promise on real builds: the `.dockerignore`
it creates never leaves out a path a COPY or ADD needs. The build still
works, the image holds every app file the original's does, and the context
sent is smaller.

For each case of fixtures/context/DF112/ that has a `<case>.expected/` folder
(the cases where a `.dockerignore` is made): the case is copied out (its
`dot-git` as `.git`) and filled, at test time, with what a working copy of such
a project holds: a `.git` with objects and a pack, a `node_modules` or a
virtualenv of a few hundred files, `__pycache__`, tool caches, a log (the
fixtures hold one-line stand-ins of those, so that nothing big is in the
repository). Its FROM becomes the tier's stand-in of that image (a Node or
Python of Debian's, see standins.py). Then `dfix.fix(..., select=["DF112"])`
makes the `.dockerignore`, and the case is built twice with buildah (chroot
isolation, `--layers`; on overlay storage, see `store`): without it (the
original) and with it.

Checked: every COPY/ADD source is in the context the `.dockerignore` lets
through, and so is every file that is not junk (each case says what is junk,
by names of its own, not DF112's); both build; the fixed image's file system
is the original's less junk of the context the `.dockerignore` leaves out, and
nothing else (each file the `.dockerignore` keeps, under the WORKDIR, identical
to the context's; the `.dockerignore` itself the only file added); the app runs
alike in both (the case's smoke command, same exit 0 and output).

Measured (REPORT): the context's bytes before and after, computed (the sizes of
its files, less those `dfix.dockerignore` says BuildKit leaves out; buildah
reads a local context in place, so no transfer is there to observe), and, as
buildah observed it, the size of the `COPY .` layer (a tar of what was
copied, headers included) in each image.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import random
import re
import shutil
import stat
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import dfix
from dfix import dockerignore
from dfix.rules._copies import context_copies
from dfix.rules._stages import stages
from tests.build_tier import standins
from tests.build_tier.test_rebuild_speed import copy_standins, environment, overlay_root
from tests.conftest import FIXTURES, REPORT
from tests.test_context_rules import materialize

CASES_DIR = FIXTURES / "context" / "DF112"
CASES = sorted(
    case.name for case in CASES_DIR.iterdir()
    if case.is_dir() and not case.name.endswith(".expected") and case.with_name(case.name + ".expected").is_dir()
)

#: the tier's stand-in for each image a fixture may build FROM: one version of
#: each language (Debian's), whatever version the fixture names; node:18 and
#: python:3.11-slim as test_rebuild_speed names them, which shares the overlay store
#: written by the steps at every run under a new name (npm's debug log is named by its time)
VOLATILE = re.compile(r"root/\.npm/_logs/")

STANDINS = {
    "node": "node:18", "python": "python:3.11-slim", "golang": "golang:1.19", "rust": "rust:1.75",
    "debian": "debian:bookworm-slim",
}


# --------------------------------------------------------------------------
# the contexts: the fixture, filled as a working copy of the project would be


def _text(rng: random.Random, size: int, comment: str = "//") -> str:
    """Source-like text of about ``size`` characters."""
    words = ("const", "return", "value", "module", "export", "function", "data", "index", "config", "request")
    lines, total = [], 0
    while total < size:
        line = f"{comment} {' '.join(rng.choices(words, k=rng.randint(4, 12)))} {rng.getrandbits(32):08x}"
        lines.append(line)
        total += len(line) + 1
    return "\n".join(lines) + "\n"


def _write(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")


def add_git(context: Path, rng: random.Random) -> None:
    """A `.git` as a clone leaves it: loose objects (zlib data: incompressible), a pack, an index."""
    git = context / ".git"
    if not (git / "HEAD").exists():
        _write(git / "HEAD", "ref: refs/heads/main\n")
    _write(git / "config", "[core]\n\trepositoryformatversion = 0\n\tbare = false\n")
    _write(git / "description", "Unnamed repository; edit this file to name it.\n")
    _write(git / "refs" / "heads" / "main", f"{rng.getrandbits(160):040x}\n")
    _write(git / "logs" / "HEAD", _text(rng, 4_000, "#"))
    _write(git / "index", rng.randbytes(24_000))
    for _ in range(150):
        name = f"{rng.getrandbits(160):040x}"
        _write(git / "objects" / name[:2] / name[2:], rng.randbytes(rng.randint(200, 6_000)))
    pack = f"pack-{rng.getrandbits(160):040x}"
    _write(git / "objects" / "pack" / f"{pack}.pack", rng.randbytes(900_000))
    _write(git / "objects" / "pack" / f"{pack}.idx", rng.randbytes(40_000))


def add_node_modules(context: Path, rng: random.Random) -> None:
    """A `node_modules` an `npm install` on the host left: packages of a few files each."""
    for number in range(80):
        package = context / "node_modules" / f"pkg-{number:02d}"
        _write(package / "package.json", json.dumps({"name": package.name, "version": "1.0.0", "main": "index.js"}))
        _write(package / "index.js", _text(rng, rng.randint(500, 6_000)))
        _write(package / "README.md", _text(rng, 1_500, "#"))
        for lib in range(rng.randint(1, 5)):
            _write(package / "lib" / f"part{lib}.js", _text(rng, rng.randint(1_000, 12_000)))
    _write(context / "node_modules" / ".package-lock.json", json.dumps({"name": "demo", "lockfileVersion": 3}))


def add_venv(folder: Path, rng: random.Random) -> None:
    """A virtualenv (keeps the fixture's pyvenv.cfg): site-packages and their bytecode, links to the host's python."""
    if not (folder / "pyvenv.cfg").exists():
        _write(folder / "pyvenv.cfg", "home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.2\n")
    _write(folder / "bin" / "activate", _text(rng, 2_000, "#"))
    (folder / "bin" / "python3").symlink_to("/usr/bin/python3")
    (folder / "bin" / "python").symlink_to("python3")
    (folder / "lib64").symlink_to("lib")
    site = folder / "lib" / "python3.11" / "site-packages"
    for number in range(40):
        package = site / f"pkg{number:02d}"
        for module in range(rng.randint(2, 6)):
            _write(package / f"mod{module}.py", _text(rng, rng.randint(800, 10_000), "#"))
            _write(package / "__pycache__" / f"mod{module}.cpython-311.pyc", rng.randbytes(rng.randint(500, 8_000)))
        _write(site / f"pkg{number:02d}-1.0.dist-info" / "METADATA", _text(rng, 1_000, "#"))


def add_pycache(context: Path, rng: random.Random) -> None:
    """The bytecode of every module of the app, in `__pycache__` beside it."""
    for source in sorted(context.rglob("*.py")):
        if any(part in ("venv", ".venv") for part in source.relative_to(context).parts):
            continue
        _write(source.parent / "__pycache__" / f"{source.stem}.cpython-311.pyc", rng.randbytes(rng.randint(400, 4_000)))


NODE_APP = {
    # no dependencies: `npm ci` installs nothing from the network, and its lock is in step with package.json
    "package.json": json.dumps({"name": "demo", "version": "1.0.0", "private": True, "main": "app.js",
                                "scripts": {"start": "node app.js"}}, indent=2) + "\n",
    "package-lock.json": json.dumps({"name": "demo", "version": "1.0.0", "lockfileVersion": 3, "requires": True,
                                     "packages": {"": {"name": "demo", "version": "1.0.0"}}}, indent=2) + "\n",
    "app.js": (
        'const fs = require("fs");\nconst path = require("path");\n'
        'const { greet } = require("./src/greet");\nconst routes = require("./src/routes");\n'
        'const page = fs.readFileSync(path.join(__dirname, "public", "index.html"), "utf8");\n'
        'const example = fs.readFileSync(path.join(__dirname, ".env.example"), "utf8");\n'
        'console.log(`${greet("dfix")}: ${routes.length} routes, page ${page.length} bytes, '
        '${example.split("\\n").filter(Boolean).length} settings`);\n'
    ),
    "src/greet.js": 'exports.greet = (name) => `hello ${name}`;\n',
    "src/routes.js": (
        'module.exports = [\n  { path: "/", page: "index.html" },\n  { path: "/health", page: null },\n];\n'
    ),
    "public/index.html": "<!doctype html>\n<title>demo</title>\n<h1>demo</h1>\n",
    "public/style.css": "h1 { font-family: sans-serif; }\n",
    "README.md": "# demo\n\nRun with `npm start`.\n",
}

PYTHON_APP = {
    "app.py": (
        "from flask import Flask, render_template\n\nfrom shop.views import register\n\n"
        "app = Flask(__name__)\nregister(app)\n\n\n@app.get('/')\ndef index():\n"
        "    return render_template('index.html', title='shop')\n\n\n"
        "if __name__ == '__main__':\n    app.run(host='0.0.0.0', port=8000)\n"
    ),
    "shop/__init__.py": "",
    "shop/views.py": (
        "def register(app):\n    @app.get('/health')\n    def health():\n        return {'ok': True}\n"
    ),
    "templates/index.html": (
        "<!doctype html>\n<title>{{ title }}</title>\n<link rel=stylesheet href=/static/style.css>\n"
    ),
    "static/style.css": "body { margin: 0; }\n",
    "tests/test_app.py": (
        "from app import app\n\n\ndef test_index():\n    assert app.test_client().get('/').status_code == 200\n"
    ),
}


@dataclasses.dataclass(frozen=True)
class Case:
    #: fills the copied-out case with the project a working copy holds
    fill: Callable[[Path, random.Random], None]
    #: what runs in both images: its output must be the same, its exit 0
    smoke: str
    #: what of the context the app does not need, said here and not by DF112: a
    #: path one of whose parts is one of these names (the rest is the app's)
    junk: frozenset[str]

    def is_junk(self, path: str) -> bool:
        return any(part in self.junk for part in path.split("/"))


def fill_node(context: Path, rng: random.Random) -> None:
    for name, text in NODE_APP.items():
        _write(context / name, text)
    add_git(context, rng)
    add_node_modules(context, rng)
    _write(context / "npm-debug.log", _text(rng, 60_000, "verbose"))


def fill_python(context: Path, rng: random.Random) -> None:
    for name, text in PYTHON_APP.items():
        _write(context / name, text)
    add_git(context, rng)
    add_venv(context / "venv", rng)
    add_pycache(context, rng)
    for cache in (".pytest_cache", ".mypy_cache"):
        for number in range(30):
            _write(context / cache / "v" / f"entry{number:02d}.json", _text(rng, rng.randint(200, 3_000), "#"))
    _write(context / "app.log", _text(rng, 40_000, "INFO"))


FILLS = {
    "node": Case(fill_node, "node app.js", frozenset((".git", "node_modules", "npm-debug.log", ".env"))),
    "python": Case(
        fill_python,
        "python -c \"import app; c = app.app.test_client(); "
        "print(c.get('/').status_code, c.get('/health').json, len(c.get('/').data))\"",
        # not .env: the Dockerfile copies it
        frozenset((".git", "venv", "__pycache__", ".pytest_cache", ".mypy_cache", "app.log", "id_rsa"))),
}


# --------------------------------------------------------------------------
# measuring


@dataclasses.dataclass(frozen=True)
class Entry:
    kind: str           # "f", "d", "l" or "o" (another kind)
    size: int = 0
    link: str = ""
    digest: str = ""


def tree(root: Path, hashed: str | None = None) -> dict[str, Entry]:
    """Every path under ``root`` (relative, "/"-separated), links not followed;
    the files under ``hashed`` (relative; "" for all) with their sha256."""
    out: dict[str, Entry] = {}
    scope = None if hashed is None else (hashed.strip("/") + "/").lstrip("/")
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            relative = path.relative_to(root).as_posix()
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                out[relative] = Entry("l", link=os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                out[relative] = Entry("d")
            elif stat.S_ISREG(info.st_mode):
                digest = ""
                if scope is not None and relative.startswith(scope):
                    digest = hashlib.sha256(path.read_bytes()).hexdigest()
                out[relative] = Entry("f", info.st_size, digest=digest)
            else:
                out[relative] = Entry("o")
    return out


def context_bytes(context: Path, patterns: dockerignore.Patterns | None) -> tuple[int, int]:
    """The bytes and files of the context BuildKit would send: every regular
    file's size, less those the patterns leave out."""
    size = count = 0
    for relative, entry in tree(context).items():
        if entry.kind == "f" and not (patterns and patterns.excludes(relative)):
            size += entry.size
            count += 1
    return size, count


def human(size: float) -> str:
    """``1.2 MB``, ``40 kB``, ``1.4 kB`` (decimal units)."""
    for unit in ("B", "kB", "MB"):
        if size < 1000 or unit == "MB":
            return f"{size:.0f} {unit}" if unit == "B" or size >= 10 else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError


def change(before: int, after: int) -> str:
    """``-97%``; with a decimal more where the percentage rounds to 100."""
    ratio = (after - before) / before
    return f"{ratio:+.0%}" if round(abs(ratio), 2) < 1 else f"{ratio:+.2%}"


def copy_layer_size(tag: str) -> int:
    """The size of the image's layer made by its `COPY .`: buildah's history
    names it `COPY dir:<digest> in <dest>` (one such in these Dockerfiles)."""
    raw = standins.inspect_raw(tag)
    assert raw, tag
    history = [entry for entry in raw["Docker"]["history"] if not entry.get("empty_layer")]
    layers = json.loads(raw["Manifest"])["layers"]
    assert len(history) == len(layers), (history, layers)
    (size,) = [layer["size"] for entry, layer in zip(history, layers) if "COPY dir:" in entry.get("created_by", "")]
    return int(size)


@dataclasses.dataclass
class Image:
    files: dict[str, Entry]
    smoke: subprocess.CompletedProcess[str]


def examine(tag: str, workdir: str, smoke: str) -> Image:
    """The image's file system (files under the WORKDIR hashed), and the smoke command's result in it."""
    container = standins.buildah("from", "--quiet", "--pull=never", tag).strip().splitlines()[-1]
    try:
        mount = standins.buildah("mount", container).strip().splitlines()[-1]
        try:
            files = tree(Path(mount), hashed=workdir)
        finally:
            standins.buildah("umount", container, check=False)
        run = subprocess.run(standins.buildah_cmd("run", "--isolation", "chroot", container, "--", "sh", "-c", smoke),
                             env=dict(os.environ), text=True, capture_output=True, timeout=300)
        return Image(files, run)
    finally:
        standins.buildah("rm", container, check=False)


def repository(image: str) -> str:
    """``node:20-slim`` -> ``node`` (a tag or digest cut off; a registry port kept)."""
    image = image.split("@", 1)[0]
    head, _, last = image.rpartition("/")
    return (f"{head}/" if head else "") + last.split(":", 1)[0]


def from_standin(text: str) -> tuple[str, str | None]:
    """The Dockerfile with each FROM image replaced by the tier's stand-in of
    it, and None; or, when one has none, why not."""
    missing: list[str] = []
    stage_names = {name.lower() for name in re.findall(r"(?im)^\s*FROM\s+.*\sAS\s+(\S+)\s*$", text)}

    def replace(match: re.Match[str]) -> str:
        if match.group(2).lower() in stage_names:  # FROM an earlier stage
            return match.group(0)
        standin = STANDINS.get(repository(match.group(2)))
        if standin is None:
            missing.append(match.group(2))
            return match.group(0)
        return match.group(1) + standin

    replaced = re.sub(r"(?im)^(\s*FROM\s+(?:--platform=\S+\s+)?)(\S+)", replace, text)
    return replaced, (f"the build tier has no stand-in for {', '.join(missing)}" if missing else None)


# --------------------------------------------------------------------------
# the test


def bases() -> list[str]:
    """The stand-ins the cases build FROM."""
    found = set()
    for name in CASES:
        text = (CASES_DIR / name / "Dockerfile").read_text(encoding="utf-8")
        for image in re.findall(r"(?im)^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)", text):
            if repository(image) in STANDINS:
                found.add(STANDINS[repository(image)])
    return sorted(found)


@pytest.fixture(scope="module")
def store(build_env, tmp_path_factory) -> Iterator[str]:
    """os.environ set for the builds, and the storage driver they use: overlay,
    in test_rebuild_speed's store (the cases' stand-ins copied in from the
    tier's vfs store when not there yet; they stay for the next run), as
    Docker and Podman build. On vfs each step and each container copies the
    image's whole root (334 MB for node): the four builds and four containers
    took some 90 s a case, against a few seconds on overlay. Where overlay
    does not work, the tier's vfs store."""
    if standins.storage_driver() == "overlay":
        with environment(BUILDAH_ISOLATION="chroot"):
            yield "overlay"
        return
    overlay = {"DFIX_BUILDAH_DRIVER": "overlay", "DFIX_BUILDAH_ROOT": str(overlay_root()),
               "BUILDAH_ISOLATION": "chroot"}
    archives = tmp_path_factory.mktemp("df112-standins")
    try:
        copy_standins(overlay, list(bases()), archives)
    except standins.BuildahError as error:
        print(f"\n[DF112] no overlay storage here ({str(error).splitlines()[0]}): building on vfs", flush=True)
        yield "vfs"
        return
    conf = archives / "storage.conf"
    with environment(**overlay):
        conf.write_text(standins.storage_conf())
    with environment(**overlay, CONTAINERS_STORAGE_CONF=str(conf)):
        try:
            yield "overlay"
        finally:
            standins.prune()  # the layers the builds left; the stand-ins stay


@pytest.fixture
def tags(store) -> Iterator[dict[str, str]]:
    token = uuid.uuid4().hex[:12]
    made = {side: f"localhost/dfix-df112-{side}-{token}" for side in ("original", "fixed")}
    yield made
    for tag in made.values():
        standins.remove_image(tag)


@pytest.mark.parametrize("name", CASES)
def test_df112_dockerignore_keeps_the_build_and_sends_less(name: str, store: str, tags, tmp_path: Path) -> None:
    case = FILLS.get(name)
    if case is None:
        pytest.skip(f"no build-tier filling for DF112/{name}: add one to FILLS (what a working copy of it holds)")
    original = materialize(CASES_DIR / name, tmp_path / "original")
    dockerfile = original / "Dockerfile"
    text, why = from_standin(dockerfile.read_text(encoding="utf-8"))
    if why:
        pytest.skip(why)
    dockerfile.write_text(text, encoding="utf-8")
    case.fill(original, random.Random(f"dfix DF112 {name}"))
    assert not (original / ".dockerignore").exists()

    # the fix, through the API, on the case as it will be built
    result = dfix.fix(text, select=["DF112"], path=dockerfile)
    assert result.bugs == [] and result.code == text
    assert list(result.files) == [str(original / ".dockerignore")], result.files
    ignore_text = result.files[str(original / ".dockerignore")]
    patterns = dockerignore.parse(ignore_text)

    # the same context with the .dockerignore: a copy, so that the original build reads none
    fixed = tmp_path / "fixed" / name
    shutil.copytree(original, fixed, symlinks=True)
    (fixed / ".dockerignore").write_text(ignore_text, encoding="utf-8")

    # every COPY/ADD source is in what the .dockerignore lets through
    parsed = dfix.parse(text)
    sources = [source for copy in context_copies(stages(parsed)) for source in copy.sources]
    assert sources
    for source in sources:
        if source in (".", "./"):
            continue
        found = [path.relative_to(fixed).as_posix() for path in fixed.glob(source)]
        assert found, f"COPY source {source!r} is not in the context"
        assert [path for path in found if patterns.excludes(path)] == [], (source, ignore_text)

    # it leaves out junk only: every file of the app's goes to the builder
    fixed_tree = tree(fixed, hashed="")
    assert [path for path in fixed_tree if not case.is_junk(path) and patterns.excludes(path)] == [], ignore_text

    # the context: computed as BuildKit would send it
    before, before_files = context_bytes(original, None)
    after, after_files = context_bytes(fixed, patterns)
    assert after < before, ignore_text

    # both build
    for side, context in (("original", original), ("fixed", fixed)):
        build = standins.build(context / "Dockerfile", context, tags[side], timeout=600)
        assert build.returncode == 0, f"the {side} build of DF112/{name} failed:\n{build.stdout[-4000:]}"
    info = standins.image_info(tags["fixed"])
    assert info is not None
    workdir = info.workdir.strip("/")
    assert standins.image_info(tags["original"]).workdir == info.workdir
    layers = {side: copy_layer_size(tag) for side, tag in tags.items()}
    assert layers["fixed"] < layers["original"], layers

    # the fixed image is the original's less what the .dockerignore leaves out, and nothing else
    images = {side: examine(tag, workdir, case.smoke) for side, tag in tags.items()}
    old, new = images["original"].files, images["fixed"].files
    prefix = workdir + "/" if workdir else ""

    def ignored(path: str) -> bool:
        """A junk path of the context, that the .dockerignore leaves out."""
        inside = path[len(prefix):]
        return path.startswith(prefix) and case.is_junk(inside) and patterns.excludes(inside)

    dropped = sorted(path for path in set(old) - set(new) if not VOLATILE.match(path))
    assert dropped, "the .dockerignore left nothing out of the image"
    assert [path for path in dropped if not ignored(path)] == [], "the fixed image lacks more than ignored junk"
    assert sorted(path for path in set(new) - set(old) if not VOLATILE.match(path)) == [f"{prefix}.dockerignore"]
    changed = [path for path in set(old) & set(new)
               if old[path] != new[path] and not (old[path].kind == new[path].kind == "d")]
    assert changed == [], "files both images hold differ"
    # every file of the context the .dockerignore keeps (the app's ones all) is in the image as it is in the context
    kept = {path: entry for path, entry in fixed_tree.items() if not patterns.excludes(path)}
    for path, entry in kept.items():
        assert new.get(prefix + path) == entry, f"{path} is not in the fixed image as it is in the context"

    # the app runs alike
    runs = {side: image.smoke for side, image in images.items()}
    assert runs["original"].returncode == 0, runs["original"].stderr
    assert (runs["fixed"].returncode, runs["fixed"].stdout) == (0, runs["original"].stdout), runs["fixed"].stderr

    under = f"/{workdir}" if workdir else "/"
    summary = (
        f"context {human(before)} -> {human(after)} ({change(before, after)}; {before_files:,} -> "
        f"{after_files:,} files; computed), COPY . layer {human(layers['original'])} -> {human(layers['fixed'])} "
        f"(buildah), image {sum(1 for p in old if p.startswith(prefix))} -> "
        f"{sum(1 for p in new if p.startswith(prefix))} paths under {under}, build ok ({store}), "
        f"`{case.smoke.split(' ')[0]} ...` ok"
    )
    print(f"\n[DF112 {name}] {summary}\n  .dockerignore: "
          f"{', '.join(line for line in ignore_text.splitlines() if line and not line.startswith('#'))}", flush=True)
    REPORT[f"build tier: DF112 {name}"] = summary
