"""Credentials escaped, encoded or spelled otherwise inside bodies are found and redacted, and the
rest of the body (its JSON, statuses, percentages, error codes) survives."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path
from urllib.parse import quote

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hostile import hidden_keys, hidden_secrets, leaked
from hypothesis import given
from hypothesis import strategies as st

from replay.decode import ENCODED_RE2, MAX_ROUNDS, decoded, text_of_bytes
from replay.payload import normalize
from replay.redact import (
    PREFILTER_RE2,
    SECRET_KEYS,
    SECRET_PARAMS,
    TOO_DEEP,
    UNMASK_RE2,
    find_secrets,
    redact_text,
    redact_url,
)

JWT = "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.eyJhdWQiOiJGQUtFIiwidmVyIjoiaGFzaGVkIn0."
ESCAPED_DOTS_JWT = JWT.replace(".", "\\u002e")
S = "Sx9Kq2ZbW7vLm4Tc"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            f'{{"url": "https://h/m?temp\\u0061uth={S}&v=2.0"}}',
            '{"url": "https://h/m?temp\\u0061uth=REDACTED&v=2.0"}',
            id="escaped-letter",
        ),
        pytest.param(
            f'{{"url": "https://h/m?tempauth\\u003d{S}\\u0026v=2.0"}}',
            '{"url": "https://h/m?tempauth\\u003dREDACTED\\u0026v=2.0"}',
            id="escaped-separators",
        ),
        pytest.param(
            f'{{"t": "{ESCAPED_DOTS_JWT}"}}', '{"t": "REDACTED"}', id="escaped-jwt-dots"
        ),
        pytest.param(f'{{"token": "{S}"}}', '{"token": "REDACTED"}', id="token-key"),
        pytest.param(f'{{"accessToken": "{S}"}}', '{"accessToken": "REDACTED"}', id="camel-key"),
        pytest.param(f'{{"x-api-key": "{S}"}}', '{"x-api-key": "REDACTED"}', id="dashed-key"),
        pytest.param('{"password": 123456}', '{"password": "REDACTED"}', id="number-value"),
        pytest.param('{"i": "{\\"pin\\": 0, \\"password\\": 1234}"}', '{"i": "{\\"pin\\": 0, \\"password\\": \\"REDACTED\\"}"}', id="number-in-json-string"),
        pytest.param(f'{{"\\u0074oken": "\\u0053{S}"}}', '{"\\u0074oken": "REDACTED"}', id="escaped-key"),
        pytest.param(
            f'{{"inner": "{{\\"token\\": \\"{S}\\"}}"}}',
            '{"inner": "{\\"token\\": \\"REDACTED\\"}"}',
            id="json-in-a-json-string",
        ),
        pytest.param(f'tempauth="{S}" v=2', 'tempauth="REDACTED" v=2', id="double-quoted"),
        pytest.param(f"code='{S}';", "code='REDACTED';", id="single-quoted"),
        pytest.param(
            f'{{"m": "see tempauth=\\"{S}\\""}}',
            '{"m": "see tempauth=\\"REDACTED\\""}',
            id="escaped-quotes",
        ),
        pytest.param(f"GET /m?temp%61uth={S}&v=2", "GET /m?temp%61uth=REDACTED&v=2", id="percent-name"),
        pytest.param(f"GET /m?tempauth%253D{S}", "GET /m?tempauth%253DREDACTED", id="double-percent"),
        pytest.param(f"ｔｅｍｐａｕｔｈ＝{S} ok", "ｔｅｍｐａｕｔｈ＝REDACTED ok", id="full-width"),
        pytest.param(f"temp\u00adauth={S} ok", "temp\u00adauth=REDACTED ok", id="soft-hyphen"),
        pytest.param(f"<a href='/m?sig=ab&#39;cd&amp;tempauth={S}'>", "<a href='/m?sig=REDACTED&amp;tempauth=REDACTED'>", id="html"),
        pytest.param(f"tempauth[]={S}&v=2", "tempauth[]=REDACTED&v=2", id="array-name"),
    ],
)  # fmt: skip
def test_escaped_and_encoded_credentials_are_redacted_where_they_are_written(
    body: str, expected: str
) -> None:
    assert redact_text(body) == expected
    assert find_secrets(body) and not find_secrets(expected)


#: A monitor body around the secret: JSON (a string member, the members themselves), free text.
CONTAINERS = ["json-string", "json-members", "json-in-json", "text", "html"]
STATUSES = st.sampled_from(["inProgress", "completed", "failed", "waiting", "odd value"])
PERCENTAGES = st.floats(0, 100, allow_nan=False) | st.integers(0, 100)
ERROR_CODES = st.sampled_from(["nameAlreadyExists", "AccessDenied_CrossDrive", "errorcode=5"])


def body_around(content: str, container: str, status: str, pct: float, code: str) -> str:
    """A body holding ``content`` (text that fits in a JSON string) in ``container``."""
    fields = json.dumps({"status": status, "percentageComplete": pct})[1:-1]
    error = json.dumps({"error": {"code": code}})[1:-1]
    if container == "json-string":
        return f'{{{fields}, "statusDescription": "see {content} now", {error}}}'
    if container == "json-members":
        return f"{{{fields}, {content}, {error}}}"
    if container == "json-in-json":
        inner = json.dumps(json.loads(f'{{"m": "x {content}"}}'))
        return json.dumps({"status": status, "percentageComplete": pct, "detail": inner})
    if container == "html":
        return f"<html><p>{status} {pct}%</p><a href='/m?v=2&amp;{content}'>x</a></html>"
    return f"GET /m?x=1 {content} HTTP/1.1 -> {status} {pct}"


@given(hidden_secrets(), st.sampled_from(CONTAINERS), STATUSES, PERCENTAGES, ERROR_CODES)
def test_a_credential_in_any_encoding_is_redacted_and_the_body_survives(
    secret: tuple[str, str], container: str, status: str, pct: float, code: str
) -> None:
    content, value = secret
    if container == "json-members":
        content = f'"m": "{content}"'
    body = body_around(content, container, status, pct, code)
    redacted = redact_text(body)
    assert not leaked(value, redacted), redacted
    assert find_secrets(body) and not find_secrets(redacted)
    if container.startswith("json"):
        document = json.loads(redacted)
        assert (document["status"], document["percentageComplete"]) == (status, pct)
        assert container == "json-in-json" or document["error"] == {"code": code}
    assert redact_text(redacted) == redacted


@given(hidden_keys(), st.booleans(), STATUSES, PERCENTAGES)
def test_credential_named_json_fields_are_redacted_in_any_spelling(
    member: tuple[str, str], nested: bool, status: str, pct: float
) -> None:
    content, value = member
    body = body_around(content, "json-members", status, pct, "nameAlreadyExists")
    if nested:  # the whole document as a string inside another
        body = json.dumps({"status": status, "percentageComplete": pct, "detail": body})
    redacted = redact_text(body)
    assert not leaked(value, redacted), redacted
    document = json.loads(redacted)
    assert (document["status"], document["percentageComplete"]) == (status, pct)


@pytest.mark.parametrize("key", SECRET_KEYS)
def test_every_credential_key_is_redacted_as_a_json_key(key: str) -> None:
    body = json.dumps({"status": "failed", key: S, "error": {"code": "unauthenticated"}})
    assert json.loads(redact_text(body)) == {
        "status": "failed",
        key: "REDACTED",
        "error": {"code": "unauthenticated"},
    }


@pytest.mark.parametrize(
    "body",
    [
        '{"error": {"code": "nameAlreadyExists", "message": "Name already exists"}}',
        '{"status": "failed", "errorCode": "errorcode=5", "percentageComplete": 27.8}',
        '{"tokenType": "Bearer", "expires_in": 3599, "scope": "Files.ReadWrite"}',
        '{"status":"tempauth=","next":"x"}',
        '{"a": "code=", "b": "c"}',
        "<p>50% done &amp; 20% left: caf\u00e9, \uff08full-width parenthesis\uff09</p>",
        '{"m": "Fran\\u00e7ais \\u65e5\\u672c \\ud83d\\ude00", "url": "https:\\/\\/h\\/p"}',
        "C:\\Users\\me\\token.txt and 100%25 sure",
    ],
)
def test_bodies_without_secrets_are_kept_as_written(body: str) -> None:
    assert redact_text(body) == body
    assert find_secrets(body) == []


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_bodies_are_read_and_redacted(encoding: str) -> None:
    body = json.dumps({"status": "inProgress", "resourceLocation": f"https://h/i?tempauth={S}"})
    fields = normalize(body.encode(encoding), http_status=200)
    assert fields["status"] == "inProgress"
    assert fields["body"] == body.replace(S, "REDACTED")


def test_utf8_bytes_after_a_utf16_byte_order_mark_are_read_as_utf8() -> None:
    text, clean = text_of_bytes(b"\xff\xfe\x00tempauth=" + S.encode())
    assert not clean and text.endswith(f"tempauth={S}")
    assert find_secrets(text) == ["tempauth"]


@given(st.lists(hidden_secrets().map(lambda case: case[0]), min_size=1, max_size=6))
def test_the_re2_prefilter_matches_every_text_with_a_hidden_secret(texts: list[str]) -> None:
    column = pa.array(texts + [redact_text(text) for text in texts])
    unmasked = pc.replace_substring_regex(column, pattern=UNMASK_RE2, replacement=r"\1")
    matched = pc.match_substring_regex(unmasked, pattern=PREFILTER_RE2, ignore_case=True)
    for text, hit in zip(column.to_pylist(), matched.to_pylist(), strict=True):
        if find_secrets(text):
            assert hit, text


def _turns_ascii_or_vanishes(char: str) -> bool:
    text = decoded(char).text
    return text != char and (not text or any(c.isascii() for c in text))


def test_every_character_decoding_turns_into_ascii_or_drops_is_a_prefilter_candidate() -> None:
    codes = [code for code in range(0x80, 0x110000) if not 0xD800 <= code < 0xE000]
    blocks = ("".join(map(chr, codes[at : at + 256])) for at in range(0, len(codes), 256))
    changed = [
        char
        for block in blocks
        if decoded(block).text != block
        for char in block
        if _turns_ascii_or_vanishes(char)
    ]
    assert len(changed) > 1500  # full-width forms, ligatures, enclosed letters, invisibles, ...
    matched = pc.match_substring_regex(pa.array(changed), pattern=ENCODED_RE2).to_pylist()
    assert [f"U+{ord(c):04X}" for c, hit in zip(changed, matched, strict=True) if not hit] == []


@pytest.mark.parametrize("levels", [MAX_ROUNDS + 1, 40])
def test_a_text_encoded_too_deeply_to_check_is_redacted_whole(levels: int) -> None:
    text = f"tempauth={S}"
    for _ in range(levels):
        text = quote(text, safe="")
    body = f'{{"status": "inProgress", "m": "{text}"}}'
    assert find_secrets(body) == [TOO_DEEP]
    assert redact_text(body) == "REDACTED"
    assert redact_url(f"https://h/m?v=2&x={text}") == "https://h/m?v=2&x=REDACTED"


def test_a_text_encoded_as_deeply_as_decoding_goes_is_checked() -> None:
    text = f"tempauth={S}"
    for _ in range(MAX_ROUNDS):
        text = quote(text, safe="")
    assert find_secrets(text) == ["tempauth"]
    assert not leaked(S, redact_text(text))


def _doc_section(title: str) -> str:
    text = (Path(__file__).resolve().parents[2] / "docs" / "recording.md").read_text("utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", text, re.M | re.S)
    assert match, f"docs/recording.md has no '## {title}' section"
    return match.group(1)


def test_docs_recording_says_what_is_redacted_as_the_code_does() -> None:
    section = _doc_section("What is redacted, and how")
    rows = [line for line in section.splitlines() if line.startswith("| ")][2:]
    params, keys = (re.findall(r"`([a-z_-]+)`", row.split(" | ")[0]) for row in rows[:2])
    assert set(params) <= set(SECRET_PARAMS) and {"tempauth", "c", "sig", "code"} <= set(params)
    assert set(keys) == set(SECRET_PARAMS) - set(SECRET_KEYS)
    for example in re.findall(r"`([^`]*REDACTED[^`]*)`", section):
        assert redact_text(example) == example and find_secrets(example) == [], example
    assert f"up to {MAX_ROUNDS} levels" in section and f"after {MAX_ROUNDS} levels" in section


PLAIN = st.text(string.ascii_letters + string.digits + " .,-_()", max_size=40).filter(
    lambda text: not any(word in text.lower() for word in ("bearer", "authorization", "eyj"))
)


@given(PLAIN)
def test_the_re2_prefilter_passes_plain_ascii_without_names_or_escapes(text: str) -> None:
    """Scans stay fast: ``notStarted`` or ``Kelvin`` are no candidates (case-insensitive RE2
    would fold the ``ſ`` and ``K`` of the decodable characters to s and k)."""
    column = pa.array([f"notStarted simulated Kelvin {text}"])
    assert not pc.match_substring_regex(column, pattern=PREFILTER_RE2, ignore_case=True)[0].as_py()
