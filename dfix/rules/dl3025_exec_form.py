"""CMD and ENTRYPOINT in shell form: the process never gets SIGTERM.

## Why
In shell form, `CMD python app.py` runs as `/bin/sh -c "python app.py"`: the
shell is PID 1, and `docker stop` sends SIGTERM to the shell, which does not
pass it on. The program gets no chance to shut down cleanly and is killed
ten seconds later. In exec (JSON) form the program is PID 1 and receives the
signal. BuildKit reports the same as JSONArgsRecommended.

## Example
    CMD python app.py --port 8000

becomes

    CMD ["python", "app.py", "--port", "8000"]

## Fix
Safe when the body is one command of literal words (quotes removed as the
shell would remove them, a leading `exec` dropped) and nothing combines
differently: for CMD, no ENTRYPOINT of the stage (or of a base image known
to set one, such as node's or nginx's) receives it; for ENTRYPOINT, no CMD of
the stage starts being passed to it. The words become the array: the same
program runs with the same arguments, as PID 1, which is the point. The
image's Cmd or Entrypoint changes by design, and `dfix --verify` reports it
as this rule's.

Otherwise the fix is unsafe and keeps the shell, but makes it hand over to
the program: `["/bin/sh", "-c", "exec python app.py"]` (with the shell
`SHELL` set, and `exec` before the last command of a list). That is the form
for bodies with variables, operators, redirections, globs or `~`, and for
ENTRYPOINTs the stage gives a CMD to: the shell ignores the extra arguments,
as the shell form did.

Stages whose shell is not POSIX (PowerShell, cmd, Windows images) are left
alone, and so is `HEALTHCHECK CMD` (its process gets no signals to miss).

A body that was meant as the exec form but is not valid JSON, such as
`CMD ["python", "app.py"` (unclosed), `CMD ['python', 'app.py']` (single
quotes) or `CMD ["python",]`, is run by BuildKit as a shell command, which
fails when the container starts. It gets its own message, and no fix, not
even an unsafe one: wrapping it in `/bin/sh -c` would keep the mistake, and
only the author knows the array they meant.
"""

from __future__ import annotations

import json
import re
from typing import Iterator

from dfix.cst import nodes as n
from dfix.rules._api import Applicability, Context, Diagnostic, Fix, FixAvailability, Rule
from dfix.rules._images import image_of
from dfix.rules._stages import Stage, ancestry, shell_at
from dfix.shell.nodes import CommandList, Operator, Pipeline, Script, SimpleCommand, Word, logical

MESSAGE = "Use the exec (JSON) form for {keyword}, so that the process gets signals"
BROKEN_JSON = "{keyword} is not valid JSON ({defect}), so BuildKit runs it as a shell command"
# the start of a JSON array: `[` and a word (`["echo",`, `['echo',`, `[]`), or
# `[`, blanks and a first string that a comma, the closing `]` or the end
# follows; not the shell's test commands (`[ -f x ]`, `[ "$A" = b ]`, `[[ ... ]]`)
_JSON_START = re.compile(r"""\[(?:[^\s\[]|\s*(?:"(?:[^"\\]|\\.)*"?|'[^']*'?)\s*(?:,|\]\s*\Z|\Z)|\s*\]\s*\Z)""", re.S)
# special builtins and keywords: no program of that name to run without a shell
_BUILTINS = frozenset((
    "cd", "export", "set", "source", ".", "eval", "exit", "trap", "ulimit", "umask", "unset", "alias", "read",
    "wait", "shift", "return", "readonly", "local", "declare", "typeset", "if", "for", "while", "until", "case",
    "{", "(", "!", "exec",
))
# Official images that set an ENTRYPOINT: a CMD is passed to it.
_IMAGES_WITH_ENTRYPOINT = re.compile(
    r"(^|/)(node|nginx|php|postgres|mysql|mariadb|redis|mongo|rabbitmq|wordpress|drupal|ghost|haproxy|memcached|"
    r"elasticsearch|kibana|jenkins|sonarqube|docker|consul|vault|traefik|caddy|influxdb|cassandra|solr|zookeeper|"
    r"couchdb|neo4j|mongo-express|registry|httpd)(:|@|$)"
)


def literal_words(script: Script) -> list[str] | None:
    """The words of a script that is one command of literal words, as the
    shell would pass them; None for anything the shell would expand or run."""
    body = script.body
    if not isinstance(body, CommandList) or len(body.parts) != 1:
        return None
    (pipeline,) = body.parts
    if not isinstance(pipeline, Pipeline) or len(pipeline.parts) != 1 or not isinstance(pipeline.parts[0], SimpleCommand):
        return None
    command = pipeline.parts[0]
    if command.redirects or command.assignments:
        return None
    words = list(command.words)
    if words and words[0].value == "exec" and len(words) > 1 and not (words[1].value or "-").startswith("-"):
        words = words[1:]
    if not words or words[0].value in _BUILTINS:
        return None
    values = []
    for word in words:
        if word.value is None or _expands(word):
            return None
        values.append(word.value)
    return values


