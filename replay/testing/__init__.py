"""Replay in tests: timelines, their mutations, an httpx transport and request-log assertions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from replay._lazy import lazy_exports
from replay.status import STOP_STATUSES as TERMINAL_STATUSES

if TYPE_CHECKING:
    from replay.serving import ManualClock, RequestRecord
    from replay.simulate import Response, Step, Timeline, response_fields
    from replay.simulate.mutations import (
        drop_terminal,
        expire_monitor,
        inject_unknown_status,
        insert_429_burst,
        stall_at,
    )
    from replay.testing._asserts import (
        assert_no_authorization,
        assert_respects_retry_after,
        assert_stops_after_terminal,
        assert_valid_sequence,
    )
    from replay.testing._transport import MonitorTransport

__all__ = [
    "TERMINAL_STATUSES",
    "ManualClock",
    "MonitorTransport",
    "RequestRecord",
    "Response",
    "Step",
    "Timeline",
    "assert_no_authorization",
    "assert_respects_retry_after",
    "assert_stops_after_terminal",
    "assert_valid_sequence",
    "drop_terminal",
    "expire_monitor",
    "inject_unknown_status",
    "insert_429_burst",
    "response_fields",
    "stall_at",
]

if not TYPE_CHECKING:  # mypy checks every name against the imports above
    __getattr__, __dir__ = lazy_exports(
        globals(),
        {
            **dict.fromkeys(("ManualClock", "RequestRecord"), "replay.serving"),
            **dict.fromkeys(("Response", "Step", "Timeline", "response_fields"), "replay.simulate"),
            **dict.fromkeys(
                (
                    "assert_no_authorization",
                    "assert_respects_retry_after",
                    "assert_stops_after_terminal",
                    "assert_valid_sequence",
                ),
                "._asserts",
            ),
            **dict.fromkeys(
                ("drop_terminal", "expire_monitor", "inject_unknown_status", "insert_429_burst"),
                "replay.simulate.mutations",
            ),
            "stall_at": "replay.simulate.mutations",
            "MonitorTransport": "._transport",
        },
    )
