"""Redaction: generated credentials never survive, ordinary text and URL parts are kept."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote, urlencode

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from replay.redact import (
    MASK,
    PREFILTER_RE2,
    UNMASK_RE2,
    find_secrets,
    redact_text,
    redact_url,
)

B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@st.composite
def jwts(draw: st.DrawFn) -> str:
    """Signed or unsigned (``alg: none``, empty signature) JWTs of random claims."""
    alg = draw(st.sampled_from(["none", "RS256", "HS256"]))
    header = b64url(json.dumps({"typ": "JWT", "alg": alg}).encode())
    claims = draw(st.dictionaries(st.sampled_from(["aud", "exp", "nbf", "ver", "nonce"]),
                                  st.text(B64URL, max_size=24), min_size=1))  # fmt: skip
    payload = b64url(json.dumps(claims).encode())
    signature = "" if alg == "none" else draw(st.text(B64URL, min_size=16, max_size=86))
    return f"{header}.{payload}.{signature}"


#: A SAS signature: base64 of 32 random bytes, percent-encoded as it sits in a query.
SAS_SIGS = st.binary(min_size=32, max_size=32).map(
    lambda raw: quote(base64.b64encode(raw).decode(), safe="")
)
OPAQUE = st.text(B64URL, min_size=16, max_size=64)
BEARERS = st.text(B64URL + ".~+/", min_size=16, max_size=120)


@st.composite
def c_values(draw: st.DrawFn) -> tuple[str, str]:
    """(``c`` value, the SAS ``sig`` hidden inside it): base64 of ``key#<queue SAS URL>``."""
    sig = draw(SAS_SIGS)
    key = draw(st.text(B64URL, min_size=8, max_size=16))
    sas = (
        f"{key}#https://acct.queue.core.windows.net/q?sv=2018-03-28&sig={sig}"
        "&st=2024-01-01T00%3A00%3A00Z&se=2099-01-01T00%3A00%3A00Z&sp=rap"
    )
    return quote(base64.b64encode(sas.encode()).decode(), safe=""), sig


HOSTS = st.sampled_from(
    ["contoso-my.sharepoint.com", "contoso.sharepoint.com", "api.onedrive.com", "127.0.0.1:8123"]
)
JOB_IDS = st.uuids().map(str)
PATH_SHAPES = st.sampled_from(
    [
        "/personal/u/_api/v2.1/drive/operations/{id}",
        "/_api/v2.0/monitor/{id}",
        "/v1.0/monitor/{id}",
        "/sites/FromSite/_api/v2.1/monitor/{id}",
    ]
)


@st.composite
def monitor_urls(draw: st.DrawFn) -> tuple[str, list[str], list[str]]:
    """(a monitor URL with credentials, its secrets, the parts that must be kept)."""
    host, job_id = draw(HOSTS), draw(JOB_IDS)
    path = draw(PATH_SHAPES).format(id=job_id)
    tempauth = draw(jwts())
    c_value, sig = draw(c_values())
    extra = draw(st.sampled_from(["access_token", "code", "token", "key", "sig"]))
    extra_value = draw(OPAQUE)
    query = f"c={c_value}&v=2.0&tempauth={tempauth}&{extra}={extra_value}"
    url = f"https://{host}{path}?{query}"
    return url, [tempauth, c_value, sig, extra_value], [f"https://{host}{path}?", "v=2.0"]


