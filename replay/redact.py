"""Redaction of credentials in monitor URLs, bodies and free text, and detection of leftovers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from replay.decode import (
    ENCODED_BYTES_RE2,
    ENCODED_RE2,
    ESCAPED_QUOTE,
    Decoded,
    decoded,
    may_be_encoded,
)

__all__ = [
    "MASK",
    "PREFILTER_BYTES_RE2",
    "PREFILTER_RE2",
    "SECRET_KEYS",
    "SECRET_PARAMS",
    "TOO_DEEP",
    "UNMASK_RE2",
    "find_secrets",
    "redact_text",
    "redact_url",
]

#: What a redacted value is replaced by (also what ``jobs.url`` shows for ``c`` and ``tempauth``).
MASK = "REDACTED"
#: The kind :func:`find_secrets` gives a text still encoded after ``MAX_ROUNDS`` decodings: it
#: cannot be checked, so :func:`redact_text` replaces it whole.
TOO_DEEP = "too-deeply-encoded"


def _spellings(*names: str) -> tuple[str, ...]:
    """Each name with ``_``, ``-`` or nothing between its words (``access_token``,
    ``access-token``, ``accesstoken``: ``accessToken`` as matched, lower case)."""
    spelled: dict[str, None] = {}
    for name in names:
        spelled.update(dict.fromkeys(name.replace("_", sep) for sep in ("_", "-", "")))
    return tuple(spelled)


#: Names whose value is a credential, as a JSON key (``"accessToken": "..."``) or as a
#: parameter (``?tempauth=...``, ``sig="..."``), lower case, in every spelling.
SECRET_KEYS: tuple[str, ...] = _spellings(
    "tempauth",
    "access_token",
    "refresh_token",
    "id_token",
    "auth_token",
    "session_token",
    "security_token",
    "sas_token",
    "token",
    "client_secret",
    "secret",
    "password",
    "passwd",
    "api_key",
    "x_api_key",
    "sig",
    "signature",
    "x_amz_signature",
    "x_amz_security_token",
    "x_goog_signature",
    "authorization",
)
#: Parameter names whose value is a credential: :data:`SECRET_KEYS` and short names that only
#: a query uses so (as JSON keys ``code`` is an error code). ``c`` is base64 of an Azure queue
#: SAS URL (with ``sig=`` inside), so it goes as a whole; ``se``/``st`` are a SAS's validity
#: window, kept out so a leaked token cannot be dated.
SECRET_PARAMS: tuple[str, ...] = (*SECRET_KEYS, "c", "code", "se", "st", "key")


def _trie(words: tuple[str, ...]) -> str:
    """A regular expression matching any of ``words``, shared prefixes written once
    (``c(?:lient_secret|ode)?``): Python's re tries every alternative of a plain ``a|b|c`` at
    every position, so a trie of ~60 names searches about three times faster."""
    branches: dict[str, list[str]] = {}
    for word in sorted(set(words)):
        if word:
            branches.setdefault(word[0], []).append(word[1:])
    parts = [re.escape(first) + _trie(tuple(rests)) for first, rests in branches.items()]
    if not parts:
        return ""
    alternation = parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"
    return f"(?:{alternation})?" if "" in words else alternation


_Q = ESCAPED_QUOTE
_NAMES = "|".join(re.escape(name) for name in sorted(SECRET_PARAMS, key=len, reverse=True))
_KEYS = "|".join(re.escape(name) for name in sorted(SECRET_KEYS, key=len, reverse=True))
_B64 = r"[a-z0-9_\-+/]"

# Matching runs case-sensitively on a lower-cased copy of the decoded text (same length, so
# spans carry over): Python's re is several times slower with IGNORECASE or with a look-behind
# at the start of each alternative, so the boundary before a name is checked in code instead.
# A parameter or JSON key is matched up to its ``=`` or ``:``; its value is read after it.
_FIND = re.compile(
    rf"(?P<param>(?P<pname>{_trie(SECRET_PARAMS)})(?:\[[^\]=&\s]*\])?=)"
    rf"|(?P<json>(?P<quote>[\"'{_Q}])(?P<jname>{_trie(SECRET_KEYS)})(?P=quote)\s*:\s*)"
    rf"|(?P<authorization>(?:proxy-)?authorization\s*:\s*(?P<hvalue>[^\"'\r\n,}}{_Q}]+))"
    r"|(?P<bearer>bearer(?:\s+|\+)(?P<bvalue>[a-z0-9\-._~+/]+=*))"
    rf"|(?P<userinfo>//[^/\s:@\"'<>{_Q}]+:(?P<uvalue>[^/\s@\"'<>{_Q}]+)@)"
    rf"|(?P<jwt>eyj{_B64}{{8,}}=*\.{_B64}*=*(?:\.{_B64}*=*)*)"
)
#: A parameter's value: quoted (up to its closing quote; a quote that ends a JSON string is
#: not mistaken for an opening one, as its "value" would hold a space, comma or brace), or bare:
#: up to ``&``, whitespace, a quote or an angle bracket (a ``'`` inside a token does not end it).
_PARAM_VALUE = re.compile(
    rf"[ \t]*\"(?P<dq>[^\"\s,;{{}}\[\]<>{_Q}]+)"
    rf"|[ \t]*'(?P<sq>[^'\"\s,;{{}}\[\]<>{_Q}]+)"
    rf"|{_Q}(?P<eq>[^{_Q}\"\s]+)"
    rf"|(?P<bare>(?:[^&\s\"'<>{_Q}]|'(?=[a-z0-9_\-.~+/%=]))+)"
)
#: A credential key's JSON value: a string (an escaped quote does not end it) or a number.
_KEY_VALUE = re.compile(
    rf"\"(?P<dq>[^\"]+)|'(?P<sq>[^'\"]+)|{_Q}(?P<eq>[^{_Q}\"]+)|(?P<number>-?[0-9][0-9.e+\-]*)"
)
#: The value group of each alternative of ``_FIND`` read inside its match.
_VALUE_GROUP = {"authorization": "hvalue", "bearer": "bvalue", "userinfo": "uvalue", "jwt": "jwt"}
#: Characters that glue a name to the word before it (``errorcode=`` is not ``code=``).
_PARAM_GLUE = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_.-")
_WORD_GLUE = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-")
#: Substrings of the lower-cased decoded text without one of which (or a ``user:password@``) no
#: alternative of ``_FIND`` matches: each of :data:`SECRET_KEYS` holds one of the words (the
#: likeliest first).
_HINTS = (
    "=",
    "token",
    "eyj",
    "bearer",
    "secret",
    "passw",
    "tempauth",
    "key",
    "sig",
    "authorization",
)
_USERINFO_HINT = re.compile(r"//[^/\s:@\"'<>]+:[^/\s@\"'<>]+@")
_MASKS = re.compile(MASK, re.IGNORECASE)
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True, slots=True)
class _Hit:
    """The span of one secret value in the decoded text and its kind."""

    start: int
    end: int
    kind: str
    #: Where the quote of a JSON key whose value is a number is (-1 for other hits).
    quote_at: int = -1


def _lowered(text: str) -> str:
    """``text`` lower-cased character for character (spans stay valid)."""
    low = text.lower()
    return low if len(low) == len(text) else text.translate(_ASCII_LOWER)


def _may_hold_secret(low: str) -> bool:
    """A cheap test (substring searches) that rules out most clean texts before ``_FIND``."""
    for hint in _HINTS:
        if hint in low:
            return True
    return "@" in low and _USERINFO_HINT.search(low) is not None


def _view(text: str) -> tuple[Decoded, str] | None:
    """``text`` decoded and its lower-cased decoded text; None when it cannot hold a secret."""
    if not may_be_encoded(text):
        low = _lowered(text)
        return (Decoded(text, text), low) if _may_hold_secret(low) else None
    view = decoded(text)
    low = _lowered(view.text)
    return (view, low) if _may_hold_secret(low) or not view.complete else None


def _starts_token(kind: str, low: str, at: int) -> bool:
    """Whether a match of ``kind`` at ``at`` begins a token rather than ends a longer word."""
    if at == 0 or kind in ("json", "userinfo", "jwt"):
        return True
    return low[at - 1] not in (_PARAM_GLUE if kind == "param" else _WORD_GLUE)


def _hits(text: str, low: str) -> Iterator[_Hit]:
    """Every secret value in the decoded ``text`` (``low`` lower-cased), empty ones left out."""
    pos = 0
    while (match := _FIND.search(low, pos)) is not None:
        kind = match.lastgroup or "jwt"
        at = match.start()
        if not _starts_token(kind, low, at) or (kind == "jwt" and text[at : at + 3] != "eyJ"):
            pos = at + 1
            continue
        start, end, group = _value_span(match, kind, low)
        if end > start:
            name = match.group("pname") or match.group("jname") or kind
            yield _Hit(start, end, name, at if group == "number" else -1)
        pos = max(end, match.end(), at + 1)


def _value_span(match: re.Match[str], kind: str, low: str) -> tuple[int, int, str]:
    """The span of the value of a ``_FIND`` match and the group holding it: read after a
    parameter's ``=`` or a key's ``:``, a group of the match for the other kinds."""
    if kind not in ("param", "json"):
        group = _VALUE_GROUP[kind]
        return (*match.span(group), group)
    reader = _PARAM_VALUE if kind == "param" else _KEY_VALUE
    value = reader.match(low, match.end())
    if value is None or value.lastgroup is None:
        return match.end(), match.end(), ""
    return (*value.span(value.lastgroup), value.lastgroup)


def _unredacted(value: str) -> bool:
    """Whether a secret's value still holds something (not empty, not just ``REDACTED``)."""
    return any(ch.isalnum() for ch in _MASKS.sub("", value))


