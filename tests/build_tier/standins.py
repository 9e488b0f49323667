"""Local stand-ins for the Docker Hub base images that fixture Dockerfiles use.

There is no Docker engine and no registry here, so the build test tier builds
with buildah (``--storage-driver vfs``, ``--isolation chroot``, as root) on top
of images made locally and tagged with the names Docker Hub gives the real ones
(``docker.io/library/debian:bookworm-slim`` and so on), so that
``FROM debian:bookworm-slim`` resolves from local storage with ``--pull=never``.

One ``debootstrap --variant=minbase`` run (its tarball cached under
``~/.cache/dfix-standins``, keyed by a hash of its recipe) gives
``debian:bookworm`` and, slimmed the way debuerreotype slims it,
``debian:bookworm-slim``; the other stand-ins are derived from those with
``buildah from`` + ``buildah run ... apt-get install`` + ``buildah commit``, so
they use Debian's packages (python3, nodejs, golang-1.19-go) and not the
upstream builds the real images carry.

Every stand-in carries the label ``org.dfix.standin.recipe`` (a hash of its
recipe, its parent's included); ``ensure()`` skips an image whose label matches
and rebuilds it otherwise.  Images built FROM a stand-in inherit that label.

CLI::

    python -m tests.build_tier.standins                 # create whatever is missing
    python -m tests.build_tier.standins --list          # names, state, size, layers
    python -m tests.build_tier.standins python:3.11-slim --force
    python -m tests.build_tier.standins --remove        # untag/remove all stand-ins

Environment: DFIX_DEBIAN_MIRROR, DFIX_DEBIAN_SECURITY_MIRROR, DFIX_STANDINS_CACHE,
DFIX_BUILDAH_ROOT (optional separate buildah storage root).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator, Sequence

SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEFAULT_SECURITY_MIRROR = "http://deb.debian.org/debian-security"
LABEL = "org.dfix.standin.recipe"
# Bump to force every stand-in (and the rootfs tarball) to be made anew.
RECIPE_VERSION = 1
SCRATCH = "scratch"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


# --------------------------------------------------------------------------
# names


def qualify(name: str) -> str:
    """``debian:bookworm-slim`` -> ``docker.io/library/debian:bookworm-slim``.

    This is the name buildah stores and looks up for a Docker Hub short name.
    """
    if ":" not in name.rsplit("/", 1)[-1] and "@" not in name:
        name += ":latest"
    first = name.split("/", 1)[0]
    if "/" not in name:
        return f"docker.io/library/{name}"
    if "." in first or ":" in first or first == "localhost":
        return name
    return f"docker.io/{name}"


def short(name: str) -> str:
    for prefix in ("docker.io/library/", "docker.io/"):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


# --------------------------------------------------------------------------
# buildah


def storage_driver() -> str:
    """vfs (default, works anywhere) or overlay (DFIX_BUILDAH_DRIVER=overlay: works
    here as root on ext4, and a layer costs no copy of its parent)."""
    return os.environ.get("DFIX_BUILDAH_DRIVER") or "vfs"


def storage_conf() -> str:
    """A containers-storage.conf for tools that take no --storage-driver
    flag (dfix --verify runs plain buildah): the same store, the same driver."""
    root = os.environ.get("DFIX_BUILDAH_ROOT")
    graphroot, runroot = (root, os.path.join(root, "run")) if root else (
        "/var/lib/containers/storage", "/run/containers/storage")
    return f'[storage]\ndriver = "{storage_driver()}"\nrunroot = "{runroot}"\ngraphroot = "{graphroot}"\n'



def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["BUILDAH_ISOLATION"] = "chroot"
    env["STORAGE_DRIVER"] = storage_driver()
    env.setdefault("DEBIAN_FRONTEND", "noninteractive")
    return env


def buildah_cmd(*args: str) -> list[str]:
    """The buildah command line with the global flags every call needs.

    Always pass the driver: the images of one storage root are kept per driver,
    and a bare ``buildah images`` (overlay by default) lists none of vfs's."""
    cmd = ["buildah", "--storage-driver", storage_driver()]
    root = os.environ.get("DFIX_BUILDAH_ROOT")
    if root:
        cmd += ["--root", root, "--runroot", os.path.join(root, "run")]
    return cmd + list(args)


class BuildahError(RuntimeError):
    pass


def buildah(*args: str, quiet: bool = True, check: bool = True,
            timeout: float | None = 900) -> str:
    """Run buildah; return its stdout.  With quiet=False its stderr is shown."""
    cmd = buildah_cmd(*args)
    if quiet:
        proc = subprocess.run(cmd, env=_env(), text=True, capture_output=True, timeout=timeout)
    else:
        proc = subprocess.run(cmd, env=_env(), text=True, stdout=subprocess.PIPE,
                              timeout=timeout)
    if check and proc.returncode != 0:
        err = proc.stderr if quiet else ""
        raise BuildahError(f"{shlex.join(cmd)} failed ({proc.returncode}):\n{(err or '')[-4000:]}")
    return proc.stdout


