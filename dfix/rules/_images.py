"""Which family of Linux a stage is built on: from its FROM image (through
ARG defaults and the stages it is built FROM) and, failing that, from the
package managers its RUN instructions use."""

from __future__ import annotations

import re

from dfix.cst import nodes as n
from dfix.cst.memo import kept_on
from dfix.images import ALPINE, DEBIAN, RHEL, SUSE, UNKNOWN, family_of_image_name
from dfix.rules._stages import Stage, earlier_stage
from dfix.shell.commands import invocations

_MANAGERS = {"apt-get": DEBIAN, "apt": DEBIAN, "dpkg": DEBIAN, "apk": ALPINE, "yum": RHEL, "dnf": RHEL,
             "microdnf": RHEL, "rpm": RHEL, "zypper": SUSE}


def family(tree: n.Dockerfile, stage: Stage) -> str:
    """The stage's family; UNKNOWN when neither its image nor its commands
    tell. Kept on the stage (one tree's, immutable): rules ask for every RUN."""
    return kept_on(stage, "family", lambda: _family(tree, stage))


def _family(tree: n.Dockerfile, stage: Stage) -> str:
    from_image = _family_of_image(tree, stage, 0)
    if from_image != UNKNOWN:
        return from_image
    for instruction in stage.instructions:
        if isinstance(instruction, n.Run) and isinstance(instruction.body, n.ShellForm):
            for call in invocations(instruction.body.script):
                if call.name in _MANAGERS:
                    return _MANAGERS[call.name]
    return UNKNOWN


def image_of(tree: n.Dockerfile, stage: Stage) -> str:
    """The stage's FROM image, with the ARG defaults before the first FROM filled in."""
    if stage.from_ is None or stage.from_.image is None:
        return ""
    return expand_global_args(tree, stage.from_.image)


def expand_global_args(tree: n.Dockerfile, text: str) -> str:
    defaults: dict[str, str] = {}
    for instruction in tree.instructions:
        if isinstance(instruction, n.From):
            break
        if isinstance(instruction, n.Arg):
            for arg in instruction.args:
                defaults[arg.key.value] = arg.value.value.strip("\"'")
    return re.sub(
        r"\$\{?([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}?",
        lambda m: defaults.get(m.group(1)) or m.group(2) or m.group(0),
        text,
    )


def _family_of_image(tree: n.Dockerfile, stage: Stage, depth: int) -> str:
    image = image_of(tree, stage).lower()
    if not image or depth > 10:
        return UNKNOWN
    parent = earlier_stage(tree, stage, image)
    if parent is not None:
        return _family_of_parent(tree, parent, depth + 1)
    return family_of_image_name(image)


def _family_of_parent(tree: n.Dockerfile, stage: Stage, depth: int) -> str:
    found = _family_of_image(tree, stage, depth)
    return found if found != UNKNOWN else family(tree, stage)
