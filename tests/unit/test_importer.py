"""``replay import``: JSON-lines payload logs (plain, gzip, with bad lines) into a recording."""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from replay import store
from replay.cli import main
from replay.errors import DatasetNotFoundError, PayloadError
from replay.importer import import_files, parse_line
from replay.scan import scan

DATA = Path(__file__).parent.parent / "data" / "imports"
FAKE_SECRETS = (b"FAKEtempauthSECRET", b"FAKEcSECRETqueue")


def every_byte(root: Path) -> bytes:
    """All bytes of every file under ``root``."""
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


def test_imports_job_id_lines_with_seq_in_file_order(tmp_path: Path) -> None:
    summary = import_files([DATA / "graph_payloads.jsonl"], tmp_path)
    obs = store.read(tmp_path)
    assert (summary.rows, summary.jobs, summary.bad_lines) == (5, 2, ())
    a = obs[obs["job_id"] == "copy-a"]
    assert a["seq"].tolist() == [0, 1, 2]
    assert a["status"].astype(str).tolist() == ["notStarted", "inProgress", "completed"]
    assert a["percentage_complete"].tolist() == [0.0, 40.0, 100.0]
    assert set(obs["source"]) == {"import"}
    assert obs["http_status"].isna().all()


def test_imports_epoch_seconds_and_error_fields(tmp_path: Path) -> None:
    import_files([DATA / "graph_payloads.jsonl"], tmp_path)
    obs = store.read(tmp_path)
    failed = obs[(obs["job_id"] == "copy-b") & (obs["seq"] == 1)].iloc[0]
    assert failed["ts"] == pd.Timestamp("2026-01-05T23:00:05.25Z")
    assert (failed["status"], failed["error_code"]) == ("failed", "nameAlreadyExists")


@pytest.mark.parametrize(
    ("name", "rows", "statuses"),
    [
        pytest.param("raw_bodies.jsonl.gz", 3, ["inProgress", None, "completed"], id="gz"),
        pytest.param("gzip_without_suffix.log", 2, ["notStarted", "inProgress"], id="magic"),
    ],
)
def test_imports_gzip_told_by_magic_bytes(
    tmp_path: Path, name: str, rows: int, statuses: list[str | None]
) -> None:
    summary = import_files([DATA / name], tmp_path)
    obs = store.read(tmp_path)
    assert summary.rows == rows
    got = [None if pd.isna(s) else s for s in obs["status"].tolist()]
    assert got == statuses


def test_url_lines_keep_http_status_retry_after_and_redacted_url(tmp_path: Path) -> None:
    import_files([DATA / "raw_bodies.jsonl.gz"], tmp_path)
    obs = store.read(tmp_path)
    jobs = store.read_jobs(tmp_path)
    assert obs["http_status"].tolist() == [202, 429, 200]
    assert obs["retry_after_s"].tolist()[1] == 30.0
    assert len(jobs) == 1
    assert "/operations/" in jobs["url"].iloc[0]
    assert jobs["first_seen"].iloc[0] == pd.Timestamp("2026-01-05T23:10:00Z")
    assert jobs["last_seen"].iloc[0] == pd.Timestamp("2026-01-05T23:10:40Z")


def test_credentials_in_urls_never_reach_disk(tmp_path: Path) -> None:
    import_files([DATA / "raw_bodies.jsonl.gz"], tmp_path)
    written = every_byte(tmp_path)
    assert written  # something was written
    for secret in FAKE_SECRETS:
        assert secret not in written
    assert scan(tmp_path).clean