def available() -> str | None:
    """None when stand-ins can be made here, else why not (for pytest.skip)."""
    for tool in ("buildah", "debootstrap"):
        if shutil.which(tool) is None and not os.path.exists(f"/usr/sbin/{tool}"):
            return f"{tool} is not installed (apt-get install -y buildah debootstrap)"
    if os.geteuid() != 0:
        return "buildah with vfs + chroot isolation and debootstrap need root"
    return None


def install_tools() -> None:
    """apt-get install buildah and debootstrap when either is missing."""
    missing = [t for t in ("buildah", "debootstrap")
               if shutil.which(t) is None and not os.path.exists(f"/usr/sbin/{t}")]
    if not missing:
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-q", "buildah", "debootstrap"], check=True, env=env)


@dataclasses.dataclass
class ImageInfo:
    id: str
    names: list[str]
    size: int           # bytes: sum of the layers' uncompressed tar sizes
    layers: int
    user: str
    cmd: list[str] | None
    entrypoint: list[str] | None
    env: dict[str, str]
    workdir: str
    exposed_ports: list[str]
    healthcheck: dict[str, Any] | None
    labels: dict[str, str]
    history: list[dict[str, Any]]


def inspect_raw(name: str) -> dict[str, Any] | None:
    """``buildah inspect --type image`` as JSON, or None when there is no such image."""
    proc = subprocess.run(buildah_cmd("inspect", "--type", "image", name),
                          env=_env(), text=True, capture_output=True)
    if proc.returncode != 0:
        return None
    return json.loads(proc.stdout)


def image_info(name: str) -> ImageInfo | None:
    raw = inspect_raw(name)
    if raw is None:
        return None
    docker = (raw.get("Docker") or {}).get("config") or {}
    oci = (raw.get("OCIv1") or {}).get("config") or {}
    manifest = json.loads(raw["Manifest"]) if raw.get("Manifest") else {}
    layers = manifest.get("layers") or []
    env: dict[str, str] = {}
    for item in docker.get("Env") or oci.get("Env") or []:
        key, _, value = item.partition("=")
        env[key] = value
    names = []
    with contextlib.suppress(BuildahError, ValueError):
        for img in json.loads(buildah("images", "--json", "--no-trunc", raw["FromImageID"])):
            names = img.get("names") or []
    return ImageInfo(
        id=raw["FromImageID"],
        names=names,
        size=sum(int(layer.get("size", 0)) for layer in layers),
        layers=len(layers),
        user=docker.get("User") or oci.get("User") or "",
        cmd=docker.get("Cmd") if "Cmd" in docker else oci.get("Cmd"),
        entrypoint=docker.get("Entrypoint") if "Entrypoint" in docker else oci.get("Entrypoint"),
        env=env,
        workdir=docker.get("WorkingDir") or oci.get("WorkingDir") or "",
        exposed_ports=sorted((docker.get("ExposedPorts") or oci.get("ExposedPorts") or {}).keys()),
        healthcheck=docker.get("Healthcheck"),
        labels=dict(docker.get("Labels") or oci.get("Labels") or {}),
        history=list((raw.get("Docker") or raw.get("OCIv1") or {}).get("history") or []),
    )


