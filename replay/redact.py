"""Redaction of credentials in monitor URLs, bodies and free text, and detection of leftovers."""

from __future__ import annotations

import re

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

# A parameter name starts a token: after a separator (?, &, ;, #, space, quote...), after an
# URL-encoded ``?``/``&`` of a nested URL, or after a JSON-escaped ``&`` (\u0026).
_START = r"(?:(?<![A-Za-z0-9_.\-])|(?<=%3F)|(?<=%3f)|(?<=%26)|(?<=u0026))"
# A value runs to the next ``&``, whitespace, quote or angle bracket; a backslash ends it only
# when it opens an escaped ``&`` or quote, so ``\/`` inside a JSON string cannot cut a secret.
_VALUE = r"(?:[^&\s\"'<>\\]|\\(?!u0026|u0022|\"))*"
_NAMES = "|".join(re.escape(name) for name in sorted(SECRET_PARAMS, key=len, reverse=True))
_KEYS = "|".join(_SECRET_KEYS)
_B64URL = r"[A-Za-z0-9_\-]"

_PATTERN = re.compile(
    rf"(?P<param>{_START}(?P<pname>{_NAMES})(?P<peq>=|%3[Dd]))(?P<pvalue>{_VALUE})"
    rf"|(?P<json>\"(?P<jname>{_KEYS})\"\s*:\s*\")(?P<jvalue>(?:[^\"\\]|\\.)*)"
    rf"|(?P<header>(?<![A-Za-z0-9_\-])(?P<hname>(?:proxy-)?authorization)\s*:\s*)"
    rf"(?P<hvalue>[^\"'\r\n,}}]+)"
    rf"|(?P<bearer>(?<![A-Za-z0-9_\-])bearer(?:\s+|%20|\+))(?P<bvalue>[A-Za-z0-9\-._~+/]+=*)"
    rf"|(?P<user>(?<=//)[^/\s:@\"'<>]+:)(?P<uvalue>[^/\s@\"'<>]+)(?=@)"
    rf"|(?P<jwt>(?-i:eyJ){_B64URL}{{8,}}\.{_B64URL}*(?:\.{_B64URL}*)*)",
    re.IGNORECASE,
)

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

#: (prefix group, value group, kind) per alternative; the kind of a ``param`` is its name.
_GROUPS = (
    ("param", "pvalue", None),
    ("json", "jvalue", None),
    ("header", "hvalue", "authorization"),
    ("bearer", "bvalue", "bearer"),
    ("user", "uvalue", "userinfo"),
)


def _masked(match: re.Match[str]) -> str:
    for prefix, value, _kind in _GROUPS:
        if match.group(prefix) is not None:
            return match.group(prefix) + (MASK if match.group(value) else "")
    return MASK


def redact_text(text: str) -> str:
    """``text`` with every credential replaced by ``REDACTED``.

    Covers URLs anywhere in the text (query values of :data:`SECRET_PARAMS`, ``user:password@``),
    JWT-shaped strings (``eyJ...`` with dot-separated base64url segments, unsigned ``alg:none``
    tokens included), ``Bearer ...``, ``Authorization: ...`` and JSON string values of
    credential keys such as ``"access_token"``. Hosts, paths and other values are kept.
    """
    return _PATTERN.sub(_masked, text)


def redact_url(url: str) -> str:
    """``url`` with its credentials (``tempauth``, ``c``, ``sig``, ``se``/``st``, ``access_token``,
    ``code``, ``token``, ``key``, JWT-shaped or bearer values, a password) replaced by
    ``REDACTED``; scheme, host, path and the other parameters are kept."""
    return _PATTERN.sub(_masked, url)


def _secret_kind(match: re.Match[str]) -> str | None:
    """The kind of secret a match is, or None when its value is already redacted or empty."""
    for prefix, value, kind in _GROUPS:
        if match.group(prefix) is None:
            continue
        rest = match.group(value).strip("\"' ")
        if rest.upper().startswith(MASK):
            rest = rest[len(MASK) :]
        if not any(ch.isalnum() for ch in rest):
            return None
        name = match.group("pname") or match.group("jname")
        return kind or name.lower()
    return "jwt"


def find_secrets(text: str) -> list[str]:
    """The kinds of unredacted secrets in ``text`` (``"tempauth"``, ``"sig"``, ``"jwt"``,
    ``"bearer"``, ...), sorted and unique; empty when the text is clean."""
    kinds = {_secret_kind(match) for match in _PATTERN.finditer(text)}
    return sorted(kind for kind in kinds if kind is not None)