def test_bad_lines_are_reported_with_line_numbers_and_good_ones_kept(tmp_path: Path) -> None:
    summary = import_files([DATA / "with_bad_lines.jsonl"], tmp_path)
    assert [b.line for b in summary.bad_lines] == [2, 3, 5, 6, 7, 8, 9]
    assert all(b.path.endswith("with_bad_lines.jsonl") for b in summary.bad_lines)
    assert store.read(tmp_path)["seq"].tolist() == [0, 1]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        pytest.param(
            '{"job_id": "j", "ts": "2026-01-05T23:00:00Z", "st', "not valid JSON", id="json"
        ),
        pytest.param('"just a string"', "expected a JSON object", id="not-object"),
        pytest.param('{"job_id": "j", "status": "inProgress"}', 'no "ts"', id="no-ts"),
        pytest.param('{"job_id": "j", "ts": "soon"}', "not ISO 8601", id="bad-ts"),
        pytest.param('{"job_id": "j", "ts": 1767654003000}', "milliseconds", id="ms"),
        pytest.param('{"job_id": "j", "ts": true}', "ISO 8601 or epoch", id="bool-ts"),
        pytest.param('{"ts": 1767654003, "status": "x"}', 'no "job_id" and no "url"', id="no-id"),
        pytest.param('{"job_id": "", "ts": 1767654003}', "non-empty string", id="empty-id"),
        pytest.param('{"job_id": "j", "ts": 1, "http_status": 99}', "HTTP status", id="http"),
        pytest.param(
            '{"ts": 1, "url": "https://h/monitor/x", "body": 3}', '"body" must', id="body"
        ),
        pytest.param(
            '{"ts": 1, "url": "https://h/monitor/x", "body": {}, "status": "x"}',
            "inside",
            id="stray-key",
        ),
    ],
)
def test_parse_line_names_what_is_wrong(line: str, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        parse_line(line)


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        ("2026-01-05T23:00:00Z", "2026-01-05T23:00:00Z"),
        ("2026-01-06T01:00:00+02:00", "2026-01-05T23:00:00Z"),
        ("2026-01-05T23:00:00", "2026-01-05T23:00:00Z"),
        (1767654000, "2026-01-05T23:00:00Z"),
        (1767654000.5, "2026-01-05T23:00:00.5Z"),
    ],
)
def test_parse_line_reads_iso_and_epoch_times_as_utc(ts: object, expected: str) -> None:
    _, micros, _, _ = parse_line(json.dumps({"job_id": "j", "ts": ts, "status": "inProgress"}))
    assert pd.Timestamp(micros, unit="us", tz="UTC") == pd.Timestamp(expected)


def test_strict_raises_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    with pytest.raises(PayloadError, match="7 bad line") as caught:
        import_files(
            [DATA / "graph_payloads.jsonl", DATA / "with_bad_lines.jsonl"], out, strict=True
        )
    assert len(caught.value.bad_lines) == 7  # type: ignore[attr-defined]
    assert not out.exists()


def renamed_copy(tmp_path: Path) -> Path:
    """The same lines under another name."""
    copy = tmp_path / "copy.jsonl"
    shutil.copyfile(DATA / "graph_payloads.jsonl", copy)
    return copy


def gzipped_copy(tmp_path: Path) -> Path:
    """The same lines, gzip-compressed."""
    import gzip

    copy = tmp_path / "copy.jsonl.gz"
    copy.write_bytes(gzip.compress((DATA / "graph_payloads.jsonl").read_bytes()))
    return copy


def later_lines(tmp_path: Path) -> Path:
    """Other lines of the same jobs: every line of the file, ten minutes later."""
    later = tmp_path / "later.jsonl"
    lines = (DATA / "graph_payloads.jsonl").read_text().replace("23:0", "23:1")
    later.write_text(lines.replace("1767654005.25", "1767654605.25"))
    return later


@pytest.mark.parametrize(
    ("second", "added", "skipped"),
    [
        pytest.param(lambda tmp: DATA / "graph_payloads.jsonl", 0, 1, id="same-file"),
        pytest.param(renamed_copy, 0, 1, id="same-content-renamed"),
        pytest.param(gzipped_copy, 0, 1, id="same-content-gzipped"),
        pytest.param(later_lines, 5, 0, id="other-content-continues-seq"),
    ],
)
def test_importing_again_adds_only_content_not_imported_yet(
    tmp_path: Path, second: Callable[[Path], Path], added: int, skipped: int
) -> None:
    out = tmp_path / "rec"
    import_files([DATA / "graph_payloads.jsonl"], out)
    summary = import_files([second(tmp_path)], out)
    obs = store.read(out)
    assert (summary.rows, len(summary.skipped)) == (added, skipped)
    assert len(obs) == 5 + added
    assert not obs.duplicated(["job_id", "seq"]).any()
    assert obs[obs["job_id"] == "copy-a"]["seq"].tolist() == list(range(3 + 3 * (added > 0)))
    assert ("already imported" in summary.line()) == bool(skipped)


def test_several_files_share_one_seq_per_job(tmp_path: Path) -> None:
    first = tmp_path / "part1.jsonl"
    second = tmp_path / "part2.jsonl"
    lines = (DATA / "graph_payloads.jsonl").read_text().splitlines(keepends=True)
    first.write_text("".join(lines[:2]))
    second.write_text("".join(lines[2:]))
    import_files([first, second], tmp_path / "rec")
    obs = store.read(tmp_path / "rec")
    assert obs[obs["job_id"] == "copy-a"]["seq"].tolist() == [0, 1, 2]


def test_missing_file_is_an_error_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match="no such file"):
        import_files([DATA / "graph_payloads.jsonl", tmp_path / "nope.jsonl"], tmp_path / "rec")
    assert not (tmp_path / "rec").exists()