def _secret_kinds(text: str) -> set[str]:
    """The kinds of the unredacted secrets in ``text``."""
    view = _view(text)
    if view is None:
        return set()
    if not view[0].complete:
        return {TOO_DEEP}
    decoded_text, low = view[0].text, view[1]
    return {
        hit.kind
        for hit in _hits(decoded_text, low)
        if _unredacted(decoded_text[hit.start : hit.end])
    }


def find_secrets(text: str) -> list[str]:
    """The kinds of unredacted secrets in ``text`` (``"tempauth"``, ``"sig"``, ``"jwt"``,
    ``"bearer"``, ...), sorted and unique; empty when the text is clean. Looks at what the text
    means: JSON escapes, percent-encoding, HTML references, UTF-16 NULs, invisible characters
    and full-width forms are decoded first, as :func:`redact_text` does."""
    return sorted(_secret_kinds(text))


def redact_text(text: str) -> str:
    """``text`` with every credential replaced by ``REDACTED``.

    Matches on the decoded text (see :func:`replay.decode.decoded`), so ``temp\\u0061uth=``,
    ``tempauth%3D``, ``"accessToken": "..."`` or a JWT with ``\\u002e`` dots are found, and
    replaces the original characters the secret was decoded from: JSON stays JSON, escapes are
    never cut. Covers URLs anywhere in the text (values of :data:`SECRET_PARAMS`, quoted or not,
    ``name[]=``; ``user:password@``), JWT-shaped strings (``eyJ...`` with dot-separated base64
    segments, unsigned ``alg:none`` tokens included), ``Bearer ...``, ``Authorization: ...`` and
    values of :data:`SECRET_KEYS` in JSON. Hosts, paths and other values are kept. A text still
    encoded after :data:`~replay.decode.MAX_ROUNDS` decodings cannot be checked: it is replaced
    whole.
    """
    view = _view(text)
    if view is None:
        return text
    decoded_view, low = view
    if not decoded_view.complete:
        return MASK
    spans = [
        (*decoded_view.span(hit.start, hit.end), _replacement(hit, decoded_view))
        for hit in _hits(decoded_view.text, low)
    ]
    return _masked(text, spans) if spans else text


