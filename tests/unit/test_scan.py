"""``replay.scan``: secrets planted in Parquet values, metadata, text and gzip files are found."""

from __future__ import annotations

import gzip
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hostile import hidden_secrets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replay import store
from replay.errors import DatasetNotFoundError
from replay.payload import normalize, render_body
from replay.redact import redact_text
from replay.scan import Finding, scan

pytestmark = pytest.mark.plants_secrets

TEMPAUTH = "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.eyJhdWQiOiJGQUtFIiwidmVyIjoiaGFzaGVkIn0."
TEMPAUTH_ESCAPED_DOTS = TEMPAUTH.replace(".", "\\u002e")
MONITOR = (
    "https://contoso-my.sharepoint.com/personal/u/_api/v2.1/drive/operations/"
    f"8b1a2c3d?c=a2V5I2h0dHBzOi8vcQ%3D%3D&v=2.0&tempauth={TEMPAUTH}"
)
REDACTED_MONITOR = (
    "https://contoso-my.sharepoint.com/personal/u/_api/v2.1/drive/operations/"
    "8b1a2c3d?c=REDACTED&v=2.0&tempauth=REDACTED"
)
PART = "observations/date=2026-01-01/part-x.parquet"


def write_parquet(path: Path, table: pa.Table, row_group_size: int = 7) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, row_group_size=row_group_size)
    return path


def bodies(n: int, secret_rows: dict[int, str]) -> pa.Table:
    """``n`` rows of clean bodies (redacted URLs included), ``secret_rows`` replacing some."""
    clean = render_body("graph", status="inProgress", percentage_complete=50.0)
    values = [secret_rows.get(i, clean.decode() + f" {REDACTED_MONITOR}") for i in range(n)]
    return pa.table({"job_id": [f"j{i % 3}" for i in range(n)], "body": values, "seq": range(n)})


def test_secret_in_a_parquet_value_is_named_by_column_and_file_row(tmp_path: Path) -> None:
    write_parquet(
        tmp_path / PART, bodies(40, {17: f'{{"url": "{MONITOR}"}}', 33: "tempauth=REDACTED&v=2."})
    )
    result = scan(tmp_path)
    assert [str(f) for f in result.findings] == [f"{PART}: column body, row 17 (c, tempauth)"]
    assert (result.files, result.clean) == (1, False)


def test_findings_never_contain_the_secret(tmp_path: Path) -> None:
    write_parquet(tmp_path / f"x/tempauth={TEMPAUTH}.parquet", bodies(3, {1: MONITOR}))
    result = scan(tmp_path)
    printed = "\n".join(str(f) for f in result.findings)
    assert "file name" in printed and "column body, row 1" in printed
    assert TEMPAUTH not in printed and "eyJ" not in printed


def test_dictionary_nested_and_binary_columns_are_checked(tmp_path: Path) -> None:
    table = pa.table(
        {
            "status": pa.array(["ok", MONITOR, "ok"]).dictionary_encode(),
            "tags": pa.array([["a"], [], ["b", f"token={'x' * 20}"]]),
            "extra": pa.array([{"k": "v"}, {"k": f"Bearer {'y' * 30}"}, {"k": None}]),
            "raw": pa.array([b"\xff", b"ok", f"sig={'z' * 20}".encode()]),
            "labels": pa.array(
                [[("a", "b")], [("access_token", "q")], [("k", f"x {TEMPAUTH}")]],
                type=pa.map_(pa.string(), pa.string()),
            ),
        }
    )
    write_parquet(tmp_path / "f.parquet", table)
    wheres = {f.where: f.kinds for f in scan(tmp_path).findings}
    assert wheres == {
        "column status, row 1": ("c", "tempauth"),
        "column tags[], row 2": ("token",),
        "column extra.k, row 1": ("bearer",),
        "column raw, row 2": ("sig",),
        "column labels.value, row 2": ("jwt",),
    }


