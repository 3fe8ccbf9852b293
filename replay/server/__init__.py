"""The fake monitor server: real HTTP on loopback (aiohttp) over the socket-free serving core."""

from __future__ import annotations

from typing import TYPE_CHECKING

from replay._lazy import lazy_exports

if TYPE_CHECKING:
    from replay.server._aiohttp import MonitorServer
    from replay.serving import DEFAULT_DIALECT, Mode, RequestRecord

__all__ = ["DEFAULT_DIALECT", "Mode", "MonitorServer", "RequestRecord"]

if not TYPE_CHECKING:  # mypy checks every name against the imports above
    __getattr__, __dir__ = lazy_exports(
        globals(),
        {
            "MonitorServer": "._aiohttp",
            **dict.fromkeys(("DEFAULT_DIALECT", "Mode", "RequestRecord"), "replay.serving"),
        },
    )
