"""A RUN downloads packages without a BuildKit cache mount: every build fetches them again.

## Why
Package managers keep what they download in a cache directory. In an image
that cache is dead weight, so Dockerfiles remove it (`rm -rf
/var/lib/apt/lists/*`, `--no-cache-dir`, `npm cache clean --force`) and
every build downloads everything again. A cache mount
(`RUN --mount=type=cache,target=...`) keeps the directory on the builder,
between builds, and out of the image.

## Example
    RUN pip install --no-cache-dir -r requirements.txt

becomes

    RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt

## Fix
Unsafe, off by default: cache mounts need BuildKit (Docker's builder since
23.0; no `# syntax` line needed), and the caches leave the image. The mounts
go after the RUN's own flags, and the cleanup they make useless goes: pip's
`--no-cache-dir`, apk's `--no-cache`, `apt-get clean`, `dnf`/`yum clean`,
`npm`/`yarn cache clean`, `pip cache purge`, `pnpm store prune`, `go clean
-modcache`/`-cache` (which would fail on the mount point), `rm` of what is
in a mount. Where root keeps the caches:

- apt: `/var/cache/apt` and `/var/lib/apt/lists`, `sharing=locked`. Not all
  of `/var/lib/apt` as Docker's docs do: its `extended_states` (which
  packages came as dependencies) is the image's. The first such RUN of a
  stage starts by turning off the `docker-clean` hook, which deletes
  downloaded packages (as Docker's docs show, but in the RUN: no new
  layer). That stays in the image: a later apt RUN without a cache mount
  keeps its packages in its layer.
- apk: `/etc/apk/cache`, `sharing=locked` (apk caches packages there only).
  `--no-cache` goes; with no `apk update` before it, it becomes
  `--update-cache`, so the index is as fresh as before.
- dnf, yum: `/var/cache/dnf`, `/var/cache/yum`, `sharing=locked`.
- pip `/root/.cache/pip`; npm `/root/.npm`; yarn classic
  `/usr/local/share/.cache/yarn`; pnpm `$PNPM_HOME/store` or
  `/root/.local/share/pnpm/store`; Go `$GOPATH/pkg/mod` (`/go/pkg/mod` on
  golang images) and `/root/.cache/go-build`; Maven `/root/.m2/repository`
  (a `settings.xml` beside it stays seen); Cargo `$CARGO_HOME/registry`
  and `$CARGO_HOME/git/db`, never `target/`.

hadolint still asks for apk's `--no-cache` (DL3019 exempts `/var/cache/apk`
mounts only) and for `dnf`/`yum clean all` (DL3040, DL3032); dfix's own
rules report those RUNs as not fixed.

Left alone: tools whose cache a mount already serves, or that the RUN or an
ENV moves or turns off (`PIP_NO_CACHE_DIR`, `--cache-dir` ...); exec-form
and ONBUILD RUNs; Windows stages and shells that are not POSIX. Reported,
not fixed: heredocs, shell text dfix cannot read; a RUN run by a user other
than root (its caches are in its home, and a mount is root's unless
`uid`/`gid` say otherwise: dfix does not guess them); apt without `apt-get
update`, or whose lists a later RUN installs from; a cache that a later
`COPY --from` copies, or that Go, Maven or Cargo need when the image
starts; an `rm` of a directory above a mount point, which would fail.
"""

from __future__ import annotations

import re
from typing import Iterator

from dfix.cst import nodes as n
from dfix.cst.base import Whitespace
from dfix.cst.visit import replace_nodes, walk
from dfix.rules._api import Applicability, Context, Diagnostic, Fix, FixAvailability, Rule
from dfix.rules._images import image_of
from dfix.rules._packages import APT, is_apt_install, is_apt_update
from dfix.rules._run_scripts import RunScript
from dfix.rules._runs import cache_mount_overlaps, removable, removal_of, removed_path, with_flags
from dfix.rules._stages import Stage, ancestry, env_before
from dfix.rules._users import is_root, user_at
from dfix.rules._workdir import on_windows
from dfix.shell import edit
from dfix.shell.commands import Invocation, invocation
from dfix.shell.nodes import Operator, Pipeline, Script, SimpleCommand, Word, logical