def _replacement(hit: _Hit, view: Decoded) -> str:
    """``REDACTED``; quoted as the key is when the value was a JSON number (so JSON stays JSON)."""
    if hit.quote_at < 0:
        return MASK
    quote = view.original[slice(*view.span(hit.quote_at, hit.quote_at + 1))]
    return quote + MASK + quote


def _masked(text: str, spans: list[tuple[int, int, str]]) -> str:
    """``text`` with each span (in order) replaced by its replacement."""
    parts: list[str] = []
    pos = 0
    for start, end, replacement in spans:
        parts += (text[pos : max(start, pos)], replacement)
        pos = max(pos, end)
    return "".join(parts) + text[pos:]


# -- URLs --------------------------------------------------------------------------------------

_ORIGIN = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^/]*")
_SECRET_PARAM_SET = frozenset(SECRET_PARAMS)
#: A path segment or query value this long, of token characters only, is taken for a token
#: (consumer monitor URLs carry one of ~250 characters; drive ids have 66, GUIDs 36).
_TOKEN_LENGTH = 100
_TOKEN = re.compile(r"[A-Za-z0-9._~+/=!\-]+")
_INDEX = re.compile(r"\[[^\]]*\]$")


def redact_url(url: str) -> str:
    """``url`` with its credentials replaced by ``REDACTED``; scheme, host, the other path
    segments and the other parameters are kept as they were written.

    Works on each part decoded (percent-encoding however deep, JSON escapes, NFKC): the value of
    a parameter named in :data:`SECRET_PARAMS` (``?temp%61uth=``, ``tempauth[]=``,
    ``ｔｅｍｐａｕｔｈ=``) is dropped whole, quotes and all, and so is any value, path segment or
    password that holds a secret (a nested URL's ``code=``, a JWT, ``Bearer ...``) or looks like
    a token; when a secret would still show, the whole query goes, then the whole path.
    """
    origin, path, query, fragment = _url_parts(url)
    origin = _redacted_origin(origin)
    segments = redact_text(path).split("/")
    path = "/".join(MASK if _is_token(segment) else segment for segment in segments)
    query_text, value_dropped = _redacted_query(query)
    if fragment is not None and (value_dropped or _redacted_query(fragment)[0] != fragment):
        fragment = MASK  # the rest of a value cut at '#', or a fragment holding a secret
    for candidate in (
        _joined(origin, path, query_text, fragment),
        _joined(origin, path, None if query is None else MASK, None),
        _joined(origin, "/" + MASK if path else "", None if query is None else MASK, None),
    ):
        if not _secret_kinds(candidate):
            return candidate
    return MASK


