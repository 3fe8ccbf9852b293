"""Monitor URLs that hide credentials: ``redact_url`` leaves nothing readable, keeps the rest."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hostile import VALUES, hidden_jwts, jwts, leaked, url_params
from hypothesis import given
from hypothesis import strategies as st

from replay.payload import job_id_from_url
from replay.redact import find_secrets, redact_url

ORIGIN = "https://contoso-my.sharepoint.com"
MONITOR = f"{ORIGIN}/personal/u/_api/v2.1/drive/operations/8b1a2c3d-0000-4000-8000-000000000001"
S = "Sx9Kq2ZbW7vLm4Tc"  # the secret of every crafted URL
JWT = "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.eyJhdWQiOiJGQUtFIiwidmVyIjoiaGFzaGVkIn0."
JWT_PAYLOAD = JWT.split(".")[1]
#: A standard-base64 JWT (``+``, ``/``, ``=`` padding) of an HS256 token.
STD_JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI/Pz8+Pj4iLCJuIjoxfQ==.q+8/Yz3kW0m+Q1aRc/Tb9w=="
)
STD_SIGNATURE = "q+8/Yz3kW0m+Q1aRc/Tb9w"
LONG_TOKEN = "aHR0cHM6Ly9tb25pdG9yLmV4YW1wbGU" * 8
FULL_WIDTH_S = "".join(chr(ord(ch) + 0xFEE0) for ch in S)


#: (crafted URL, the secret that must not be readable in the redacted URL).
CRAFTED = [
    pytest.param(f"{MONITOR}?tempauth={S}&v=2.0", S, id="plain"),
    pytest.param(f"{MONITOR}?temp%61uth={S}&v=2.0", S, id="percent-encoded-letter"),
    pytest.param(f"{MONITOR}?%74%65%6D%70%61%75%74%68={S}", S, id="percent-encoded-name"),
    pytest.param(f"{MONITOR}?%2574empauth={S}", S, id="double-encoded-name"),
    pytest.param(f"{MONITOR}?v=2.0&%63={S}", S, id="percent-encoded-c"),
    pytest.param(f"{MONITOR}?tempauth%3D{S}", S, id="encoded-equals"),
    pytest.param(f"{MONITOR}?access%5Ftoken={S}", S, id="encoded-underscore"),
    pytest.param(f"{MONITOR}?TEMPAUTH={S}", S, id="upper-case"),
    pytest.param(f"{MONITOR}?tempauth=%22{S}%22", S, id="encoded-quotes"),
    pytest.param(f'{MONITOR}?tempauth="{S}"', S, id="double-quoted"),
    pytest.param(f"{MONITOR}?code='{S}'", S, id="single-quoted"),
    pytest.param(f"{MONITOR}?tempauth=ab'{S}", S, id="secret-after-quote"),
    pytest.param(f"{MONITOR}?tempauth=ab<{S}", S, id="secret-after-angle-bracket"),
    pytest.param(f'{MONITOR}?sig=ab"{S}', S, id="secret-after-double-quote"),
    pytest.param(f"{MONITOR}?tempauth=ab {S}", S, id="secret-after-space"),
    pytest.param(f"{MONITOR}?tempauth[]={S}", S, id="array-name"),
    pytest.param(f"{MONITOR}?tempauth[0]={S}", S, id="indexed-name"),
    pytest.param(f"{MONITOR}?tempauth%5B%5D={S}", S, id="encoded-array-name"),
    pytest.param(f"{MONITOR}?ｔｅｍｐａｕｔｈ={S}", S, id="full-width-name"),
    pytest.param(f"{MONITOR}?tempauth＝{S}", S, id="full-width-equals"),
    pytest.param(f"{MONITOR}?tempauth={FULL_WIDTH_S}", S, id="full-width-value"),
    pytest.param(f"{MONITOR}?temp%C2%ADauth={S}", S, id="soft-hyphen-in-name"),
    pytest.param(f"{MONITOR}?accessToken={S}", S, id="camel-case-name"),
    pytest.param(f"{MONITOR}?x-amz-security-token={S}", S, id="amz-security-token"),
    pytest.param(f"{MONITOR}?v=2.0&amp;tempauth={S}", S, id="html-escaped-ampersand"),
    pytest.param(f"{MONITOR}?tempauth={S}&tempauth={S[::-1]}", S[::-1], id="repeated"),
    pytest.param(f"{MONITOR}?c=ab%26{S}", S, id="encoded-ampersand-in-value"),
    pytest.param(f"{MONITOR}?sig=ab#{S}", S, id="value-cut-at-hash"),
    pytest.param(f"{MONITOR}#access_token={S}&token_type=bearer", S, id="fragment"),
    pytest.param(f"{MONITOR};tempauth={S}", S, id="path-parameter"),
    pytest.param(f"{MONITOR}/tempauth={S}/x", S, id="path-segment-pair"),
    pytest.param(f"{MONITOR}%3Ftempauth%3D{S}", S, id="encoded-question-mark"),
    pytest.param(f"{ORIGIN}/_api/v2.0/monitor/{JWT}", JWT_PAYLOAD, id="jwt-in-path"),
    pytest.param(
        f"{ORIGIN}/_api/v2.0/monitor/{JWT.replace('.', '%2E')}", JWT_PAYLOAD, id="jwt-path-%2E"
    ),
    pytest.param(
        f"{ORIGIN}/_api/v2.0/monitor/{JWT.replace('.', '%252E')}", JWT_PAYLOAD, id="jwt-%252E"
    ),
    pytest.param(f"{ORIGIN}/v1.0/items/{JWT}/content", JWT_PAYLOAD, id="jwt-in-other-segment"),
    pytest.param(f"{MONITOR}?x={quote(STD_JWT, safe='')}", STD_SIGNATURE, id="standard-b64-jwt"),
    pytest.param(f"{MONITOR}?x={STD_JWT}", STD_SIGNATURE, id="standard-b64-jwt-raw"),
    pytest.param(
        f"{ORIGIN}/monitor/{quote(STD_JWT, safe='')}", STD_SIGNATURE, id="standard-b64-jwt-path"
    ),
    pytest.param(f"{MONITOR}?state={JWT}", JWT_PAYLOAD, id="jwt-in-unnamed-param"),
    pytest.param(f"{MONITOR}?x=Bearer%20{S}", S, id="bearer-in-value"),
    pytest.param(
        f"{MONITOR}?next=https%3A%2F%2Flogin.example%2Fcb%3Fcode%3D{S}%26state%3Dx",
        S,
        id="nested-url",
    ),
    pytest.param(
        f"{MONITOR}?next=https%253A%252F%252Flogin.example%252Fcb%253Fcode%253D{S}",
        S,
        id="double-encoded-nested-url",
    ),
    pytest.param(
        f"{MONITOR}?next=https%25253A%25252F%25252Fh%25252Fcb%25253Fsig%25253D{S}",
        S,
        id="triple-encoded-nested-url",
    ),
    pytest.param(f"{MONITOR}?next=https://h/cb?code={S}", S, id="raw-nested-url"),
    pytest.param(f"https://me:{S}@contoso.sharepoint.com/p", S, id="userinfo"),
    pytest.param(f"https://{S}{S}{S}{S}{S}{S}{S}@contoso.sharepoint.com/p", S, id="user-token"),
    pytest.param(f"https://graph.microsoft.com/v1.0/monitor/{LONG_TOKEN}", LONG_TOKEN, id="opaque"),
]


@pytest.mark.parametrize(("url", "secret"), CRAFTED)
def test_crafted_monitor_urls_leave_no_secret_readable(url: str, secret: str) -> None:
    redacted = redact_url(url)
    assert not leaked(secret, redacted), redacted
    assert find_secrets(redacted) == []
    assert redacted.startswith(url.split("/", 3)[0] + "//")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"{MONITOR}?temp%61uth={S}&v=2.0", f"{MONITOR}?temp%61uth=REDACTED&v=2.0"),
        (f"{MONITOR}?v=2.0&%63={S}", f"{MONITOR}?v=2.0&%63=REDACTED"),
        (f"{MONITOR}?tempauth=ab'{S}&v=2.0", f"{MONITOR}?tempauth=REDACTED&v=2.0"),
        (f"{MONITOR}?tempauth[]={S}", f"{MONITOR}?tempauth[]=REDACTED"),
        (f"{MONITOR}?tempauth%3D{S}", f"{MONITOR}?tempauth%3DREDACTED"),
        (f"{ORIGIN}/_api/v2.0/monitor/{JWT.replace('.', '%2E')}", f"{ORIGIN}/_api/v2.0/monitor/REDACTED"),
        (f"{MONITOR}?next=https%253A%252F%252Fh%252Fcb%253Fcode%253D{S}&v=2", f"{MONITOR}?next=REDACTED&v=2"),
        (f"{MONITOR}?sig=ab#{S}", f"{MONITOR}?sig=REDACTED#REDACTED"),
        (f"https://me:{S}@h/p", "https://me:REDACTED@h/p"),
    ],
)  # fmt: skip
def test_only_the_secret_part_of_a_url_is_dropped(url: str, expected: str) -> None:
    assert redact_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        MONITOR,
        f"{MONITOR}?c=REDACTED&v=2.0&tempauth=REDACTED",
        "https://contoso.sharepoint.com/_api/v2.0/monitor/4A3407B5-88FC-4504-8B21-0AABD3412717",
        "https://contoso.sharepoint.com/sites/site2/_api/v2.0/drives/"
        "b!1YwGyNd6RUuVB42eCVw7ULlXybr_-09Br67iDGnYY-neBqwZd6jJRJbgCTx0On5n/items/016OG",
        "https://contoso.sharepoint.com/_api/v2.0/drives/d/items/i?force303=1&tempauth=REDACTED",
        "https://api.onedrive.com/v1.0/monitor/job%2F7?x=a%20b&errorcode=5&percent=50%25",
        "https://h/p?next=https%3A%2F%2Flogin.example%2Fcb%3Fstate%3Ds1&v=2",
        "/v1.0/monitor/job%2F7",
        "http://127.0.0.1:8123/monitor/abc#section",
    ],
)
def test_urls_without_secrets_are_kept_as_written(url: str) -> None:
    assert redact_url(url) == url


@st.composite
def hostile_monitor_urls(draw: st.DrawFn) -> tuple[str, list[str], list[str]]:
    """(a monitor URL hiding credentials in URL encodings, its secrets, the parts to keep)."""
    job_id = str(draw(st.uuids()))
    params = draw(st.lists(url_params(), min_size=1, max_size=3))
    query = "&".join(["v=2.0", *(param for param, _ in params)])
    secrets = [value for _, value in params]
    shape = draw(st.sampled_from(["query", "jwt-path", "nested", "nested-twice"]))
    path = f"/personal/u/_api/v2.1/drive/operations/{job_id}"
    if shape == "jwt-path":
        token, payload = draw(hidden_jwts(st.sampled_from([".", "%2E", "%252e", "．"])))
        path = f"/_api/v2.0/monitor/{token}"
        secrets.append(payload)
    elif shape.startswith("nested"):
        value = draw(VALUES)
        nested = quote(f"https://login.example/cb?state=s&code={value}", safe="")
        if shape == "nested-twice":
            nested = quote(nested, safe="")
        query += f"&next={nested}"
        secrets.append(value)
    kept = [ORIGIN + (path if shape != "jwt-path" else "/_api/v2.0/monitor/"), "v=2.0"]
    return f"{ORIGIN}{path}?{query}", secrets, kept


@given(hostile_monitor_urls())
def test_generated_hostile_monitor_urls_leave_no_secret_readable(
    case: tuple[str, list[str], list[str]],
) -> None:
    url, secrets, kept = case
    redacted = redact_url(url)
    assert not any(leaked(secret, redacted) for secret in secrets), redacted
    assert all(part in redacted for part in kept)
    assert find_secrets(url) and not find_secrets(redacted)
    assert redact_url(redacted) == redacted


@given(jwts(), st.sampled_from(["%2E", "%2e", "%252E", "．", "."]), st.booleans())
def test_a_jwt_in_the_job_segment_is_hashed_and_redacted(
    token: str, dot: str, quoted: bool
) -> None:
    segment = token.replace(".", dot)
    url = f"{ORIGIN}/_api/v2.0/monitor/{quote(segment, safe='%') if quoted else segment}"
    payload = token.split(".")[1]
    assert job_id_from_url(url).startswith("h-")
    assert redact_url(url) == f"{ORIGIN}/_api/v2.0/monitor/REDACTED"
    assert not leaked(payload, redact_url(url))


@given(st.text("abcxyz0=&?%/#:;'\"<>[] ", max_size=60), VALUES)
def test_a_secret_parameter_after_any_prefix_is_dropped(prefix: str, value: str) -> None:
    url = f"{MONITOR}?{prefix}&tempauth={value}"
    assert not leaked(value, redact_url(url))


@pytest.mark.parametrize(("length", "dropped"), [(99, False), (100, True), (250, True)])
def test_a_path_segment_of_100_token_characters_or_more_is_taken_for_a_token(
    length: int, dropped: bool
) -> None:
    segment = (LONG_TOKEN * 2)[:length]
    url = f"https://api.onedrive.com/v1.0/monitor/{segment}"
    assert redact_url(url) == (url.replace(segment, "REDACTED") if dropped else url)
