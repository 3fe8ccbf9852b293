"""The ``replay`` command: one module per subcommand, dispatched from ``_main``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from replay._lazy import lazy_exports

if TYPE_CHECKING:
    from replay.cli._main import (
        COMMANDS,
        ArgumentParser,
        main,
    )

__all__ = [
    "COMMANDS",
    "ArgumentParser",
    "main",
]

if not TYPE_CHECKING:  # mypy checks every name against the imports above
    __getattr__, __dir__ = lazy_exports(
        globals(),
        dict.fromkeys(
            (
                "COMMANDS",
                "ArgumentParser",
                "main",
            ),
            "._main",
        ),
    )
