"""What a fake monitor answers, without sockets: job table, request log, URLs, one routing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from replay._lazy import lazy_exports

if TYPE_CHECKING:
    from replay.serving._clock import SYSTEM_CLOCK, Clock, ManualClock, SystemClock
    from replay.serving._copies import COPY_ANSWERS, CopyTable
    from replay.serving._core import ServingCore, checked_mode, checked_positive
    from replay.serving._jobs import JobTable, Mode, Reply, ServedJob
    from replay.serving._log import RequestLog, RequestRecord
    from replay.serving._messages import Answer, Headers, Request, error_answer, json_answer
    from replay.serving._retry import (
        RETRY_AFTER_DATE_AHEAD_S,
        RETRY_AFTER_S,
        SHORT_ORIGIN,
        RetryAfter,
        checked_retry_after,
        retry_date_ahead_s,
        shortened_retry_after,
    )
    from replay.serving._routing import DEFAULT_DIALECT, ServingState, route
    from replay.serving._urls import (
        MONITOR_PATHS,
        FakeCredentials,
        copy_request_matches,
        fake_credentials,
        job_id_from_path,
        job_id_of,
        monitor_path_and_query,
    )

__all__ = [
    "COPY_ANSWERS",
    "DEFAULT_DIALECT",
    "MONITOR_PATHS",
    "RETRY_AFTER_DATE_AHEAD_S",
    "RETRY_AFTER_S",
    "SHORT_ORIGIN",
    "SYSTEM_CLOCK",
    "Answer",
    "Clock",
    "CopyTable",
    "FakeCredentials",
    "Headers",
    "JobTable",
    "ManualClock",
    "Mode",
    "Reply",
    "Request",
    "RequestLog",
    "RequestRecord",
    "RetryAfter",
    "ServedJob",
    "ServingCore",
    "ServingState",
    "SystemClock",
    "checked_mode",
    "checked_positive",
    "checked_retry_after",
    "copy_request_matches",
    "error_answer",
    "fake_credentials",
    "job_id_from_path",
    "job_id_of",
    "json_answer",
    "monitor_path_and_query",
    "retry_date_ahead_s",
    "route",
    "shortened_retry_after",
]

if not TYPE_CHECKING:  # mypy checks every name against the imports above
    __getattr__, __dir__ = lazy_exports(
        globals(),
        {
            **dict.fromkeys(("SYSTEM_CLOCK", "Clock", "ManualClock", "SystemClock"), "._clock"),
            **dict.fromkeys(("COPY_ANSWERS", "CopyTable"), "._copies"),
            **dict.fromkeys(("ServingCore", "checked_mode", "checked_positive"), "._core"),
            **dict.fromkeys(("JobTable", "Mode", "Reply", "ServedJob"), "._jobs"),
            **dict.fromkeys(("RequestLog", "RequestRecord"), "._log"),
            **dict.fromkeys(
                ("Answer", "Headers", "Request", "error_answer", "json_answer"), "._messages"
            ),
            **dict.fromkeys(
                (
                    "RETRY_AFTER_DATE_AHEAD_S",
                    "RETRY_AFTER_S",
                    "SHORT_ORIGIN",
                    "RetryAfter",
                    "checked_retry_after",
                    "retry_date_ahead_s",
                    "shortened_retry_after",
                ),
                "._retry",
            ),
            **dict.fromkeys(("DEFAULT_DIALECT", "ServingState", "route"), "._routing"),
            **dict.fromkeys(
                (
                    "MONITOR_PATHS",
                    "FakeCredentials",
                    "copy_request_matches",
                    "fake_credentials",
                    "job_id_from_path",
                    "job_id_of",
                    "monitor_path_and_query",
                ),
                "._urls",
            ),
        },
    )
