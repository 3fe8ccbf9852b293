"""docs/recording.md runs as written: its shell session against ``replay serve``, its Python API
examples against the loopback server."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from replay import store
from replay.scan import scan
from replay.server import MonitorServer

DOC = Path(__file__).resolve().parents[2] / "docs" / "recording.md"
ENDED = {"completed", "failed", "delete_failed", "cancelled", "monitor_expired"}


def fenced(language: str, section: str | None = None) -> list[str]:
    """The ``language`` code blocks of the doc, or of its ``## {section}`` only."""
    text = DOC.read_text(encoding="utf-8")
    if section is not None:
        match = re.search(rf"^## {re.escape(section)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
        assert match, f"docs/recording.md has no '## {section}' section"
        text = match.group(1)
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.M | re.S)


def test_the_shell_session_runs_as_written_against_replay_serve(tmp_path: Path) -> None:
    script = "set -e\n" + "\n".join(fenced("sh"))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    out_file, err_file = tmp_path / "session.out", tmp_path / "session.err"
    with out_file.open("w") as out_fd, err_file.open("w") as err_fd:
        session = subprocess.Popen(
            ["bash", "-c", script],
            cwd=tmp_path,
            env=env,
            stdout=out_fd,
            stderr=err_fd,
            start_new_session=True,  # the fake server runs in the session's group: stopped below
        )
        try:
            session.wait(timeout=180)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(session.pid, signal.SIGKILL)
    out, err = out_file.read_text(), err_file.read_text()
    assert session.returncode == 0, f"the session stopped:\n{out[-2000:]}\n{err[-3000:]}"
    assert "Traceback" not in err
    assert "killed: exit status 137" in out
    assert "exit status 2" in out  # import --strict with a bad line
    assert "sdk.jsonl.gz:3" in err  # the bad line, named by file and line
    assert not (tmp_path / "rec-strict" / "observations").exists()
    fleet, obs = store.read_jobs(tmp_path / "rec-fleet"), store.read(tmp_path / "rec-fleet")
    assert len(fleet) == 6 and set(fleet["outcome"]) <= ENDED  # the last run carried on
    assert not obs.duplicated(["job_id", "seq"]).any()
    assert (obs.groupby("job_id")["seq"].max() + 1 == obs.groupby("job_id").size()).all()
    shards = [set(store.read_jobs(tmp_path / f"rec-shard-{k}")["job_id"]) for k in (1, 2)]
    assert shards[0] | shards[1] == set(fleet["job_id"]) and not shards[0] & shards[1]
    (one,) = store.read_jobs(tmp_path / "rec-one").itertuples()
    assert (one.outcome, "tempauth=REDACTED" in one.url) == ("completed", True)
    assert set(store.read(tmp_path / "rec-imported")["job_id"]) == {"J1", "J2"}
    recordings = sorted(tmp_path.glob("rec-*"))
    assert len(recordings) == 7 and all(scan(folder).clean for folder in recordings)


@pytest.mark.parametrize(
    ("index", "folder", "source"), [(0, "rec-api", "http"), (1, "rec-own", "api")]
)
def test_the_python_api_examples_run_against_the_loopback_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, index: int, folder: str, source: str
) -> None:
    block = fenced("python", "The Python API")[index]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TOKEN", "not-a-real-token")
    with MonitorServer(speed=500) as server:
        monkeypatch.setenv("GRAPH", f"{server.base_url}/v1.0")
        exec(compile(block, f"docs/recording.md (Python API, example {index + 1})", "exec"), {})
        requests = server.all_requests()
    (job,) = store.read_jobs(tmp_path / folder).itertuples()
    obs = store.read(tmp_path / folder)
    assert job.outcome == "completed"
    assert set(obs["source"]) == {source} and obs["status"].iloc[-1] == "completed"
    polls = [r for r in requests if r.method == "GET"]
    assert len(polls) == len(obs) and not any(r.authorization_sent for r in polls)
    assert [r.authorization_sent for r in requests if r.method == "POST"] == [True]
    assert scan(tmp_path / folder).clean