def _url_parts(url: str) -> tuple[str, str, str | None, str | None]:
    """(``scheme://authority`` or "", path, query, fragment) of ``url``, as written; query and
    fragment None when the URL has no ``?`` or ``#``."""
    rest, hash_mark, fragment = url.partition("#")
    rest, question_mark, query = rest.partition("?")
    origin = _ORIGIN.match(rest)
    at = origin.end() if origin else 0
    return rest[:at], rest[at:], query if question_mark else None, fragment if hash_mark else None


def _joined(origin: str, path: str, query: str | None, fragment: str | None) -> str:
    query_part = "" if query is None else "?" + query
    return origin + path + query_part + ("" if fragment is None else "#" + fragment)


def _redacted_origin(origin: str) -> str:
    """``scheme://host`` as it is; a password in ``user:password@`` redacted, a user or host
    holding a secret too."""
    scheme, separator, authority = origin.partition("://")
    userinfo, at, host = authority.rpartition("@")
    if at:
        user, colon, password = userinfo.partition(":")
        userinfo = (MASK if _is_token(user) else user) + colon + (MASK if password else "")
    host = MASK if _is_token(host) else host
    return scheme + separator + userinfo + at + host


def _redacted_query(query: str | None) -> tuple[str | None, bool]:
    """The query with each pair redacted, and whether the last pair's value was dropped."""
    if query is None:
        return None, False
    pairs = [_redacted_pair(pair) for pair in query.split("&")]
    return "&".join(pair for pair, _ in pairs), pairs[-1][1]