def build(dockerfile: str | os.PathLike[str], context: str | os.PathLike[str], tag: str, *,
          layers: bool = True, fmt: str = "docker", extra: Sequence[str] = (),
          timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    """``buildah bud`` a Dockerfile against local images only.  Never raises on
    a failed build: look at returncode/stdout (stderr is merged into stdout).

    layers=True gives one layer per instruction as Docker does (without it
    buildah squashes a stage's changes into one layer, so files deleted in a
    later RUN cost nothing); it also reuses cached layers of earlier builds
    (pass extra=["--no-cache"] against that).  fmt="docker" keeps HEALTHCHECK,
    which the OCI format drops with a warning."""
    cmd = buildah_cmd("bud", "--isolation", "chroot", "--pull=never", f"--format={fmt}",
                      f"--layers={'true' if layers else 'false'}", "--force-rm", *extra,
                      "-f", os.fspath(dockerfile), "-t", tag, os.fspath(context))
    return subprocess.run(cmd, env=_env(), text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=timeout)


def prune(containers: bool = False) -> None:
    """Remove dangling images (this drops the --layers cache too; stand-ins
    and other tagged images stay), and with ``containers`` every working
    container: only from the command line, as it would also take those of
    builds running beside this one."""
    if containers:
        buildah("rm", "--all", check=False)
    buildah("rmi", "--prune", check=False)


def remove_image(name: str) -> bool:
    """Untag name (and remove the image once no name is left).  True if it existed."""
    proc = subprocess.run(buildah_cmd("rmi", name), env=_env(), text=True, capture_output=True)
    return proc.returncode == 0


# --------------------------------------------------------------------------
# recipes


@dataclasses.dataclass(frozen=True)
class StandIn:
    name: str                           # fully qualified primary name
    aliases: tuple[str, ...] = ()       # fully qualified extra names
    base: str | None = None             # parent stand-in's primary name; None: the rootfs
    slim: bool = False                  # rootfs images only
    files: tuple[tuple[str, str, str], ...] = ()   # (path, content, octal mode)
    script: str = ""                    # sh -c, run in the container after files
    env: tuple[tuple[str, str], ...] = ()
    # env whose value is the output of a shell command run in the finished container
    env_from: tuple[tuple[str, str], ...] = ()
    cmd: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    workdir: str | None = None
    user: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


# The minimizing configuration the real debian images carry (made by
# debuerreotype): same file names, same directives, our own comments.
_APT_CLEAN = ('"rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb '
              '/var/cache/apt/*.bin || true";')
DEBIAN_FILES: tuple[tuple[str, str, str], ...] = (
    ("/usr/sbin/policy-rc.d",
     "#!/bin/sh\n# No service is started while packages install in an image build.\nexit 101\n",
     "0755"),
    ("/etc/dpkg/dpkg.cfg.d/docker-apt-speedup",
     "# An image build need not survive power loss: skip dpkg's fsyncs.\nforce-unsafe-io\n",
     "0644"),
    ("/etc/apt/apt.conf.d/docker-autoremove-suggests",
     "# autoremove also takes packages that are only Suggested by others.\n"
     'Apt::AutoRemove::SuggestsImportant "false";\n', "0644"),
    ("/etc/apt/apt.conf.d/docker-clean",
     "# Drop downloaded .debs and apt's binary caches after every dpkg run and\n"
     "# every update, so that they never land in a layer.\n"
     f"DPkg::Post-Invoke {{ {_APT_CLEAN} }};\n"
     f"APT::Update::Post-Invoke {{ {_APT_CLEAN} }};\n\n"
     'Dir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\n', "0644"),
    ("/etc/apt/apt.conf.d/docker-gzip-indexes",
     "# Keep the package lists compressed on disk (a layer that keeps\n"
     "# /var/lib/apt/lists is the smaller for it).\n"
     'Acquire::GzipIndexes "true";\n', "0644"),
    ("/etc/apt/apt.conf.d/docker-no-languages",
     "# Fetch no Translation files.\n"
     'Acquire::Languages "none";\n', "0644"),
    ("/etc/hostname", "debuerreotype\n", "0644"),
    ("/etc/resolv.conf", "nameserver 1.1.1.1\nnameserver 1.0.0.1\n", "0644"),
)


def extra_ca_files() -> tuple[tuple[str, str, str], ...]:
    """The host's locally added CA certificates (DFIX_STANDINS_EXTRA_CA_DIR, default
    /usr/local/share/ca-certificates), put in the same place in the stand-ins.

    Where egress goes through a TLS-intercepting proxy, pip, npm, go and curl
    inside a build trust it only through these: they reach the image's
    /etc/ssl/certs when a RUN step installs the ca-certificates package (the
    stand-ins that have it ran update-ca-certificates with them in place).
    """
    directory = Path(os.environ.get("DFIX_STANDINS_EXTRA_CA_DIR",
                                    "/usr/local/share/ca-certificates"))
    if not str(directory) or not directory.is_dir():
        return ()
    files = []
    for path in sorted(directory.rglob("*.crt")):
        if path.is_file():
            rel = path.relative_to(directory).as_posix()
            files.append((f"/usr/local/share/ca-certificates/{rel}",
                          path.read_text(errors="replace"), "0644"))
    return tuple(files)


def debian_sources(mirror: str, security_mirror: str) -> str:
    return f"""Types: deb
URIs: {mirror}
Suites: {SUITE} {SUITE}-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: {security_mirror}
Suites: {SUITE}-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""


# Run in the freshly unpacked minbase root (debuerreotype-init + examples/debian.sh).
DEBIAN_SCRIPT = r"""
set -eu
rm -f /etc/apt/sources.list
apt-mark auto '.*' > /dev/null
apt-get update -qq
apt-get dist-upgrade -y -qq -o Dpkg::Use-Pty=0 > /dev/null
apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*
rm -f /var/log/dpkg.log /var/log/bootstrap.log /var/log/alternatives.log \
      /var/log/apt/history.log /var/log/apt/term.log /var/cache/ldconfig/aux-cache
rm -f /run/mount/utab; rmdir /run/mount 2>/dev/null || :
"""

# debuerreotype-slimify with its .slimify-excludes / .slimify-includes.
SLIM_EXCLUDES = ("/usr/share/doc/*", "/usr/share/groff/*", "/usr/share/info/*",
                 "/usr/share/linda/*", "/usr/share/lintian/overrides/*",
                 "/usr/share/locale/*", "/usr/share/man/*")
SLIM_INCLUDES = ("/usr/share/doc/*/copyright", "/usr/share/doc/kde/HTML/C/*",
                 "/usr/share/gnome/help/*/C/*", "/usr/share/locale/all_languages",
                 "/usr/share/locale/currency/*", "/usr/share/locale/l10n/*",
                 "/usr/share/locale/languages", "/usr/share/locale/locale.alias",
                 "/usr/share/omf/*/*-C.emf")


def _slim_files() -> tuple[tuple[str, str, str], ...]:
    lines = ["# Slim image: dpkg keeps leaving out the documentation, man pages and",
             "# translations that were removed from it."]
    for pattern in SLIM_EXCLUDES:
        lines += ["", f"path-exclude {pattern}"]
    lines.append("")
    lines += [f"path-include {pattern}" for pattern in SLIM_INCLUDES]
    return (("/etc/dpkg/dpkg.cfg.d/docker", "\n".join(lines) + "\n", "0644"),)


def _slim_script() -> str:
    keep = " -o ".join(f"-path {shlex.quote(p)}" for p in SLIM_INCLUDES)
    dirs = " ".join(shlex.quote(p[:-2]) for p in SLIM_EXCLUDES)
    return f"""
set -eu
for d in {dirs}; do
  [ -d "$d" ] || continue
  find "$d" -depth -mindepth 1 -not \\( {keep} \\) -not \\( -type d -o -type l \\) -exec rm -f '{{}}' +
  while [ "$(find "$d" -depth -mindepth 1 \\( -empty -o -xtype l \\) -exec rm -rf '{{}}' ';' -printf . | wc -c)" -gt 0 ]; do :; done
done
"""


_APT_INSTALL = ("apt-get update -qq && apt-get install -y -qq --no-install-recommends "
                "-o Dpkg::Use-Pty=0 {pkgs} > /dev/null && rm -rf /var/lib/apt/lists/*")

# What the official node images' entrypoint does: run the command through
# node when it is an option or not a command found on PATH (nor an executable).
NODE_ENTRYPOINT = """#!/bin/sh
set -e
case "${1:-}" in
  -*) set -- node "$@" ;;
  *)
    if [ -z "$(command -v "${1:-}")" ] || { [ -f "${1:-}" ] && [ ! -x "${1:-}" ]; }; then
      set -- node "$@"
    fi ;;
