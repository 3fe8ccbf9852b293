"""``replay record`` on the command line: URLs and URL files, labels, output and exit codes."""

from __future__ import annotations

import json
import os
import pty
import select
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from replay import store
from replay.cli import main
from replay.recorder._progress import RECORD_FAILURES
from replay.recorder.shard import shard_of
from replay.server import MonitorServer
from replay.simulate import Response, Timeline

Serve = Callable[..., MonitorServer]
MakeTimeline = Callable[..., Timeline]

FAST = ["--interval", "0.01", "--max-interval", "0.05", "--max-rps", "0"]
IN_PROGRESS = {"status": "inProgress", "percentageComplete": 40.0}
DONE = {"status": "completed", "percentageComplete": 100.0}
FAILED = {"status": "failed", "error": {"code": "nameAlreadyExists", "message": "exists"}}
JSON = (("Content-Type", "application/json"),)
ITEM = "https://graph.microsoft.com/v1.0/drives/d1/items/01NEW"


def record(*argv: str) -> int:
    """``replay record ... FAST`` in this process; return its exit code."""
    return main(["record", *argv, *FAST])


def exit_code(argv: list[str]) -> int:
    """``replay ARGV`` in this process; argparse's own errors exit through SystemExit."""
    try:
        return main(argv)
    except SystemExit as done:
        return int(done.code or 0)


