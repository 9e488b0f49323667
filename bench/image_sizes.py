"""What dfix's fixes do to real images: build corpus Dockerfiles before and
after their fixes and compare.

    sudo python bench/image_sizes.py [--limit N] [--timeout S] [CORPUS_DIR]

This is a script, not a test: it builds with buildah (as root, vfs storage,
chroot isolation) on the local stand-in base images of the build test tier
(tests/build_tier/standins.py, made on first use). It takes the corpus files
whose every FROM is a stand-in (or an earlier stage), gives each a build
context with a placeholder file for every COPY and ADD source, and prints
how many build before, how many still build after the safe fixes and after
the unsafe ones, and the total and median change in image size of those
that build both ways. Most corpus files download sources from hosts a
build here cannot reach, so many do not build even before; they are
counted, not hidden.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import dfix  # noqa: E402
from dfix.cst import nodes as n  # noqa: E402
from dfix.verify import Options, verify  # noqa: E402
from dfix.verify.builders import Builder, find  # noqa: E402
from tests.build_tier import standins  # noqa: E402


def covered(tree: n.Dockerfile, names: set[str]) -> bool:
    stages: set[str] = set()
    froms = [i for i in tree.instructions if isinstance(i, n.From)]
    for instruction in froms:
        image = (instruction.image or "").lower()
        if standins.qualify(image) not in names and image not in stages:
            return False
        if instruction.stage_name:
            stages.add(instruction.stage_name.lower())
    return bool(froms)


def make_context(tree: n.Dockerfile, directory: Path) -> None:
    """A placeholder for each local COPY/ADD source: a file (see
    ``_placeholder``), or a folder with a file when the source ends with `/`
    or has no dot in its name."""
    for instruction in tree.instructions:
        if not isinstance(instruction, (n.Copy, n.Add)) or any(f.name == "from" for f in instruction.flags):
            continue
        for source in instruction.values[:-1]:
            if "://" in source or "$" in source or source.startswith(("-", "<<")):
                continue
            relative = source.lstrip("/").replace("*", "x").replace("?", "x") or "."
            target = directory / relative
            if relative in (".", "./"):
                continue
            if source.endswith("/") or "." not in Path(relative).name:
                target.mkdir(parents=True, exist_ok=True)
                (target / "placeholder.txt").write_text("placeholder\n")
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                if not target.exists():
                    target.write_text(_placeholder(target.name))
                    target.chmod(0o755)


def _placeholder(name: str) -> str:
    """Content the usual consumers of such a file accept: pip an empty
    requirements file, npm a minimal package.json, a shell a script."""
    if name.startswith("requirements") or name.endswith((".txt", ".cfg", ".conf", ".toml", ".yml", ".yaml")):
        return ""
    if name == "package.json":
        return '{"name": "placeholder", "version": "1.0.0", "private": true}\n'
    if name.endswith(".json"):
        return "{}\n"
    return "#!/bin/sh\nexit 0\n"


def measure(builder: Builder, name: str, text: str, context: Path, unsafe: bool) -> dict | None:
    result = dfix.fix(text, unsafe=unsafe)
    if result.code == text:
        return None
    dockerfile = context / "Dockerfile"
    verdict = verify(builder, str(dockerfile), text, result.code, applied=result.applied,
                     unsafe_applied=result.unsafe_applied, options=Options(context=str(context)))
    return verdict.as_dict()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", default=os.environ.get("DFIX_CORPUS", str(ROOT.parent / "shared/corpus/files")))
    parser.add_argument("--limit", type=int, default=0, help="build at most N files")
    parser.add_argument("--timeout", type=float, default=600, help="seconds a build may take")
    parser.add_argument("--json", metavar="FILE", help="also write every measurement as JSON")
    args = parser.parse_args(argv)
    reason = standins.available()
    if reason:
        print(f"cannot build here: {reason}", file=sys.stderr)
        return 2
    os.environ["DFIX_VERIFY_TIMEOUT"] = str(args.timeout)
    conf = standins.cache_dir() / "storage.conf"
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text(standins.storage_conf())
    os.environ["CONTAINERS_STORAGE_CONF"] = str(conf)
    os.environ.setdefault("BUILDAH_ISOLATION", "chroot")
    standins.ensure()
    names = {alias for recipe in standins.recipes() for alias in recipe.names}
    builder = find("buildah")

    files = []
    for path in sorted(Path(args.corpus).iterdir()):
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        try:
            tree = dfix.parse(text)
        except dfix.ParseError:
            continue
        if covered(tree, names):
            files.append((path, text, tree))
    if args.limit:
        files = files[: args.limit]
    print(f"{len(files)} corpus files are built FROM the stand-ins only")

    rows = []
    started = time.monotonic()
    for path, text, tree in files:
        with tempfile.TemporaryDirectory(prefix="dfix-sizes-") as scratch:
            context = Path(scratch)
            make_context(tree, context)
            safe = measure(builder, path.name, text, context, unsafe=False)
            if safe is not None and not safe["before"]["built"]:
                # the original does not build: building it again for the unsafe fixes proves nothing
                unsafe = {"before": safe["before"], "after": {"built": False}, "skipped": True}
            else:
                unsafe = measure(builder, path.name, text, context, unsafe=True)
            row = {"file": path.name, "safe": safe, "unsafe": unsafe}
        rows.append(row)
        print(f"  {path.name}: " + ", ".join(f"{kind} {_short(row[kind])}" for kind in ("safe", "unsafe")), flush=True)
    standins.prune()

    print(f"\n{len(rows)} files in {time.monotonic() - started:.0f} s")
    for kind in ("safe", "unsafe"):
        changed = [row[kind] for row in rows if row[kind] is not None]
        before = [v for v in changed if v["before"]["built"]]
        both = [v for v in before if v["after"]["built"]]
        deltas = [v["after"]["size"] - v["before"]["size"] for v in both]
        ratios = [d / v["before"]["size"] for d, v in zip(deltas, both)]
        print(f"{kind} fixes: {len(changed)} files changed; {len(before)} build before; "
              f"{len(both)} still build after ({len(before) - len(both)} broken)")
        if both:
            total_before = sum(v["before"]["size"] for v in both)
            print(f"  total size {total_before / 1e6:.1f} MB -> {(total_before + sum(deltas)) / 1e6:.1f} MB "
                  f"({sum(deltas) / total_before:+.1%}); median change {statistics.median(deltas) / 1e6:+.2f} MB "
                  f"({statistics.median(ratios):+.1%})")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


def _short(verdict: dict | None) -> str:
    if verdict is None:
        return "unchanged"
    before, after = verdict["before"], verdict["after"]
    if not before["built"]:
        return "does not build before"
    if not after["built"]:
        return "BROKEN by the fixes"
    return f"{before['size'] / 1e6:.1f} -> {after['size'] / 1e6:.1f} MB"


if __name__ == "__main__":
    sys.exit(main())