def _redacted_pair(pair: str) -> tuple[str, bool]:
    """One ``name=value`` of a query, its value (or the whole pair) dropped when it is secret,
    and whether it was."""
    view = decoded(pair) if may_be_encoded(pair) else Decoded(pair, pair)
    equals = view.text.find("=")
    name = view.text if equals < 0 else view.text[:equals]
    if _is_token(name):
        return (pair, False) if pair == MASK else (MASK, True)
    if equals < 0:
        return pair, False
    value_at = view.span(equals, equals + 1)[1]
    value = pair[value_at:]
    if value in ("", MASK):
        return pair, False
    if _param_name(name) in _SECRET_PARAM_SET or _is_token(view.text[equals + 1 :]):
        return pair[:value_at] + MASK, True
    return pair, False


def _param_name(name: str) -> str:
    """A decoded parameter name as matched: lower case, without quotes, whatever precedes a
    ``;`` (``&amp;tempauth``) or an index (``tempauth[]``)."""
    bare = name.rsplit(";", 1)[-1].strip().strip(f"\"'{_Q}").lower()
    return _INDEX.sub("", bare).strip()


def _is_token(text: str) -> bool:
    """Whether a URL part holds a secret or is (decoded) a long run of token characters."""
    plain = decoded(text).text if may_be_encoded(text) else text
    if len(plain) >= _TOKEN_LENGTH and _TOKEN.fullmatch(plain):
        return True
    return bool(plain) and bool(_secret_kinds(plain))


def _prefilter(encoded: str) -> str:
    """The RE2 prefilter: each alternative of ``_FIND``, loosened, or ``encoded`` text."""
    return "|".join(
        [
            rf"(?:^|[^a-z0-9_.\-])(?:{_NAMES})(?:\[[^\]=&\s]*\])?=[ \t]*[\"']?[^&\s\"'<>]",
            rf"[\"'](?:{_KEYS})[\"']\s*:\s*(?:\"[^\"]|'[^'\"]|-?[0-9])",
            r"authorization\s*:",
            r"bearer(?:\s|\+)",
            r"//[^/\s:@\"'<>]+:[^/\s@\"'<>]+@",
            r"(?-i:eyJ)[A-Za-z0-9_\-+/]{8,}=*\.",
            f"(?-i:{encoded})",  # case-folded, the Kelvin sign K would match every k
        ]
    )


#: A looser RE2 pattern (no look-behind: pyarrow.compute runs RE2, case-insensitively) that
#: matches every text :func:`find_secrets` reports once :data:`UNMASK_RE2` has been removed from
#: it: the plain forms, and any text decoding may change; scans run it over whole Arrow columns
#: and look at matching values one by one.
PREFILTER_RE2 = _prefilter(ENCODED_RE2)
#: :data:`PREFILTER_RE2` for binary columns (RE2 reads them as Latin-1).
PREFILTER_BYTES_RE2 = _prefilter(ENCODED_BYTES_RE2)
#: Redacted parameter values (``=REDACTED``), removed before :data:`PREFILTER_RE2` so clean
#: recordings (``c=REDACTED&tempauth=REDACTED``) have no candidates; replace with ``\1``.
UNMASK_RE2 = rf"(?i)(=|%3d){MASK}"
