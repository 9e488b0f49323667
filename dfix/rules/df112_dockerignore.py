"""`COPY .` sends the whole build context, and there is no `.dockerignore`.

## Why
Everything in the context folder goes to the builder and, with `COPY . .`,
into the image: the `.git` history, a local `node_modules` or virtualenv
(built for another system), caches, logs, `.env` files and keys. Builds
are slower (a larger context to send, a layer that changes with every
commit) and images larger and less safe. A `.dockerignore` keeps them out.

## Example
A context holding `.git`, `node_modules`, `app.js`, `package.json` and
`.env`, built by

    COPY . .
    RUN npm ci

gets a new `.dockerignore`:

    # Created by dfix (DF112): what the build does not need. Review it.
    .git
    **/node_modules
    .env
    .env.*

## Fix
Safe: a new file, never one that replaces another; `--diff` shows it as a
new file (`--- /dev/null`), `--write` creates it, `--check` counts it. It
lists only what the context holds, and never a path a COPY or ADD names or
the Dockerfile mentions:

- version control folders (`.git`, `.hg`, `.svn`), editor folders, `.DS_Store`;
- `node_modules` (when the Dockerfile installs Node packages itself),
  `__pycache__` and `*.pyc` (for Python sources), virtualenvs (a folder
  with a `pyvenv.cfg`), tool caches (`.pytest_cache`, `.mypy_cache`, `.tox`);
- `dist`, `target`, `build`, `out` when the Dockerfile runs a build of its
  own and does not mention them;
- logs (`*.log`), `.env` files (`.env.example` and its kind kept), keys and
  certificates (`*.pem`, `*.key`, `id_rsa`, ...), `.aws` and `.ssh`.

Other Dockerfiles in the context folder are read too: nothing they COPY or
mention is left out. Declined (reported, not fixed) when more than 8 of
them share the folder or one does not parse. Nothing is reported when the
context holds nothing to leave out, when `<Dockerfile>.dockerignore` or
`.dockerignore` exists, or without a build context (the Dockerfile's folder,
`--context` or the `context` setting): dfix cannot see what it would hold.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import re
from typing import Iterator

from dfix.cst import nodes as n
from dfix.build_context import DOCKERIGNORE, BuildContext
from dfix.files import is_dockerfile_name
from dfix.rules._api import Context, Diagnostic, Fix, Rule
from dfix.rules._copies import ContextCopy, context_copies

MESSAGE = "`COPY .` sends the whole build context, and it has no .dockerignore"
#: more Dockerfiles than this in the context folder: a shared folder, not a project
MAX_DOCKERFILES = 8
_HEADER = "# Created by dfix (DF112): what the build does not need. Review it."
_VCS = (".git", ".hg", ".svn")
_EDITORS = (".idea", ".vscode")
_TOOL_CACHES = (".pytest_cache", ".mypy_cache", ".ruff_cache", ".tox", ".nox", ".coverage", "htmlcov")
_BUILD_OUTPUT = ("dist", "target", "build", "out")
_KEYS = ("*.pem", "*.key", "*.p12", "*.pfx", "id_rsa", "id_rsa.pub", "id_ed25519", "id_ed25519.pub", ".aws", ".ssh")
_ENV_KEPT = (".env.example", ".env.sample", ".env.template", ".env.dist")
_VCS_VERSIONS = re.compile(r"setuptools[_-]scm|hatch-vcs|versioneer|dunamai|pbr\b")
_NODE = frozenset(("npm", "yarn", "pnpm"))
_NODE_INSTALLS = frozenset(("install", "i", "ci", "add", "clean-install"))
_BUILDS = re.compile(
    r"\b(?:cargo\s+build|go\s+build|mvnw?\s|gradlew?\s|(?:npm|yarn|pnpm)\s+(?:run\s+)?build|tsc\b|"
    r"python[\d.]*\s+-m\s+build|setup\.py|dotnet\s+(?:build|publish)|make\b)"
)


def check(ctx: Context) -> Iterator[Diagnostic]:
    whole = [copy for copy in context_copies(ctx.stages) if copy.whole]
    build = ctx.build_context
    if not whole or not build.available or build.dockerignore_path is not None:
        return
    others, reason = _other_dockerfiles(build)
    if reason:
        yield ctx.decline(whole[0].instruction, MESSAGE, reason)
        return
    texts = [_instructions_text(ctx.tree), *(text for text, _ in others)]
    sources = [s for copy in context_copies(ctx.stages) for s in copy.sources]
    sources += [s for _, copies in others for copy in copies for s in copy.sources]
    groups = _groups(ctx, build, texts, sources)
    if not groups:
        return
    text = "\n".join([_HEADER, *(line for group in groups for line in ("", *group))]) + "\n"
    kept_out = ", ".join(line for group in groups for line in group if not line.startswith(("#", "!")))
    fix = Fix.create(os.path.join(build.root or "", DOCKERIGNORE), text, f"Create a .dockerignore ({kept_out})")
    yield ctx.report(whole[0].instruction, MESSAGE, fix)


def _other_dockerfiles(build: BuildContext) -> tuple[list[tuple[str, list[ContextCopy]]], str]:
    """The other Dockerfiles in the context folder, with what they COPY; or why not."""
    from dfix.cst.build import parse
    from dfix.errors import ParseError
    from dfix.rules._stages import stages

    own = os.path.basename(build.dockerfile or "")
    names = [name for name in _dockerfile_names(build.listdir()) if name != own]
    if len(names) > MAX_DOCKERFILES:
        return [], f"the context folder holds {len(names):,} other Dockerfiles"
    out = []
    for name in names:
        text = build.read(name)
        if text is None:
            continue  # a folder or an unreadable file: no Dockerfile of a build
        try:
            tree = parse(text)
        except ParseError:
            return [], f"{name}, in the same context, does not parse"
        out.append((_instructions_text(tree), list(context_copies(stages(tree)))))
    return out, ""


@functools.lru_cache(maxsize=16)
def _dockerfile_names(names: tuple[str, ...]) -> tuple[str, ...]:
    """The Dockerfile names in a folder listing (the same listing for every
    Dockerfile of a folder: computed once)."""
    return tuple(name for name in names if is_dockerfile_name(name))


def _instructions_text(tree: n.Dockerfile) -> str:
    """What a Dockerfile's instructions say, comments left out: a comment
    that mentions `.git` is no reason to keep it."""
    return "".join(instruction.code for instruction in tree.instructions)


def _groups(ctx: Context, build: BuildContext, texts: list[str], sources: list[str]) -> list[list[str]]:
    """The lines to write, in groups: only what the context holds, nothing
    the Dockerfiles mention or COPY."""
    from dfix import dockerignore

    names = set(build.listdir())
    mentioned = "\n".join(texts)

    def present(*candidates: str) -> list[str]:
        return [c for c in candidates if any(_matches(c, name) for name in names)]

    def free(pattern: str) -> bool:
        """Nothing mentions it, and it excludes no source."""
        word = pattern.strip("*/").split("*")[0].strip(".") or pattern
        if re.search(r"(?<![\w-])\.?" + re.escape(word) + r"(?![\w-])", mentioned):
            return False
        patterns = dockerignore.parse(pattern)
        return not any(patterns.excludes(source) for source in sources if source not in (".", "./", "/", "*"))

    commands = [command for command, _ in ctx.commands]
    node = "node_modules" in names and any(
        command.name in _NODE and (not command.arguments or command.arguments[0].value in _NODE_INSTALLS)
        for command in commands
    )
    python = any(name.endswith(".py") or name in ("requirements.txt", "pyproject.toml", "setup.py") for name in names)
    venvs = [name for name in sorted(names) if build.exists(f"{name}/pyvenv.cfg")]
    builds = any(_BUILDS.search(text) for text in texts)
    # a version taken from the history (setuptools-scm, hatch-vcs, ...) needs .git in the build
    versioned = any(_VCS_VERSIONS.search(build.read(name) or "") for name in ("pyproject.toml", "setup.py", "setup.cfg"))
    env = [name for name in names if (name == ".env" or name.startswith(".env.")) and name not in _ENV_KEPT]
    groups = [
        ["# version control and editors", *present(*(() if versioned else _VCS), *_EDITORS), *(["**/.DS_Store"] if ".DS_Store" in names else [])],
        ["# dependencies the build installs itself", *(["**/node_modules"] if node else []), *venvs],
        ["# caches and build output", *(["**/__pycache__", "**/*.py[cod]"] if python else []),
         *present(*_TOOL_CACHES), *(present(*_BUILD_OUTPUT) if builds else [])],
        ["# logs, secrets and keys", *present("*.log"), *([".env", ".env.*"] if env else []),
         *(f"!{name}" for name in _ENV_KEPT if name in names and env), *present(*_KEYS)],
    ]
    out = []
    for comment, *lines in groups:
        kept = [line for line in lines if line.startswith("!") or free(line)]
        if any(not line.startswith("!") for line in kept):
            out.append([comment, *kept])
    return out


def _matches(pattern: str, name: str) -> bool:
    return fnmatch.fnmatchcase(name, pattern)


RULE = Rule("DF112", "dockerignore", "`COPY .` sends the whole build context, and it has no .dockerignore", check,
            __doc__)
