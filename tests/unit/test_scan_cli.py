"""``replay scan DIR``: exit 0 clean, 1 secrets found (named, never printed), 2 bad input."""

from __future__ import annotations

import gzip
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from replay.cli import main

pytestmark = pytest.mark.plants_secrets

TEMPAUTH = "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.eyJhdWQiOiJGQUtFIn0."
URL = f"https://contoso.sharepoint.com/_api/v2.0/monitor/abc?tempauth={TEMPAUTH}"
CLEAN_URL = "https://contoso.sharepoint.com/_api/v2.0/monitor/abc?tempauth=REDACTED"


def clean_recording(root: Path) -> Path:
    part = root / "observations" / "date=2026-01-01" / "part-0.parquet"
    part.parent.mkdir(parents=True)
    pq.write_table(pa.table({"job_id": ["abc", "abc"], "body": ['{"status":"x"}', None]}), part)
    (root / "jobs").mkdir()
    pq.write_table(pa.table({"job_id": ["abc"], "url": [CLEAN_URL]}), root / "jobs" / "p.parquet")
    return root


def test_clean_folder_exits_0_and_counts_files_and_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["scan", str(clean_recording(tmp_path))])
    out, err = capsys.readouterr()
    assert code == 0
    assert out.startswith("clean: 2 files, ") and out.rstrip().endswith("values checked")
    assert err == ""


def test_secret_found_exits_1_naming_where_without_printing_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = clean_recording(tmp_path)
    part = root / "observations" / "date=2026-01-02" / "part-1.parquet"
    part.parent.mkdir()
    pq.write_table(pa.table({"body": ["ok", "ok", f'{{"url": "{URL}"}}']}), part)
    (root / "poll.log.gz").write_bytes(gzip.compress(f"ok\nGET {URL}\n".encode()))
    code = main(["scan", str(root)])
    out, err = capsys.readouterr()
    assert code == 1
    assert out.splitlines() == [
        "observations/date=2026-01-02/part-1.parquet: column body, row 2 (tempauth)",
        "poll.log.gz: line 2 (tempauth)",
    ]
    assert "2 secret(s) in 2 of 4 files" in err
    assert TEMPAUTH not in out + err


def test_limit_caps_the_findings_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "many.txt").write_text("\n".join([URL] * 5))
    code = main(["scan", str(tmp_path), "--limit", "2"])
    out, _ = capsys.readouterr()
    assert code == 1
    assert out.splitlines() == [
        "many.txt: line 1 (tempauth)",
        "many.txt: line 2 (tempauth)",
        "... and 3 more (--limit 0 prints all)",
    ]


def test_missing_folder_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["scan", str(tmp_path / "nope")])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.startswith("replay scan: error: no such folder: ")
    assert len(err.strip().splitlines()) == 1


def test_unreadable_file_without_findings_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "cut.gz").write_bytes(gzip.compress(b"x" * 5000)[:30])
    code = main(["scan", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 2
    assert "clean" not in out
    assert err.startswith("replay scan: cannot read cut.gz: ")


def test_missing_argument_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["scan"])
    assert caught.value.code == 2
    assert "DIR" in capsys.readouterr().err


def test_help_describes_output_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["scan", "--help"])
    out = capsys.readouterr().out
    assert caught.value.code == 0
    assert "PATH: WHERE (KIND)" in out and "Exit 0 clean, 1 secrets found" in out


@pytest.mark.parametrize("make", ["unlistable", "symlinked"])
def test_an_unreadable_folder_exits_2_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, make: str
) -> None:
    root = clean_recording(tmp_path / "rec")
    hidden = root / "observations" / "date=2026-01-02"
    if make == "unlistable":
        hidden.mkdir()
        listing = os.scandir

        def scandir(path: Any = ".") -> Any:
            if Path(path) == hidden:
                raise PermissionError(13, "Permission denied", str(path))
            return listing(path)

        monkeypatch.setattr(os, "scandir", scandir)
    else:
        (tmp_path / "elsewhere").mkdir()
        hidden.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    code = main(["scan", str(root)])
    out, err = capsys.readouterr()
    assert code == 2
    assert "clean" not in out
    assert err.startswith("replay scan: cannot read observations/date=2026-01-02: ")
