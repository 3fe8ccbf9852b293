"""Replay in tests: timelines, their mutations, an httpx transport and request-log assertions."""

from __future__ import annotations

from replay.server._log import RequestRecord
from replay.testing._asserts import (
    assert_no_authorization,
    assert_respects_retry_after,
    assert_stops_after_terminal,
    assert_valid_sequence,
)
from replay.testing._mutations import (
    drop_terminal,
    expire_monitor,
    inject_unknown_status,
    insert_429_burst,
    stall_at,
)
from replay.testing._timelines import TERMINAL_STATUSES, Step, Timeline, response_fields
from replay.testing._transport import MonitorTransport
from replay.timeline import Response

__all__ = [
    "TERMINAL_STATUSES",
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