@pytest.mark.parametrize(
    ("schema_meta", "field_meta", "where"),
    [
        pytest.param(
            {b"source_url": MONITOR.encode()}, None, "file metadata key 'source_url'", id="file"
        ),
        pytest.param(
            {b"note": b"ok"}, {b"origin": f"Bearer {'k' * 40}".encode()},
            "column body metadata key 'origin'", id="field",
        ),
        pytest.param(
            {b"tempauth=" + TEMPAUTH.encode(): b"1"}, None,
            "file metadata key name 'tempauth=REDACTED'", id="key-name",
        ),
    ],
)  # fmt: skip
def test_secret_in_parquet_metadata_is_found(
    tmp_path: Path,
    schema_meta: dict[bytes, bytes],
    field_meta: dict[bytes, bytes] | None,
    where: str,
) -> None:
    body = pa.field("body", pa.string(), metadata=field_meta)
    schema = pa.schema([body], metadata=schema_meta)
    write_parquet(tmp_path / "m.parquet", pa.table({"body": ["clean"]}, schema=schema))
    findings = scan(tmp_path).findings
    assert [f.where for f in findings] == [where]


def test_secret_in_a_column_name_is_found(tmp_path: Path) -> None:
    write_parquet(tmp_path / "n.parquet", pa.table({f"sig={'s' * 20}": [1, 2]}))
    assert [f.where for f in scan(tmp_path).findings] == ["column name 'sig=REDACTED'"]


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_secret_in_a_text_file_is_named_by_line(tmp_path: Path, compress: bool) -> None:
    lines = ["clean line", f"GET {REDACTED_MONITOR}", f"GET {MONITOR}", "done"]
    data = "\n".join(lines).encode()
    path = tmp_path / "logs" / "poll.log"
    path.parent.mkdir()
    path.write_bytes(gzip.compress(data) if compress else data)
    result = scan(tmp_path)
    assert result.findings == [Finding("logs/poll.log", "line 3", ("c", "tempauth"))]
    assert result.values == 1 + 4  # the file name and four lines


def test_a_secret_spread_over_lines_is_named_by_the_line_range(tmp_path: Path) -> None:
    (tmp_path / "body.json").write_text('{\n  "access_token":\n    "abc123"\n}\n')
    assert [f.where for f in scan(tmp_path).findings] == ["lines 1-4"]


def test_undecodable_bytes_are_read_as_text(tmp_path: Path) -> None:
    (tmp_path / "blob.bin").write_bytes(b"\xff\xfe\x00tempauth=" + TEMPAUTH.encode() + b"\x00\xff")
    assert [f.kinds for f in scan(tmp_path).findings] == [("tempauth",)]


