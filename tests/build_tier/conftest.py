"""The build test tier (marker `build`): real builds with buildah on local
stand-in base images (see standins.py). Skipped, saying why, where buildah
or root is missing; `.ci/run` installs what it needs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest

from tests.build_tier import standins

#: the stand-ins the build fixtures are built FROM
NEEDED = (
    "debian:bookworm-slim", "python:3.11-slim", "python:3.11", "node:18", "golang:1.19", "rust:1.75",
    "acme/baseos:1",
    "gcr.io/distroless/static-debian12:nonroot",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.build)


@pytest.fixture(scope="session")
def build_env() -> Iterator[dict[str, str]]:
    """The environment dfix runs buildah in: the stand-ins' storage (vfs),
    chroot isolation, with the stand-ins made (or found in the cache)."""
    reason = standins.available()
    if reason:
        pytest.skip(f"the build tier needs buildah as root: {reason}")
    conf = standins.cache_dir() / "storage.conf"
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text(standins.storage_conf())
    saved = os.environ.get("CONTAINERS_STORAGE_CONF")
    os.environ["CONTAINERS_STORAGE_CONF"] = str(conf)
    try:
        standins.ensure(NEEDED)
        yield {**os.environ, "CONTAINERS_STORAGE_CONF": str(conf), "BUILDAH_ISOLATION": "chroot"}
    finally:
        standins.prune()
        if saved is None:
            os.environ.pop("CONTAINERS_STORAGE_CONF", None)
        else:
            os.environ["CONTAINERS_STORAGE_CONF"] = saved
