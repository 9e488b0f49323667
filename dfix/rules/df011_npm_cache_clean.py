"""`npm install` leaves its cache in the image without `npm cache clean --force`.

## Why
npm keeps every package it downloads in `~/.npm`; in an image that cache
is dead weight next to `node_modules`.

## Example
    RUN npm ci --omit=dev

becomes

    RUN npm ci --omit=dev && npm cache clean --force

## Fix
Safe: later installs download what they need again. `npm cache clean --force`
is appended after the last `npm install` (or `npm ci`, `npm i`) of the RUN,
in the RUN's layout. Only stages that reach the final image are looked at;
nothing is reported when a cache mount serves `.npm`.
"""

from __future__ import annotations

from typing import Iterator

from dfix.rules._api import Context, Diagnostic, Rule
from dfix.rules._runs import missing_cleanup, mounted
from dfix.shell.commands import Invocation

MESSAGE = "`npm cache clean --force` is missing after `npm install`"
_INSTALLS = {"install", "i", "in", "ins", "inst", "insta", "instal", "isnt", "isnta", "isntal", "isntall", "add",
             "ci", "clean-install", "ic", "install-clean", "isntall-clean"}


def _installs(call: Invocation) -> bool:
    sub = call.subcommand(("--prefix", "-C", "--cache", "--registry", "--userconfig", "-w", "--workspace"))
    return call.name == "npm" and sub is not None and sub.value in _INSTALLS


def _cleans(call: Invocation) -> bool:
    values = [w.value for w in call.arguments]
    if call.name == "npm":
        return values[:2] == ["cache", "clean"] or values[:1] == ["cache"] and "clean" in values
    return call.name == "rm" and any(v and (v.endswith("/.npm") or "/.npm/" in v) for v in values)


def check(ctx: Context) -> Iterator[Diagnostic]:
    yield from missing_cleanup(
        ctx, installs=_installs, cleans=_cleans, command="npm cache clean --force", message=MESSAGE,
        exempt=mounted(contains=".npm"), final_image_only=True,
        opaque=r"(?<![\w/-])npm\b[^;&|]*\b(install|ci|i)\b",
    )


RULE = Rule("DF011", "npm-cache-clean", "npm install without npm cache clean", check, __doc__)