def test_a_recording_written_from_responses_with_credentials_is_clean(tmp_path: Path) -> None:
    """Bodies and URLs that held credentials, normalised and stored as the recorder does."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    raw = f'{{"status": "completed", "resourceLocation": "{MONITOR}"}}'.encode()
    rows = [
        {**normalize(raw, http_status=200), "job_id": "8b1a2c3d", "seq": i}
        | {"ts": start + timedelta(hours=i * 13), "source": "http"}
        for i in range(4)
    ]
    for row in rows:
        del row["location"]
    store.write_observations(tmp_path, pa.Table.from_pylist(rows))
    store.write_jobs(tmp_path, pa.table({"job_id": ["8b1a2c3d"], "url": [REDACTED_MONITOR]}))
    (tmp_path / "README.md").write_text("Recorded with tempauth=REDACTED and c=REDACTED.\n")
    result = scan(tmp_path)
    assert result.clean, [str(f) for f in result.findings]
    assert result.files == 4  # two days of observations, jobs, README
    assert result.values > 8


def test_a_corrupt_parquet_file_is_unreadable_and_still_read_as_text(tmp_path: Path) -> None:
    (tmp_path / "bad.parquet").write_bytes(b"PAR1" + f"tempauth={TEMPAUTH}".encode() + b"\0PAR")
    result = scan(tmp_path)
    assert [path for path, _ in result.unreadable] == ["bad.parquet"]
    assert [f.kinds for f in result.findings] == [("jwt",)]
    assert not result.clean


def test_a_cut_off_gzip_file_is_unreadable(tmp_path: Path) -> None:
    (tmp_path / "cut.gz").write_bytes(gzip.compress(b"x" * 5000)[:30])
    result = scan(tmp_path)
    assert [path for path, _ in result.unreadable] == ["cut.gz"]
    assert not result.clean


def test_a_single_file_can_be_scanned(tmp_path: Path) -> None:
    path = tmp_path / "one.txt"
    path.write_text(f"Authorization: Bearer {'t' * 30}\n")
    assert [str(f) for f in scan(path).findings] == ["one.txt: line 1 (authorization)"]


def test_an_empty_folder_is_clean(tmp_path: Path) -> None:
    result = scan(tmp_path)
    assert (result.clean, result.files, result.values) == (True, 0, 0)


def test_a_missing_folder_is_a_dataset_not_found_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match="no such folder") as caught:
        scan(tmp_path / "nope")
    assert isinstance(caught.value, FileNotFoundError)


def test_many_rows_few_secrets_are_all_found_across_row_groups(tmp_path: Path) -> None:
    planted = {3: MONITOR, 7_000: f"x {TEMPAUTH}", 19_999: "sig=abcdef0123"}
    write_parquet(tmp_path / PART, bodies(20_000, planted), row_group_size=6_000)
    rows = [f.where for f in scan(tmp_path).findings]
    assert rows == [f"column body, row {i}" for i in sorted(planted)]


# -- secrets hidden in encodings -----------------------------------------------------------------

S = "Sx9Kq2ZbW7vLm4Tc"
#: A credential in each encoding redaction and scan decode (issue 11, item 5).
HIDDEN = [
    pytest.param(f'{{"u": "https://h/m?temp\\u0061uth={S}"}}', id="json-escaped-name"),
    pytest.param(f'{{"u": "https://h/m?tempauth\\u003d{S}"}}', id="json-escaped-separator"),
    pytest.param(f'{{"t": "{TEMPAUTH_ESCAPED_DOTS}"}}', id="jwt-escaped-dots"),
    pytest.param(f'{{"status": "failed", "token": "{S}"}}', id="token-key"),
    pytest.param(f'{{"accessToken": "{S}"}}', id="camel-case-key"),
    pytest.param(f'{{"\\u0074oken": "{S}"}}', id="escaped-key"),
    pytest.param(f'{{"m": "{{\\"client_secret\\": \\"{S}\\"}}"}}', id="json-in-json"),
    pytest.param(f'see tempauth="{S}"', id="double-quoted"),
    pytest.param(f"see code='{S}'", id="single-quoted"),
    pytest.param(f'{{"m": "tempauth=\\"{S}\\""}}', id="escaped-quotes"),
    pytest.param(f"GET /m?temp%61uth={S}", id="percent-encoded-name"),
    pytest.param(f"GET /m?%2574empauth={S}", id="double-percent-encoded-name"),
    pytest.param(f"GET /m?tempauth[]={S}", id="array-name"),
    pytest.param(f"GET /m?ｔｅｍｐａｕｔｈ＝{S}", id="full-width"),
    pytest.param(f"GET /monitor/{TEMPAUTH.replace('.', '%2E')}", id="jwt-percent-dots"),
    pytest.param(f"next=https%253A%252F%252Fh%252Fcb%253Fcode%253D{S}", id="double-encoded-url"),
    pytest.param(f"<a href='/m?v=1&amp;tempauth=&#{ord(S[0])};{S[1:]}'>", id="html-references"),
]


@pytest.mark.parametrize("text", HIDDEN)
@pytest.mark.parametrize("container", ["parquet", "text", "gzip", "utf-16-text", "utf-16-binary"])
def test_a_secret_planted_in_any_encoding_is_found(
    tmp_path: Path, text: str, container: str
) -> None:
    if container == "parquet":
        write_parquet(tmp_path / PART, bodies(20, {11: text}))
    elif container == "utf-16-binary":
        values = [b"clean", text.encode("utf-16"), None]
        write_parquet(tmp_path / PART, pa.table({"raw": pa.array(values, pa.binary())}))
    else:
        data = f"clean\n{text}\ndone\n".encode("utf-16" if container == "utf-16-text" else "utf-8")
        (tmp_path / "poll.log").write_bytes(gzip.compress(data) if container == "gzip" else data)
    result = scan(tmp_path)
    assert result.findings, text
    assert S not in str(result.findings) and "eyJ" not in str(result.findings)


def test_hidden_secrets_are_named_by_row_and_redacted_ones_are_clean(tmp_path: Path) -> None:
    texts = [param.values[0] for param in HIDDEN]
    planted = {3 * i + 1: text for i, text in enumerate(texts)}
    planted |= {3 * i + 2: redact_text(text) for i, text in enumerate(texts)}
    write_parquet(tmp_path / PART, bodies(3 * len(texts) + 1, planted), row_group_size=10)
    rows = [f.where for f in scan(tmp_path).findings]
    assert rows == [f"column body, row {3 * i + 1}" for i in range(len(texts))]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(hidden_secrets().map(lambda case: case[0]), min_size=1, max_size=5))
def test_generated_hidden_secrets_in_parquet_values_are_all_found(
    tmp_path_factory: pytest.TempPathFactory, texts: list[str]
) -> None:
    root = tmp_path_factory.mktemp("hidden")
    planted = {
        5 * i + 2: f'{{"status": "inProgress", "m": "{text}"}}' for i, text in enumerate(texts)
    }
    write_parquet(root / PART, bodies(5 * len(texts) + 3, planted), row_group_size=8)
    rows = [f.where for f in scan(root).findings]
    assert rows == [f"column body, row {row}" for row in sorted(planted)]


# -- what scan cannot read -----------------------------------------------------------------------


def _unlistable(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Make listing ``folder`` fail as an unreadable folder does (whoever runs the test)."""
    listing = os.scandir

    def scandir(path: Any = ".") -> Any:
        if Path(path) == folder:
            raise PermissionError(13, "Permission denied", str(path))
        return listing(path)

    monkeypatch.setattr(os, "scandir", scandir)


