"""Credentials hidden the ways hostile input hides them, as hypothesis strategies, and a decoder
of what a text means that does not share code with replay.decode (for the assertions)."""

from __future__ import annotations

import base64
import html
import json
import re
import unicodedata
from collections.abc import Callable
from urllib.parse import unquote

from hypothesis import strategies as st

B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
#: Secret values: long enough never to occur by chance in the text around them.
VALUES = st.text(B64URL, min_size=16, max_size=40).filter(lambda v: len(set(v)) > 6)


def meaning(text: str) -> str:
    """``text`` decoded again and again (NULs, JSON escapes, HTML references, percent-encoding,
    NFKC, invisible characters) until it no longer changes."""
    for _ in range(12):
        before = text
        text = text.replace("\x00", "")
        text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m[1], 16)), text)
        text = re.sub(r'\\(["\\/])', r"\1", text)
        text = unquote(html.unescape(text))
        text = unicodedata.normalize("NFKC", text)
        text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
        if text == before:
            break
    return text


def leaked(secret: str, text: str) -> bool:
    """Whether ``secret`` can be read in ``text``, as written or decoded."""
    return secret in text or secret in meaning(text)


# -- one character in many spellings -----------------------------------------------------------


def percent(ch: str) -> str:
    return f"%{ord(ch):02X}"


def percent_twice(ch: str) -> str:
    return f"%25{ord(ch):02x}"


def json_escape(ch: str) -> str:
    return f"\\u{ord(ch):04x}"


def full_width(ch: str) -> str:
    return chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch


def html_reference(ch: str) -> str:
    return f"&#{ord(ch)};"


def soft_hyphen_after(ch: str) -> str:
    return ch + "\u00ad"


def upper(ch: str) -> str:
    return ch.upper()


def plain(ch: str) -> str:
    return ch


Spelling = Callable[[str], str]
#: Spellings that mean the character in a body (a JSON string, HTML, free text).
TEXT_SPELLINGS: tuple[Spelling, ...] = (
    plain,
    percent,
    percent_twice,
    json_escape,
    full_width,
    html_reference,
)
#: Spellings that mean it in a URL.
URL_SPELLINGS: tuple[Spelling, ...] = (plain, percent, percent_twice, full_width)


@st.composite
def spelled(draw: st.DrawFn, text: str, spellings: tuple[Spelling, ...]) -> str:
    """``text`` with each character in a spelling drawn from ``spellings``."""
    forms = st.sampled_from(spellings)
    return "".join(draw(forms)(ch) for ch in text)


# -- credentials ---------------------------------------------------------------------------------

PARAM_NAMES = st.sampled_from(
    ["tempauth", "c", "sig", "se", "access_token", "code", "token", "key", "client_secret"]
)
KEY_NAMES = st.sampled_from(
    ["token", "accessToken", "access_token", "refreshToken", "id_token", "client_secret",
     "password", "apiKey", "x-api-key", "tempauth", "sessionToken", "signature"]
)  # fmt: skip


TEXT_SEPARATORS = ("=", "%3D", "%253d", "\\u003d", "＝", "&#61;")
URL_SEPARATORS = ("=", "%3D", "%253d", "＝")
TEXT_QUOTES = ("", "", '\\"', "'", "%22")
URL_QUOTES = ("", "", '"', "'", "%22", "%2522")


@st.composite
def hidden_params(
    draw: st.DrawFn,
    spellings: tuple[Spelling, ...] = TEXT_SPELLINGS,
    separators: tuple[str, ...] = TEXT_SEPARATORS,
    quotes: tuple[str, ...] = TEXT_QUOTES,
) -> tuple[str, str]:
    """(``name=value``, its value): the name, the ``=`` and the value each spelled in an
    encoding, the name in any case and maybe ``[]`` after it, the value maybe quoted. The
    defaults fit inside a JSON string; URL_* ones inside a URL."""
    name, value = draw(PARAM_NAMES), draw(VALUES)
    name_forms = (*spellings, upper, soft_hyphen_after)
    written = draw(spelled(name, name_forms)) + draw(st.sampled_from(["", "", "[]", "%5B%5D"]))
    separator, quote = draw(st.sampled_from(separators)), draw(st.sampled_from(quotes))
    return f"{written}{separator}{quote}{draw(spelled(value, spellings))}{quote}", value


def url_params() -> st.SearchStrategy[tuple[str, str]]:
    """:func:`hidden_params` as a URL query writes them."""
    return hidden_params(URL_SPELLINGS, URL_SEPARATORS, URL_QUOTES)


@st.composite
def hidden_keys(draw: st.DrawFn) -> tuple[str, str]:
    """(``"key": "value"`` as JSON object members, its value), key and value JSON-escaped in
    places."""
    key, value = draw(KEY_NAMES), draw(VALUES)
    escapes = (plain, json_escape)
    return f'"{draw(spelled(key, escapes))}": "{draw(spelled(value, escapes))}"', value


def b64(data: bytes, *, standard: bool) -> str:
    raw = base64.b64encode(data) if standard else base64.urlsafe_b64encode(data).rstrip(b"=")
    return raw.decode()


@st.composite
def jwts(draw: st.DrawFn, *, standard: bool | None = None) -> str:
    """Signed or unsigned (``alg: none``) JWTs, base64url or standard base64 (``+``, ``/``, ``=``)."""
    std = draw(st.booleans()) if standard is None else standard
    alg = draw(st.sampled_from(["none", "RS256", "HS256"]))
    header = b64(json.dumps({"typ": "JWT", "alg": alg}).encode(), standard=std)
    claims = {"aud": draw(st.text(B64URL, min_size=4, max_size=12)), "raw": draw(VALUES)}
    payload = b64(json.dumps(claims).encode(), standard=std)
    signature = (
        "" if alg == "none" else b64(draw(st.binary(min_size=16, max_size=64)), standard=std)
    )
    return f"{header}.{payload}.{signature}"


DOTS = st.sampled_from([".", "\\u002e", "%2E", "%252e", "．", "&#46;"])


@st.composite
def hidden_jwts(draw: st.DrawFn, dots: st.SearchStrategy[str] = DOTS) -> tuple[str, str]:
    """(a JWT with its dots spelled in an encoding, its payload segment)."""
    header, payload, signature = draw(jwts()).split(".")
    dot = draw(dots)
    return f"{header}{dot}{payload}{dot}{signature}", payload


@st.composite
def hidden_secrets(draw: st.DrawFn) -> tuple[str, str]:
    """(JSON string content holding a credential in some encoding, a part that must go)."""
    return draw(st.one_of(hidden_params(), hidden_jwts(), bearer_tokens()))


@st.composite
def bearer_tokens(draw: st.DrawFn) -> tuple[str, str]:
    value = draw(VALUES)
    word = draw(spelled("Bearer", (plain, upper, json_escape, full_width)))
    space = draw(st.sampled_from([" ", "%20", "+", "\\u0020"]))
    return f"{word}{space}{value}", value
