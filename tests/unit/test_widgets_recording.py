"""Opening a recording for a notebook: paths resolve against the cwd, then the repository."""

from __future__ import annotations

from pathlib import Path

import pytest

import replay
from replay.widgets import load_recording, resolve_data

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("given", "cwd", "expected"),
    [
        pytest.param("data/sample", "elsewhere", ROOT / "data" / "sample", id="repo-relative"),
        pytest.param(
            str(ROOT / "data" / "sample"), "elsewhere", ROOT / "data" / "sample", id="abs"
        ),
        pytest.param("rec", "here", Path("rec"), id="cwd-relative-first"),
    ],
)
def test_data_resolves_against_cwd_then_the_repository(
    given: str, cwd: str, expected: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from replay.simulate import simulate

    if cwd == "here":
        simulate(3, seed=1).write(tmp_path / "rec")
    monkeypatch.chdir(tmp_path)
    assert resolve_data(given) == (tmp_path / expected).resolve()


@pytest.mark.parametrize(("given",), [("no/such/recording",), ("/no/such/recording",)])
def test_missing_recording_says_where_it_looked_and_how_to_pass_one(given: str) -> None:
    with pytest.raises(replay.DatasetNotFoundError, match=r"no recording at .*-p DATA"):
        resolve_data(given)


def test_load_recording_reads_and_analyses_once(tmp_path: Path) -> None:
    from replay.simulate import simulate

    simulate(12, seed=4).write(tmp_path / "rec")
    rec = load_recording(tmp_path / "rec")
    obs = replay.read(tmp_path / "rec")
    assert len(rec.obs) == len(obs) and len(rec.summary) == 12
    assert rec.violations.equals(replay.validate(obs))
    assert set(rec.labels.columns) >= {"scenario", "dialect"}
    assert list(rec.labels.index) == list(rec.summary["job_id"])
    assert repr(rec).endswith(
        f"12 jobs, {len(obs)} observations, {len(rec.violations)} violations)"
    )
