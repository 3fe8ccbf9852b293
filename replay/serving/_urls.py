"""Monitor URL shapes per dialect and the fake credentials real monitor URLs carry."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from urllib.parse import quote, unquote, urlencode, urlsplit

from replay.errors import UsageError

__all__ = [
    "MONITOR_PATHS",
    "FakeCredentials",
    "copy_request_matches",
    "fake_credentials",
    "job_id_from_path",
    "job_id_of",
    "monitor_path_and_query",
]

#: Path template of a monitor URL per dialect (reference section 1.2); ``{id}`` is the job id.
MONITOR_PATHS: dict[str, str] = {
    "legacy": "/_api/v2.0/monitor/{id}",
    "graph": "/_api/v2.0/monitor/{id}",
    "sharepoint-v21": "/personal/u/_api/v2.1/drive/operations/{id}",
    "consumer": "/monitor/{id}",
}

#: ``tempauth`` lives 24 h in the wild (``exp - nbf`` of the token in onedrive-api-docs#1239).
_TEMPAUTH_LIFETIME_S = 86400
_JOB_SEGMENT = re.compile(r"/(?:monitor|operations)/([^/]+)/?$")
_COPY_PATH = re.compile(
    r"^(?:/(?:v1\.0|beta))?"
    r"/(?:drives/[^/]+|me/drive|(?:sites|users|groups)/[^/]+/drive)/items/[^/]+/copy/?$"
)


class FakeCredentials:
    """The fake ``tempauth`` and ``c`` query values of one monitor URL."""

    __slots__ = ("c", "tempauth")

    def __init__(self, tempauth: str, c: str) -> None:
        self.tempauth = tempauth
        self.c = c

    def __repr__(self) -> str:
        return "FakeCredentials(<redacted>)"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _compact_json(document: dict[str, str]) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def fake_credentials(job_id: str, nonce: str, *, now: float | None = None) -> FakeCredentials:
    """Credentials shaped like the real ones, unique to ``job_id`` and the server's ``nonce``.

    ``tempauth`` is an unsigned JWT (``alg: none``, empty signature, 24 h validity) and ``c`` is
    base64 of ``<key>#<Azure queue SAS URL with sig=>``, as decoded from a real monitor URL.
    """
    issued = int(time.time() if now is None else now)
    digest = _digest(job_id, nonce)
    header = _b64url(_compact_json({"typ": "JWT", "alg": "none"}))
    claims = {
        "aud": "00000003-0000-0ff1-ce00-000000000000/127.0.0.1@fake-tenant",
        "iss": "00000003-0000-0ff1-ce00-000000000000",
        "nbf": str(issued),
        "exp": str(issued + _TEMPAUTH_LIFETIME_S),
        "endpointurl": base64.b64encode(bytes.fromhex(digest[:32])).decode("ascii"),
        "ver": "hashedprooftoken",
        "nonce": digest[32:48],
    }
    tempauth = f"{header}.{_b64url(_compact_json(claims))}."
    sas = (
        f"{digest[48:56]}#https://fakequeue.queue.core.windows.net/copyjobs"
        f"?sv=2018-03-28&sig={quote(base64.b64encode(bytes.fromhex(digest[:64])).decode())}"
        f"&st=2024-01-01T00%3A00%3A00Z&se=2099-01-01T00%3A00%3A00Z&sp=rap"
    )
    return FakeCredentials(tempauth, base64.b64encode(sas.encode()).decode("ascii"))


def monitor_path_and_query(dialect: str, job_id: str, credentials: FakeCredentials) -> str:
    """The path and query of ``job_id``'s monitor URL in ``dialect``'s shape."""
    template = MONITOR_PATHS.get(dialect)
    if template is None:
        known = ", ".join(MONITOR_PATHS)
        raise UsageError(f"unknown dialect {dialect!r}: expected one of {known}")
    path = template.format(id=quote(job_id, safe=""))
    query: list[tuple[str, str]] = [("c", credentials.c)]
    if dialect == "sharepoint-v21":
        query.append(("v", "2.0"))
    query.append(("tempauth", credentials.tempauth))
    return f"{path}?{urlencode(query)}"


def job_id_from_path(path: str) -> str | None:
    """The job id of a monitor path (the segment after ``/monitor/`` or ``/operations/``)."""
    match = _JOB_SEGMENT.search(path)
    return unquote(match.group(1)) if match else None


def copy_request_matches(path: str) -> bool:
    """Whether ``path`` is a driveItem copy call (``.../items/{item}/copy``)."""
    return _COPY_PATH.match(path) is not None


def job_id_of(url_or_job_id: str) -> str:
    """The job id a monitor URL (or path) names, or ``url_or_job_id`` itself when it is an id."""
    if "://" not in url_or_job_id and not url_or_job_id.startswith("/"):
        return url_or_job_id
    path = urlsplit(url_or_job_id).path
    job_id = job_id_from_path(path)
    if job_id is None:
        raise UsageError(
            f"{path!r} is not a monitor path (expected .../monitor/{{id}} or "
            f".../operations/{{id}}; known shapes: {', '.join(sorted(set(MONITOR_PATHS.values())))})"
        )
    return job_id
