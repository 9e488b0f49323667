"""The final stage has no HEALTHCHECK.

## Why
Without a HEALTHCHECK, Docker and Swarm only know whether the process runs,
not whether it works: a server that hangs or lost its database stays
"running". A HEALTHCHECK lets the engine mark the container unhealthy and
an orchestrator replace it. (Kubernetes ignores HEALTHCHECK and uses its own
probes, which is why this rule is off by default, as in hadolint.)

## Example
    FROM nginx:1.25
    COPY site/ /usr/share/nginx/html/

should say how to check the service:

    FROM nginx:1.25
    COPY site/ /usr/share/nginx/html/
    HEALTHCHECK CMD curl -fsS http://localhost/ || exit 1

## Fix
None: only the author knows how to check the service. `HEALTHCHECK NONE`
says that the image has none on purpose, and counts.

dfix looks at the final stage (the image `docker build` makes), including
the stages it is built FROM; a base image may set a HEALTHCHECK dfix cannot
see. hadolint reports every stage without one, build stages too, whose
HEALTHCHECK never reaches an image: dfix does not.
"""

from __future__ import annotations

from typing import Iterator

from dfix.cst import nodes as n
from dfix.rules._api import Context, Diagnostic, FixAvailability, Rule
from dfix.rules._stages import ancestry

MESSAGE = "The final stage has no HEALTHCHECK: the engine cannot tell whether the service works"


def check(ctx: Context) -> Iterator[Diagnostic]:
    built = [stage for stage in ctx.stages if stage.from_ is not None]
    if not built:
        return
    final = built[-1]
    for stage in ancestry(ctx.tree, final):
        if any(isinstance(instruction, n.Healthcheck) for instruction in stage.instructions):
            return
    yield ctx.report(final.from_, MESSAGE)


RULE = Rule(
    "DL3057", "missing-healthcheck", "The final stage has no HEALTHCHECK", check, __doc__, fix=FixAvailability.NONE, default=False
)
