"""One monitor response of any dialect as observation fields, and the bodies each dialect sends."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import unquote

from replay.decode import text_of_bytes
from replay.errors import PayloadError
from replay.redact import find_secrets, redact_text, redact_url
from replay.status import DIALECTS

__all__ = [
    "BODY_LIMIT",
    "FIELDS",
    "find_secrets",
    "job_id_from_url",
    "normalize",
    "parse_retry_after",
    "redact_text",
    "redact_url",
    "render_body",
]

#: Body shapes of the reference (section 1.4-1.6), in the order ``replay serve --dialect`` lists.

#: The keys :func:`normalize` returns: observation columns, plus ``location`` (not a column).
#: Raw bodies are stored truncated to this many bytes (UTF-8).
BODY_LIMIT = 64 * 1024

FIELDS: tuple[str, ...] = (
    "status",
    "percentage_complete",
    "operation",
    "resource_id",
    "error_code",
    "error_message",
    "http_status",
    "retry_after_s",
    "body",
    "location",
)

#: Statuses whose sharepoint-v21 body carries an ``error`` and no percentage (beta Example 3).
_FAILURES = frozenset({"failed", "deleteFailed"})
_PLACEHOLDER_TS = "0001-01-01T00:00:00Z"
_NUMBER = re.compile(
    r"\s*[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?|nan|inf|infinity)\s*", re.IGNORECASE
)
_ORIGIN = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://[^/?#]*")
_JOB_SEGMENT = re.compile(r"/(?:monitor|operations)/([^/?#]+)", re.IGNORECASE)
_MAX_JOB_ID = 64


# -- normalize ---------------------------------------------------------------------------------


def normalize(
    body: bytes | str | Mapping[str, Any] | None,
    *,
    http_status: int | None = None,
    headers: Mapping[str, str] | None = None,
    now: datetime | None = None,
    whole: bool = True,
) -> dict[str, Any]:
    """One monitor response of any dialect as the observation fields (:data:`FIELDS`).

    Never raises on a bad body: malformed or truncated JSON, HTML, a JSON list or non-UTF-8 bytes
    give ``status`` None and keep the body. Every string taken from the response is redacted;
    ``body`` is the raw text, redacted and cut to ``BODY_LIMIT`` bytes (None when empty);
    ``location`` is the redacted ``Location`` header. ``now`` dates a ``Retry-After`` HTTP date.
    ``whole=False`` says the body was cut short by a reader's size cap: it is kept, never
    parsed, since what the cut left out could change what it means.
    """
    text, document = _decoded(body)
    if not whole:
        document = None
    fields = _document_fields(document if isinstance(document, Mapping) else {})
    fields.update(
        http_status=http_status,
        retry_after_s=parse_retry_after(_header(headers, "retry-after"), now),
        body=_stored_body(text),
        location=_location(_header(headers, "location")),
    )
    return fields


def _decoded(body: Any) -> tuple[str | None, Any]:
    """(the body as text or None, the parsed JSON document or None)."""
    if body is None:
        return None, None
    if isinstance(body, bytes | bytearray | memoryview):
        return _decoded_bytes(bytes(body))
    if isinstance(body, str):
        return body, _parsed(body)
    return _dumped(body), body


def _decoded_bytes(raw: bytes) -> tuple[str, Any]:
    """UTF-8, or UTF-16/32 told by a BOM or NULs; undecodable bytes: what can be read is kept,
    nothing is understood."""
    text, clean = text_of_bytes(raw)
    return text, _parsed(text) if clean else None


def _parsed(text: str) -> Any:
    """The JSON document in ``text``, or None when it is not JSON (HTML, cut off, empty)."""
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _dumped(document: Any) -> str:
    """An already-parsed body as JSON text (any value json cannot write shown by ``str``)."""
    try:
        return json.dumps(document, default=str, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        return str(document)


def _document_fields(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The fields a JSON object of any dialect carries (missing ones None)."""
    error = doc.get("error")
    nested = error if isinstance(error, Mapping) else {}
    code = nested.get("code") if nested else error
    message = nested.get("message") if nested else doc.get("error_description")
    return {
        "status": _text(doc.get("status")),
        "percentage_complete": _percentage(doc),
        "operation": _text(doc.get("operation")),
        "resource_id": _text(doc.get("resourceId")),
        "error_code": _text(_first(code, doc.get("errorCode"))),
        "error_message": _text(_first(message, doc.get("statusDescription"))),
    }