def assert_gone(text: str, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in text


@given(monitor_urls())
def test_generated_monitor_url_credentials_never_survive_redact_url(
    case: tuple[str, list[str], list[str]],
) -> None:
    url, secrets, kept = case
    redacted = redact_url(url)
    assert_gone(redacted, secrets)
    assert all(part in redacted for part in kept)
    assert find_secrets(url) and not find_secrets(redacted)


BODY_WORDS = '{"status": "completed", "resourceLocation": ""} <a href="">monitor</a>'


@given(monitor_urls(), st.sampled_from(["plain", "escaped-slashes", "escaped-amp", "html"]))
def test_monitor_urls_inside_json_and_html_bodies_are_redacted(
    case: tuple[str, list[str], list[str]], encoding: str
) -> None:
    url, secrets, kept = case
    if encoding == "html":
        body = f'<a href="{url.replace("&", "&amp;")}">monitor</a>'
    else:
        body = json.dumps({"status": "completed", "resourceLocation": url})
        if encoding == "escaped-slashes":
            body = body.replace("/", "\\/")
        elif encoding == "escaped-amp":
            body = body.replace("&", "\\u0026")
    # A generated secret may spell a word of the body itself ("resourceLocation"): not a leak.
    assume(not any(secret in BODY_WORDS for secret in secrets))
    redacted = redact_text(body)
    assert_gone(redacted, secrets)
    start = kept[0].replace("/", "\\/") if encoding == "escaped-slashes" else kept[0]
    assert start in redacted
    assert '"status": "completed"' in redacted or encoding == "html"
    assert not find_secrets(redacted)


@given(jwts(), st.sampled_from(["{t}", "token {t} here", '{{"x": "{t}"}}', "({t})", "x={t}"]))
def test_jwt_shaped_strings_are_redacted_anywhere(token: str, template: str) -> None:
    text = template.format(t=token)
    redacted = redact_text(text)
    assert token not in redacted
    assert token.split(".")[1] not in redacted
    assert find_secrets(text) and not find_secrets(redacted)


@given(
    BEARERS,
    st.sampled_from(
        [
            "Authorization: Bearer {t}",
            '{{"Authorization": "Bearer {t}"}}',
            "bearer {t}",
            "headers={{'authorization': 'Bearer {t}'}}",
            "https://h/p?auth=Bearer%20{t}",
        ]
    ),
)
def test_bearer_tokens_are_redacted(token: str, template: str) -> None:
    text = template.format(t=token)
    redacted = redact_text(text)
    assert token not in redacted
    assert not find_secrets(redacted)


@given(
    st.sampled_from(["access_token", "refresh_token", "id_token", "client_secret", "tempauth"]),
    OPAQUE,
)
def test_credential_keys_of_json_bodies_are_redacted(key: str, value: str) -> None:
    body = json.dumps({key: value, "error": {"code": "unauthenticated"}})
    redacted = redact_text(body)
    assert value not in redacted
    assert json.loads(redacted) == {key: MASK, "error": {"code": "unauthenticated"}}


@given(
    st.sampled_from(["tempauth", "c", "sig", "se", "st", "access_token", "code", "token", "key"]),
    OPAQUE,
)
def test_secret_parameters_are_redacted_plain_or_url_encoded_in_a_nested_url(
    name: str, value: str
) -> None:
    nested = "https://login.example/cb?" + urlencode({"state": "s1", name: value})
    outer = "https://contoso.sharepoint.com/redirect?" + urlencode({"next": nested, "v": "2"})
    for text in (nested, outer):
        redacted = redact_url(text)
        assert value not in redacted
        assert redacted.startswith(text.split("?")[0])


def test_userinfo_password_is_redacted_and_the_user_kept() -> None:
    assert redact_url("https://me:hunter2pass@h/p") == "https://me:REDACTED@h/p"


@pytest.mark.parametrize(
    "text",
    [
        "https://contoso.sharepoint.com/_api/v2.0/monitor/4A3407B5-88FC-4504-8B21-0AABD3412717",
        "https://contoso-my.sharepoint.com/personal/u/_api/v2.1/drive/operations/8b1a?v=2.0",
        '{"operation": "ItemCopy", "percentageComplete": 27.8, "status": "inProgress"}',
        '{"resourceId": "01MOWKYVJML57KN2ANMBA3JZJS2MBGC7KM", "status": "completed"}',
        "https://contoso.sharepoint.com/sites/site2/_api/v2.0/drives/"
        "b!1YwGyNd6RUuVB42eCVw7ULlXybr_-09Br67iDGnYY-neBqwZd6jJRJbgCTx0On5n/items/016OG",
        "https://contoso.sharepoint.com/sites/site1/_api/v2.1/$metadata#drives('driveId')"
        "/operations/$entity",
        '{"error": {"code": "nameAlreadyExists", "message": "Name already exists"}}',
        '{"errorCode": "AccessDenied_CrossDrive", "statusDescription": "Completed 0/0 files"}',
        "replay 0.1.0 on Python 3.11.9, pyarrow 26.0.0, api.onedrive.com, v2.1",
        "createdDateTime 0001-01-01T00:00:00Z; se: 2099; st: 2024",
        "https://h/monitor/x?c=REDACTED&v=2.0&tempauth=REDACTED",
        "eyJ alone, eyJhbGciOiJub25lIn0 without dots",
    ],
)
def test_ordinary_text_is_kept_unchanged(text: str) -> None:
    assert redact_text(text) == text
    assert find_secrets(text) == []


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("https://h/monitor/x?tempauth=abc&sig=def", ["sig", "tempauth"]),
        ("https://h/monitor/x?C=abc", ["c"]),
        ("token eyJhbGciOiJub25lIn0.eyJhdWQiOiJ4In0.", ["jwt"]),
        ("Bearer abcdefghijklmnop", ["bearer"]),
        ('{"refresh_token": "0.AAAA"}', ["refresh_token"]),
        ("Authorization: Basic dXNlcjpwYXNz", ["authorization"]),
        ("https://me:pw@h/", ["userinfo"]),
        ("tempauth=REDACTED c= sig=", []),
        ("see tempauth=REDACTED.", []),
        ("tempauth=REDACTEDeyJhbGciOiJ", ["tempauth"]),
    ],
)
def test_find_secrets_names_the_kinds_found(text: str, kinds: list[str]) -> None:
    assert find_secrets(text) == kinds


@given(monitor_urls())
def test_redaction_is_idempotent(case: tuple[str, list[str], list[str]]) -> None:
    once = redact_url(case[0])
    assert redact_url(once) == once


SECRETISH = st.one_of(
    monitor_urls().map(lambda case: case[0]),
    jwts().map(lambda token: f"t {token}"),
    BEARERS.map(lambda token: f"Bearer {token}"),
    OPAQUE.map(lambda value: json.dumps({"access_token": value})),
    st.text(max_size=40),
    st.text("=&?%3DdcsigtempauthREDACTED:/@ eyJ.Bearer\\u0026", max_size=40),
)


@given(st.lists(SECRETISH, min_size=1, max_size=8))
def test_the_re2_prefilter_matches_every_text_find_secrets_reports(texts: list[str]) -> None:
    column = pa.array(texts)
    unmasked = pc.replace_substring_regex(column, pattern=UNMASK_RE2, replacement=r"\1")
    matched = pc.match_substring_regex(unmasked, pattern=PREFILTER_RE2, ignore_case=True)
    for text, hit in zip(texts, matched.to_pylist(), strict=True):
        if find_secrets(text):
            assert hit, text