MESSAGE = "The RUN downloads with {} without a cache mount: every build fetches again"
_HOOK = ("rm -f /etc/apt/apt.conf.d/docker-clean",
         "echo 'Binary::apt::APT::Keep-Downloaded-Packages \"true\";' > /etc/apt/apt.conf.d/keep-cache")
# the tools whose cache must be used by one RUN at a time
_LOCKED = {"apt", "apk", "dnf", "yum"}
# what moves a tool's cache or turns it off, in the RUN or an ENV: then the author chose
_OVERRIDES = {
    "apt": ("Dir::Cache", "Dir::State"), "apk": ("--cache-dir",), "dnf": ("cachedir",), "yum": ("cachedir",),
    "pip": ("PIP_NO_CACHE_DIR", "PIP_CACHE_DIR", "--cache-dir", "XDG_CACHE_HOME"),
    "npm": ("npm_config_cache", "NPM_CONFIG_CACHE", "--cache ", "--cache="),
    "yarn": ("YARN_CACHE_FOLDER", "--cache-folder"), "pnpm": ("store-dir", "store_dir", "XDG_DATA_HOME"),
    "go-mod": (), "go-build": ("XDG_CACHE_HOME",), "maven": ("maven.repo.local",), "cargo": (),
}
# where the RUN itself sets a cache's place: an ENV's value dfix reads, the RUN's it does not
_PLACES = {"go-mod": ("GOMODCACHE", "GOPATH"), "go-build": ("GOCACHE",), "cargo": ("CARGO_HOME",), "pnpm": ("PNPM_HOME",)}
_NPM = {"install", "i", "in", "ins", "inst", "insta", "instal", "isnt", "isnta", "isntal", "isntall", "add", "ci",
        "clean-install", "ic", "install-clean", "isntall-clean"}
_GO = {"build", "install", "test", "run", "get", "vet", "generate"}
_CARGO = {"build", "b", "install", "fetch", "test", "t", "run", "r", "check", "c", "clippy", "doc", "d", "vendor",
          "update", "generate-lockfile", "bench"}
# the flags that turn a cache off, which a mount makes useless (pip takes any unambiguous prefix)
_NO_CACHE = {"pip": {"--no-cache", "--no-cache-", "--no-cache-d", "--no-cache-di", "--no-cache-dir"}, "apk": {"--no-cache"}}
# the tools whose cache the program needs at run time when the image starts it
_AT_START = {"go-mod": "go", "maven": "mvnw?", "cargo": "cargo"}


def _sub(call: Invocation) -> str:
    word = call.subcommand()
    return (word.value or "") if word is not None else ""


def _pip(call: Invocation) -> bool:
    """pip, pip3 or `python -m pip` (not pipx, pipenv)."""
    values = [w.value for w in call.arguments]
    return (call.name.startswith("pip") and "pipx" not in call.name and "pipenv" not in call.name) or (
        call.name.startswith("python") and values[:2] == ["-m", "pip"])


def _tools_of(call: Invocation) -> tuple[str, ...]:
    """The caches a command downloads into."""
    name, sub = call.name, _sub(call)
    values = [w.value for w in call.arguments]
    if name in APT and (is_apt_install(call) or is_apt_update(call)):
        return ("apt",)
    found = {
        "apk": name == "apk" and ("add" in values or "upgrade" in values),
        "dnf": name == "dnf" and sub in ("install", "in", "reinstall", "upgrade", "up", "update", "makecache"),
        "yum": name == "yum" and sub in ("install", "groupinstall", "localinstall", "update", "upgrade", "makecache"),
        "pip": _pip(call) and any(v in ("install", "download", "wheel") for v in values),
        "npm": name == "npm" and sub in _NPM, "pnpm": name == "pnpm" and sub in ("install", "i", "add", "fetch"),
        "yarn": name == "yarn" and sub in ("", "install", "add"),
        "maven": name in ("mvn", "mvnw"), "cargo": name == "cargo" and sub in _CARGO,
    }
    if name == "go" and (sub in _GO or (sub == "mod" and "download" in values)):
        return ("go-mod",) if sub == "mod" else ("go-mod", "go-build")
    return tuple(tool for tool, used in found.items() if used)


