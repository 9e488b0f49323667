"""How the rule modules hang together: shared knowledge lives in the helper
modules and packages (``dfix/rules/_*``), and no rule imports another rule."""

from __future__ import annotations

import ast
from pathlib import Path

import dfix.rules

RULES_DIR = Path(dfix.rules.__file__).parent


def _rule_modules() -> list[Path]:
    return sorted(path for path in RULES_DIR.glob("*.py") if not path.name.startswith("_"))


def _imported_modules(path: Path) -> set[str]:
    """The dfix modules a file imports, by dotted name (``from dfix.rules
    import dl3009_x`` counts as ``dfix.rules.dl3009_x``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_no_rule_imports_another_rule() -> None:
    rules = {f"dfix.rules.{path.stem}" for path in _rule_modules()}
    assert len(rules) == len(dfix.rules.ALL_RULES)
    crossing = {}
    # helper packages (DF100's _split/) too: a rule module imports them
    for path in (*_rule_modules(), *RULES_DIR.glob("_*.py"), *RULES_DIR.glob("_*/*.py")):
        others = _imported_modules(path) & rules - {f"dfix.rules.{path.stem}"}
        if others:
            crossing[path.stem] = sorted(others)
    assert crossing == {}, "move what they share into a helper module (dfix/rules/_*.py)"


def test_the_import_check_sees_both_forms(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from dfix.rules.dl3030_yum_yes import X\nfrom dfix.rules import dl3009_apt_lists_cleanup\n")
    assert {"dfix.rules.dl3030_yum_yes", "dfix.rules.dl3009_apt_lists_cleanup"} <= _imported_modules(sample)


def test_neither_tree_s_nodes_module_imports_the_other() -> None:
    # both build on dfix/cst/base.py; a type-only import (under TYPE_CHECKING) is no import at run time
    cst_nodes = ast.parse((RULES_DIR.parent / "cst" / "nodes.py").read_text(encoding="utf-8"))
    shell_nodes = ast.parse((RULES_DIR.parent / "shell" / "nodes.py").read_text(encoding="utf-8"))

    def runtime_imports(tree: ast.Module) -> set[str]:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
                node.body = [ast.Pass()]
        return {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}

    assert "dfix.shell.nodes" not in runtime_imports(cst_nodes)
    assert "dfix.cst.nodes" not in runtime_imports(shell_nodes)
