"""Corrupt and empty recording folders: one line on stderr and exit 2, never a traceback or a pass."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from replay.cli import main
from replay.schema import METADATA_KEY
from replay.simulate import simulate
from replay.store.files import REPLACES_KEY

COMMANDS = [
    pytest.param(["validate"], id="validate"),
    pytest.param(["validate", "--fail-on", "warning"], id="validate-gate"),
    pytest.param(["summary"], id="summary"),
    pytest.param(["summary", "--format", "json"], id="summary-json"),
    pytest.param(["report", "-o", "{out}/r.html"], id="report"),
]


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("base") / "rec"
    simulate(12, seed=3).write(root)
    return root


def _first_observation_file(root: Path) -> Path:
    return sorted((root / "observations").rglob("*.parquet"))[0]


def _rewrite(path: Path, change: Callable[[pa.Table], pa.Table]) -> None:
    pq.write_table(change(pq.read_table(path)), path)


def jobs_is_a_file(root: Path) -> None:
    shutil.rmtree(root / "jobs")
    (root / "jobs").write_text("not a folder")


def file_outside_partitions(root: Path) -> None:
    for folder in (root / "observations").iterdir():
        for part in folder.iterdir():
            part.rename(root / "observations" / f"{folder.name}-{part.name}")
        folder.rmdir()


def no_observations(root: Path) -> None:
    shutil.rmtree(root / "observations")
    (root / "observations").mkdir()


def replaces_not_json(root: Path) -> None:
    _rewrite(
        _first_observation_file(root),
        lambda t: t.replace_schema_metadata({**t.schema.metadata, REPLACES_KEY: b"{not json"}),
    )


def replaces_not_a_list(root: Path) -> None:
    _rewrite(
        _first_observation_file(root),
        lambda t: t.replace_schema_metadata({**t.schema.metadata, REPLACES_KEY: b'{"a": 1}'}),
    )


def schema_version_of_5000_digits(root: Path) -> None:
    _rewrite(
        _first_observation_file(root),
        lambda t: t.replace_schema_metadata({**t.schema.metadata, METADATA_KEY: b"9" * 5000}),
    )


def seq_all_null(root: Path) -> None:
    def nulls(t: pa.Table) -> pa.Table:
        index = t.schema.get_field_index("seq")
        return t.set_column(index, pa.field("seq", pa.int32()), pa.nulls(len(t), pa.int32()))

    for path in (root / "observations").rglob("*.parquet"):
        _rewrite(path, nulls)


def symlink_loop(root: Path) -> None:
    (root / "observations" / "looped").symlink_to(root / "observations" / "looped")


BREAKAGES = [
    pytest.param(jobs_is_a_file, "is a file, not a folder", id="jobs-is-a-file"),
    pytest.param(file_outside_partitions, "outside a date=YYYY-MM-DD partition", id="outside"),
    pytest.param(no_observations, "holds no observations", id="no-observations"),
    pytest.param(replaces_not_json, "unreadable replay.replaces", id="replaces-not-json"),
    pytest.param(replaces_not_a_list, "unreadable replay.replaces", id="replaces-not-a-list"),
    pytest.param(schema_version_of_5000_digits, "unreadable replay.schema_version", id="version"),
    pytest.param(seq_all_null, "column 'seq' has missing values", id="seq-null"),
    pytest.param(symlink_loop, "looped", id="symlink-loop"),
]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(("breakage", "says"), BREAKAGES)
def test_a_broken_recording_is_one_line_and_exit_2(
    recording: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    breakage: Callable[[Path], None],
    says: str,
    command: list[str],
) -> None:
    root = tmp_path / "rec"
    shutil.copytree(recording, root)
    breakage(root)
    argv = [command[0], str(root), *(a.format(out=tmp_path) for a in command[1:])]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert says in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_report_of_a_recording_far_in_the_past_renders(tmp_path: Path) -> None:
    obs = pd.DataFrame(
        {
            "job_id": ["old", "old"],
            "seq": [0, 1],
            "ts": pd.to_datetime(["1971-01-01T00:00:00Z", "1971-01-01T00:00:09Z"]),
            "status": ["inProgress", "completed"],
            "percentage_complete": [10.0, 100.0],
            "http_status": [202, 200],
            "source": "api",
        }
    )
    from replay import store

    store.write_observations(tmp_path / "rec", obs)
    assert main(["report", str(tmp_path / "rec"), "-o", str(tmp_path / "r.html")]) == 0
    assert "1971-01-01" in (tmp_path / "r.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_json_output_to_a_full_device_is_one_line(recording: Path) -> None:
    import subprocess
    import sys

    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "replay", "summary", str(recording), "--format", "json"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    assert done.returncode == 2
    assert "No space left on device" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


IMPORTS = Path(__file__).resolve().parent.parent / "data" / "imports" / "graph_payloads.jsonl"


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["import", str(IMPORTS), "--out", "{file}"], id="import-out-is-a-file"),
        pytest.param(["import", str(IMPORTS), "--out", "{file}/rec"], id="import-under-a-file"),
        pytest.param(["simulate", "--jobs", "3", "--out", "{file}/rec"], id="simulate"),
        pytest.param(["report", "{rec}", "-o", "{file}/report.html"], id="report"),
        pytest.param(["record", "--out", "{file}", "http://127.0.0.1:9/monitor/x"], id="record"),
    ],
)
def test_an_output_that_cannot_be_written_is_one_line_and_exit_2(
    recording: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where a folder belongs")
    args = [a.format(file=blocker, rec=recording) for a in argv]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert str(blocker) in err or "a-file" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert blocker.read_text() == "a file where a folder belongs"