def _targets(tool: str, env: dict[str, str], image: str) -> tuple[str, ...] | None:
    """Where the tool keeps its cache when root runs it; None when an ENV
    points it somewhere dfix cannot read."""
    def home(key: str, default: str) -> str | None:
        value = env.get(key, default).split(":")[0]
        return value.rstrip("/") if value.startswith("/") and "$" not in value else None

    gopath = home("GOPATH", "/go" if re.search(r"(^|/)golang(:|@|$)", image) else "/root/go")
    cargo = home("CARGO_HOME", "/usr/local/cargo" if re.search(r"(^|/)rust(:|@|$)", image) else "/root/.cargo")
    pnpm = home("PNPM_HOME", "/root/.local/share/pnpm")
    paths = {
        "apt": ("/var/cache/apt", "/var/lib/apt/lists"), "apk": ("/etc/apk/cache",), "dnf": ("/var/cache/dnf",),
        "yum": ("/var/cache/yum",), "pip": ("/root/.cache/pip",), "npm": ("/root/.npm",),
        "yarn": ("/usr/local/share/.cache/yarn",), "pnpm": pnpm and (f"{pnpm}/store",),
        "go-mod": gopath and (home("GOMODCACHE", f"{gopath}/pkg/mod"),), "go-build": (home("GOCACHE", "/root/.cache/go-build"),),
        "maven": ("/root/.m2/repository",), "cargo": cargo and (f"{cargo}/registry", f"{cargo}/git/db"),
    }[tool]
    return paths if paths and all(paths) else None


def check(ctx: Context) -> Iterator[Diagnostic]:
    hook_off: set[int] = set()  # the stages (by FROM) where an earlier fixed RUN turns the apt hook off
    for body in ctx.run_scripts(onbuild=False):
        wanted = _wanted(ctx, body)
        if not wanted or on_windows(ctx.tree, body.stage):
            continue
        names = sorted({tool.partition("-")[0] for tool in wanted})
        message = MESSAGE.format(" and ".join(names))
        reason = _why_not(ctx, body, wanted)
        script = None if reason else _cleaned(body, wanted)
        if isinstance(script, str):
            reason, script = script, None
        if reason or script is None:
            yield ctx.decline(body.run, message, reason)
            continue
        chain = {id(stage.from_) for stage in ancestry(ctx.tree, body.stage)}
        hook = "apt" in wanted and not chain & hook_off and not _hook_turned_off(ctx, body)
        if hook and not ctx.suppressions.silences(ctx.rule.id, ctx.rule.name, body.instruction.start_line):
            hook_off.add(id(body.stage.from_))
        mounts = [f"--mount=type=cache,target={t}" + (",sharing=locked" if tool in _LOCKED else "")
                  for tool, targets in wanted.items() for t in targets]
        new = _new_run(ctx, body, script, mounts, hook)
        yield ctx.report(body.run, message, Fix.replace(body.run, new, "Add cache mounts", Applicability.UNSAFE))


def _wanted(ctx: Context, body: RunScript) -> dict[str, tuple[str, ...]]:
    """The tools the RUN downloads with, and their caches, that need a mount."""
    tools = list(dict.fromkeys(tool for call in body.invocations() for tool in _tools_of(call)))
    if not tools:
        return {}
    env = env_before(ctx.tree, body.stage, body.instruction)
    settings = body.script.value + " " + " ".join(f"{k}={v}" for k, v in env.items())
    image = image_of(ctx.tree, ancestry(ctx.tree, body.stage)[-1]).lower()
    wanted = {}
    for tool in tools:
        targets = _targets(tool, env, image)
        if targets is None or any(token in settings for token in _OVERRIDES[tool]):
            continue
        if any(place in body.script.value for place in _PLACES.get(tool, ())):
            continue
        if not any(cache_mount_overlaps(body.run, t, ("cache", "tmpfs", "bind")) for t in targets):
            wanted[tool] = targets
    return wanted


