"""The image runs as root: switch to an unprivileged user.

## Why
A container's process runs as the image's last USER, root when there is
none. Root in a container is root on the files it can reach, and one kernel
bug away from root on the host: every bug in the application becomes a root
compromise. An unprivileged user costs nothing at run time.

dfix reports the final stage (the image) when its last USER is root or 0,
like hadolint, and also when no USER is set at all and the stage defines a
CMD or ENTRYPOINT, or is a scratch image given no shell (no busybox, no root
file system ADDed): nothing built FROM it can RUN, so a USER breaks no later
build. Any other file without CMD or ENTRYPOINT is left alone: most build a
base image for others (the official images, CI and development images), whose
RUNs would fail as an unprivileged user, and nothing in a file tells such a
base apart from an application started with a command of its own.

Build stages are not reported: their user never runs the image. Images
known to run as a non-root user already (`:nonroot` tags, `-unprivileged`,
bitnami) are not reported either.

## Example
    FROM python:3.12-slim
    WORKDIR /app
    COPY . .
    CMD ["python", "app.py"]

becomes

    FROM python:3.12-slim
    WORKDIR /app
    COPY . .
    RUN groupadd --system --gid 10001 app \\
        && useradd --system --uid 10001 --gid app --no-log-init --home-dir /nonexistent --shell /usr/sbin/nologin app \\
        && chown 10001:10001 /app
    USER 10001:10001
    CMD ["python", "app.py"]

## Fix
Unsafe: the program may need root (to bind a port below 1024, to write
where only root can), so review it. The USER goes after the last
instruction that builds (RUN, COPY, ADD, WORKDIR), before the CMD or
ENTRYPOINT. Which user:

- a non-root user an earlier USER switched to (`USER jenkins` ... `USER root`): back to it;
- a user the stages create (`useradd app`, `adduser -S app`): that one;
- node images: their `node` user (UID 1000);
- otherwise a system user and group `app`, UID and GID 10001, no login shell
  and no home, made the way the base image's family makes users: `groupadd`
  and `useradd` on Debian, Ubuntu and RHEL-like images, `addgroup -S` and
  `adduser -S -D -H` on Alpine and BusyBox;
- where no such tool is sure to be there (the minimal RHEL-like images and
  Amazon Linux, which lack `useradd`; SUSE; a family dfix does not know, when
  a shell-form RUN of the stage ran in `/bin/sh` and nothing says Windows):
  the user and group written to `/etc/passwd` and `/etc/group` with `echo`,
  which works on every Linux and installs nothing;
- distroless and scratch images have no shell to create users with: their
  conventional `nonroot` UID and GID, 65532.

The USER is numeric where dfix knows the UID, so that Kubernetes'
`runAsNonRoot` can check it (and hadolint's DL3066 has nothing to say).
Copied files stay root's and readable; the working directory and VOLUME
directories the stage uses are given to the new user (not recursively, so
no layer copies the files), so that the program can write there as it did.

Declined: an unknown base image family with no RUN that shows a POSIX
shell (no guess: add a user yourself), images whose entrypoint starts as
root and drops privileges itself (nginx, httpd, postgres, mysql, redis ...),
programs that start as root (sshd, supervisord, cron, an init ...), a stage
whose SHELL is not a POSIX shell, and a working directory under /root (the
new user could not read it).
Windows images are not reported.
"""

from __future__ import annotations

import re
from typing import Iterator, Sequence

from dfix.cst import nodes as n
from dfix.images import DISTROLESS, SCRATCH, WINDOWS
from dfix.rules._api import Applicability, Context, Diagnostic, Fix, FixAvailability, Rule
from dfix.rules._images import family, image_of
from dfix.rules._new_lines import insertion_point, instructions_from_text, keyword_like, with_line_end
from dfix.rules._stages import Stage, ancestry, shell_at
from dfix.rules._users import UID_GID, create_user, is_root
from dfix.shell.commands import POSIX_SHELLS, invocations
from dfix.shell.edit import file_layout