esac
exec "$@"
"""

YARN_VERSION = "1.22.19"


def recipes() -> list[StandIn]:
    """All stand-ins, parents before children."""
    q = qualify
    debian = StandIn(
        name=q(f"debian:{SUITE}"), aliases=(q("debian:12"),),
        files=DEBIAN_FILES + extra_ca_files(), script=DEBIAN_SCRIPT,
        env=(("PATH", DEFAULT_PATH),), cmd=("bash",))
    debian_slim = dataclasses.replace(
        debian, name=q(f"debian:{SUITE}-slim"), aliases=(q("debian:12-slim"),), slim=True)
    python = StandIn(
        name=q("python:3.11-slim"),
        aliases=(q(f"python:3.11-slim-{SUITE}"),),
        base=debian_slim.name,
        script="set -eu\n" + _APT_INSTALL.format(
            pkgs="ca-certificates netbase tzdata python3 python3-pip python3-venv "
                 "python3-setuptools python3-wheel python-is-python3")
        + "\nrm -f /usr/lib/python3*/EXTERNALLY-MANAGED\n"
          "ln -sf /usr/bin/python3 /usr/local/bin/python3\n"
          "ln -sf /usr/bin/python3 /usr/local/bin/python\n"
          "ln -sf /usr/bin/pip3 /usr/local/bin/pip3\n"
          "ln -sf /usr/bin/pip3 /usr/local/bin/pip\n"
          "python --version && pip --version > /dev/null\n",
        env=(("PATH", "/usr/local/bin:" + DEFAULT_PATH), ("LANG", "C.UTF-8"),
             ("GPG_KEY", "A035C8C19219BA821ECEA86B64E628F8D684696D")),
        env_from=(("PYTHON_VERSION",
                   "python3 -c 'import platform; print(platform.python_version())'"),),
        cmd=("python3",))
    # the full python image: the slim one with Python's headers (the real one, on
    # buildpack-deps, has them under /usr/local/include), so that an sdist with a
    # C extension (psycopg2) compiles once the Dockerfile installs gcc
    python_full = StandIn(
        name=q("python:3.11"), aliases=(q(f"python:3.11-{SUITE}"),),
        base=python.name,
        script="set -eu\n" + _APT_INSTALL.format(pkgs="python3-dev")
        + "\npython3 -c 'import sysconfig, os; assert os.path.exists(os.path.join("
          "sysconfig.get_paths()[\"include\"], \"Python.h\"))'\n")
    node = StandIn(
        name=q(f"node:18-{SUITE}-slim"),
        aliases=(q("node:18-slim"), q("node:18"), q(f"node:18-{SUITE}")),
        base=debian_slim.name,
        files=(("/usr/local/bin/docker-entrypoint.sh", NODE_ENTRYPOINT, "0755"),),
        script="set -eu\n"
               "groupadd --gid 1000 node\n"
               "useradd --uid 1000 --gid node --shell /bin/bash --create-home node\n"
        + _APT_INSTALL.format(pkgs="nodejs npm") + "\n"
        f"npm install -g --no-audit --no-fund --loglevel=error yarn@{YARN_VERSION} > /dev/null\n"
        "rm -rf /root/.npm /tmp/*\n"
        "node --version && npm --version > /dev/null && yarn --version > /dev/null\n",
        env=(("PATH", DEFAULT_PATH), ("YARN_VERSION", YARN_VERSION)),
        env_from=(("NODE_VERSION", "node --version | sed s/^v//"),),
        entrypoint=("docker-entrypoint.sh",), cmd=("node",))
    golang = StandIn(
        name=q("golang:1.19"), aliases=(q(f"golang:1.19-{SUITE}"),),
        base=debian.name,
        script="set -eu\n" + _APT_INSTALL.format(
            pkgs="golang-1.19-go ca-certificates curl wget netbase git openssh-client procps "
                 "g++ gcc libc6-dev make pkg-config")
        + "\nln -s /usr/lib/go-1.19 /usr/local/go\n"
          "mkdir -p /go/src /go/bin && chmod -R 1777 /go\n"
          "/usr/local/go/bin/go version\n",
        env=(("PATH", "/go/bin:/usr/local/go/bin:" + DEFAULT_PATH), ("GOPATH", "/go")),
        env_from=(("GOLANG_VERSION",
                   "/usr/local/go/bin/go env GOVERSION | sed s/^go//"),),
        workdir="/go", cmd=("bash",))
    # rust: Debian's cargo and rustc (older than the real image's, enough for
    # a crate without dependencies: crates.io is not reachable from a build)
    rust = StandIn(
        name=q("rust:1.75"), aliases=(q(f"rust:1.75-{SUITE}"),),
        base=debian.name,
        script="set -eu\n" + _APT_INSTALL.format(pkgs="cargo rustc ca-certificates gcc libc6-dev")
        + "\ncargo --version\n",
        env=(("PATH", "/usr/local/cargo/bin:" + DEFAULT_PATH), ("CARGO_HOME", "/usr/local/cargo"),
             ("RUSTUP_HOME", "/usr/local/rustup")),
        cmd=("bash",))
    # distroless/static: no shell, no package manager; the files a static
    # binary needs (users, a writable /tmp, certificates' place) and user 65532
    distroless = StandIn(
        name="gcr.io/distroless/static-debian12:nonroot", aliases=("gcr.io/distroless/static-debian12:latest",),
        base=SCRATCH,
        files=(
            ("/etc/passwd", "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
                            "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n", "0644"),
            ("/etc/group", "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n", "0644"),
            ("/tmp/", "", "1777"), ("/home/nonroot/", "", "0700"), ("/etc/ssl/certs/", "", "0755"),
        ),
        env=(("PATH", DEFAULT_PATH), ("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")),
        user="65532", workdir="/home/nonroot")
    # a base image of a family dfix does not know (by name, and its RUNs use no
    # package manager): the slim Debian root under another name, without the
    # shadow tools (useradd, groupadd, adduser), as in a minimal in-house base
    baseos = StandIn(
        name=q("acme/baseos:1"), aliases=(q("acme/baseos:latest"),),
        base=debian_slim.name,
        script="set -eu\n"
               "rm -f /usr/sbin/useradd /usr/sbin/groupadd /usr/sbin/adduser /usr/sbin/addgroup "
               "/usr/sbin/newusers /usr/sbin/chpasswd\n"
               "! command -v useradd\n",
        env=(("PATH", DEFAULT_PATH),), cmd=("sh",))
    return [debian, debian_slim, python, python_full, node, golang, rust, distroless, baseos]


# --------------------------------------------------------------------------
# hashes and the rootfs cache


def cache_dir() -> Path:
    configured = os.environ.get("DFIX_STANDINS_CACHE")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "dfix-standins"


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()


DEBOOTSTRAP_ARGS = ("--variant=minbase", "--merged-usr", "--force-check-gpg")


def rootfs_key() -> str:
    # The mirror is not part of the key: any mirror gives the same packages.
    return _digest({"v": RECIPE_VERSION, "suite": SUITE, "args": DEBOOTSTRAP_ARGS})[:16]


def recipe_hashes(mirror: str, security_mirror: str) -> dict[str, str]:
    hashes: dict[str, str] = {}
    for recipe in recipes():
        parent = hashes.get(recipe.base, recipe.base) if recipe.base else rootfs_key()
        fields = dataclasses.asdict(recipe)
        fields.pop("aliases")
        hashes[recipe.name] = _digest({
            "v": RECIPE_VERSION, "recipe": fields, "parent": parent,
            "sources": debian_sources(mirror, security_mirror)})
    return hashes


def _log(msg: str) -> None:
    print(f"[standins] {msg}", file=sys.stderr, flush=True)


def rootfs_tarball(mirror: str) -> Path:
    """The cached tarball of a bare ``debootstrap --variant=minbase`` root."""
    directory = cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    tarball = directory / f"rootfs-{SUITE}-minbase-{rootfs_key()}.tar"
    if tarball.exists():
        return tarball
    debootstrap = shutil.which("debootstrap") or "/usr/sbin/debootstrap"
    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=directory, prefix="debootstrap-") as tmp:
        root = Path(tmp) / "root"
        log = Path(tmp) / "log"
        with open(log, "w") as out:
            proc = subprocess.run([debootstrap, *DEBOOTSTRAP_ARGS, SUITE, str(root), mirror],
                                  stdout=out, stderr=subprocess.STDOUT, timeout=900)
        if proc.returncode != 0:
            raise RuntimeError(f"debootstrap failed ({proc.returncode}):\n"
                               + log.read_text(errors="replace")[-4000:])
        _log(f"debootstrap {SUITE} from {mirror}: {time.monotonic() - started:.1f}s")
        partial = Path(tmp) / "rootfs.tar"
        subprocess.run(["tar", "--numeric-owner", "--xattrs", "-C", str(root), "-cf", str(partial),
                        "--exclude=./dev/*", "--exclude=./proc/*", "--exclude=./sys/*",
                        "--exclude=./var/lib/apt/lists/*", "--exclude=./var/cache/apt/*",
                        "--exclude=./debootstrap", "."], check=True)
        os.replace(partial, tarball)
    for stale in directory.glob(f"rootfs-{SUITE}-minbase-*.tar"):
        if stale != tarball:
            stale.unlink(missing_ok=True)
    return tarball


# --------------------------------------------------------------------------
# making images


@contextlib.contextmanager
def _lock() -> Iterator[None]:
    directory = cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def _container(image: str, name: str) -> Iterator[str]:
    buildah("rm", name, check=False)
    args = ["from", "--name", name, "--quiet"]
    if image != "scratch":
        args.append("--pull=never")
    ctr = buildah(*args, image).strip().splitlines()[-1]
    try:
        yield ctr
    finally:
        buildah("rm", ctr, check=False)


def _write_files(ctr: str, files: Sequence[tuple[str, str, str]], *, shell: bool = True) -> None:
    if not files:
        return
    if not shell:
        # an image without a shell (distroless): copy the files in from a folder
        with tempfile.TemporaryDirectory() as tmp:
            for path, content, mode in files:
                target = Path(tmp) / path.lstrip("/")
                if path.endswith("/"):
                    target.mkdir(parents=True, exist_ok=True)
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(content)
                target.chmod(int(mode, 8))
            buildah("copy", ctr, tmp, "/")
        return
    script = ["set -eu"]
    for path, content, mode in files:
        script.append(f"mkdir -p {shlex.quote(os.path.dirname(path))}")
        script.append(f"printf '%s' {shlex.quote(content)} > {shlex.quote(path)}")
        script.append(f"chmod {mode} {shlex.quote(path)}")
    _run(ctr, "\n".join(script))


def _run(ctr: str, script: str) -> str:
    return buildah("run", "--isolation", "chroot", "--env", "DEBIAN_FRONTEND=noninteractive",
                   ctr, "--", "/bin/sh", "-c", script)


def _configure(ctr: str, recipe: StandIn, recipe_hash: str) -> None:
    args = ["config"]
    env = list(recipe.env)
    for key, command in recipe.env_from:
        env.append((key, _run(ctr, command).strip()))
    for key, value in env:
        args += ["--env", f"{key}={value}"]
    if recipe.entrypoint is not None:
        args += ["--entrypoint", json.dumps(list(recipe.entrypoint))]
    if recipe.cmd is not None:
        args += ["--cmd", json.dumps(list(recipe.cmd))]
    if recipe.workdir is not None:
        args += ["--workingdir", recipe.workdir]
    if recipe.user is not None:
        args += ["--user", recipe.user]
    args += ["--label", f"{LABEL}={recipe_hash}", ctr]
    buildah(*args)


def _commit(ctr: str, recipe: StandIn, squash: bool) -> str:
    args = ["commit", "--quiet", "--format", "docker"]
    if squash:
        args.append("--squash")
    image_id = buildah(*args, ctr, recipe.name).strip().splitlines()[-1]
    for alias in recipe.aliases:
        buildah("tag", image_id, alias)
    return image_id


def _diff_ids(raw: dict[str, Any]) -> list[str]:
    return list(((raw.get("OCIv1") or {}).get("rootfs") or {}).get("diff_ids") or [])


def _current(recipe: StandIn, recipe_hash: str) -> str | None:
    """The image id when every name of the recipe is there with the right label
    and (for a derived one) on top of its parent's current layers."""
    ids = set()
    raw: dict[str, Any] | None = None
    for name in recipe.names:
        raw = inspect_raw(name)
        if raw is None:
            return None
        labels = ((raw.get("Docker") or {}).get("config") or {}).get("Labels") or \
            ((raw.get("OCIv1") or {}).get("config") or {}).get("Labels") or {}
        if labels.get(LABEL) != recipe_hash:
            return None
        ids.add(raw["FromImageID"])
    if len(ids) != 1 or raw is None:
        return None
    if recipe.base and recipe.base != SCRATCH:
        parent = inspect_raw(recipe.base)
        parent_layers = _diff_ids(parent) if parent else None
        if not parent_layers or _diff_ids(raw)[:len(parent_layers)] != parent_layers:
            return None
    return ids.pop()


