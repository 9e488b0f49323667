"""The editor's settings for dfix-lsp."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dfix.runner import Settings


@dataclass(frozen=True)
class EditorSettings:
    """What the editor's settings add to the configuration files, like the command line's options."""

    unsafe_fixes: bool | None = None
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    #: formatting and ``source.fixAll`` on save apply the fixes
    fix_on_save: bool = True

    @classmethod
    def from_json(cls, value: object) -> EditorSettings:
        """Settings from ``initializationOptions`` or ``didChangeConfiguration``:
        flat, or under ``settings`` or ``dfix``; unknown keys are ignored."""
        if not isinstance(value, dict):
            return cls()
        from dfix import selection  # here, not above: the server answers `initialize` before dfix loads

        for key in ("settings", "dfix"):
            if isinstance(value.get(key), dict):
                value = value[key]
        unsafe = value.get("unsafeFixes")
        fix_on_save = value.get("fixOnSave", True)
        select = selection.split(value.get("select")) if value.get("select") else None
        return cls(
            unsafe if isinstance(unsafe, bool) else None,
            tuple(select) if select else None,
            tuple(selection.split(value.get("ignore") or [])),
            fix_on_save if isinstance(fix_on_save, bool) else True,
        )

    def runner_settings(self, path: str) -> Settings:
        from dfix.runner import Settings

        return Settings("lint", self.select, self.ignore, self.unsafe_fixes, path)