NONROOT_UID = "65532"
# Images that run as a non-root user unless told otherwise.
_NON_ROOT_IMAGES = re.compile(r":nonroot\b|-nonroot\b|unprivileged|rootless|(^|/)bitnami/")
# Official images whose entrypoint starts as root and steps down to its own
# user (gosu, su-exec, or the server's worker processes).
_DROP_PRIVILEGES = re.compile(
    r"(^|/)(nginx|httpd|postgres|postgis/postgis|mysql|mariadb|redis|mongo|rabbitmq|cassandra|couchdb|"
    r"elasticsearch|memcached|wordpress|drupal|php:[^@]*apache|php:[^@]*fpm|influxdb|zookeeper|solr)(:|@|$)"
)
# Programs that start as root: service managers, and servers that bind
# privileged ports or switch to their own user.
_NEEDS_ROOT = frozenset((
    "sshd", "supervisord", "cron", "crond", "init", "systemd", "nginx", "apache2", "apache2ctl", "apachectl",
    "httpd", "dockerd", "rsyslogd", "service", "runsvdir", "s6-svscan", "openrc", "squid", "named", "postfix",
    "dnsmasq", "haproxy", "gosu", "su-exec", "setpriv",
))
# Images that ship an unprivileged user to run as, by UID: `node` and
# `jenkins` are 1000:1000 in their official images.
_IMAGE_USERS = ((re.compile(r"(^|/)node(:|@|$)"), "1000:1000"), (re.compile(r"(^|/)jenkins/(jenkins|agent)(:|@|$)"), "1000:1000"))
# Directories that belong to the system: never given to the new user.
_SYSTEM_DIRS = frozenset((
    "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib64", "/opt", "/proc", "/run", "/sbin", "/srv",
    "/sys", "/tmp", "/usr", "/usr/bin", "/usr/lib", "/usr/local", "/usr/local/bin", "/usr/local/lib",
    "/usr/sbin", "/usr/share", "/usr/src", "/var", "/var/lib", "/var/log", "/var/tmp",
))
_ADDUSER_VALUES = frozenset((
    "-h", "-g", "-s", "-G", "-u", "-k", "--home", "--shell", "--uid", "--gid", "--gecos", "--ingroup",
    "--firstuid", "--lastuid", "--conf", "--comment", "--add_extra_groups",
))
_USERADD_VALUES = frozenset((
    "-b", "-c", "-d", "-e", "-f", "-g", "-G", "-k", "-K", "-p", "-P", "-R", "-s", "-u", "-Z", "--base-dir",
    "--comment", "--home-dir", "--home", "--expiredate", "--inactive", "--gid", "--groups", "--skel", "--key",
    "--password", "--prefix", "--root", "--shell", "--uid", "--selinux-user",
))


def check(ctx: Context) -> Iterator[Diagnostic]:
    built = [stage for stage in ctx.stages if stage.from_ is not None]
    if not built:
        return
    final = built[-1]
    chain = ancestry(ctx.tree, final)
    users = [i for stage in reversed(chain) for i in stage.instructions if isinstance(i, n.User)]
    last = users[-1] if users else None
    image = image_of(ctx.tree, chain[-1]).lower()
    kind = family(ctx.tree, final)
    if last is not None:
        if not is_root(user_of(last)):
            return
        anchor, message = last, "The last USER is root: the container runs as root"
    else:
        runs = any(isinstance(i, (n.Cmd, n.Entrypoint)) for stage in chain for i in stage.instructions)
        if not (runs or _shell_less_scratch(chain, kind)) or _NON_ROOT_IMAGES.search(image):
            return
        anchor, message = final.from_, "The image runs as root: switch to an unprivileged USER"
    if kind == WINDOWS:
        return
    reason = _reason_to_decline(ctx, final, kind, image)
    if reason:
        yield ctx.decline(anchor, message, reason)
        return
    earlier = [user_of(u) for u in users if u is not last and not is_root(user_of(u)) and _literal(user_of(u))]
    created = _created_user(chain)
    if earlier:
        lines = [f"USER {earlier[-1]}"]
    elif created:
        lines = [f"USER {created}"]
    else:
        lines = _new_user(ctx, final, kind, image)
    if not lines:
        yield ctx.decline(anchor, message, "the base image's family is unknown and no RUN shows a POSIX shell: "
                                           "create a user yourself, then switch to it")
        return
    yield ctx.report(anchor, message, _insert(ctx, final, lines))