def _first(*values: Any) -> Any:
    return next((value for value in values if value is not None), None)


def _text(value: Any) -> str | None:
    """A scalar JSON value as redacted text (numbers and booleans as JSON writes them)."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return None


def _percentage(doc: Mapping[str, Any]) -> float | None:
    """``percentageComplete``, else ``percentComplete``, as a float (NaN and inf kept)."""
    value = doc.get("percentageComplete")
    if value is None:
        value = doc.get("percentComplete")
    return _as_float(value)


def _as_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return _number_text(value)
    if isinstance(value, int):
        return _int_float(value)
    if isinstance(value, float):
        return value
    return None


def _number_text(text: str) -> float | None:
    if _NUMBER.fullmatch(text) is None:
        return None
    try:
        return float(text)
    except OverflowError:
        return math.copysign(math.inf, -1.0 if text.strip().startswith("-") else 1.0)


def _int_float(value: int) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    """A header's value, whatever the case of its name in ``headers``."""
    if not headers:
        return None
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value


def _location(value: str | None) -> str | None:
    return redact_url(value) if value else None


def _stored_body(text: str | None) -> str | None:
    """``text`` redacted and cut to BODY_LIMIT bytes of UTF-8 (never inside a character)."""
    if not text:
        return None
    redacted = redact_text(text)
    raw = redacted.encode("utf-8", errors="replace")
    if len(raw) <= BODY_LIMIT:
        return redacted
    return raw[:BODY_LIMIT].decode("utf-8", errors="ignore")


# -- Retry-After and job ids -------------------------------------------------------------------


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delay seconds (int or float) or an HTTP date
    (relative to ``now``, default the current time); negative gives 0, junk or missing None."""
    if value is None:
        return None
    text = value.strip()
    if _NUMBER.fullmatch(text) is not None:
        seconds = float(text)
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    return _seconds_until(text, now)


def _seconds_until(text: str, now: datetime | None) -> float | None:
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    reference = now or datetime.now(UTC)
    if reference.tzinfo is None:
        reference = reference.replace(tzinfo=UTC)
    return max((when - reference).total_seconds(), 0.0)


def job_id_from_url(url: str) -> str:
    """The stable job id of a monitor URL: the path segment after ``/monitor/`` or
    ``/operations/`` (any case); ``h-`` + a hash when it is longer than 64 characters or holds a
    secret; ``u-`` + a hash of the redacted URL without its query when there is no such segment."""
    match = _JOB_SEGMENT.search(_ORIGIN.sub("", _without_query(url)))
    if match is None:
        # redact_text, not redact_url: a token-like segment dropped whole could merge two jobs
        return "u-" + _digest(redact_text(_without_query(url)))
    segment = unquote(match.group(1))
    if len(segment) > _MAX_JOB_ID or redact_text(segment) != segment:
        return "h-" + _digest(segment)
    return segment


def _without_query(url: str) -> str:
    return re.split(r"[?#]", url, maxsplit=1)[0]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", errors="replace")).hexdigest()[:32]


# -- render_body -------------------------------------------------------------------------------


def render_body(
    dialect: str,
    *,
    status: str | None,
    percentage_complete: float | None,
    operation: str | None = None,
    resource_id: str | None = None,
    error_code: str | None = None,
    error_message: str | None = None,
    job_id: str = "",
    base_url: str = "https://contoso.sharepoint.com",
) -> bytes:
    """The JSON body a monitor of ``dialect`` sends for these fields (the inverse of normalize).

    None fields are left out; a NaN or infinite percentage is written as ``NaN``/``Infinity``.
    The one field that does not round-trip is sharepoint-v21's percentage on ``failed`` and
    ``deleteFailed``: that shape has no percentage on failure. Raises PayloadError for an unknown
    dialect.
    """
    fields = {
        "status": status,
        "pct": percentage_complete,
        "operation": operation,
        "resource_id": resource_id,
        "error_code": error_code,
        "error_message": error_message,
    }
    shape = _SHAPES.get(dialect)
    if shape is None:
        raise PayloadError(
            f"unknown dialect {dialect!r}: expected one of {', '.join(DIALECTS)}", code=dialect
        )
    document = shape(fields, job_id.strip() or "00000000-0000-0000-0000-000000000000", base_url)
    return json.dumps(_present(document), separators=(",", ":")).encode()


def _present(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` without its None values (also inside a nested ``error``)."""
    kept = {key: value for key, value in document.items() if value is not None}
    if isinstance(kept.get("error"), dict):
        kept["error"] = _present(kept["error"]) or None
    return {key: value for key, value in kept.items() if value is not None}


