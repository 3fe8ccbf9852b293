"""Copy URLs that answer as the service does: 202 with a monitor, 200 with nothing, or 409."""

from __future__ import annotations

import dataclasses
import secrets
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

from replay.errors import UsageError
from replay.serving._messages import Answer, error_answer

__all__ = ["COPY_ANSWERS", "CopyTable"]

#: What a copy call may answer first, and the evidence for each (reference section A.1).
COPY_ANSWERS: dict[int, str] = {
    202: "202 with the Location of the job's monitor (the documented answer)",
    200: "200 with an empty body: the copy done before the call returned (msgraph-sdk-dotnet#1566)",
    409: "409 nameAlreadyExists at once, before any monitor exists (onedrive-api-docs#981)",
}


@dataclass
class _CopyCall:
    job_id: str
    first: Answer
    calls: int = 0


class CopyTable:
    """The copy URLs a fake monitor serves, each for one job: its first call answers as it
    was told, every later one ``409 nameAlreadyExists`` (the first copy took the name)."""

    def __init__(self) -> None:
        self._calls: dict[str, _CopyCall] = {}
        self._lock = threading.Lock()

    def add(self, base_url: str, job_id: str, status: int, location: str | None) -> str:
        """A new copy URL under ``base_url`` whose first call answers ``status`` (with
        ``location`` for a 202); its requests are logged with ``job_id``."""
        if status not in COPY_ANSWERS or (status == 202) != (location is not None):
            raise UsageError(
                f"a copy call answers 202 with a monitor URL, or 200 or 409 without one; got "
                f"{status} with location={location!r}"
            )
        drive, source = f"b!{secrets.token_urlsafe(24)}", f"01{secrets.token_hex(16).upper()}"
        path = f"/v1.0/drives/{drive}/items/{source}/copy"
        with self._lock:
            self._calls[path] = _CopyCall(job_id, _first_answer(status, location, job_id))
        return base_url + path

    def answer(self, path: str) -> Answer | None:
        """What a POST to ``path`` answers (None: not a copy URL of this table)."""
        with self._lock:
            call = self._calls.get(path.rstrip("/"))
            if call is None:
                return None
            call.calls += 1
            again = call.calls > 1
        return _name_taken(call.job_id) if again else call.first

    def job_id_of(self, url: str) -> str | None:
        """The job a copy URL's requests are logged with (None: not a copy URL of this table)."""
        call = self._calls.get(urlsplit(url).path.rstrip("/"))
        return None if call is None else call.job_id


def _first_answer(status: int, location: str | None, job_id: str) -> Answer:
    if status == 409:
        return _name_taken(job_id)
    headers = (("Location", location),) if location is not None else ()
    return Answer(status, headers, b"", job_id, target="copy")


def _name_taken(job_id: str) -> Answer:
    """409 nameAlreadyExists, as the service answers a copy onto a name that exists."""
    taken = error_answer(409, "nameAlreadyExists", "Name already exists", job_id)
    return dataclasses.replace(taken, target="copy")