def _why_not(ctx: Context, body: RunScript, wanted: dict[str, tuple[str, ...]]) -> str:
    if body.in_heredoc or body.run.heredocs:
        return "the commands are in a heredoc" if body.in_heredoc else "dfix does not edit around heredoc bodies"
    if body.script.is_opaque:
        return "the shell text is opaque to dfix"
    user = user_at(ctx.tree, body.stage, body.instruction)
    if user is not None and not is_root(user):
        return f"the RUN runs as {user or 'an unknown user'}, not root: dfix does not guess its cache paths, uid and gid"
    calls = body.invocations()
    if "apt" in wanted and not any(is_apt_update(call) for call in calls):
        return "apt installs without `apt-get update`: it would find no lists in the mount"
    for each in _later(ctx, body):
        if "apt" in wanted and isinstance(each, n.Run) and isinstance(each.body, n.ShellForm):
            each_calls = each.body.script.invocations
            if any(is_apt_install(c) for c in each_calls) and not any(is_apt_update(c) for c in each_calls):
                return "a later RUN installs with apt from the lists this RUN leaves in the image"
        if isinstance(each, (n.Cmd, n.Entrypoint)) and each.body is not None:
            text = each.body.code
            for tool, program in _AT_START.items():
                if tool in wanted and re.search(rf"(?<![\w/.-]){program}(?![\w.-])", text):
                    return f"the image runs {program.rstrip('w?')} when it starts, which needs its cache in the image"
    targets = [t for targets in wanted.values() for t in targets]
    for copy in _copies_from(ctx, body.stage):
        for source in copy.values[:-1]:
            if any(removal_of(source, t) for t in targets):
                return f"a later COPY --from copies {source} out of this stage"
    return ""


def _later(ctx: Context, body: RunScript) -> Iterator[n.Instruction]:
    """The instructions after the RUN in its stage and in the stages built FROM it."""
    for stage in _built_from(ctx, body.stage):
        yield from stage.instructions[(stage.index(body.instruction) or -1) + 1:]


def _built_from(ctx: Context, stage: Stage) -> list[Stage]:
    """The stage and the stages built FROM it, by name, at any depth."""
    return [each for each in ctx.stages if any(a.from_ is stage.from_ for a in ancestry(ctx.tree, each))]


def _copies_from(ctx: Context, stage: Stage) -> Iterator[n.Copy]:
    """The COPY --from instructions that copy out of the stage (or one built FROM it), by name or index."""
    index = {id(each.from_): str(i) for i, each in enumerate(s for s in ctx.stages if s.from_ is not None)}
    names = {name for each in _built_from(ctx, stage) for name in ((each.name or "").lower(), index[id(each.from_)])}
    for instruction in ctx.tree.instructions:
        flag = instruction.flag("from") if isinstance(instruction, n.Copy) else None
        if flag is not None and (flag.value or "").lower() in names - {""}:
            yield instruction


def _hook_turned_off(ctx: Context, body: RunScript) -> bool:
    """Whether an earlier RUN of the stage, or of those it is built FROM, or this one, turns docker-clean off."""
    for index, stage in enumerate(ancestry(ctx.tree, body.stage)):
        for instruction in stage.instructions:
            if isinstance(n.unwrapped(instruction), n.Run) and "docker-clean" in instruction.code:
                return True
            if index == 0 and instruction is body.instruction:
                break
    return False


def _cleanup(call: Invocation, wanted: dict[str, tuple[str, ...]]) -> bool:
    """A command that only empties a cache the RUN now mounts."""
    name, sub = call.name, _sub(call)
    values = [w.value for w in call.arguments]
    if name == "go" and sub == "clean":
        flags = {v for v in values if v != "clean"}
        needs = {"-modcache": "go-mod", "-cache": "go-build", "-testcache": "go-build", "-fuzzcache": "go-build"}
        return bool(flags) and all(needs.get(v) in wanted for v in flags)
    return (
        ("apt" in wanted and name in APT and sub in ("clean", "dist-clean"))
        or (name in ("dnf", "yum") and name in wanted and sub == "clean")
        or ("pip" in wanted and _pip(call) and "cache" in values and ("purge" in values or "remove" in values))
        or (name in ("npm", "yarn") and name in wanted and sub == "cache" and "clean" in values)
        or ("pnpm" in wanted and name == "pnpm" and sub == "store" and "prune" in values)
    )