def _error(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {"code": fields["error_code"], "message": fields["error_message"]}


def _legacy(fields: Mapping[str, Any], job_id: str, base_url: str) -> dict[str, Any]:
    """OneDrive AsyncJobStatus (rclone, onedrive-api-docs#666): flat error fields."""
    return {
        "operation": fields["operation"],
        "percentageComplete": fields["pct"],
        "status": fields["status"],
        "resourceId": fields["resource_id"],
        "statusDescription": fields["error_message"],
        "errorCode": fields["error_code"],
    }


def _graph(fields: Mapping[str, Any], job_id: str, base_url: str) -> dict[str, Any]:
    """Graph long-running-actions overview: percentage, status, resourceId, an error object."""
    return {
        "operation": fields["operation"],
        "percentageComplete": fields["pct"],
        "status": fields["status"],
        "resourceId": fields["resource_id"],
        "error": _error(fields),
    }


def _sharepoint_v21(fields: Mapping[str, Any], job_id: str, base_url: str) -> dict[str, Any]:
    """The v2.1 ``operations/$entity`` (beta driveitem-copy Examples 2 and 3)."""
    drive = "b!" + _digest(job_id)[:22]
    failed = fields["status"] in _FAILURES
    pct = None if failed else _whole_as_int(fields["pct"])
    done = fields["status"] == "completed" and fields["resource_id"] is not None
    location = f"{base_url}/_api/v2.0/drives/{drive}/items/{fields['resource_id']}"
    return {
        "@odata.context": f"{base_url}/_api/v2.1/$metadata#drives('{drive}')/operations/$entity",
        "id": job_id,
        "createdDateTime": _PLACEHOLDER_TS,
        "lastActionDateTime": _PLACEHOLDER_TS,
        "operation": fields["operation"],
        "percentageComplete": pct,
        "percentComplete": pct,
        "resourceId": fields["resource_id"],
        "resourceLocation": location if done else None,
        "status": fields["status"],
        "error": _error(fields),
    }


def _consumer(fields: Mapping[str, Any], job_id: str, base_url: str) -> dict[str, Any]:
    """OneDrive consumer (apache/opendal fixture): ``@odata.context`` on the Graph shape."""
    context = f"{base_url}/_api/v2.0/$metadata#oneDrive.asynchronousOperationStatus"
    return {"@odata.context": context, **_graph(fields, job_id, base_url)}


def _whole_as_int(value: float | None) -> float | int | None:
    """100.0 as 100 (SharePoint writes whole percentages as integers); others unchanged."""
    if value is not None and abs(value) < 1e15 and value == int(value):
        return int(value)
    return value


_SHAPES = {
    "legacy": _legacy,
    "graph": _graph,
    "sharepoint-v21": _sharepoint_v21,
    "consumer": _consumer,
}
