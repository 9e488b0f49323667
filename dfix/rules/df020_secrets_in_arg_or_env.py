"""ARG or ENV named like a secret: its value ends up in the image.

## Why
An ENV value is stored in the image's configuration, and an ARG's value in
its build history (`docker history` shows both): anyone who can pull the
image can read them. Secrets belong in a secret mount, which is never
stored: `RUN --mount=type=secret,id=npm_token,env=NPM_TOKEN npm ci`, built
with `docker build --secret id=npm_token,env=NPM_TOKEN`. BuildKit reports
the same as SecretsUsedInArgOrEnv.

## Example
    ARG NPM_TOKEN
    RUN npm ci

should read the token from a secret mount:

    RUN --mount=type=secret,id=npm_token,env=NPM_TOKEN npm ci

## Fix
None: moving a secret to a mount changes how the build is called.

The names are matched as BuildKit matches them: a key whose first or last
`_`-separated word, or the whole key, is `apikey`, `auth`, `credential(s)`,
`key`, `password`, `pword`, `passwd`, `secret` or `token` (any case), unless
a word is `public`, `file` or `version` (`PUBLIC_KEY`, `TOKEN_FILE`,
`GPG_KEY_VERSION`). So `GITHUB_TOKEN` and `DB_PASSWORD` are reported, and
`TOKENIZER` and `KEYCLOAK_URL` are not. ARGs before the first FROM and
ONBUILD instructions are not looked at, as in BuildKit.
"""

from __future__ import annotations

import re
from typing import Iterator

from dfix.cst import nodes as n
from dfix.rules._api import Context, Diagnostic, FixAvailability, Rule

_SECRET = re.compile(
    r"(?i)(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)"
)
_ALLOWED = re.compile(r"(?i)(?:_|^)(?:public|file|version)(?:_|$)")


def is_secret_name(key: str) -> bool:
    """BuildKit's test (dockerfile2llb, validateNoSecretKey)."""
    return _SECRET.search(key) is not None and _ALLOWED.search(key) is None


def _key(pair: n.KeyValue | n.LegacyKeyValue) -> str:
    key = pair.key.value
    if len(key) >= 2 and key[0] == key[-1] and key[0] in "\"'":
        return key[1:-1]
    return key


def check(ctx: Context) -> Iterator[Diagnostic]:
    for stage in ctx.stages:
        if stage.from_ is None:
            continue  # global ARGs only parameterize FROM lines
        for instruction in stage.instructions:
            if isinstance(instruction, n.Arg):
                pairs: tuple[n.KeyValue | n.LegacyKeyValue, ...] = instruction.args
            elif isinstance(instruction, n.Env):
                pairs = instruction.pairs
            else:
                continue
            for pair in pairs:
                key = _key(pair)
                if is_secret_name(key):
                    yield ctx.report(pair, _message(instruction.keyword, key))


def _message(keyword: str, key: str) -> str:
    where = "the image's configuration" if keyword == "ENV" else "the image's build history"
    return (
        f"{keyword} `{key}` looks like a secret: its value is stored in {where}; "
        "use a secret mount (`RUN --mount=type=secret`)"
    )


RULE = Rule("DF020", "secrets-in-arg-or-env", "ARG or ENV named like a secret", check, __doc__, fix=FixAvailability.NONE)
