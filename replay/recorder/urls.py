"""What the recorder is asked to follow: monitor URLs with labels and sizes, and the URLs file."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from replay import payload
from replay.errors import UsageError

__all__ = [
    "UrlSpec",
    "check_url",
    "job_id_of",
    "parse_label",
    "read_urls_file",
    "url_spec",
    "without_userinfo",
]


@dataclass(frozen=True)
class UrlSpec:
    """One monitor URL to follow, with what the ``jobs`` table should say about it."""

    url: str
    labels: Mapping[str, str] | None = None
    size_bytes: int | None = None
    job_id: str | None = None


def check_url(url: str, redacted: str) -> None:
    """Raise UsageError unless ``url`` is an absolute http(s) URL (``redacted`` names it)."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise UsageError(
            f"not a monitor URL: {redacted!r}; give the absolute http(s) URL from the copy "
            "request's Location header",
            url=redacted,
        )


def job_id_of(url: str, job_id: str | None = None) -> str:
    """The id the recorder files ``url``'s job under: ``job_id`` when given, otherwise the one in
    the URL (see ``payload.job_id_from_url``); redacted, and stored as Arrow stores it."""
    from replay.store.writer import escaped_text  # pyarrow: loaded when recording

    chosen = payload.redact_text(job_id) if job_id else payload.job_id_from_url(url)
    return escaped_text(chosen)


def without_userinfo(url: str) -> str:
    """``url`` without a ``user:password@`` part (a credential, never written)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def parse_label(text: str) -> tuple[str, str]:
    """``K=V`` as a (key, value) pair; UsageError naming the bad text otherwise."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise UsageError(f"bad label {text!r}: write labels as KEY=VALUE, e.g. --label batch=7")
    return key.strip(), value


def url_spec(item: str | UrlSpec | Mapping[str, Any], where: str = "") -> UrlSpec:
    """A UrlSpec from a URL string, a UrlSpec, or a mapping with ``url`` and optional
    ``size_bytes``, ``labels`` and ``job_id``; UsageError naming ``where`` otherwise."""
    if isinstance(item, UrlSpec):
        return item
    if isinstance(item, str):
        return UrlSpec(item.strip())
    prefix = f"{where}: " if where else ""
    if not isinstance(item, Mapping) or not isinstance(item.get("url"), str):
        raise UsageError(f'{prefix}expected a URL or an object with a "url" string')
    unknown = set(item) - {"url", "size_bytes", "labels", "job_id"}
    if unknown:
        raise UsageError(
            f"{prefix}unknown key(s) {', '.join(sorted(unknown))}; "
            "allowed: url, size_bytes, labels, job_id"
        )
    return UrlSpec(
        url=item["url"],
        labels=_labels(item.get("labels"), prefix),
        size_bytes=_size(item.get("size_bytes"), prefix),
        job_id=_job_id(item.get("job_id"), prefix),
    )


def _labels(value: Any, prefix: str) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise UsageError(f'{prefix}"labels" must be an object of strings, e.g. {{"batch": "7"}}')
    return {k: str(v) for k, v in value.items()}


def _size(value: Any, prefix: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UsageError(f'{prefix}"size_bytes" must be a whole number of bytes, got {value!r}')
    return value


def _job_id(value: Any, prefix: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f'{prefix}"job_id" must be a non-empty string, got {value!r}')
    return value


def read_urls_file(path: str | Path) -> list[UrlSpec]:
    """The specs of a URLs file: one URL per line, or JSON lines ``{"url", "size_bytes",
    "labels"}``; blank lines and ``#`` comments are skipped."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"cannot read URLs file {path}: {err}", path=str(path)) from None
    return list(_specs(text.splitlines(), str(path)))


def _specs(lines: Iterable[str], name: str) -> Iterable[UrlSpec]:
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        where = f"{name}:{number}"
        if not text.startswith("{"):
            yield url_spec(text, where)
            continue
        try:
            item = json.loads(text)
        except json.JSONDecodeError as err:
            raise UsageError(f"{where}: not valid JSON ({err.msg})", path=name) from None
        yield url_spec(item, where)
