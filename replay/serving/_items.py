"""The copied item a 303 names, served by the fake monitor itself: its URL and its answers."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from replay.serving._messages import Answer, Request, error_answer, json_answer
from replay.serving._urls import _b64url
from replay.simulate.timeline import Response, Timeline

__all__ = ["item_answer", "item_job_id", "served_timeline"]

#: The item path the server answers: the drive segment names the job (``b!`` + its id in
#: base64url), the item segment is the copied item's id.
_ITEM_PATH = re.compile(r"^/_api/v2\.0/drives/b!([A-Za-z0-9_-]+)/items/([^/]+)/?$")
_ITEM_SEGMENT = re.compile(r"/items/([^/?#]+)")
#: What SharePoint said to a Graph token on an item URL of its own (python-o365#872).
_WRONG_AUDIENCE = "Invalid audience Uri 'https://graph.microsoft.com/'."


def served_timeline(timeline: Timeline, base_url: str, tempauth: str) -> Timeline:
    """``timeline`` with every ``Location`` pointed at its copied item on ``base_url``.

    A timeline's Location names a host the fake server is not (``contoso.sharepoint.com``, a
    recording's, a hand-written one): served as it is, a client that follows it dies of a DNS
    error nobody sees. The item keeps its id and whether its URL carries a ``tempauth``; that
    ``tempauth`` becomes the job's, so the server can tell the item's own credential.
    """
    if not any(r.header("Location") is not None for r in timeline.responses):
        return timeline
    responses = tuple(_pointed(r, base_url, timeline.job_id, tempauth) for r in timeline.responses)
    return dataclasses.replace(timeline, responses=responses)


def _pointed(response: Response, base_url: str, job_id: str, tempauth: str) -> Response:
    location = response.header("Location")
    if location is None:
        return response
    served = _served_location(location, base_url, job_id, tempauth)
    headers = tuple(
        (name, served if name.lower() == "location" else value) for name, value in response.headers
    )
    return dataclasses.replace(response, headers=headers)


def _served_location(location: str, base_url: str, job_id: str, tempauth: str) -> str:
    parts = urlsplit(location)
    found = _ITEM_SEGMENT.search(parts.path)
    item = unquote(found.group(1)) if found else _item_of(job_id)
    path = f"/_api/v2.0/drives/{_drive(job_id)}/items/{quote(item, safe='')}"
    query = [
        (name, tempauth if name == "tempauth" else value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return base_url + path + (f"?{urlencode(query)}" if query else "")


def _drive(job_id: str) -> str:
    return "b!" + _b64url(job_id.encode())


def _item_of(job_id: str) -> str:
    """An item id shaped like Graph's for a Location that names none."""
    return "01" + hashlib.sha256(job_id.encode()).hexdigest()[:32].upper()


def item_job_id(path: str) -> str | None:
    """The job whose copied item ``path`` is (None: not an item path the server serves)."""
    match = _ITEM_PATH.match(path)
    if match is None:
        return None
    drive = match.group(1)
    try:
        return base64.urlsafe_b64decode(drive + "=" * (-len(drive) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None


def item_answer(
    request: Request, job_id: str, tempauth: str | None, reject_authorization: bool
) -> Answer:
    """What a GET of job ``job_id``'s copied item answers, as the real hazards do.

    A bearer token: 401, the audience is wrong (python-o365#872 followed the 303 with its Graph
    token). Anonymous: the item's driveItem when the Location carried the job's ``tempauth``
    (``force303=1``, onedrive-api-docs#762), 401 when it carried none (the item needs a bearer
    token). ``tempauth`` None: the job is not served (404).
    """
    known = job_id if tempauth is not None else None
    if request.authorization_sent and reject_authorization:
        return _for_item(error_answer(401, "unauthenticated", _WRONG_AUDIENCE, known))
    if tempauth is None:
        return _for_item(error_answer(404, "itemNotFound", "The resource could not be found."))
    if request.method != "GET":
        answer = error_answer(405, "methodNotAllowed", "The copied item answers GET here", job_id)
        return _for_item(dataclasses.replace(answer, headers=(*answer.headers, ("Allow", "GET"))))
    if request.query_value("tempauth") != tempauth:
        return _for_item(error_answer(401, "unauthenticated", "Authentication failed", job_id))
    return _for_item(json_answer(200, _drive_item(request.path), job_id))


def _drive_item(path: str) -> dict[str, object]:
    """The copied item's driveItem (what the service returns for the item URL)."""
    match = _ITEM_PATH.match(path)
    drive, item = ("b!" + match.group(1), unquote(match.group(2))) if match else ("", "")
    return {"id": item, "name": item, "file": {}, "parentReference": {"driveId": drive}}


def _for_item(answer: Answer) -> Answer:
    return dataclasses.replace(answer, target="item")
