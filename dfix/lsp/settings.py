"""The editor's settings for dfix-lsp."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

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
    def from_json(cls, value: object, warn: Callable[[str], None] | None = None) -> EditorSettings:
        """Settings from ``initializationOptions`` or ``didChangeConfiguration``:
        flat, or under ``settings`` or ``dfix``. Unknown keys are ignored; a
        value of the wrong type is left out, and ``warn`` told why."""
        if not isinstance(value, dict):
            return cls()
        from dfix import selection  # here, not above: the server answers `initialize` before dfix loads

        for key in ("settings", "dfix"):
            if isinstance(value.get(key), dict):
                value = value[key]

        def flag(key: str, default: bool | None) -> bool | None:
            found = value.get(key, default)
            if found is None or isinstance(found, bool):
                return found
            if warn is not None:
                warn(f"dfix: setting {key!r} ignored: {found!r} is not true or false")
            return default

        def selectors(key: str) -> tuple[str, ...]:
            found = value.get(key) or []
            if isinstance(found, str):
                found = [found]
            if isinstance(found, list) and all(isinstance(each, str) for each in found):
                return tuple(selection.split(found))
            if warn is not None:
                warn(f"dfix: setting {key!r} ignored: {found!r} is not a list of rule ids")
            return ()

        return cls(flag("unsafeFixes", None), selectors("select") or None, selectors("ignore"),
                   bool(flag("fixOnSave", True)))

    def runner_settings(self, path: str) -> Settings:
        from dfix.runner import Settings

        return Settings("lint", self.select, self.ignore, self.unsafe_fixes, path)