@dataclasses.dataclass
class Result:
    name: str
    aliases: list[str]
    status: str          # "present" or "built"
    seconds: float
    image_id: str


def ensure(names: Sequence[str] | None = None, *, mirror: str | None = None,
           security_mirror: str | None = None, force: bool = False) -> list[Result]:
    """Make the named stand-ins (all when names is None) and their parents,
    skipping those already present with a matching recipe label.  With force,
    the named ones are made anew even when present (their parents are not)."""
    mirror = mirror or os.environ.get("DFIX_DEBIAN_MIRROR") or DEFAULT_MIRROR
    security_mirror = (security_mirror or os.environ.get("DFIX_DEBIAN_SECURITY_MIRROR")
                       or DEFAULT_SECURITY_MIRROR)
    all_recipes = recipes()
    by_name = {n: r for r in all_recipes for n in r.names}
    wanted: set[str] = set()
    forced: set[str] = set()   # force remakes the named ones, not their parents
    for name in names or [r.name for r in all_recipes]:
        recipe = by_name.get(qualify(name))
        if recipe is None:
            raise KeyError(f"no stand-in for {name}; known: "
                           + ", ".join(short(n) for r in all_recipes for n in r.names))
        if force:
            forced.add(recipe.name)
        while recipe is not None:
            wanted.add(recipe.name)
            recipe = by_name.get(recipe.base) if recipe.base else None
    hashes = recipe_hashes(mirror, security_mirror)
    results: list[Result] = []
    stale_ids: list[str] = []
    with _lock(), _removing(stale_ids):
        rootfs_done: dict[str, Result] = {}
        for recipe in all_recipes:
            if recipe.name not in wanted:
                continue
            if recipe.name in rootfs_done:
                results.append(rootfs_done[recipe.name])
                continue
            present = None if recipe.name in forced else _current(recipe, hashes[recipe.name])
            if present:
                results.append(Result(recipe.name, list(recipe.aliases), "present", 0.0, present))
                continue
            old = inspect_raw(recipe.name)
            if old and not _named_by_others(old["FromImageID"], recipe, all_recipes):
                stale_ids.append(old["FromImageID"])
            if recipe.base is None:
                for result in _make_debian(all_recipes, hashes, mirror, security_mirror, stale_ids):
                    rootfs_done[result.name] = result
                results.append(rootfs_done[recipe.name])
            else:
                results.append(_make_derived(recipe, hashes[recipe.name]))
    return results