def test_cli_reports_bad_lines_on_stderr_and_counts_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "log.jsonl"
    shutil.copy(DATA / "with_bad_lines.jsonl", source)
    code = main(["import", str(source), "--out", str(tmp_path / "rec")])
    out, err = capsys.readouterr()
    assert code == 0
    assert f"{source}:2: not valid JSON" in err
    assert f"{source}:8: " in err
    assert "2 observation(s) of 1 job(s) from 1 file(s), 7 bad line(s)" in out


@pytest.mark.parametrize(
    ("argv_tail", "message"),
    [
        pytest.param(["with_bad_lines.jsonl", "--strict"], "nothing imported", id="strict"),
        pytest.param(["missing.jsonl"], "no such file", id="missing"),
    ],
)
def test_cli_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv_tail: list[str], message: str
) -> None:
    out = tmp_path / "rec"
    code = main(["import", str(DATA / argv_tail[0]), *argv_tail[1:], "--out", str(out)])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


HOSTILE_LINES = [
    pytest.param("[" * 200_000 + "]" * 200_000, "nested too deeply", id="200k-levels"),
    pytest.param(
        '{"job_id": "j", "ts": "2026-01-05T23:00:00Z", "status": "inProgress", "n": '
        + "9" * 5000
        + "}",
        "not a usable JSON payload",
        id="5000-digit-number",
    ),
    pytest.param(
        '{"job_id": "j", "ts": "0001-01-01T00:00:00+14:00"}', "outside the times", id="year-1"
    ),
    pytest.param(
        '{"job_id": "j", "ts": "9999-12-31T23:59:59-14:00"}', "outside the times", id="year-9999"
    ),
    pytest.param('{"job_id": "j", "ts": -99999999999}', "before 1970", id="far-negative"),
    pytest.param('{"job_id": "j", "ts": -5}', "before 1970", id="negative"),
]


@pytest.mark.parametrize(("line", "why"), HOSTILE_LINES)
def test_a_hostile_line_is_one_bad_line_not_an_aborted_import(
    tmp_path: Path, line: str, why: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "mixed.jsonl"
    good = '{"job_id": "ok", "ts": "2026-01-05T23:00:00Z", "status": "inProgress"}'
    source.write_text(f"{good}\n{line}\n{good.replace('23:00:00', '23:00:05')}\n")
    assert main(["import", str(source), "--out", str(tmp_path / "rec")]) == 0
    err = capsys.readouterr().err
    assert f"{source}:2: " in err and why in err
    assert len(store.read(tmp_path / "rec")) == 2
    assert main(["import", str(source), "--out", str(tmp_path / "strict"), "--strict"]) == 2


def test_an_import_that_imports_nothing_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    har = tmp_path / "capture.har"
    har.write_text('{"log": {"version": "1.2", "entries": []}}\n')
    assert main(["import", str(har), "--out", str(tmp_path / "rec")]) == 2
    err = capsys.readouterr().err
    assert "nothing imported" in err and f"{har}:1: " in err


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
        max_leaves=10,
    ),
    st.sampled_from(["ts", "job_id", "url", "body", "http_status", "headers", "status"]),
)
def test_any_json_line_parses_or_is_a_payload_error(value: object, key: str) -> None:
    import json

    line = {"job_id": "j", "ts": "2026-01-05T23:00:00Z", "status": "inProgress", key: value}
    with contextlib.suppress(PayloadError):  # anything else escaping is the bug
        parse_line(json.dumps(line))


# -- hostile input: nothing lost, nothing twice ------------------------------------------------

HOSTILE_IMPORTS = [
    pytest.param(
        {"ts": 1767654000, "url": "https://h/monitor/J\ud800?tempauth=x", "body": {}},
        "J\\ud800",
        id="surrogate-in-url",
    ),
    pytest.param({"job_id": "J\udc80", "ts": 1767654000, "status": "x"}, "J\\udc80", id="job-id"),
    pytest.param({"job_id": "J", "ts": 1767654000, "status": "\ud800"}, "J", id="status"),
    pytest.param(
        {"job_id": "J", "ts": 1767654000, "error": {"message": "cut \ud83d"}}, "J", id="message"
    ),
]


@pytest.mark.parametrize(("line", "job_id"), HOSTILE_IMPORTS)
def test_a_line_arrow_cannot_encode_is_imported_once_however_often_the_file_is(
    tmp_path: Path, line: dict[str, object], job_id: str
) -> None:
    source = tmp_path / "hostile.jsonl"
    healthy = {"job_id": "healthy", "ts": 1767654001, "status": "inProgress"}
    source.write_text(json.dumps(line) + "\n" + json.dumps(healthy) + "\n")  # escapes kept
    out = tmp_path / "rec"
    for _ in range(3):
        import_files([source], out)
    obs = store.read(out)
    assert sorted(obs["job_id"].astype(str)) == sorted([job_id, "healthy"])
    assert obs["seq"].tolist() == [0, 0]
    assert sorted(store.read_jobs(out)["job_id"]) == sorted([job_id, "healthy"])
    assert scan(out).clean


