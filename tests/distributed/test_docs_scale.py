"""docs/scale.md runs as written: its shell session (local cluster, a dask scheduler and workers,
two shard recorders into one folder) and its Python examples."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from replay.engine import summarize
from replay.store import read, read_jobs

DOC = Path(__file__).resolve().parents[2] / "docs" / "scale.md"


def fenced(language: str) -> list[str]:
    """The ``language`` code blocks of the page, in order."""
    return re.findall(rf"^```{language}\n(.*?)^```", DOC.read_text(encoding="utf-8"), re.M | re.S)


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder the page's shell session ran in, from empty."""
    if not (_port_free(8786) and _port_free(8787)):
        pytest.skip("the page's dask scheduler needs ports 8786 and 8787, which are in use")
    folder = tmp_path_factory.mktemp("scale-doc")
    script = "set -e\n" + "\n".join(fenced("sh"))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    shell = subprocess.Popen(
        ["bash", "-c", script],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # servers and workers run in the session's group: stopped below
    )
    try:
        out, err = shell.communicate(timeout=300)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(shell.pid, signal.SIGTERM)
    assert shell.returncode == 0, f"the session stopped:\n{out[-2000:]}\n{err[-3000:]}"
    assert "violations found: exit status 1" in out
    assert err.count("dask dashboard: http://") >= 3  # the LocalCluster runs and the scheduler
    return folder


def test_dask_outputs_of_the_session_equal_the_in_memory_engine(session: Path) -> None:
    obs, jobs = read(session / "fleet"), read_jobs(session / "fleet")
    expected = summarize(obs, jobs=jobs)
    from_csv = pd.read_csv(session / "summary.csv")
    assert from_csv["job_id"].tolist() == expected["job_id"].tolist()
    assert from_csv["n_obs"].tolist() == expected["n_obs"].tolist()
    on_cluster = json.loads((session / "summary.json").read_text())
    assert [j["job_id"] for j in on_cluster["jobs"]] == expected["job_id"].tolist()
    assert json.loads((session / "violations.json").read_text())["counts"]


def test_two_shard_recorders_filled_one_folder(session: Path) -> None:
    jobs, obs = read_jobs(session / "shared"), read(session / "shared")
    assert len(jobs) == 40 and not jobs["job_id"].duplicated().any()
    assert not obs.duplicated(["job_id", "seq"]).any()
    assert len(pd.read_csv(session / "shared-summary.csv")) == 40


@pytest.mark.parametrize("index", [0, 1])
def test_the_python_examples_run_on_the_sessions_recording(
    session: Path, monkeypatch: pytest.MonkeyPatch, index: int
) -> None:
    monkeypatch.chdir(session)
    names: dict[str, object] = {}
    exec(
        compile(fenced("python")[index], f"docs/scale.md (Python, example {index + 1})", "exec"),
        names,
    )
    from replay.engine import validate

    expected = validate(read(session / "fleet"))
    pd.testing.assert_frame_equal(names["violations"], expected)  # type: ignore[arg-type]
