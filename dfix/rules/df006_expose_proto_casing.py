"""The protocol of an EXPOSE port is written in lower case.

## Why
`EXPOSE 53/UDP` and `EXPOSE 53/udp` expose the same port: BuildKit lowers the
protocol before it records the port in the image. Its ExposeProtoCasing
check asks for the lower-case spelling, the one the image config, `docker
inspect` and `docker run -p` show.

## Example
    EXPOSE 80/TCP 53/Udp

becomes

    EXPOSE 80/tcp 53/udp

## Fix
Safe: BuildKit records `80/tcp` either way. Only a protocol written out
(`tcp`, `udp` or `sctp`, in any casing) is changed; a protocol that comes
from a variable (`80/$PROTO`) is left as it is.
"""

from __future__ import annotations

import re
from typing import Iterator

from dfix.cst import nodes as n
from dfix.rules._api import Context, Diagnostic, Fix, Rule, instructions

# the protocol after the port: what BuildKit accepts, in any casing, written out
_PROTOCOL = re.compile(r"/(tcp|udp|sctp)\Z", re.IGNORECASE)


def check(ctx: Context) -> Iterator[Diagnostic]:
    for instruction in instructions(ctx.tree):
        if not isinstance(instruction, n.Expose):
            continue
        for word in instruction.args:
            match = _PROTOCOL.search(word.value)
            if match is None or match.group(1).islower():
                continue
            message = f"Protocol of `{word.value}` in EXPOSE should be lower case"
            fixed = word.with_changes(parts=_lowered_after(word.parts, match.start()))
            yield ctx.report(word, message, Fix.replace(word, fixed, "Write the protocol in lower case"))


def _lowered_after(parts: tuple[n.Part, ...], start: int) -> tuple[n.Part, ...]:
    """The parts with the text from ``start`` (an offset in the word's value,
    continuations left out) in lower case."""
    out: list[n.Part] = []
    offset = 0
    for part in parts:
        if isinstance(part, str):
            cut = max(0, min(len(part), start - offset))
            out.append(part[:cut] + part[cut:].lower())
            offset += len(part)
        else:
            out.append(part)
    return tuple(out)


RULE = Rule("DF006", "expose-proto-casing", "EXPOSE protocol not in lower case", check, __doc__)