def two_day_log(tmp_path: Path) -> Path:
    """A log of one job over midnight UTC: two date partitions, one jobs file, one record."""
    source = tmp_path / "midnight.jsonl"
    source.write_text(
        '{"job_id": "m", "ts": "2026-01-05T23:59:59Z", "status": "inProgress"}\n'
        '{"job_id": "m", "ts": "2026-01-06T00:00:01Z", "status": "completed"}\n'
    )
    return source


@pytest.mark.parametrize(
    ("killed_at_rename", "seen_until_opened"),
    [
        pytest.param(1, 0, id="after-the-intent"),
        pytest.param(2, 1, id="after-the-first-date"),
        pytest.param(4, 2, id="before-the-import-record"),
    ],
)
@pytest.mark.parametrize("next_open", ["import-again", "read"])
def test_an_import_killed_half_way_is_finished_by_the_next_open_and_never_doubled(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    killed_at_rename: int,
    seen_until_opened: int,
    next_open: str,
) -> None:
    import os

    source, out = two_day_log(tmp_path), tmp_path / "rec"
    real_replace, renames = os.replace, []

    def replace_or_die(src: str | Path, dst: str | Path) -> None:
        renames.append(dst)
        if len(renames) == killed_at_rename:
            raise KeyboardInterrupt  # the process dies here
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace_or_die)
    with pytest.raises(KeyboardInterrupt):
        import_files([source], out)
    monkeypatch.undo()
    assert len(pd.read_parquet(out / "observations")) == seen_until_opened
    if next_open == "read":
        store.read(out)
    again = import_files([source], out)
    assert (again.rows, again.skipped) == (0, (str(source),))
    assert len(pd.read_parquet(out / "observations")) == len(store.read(out)) == 2
    assert store.read(out)["seq"].tolist() == [0, 1]


def hostile_text(max_size: int = 12) -> st.SearchStrategy[str]:
    """Any text, lone surrogates included."""
    return st.text(st.characters(exclude_categories=()), max_size=max_size)


NUMBERS = (
    st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.booleans()
)
TIMES = (
    NUMBERS
    | st.datetimes(timezones=st.none() | st.timezones()).map(lambda d: d.isoformat())
    | hostile_text()
    | st.none()
)
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "status": hostile_text() | NUMBERS | st.sampled_from(["inProgress", "completed"]),
        "percentageComplete": NUMBERS | hostile_text(),
        "operation": hostile_text(),
        "error": st.fixed_dictionaries({"code": hostile_text(), "message": hostile_text()}),
        "http_status": st.integers(min_value=-5, max_value=70_000),
    },
)
JOB_ID_LINES = st.builds(
    lambda job, ts, fields: {"job_id": job, "ts": ts, **fields},
    st.sampled_from(["a", "b", "c\ud800"]) | hostile_text(),
    TIMES,
    FIELDS,
)
URL_LINES = st.builds(
    lambda path, ts, body: {"ts": ts, "url": f"https://h/monitor/{path}?tempauth=x", "body": body},
    hostile_text(),
    TIMES,
    FIELDS,
)
LINES = st.lists(
    st.one_of(
        JOB_ID_LINES.map(lambda item: json.dumps(item)),
        URL_LINES.map(lambda item: json.dumps(item)),
        hostile_text(40).map(lambda text: json.dumps(text)[1:-1]),  # not JSON at all
    ),
    max_size=8,
)


@given(lines=LINES)
def test_importing_any_file_twice_adds_nothing_and_never_crashes(lines: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        source, out = Path(folder) / "log.jsonl", Path(folder) / "rec"
        source.write_text("".join(f"{line}\n" for line in lines))
        first = import_files([source], out)
        event("rows imported" if first.rows else "no good line")
        kept = len(store.read(out)) if first.rows else 0
        second = import_files([source], out)
        assert second.rows == 0
        assert first.rows + len(first.bad_lines) == sum(1 for line in lines if line.strip())
        assert kept == first.rows
        if first.rows:
            obs = store.read(out)
            assert len(obs) == first.rows
            assert not obs.duplicated(["job_id", "seq"]).any()
            assert second.skipped == (str(source),)


def test_importing_a_file_again_is_exit_0_and_adds_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "rec")
    source = str(DATA / "graph_payloads.jsonl")
    assert main(["import", source, "--out", out]) == 0
    assert main(["import", source, "--out", out]) == 0
    assert "1 already imported" in capsys.readouterr().out
    assert len(store.read(out)) == 5
