"""Redaction of credentials in monitor URLs, bodies and free text, and detection of leftovers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = [
    "MASK",
    "PREFILTER_RE2",
    "SECRET_PARAMS",
    "UNMASK_RE2",
    "find_secrets",
    "redact_text",
    "redact_url",
]

#: What a redacted value is replaced by (also what ``jobs.url`` shows for ``c`` and ``tempauth``).
MASK = "REDACTED"

#: Query (or ``key=value``) parameter names whose value is a credential, lower case. ``c`` is
#: base64 of an Azure queue SAS URL (with ``sig=`` inside), so it goes as a whole; ``se``/``st``
#: are a SAS's validity window, kept out so a leaked token cannot be dated.
SECRET_PARAMS: tuple[str, ...] = (
    "tempauth",
    "c",
    "sig",
    "signature",
    "se",
    "st",
    "access_token",
    "refresh_token",
    "id_token",
    "code",
    "token",
    "key",
    "apikey",
    "api_key",
    "client_secret",
    "password",
    "x-amz-signature",
    "x-goog-signature",
)

#: JSON keys whose string value is a credential (``"access_token": "..."``), lower case.
_SECRET_KEYS = (
    "tempauth",
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "password",
    "authorization",
)

# Matching runs case-sensitively on a lower-cased copy of the text (same length, so spans
# carry over): Python's re is several times slower with IGNORECASE or with a look-behind at the
# start of each alternative, so the boundary before a name is checked in code instead.
# A value runs to the next ``&``, whitespace, quote or angle bracket; a backslash ends it only
# when it opens an escaped ``&`` or quote, so ``\/`` inside a JSON string cannot cut a secret.
_VALUE = r"(?:[^&\s\"'<>\\]|\\(?!u0026|u0022|\"))*"
_NAMES = "|".join(re.escape(name) for name in sorted(SECRET_PARAMS, key=len, reverse=True))
_KEYS = "|".join(_SECRET_KEYS)
_B64URL = r"[A-Za-z0-9_\-]"
_B64LOW = r"[a-z0-9_\-]"

_FIND = re.compile(
    rf"(?P<param>(?P<pname>{_NAMES})(?:=|%3d)(?P<pvalue>{_VALUE}))"
    rf"|(?P<json>\"(?P<jname>{_KEYS})\"\s*:\s*\"(?P<jvalue>(?:[^\"\\]|\\.)*))"
    r"|(?P<authorization>(?:proxy-)?authorization\s*:\s*(?P<hvalue>[^\"'\r\n,}]+))"
    r"|(?P<bearer>bearer(?:\s+|%20|\+)(?P<bvalue>[a-z0-9\-._~+/]+=*))"
    r"|(?P<userinfo>//[^/\s:@\"'<>]+:(?P<uvalue>[^/\s@\"'<>]+)@)"
    rf"|(?P<jwt>eyj{_B64LOW}{{8,}}\.{_B64LOW}*(?:\.{_B64LOW}*)*)"
)
#: The value group of each alternative (the jwt is its own value).
_VALUE_GROUP = {
    "param": "pvalue",
    "json": "jvalue",
    "authorization": "hvalue",
    "bearer": "bvalue",
    "userinfo": "uvalue",
    "jwt": "jwt",
}
#: Characters that glue a name to the word before it (``errorcode=`` is not ``code=``).
_PARAM_GLUE = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_.-")
_WORD_GLUE = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-")
#: Encoded separators a parameter may follow: ``?``/``&`` of a nested URL, a JSON-escaped ``&``.
_ENCODED_SEPARATORS = ("%3f", "%26", "u0026")
#: Substrings without one of which (or a ``user:password@``) no alternative of ``_FIND`` matches.
_HINTS = ("=", "%3d", "eyj", "bearer", "authorization", *(f'{key}"' for key in _SECRET_KEYS))
_USERINFO_HINT = re.compile(r"//[^/\s:@\"'<>]+:[^/\s@\"'<>]+@")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True, slots=True)
class _Hit:
    """The span of one secret value in the text and its kind."""

    start: int
    end: int
    kind: str


def _lowered(text: str) -> str:
    """``text`` lower-cased character for character (spans stay valid)."""
    low = text.lower()
    return low if len(low) == len(text) else text.translate(_ASCII_LOWER)


def _may_hold_secret(low: str) -> bool:
    """A cheap test (substring searches) that rules out most clean texts before ``_FIND``."""
    return any(hint in low for hint in _HINTS) or _USERINFO_HINT.search(low) is not None


def _starts_token(kind: str, low: str, at: int) -> bool:
    """Whether a match of ``kind`` at ``at`` begins a token rather than ends a longer word."""
    if at == 0 or kind in ("json", "userinfo", "jwt"):
        return True
    if kind == "param":
        return low[at - 1] not in _PARAM_GLUE or low.endswith(_ENCODED_SEPARATORS, 0, at)
    return low[at - 1] not in _WORD_GLUE


def _hits(text: str) -> Iterator[_Hit]:
    """Every secret value in ``text`` (empty ones left out), left to right."""
    low = _lowered(text)
    if not _may_hold_secret(low):
        return
    pos = 0
    while (match := _FIND.search(low, pos)) is not None:
        kind = match.lastgroup or "jwt"
        at = match.start()
        if not _starts_token(kind, low, at) or (kind == "jwt" and text[at : at + 3] != "eyJ"):
            pos = at + 1
            continue
        start, end = match.span(_VALUE_GROUP[kind])
        if end > start:
            yield _Hit(start, end, match.group("pname") or match.group("jname") or kind)
        pos = max(match.end(), at + 1)


#: A looser RE2 pattern (no look-behind: pyarrow.compute runs RE2, case-insensitively) that matches
#: every text :func:`find_secrets` reports once :data:`UNMASK_RE2` has been removed from it; scans
#: run it over whole Arrow columns and look at matching values one by one.
PREFILTER_RE2 = (
    rf"(?:^|[^a-z0-9_.\-]|%3f|%26|u0026)(?:{_NAMES})(?:=|%3d)[^&\s\"'<>]"
    rf"|\"(?:{_KEYS})\"\s*:\s*\"[^\"]"
    r"|authorization\s*:"
    r"|bearer(?:\s|%20|\+)"
    r"|//[^/\s:@\"'<>]+:[^/\s@\"'<>]+@"
    rf"|(?-i:eyJ){_B64URL}{{8,}}\."
)
#: Redacted parameter values (``=REDACTED``), removed before :data:`PREFILTER_RE2` so clean
#: recordings (``c=REDACTED&tempauth=REDACTED``) have no candidates; replace with ``\1``.
UNMASK_RE2 = rf"(?i)(=|%3d){MASK}"


def redact_text(text: str) -> str:
    """``text`` with every credential replaced by ``REDACTED``.

    Covers URLs anywhere in the text (query values of :data:`SECRET_PARAMS`, ``user:password@``),
    JWT-shaped strings (``eyJ...`` with dot-separated base64url segments, unsigned ``alg:none``
    tokens included), ``Bearer ...``, ``Authorization: ...`` and JSON string values of
    credential keys such as ``"access_token"``. Hosts, paths and other values are kept.
    """
    parts: list[str] = []
    pos = 0
    for hit in _hits(text):
        parts += (text[pos : hit.start], MASK)
        pos = hit.end
    return "".join(parts) + text[pos:] if parts else text


def redact_url(url: str) -> str:
    """``url`` with its credentials (``tempauth``, ``c``, ``sig``, ``se``/``st``, ``access_token``,
    ``code``, ``token``, ``key``, JWT-shaped or bearer values, a password) replaced by
    ``REDACTED``; scheme, host, path and the other parameters are kept."""
    return redact_text(url)


def _unredacted(value: str) -> bool:
    """Whether a secret's value still holds something (not empty, not just ``REDACTED``)."""
    rest = value.strip("\"' ")
    if rest.upper().startswith(MASK):
        rest = rest[len(MASK) :]
    return any(ch.isalnum() for ch in rest)


def find_secrets(text: str) -> list[str]:
    """The kinds of unredacted secrets in ``text`` (``"tempauth"``, ``"sig"``, ``"jwt"``,
    ``"bearer"``, ...), sorted and unique; empty when the text is clean."""
    return sorted({hit.kind for hit in _hits(text) if _unredacted(text[hit.start : hit.end])})