@pytest.mark.parametrize(
    ("make", "named", "reason"),
    [
        pytest.param("unlistable", "observations/date=2026-01-02", "PermissionError", id="unlistable"),
        pytest.param("chmod", "observations/date=2026-01-02", "PermissionError", id="chmod-000",
                     marks=pytest.mark.skipif(os.geteuid() == 0, reason="root reads any folder")),
        pytest.param("symlinked", "observations/linked", "symbolic link to a folder", id="symlinked"),
        pytest.param("fifo", "observations/pipe", "not a regular file", id="fifo"),
        pytest.param("broken", "observations/gone.parquet", "broken symbolic link", id="broken-link"),
    ],
)  # fmt: skip
def test_whatever_scan_cannot_read_is_named_and_not_clean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make: str, named: str, reason: str
) -> None:
    write_parquet(tmp_path / PART, bodies(3, {}))
    hidden = tmp_path / "observations" / "date=2026-01-02"
    write_parquet(hidden / "part-y.parquet", bodies(3, {1: MONITOR}))
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    write_parquet(outside / "part-z.parquet", bodies(3, {1: MONITOR}))
    if make == "unlistable":
        _unlistable(monkeypatch, hidden)
    elif make == "chmod":
        hidden.chmod(0)
    elif make == "symlinked":
        (tmp_path / named).symlink_to(outside, target_is_directory=True)
    elif make == "fifo":
        os.mkfifo(tmp_path / named)
    else:
        (tmp_path / named).symlink_to(tmp_path / "nowhere.parquet")
    try:
        result = scan(tmp_path)
    finally:
        hidden.chmod(0o755)
    assert [path for path, _ in result.unreadable] == [named]
    assert reason in result.unreadable[0][1]
    assert not result.clean