def _cleaned(body: RunScript, wanted: dict[str, tuple[str, ...]]) -> Script | str:
    """The script without the cleanup the mounts make useless, or why dfix cannot make it."""
    script = body.script
    targets = [t for targets in wanted.values() for t in targets]
    words: dict[int, tuple[SimpleCommand, ...]] = {}
    drop: list[Pipeline] = []
    updated = False  # an `apk update` came before: the index is fresh
    for call in body.invocations():
        command, top = call.command, body.top_level_of(call.command)
        alone = top is not None and top.parts == (command,) and removable(script, top)
        if _cleanup(call, wanted) and alone:
            drop.append(top)
            continue
        if call.name == "go" and "go-mod" in wanted and "-modcache" in [w.value for w in call.arguments]:
            return "`go clean -modcache` would fail on the mounted module cache, and cannot go"
        if _cleanup(call, wanted):
            continue
        if call.name == "rm":
            paths = [(w, removed_path(w)) for w in call.arguments if not (w.value or "x").startswith("-")]
            relations = [[removal_of(p, t) for t in targets] if p else [] for _, p in paths]
            held = next((p for (_, p), r in zip(paths, relations) if "above" in r), None)
            if held is not None:
                return f"`rm` of {held} would remove a directory above a cache mount point, and fail"
            inside = [w for (w, _), r in zip(paths, relations) if "in" in r]
            if inside and len(inside) == len(paths):
                if alone:
                    drop.append(top)
                elif any(p.rstrip("/") in targets for _, p in paths):
                    return "an `rm` of a cache mount point would fail, and dfix cannot remove it here"
            elif inside:
                kept = tuple(part for part in command.parts if not any(part is w for w in inside))
                words[id(command)] = (command.with_changes(parts=kept),)
            continue
        updated = updated or (call.name == "apk" and "update" in [w.value for w in call.arguments])
        tool = "pip" if _pip(call) else call.name
        if tool in _NO_CACHE and tool in wanted and any(w.value in _NO_CACHE[tool] for w in call.arguments):
            # without --no-cache apk reads the index in the cache: --update-cache keeps it as fresh as before
            fresh = tool == "apk" and not updated and not call.has_option("--update-cache", "-U", "--update")
            parts = []
            for part in command.parts:
                if isinstance(part, Word) and part.value in _NO_CACHE[tool]:
                    part = Word(part.whitespace_before, ("--update-cache",)) if fresh else None
                if part is not None:
                    parts.append(part)
            words[id(command)] = (command.with_changes(parts=tuple(parts)),)
    for pipeline in drop:
        if not removable(script, pipeline):  # the pipelines around it went too
            return f"dfix cannot remove `{logical(pipeline, compact=True).strip()}` here"
        script = edit.remove_pipeline(script, pipeline)
    return replace_nodes(script, words) if words else script


def _new_run(ctx: Context, body: RunScript, script: Script, mounts: list[str], hook: bool) -> n.Run:
    """The RUN with the mounts after its flags and the hook turned off: on
    its one line when that fits the file's longest line, else a flag a line."""
    run = body.run
    if "\n" not in run.with_changes(heredocs=(), newline="").code:
        candidate = with_flags(run.with_changes(body=run.body.with_changes(script=_hooked(script, hook, None))), mounts, None)
        if len(candidate.with_changes(newline="").code) <= edit.line_limit(ctx.text):
            return candidate
    layout = edit.file_layout(ctx.tree, ctx.newline, prefer=body.script)
    return with_flags(run.with_changes(body=run.body.with_changes(script=_hooked(script, hook, layout))), mounts, layout)


def _hooked(script: Script, hook: bool, layout: edit.Layout | None) -> Script:
    """With ``hook``, the docker-clean hook turned off before the first apt
    command (at the start when what joins it is not `&&`, `;` or a newline)."""
    if not hook:
        return script
    parts = script.body.parts
    index = next(i for i, p in enumerate(parts) if isinstance(p, Pipeline) and _runs_apt(p))
    if index and not (isinstance(parts[index - 1], Operator) and parts[index - 1].value in ("&&", ";", "\n")):
        index = 0
    operator = ";" if edit.joins_with_semicolons_under_set_e(script) else "&&"
    if layout is not None:
        spaces = layout.break_before() if operator == "&&" else layout.break_after_semicolon()
    else:
        spaces = edit.ONE_LINE if operator == "&&" else (Whitespace(), Whitespace((" ",)))
    return edit.insert_before(script, parts[index], _HOOK, spaces, operator)


def _runs_apt(pipeline: Pipeline) -> bool:
    return any(isinstance(node, SimpleCommand) and (call := invocation(node)) is not None and call.name in APT
               for node in walk(pipeline))


RULE = Rule("DF111", "cache-mounts", "Package downloads without a BuildKit cache mount", check, __doc__,
            fix=FixAvailability.UNSAFE, default=False)