def test_records_urls_given_as_arguments_and_prints_one_summary_line(
    serve: Serve, make_timeline: MakeTimeline, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = serve(mode="step")
    done = server.add(make_timeline("done", [(0, 202, IN_PROGRESS), (0, 202, DONE)]))
    failed = server.add(make_timeline("failed", [(0, 200, FAILED)]))
    code = record(done, failed, "--out", str(tmp_path))
    out, err = capsys.readouterr()
    assert code == 0  # a failed copy is recorded to its end: not an error of the recorder
    assert out.count("\n") == 1
    assert "recorded 2 job(s) (1 completed, 1 failed)" in out
    assert err == ""  # not a terminal: no progress line
    assert len(store.read(tmp_path)) == 3


def test_urls_file_takes_plain_and_json_lines_with_sizes_and_labels(
    serve: Serve, make_timeline: MakeTimeline, tmp_path: Path
) -> None:
    server = serve(mode="step")
    plain = server.add(make_timeline("plain", [(0, 202, DONE)]))
    sized = server.add(make_timeline("sized", [(0, 202, DONE)]))
    urls_file = tmp_path / "urls.txt"
    line = json.dumps({"url": sized, "size_bytes": 10_485_760, "labels": {"batch": "b7"}})
    urls_file.write_text(f"# monitors of batch 7\n{plain}\n\n{line}\n")
    code = record(
        "--urls-file", str(urls_file), "--out", str(tmp_path / "rec"), "--label", "env=test"
    )
    jobs = store.read_jobs(tmp_path / "rec").set_index("job_id")
    assert code == 0
    assert jobs.loc["sized", "size_bytes"] == 10_485_760
    assert json.loads(jobs.loc["sized", "labels"]) == {"batch": "b7", "env": "test"}
    assert json.loads(jobs.loc["plain", "labels"]) == {"env": "test"}
    assert pd.isna(jobs.loc["plain", "size_bytes"])


@pytest.mark.parametrize(
    ("steps", "options", "outcome"),
    [
        pytest.param([(0, 202, IN_PROGRESS)], ["--deadline", "0.3"], "timed_out", id="deadline"),
        pytest.param(
            [(0, 401, {"error": {"code": "unauthenticated"}})], [], "unauthorized", id="401"
        ),
        pytest.param([(0, 200, b"<html>")], [], "protocol_error", id="garbage"),
    ],
)
def test_exits_1_when_a_job_could_not_be_recorded_to_its_end(
    serve: Serve,
    make_timeline: MakeTimeline,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    steps: list[Any],
    options: list[str],
    outcome: str,
) -> None:
    server = serve(mode="step")
    url = server.add(make_timeline("j", steps))
    assert record(url, "--out", str(tmp_path), *options) == 1
    assert f"1 {outcome}" in capsys.readouterr().out
    assert store.read_jobs(tmp_path)["outcome"].tolist() == [outcome]


@pytest.mark.parametrize(
    ("final", "outcome"),
    [
        pytest.param(Response(0, 200, json.dumps(DONE).encode(), JSON), "completed", id="200"),
        pytest.param(Response(0, 303, b"", (("Location", ITEM),)), "completed", id="303"),
        pytest.param(Response(0, 200, json.dumps(FAILED).encode(), JSON), "failed", id="failed"),
        pytest.param(
            Response(0, 200, b'{"status": "deleteFailed"}', JSON),
            "delete_failed",
            id="deleteFailed",
        ),
        pytest.param(
            Response(0, 200, b'{"status": "cancelled"}', JSON), "cancelled", id="cancelled"
        ),
        pytest.param(
            Response(0, 404, b'{"error": {"code": "itemNotFound"}}', JSON),
            "monitor_expired",
            id="404",
        ),
    ],
)
def test_exits_0_when_every_job_was_followed_to_its_end(
    serve: Serve,
    make_timeline: MakeTimeline,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    final: Response,
    outcome: str,
) -> None:
    server = serve(mode="step")
    url = server.add(make_timeline("j", [(0, 202, IN_PROGRESS), final]))
    assert record(url, "--out", str(tmp_path)) == 0
    assert f"1 {outcome}" in capsys.readouterr().out
    assert store.read_jobs(tmp_path)["outcome"].tolist() == [outcome]


def test_exits_1_when_the_monitor_cannot_be_reached(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert record(f"http://127.0.0.1:{port}/monitor/gone", "--out", str(tmp_path)) == 1
    out = capsys.readouterr().out
    assert "1 protocol_error" in out and "10 transport error(s)" in out


def test_help_names_the_outcomes_behind_each_exit_status(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert exit_code(["record", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    statuses = text.split("exit status: 0 ", 1)[1]
    zero, rest = statuses.split(" 1 ", 1)
    one = rest.split(" 2 ", 1)[0]
    for name in RECORD_FAILURES:
        assert name in one and name not in zero
    for name in ("completed", "failed", "delete_failed", "cancelled", "monitor_expired"):
        assert name in zero


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param([], "no monitor URLs", id="no-urls"),
        pytest.param(["ftp://host/monitor/1"], "not a monitor URL", id="not-http"),
        pytest.param(["monitor/1"], "not a monitor URL", id="relative"),
        pytest.param(["http://h/monitor/1", "--label", "novalue"], "KEY=VALUE", id="label"),
        pytest.param(["http://h/monitor/1", "--interval", "0"], "--interval: '0'", id="interval"),
        pytest.param(["http://h/monitor/1", "--concurrency", "0"], "concurrency", id="concurrency"),
        pytest.param(
            ["http://h/monitor/1", "--concurrency", "10001"], "at most 10,000", id="concurrency-cap"
        ),
        pytest.param(
            ["http://h/monitor/1", "--concurrency", "100000000"], "--shard", id="concurrency-absurd"
        ),
        pytest.param(
            ["http://h/monitor/1", "--interval", "x"], "is not a number of seconds", id="float"
        ),
        pytest.param(["http://h/monitor/1", "--shard", "3/2"], "not a shard", id="shard"),
        pytest.param(["--urls-file", "MISSING"], "cannot read URLs file", id="missing-file"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    argv = [str(tmp_path / a) if a == "MISSING" else a for a in argv]
    code = exit_code(["record", *argv, "--out", str(tmp_path / "rec")])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert err.count("\n") == 1
    assert not (tmp_path / "rec").exists()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        pytest.param('{"url": "http://h/monitor/1", "size_bytes": -1}', "size_bytes", id="size"),
        pytest.param('{"url": "http://h/monitor/1", "label": {}}', "unknown key", id="key"),
        pytest.param('{"url": 3}', '"url" string', id="url-type"),
        pytest.param('{"url": "http://h/monitor/1"', "not valid JSON", id="json"),
    ],
)
def test_bad_urls_file_line_names_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, message: str
) -> None:
    urls_file = tmp_path / "urls.jsonl"
    urls_file.write_text(f"http://h/monitor/0\n{line}\n")
    code = main(["record", "--urls-file", str(urls_file), "--out", str(tmp_path / "rec")])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{urls_file}:2: " in err
    assert message in err


def test_secrets_in_a_bad_url_are_not_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["record", "ftp://h/monitor/1?tempauth=FAKEtempauthSECRET", "--out", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == 2
    assert "FAKEtempauthSECRET" not in captured.err + captured.out


def test_shards_split_a_fleet_into_disjoint_parts(
    serve: Serve, make_timeline: MakeTimeline, tmp_path: Path
) -> None:
    server = serve(mode="step")
    urls = [server.add(make_timeline(f"job-{i}", [(0, 202, DONE)])) for i in range(12)]
    for k in (1, 2, 3):
        assert record(*urls, "--shard", f"{k}/3", "--out", str(tmp_path / str(k))) == 0
    parts = [set(store.read_jobs(tmp_path / str(k))["job_id"]) for k in (1, 2, 3)]
    assert set().union(*parts) == {f"job-{i}" for i in range(12)}
    assert sum(len(p) for p in parts) == 12
    assert all(shard_of(j, 3) == k for k, part in enumerate(parts, 1) for j in part)


def test_live_progress_line_on_a_terminal(
    serve: Serve, make_timeline: MakeTimeline, tmp_path: Path
) -> None:
    server = serve(mode="time", speed=1.0)
    steps = [(0, 202, IN_PROGRESS), (1.5, 202, DONE)]
    urls = [server.add(make_timeline(f"tty-{i}", steps)) for i in range(3)]
    leader, follower = pty.openpty()
    command = [sys.executable, "-m", "replay", "record", *urls, "--out", str(tmp_path), *FAST]
    child = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=follower, text=True, env=os.environ.copy()
    )
    os.close(follower)
    stdout, _ = child.communicate(timeout=30)
    shown = _drain(leader)
    assert child.returncode == 0
    assert "active 3 · completed 0 · failed 0 · other 0" in shown
    assert "polls/s" in shown
    assert "\r\x1b[K" in shown  # one line, redrawn in place
    assert "recorded 3 job(s) (3 completed)" in stdout


def _drain(fd: int) -> str:
    """Everything written to a pty so far."""
    chunks = []
    while select.select([fd], [], [], 0.1)[0]:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).decode("utf-8", errors="replace")


def test_output_that_is_a_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    taken = tmp_path / "taken"
    taken.write_text("not a folder")
    assert exit_code(["record", "http://127.0.0.1:9/monitor/1", "--out", str(taken)]) == 2
    assert "is a file" in capsys.readouterr().err
    assert taken.read_text() == "not a folder"
