"""Lazy re-exports: every package's public names, each imported from its module on first use."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    namespace: dict[str, Any], where: Mapping[str, str], *, submodules: bool = False
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for the package whose ``globals()`` is ``namespace``.

    Each name of ``where`` is imported from its module (relative to the package when it starts
    with ``.``) when first asked for, then kept in the package's namespace. Importing the
    package, or any submodule of it, therefore loads nothing else: a light submodule stays
    light. With ``submodules``, any other name is tried as a submodule (``replay.store``).
    """
    package = str(namespace["__name__"])

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is not None:
            value = getattr(importlib.import_module(module, package), name)
        elif submodules and not name.startswith("__"):
            value = _submodule(package, name)
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *where})

    return __getattr__, __dir__


def _submodule(package: str, name: str) -> Any:
    try:
        return importlib.import_module(f"{package}.{name}")
    except ModuleNotFoundError as err:
        if err.name != f"{package}.{name}":
            raise  # the submodule exists but needs something missing
        raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
