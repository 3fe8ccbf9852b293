"""Normalising monitor responses of every dialect, rendering them back, Retry-After and job ids."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from replay.errors import PayloadError
from replay.payload import (
    BODY_LIMIT,
    DIALECTS,
    FIELDS,
    job_id_from_url,
    normalize,
    parse_retry_after,
    redact_text,
    render_body,
)

NOW = datetime(2026, 1, 5, 23, 0, tzinfo=UTC)

# -- the reference's examples (graph-protocol.md sections 1.4-1.6), copied exactly -------------

IN_PROGRESS = """{
  "operation": "ItemCopy",
  "percentageComplete": 27.8,
  "status": "inProgress"
}"""
DOWNLOAD_NOT_STARTED = '{"operation":"DownloadUrl","percentageComplete":0.0,"status":"notStarted"}'
DOWNLOAD_IN_PROGRESS = '{"operation":"DownloadUrl","percentageComplete":0.0,"status":"inProgress"}'
COMPLETED_303 = """{
    "percentageComplete": 100.0,
    "resourceId": "01MOWKYVJML57KN2ANMBA3JZJS2MBGC7KM",
    "status": "completed"
}"""
SHAREPOINT_V21_COMPLETED = """{
  "@odata.context": "https://contoso.sharepoint.com/sites/site1/_api/v2.1/$metadata#drives('driveId')/operations/$entity",
  "id": "049af13f-d177-4c70-aed0-eb6f04a5d88b",
  "createdDateTime": "0001-01-01T00:00:00Z",
  "lastActionDateTime": "0001-01-01T00:00:00Z",
  "percentageComplete": 100,
  "percentComplete": 100,
  "resourceId": "016OGUCSF6Y2GOVW7725BZO354PWSELRRZ",
  "resourceLocation": "https://contoso.sharepoint.com/sites/site2/_api/v2.0/drives/b!1YwGyNd6RUuVB42eCVw7ULlXybr_-09Br67iDGnYY-neBqwZd6jJRJbgCTx0On5n/items/016OGUCSF6Y2GOVW7725BZO354PWSELRRZ",
  "status": "completed"
}"""
CONSUMER_COMPLETED = """{
    "@odata.context": "https://my.microsoftpersonalcontent.com/personal/A0AA0A000A000A0A/_api/v2.0/$metadata#oneDrive.asynchronousOperationStatus",
    "percentageComplete": 100.0,
    "resourceId": "01JP3NYHGSBJ7R42UN65HZ333HZFWQTGL4",
    "status": "completed"
}"""
SHAREPOINT_V21_FAILED = """{
  "id": "46cf980a-28e1-4623-b8d0-11fc5278efe6",
  "createdDateTime": "0001-01-01T00:00:00Z",
  "lastActionDateTime": "0001-01-01T00:00:00Z",
  "status": "failed",
  "error": {
    "code": "nameAlreadyExists",
    "message": "Name already exists"
  }
}"""
LEGACY_FAILED = (
    '{"operation": "ItemCopy", "percentageComplete": 0, "status": "failed", '
    '"statusDescription": "Completed 0/0 files; 0/9314 bytes"}'
)
UNAUTHENTICATED_401 = '{"error":{"code":"unauthenticated","message":"Authentication failed"}}'
RCLONE_ERROR_CODE = '{"status": "failed", "errorCode": "AccessDenied_CrossDrive"}'

#: (body, http, status, percentage, operation, resource_id, error_code, error_message)
REFERENCE_FIXTURES = [
    pytest.param(
        IN_PROGRESS, 202, "inProgress", 27.8, "ItemCopy", None, None, None, id="1.4-in-progress"
    ),
    pytest.param(
        DOWNLOAD_NOT_STARTED, 202, "notStarted", 0.0, "DownloadUrl", None, None, None,
        id="1.4-download-not-started",
    ),
    pytest.param(
        DOWNLOAD_IN_PROGRESS, 202, "inProgress", 0.0, "DownloadUrl", None, None, None,
        id="1.4-download-in-progress",
    ),
    pytest.param(
        COMPLETED_303, 303, "completed", 100.0, None, "01MOWKYVJML57KN2ANMBA3JZJS2MBGC7KM",
        None, None, id="1.5-303-with-body",
    ),
    pytest.param(
        COMPLETED_303, 202, "completed", 100.0, None, "01MOWKYVJML57KN2ANMBA3JZJS2MBGC7KM",
        None, None, id="1.5-graph-202",
    ),
    pytest.param(
        SHAREPOINT_V21_COMPLETED, 200, "completed", 100.0, None,
        "016OGUCSF6Y2GOVW7725BZO354PWSELRRZ", None, None, id="1.5-sharepoint-v21",
    ),
    pytest.param(
        CONSUMER_COMPLETED, 200, "completed", 100.0, None, "01JP3NYHGSBJ7R42UN65HZ333HZFWQTGL4",
        None, None, id="1.5-consumer",
    ),
    pytest.param(
        SHAREPOINT_V21_FAILED, 200, "failed", None, None, None, "nameAlreadyExists",
        "Name already exists", id="1.6-v21-failed-no-percentage",
    ),
    pytest.param(
        LEGACY_FAILED, 200, "failed", 0.0, "ItemCopy", None, None,
        "Completed 0/0 files; 0/9314 bytes", id="1.6-legacy-status-description",
    ),
    pytest.param(
        RCLONE_ERROR_CODE, 200, "failed", None, None, None, "AccessDenied_CrossDrive", None,
        id="1.6-undocumented-errorCode",
    ),
    pytest.param(
        UNAUTHENTICATED_401, 401, None, None, None, None, "unauthenticated",
        "Authentication failed", id="1.3-401-without-status",
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "http", "status", "pct", "operation", "resource_id", "error_code", "error_message"),
    REFERENCE_FIXTURES,
)
def test_reference_examples_normalise_to_their_fields(
    body: str,
    http: int,
    status: str | None,
    pct: float | None,
    operation: str | None,
    resource_id: str | None,
    error_code: str | None,
    error_message: str | None,
) -> None:
    fields = normalize(body.encode(), http_status=http)
    got = tuple(
        fields[k]
        for k in ("status", "percentage_complete", "operation", "resource_id", "error_code")
    )
    assert got == (status, pct, operation, resource_id, error_code)
    assert fields["error_message"] == error_message
    assert (fields["http_status"], fields["body"]) == (http, body)


@pytest.mark.parametrize("body", [IN_PROGRESS, IN_PROGRESS.encode(), json.loads(IN_PROGRESS)])
def test_bytes_text_and_parsed_mappings_give_the_same_fields(body: Any) -> None:
    fields = normalize(body)
    assert (fields["status"], fields["percentage_complete"]) == ("inProgress", 27.8)
    assert json.loads(fields["body"]) == json.loads(IN_PROGRESS)


def test_returns_exactly_the_documented_keys() -> None:
    assert tuple(normalize(IN_PROGRESS)) == FIELDS


# -- bodies that cannot be understood ----------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "http", "stored"),
    [
        pytest.param(b'{"status": "inProgress",', 200, '{"status": "inProgress",', id="malformed"),
        pytest.param(
            b"<html><body><h1>503 Service Unavailable</h1></body></html>",
            503,
            "<html><body><h1>503 Service Unavailable</h1></body></html>",
            id="html-503",
        ),
        pytest.param(COMPLETED_303.encode()[:40], 200, COMPLETED_303[:40], id="truncated-json"),
        pytest.param(b"", 303, None, id="empty-bytes"),
        pytest.param("", 200, None, id="empty-text"),
        pytest.param(None, 404, None, id="no-body"),
        pytest.param(
            b'[{"status": "completed"}]', 200, '[{"status": "completed"}]', id="json-list"
        ),
        pytest.param(b'"completed"', 200, '"completed"', id="json-string"),
        pytest.param(
            b'{"status": "completed", "x": "\xff\xfe"}',
            200,
            '{"status": "completed", "x": "\ufffd\ufffd"}',
            id="non-utf8",
        ),
        pytest.param(b"[" * 100_000, 200, "[" * 65536, id="deeply-nested"),
    ],
)
def test_bodies_that_are_not_a_json_object_give_no_status_and_keep_the_text(
    body: Any, http: int, stored: str | None
) -> None:
    fields = normalize(body, http_status=http)
    assert fields["status"] is None
    assert fields["percentage_complete"] is None
    assert fields["body"] == stored
    assert fields["http_status"] == http


def test_utf8_bom_is_accepted() -> None:
    assert normalize(b"\xef\xbb\xbf" + IN_PROGRESS.encode())["status"] == "inProgress"


@given(st.binary(max_size=300))
def test_any_bytes_normalise_without_raising(body: bytes) -> None:
    fields = normalize(body, http_status=200, headers={"Retry-After": body.decode("latin-1")})
    assert tuple(fields) == FIELDS
    assert fields["body"] is None or isinstance(fields["body"], str)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["status", "percentageComplete", "percentComplete", "error", "code"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@given(JSON_VALUES)
def test_any_json_document_normalises_to_typed_fields(document: Any) -> None:
    fields = normalize(json.dumps(document))
    assert fields["status"] is None or isinstance(fields["status"], str)
    assert fields["percentage_complete"] is None or isinstance(fields["percentage_complete"], float)
    assert fields["error_code"] is None or isinstance(fields["error_code"], str)


# -- percentages -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param('{"percentageComplete": NaN}', math.nan, id="nan-literal"),
        pytest.param('{"percentageComplete": Infinity}', math.inf, id="infinity-literal"),
        pytest.param('{"percentageComplete": -Infinity}', -math.inf, id="minus-infinity"),
        pytest.param('{"percentageComplete": "Infinity"}', math.inf, id="infinity-string"),
        pytest.param('{"percentageComplete": "NaN"}', math.nan, id="nan-string"),
        pytest.param('{"percentageComplete": "42.5"}', 42.5, id="numeric-string"),
        pytest.param('{"percentageComplete": " 7 "}', 7.0, id="padded-string"),
        pytest.param('{"percentageComplete": 100}', 100.0, id="int"),
        pytest.param('{"percentageComplete": 1e400}', math.inf, id="overflowing-float"),
        pytest.param('{"percentageComplete": -5}', -5.0, id="negative-kept"),
        pytest.param('{"percentageComplete": true}', None, id="bool"),
        pytest.param('{"percentageComplete": "about half"}', None, id="junk-string"),
        pytest.param('{"percentageComplete": "1_0"}', None, id="underscore-string"),
        pytest.param('{"percentageComplete": [50]}', None, id="list"),
        pytest.param('{"percentageComplete": null}', None, id="null"),
        pytest.param("{}", None, id="missing"),
    ],
)
def test_percentage_accepts_numbers_and_numeric_strings_only(
    body: str, expected: float | None
) -> None:
    got = normalize(body)["percentage_complete"]
    if expected is None:
        assert got is None
    elif math.isnan(expected):
        assert isinstance(got, float) and math.isnan(got)
    else:
        assert got == expected


def test_huge_integer_percentage_becomes_infinity() -> None:
    assert normalize({"percentageComplete": 10**400})["percentage_complete"] == math.inf


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        pytest.param({"percentageComplete": 40, "percentComplete": 90}, 40.0, id="both"),
        pytest.param({"percentComplete": 90}, 90.0, id="only-percentComplete"),
        pytest.param({"percentageComplete": None, "percentComplete": 90}, 90.0, id="null"),
        pytest.param({"percentageComplete": "bad", "percentComplete": 90}, None, id="bad"),
    ],
)
def test_percentage_complete_is_preferred_over_percent_complete(
    document: dict[str, Any], expected: float | None
) -> None:
    assert normalize(document)["percentage_complete"] == expected


# -- other fields ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "status"),
    [
        ({"status": "cancelled"}, "cancelled"),
        ({"status": "In Progress!"}, "In Progress!"),
        ({"status": 3}, "3"),
        ({"status": True}, "true"),
        ({"status": {"value": "x"}}, None),
        ({"status": None}, None),
    ],
)
def test_status_is_kept_verbatim_and_scalars_as_their_json(
    document: dict[str, Any], status: str | None
) -> None:
    assert normalize(document)["status"] == status


@pytest.mark.parametrize(
    ("document", "code", "message"),
    [
        ({"error": {"code": "a", "message": "b"}, "errorCode": "c"}, "a", "b"),
        ({"errorCode": "c", "statusDescription": "d"}, "c", "d"),
        ({"error": {"message": "b"}, "statusDescription": "d"}, None, "b"),
        ({"error": "invalid_request", "error_description": "bad"}, "invalid_request", "bad"),
        ({"error": ["x"]}, None, None),
    ],
)
def test_error_fields_come_from_the_error_object_or_the_flat_fields(
    document: dict[str, Any], code: str | None, message: str | None
) -> None:
    fields = normalize(document)
    assert (fields["error_code"], fields["error_message"]) == (code, message)


def test_secrets_in_extracted_fields_and_body_are_redacted() -> None:
    secret = "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.eyJhdWQiOiJ4In0."
    document = {
        "status": "failed",
        "error": {"code": "x", "message": f"see https://h/p?tempauth={secret}"},
    }
    fields = normalize(json.dumps(document))
    assert secret not in fields["error_message"]
    assert fields["error_message"] == "see https://h/p?tempauth=REDACTED"
    assert secret not in fields["body"] and "tempauth=REDACTED" in fields["body"]


def test_303_location_is_redacted_and_the_empty_body_stays_none() -> None:
    location = "https://contoso.sharepoint.com/_api/v2.0/drives/d/items/i?force303=1&tempauth=abc"
    fields = normalize(b"", http_status=303, headers={"Location": location})
    assert fields["location"] == (
        "https://contoso.sharepoint.com/_api/v2.0/drives/d/items/i?force303=1&tempauth=REDACTED"
    )
    assert (fields["body"], fields["status"]) == (None, None)


@pytest.mark.parametrize("unit", ["a", "é", "€", "😀"])
def test_long_bodies_are_cut_to_the_byte_limit_without_splitting_a_character(unit: str) -> None:
    body = json.dumps({"status": "inProgress", "pad": unit * (BODY_LIMIT + 10)})
    fields = normalize(body.encode())
    stored = fields["body"].encode()
    assert fields["status"] == "inProgress"
    assert BODY_LIMIT - 4 < len(stored) <= BODY_LIMIT
    assert body.startswith(fields["body"])


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"status": "completed", "pad": "000', id="cut-inside-the-document"),
        pytest.param(b'{"status": "completed"}', id="cut-right-after-a-whole-document"),
    ],
)
def test_a_body_cut_short_is_kept_but_never_understood(body: bytes) -> None:
    fields = normalize(body, http_status=200, whole=False)
    assert fields["status"] is None
    assert fields["body"] == body.decode()
    assert fields["http_status"] == 200


# -- Retry-After -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("120", 120.0, id="seconds"),
        pytest.param(" 41 ", 41.0, id="padded"),
        pytest.param("1.5", 1.5, id="fraction"),
        pytest.param("0", 0.0, id="zero"),
        pytest.param("-5", 0.0, id="negative"),
        pytest.param(format_datetime(NOW + timedelta(seconds=315), usegmt=True), 315.0, id="date"),
        pytest.param(format_datetime(NOW - timedelta(hours=1), usegmt=True), 0.0, id="past-date"),
        pytest.param("Mon, 05 Jan 2026 23:02:00 +0000", 120.0, id="date-numeric-zone"),
        pytest.param("soon", None, id="junk"),
        pytest.param("", None, id="empty"),
        pytest.param("inf", None, id="infinite"),
        pytest.param("nan", None, id="nan"),
        pytest.param("2 minutes", None, id="words"),
        pytest.param(None, None, id="missing"),
    ],
)
def test_retry_after_is_seconds_or_an_http_date(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


def test_retry_after_date_without_now_is_measured_from_the_clock() -> None:
    soon = datetime.now(UTC) + timedelta(seconds=600)
    waited = parse_retry_after(format_datetime(soon, usegmt=True))
    assert waited is not None and 590 <= waited <= 600


@pytest.mark.parametrize(
    "headers",
    [
        {"Retry-After": "30"},
        {"retry-after": "30"},
        {"RETRY-AFTER": "30"},
        httpx.Headers({"Retry-After": "30"}),
    ],
)
def test_normalize_reads_retry_after_whatever_the_header_case(headers: Any) -> None:
    assert normalize(b"", http_status=429, headers=headers)["retry_after_s"] == 30.0


def test_normalize_dates_retry_after_from_now() -> None:
    headers = {"Retry-After": format_datetime(NOW + timedelta(seconds=90), usegmt=True)}
    assert normalize(None, http_status=503, headers=headers, now=NOW)["retry_after_s"] == 90.0


# -- render_body -------------------------------------------------------------------------------

STATUSES = st.sampled_from(
    ["notStarted", "inProgress", "completed", "failed", "waiting", "cancelled", "odd value"]
)
PERCENTAGES = st.none() | st.floats(allow_nan=True, allow_infinity=True) | st.integers(0, 100)
#: Free text that holds nothing secret-shaped (redaction is meant to change the rest).
WORDS = st.none() | st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20
).filter(lambda text: redact_text(text) == text)
IDS = st.none() | st.from_regex(r"01[A-Z0-9]{32}", fullmatch=True)

ROUND_TRIPPED = ("status", "operation", "resource_id", "error_code", "error_message")


@given(
    dialect=st.sampled_from(DIALECTS),
    status=STATUSES,
    pct=PERCENTAGES,
    operation=st.none() | st.sampled_from(["ItemCopy", "DownloadUrl"]),
    resource_id=IDS,
    error_code=st.none() | st.sampled_from(["nameAlreadyExists", "AccessDenied_x"]),
    error_message=WORDS,
    job_id=st.from_regex(r"[0-9a-f-]{0,36}", fullmatch=True),
)
def test_normalize_inverts_render_body_for_every_dialect(
    dialect: str,
    status: str,
    pct: float | None,
    operation: str | None,
    resource_id: str | None,
    error_code: str | None,
    error_message: str | None,
    job_id: str,
) -> None:
    given_fields = {
        "status": status,
        "operation": operation,
        "resource_id": resource_id,
        "error_code": error_code,
        "error_message": error_message,
    }
    body = render_body(dialect, percentage_complete=pct, job_id=job_id, **given_fields)
    fields = normalize(body)
    assert {k: fields[k] for k in ROUND_TRIPPED} == given_fields
    no_pct_here = dialect == "sharepoint-v21" and status == "failed"
    expected = None if pct is None or no_pct_here else float(pct)
    got = fields["percentage_complete"]
    assert got == expected or (math.isnan(got) and math.isnan(expected))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("dialect", "keys"),
    [
        ("legacy", ["operation", "percentageComplete", "status"]),
        ("graph", ["operation", "percentageComplete", "status"]),
        (
            "sharepoint-v21",
            [
                "@odata.context", "id", "createdDateTime", "lastActionDateTime", "operation",
                "percentageComplete", "percentComplete", "status",
            ],
        ),
        ("consumer", ["@odata.context", "operation", "percentageComplete", "status"]),
    ],
)  # fmt: skip
def test_in_progress_bodies_have_their_dialects_keys(dialect: str, keys: list[str]) -> None:
    body = render_body(dialect, status="inProgress", percentage_complete=27.8, operation="ItemCopy")
    assert list(json.loads(body)) == keys


def test_sharepoint_v21_completion_has_integer_percentages_and_a_resource_location() -> None:
    body = render_body(
        "sharepoint-v21",
        status="completed",
        percentage_complete=100.0,
        resource_id="016OGUCSF6Y2GOVW7725BZO354PWSELRRZ",
        job_id="049af13f-d177-4c70-aed0-eb6f04a5d88b",
    )
    document = json.loads(body)
    assert b'"percentageComplete":100,"percentComplete":100' in body
    assert document["id"] == "049af13f-d177-4c70-aed0-eb6f04a5d88b"
    assert document["createdDateTime"] == document["lastActionDateTime"] == "0001-01-01T00:00:00Z"
    assert document["resourceLocation"].startswith("https://contoso.sharepoint.com/_api/v2.0/")
    assert document["resourceLocation"].endswith("/items/016OGUCSF6Y2GOVW7725BZO354PWSELRRZ")
    assert document["@odata.context"].endswith("/operations/$entity")


def test_sharepoint_v21_failure_has_an_error_and_no_percentage() -> None:
    body = render_body(
        "sharepoint-v21",
        status="failed",
        percentage_complete=0.0,
        error_code="nameAlreadyExists",
        error_message="Name already exists",
    )
    document = json.loads(body)
    assert "percentageComplete" not in document and "percentComplete" not in document
    assert document["error"] == {"code": "nameAlreadyExists", "message": "Name already exists"}


@pytest.mark.parametrize(
    ("dialect", "flat"),
    [("legacy", True), ("graph", False), ("consumer", False)],
)
def test_failures_carry_flat_or_nested_error_fields(dialect: str, flat: bool) -> None:
    document = json.loads(
        render_body(
            dialect, status="failed", percentage_complete=0, error_code="c", error_message="m"
        )
    )
    if flat:
        assert (document["errorCode"], document["statusDescription"]) == ("c", "m")
    else:
        assert document["error"] == {"code": "c", "message": "m"}


def test_consumer_context_is_built_on_the_base_url() -> None:
    body = render_body(
        "consumer",
        status="completed",
        percentage_complete=100.0,
        base_url="https://my.microsoftpersonalcontent.com/personal/A0AA0A000A000A0A",
    )
    assert json.loads(body)["@odata.context"] == json.loads(CONSUMER_COMPLETED)["@odata.context"]


@pytest.mark.parametrize(("pct", "written"), [(math.nan, b"NaN"), (math.inf, b"Infinity")])
def test_non_finite_percentages_are_written_as_python_json_does(pct: float, written: bytes) -> None:
    body = render_body("graph", status="inProgress", percentage_complete=pct)
    assert b'"percentageComplete":' + written in body


def test_none_fields_are_left_out() -> None:
    assert json.loads(render_body("graph", status=None, percentage_complete=None)) == {}


def test_unknown_dialect_is_a_payload_error_listing_the_valid_ones() -> None:
    with pytest.raises(PayloadError, match="unknown dialect 'odata'") as caught:
        render_body("odata", status="completed", percentage_complete=100.0)
    assert isinstance(caught.value, ValueError)
    assert all(dialect in str(caught.value) for dialect in DIALECTS)


# -- job ids -----------------------------------------------------------------------------------

LONG_TOKEN = "aHR0cHM6Ly9tb25pdG9yLmV4YW1wbGU" * 8
TEMPAUTH = "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.eyJhdWQiOiIwMDAwMDAwMy0wMDAwIn0."


@pytest.mark.parametrize(
    ("url", "job_id"),
    [
        pytest.param(
            "https://api.onedrive.com/monitor/4A3407B5-88FC-4504-8B21-0AABD3412717",
            "4A3407B5-88FC-4504-8B21-0AABD3412717",
            id="consumer-docs",
        ),
        pytest.param(
            "https://contoso.sharepoint.com/_api/v2.0/monitor/4A3407B5-88FC-4504-8B21-0AABD3412717",
            "4A3407B5-88FC-4504-8B21-0AABD3412717",
            id="graph-docs",
        ),
        pytest.param(
            "https://contoso-my.sharepoint.com/personal/u/_api/v2.1/drive/operations/"
            f"8b1a2c3d-0000-4000-8000-000000000001?c=Zm9vI2h0dHBz&v=2.0&tempauth={TEMPAUTH}",
            "8b1a2c3d-0000-4000-8000-000000000001",
            id="v21-operations-with-credentials",
        ),
        pytest.param(
            "https://contoso.sharepoint.com/sites/FromSite/_api/v2.1/monitor/"
            "0ba0f1e4-7d1e-4b5c-a1b3-7e9f2d5c8a10",
            "0ba0f1e4-7d1e-4b5c-a1b3-7e9f2d5c8a10",
            id="beta-example-10",
        ),
        pytest.param(
            "https://contoso.sharepoint.com/_api/v2.0/MONITOR/AbC-1", "AbC-1", id="any-case"
        ),
        pytest.param("/v1.0/monitor/job%2F7", "job/7", id="relative-and-quoted"),
    ],
)
def test_job_id_is_the_segment_after_monitor_or_operations(url: str, job_id: str) -> None:
    assert job_id_from_url(url) == job_id


@pytest.mark.parametrize(
    "url",
    [
        f"https://graph.microsoft.com/v1.0/monitor/{LONG_TOKEN}",
        f"https://api.onedrive.com/v1.0/monitor/{LONG_TOKEN}?x=1",
    ],
)
def test_long_opaque_monitor_tokens_are_hashed(url: str) -> None:
    job_id = job_id_from_url(url)
    assert job_id.startswith("h-") and len(job_id) == 34
    assert LONG_TOKEN[:20] not in job_id
    assert job_id == job_id_from_url(url.replace("?x=1", "?y=2"))


def test_a_secret_shaped_segment_is_hashed() -> None:
    job_id = job_id_from_url(f"https://h/monitor/{TEMPAUTH[:40]}.x.y")
    assert job_id.startswith("h-") and "eyJ" not in job_id


def test_urls_without_a_job_segment_hash_the_redacted_url_without_its_query() -> None:
    first = job_id_from_url(
        f"https://contoso.sharepoint.com/_api/v2.0/drives/d/items/i?force303=1&tempauth={TEMPAUTH}"
    )
    second = job_id_from_url("https://contoso.sharepoint.com/_api/v2.0/drives/d/items/i")
    other = job_id_from_url("https://contoso.sharepoint.com/_api/v2.0/drives/d/items/j")
    assert first == second != other
    assert first.startswith("u-") and len(first) == 34


def test_job_ids_are_stable_across_calls() -> None:
    url = f"https://api.onedrive.com/v1.0/monitor/{LONG_TOKEN}"
    assert len({job_id_from_url(url) for _ in range(3)}) == 1