def _expands(word: Word) -> bool:
    """Globs, `~` and brace lists in the unquoted parts of a literal word."""
    for index, part in enumerate(word.parts):
        if not isinstance(part, str):
            continue
        unescaped = re.sub(r"\\.", "", part)
        if re.search(r"[*?\[]", unescaped) or (index == 0 and unescaped.startswith("~")):
            return True
        if "{" in unescaped and "," in unescaped:
            return True
    return False


def with_exec(script: Script) -> str:
    """The script's text on one line, with `exec` before its last command
    when that is a plain command the shell can hand over to."""
    body = script.body
    if not isinstance(body, CommandList):
        return logical(script, compact=True).strip(" \t")
    pieces = [logical(part, compact=True) for part in body.parts]
    last = body.pipelines[-1] if body.pipelines else None
    if (
        last is None
        or any(isinstance(p, Operator) and p.value == "&" for p in body.parts)
        or len(last.parts) != 1
        or not isinstance(last.parts[0], SimpleCommand)
        or not last.parts[0].words
        or last.parts[0].name in _BUILTINS
        or last.parts[0].assignments
    ):
        return "".join(pieces).lstrip(" \t")
    index = next(i for i, part in enumerate(body.parts) if part is last)
    piece = pieces[index]
    lead = len(piece) - len(piece.lstrip(" \t"))
    pieces[index] = piece[:lead] + "exec " + piece[lead:]
    return "".join(pieces).lstrip(" \t")


def broken_json(body: str) -> str | None:
    """What is wrong with a shell-form body that was meant as a JSON array
    (BuildKit reads a body that is not valid JSON as shell form); None for a
    body that does not look like an array."""
    body = body.strip()
    if not _JSON_START.match(body):
        return None
    try:
        json.loads(body)
    except json.JSONDecodeError as error:
        if "'" in body and '"' not in body:
            return "strings in single quotes"
        if not body.endswith("]"):
            return "the array is not closed"
        if re.search(r",\s*\]\Z", body):
            return "a trailing comma"
        return f"{error.msg[0].lower()}{error.msg[1:]} at character {error.pos + 1}"
    # valid JSON that BuildKit still reads as shell form: not an array of strings
    return "not an array of strings"


def _entrypoint_in_effect(ctx: Context, stage: Stage) -> bool:
    for each in ancestry(ctx.tree, stage):
        if any(isinstance(i, n.Entrypoint) for i in each.instructions):
            return True
    base = ancestry(ctx.tree, stage)[-1]
    return bool(_IMAGES_WITH_ENTRYPOINT.search(image_of(ctx.tree, base).lower()))


def check(ctx: Context) -> Iterator[Diagnostic]:
    for stage in ctx.stages:
        for instruction in stage.instructions:
            if not isinstance(instruction, (n.Cmd, n.Entrypoint)) or not isinstance(instruction.body, n.ShellForm):
                continue
            message = MESSAGE.format(keyword=instruction.keyword)
            script = instruction.body.script
            defect = broken_json(instruction.body.value)
            if defect is not None:
                # meant as exec form, but not valid JSON: the fix is the author's
                broken = BROKEN_JSON.format(keyword=instruction.keyword, defect=defect)
                yield ctx.decline(instruction, broken, "correct the JSON array by hand")
                continue
            if not script.posix:
                yield ctx.decline(instruction, message, "the stage's shell is not POSIX (cmd or PowerShell)")
                continue
            if script.is_opaque:
                yield ctx.decline(instruction, message, "the shell text is opaque to dfix")
                continue
            if isinstance(instruction, n.Cmd):
                combines = _entrypoint_in_effect(ctx, stage)
            else:
                combines = any(isinstance(i, n.Cmd) for i in stage.instructions)
            words = literal_words(script)
            if words is not None and not combines:
                values, applicability = words, Applicability.SAFE
            else:
                values, applicability = [*shell_at(ctx.tree, stage, instruction), with_exec(script)], Applicability.UNSAFE
            array = n.JsonArray.of(values, whitespace_before="")
            array = array.with_changes(whitespace_before=instruction.body.whitespace_before)
            fix = Fix.replace(instruction.body, array, "Use the exec form", applicability)
            yield ctx.report(instruction, message, fix)


RULE = Rule(
    "DL3025", "exec-form", "CMD or ENTRYPOINT in shell form", check, __doc__, fix=FixAvailability.SOMETIMES,
    config_changes=("Cmd", "Entrypoint"),
)