def _named_by_others(image_id: str, recipe: StandIn, all_recipes: list[StandIn]) -> bool:
    """Whether another stand-in's name is on the image (a name that was an alias
    of another stand-in and is now one of its own, as python:3.11 was of
    python:3.11-slim): that image is not stale, only its name moves."""
    for other in all_recipes:
        if other is recipe or recipe.name in other.names:
            continue
        for name in other.names:
            raw = inspect_raw(name)
            if raw and raw["FromImageID"] == image_id:
                return True
    return False


@contextlib.contextmanager
def _removing(image_ids: list[str]) -> Iterator[None]:
    """Remove the replaced images at the end (they go only once no name is left)."""
    try:
        yield
    finally:
        for image_id in reversed(image_ids):
            buildah("rmi", image_id, check=False)


def _make_debian(all_recipes: list[StandIn], hashes: dict[str, str], mirror: str,
                 security_mirror: str, stale_ids: list[str]) -> list[Result]:
    """Both rootfs images from one unpacked minbase root: full, then slim."""
    tarball = rootfs_tarball(mirror)
    full = next(r for r in all_recipes if r.base is None and not r.slim)
    slim = next(r for r in all_recipes if r.base is None and r.slim)
    for recipe in (full, slim):
        old = inspect_raw(recipe.name)
        if old and old["FromImageID"] not in stale_ids:
            stale_ids.append(old["FromImageID"])
    results = []
    started = time.monotonic()
    with _container("scratch", "dfix-standin-debian") as ctr:
        buildah("add", ctr, str(tarball), "/")
        files = full.files + (("/etc/apt/sources.list.d/debian.sources",
                               debian_sources(mirror, security_mirror), "0644"),)
        _write_files(ctr, files)
        _run(ctr, full.script)
        _configure(ctr, full, hashes[full.name])
        full_id = _commit(ctr, full, squash=True)
        elapsed = time.monotonic() - started
        _log(f"{short(full.name)}: {elapsed:.1f}s")
        results.append(Result(full.name, list(full.aliases), "built", elapsed, full_id))
        started = time.monotonic()
        _write_files(ctr, _slim_files())
        _run(ctr, _slim_script())
        _configure(ctr, slim, hashes[slim.name])
        slim_id = _commit(ctr, slim, squash=True)
        elapsed = time.monotonic() - started
        _log(f"{short(slim.name)}: {elapsed:.1f}s")
        results.append(Result(slim.name, list(slim.aliases), "built", elapsed, slim_id))
    return results