def user_of(instruction: n.User) -> str:
    return instruction.value.value.strip() if instruction.value is not None else ""


def _literal(user: str) -> bool:
    return bool(user) and "$" not in user


def _shell_less_scratch(chain: Sequence[Stage], kind: str) -> bool:
    """A scratch image given no shell: whatever later runs in it runs as its
    USER, and no RUN of an image built FROM it can need root (there is no
    shell to run one). A copied shell or busybox, or an archive ADD unpacks
    (a root file system), makes it a base like any other."""
    if kind != SCRATCH:
        return False
    for stage in chain:
        for instruction in stage.instructions:
            if isinstance(instruction, (n.Copy, n.Add)):
                words = re.split(r"[\s\"',\[\]]+", instruction.code)
                names = {word.rstrip("/").rsplit("/", 1)[-1] for word in words}
                if names & (POSIX_SHELLS | {"busybox"}) or (
                    isinstance(instruction, n.Add) and any(re.search(r"\.(tar|tgz|txz|tbz2?)(\.\w+)?$", w) for w in words)
                ):
                    return False
    return True


def _reason_to_decline(ctx: Context, final: Stage, kind: str, image: str) -> str:
    match = _DROP_PRIVILEGES.search(image)
    if match:
        return f"{match.group(2)}'s entrypoint starts as root and drops privileges itself"
    program = _program_needing_root(ctx, final)
    if program:
        return f"{program} starts as root"
    shell = shell_at(ctx.tree, final, final.instructions[-1])
    if kind not in (DISTROLESS, SCRATCH) and (shell[-1:] != ["-c"] or shell[0].rsplit("/", 1)[-1] not in POSIX_SHELLS):
        return "the stage's SHELL is not a POSIX shell run with -c"
    workdir = _workdir(ctx, final)
    if workdir and (workdir == "/root" or workdir.startswith("/root/")):
        return "the working directory is under /root, which an unprivileged user cannot read"
    return ""


def _program_needing_root(ctx: Context, final: Stage) -> str | None:
    """The program the image starts, or its ENTRYPOINT, when it needs root."""
    for kind in (n.Entrypoint, n.Cmd):
        found = [i for stage in reversed(ancestry(ctx.tree, final)) for i in stage.instructions if isinstance(i, kind)]
        if not found or found[-1].body is None:
            continue
        body = found[-1].body
        if isinstance(body, n.JsonArray):
            words = list(body.values)
        else:
            script = body.script if isinstance(body, n.ShellForm) else None
            words = [call.name for call in invocations(script)] if script is not None else []
        # `sh -c "exec nginx"` and the like: any program named in the command
        names = {token.rsplit("/", 1)[-1] for word in words for token in re.split(r"[\s;&|]+", word)}
        needing = sorted(names & _NEEDS_ROOT)
        if needing:
            return needing[0]
    return None


def _created_user(chain: Sequence[Stage]) -> str | None:
    """The user the stages create with useradd or adduser (the last one): its
    UID when the command sets it, else its name."""
    found = None
    for stage in reversed(chain):
        for instruction in stage.instructions:
            if not isinstance(instruction, n.Run) or not isinstance(instruction.body, n.ShellForm):
                continue
            script = instruction.body.script
            for call in invocations(script) if script is not None else ():
                if call.name not in ("useradd", "adduser"):
                    continue
                parsed = _arguments(call.arguments, _USERADD_VALUES if call.name == "useradd" else _ADDUSER_VALUES)
                if parsed is None:
                    continue
                names, options = parsed
                # `adduser user group` adds an existing user to a group
                if len(names) == 1 and re.fullmatch(r"[a-z_][a-z0-9_.-]*", names[0]):
                    uid = options.get("-u") or options.get("--uid") or ""
                    found = uid if uid.isdigit() and uid != "0" else names[0]
    return found