def _make_derived(recipe: StandIn, recipe_hash: str) -> Result:
    assert recipe.base is not None
    started = time.monotonic()
    tag = short(recipe.name).replace(":", "-").replace("/", "-").replace(".", "")
    with _container(recipe.base, f"dfix-standin-{tag}") as ctr:
        _write_files(ctr, recipe.files, shell=recipe.base != SCRATCH)
        if recipe.script:
            _run(ctr, recipe.script)
        _configure(ctr, recipe, recipe_hash)
        image_id = _commit(ctr, recipe, squash=False)
    elapsed = time.monotonic() - started
    _log(f"{short(recipe.name)}: {elapsed:.1f}s")
    return Result(recipe.name, list(recipe.aliases), "built", elapsed, image_id)


def remove_all() -> None:
    for recipe in reversed(recipes()):
        for name in recipe.names:
            remove_image(name)


# --------------------------------------------------------------------------
# CLI


def _human(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.build_tier.standins",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="stand-ins to make (default: all)")
    parser.add_argument("--mirror", help=f"Debian mirror (default {DEFAULT_MIRROR})")
    parser.add_argument("--security-mirror", help=f"default {DEFAULT_SECURITY_MIRROR}")
    parser.add_argument("--force", action="store_true", help="rebuild even when present")
    parser.add_argument("--list", action="store_true", help="show the stand-ins and their state")
    parser.add_argument("--remove", action="store_true", help="remove the stand-ins")
    parser.add_argument("--install-tools", action="store_true",
                        help="apt-get install buildah and debootstrap when missing")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    parser.add_argument("--shell", action="store_true",
                        help="print the buildah command prefix to use in a shell")
    args = parser.parse_args(argv)
    if args.shell:
        print(shlex.join(buildah_cmd()))
        return 0

    if args.install_tools:
        install_tools()
    reason = available()
    if reason:
        print(f"cannot make stand-ins: {reason}", file=sys.stderr)
        return 2
    if args.remove:
        remove_all()
        return 0
    if args.list:
        hashes = recipe_hashes(args.mirror or os.environ.get("DFIX_DEBIAN_MIRROR") or DEFAULT_MIRROR,
                               args.security_mirror
                               or os.environ.get("DFIX_DEBIAN_SECURITY_MIRROR")
                               or DEFAULT_SECURITY_MIRROR)
        rows = []
        for recipe in recipes():
            info = image_info(recipe.name)
            state = "missing" if info is None else (
                "ok" if _current(recipe, hashes[recipe.name]) else "stale")
            rows.append({"name": short(recipe.name), "aliases": [short(a) for a in recipe.aliases],
                         "state": state, "size": info.size if info else None,
                         "layers": info.layers if info else None})
        if args.json:
            print(json.dumps(rows, indent=2))
        else:
            for row in rows:
                size = _human(row["size"]) if row["size"] is not None else "-"
                print(f"{row['name']:<26} {row['state']:<8} {size:>10} "
                      f"{row['layers'] or '-':>3} layers  aka {', '.join(row['aliases'])}")
        return 0
    started = time.monotonic()
    results = ensure(args.names or None, mirror=args.mirror,
                     security_mirror=args.security_mirror, force=args.force)
    if args.json:
        print(json.dumps([dataclasses.asdict(r) for r in results], indent=2))
    else:
        for r in results:
            print(f"{short(r.name):<26} {r.status:<8} {r.seconds:6.1f}s  {r.image_id[:12]}")
        print(f"total {time.monotonic() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