def _arguments(words: Sequence, takes_value: frozenset[str]) -> tuple[list[str], dict[str, str]] | None:
    """A command's positional arguments and its options' values; None when
    a word expands."""
    names: list[str] = []
    options: dict[str, str] = {}
    option = None
    for word in words:
        value = word.value
        if value is None:
            return None
        if option is not None:
            options[option], option = value, None
        elif value.startswith("--") and "=" in value:
            key, _, options_value = value.partition("=")
            options[key] = options_value
        elif value.startswith("-") and value != "-":
            option = value if value in takes_value else None
        else:
            names.append(value)
    return names, options


def _new_user(ctx: Context, final: Stage, kind: str, image: str) -> list[str]:
    """The lines that create an unprivileged user and switch to it."""
    if kind in (DISTROLESS, SCRATCH):
        return [f"USER {NONROOT_UID}:{NONROOT_UID}"]
    dirs = _writable_dirs(ctx, final)
    for pattern, user in _IMAGE_USERS:
        if pattern.search(image):
            chown = [f"RUN chown {user} {' '.join(dirs)}"] if dirs else []
            return [*chown, f"USER {user}"]
    way = create_user(kind, image, ctx.tree, ancestry(ctx.tree, final))
    if way is None:
        return []
    commands = way.commands()
    if dirs:
        commands.append(f"chown {UID_GID} {' '.join(dirs)}")
    return ["RUN " + file_layout(ctx.tree, ctx.newline).joined(commands), f"USER {UID_GID}"]


def _workdir(ctx: Context, final: Stage) -> str:
    """The working directory the image starts in, when the stages set it literally."""
    path = ""
    for stage in reversed(ancestry(ctx.tree, final)):
        for instruction in stage.instructions:
            if isinstance(instruction, n.Workdir) and instruction.value is not None:
                value = instruction.value.value.strip().strip("\"'")
                if "$" in value:
                    return ""
                path = value if value.startswith("/") else (path.rstrip("/") + "/" + value if path else "")
    return re.sub(r"/+", "/", path).rstrip("/") or ("/" if path else "")


def _writable_dirs(ctx: Context, final: Stage) -> list[str]:
    """The working directory and VOLUME directories: the program may write there."""
    dirs = []
    workdir = _workdir(ctx, final)
    if workdir:
        dirs.append(workdir)
    for instruction in final.instructions:
        if isinstance(instruction, n.Volume):
            values = instruction.args.values if isinstance(instruction.args, n.JsonArray) else [
                word.value for word in instruction.args
            ]
            dirs += [v.rstrip("/") for v in values if v and v.startswith("/") and "$" not in v]
    return [d for d in dict.fromkeys(dirs) if d not in _SYSTEM_DIRS and re.fullmatch(r"[\w./@+-]+", d)]


def _insert(ctx: Context, final: Stage, lines: list[str]) -> Fix:
    at, after, like = insertion_point(ctx.tree, final)
    new = instructions_from_text(ctx, [keyword_like(like, line) for line in lines], like)
    title = "Switch to an unprivileged user"
    if after:
        # the last line of a file may have no line end: the new lines go after one
        return Fix.replace(at, [*with_line_end(at, ctx.newline), *new[:-1], new[-1].with_changes(newline=at.newline)],
                           title, Applicability.UNSAFE)
    return Fix.replace(at, [*new, at], title, Applicability.UNSAFE)


RULE = Rule("DL3002", "non-root-user", "The image runs as root", check, __doc__, fix=FixAvailability.UNSAFE)
